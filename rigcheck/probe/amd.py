"""AMD GPUs on Linux through the amdgpu driver's sysfs files (glances-style, root injectable).

Read from /sys/class/drm/card*/device with PCI vendor 0x1002: device id, mem_info_vram_total/used,
mem_info_gtt_total, product_name, the PCIe link maximum and the top memory clock (pp_dpm_mclk); and
from the KFD topology (/sys/class/kfd/kfd/topology/nodes/N/properties, what rocminfo reads): compute
units, max shader clock and the gfx target.
APUs (Strix Halo, Strix Point, Phoenix) have a small VRAM carve-out and reach system RAM through GTT:
they are marked unified and their GPU-usable memory is the larger of the two. amdsmi is not needed
and not used: sysfs answers the same questions without a native library.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from types import MappingProxyType

from rigcheck.probe._command import Runner, run_command
from rigcheck.probe._sysfs import drm_devices, pci_slot, pcie_max, read_int, read_text
from rigcheck.probe.types import BackendStatus, Gpu

AMD_VENDOR_ID = 0x1002

# Marketing names by PCI device id for parts people run LLMs on. Where one id covers several boards
# the VRAM size tells them apart (Navi 31 0x744c: 24 GiB XTX, 20 GiB XT, 16 GiB GRE); boards that
# share both id and VRAM keep a combined name, which the device table does not resolve.
_NAMES: dict[int, str | tuple[tuple[int, str], ...]] = {
    0x744C: ((24, "AMD Radeon RX 7900 XTX"), (20, "AMD Radeon RX 7900 XT"), (16, "AMD Radeon RX 7900 GRE")),
    0x7448: "AMD Radeon PRO W7900",
    0x7480: ((8, "AMD Radeon RX 7600"), (16, "AMD Radeon RX 7600 XT")),
    0x73BF: "AMD Radeon RX 6800 / 6800 XT / 6900 XT",
    0x73DF: "AMD Radeon RX 6700 XT / 6750 XT",
    0x7550: "AMD Radeon RX 9070 XT / 9070",
    0x740F: "AMD Instinct MI210",
    0x740C: "AMD Instinct MI250X / MI250",
    0x74A1: "AMD Instinct MI300X",
    0x1586: "AMD Radeon 8060S",  # Strix Halo (Ryzen AI Max+ 395)
    0x150E: "AMD Radeon 890M",  # Strix Point
    0x15BF: "AMD Radeon 780M",  # Phoenix
    0x1681: "AMD Radeon 680M",  # Rembrandt
    0x164E: "AMD Radeon Graphics (Raphael)",
}
_GIB = 1024**3


def table_name(device_id: int | None, vram_bytes: int | None) -> str | None:
    """The marketing name for a device id, using the VRAM size where one id covers several boards."""
    entry = _NAMES.get(device_id) if device_id is not None else None
    if entry is None or isinstance(entry, str):
        return entry
    if vram_bytes is None:
        return None
    # Drivers report a little less than the nominal size (firmware reservations): nearest within 1.5 GiB.
    size_gib, name = min(entry, key=lambda option: abs(option[0] * _GIB - vram_bytes))
    return name if abs(size_gib * _GIB - vram_bytes) <= 1.5 * _GIB else None


# Integrated GPUs: no memory of their own beyond a BIOS carve-out.
_APU_IDS = {0x1586, 0x150E, 0x15BF, 0x164E, 0x1681}
# A dGPU worth running models on has far more VRAM than this; below it the "VRAM" is a carve-out.
_CARVE_OUT_MAX_BYTES = 4 * 1024**3


def lspci_name(slot: str | None, runner: Runner) -> str | None:
    """The device name lspci gives for a PCI slot, or None when lspci is missing or silent."""
    if not slot:
        return None
    text = runner(["lspci", "-mm", "-s", slot])
    if not text:
        return None
    try:
        fields = shlex.split(text.splitlines()[0])
    except ValueError:
        return None
    # -mm: slot "class" "vendor" "device" [-rREV] "subvendor" "subdevice"; the device name often
    # carries the marketing name.
    return fields[3] if len(fields) > 3 and fields[3] else None


# gfx major.minor (KFD gfx_target_version / 10000, / 100 % 100) -> architecture family.
_ARCH_BY_GFX = {
    (9, 0): "GCN 5 / CDNA", (9, 4): "CDNA 3", (10, 1): "RDNA 1", (10, 3): "RDNA 2",
    (11, 0): "RDNA 3", (11, 5): "RDNA 3.5", (12, 0): "RDNA 4",
}


def _kfd_nodes(sysfs_root: Path) -> dict[tuple[int, int], dict[str, int]]:
    """KFD topology properties of each GPU node, keyed by (PCI domain, location id)."""
    nodes: dict[tuple[int, int], dict[str, int]] = {}
    base = sysfs_root / "class" / "kfd" / "kfd" / "topology" / "nodes"
    try:
        folders = list(base.iterdir())
    except OSError:
        return nodes
    for folder in folders:
        props: dict[str, int] = {}
        for line in (read_text(folder / "properties") or "").splitlines():
            key, _, value = line.partition(" ")
            if value.strip().lstrip("-").isdigit():
                props[key] = int(value)
        if props.get("simd_count"):  # CPU nodes have no SIMDs
            nodes[(props.get("domain", 0), props.get("location_id", -1))] = props
    return nodes


def _kfd_key(slot: str | None) -> tuple[int, int] | None:
    """(domain, KFD location id) of a PCI address: location id = bus << 8 | device << 3 | function."""
    match = re.match(r"([0-9a-fA-F]+):([0-9a-fA-F]+):([0-9a-fA-F]+)\.([0-7])$", slot or "")
    if not match:
        return None
    domain, bus, dev, fn = (int(match.group(i), 16) for i in range(1, 5))
    return domain, (bus << 8) | (dev << 3) | fn


def _compute_from_kfd(props: dict[str, int]) -> dict[str, object]:
    """Compute units, max shader clock and architecture from one KFD node, as ROCm's rocminfo reads them."""
    out: dict[str, object] = {}
    if props.get("simd_per_cu"):
        out["gpu_cores"] = props["simd_count"] // props["simd_per_cu"]
    if props.get("max_engine_clk_fcompute"):
        out["sm_clock_max_mhz"] = props["max_engine_clk_fcompute"]
    version = props.get("gfx_target_version")
    if version:
        major, minor, step = version // 10000, (version // 100) % 100, version % 100
        gfx = f"gfx{major}{minor:x}{step:x}"
        family = _ARCH_BY_GFX.get((major, minor))
        out["architecture"] = f"{gfx} ({family})" if family else gfx
    return out


