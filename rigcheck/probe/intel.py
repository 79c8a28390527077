"""Intel GPUs on Linux through sysfs (i915 and xe drivers), names from a device-id table or lspci.

Arc discrete GPUs report their local memory (lmem) where the driver exposes it: i915's
``cardN/lmem_total_bytes`` or xe's ``device/tile0/vram0/..._size_bytes`` files. Integrated GPUs have no
local memory and are marked unified; how much system RAM they may use is not reported by the driver.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from rigcheck.probe._command import Runner, run_command
from rigcheck.probe._sysfs import drm_devices, pci_slot, pcie_max, read_int
from rigcheck.probe.amd import lspci_name
from rigcheck.probe.types import BackendStatus, Gpu

INTEL_VENDOR_ID = 0x8086

# (name, discrete) by PCI device id; lspci fills in the rest.
_NAMES = {
    0x56A0: ("Intel Arc A770", True),
    0x56A1: ("Intel Arc A750", True),
    0x56A5: ("Intel Arc A380", True),
    0x56C0: ("Intel Data Center GPU Flex 170", True),
    0xE20B: ("Intel Arc B580", True),
    0xE20C: ("Intel Arc B570", True),
    0x7D55: ("Intel Arc Graphics (Meteor Lake)", False),
    0x64A0: ("Intel Arc 140V (Lunar Lake)", False),
    0xA7A0: ("Intel Iris Xe Graphics (Raptor Lake-P)", False),
    0x46A6: ("Intel Iris Xe Graphics (Alder Lake-P)", False),
    0x4680: ("Intel UHD Graphics 770 (Alder Lake-S)", False),
    0xA780: ("Intel UHD Graphics 770 (Raptor Lake-S)", False),
}

# Local-memory files, newest driver first (xe, then i915); the first present one wins.
_LMEM_TOTAL_FILES = (
    "device/tile0/vram0/usable_size",
    "device/tile0/physical_vram_size_bytes",
    "lmem_total_bytes",
)
_LMEM_AVAIL_FILES = ("lmem_avail_bytes",)


def _first_int(card: Path, names: tuple[str, ...]) -> int | None:
    for name in names:
        value = read_int(card / name)
        if value is not None:
            return value
    return None


def _read_card(index: int, card: Path, device: Path, runner: Runner) -> Gpu:
    sources: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    fields: dict = {}

    def put(name: str, value) -> None:
        if value is not None:
            fields[name] = value
            sources[name] = "sysfs"

    device_id = read_int(device / "device")
    put("pci_device_id", f"0x{device_id:04x}" if device_id is not None else None)
    slot = pci_slot(device)
    put("pci_bus_id", slot)
    known_name, known_discrete = _NAMES.get(device_id or -1, (None, None))
    name = known_name or lspci_name(slot, runner) or (
        f"Intel GPU 0x{device_id:04x}" if device_id is not None else "Intel GPU"
    )
    lmem_total = _first_int(card, _LMEM_TOTAL_FILES)
    discrete = bool(lmem_total) or bool(known_discrete)
    if lmem_total:
        put("vram_total_bytes", lmem_total)
        put("vram_free_bytes", _first_int(card, _LMEM_AVAIL_FILES))
    elif discrete:
        unavailable["vram_total_bytes"] = "this driver version does not expose the local memory size in sysfs"
    else:
        put("unified_memory", True)
        unavailable["gpu_usable_memory_bytes"] = (
            "integrated GPU: it shares system RAM and the driver does not say how much it may use"
        )
    if discrete:
        gen, width = pcie_max(device)
        if (gen, width) == (1, 1):
            # Arc boards put the GPU behind an on-board PCIe switch whose internal link reads 2.5 GT/s
            # x1; the slot's link is on the switch's upstream port, not on this device.
            for field_name in ("pcie_gen_max", "pcie_width_max"):
                unavailable[field_name] = "the GPU sits behind an on-board PCIe switch; its slot link is not visible"
        else:
            put("pcie_gen_max", gen)
            put("pcie_width_max", width)
    unavailable["memory_bandwidth_bytes_per_s"] = "sysfs has no memory bus width: the device table gives it"
    return Gpu(
        index=index,
        vendor="intel",
        name=name,
        sources=MappingProxyType(sources),
        unavailable=MappingProxyType(unavailable),
        **fields,
    )


def probe_intel(
    sysfs_root: str | Path = "/sys", *, runner: Runner = run_command
) -> tuple[list[Gpu], BackendStatus]:
    """Intel GPUs under ``sysfs_root``. Never raises."""
    root = Path(sysfs_root)
    if not (root / "class" / "drm").is_dir():
        return [], BackendStatus(
            name="intel", available=False, reason="no DRM devices in sysfs (not Linux, or no GPU driver)"
        )
    gpus = [
        _read_card(i, device.parent, device, runner)
        for i, (_, device) in enumerate(drm_devices(root, INTEL_VENDOR_ID))
    ]
    if not gpus:
        return [], BackendStatus(name="intel", available=False, reason="no Intel GPU with the i915 or xe driver")
    return gpus, BackendStatus(name="intel", available=True, device_count=len(gpus))
