"""NVIDIA GPUs through NVML (nvidia-ml-py, imported as ``pynvml``): the only module that touches it.

Three failures are kept apart, as nvitop's ``nvmlQuery(..., default=NA)`` does:

- backend unavailable: the binding is missing, the library is not found or the driver is not loaded.
  No GPU is reported and ``BackendStatus.reason`` says why in one sentence;
- field unsupported: NVML answers NotSupported (or the driver lacks the function). That field is
  ``None`` and ``Gpu.unavailable[field]`` says why; every other field is still read;
- device lost: NVML answers GpuIsLost. That GPU is reported with ``lost=True``; the others are fine.

The binding is a parameter (``probe_nvidia(nvml=...)``) so tests pass a fake module that raises the
real ``pynvml`` exception classes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType, ModuleType
from typing import Any

from rigcheck.probe.types import BackendStatus, Gpu

# Architecture names by NVML's nvmlDeviceArchitecture_t values (pynvml NVML_DEVICE_ARCH_*).
_ARCH_BY_NVML = {
    2: "Kepler",
    3: "Maxwell",
    4: "Pascal",
    5: "Volta",
    6: "Turing",
    7: "Ampere",
    8: "Ada Lovelace",
    9: "Hopper",
    10: "Blackwell",
    13: "Rubin",
}

# When nvmlDeviceGetArchitecture is unsupported (old drivers), the compute capability names it.
_ARCH_BY_CC_MAJOR_MINOR = {
    (6, 0): "Pascal", (6, 1): "Pascal", (6, 2): "Pascal",
    (7, 0): "Volta", (7, 2): "Volta", (7, 5): "Turing",
    (8, 0): "Ampere", (8, 6): "Ampere", (8, 7): "Ampere", (8, 9): "Ada Lovelace",
    (9, 0): "Hopper",
    (10, 0): "Blackwell", (10, 1): "Blackwell", (10, 3): "Blackwell",
    (11, 0): "Blackwell", (12, 0): "Blackwell", (12, 1): "Blackwell",
}

# CUDA cores per SM by compute capability (CUDA C Programming Guide, "Compute Capabilities" table).
# NVML reports cores (nvmlDeviceGetNumGpuCores) but the SM count only for MIG instances, so the SM
# count of a full GPU is derived from the core count.
_CORES_PER_SM = {
    (6, 0): 64, (6, 1): 128, (6, 2): 128,
    (7, 0): 64, (7, 2): 64, (7, 5): 64,
    (8, 0): 64, (8, 6): 128, (8, 7): 128, (8, 9): 128,
    (9, 0): 128,
    (10, 0): 128, (10, 1): 128, (10, 3): 128, (11, 0): 128, (12, 0): 128, (12, 1): 128,
}

# NVML's reported memory clock is an "effective" clock: peak bandwidth = clock (Hz) x 2 (double data
# rate) x bus width (bytes) gives the published figure for every memory type in use. GDDR6: RTX 3060
# 7501 MHz x 2 x 24 B = 360 GB/s. GDDR6X (PAM4) and GDDR7 (PAM3) carry more than one bit per symbol,
# and the clock NVML reports already accounts for it: RTX 4090 10501 MHz x 2 x 48 B = 1008 GB/s,
# RTX 5090 14001 MHz x 2 x 64 B = 1792 GB/s. HBM2e/HBM3: A100 1593 MHz x 2 x 640 B = 2039 GB/s, H100 SXM
# 2619 MHz -> 3352 GB/s. A part whose driver reported another clock would be off by a factor of 2-4;
# the catalog's device table holds the published figure to compare against.
DDR_FACTOR = 2


class _GpuLost(Exception):
    """Internal: NVML answered GpuIsLost for the device being read."""


_LINUX_DRIVER_NODES = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/dxg")
"""Present whenever NVML can start on Linux: the kernel driver's proc entry and control device, or WSL2's
GPU paravirtualization device."""


def _no_linux_driver() -> bool:
    """True on Linux when no NVIDIA kernel driver is there to talk to: NVML would fail to start anyway, and
    importing the binding (with ctypes) costs tens of milliseconds of the app's start-up."""
    import os
    import sys

    return sys.platform.startswith("linux") and not any(os.path.exists(p) for p in _LINUX_DRIVER_NODES)


