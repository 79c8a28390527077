"""AMD and Intel backends against the hand-built sysfs trees in tests/data/sysfs."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigcheck.probe.amd import probe_amd, table_name
from rigcheck.probe.intel import probe_intel

SYSFS = Path(__file__).parents[1] / "data" / "sysfs"
GiB = 1024**3
MiB = 1024**2


def no_lspci(argv):
    raise AssertionError(f"lspci must not be needed here: {argv}")


def test_amd_dgpu_and_desktop_igpu():
    gpus, status = probe_amd(SYSFS / "amd_dgpu", runner=no_lspci)
    assert status.available and status.device_count == 2
    dgpu, igpu = gpus  # connectors (card0-DP-1) and render nodes are skipped
    assert dgpu.vendor == "amd" and dgpu.index == 0
    assert dgpu.name == "AMD Radeon RX 7900 XTX"  # empty product_name: the id table, by VRAM size
    assert dgpu.pci_device_id == "0x744c" and dgpu.pci_bus_id == "0000:03:00.0"
    assert dgpu.vram_total_bytes == 24560 * MiB
    assert dgpu.vram_free_bytes == (24560 - 1130) * MiB
    assert dgpu.unified_memory is False and dgpu.gpu_usable_memory_bytes is None
    assert (dgpu.pcie_gen_max, dgpu.pcie_width_max) == (4, 16)
    assert dgpu.mem_clock_max_mhz == 1249
    assert dgpu.uuid == "1b9c3a4d52e8f607"
    # From the KFD topology node whose location id (0x300) is this card's PCI address 03:00.0.
    assert dgpu.gpu_cores == 96 and dgpu.sm_clock_max_mhz == 2500
    assert dgpu.architecture == "gfx1100 (RDNA 3)"
    assert dgpu.sources["vram_total_bytes"] == "sysfs"
    assert "device table" in dgpu.unavailable["memory_bandwidth_bytes_per_s"]
    # The Ryzen 7000 iGPU: 512 MiB carve-out, GTT larger: unified.
    assert igpu.name == "AMD Radeon Graphics (Raphael)"
    assert igpu.unified_memory is True
    assert igpu.gpu_usable_memory_bytes == 31 * GiB + 512 * MiB
    assert igpu.pcie_gen_max is None and "integrated" in igpu.unavailable["pcie_gen_max"]
    assert igpu.gpu_cores == 2 and igpu.architecture == "gfx1036 (RDNA 2)"


def test_strix_halo_is_unified_with_gtt_as_usable_memory():
    (gpu,), status = probe_amd(SYSFS / "strix_halo", runner=no_lspci)
    assert gpu.name == "AMD Radeon 8060S"
    assert gpu.vram_total_bytes == 512 * MiB
    assert gpu.unified_memory is True
    assert gpu.gpu_usable_memory_bytes == int(62.5 * GiB)
    assert gpu.sources["gpu_usable_memory_bytes"] == "sysfs"
    assert gpu.mem_clock_max_mhz == 1000
    assert gpu.gpu_cores == 40 and gpu.sm_clock_max_mhz == 2900
    assert gpu.architecture == "gfx1151 (RDNA 3.5)"


def test_unknown_amd_id_is_named_by_lspci(tmp_path):
    device = tmp_path / "class/drm/card0/device"
    device.mkdir(parents=True)
    (device / "vendor").write_text("0x1002\n")
    (device / "device").write_text("0x7422\n")
    (device / "uevent").write_text("PCI_SLOT_NAME=0000:0a:00.0\n")
    (device / "mem_info_vram_total").write_text(str(8 * GiB))
    seen = []

    def lspci(argv):
        seen.append(list(argv))
        return '0a:00.0 "VGA compatible controller" "Advanced Micro Devices, Inc. [AMD/ATI]" "Navi 24 [Radeon RX 6400/6500 XT/6500M]" -rc7 "Sapphire" "Pulse"\n'

    (gpu,), _ = probe_amd(tmp_path, runner=lspci)
    assert seen == [["lspci", "-mm", "-s", "0000:0a:00.0"]]
    assert gpu.name == "Navi 24 [Radeon RX 6400/6500 XT/6500M]"
    assert gpu.vram_total_bytes == 8 * GiB and gpu.vram_used_bytes is None


def test_unknown_amd_id_without_lspci_still_has_a_name(tmp_path):
    device = tmp_path / "class/drm/card3/device"
    device.mkdir(parents=True)
    (device / "vendor").write_text("0x1002\n")
    (device / "device").write_text("0x7422\n")
    (gpu,), _ = probe_amd(tmp_path, runner=lambda argv: None)
    assert gpu.name == "AMD GPU 0x7422"
    assert gpu.vram_total_bytes is None and "mem_info_vram_total" in gpu.unavailable["vram_total_bytes"]
    assert gpu.gpu_cores is None and "KFD" in gpu.unavailable["gpu_cores"]


def test_intel_igpu_and_arc():
    gpus, status = probe_intel(SYSFS / "intel_arc", runner=no_lspci)
    assert status.device_count == 2
    igpu, arc = gpus
    assert igpu.name == "Intel UHD Graphics 770 (Raptor Lake-S)"
    assert igpu.unified_memory is True and igpu.vram_total_bytes is None
    assert "shares system RAM" in igpu.unavailable["gpu_usable_memory_bytes"]
    assert arc.name == "Intel Arc A770" and arc.vendor == "intel" and arc.index == 1
    assert arc.vram_total_bytes == 16256 * MiB and arc.vram_free_bytes == 15890 * MiB
    assert arc.unified_memory is False
    # The on-board switch's 2.5 GT/s x1 link is not the slot's.
    assert arc.pcie_gen_max is None and "switch" in arc.unavailable["pcie_gen_max"]


def test_vendors_do_not_see_each_others_cards():
    assert probe_intel(SYSFS / "amd_dgpu", runner=no_lspci)[0] == []
    gpus, status = probe_amd(SYSFS / "intel_arc", runner=no_lspci)
    assert gpus == [] and not status.available and "no AMD GPU" in status.reason


def test_missing_sysfs_is_a_reason(tmp_path):
    gpus, status = probe_amd(tmp_path / "nowhere")
    assert gpus == [] and not status.available and "sysfs" in status.reason


@pytest.mark.parametrize(
    ("vram_gib", "expected"),
    [(23.98, "AMD Radeon RX 7900 XTX"), (19.98, "AMD Radeon RX 7900 XT"), (15.98, "AMD Radeon RX 7900 GRE"),
     (12, None)],  # an unknown board with this id: lspci or the id, not a guess
)
def test_navi31_board_from_vram(vram_gib, expected):
    assert table_name(0x744C, int(vram_gib * GiB)) == expected
