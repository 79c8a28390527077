"""Reading GPUs from Linux sysfs (/sys/class/drm/card*/device), shared by the AMD and Intel backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

_CARD = re.compile(r"card(\d+)$")  # skips connectors (card0-DP-1) and render nodes

# PCIe transfer rate per lane (GT/s, as sysfs max_link_speed writes it) -> generation.
_PCIE_GEN_BY_GTS = {2.5: 1, 5.0: 2, 8.0: 3, 16.0: 4, 32.0: 5, 64.0: 6}


def read_text(path: Path) -> str | None:
    """The stripped content of a sysfs file, or None when it is absent or unreadable."""
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return None


def read_int(path: Path) -> int | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        return int(text, 0)
    except ValueError:
        return None


def drm_devices(sysfs_root: str | Path, vendor_id: int) -> Iterator[tuple[str, Path]]:
    """(card name, its PCI device folder) for each DRM card of this PCI vendor, in card order."""
    base = Path(sysfs_root) / "class" / "drm"
    try:
        entries = list(base.iterdir())
    except OSError:
        return
    cards = sorted((int(m.group(1)), p) for p in entries if (m := _CARD.match(p.name)))
    for _, card in cards:
        device = card / "device"
        if read_int(device / "vendor") == vendor_id:
            yield card.name, device


def pci_slot(device: Path) -> str | None:
    """The PCI address (0000:03:00.0) from the device's uevent."""
    text = read_text(device / "uevent") or ""
    for line in text.splitlines():
        if line.startswith("PCI_SLOT_NAME="):
            return line.split("=", 1)[1]
    return None


def pcie_max(device: Path) -> tuple[int | None, int | None]:
    """(generation, lanes) the device's link can reach; (None, None) for on-die GPUs without a link."""
    speed = read_text(device / "max_link_speed") or ""
    match = re.match(r"([\d.]+)\s*GT/s", speed)
    gen = _PCIE_GEN_BY_GTS.get(float(match.group(1))) if match else None
    width = read_int(device / "max_link_width")
    return gen, (width or None)