def _load_binding() -> tuple[ModuleType | None, str | None]:
    if _no_linux_driver():
        return None, "no NVIDIA driver loaded: the kernel driver is not running (no /proc/driver/nvidia)"
    try:
        import pynvml  # the nvidia-ml-py distribution; the deprecated "pynvml" one warns on import
    except ImportError:
        return None, "no NVIDIA support: the nvidia-ml-py package is not installed"
    return pynvml, None


def _error_class(nvml: Any, name: str) -> type[BaseException]:
    """The binding's exception class for one NVML error, or a class nothing raises when it lacks it."""
    cls = getattr(nvml, name, None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseException) else _Never


class _Never(Exception):
    """Stands in for an NVML error class an old binding does not define."""


def _init_failure_reason(nvml: Any, exc: BaseException) -> str:
    if isinstance(exc, _error_class(nvml, "NVMLError_LibraryNotFound")):
        return "no NVIDIA driver: the NVML library (libnvidia-ml) was not found"
    if isinstance(exc, _error_class(nvml, "NVMLError_DriverNotLoaded")):
        return "no NVIDIA driver loaded: NVML is installed but the kernel driver is not running"
    if isinstance(exc, _error_class(nvml, "NVMLError_NoPermission")):
        return "NVIDIA driver present but this user may not query it (NVML: insufficient permissions)"
    if isinstance(exc, _error_class(nvml, "NVMLError_LibRmVersionMismatch")):
        return "NVIDIA driver and NVML library versions differ: reboot after the driver update"
    return f"NVIDIA driver present but NVML failed to start: {exc}"


def _unsupported_reason(nvml: Any, exc: BaseException) -> str:
    if isinstance(exc, _error_class(nvml, "NVMLError_NotSupported")):
        return "not supported by this GPU or driver (NVML: Not Supported)"
    if isinstance(exc, _error_class(nvml, "NVMLError_FunctionNotFound")):
        return "not available in this driver version (NVML: Function Not Found)"
    if isinstance(exc, _error_class(nvml, "NVMLError_NoPermission")):
        return "this user may not read it (NVML: Insufficient Permissions)"
    return f"NVML error: {exc}"


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


class _DeviceReader:
    """Reads one device's fields, recording where each came from or why it is missing."""

    def __init__(self, nvml: Any, handle: Any) -> None:
        self.nvml = nvml
        self.handle = handle
        self.sources: dict[str, str] = {}
        self.unavailable: dict[str, str] = {}
        self._nvml_error = _error_class(nvml, "NVMLError")
        self._lost_error = _error_class(nvml, "NVMLError_GpuIsLost")

    def call(self, function_name: str, *args: Any, **kwargs: Any) -> Any:
        """Call one NVML device function. Raises the binding's NVMLError; _GpuLost when the GPU is lost."""
        function: Callable[..., Any] | None = getattr(self.nvml, function_name, None)
        if function is None:
            raise _MissingFunction(f"not available in this nvidia-ml-py version ({function_name})")
        try:
            return function(self.handle, *args, **kwargs)
        except self._lost_error as exc:
            raise _GpuLost from exc

    def query(self, fields: str | tuple[str, ...], function_name: str, *args: Any) -> Any:
        """The function's answer, or None with the reason recorded for every field it would have filled."""
        names = (fields,) if isinstance(fields, str) else fields
        try:
            value = self.call(function_name, *args)
        except _MissingFunction as exc:
            self._unavailable(names, str(exc))
            return None
        except self._nvml_error as exc:
            self._unavailable(names, _unsupported_reason(self.nvml, exc))
            return None
        return value

    def _unavailable(self, names: tuple[str, ...], reason: str) -> None:
        for name in names:
            self.unavailable.setdefault(name, reason)

    def found(self, name: str, source: str = "driver") -> None:
        self.sources[name] = source
        self.unavailable.pop(name, None)


class _MissingFunction(Exception):
    """The binding has no such function (an older nvidia-ml-py)."""


