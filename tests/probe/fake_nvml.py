"""A small fake of the pynvml module with named scenarios, raising the real binding's exceptions.

The constants and NVMLError classes are the real ones from nvidia-ml-py, so ``rigcheck.probe.nvidia``
handles the fake exactly as it would the real binding. Device figures are those the real driver
reports for these parts (names, memory sizes, max clocks, bus widths, core counts).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pynvml

MiB = 1024**2
GiB = 1024**3


def _device(**fields: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "serial": None,  # consumer boards answer NotSupported for the serial
        "nvlink_states": None,  # None: the GPU has no NVLink (NotSupported)
        "mig": None,  # None: the GPU cannot do MIG (NotSupported)
        "errors": {},  # function name -> NVMLError class raised instead of answering
    }
    return {**defaults, **fields}


RTX_4090 = _device(
    name="NVIDIA GeForce RTX 4090",
    uuid="GPU-5b1c3d2a-7f41-4e1e-9d55-0f6c2b8a4e01",
    bus_id=b"00000000:01:00.0",
    pci_device_id=0x268410DE,
    memory=(24564 * MiB, 346 * MiB, 1024 * MiB),  # total, reserved, used
    bus_width_bits=384,
    mem_clock_mhz=10501,
    sm_clock_mhz=3120,
    cores=16384,
    cc=(8, 9),
    arch=pynvml.NVML_DEVICE_ARCH_ADA,
    pcie=(4, 16),
    power_limit_mw=450000,
)

RTX_3060 = _device(
    name="NVIDIA GeForce RTX 3060",
    uuid="GPU-8e0d9c71-2b6a-4f0c-a3d8-5e7b91c2f3a4",
    bus_id=b"00000000:02:00.0",
    pci_device_id=0x250410DE,
    memory=(12288 * MiB, 243 * MiB, 300 * MiB),
    bus_width_bits=192,
    mem_clock_mhz=7501,
    sm_clock_mhz=2100,
    cores=3584,
    cc=(8, 6),
    arch=pynvml.NVML_DEVICE_ARCH_AMPERE,
    pcie=(3, 8),  # a second slot wired x8 on a gen-3 chipset
    power_limit_mw=170000,
)

A100_SXM = _device(
    name="NVIDIA A100-SXM4-80GB",
    uuid="GPU-1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b",
    serial="1323120012345",
    bus_id=b"00000000:07:00.0",
    pci_device_id=0x20B210DE,
    memory=(81920 * MiB, 563 * MiB, 4 * MiB),
    bus_width_bits=5120,
    mem_clock_mhz=1593,
    sm_clock_mhz=1410,
    cores=6912,
    cc=(8, 0),
    arch=pynvml.NVML_DEVICE_ARCH_AMPERE,
    pcie=(4, 16),
    power_limit_mw=400000,
    nvlink_states=[1] * 12,
    mig=(pynvml.NVML_DEVICE_MIG_ENABLE, pynvml.NVML_DEVICE_MIG_ENABLE),
)

H100_SXM = _device(
    name="NVIDIA H100 80GB HBM3",
    uuid="GPU-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
    serial="1654922001234",
    bus_id=b"00000000:18:00.0",
    pci_device_id=0x233010DE,
    memory=(81559 * MiB, 592 * MiB, 0),
    bus_width_bits=5120,
    mem_clock_mhz=2619,
    sm_clock_mhz=1980,
    cores=16896,
    cc=(9, 0),
    arch=pynvml.NVML_DEVICE_ARCH_HOPPER,
    pcie=(5, 16),
    power_limit_mw=700000,
    nvlink_states=[1] * 16 + [0, 0],  # two links down
    mig=(pynvml.NVML_DEVICE_MIG_ENABLE, pynvml.NVML_DEVICE_MIG_ENABLE),
)

GB10 = _device(
    name="NVIDIA GB10",
    uuid="GPU-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    bus_id=b"0000000F:01:00.0",
    pci_device_id=0x2E1210DE,
    memory=None,  # NotSupported: unified memory
    bus_width_bits=None,
    mem_clock_mhz=None,
    sm_clock_mhz=3003,
    cores=6144,
    cc=(12, 1),
    arch=pynvml.NVML_DEVICE_ARCH_BLACKWELL,
    pcie=None,
    power_limit_mw=None,
)

# A part the spec table does not know (a made-up name on a Blackwell workstation chip: 70 SMs of 128 cores,
# 192-bit GDDR7 at the clock NVML reports for 28 Gbps), so estimates must come from these driver figures.
UNKNOWN_BLACKWELL = _device(
    name="NVIDIA RTX Future 4000",
    uuid="GPU-3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
    bus_id=b"00000000:03:00.0",
    pci_device_id=0x2FFF10DE,
    memory=(24463 * MiB, 480 * MiB, 0),
    bus_width_bits=192,
    mem_clock_mhz=14001,
    sm_clock_mhz=2617,
    cores=8960,
    cc=(12, 0),
    arch=pynvml.NVML_DEVICE_ARCH_BLACKWELL,
    pcie=(5, 16),
    power_limit_mw=140000,
)


class FakeNvml:
    """Stands in for the pynvml module: same function names, constants and exception classes."""

    def __init__(self, devices: list[dict[str, Any]], *, init_error: type[Exception] | None = None,
                 driver_version: str = "570.133.07", cuda_version: int = 12080,
                 lost_at_handle: tuple[int, ...] = ()) -> None:
        self._devices = devices
        self._init_error = init_error
        self._driver_version = driver_version
        self._cuda_version = cuda_version
        self._lost_at_handle = lost_at_handle
        self.initialized = False
        self.shutdown_calls = 0
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        # Constants and exception classes come from the real binding.
        if name.startswith(("NVML_", "NVMLError", "nvmlMemory_v")):
            return getattr(pynvml, name)
        raise AttributeError(name)

    # --- system ---------------------------------------------------------------------------------
    def nvmlInit(self) -> None:
        if self._init_error is not None:
            raise self._init_error()
        self.initialized = True

    def nvmlShutdown(self) -> None:
        self.shutdown_calls += 1
        self.initialized = False

    def nvmlDeviceGetCount(self) -> int:
        self._require_init()
        return len(self._devices)

    def nvmlSystemGetDriverVersion(self) -> str:
        return self._driver_version

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return self._cuda_version

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        self._require_init()
        if index in self._lost_at_handle:
            raise pynvml.NVMLError_GpuIsLost()
        if not 0 <= index < len(self._devices):
            raise pynvml.NVMLError_InvalidArgument()
        return index

    # --- per device -----------------------------------------------------------------------------
    def _dev(self, handle: int, function: str) -> dict[str, Any]:
        self._require_init()
        self.calls.append(function)
        device = self._devices[handle]
        error = device["errors"].get(function)
        if error is not None:
            raise error()
        return device

    def _require_init(self) -> None:
        if not self.initialized:
            raise pynvml.NVMLError_Uninitialized()

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self._dev(handle, "nvmlDeviceGetName")["name"]

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return self._dev(handle, "nvmlDeviceGetUUID")["uuid"]

    def nvmlDeviceGetSerial(self, handle: int) -> str:
        serial = self._dev(handle, "nvmlDeviceGetSerial")["serial"]
        if serial is None:
            raise pynvml.NVMLError_NotSupported()
        return serial

    def nvmlDeviceGetPciInfo(self, handle: int) -> SimpleNamespace:
        device = self._dev(handle, "nvmlDeviceGetPciInfo")
        return SimpleNamespace(busId=device["bus_id"], pciDeviceId=device["pci_device_id"])

    def nvmlDeviceGetMemoryInfo(self, handle: int, version: int | None = None) -> SimpleNamespace:
        device = self._dev(handle, "nvmlDeviceGetMemoryInfo" if not version else "nvmlDeviceGetMemoryInfo_v2")
        if version and "nvmlDeviceGetMemoryInfo_v2" in device["errors"]:
            raise device["errors"]["nvmlDeviceGetMemoryInfo_v2"]()
        if device["memory"] is None:
            raise pynvml.NVMLError_NotSupported()
        total, reserved, used = device["memory"]
        if version:
            return SimpleNamespace(version=version, total=total, reserved=reserved, used=used,
                                   free=total - reserved - used)
        # v1 counts the driver's reservation as used.
        return SimpleNamespace(total=total, used=used + reserved, free=total - reserved - used)

    def _value(self, handle: int, function: str, key: str) -> Any:
        value = self._dev(handle, function)[key]
        if value is None:
            raise pynvml.NVMLError_NotSupported()
        return value

    def nvmlDeviceGetMemoryBusWidth(self, handle: int) -> int:
        return self._value(handle, "nvmlDeviceGetMemoryBusWidth", "bus_width_bits")

    def nvmlDeviceGetMaxClockInfo(self, handle: int, clock_type: int) -> int:
        key = {pynvml.NVML_CLOCK_MEM: "mem_clock_mhz", pynvml.NVML_CLOCK_SM: "sm_clock_mhz"}.get(clock_type)
        if key is None:
            raise pynvml.NVMLError_InvalidArgument()
        return self._value(handle, "nvmlDeviceGetMaxClockInfo", key)

    def nvmlDeviceGetNumGpuCores(self, handle: int) -> int:
        return self._value(handle, "nvmlDeviceGetNumGpuCores", "cores")

    def nvmlDeviceGetCudaComputeCapability(self, handle: int) -> tuple[int, int]:
        return self._value(handle, "nvmlDeviceGetCudaComputeCapability", "cc")

    def nvmlDeviceGetArchitecture(self, handle: int) -> int:
        return self._value(handle, "nvmlDeviceGetArchitecture", "arch")

    def nvmlDeviceGetMaxPcieLinkGeneration(self, handle: int) -> int:
        return self._value(handle, "nvmlDeviceGetMaxPcieLinkGeneration", "pcie")[0]

    def nvmlDeviceGetMaxPcieLinkWidth(self, handle: int) -> int:
        return self._value(handle, "nvmlDeviceGetMaxPcieLinkWidth", "pcie")[1]

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        return self._value(handle, "nvmlDeviceGetEnforcedPowerLimit", "power_limit_mw")

    def nvmlDeviceGetNvLinkState(self, handle: int, link: int) -> int:
        states = self._dev(handle, "nvmlDeviceGetNvLinkState")["nvlink_states"]
        if states is None:
            raise pynvml.NVMLError_NotSupported()
        if link >= len(states):
            raise pynvml.NVMLError_InvalidArgument()
        return states[link]

    def nvmlDeviceGetMigMode(self, handle: int) -> list[int]:
        return list(self._value(handle, "nvmlDeviceGetMigMode", "mig"))


# --- named scenarios ------------------------------------------------------------------------------

def no_library() -> FakeNvml:
    """nvidia-ml-py installed, but no libnvidia-ml.so.1 (no NVIDIA driver at all)."""
    return FakeNvml([], init_error=pynvml.NVMLError_LibraryNotFound)


def driver_not_loaded() -> FakeNvml:
    """The library is there but the kernel module is not loaded."""
    return FakeNvml([], init_error=pynvml.NVMLError_DriverNotLoaded)


def one_gpu() -> FakeNvml:
    return FakeNvml([RTX_4090])


def two_mixed_gpus() -> FakeNvml:
    return FakeNvml([RTX_4090, RTX_3060])


def field_not_supported() -> FakeNvml:
    """An RTX 4090 on an older driver: no bus width, no core count, no memory v2."""
    device = _device(**{**RTX_4090, "errors": {
        "nvmlDeviceGetMemoryBusWidth": pynvml.NVMLError_NotSupported,
        "nvmlDeviceGetNumGpuCores": pynvml.NVMLError_FunctionNotFound,
        "nvmlDeviceGetMemoryInfo_v2": pynvml.NVMLError_FunctionNotFound,
    }})
    return FakeNvml([device])


def gpu_lost() -> FakeNvml:
    """Three GPUs: the first is lost midway through the probe, the second fine, the third lost at open."""
    lost_midway = _device(**{**RTX_4090, "errors": {"nvmlDeviceGetMemoryBusWidth": pynvml.NVMLError_GpuIsLost}})
    return FakeNvml([lost_midway, RTX_3060, RTX_4090], lost_at_handle=(2,))


def unified_memory() -> FakeNvml:
    """DGX Spark (GB10): the memory query answers NotSupported; CUDA allocates from system RAM."""
    return FakeNvml([GB10])


def unknown_gpu() -> FakeNvml:
    """A GPU whose name matches no spec-table row: everything the estimator needs comes from the driver."""
    return FakeNvml([UNKNOWN_BLACKWELL])


def mig_enabled() -> FakeNvml:
    """An A100 and an H100, both with MIG mode on, both with NVLink."""
    return FakeNvml([A100_SXM, H100_SXM])


SCENARIOS = {
    "no_library": no_library,
    "driver_not_loaded": driver_not_loaded,
    "one_gpu": one_gpu,
    "two_mixed_gpus": two_mixed_gpus,
    "field_not_supported": field_not_supported,
    "gpu_lost": gpu_lost,
    "unified_memory": unified_memory,
    "mig_enabled": mig_enabled,
    "unknown_gpu": unknown_gpu,
}