def _max_mclk_mhz(device: Path) -> int | None:
    text = read_text(device / "pp_dpm_mclk")
    if not text:
        return None
    clocks = [int(m) for m in re.findall(r"(\d+)\s*Mhz", text, re.I)]
    return max(clocks) if clocks else None


def _read_card(
    index: int, device: Path, runner: Runner, kfd: dict[tuple[int, int], dict[str, int]]
) -> Gpu:
    sources: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    fields: dict = {}

    def put(name: str, value, source: str = "sysfs") -> None:
        if value is not None:
            fields[name] = value
            sources[name] = source

    device_id = read_int(device / "device")
    put("pci_device_id", f"0x{device_id:04x}" if device_id is not None else None)
    slot = pci_slot(device)
    put("pci_bus_id", slot)
    put("uuid", read_text(device / "unique_id") or None)
    vram_total = read_int(device / "mem_info_vram_total")
    name = read_text(device / "product_name") or table_name(device_id, vram_total) or lspci_name(slot, runner)
    if not name:
        name = f"AMD GPU 0x{device_id:04x}" if device_id is not None else "AMD GPU"
    vram_used = read_int(device / "mem_info_vram_used")
    gtt_total = read_int(device / "mem_info_gtt_total")
    if vram_total is None:
        unavailable["vram_total_bytes"] = "amdgpu did not expose mem_info_vram_total (an old kernel?)"
    put("vram_total_bytes", vram_total)
    put("vram_used_bytes", vram_used)
    if vram_total is not None and vram_used is not None:
        put("vram_free_bytes", max(vram_total - vram_used, 0))
    is_apu = (device_id in _APU_IDS) or (
        vram_total is not None and gtt_total is not None and vram_total < _CARVE_OUT_MAX_BYTES < gtt_total
    )
    if is_apu:
        put("unified_memory", True)
        if gtt_total is not None or vram_total is not None:
            # The GPU may map GTT (system RAM the kernel lets it pin) besides its carve-out; llama.cpp's
            # Vulkan and ROCm back ends allocate from both, so the larger is what one model can use.
            put("gpu_usable_memory_bytes", max(gtt_total or 0, vram_total or 0))
        else:
            unavailable["gpu_usable_memory_bytes"] = "amdgpu did not expose the VRAM or GTT size"

    if is_apu:
        # The APU's "link" is the on-die fabric sysfs dresses up as PCIe; it carries no host transfers.
        unavailable["pcie_gen_max"] = unavailable["pcie_width_max"] = "integrated GPU: no PCIe link"
    else:
        gen, width = pcie_max(device)
        put("pcie_gen_max", gen)
        put("pcie_width_max", width)
    put("mem_clock_max_mhz", _max_mclk_mhz(device))
    key = _kfd_key(slot)
    if key is not None and key in kfd:
        for field_name, value in _compute_from_kfd(kfd[key]).items():
            put(field_name, value)
    else:
        unavailable["gpu_cores"] = "no KFD topology node for this GPU (ROCm's kernel driver part not loaded)"
    if not is_apu:
        unavailable["memory_bandwidth_bytes_per_s"] = "sysfs has no memory bus width: the device table gives it"
    return Gpu(
        index=index,
        vendor="amd",
        name=name,
        sources=MappingProxyType(sources),
        unavailable=MappingProxyType(unavailable),
        **fields,
    )


def probe_amd(sysfs_root: str | Path = "/sys", *, runner: Runner = run_command) -> tuple[list[Gpu], BackendStatus]:
    """AMD GPUs under ``sysfs_root``. Never raises; no card is a status with a reason, not an error."""
    root = Path(sysfs_root)
    if not (root / "class" / "drm").is_dir():
        return [], BackendStatus(name="amd", available=False, reason="no DRM devices in sysfs (not Linux, or no GPU driver)")
    kfd = _kfd_nodes(root)
    gpus = [_read_card(i, device, runner, kfd) for i, (_, device) in enumerate(drm_devices(root, AMD_VENDOR_ID))]
    if not gpus:
        return [], BackendStatus(name="amd", available=False, reason="no AMD GPU with the amdgpu driver")
    return gpus, BackendStatus(name="amd", available=True, device_count=len(gpus))