def _read_device(
    nvml: Any,
    index: int,
    *,
    driver_version: str | None,
    cuda_version: str | None,
    system_ram_bytes: int | None,
) -> Gpu:
    try:
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
    except _error_class(nvml, "NVMLError_GpuIsLost"):
        return _lost_gpu(index, None)
    except _error_class(nvml, "NVMLError") as exc:
        # A device NVML counts but will not open (e.g. no permission on /dev/nvidiaN): report it, empty.
        return Gpu(
            index=index,
            vendor="nvidia",
            name="NVIDIA GPU (not readable)",
            unavailable=MappingProxyType({"*": f"NVML could not open the device: {exc}"}),
        )
    reader = _DeviceReader(nvml, handle)
    name: str | None = None
    try:
        name = reader.query("name", "nvmlDeviceGetName")
        fields = _read_fields(nvml, reader, system_ram_bytes)
    except _GpuLost:
        return _lost_gpu(index, _text(name) if name is not None else None)
    if driver_version is not None:
        fields["driver_version"] = driver_version
        reader.found("driver_version")
    if cuda_version is not None:
        fields["cuda_version"] = cuda_version
        reader.found("cuda_version")
    return Gpu(
        index=index,
        vendor="nvidia",
        name=_text(name) if name is not None else "NVIDIA GPU",
        sources=MappingProxyType(reader.sources),
        unavailable=MappingProxyType(reader.unavailable),
        **fields,
    )


def _lost_gpu(index: int, name: str | None) -> Gpu:
    return Gpu(
        index=index,
        vendor="nvidia",
        name=name or "NVIDIA GPU",
        lost=True,
        unavailable=MappingProxyType(
            {"*": "the GPU has fallen off the bus (NVML: GPU is lost); check dmesg and reset or reboot"}
        ),
    )


def _read_fields(nvml: Any, reader: _DeviceReader, system_ram_bytes: int | None) -> dict[str, Any]:
    """Every field of one device. Raises _GpuLost when the device is lost midway."""
    out: dict[str, Any] = {}

    def put(name: str, value: Any, source: str = "driver") -> None:
        if value is not None:
            out[name] = value
            reader.found(name, source)

    uuid = reader.query("uuid", "nvmlDeviceGetUUID")
    put("uuid", _text(uuid) if uuid is not None else None)
    serial = reader.query("serial", "nvmlDeviceGetSerial")
    put("serial", _text(serial) if serial is not None else None)

    pci = reader.query(("pci_bus_id", "pci_device_id"), "nvmlDeviceGetPciInfo")
    if pci is not None:
        put("pci_bus_id", _text(pci.busId))
        # pciDeviceId packs the device id (high 16 bits) and vendor id 0x10DE (low 16 bits).
        put("pci_device_id", f"0x{(int(pci.pciDeviceId) >> 16) & 0xFFFF:04x}")

    _read_memory(nvml, reader, put, system_ram_bytes)

    bus_width_bits = reader.query("memory_bus_width_bits", "nvmlDeviceGetMemoryBusWidth")
    put("memory_bus_width_bits", int(bus_width_bits) if bus_width_bits else None)
    mem_clock_mhz = reader.query("mem_clock_max_mhz", "nvmlDeviceGetMaxClockInfo", nvml.NVML_CLOCK_MEM)
    put("mem_clock_max_mhz", int(mem_clock_mhz) if mem_clock_mhz else None)
    if out.get("memory_bus_width_bits") and out.get("mem_clock_max_mhz"):
        bandwidth = out["mem_clock_max_mhz"] * 1e6 * DDR_FACTOR * out["memory_bus_width_bits"] / 8
        put("memory_bandwidth_bytes_per_s", bandwidth)
    else:
        reader.unavailable.setdefault(
            "memory_bandwidth_bytes_per_s", "needs the memory bus width and clock, which NVML did not give"
        )

    cc = reader.query(("compute_capability",), "nvmlDeviceGetCudaComputeCapability")
    cc_tuple = (int(cc[0]), int(cc[1])) if cc is not None else None
    put("compute_capability", f"{cc_tuple[0]}.{cc_tuple[1]}" if cc_tuple else None)

    arch_value = reader.query("architecture", "nvmlDeviceGetArchitecture")
    arch = _ARCH_BY_NVML.get(int(arch_value)) if arch_value is not None else None
    if arch is None and cc_tuple is not None:
        arch = _ARCH_BY_CC_MAJOR_MINOR.get(cc_tuple)
    put("architecture", arch)

    cores = reader.query("cuda_cores", "nvmlDeviceGetNumGpuCores")
    put("cuda_cores", int(cores) if cores else None)
    if out.get("cuda_cores") and cc_tuple in _CORES_PER_SM:
        put("sm_count", out["cuda_cores"] // _CORES_PER_SM[cc_tuple])
    else:
        reader.unavailable.setdefault("sm_count", "NVML reports SMs only through the CUDA core count")
    sm_clock_mhz = reader.query("sm_clock_max_mhz", "nvmlDeviceGetMaxClockInfo", nvml.NVML_CLOCK_SM)
    put("sm_clock_max_mhz", int(sm_clock_mhz) if sm_clock_mhz else None)

    # The maximum the GPU and this slot can do together, not the current link: an idle GPU drops to
    # PCIe gen 1 to save power, which says nothing about transfer speed under load.
    put("pcie_gen_max", reader.query("pcie_gen_max", "nvmlDeviceGetMaxPcieLinkGeneration") or None)
    put("pcie_width_max", reader.query("pcie_width_max", "nvmlDeviceGetMaxPcieLinkWidth") or None)

    power_mw = reader.query("power_limit_w", "nvmlDeviceGetEnforcedPowerLimit")
    put("power_limit_w", power_mw / 1000.0 if power_mw else None)

    put("nvlink_links", _count_nvlinks(nvml, reader))
    put("mig_enabled", _mig_enabled(nvml, reader))
    return out


def _read_memory(nvml: Any, reader: _DeviceReader, put: Callable[..., None], system_ram_bytes: int | None) -> None:
    memory_fields = ("vram_total_bytes", "vram_free_bytes", "vram_used_bytes", "vram_reserved_bytes")
    info = None
    version = getattr(nvml, "nvmlMemory_v2", None)
    not_supported = _error_class(nvml, "NVMLError_NotSupported")
    if version is not None:
        # Memory v2 separates what the driver reserves for itself from what processes use.
        try:
            info = reader.call("nvmlDeviceGetMemoryInfo", version=version)
        except (_error_class(nvml, "NVMLError"), TypeError, _MissingFunction):
            # Driver or binding without v2 (or a part without memory): v1 below answers or explains.
            info = None
    if info is None:
        try:
            info = reader.call("nvmlDeviceGetMemoryInfo")
        except not_supported:
            _mark_unified(reader, put, memory_fields, system_ram_bytes)
            return
        except _MissingFunction as exc:
            for name in memory_fields:
                reader.unavailable.setdefault(name, str(exc))
            return
        except _error_class(nvml, "NVMLError") as exc:
            for name in memory_fields:
                reader.unavailable.setdefault(name, _unsupported_reason(nvml, exc))
            return
    put("vram_total_bytes", int(info.total))
    put("vram_free_bytes", int(info.free))
    put("vram_used_bytes", int(info.used))
    reserved = getattr(info, "reserved", None)
    if reserved is not None:
        put("vram_reserved_bytes", int(reserved))
    else:
        reader.unavailable.setdefault("vram_reserved_bytes", "needs NVML memory info v2 (driver >= 510)")


def _mark_unified(
    reader: _DeviceReader, put: Callable[..., None], memory_fields: tuple[str, ...], system_ram_bytes: int | None
) -> None:
    # GB10 (DGX Spark) and Jetson have no memory of their own: NVML answers NotSupported for the memory
    # query and CUDA allocates from system RAM (nvitop falls back to host memory the same way).
    put("unified_memory", True)
    for name in memory_fields:
        reader.unavailable[name] = "unified memory: the GPU has no memory of its own and uses system RAM"
    if system_ram_bytes is not None:
        put("gpu_usable_memory_bytes", int(system_ram_bytes), "os")
    else:
        reader.unavailable["gpu_usable_memory_bytes"] = "unified memory, but system RAM size is unknown"


def _count_nvlinks(nvml: Any, reader: _DeviceReader) -> int | None:
    """Active NVLink links. Zero when the GPU has no NVLink (NVML answers NotSupported for link 0)."""
    max_links = int(getattr(nvml, "NVML_NVLINK_MAX_LINKS", 18))
    stop = (_error_class(nvml, "NVMLError_NotSupported"), _error_class(nvml, "NVMLError_InvalidArgument"))
    active = 0
    for link in range(max_links):
        try:
            state = reader.call("nvmlDeviceGetNvLinkState", link)
        except stop:
            break  # past this GPU's last link, or no NVLink at all
        except _MissingFunction as exc:
            reader.unavailable["nvlink_links"] = str(exc)
            return None
        except _error_class(nvml, "NVMLError") as exc:
            reader.unavailable["nvlink_links"] = _unsupported_reason(nvml, exc)
            return None
        active += 1 if state else 0
    return active


def _mig_enabled(nvml: Any, reader: _DeviceReader) -> bool | None:
    """Whether MIG is on now. False on GPUs without MIG (NVML answers NotSupported: it cannot be on)."""
    try:
        current, _pending = reader.call("nvmlDeviceGetMigMode")
    except _error_class(nvml, "NVMLError_NotSupported"):
        return False
    except _MissingFunction as exc:
        reader.unavailable["mig_enabled"] = str(exc)
        return None
    except _error_class(nvml, "NVMLError") as exc:
        reader.unavailable["mig_enabled"] = _unsupported_reason(nvml, exc)
        return None
    return int(current) == int(getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1))


def _system_query(nvml: Any, function_name: str) -> Any:
    function = getattr(nvml, function_name, None)
    if function is None:
        return None
    try:
        return function()
    except _error_class(nvml, "NVMLError"):
        return None


def _cuda_version_text(value: Any) -> str | None:
    # NVML encodes the CUDA version the driver supports as 1000 * major + 10 * minor (12040 -> "12.4").
    if not value:
        return None
    value = int(value)
    return f"{value // 1000}.{(value % 1000) // 10}"


def probe_nvidia(nvml: Any = None, *, system_ram_bytes: int | None = None) -> tuple[list[Gpu], BackendStatus]:
    """NVIDIA GPUs and the backend's status. Never raises for a missing driver or a failing device.

    ``nvml`` is the pynvml module (default: import it); tests pass a fake. ``system_ram_bytes`` is
    what unified-memory GPUs (GB10, Jetson) report as GPU-usable memory.
    """
    if nvml is None:
        nvml, reason = _load_binding()
        if nvml is None:
            return [], BackendStatus(name="nvidia", available=False, reason=reason)
    nvml_error = _error_class(nvml, "NVMLError")
    try:
        nvml.nvmlInit()
    except nvml_error as exc:
        return [], BackendStatus(name="nvidia", available=False, reason=_init_failure_reason(nvml, exc))
    try:
        try:
            count = int(nvml.nvmlDeviceGetCount())
        except nvml_error as exc:
            return [], BackendStatus(
                name="nvidia", available=False, reason=f"NVIDIA driver loaded but could not count GPUs: {exc}"
            )
        if count == 0:
            return [], BackendStatus(
                name="nvidia", available=True, reason="NVIDIA driver loaded but it reports no GPU"
            )
        driver_version = _system_query(nvml, "nvmlSystemGetDriverVersion")
        cuda = _system_query(nvml, "nvmlSystemGetCudaDriverVersion_v2") or _system_query(
            nvml, "nvmlSystemGetCudaDriverVersion"
        )
        gpus = [
            _read_device(
                nvml,
                index,
                driver_version=_text(driver_version) if driver_version else None,
                cuda_version=_cuda_version_text(cuda),
                system_ram_bytes=system_ram_bytes,
            )
            for index in range(count)
        ]
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml_error:
            pass  # shutting down a library we are done with: nothing left to report
    lost = sum(1 for g in gpus if g.lost)
    reason = f"{lost} of {count} NVIDIA GPUs lost (fallen off the bus)" if lost else None
    return gpus, BackendStatus(name="nvidia", available=True, reason=reason, device_count=len(gpus))


def vram_usage_bytes(nvml: Any = None) -> list[tuple[int, int]] | None:
    """(used, total) VRAM in bytes per readable NVIDIA GPU, for live usage displays; None without a driver.

    Far lighter than probe_nvidia() (one memory query per GPU). Lost, unified-memory and unreadable
    GPUs are left out. Never raises for NVML errors.
    """
    if nvml is None:
        nvml, _ = _load_binding()
        if nvml is None:
            return None
    nvml_error = _error_class(nvml, "NVMLError")
    try:
        nvml.nvmlInit()
    except nvml_error:
        return None
    usage: list[tuple[int, int]] = []
    try:
        for index in range(int(nvml.nvmlDeviceGetCount())):
            try:
                info = nvml.nvmlDeviceGetMemoryInfo(nvml.nvmlDeviceGetHandleByIndex(index))
            except nvml_error:
                continue  # lost, unified or unreadable: nothing to plot for it
            # v1 counts the driver's reservation as used; that is memory a model cannot have either.
            usage.append((int(info.used), int(info.total)))
    except nvml_error:
        return None
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml_error:
            pass  # releasing a library we are done with: nothing left to report
    return usage
