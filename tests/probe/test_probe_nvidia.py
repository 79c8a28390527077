"""NVIDIA backend against the fake NVML scenarios: what is read, what is None and why, what is lost."""

from __future__ import annotations

import pytest
from fake_nvml import SCENARIOS, GiB, MiB

from rigcheck.probe.nvidia import probe_nvidia


def test_no_library_reports_zero_gpus_and_a_reason():
    gpus, status = probe_nvidia(SCENARIOS["no_library"]())
    assert gpus == []
    assert status.available is False
    assert status.reason == "no NVIDIA driver: the NVML library (libnvidia-ml) was not found"


def test_driver_not_loaded_reason_differs_from_library_missing():
    gpus, status = probe_nvidia(SCENARIOS["driver_not_loaded"]())
    assert gpus == [] and status.available is False
    assert "not running" in status.reason


def test_one_rtx_4090_every_field_from_the_driver():
    nvml = SCENARIOS["one_gpu"]()
    gpus, status = probe_nvidia(nvml)
    assert status.available and status.device_count == 1 and status.reason is None
    assert nvml.shutdown_calls == 1  # NVML is released after the probe
    (gpu,) = gpus
    assert gpu.name == "NVIDIA GeForce RTX 4090"
    assert gpu.vendor == "nvidia" and gpu.index == 0 and not gpu.lost
    assert gpu.uuid.startswith("GPU-")
    assert gpu.pci_bus_id == "00000000:01:00.0"
    assert gpu.pci_device_id == "0x2684"
    assert gpu.vram_total_bytes == 24564 * MiB
    assert gpu.vram_reserved_bytes == 346 * MiB
    assert gpu.vram_used_bytes == 1024 * MiB
    assert gpu.vram_free_bytes == (24564 - 346 - 1024) * MiB
    assert gpu.memory_bus_width_bits == 384 and gpu.mem_clock_max_mhz == 10501
    # 10501 MHz x 2 (DDR) x 48 bytes = 1008 GB/s, the published RTX 4090 figure.
    assert gpu.memory_bandwidth_bytes_per_s == pytest.approx(1008.1e9, rel=1e-3)
    assert gpu.cuda_cores == 16384 and gpu.sm_count == 128  # 128 cores per SM on Ada
    assert gpu.sm_clock_max_mhz == 3120
    assert gpu.compute_capability == "8.9" and gpu.architecture == "Ada Lovelace"
    assert (gpu.pcie_gen_max, gpu.pcie_width_max) == (4, 16)
    assert gpu.power_limit_w == 450.0
    assert gpu.driver_version == "570.133.07" and gpu.cuda_version == "12.8"
    assert gpu.nvlink_links == 0 and gpu.mig_enabled is False
    assert gpu.unified_memory is False
    assert gpu.serial is None and "Not Supported" in gpu.unavailable["serial"]
    for name in ("vram_total_bytes", "memory_bandwidth_bytes_per_s", "sm_count", "power_limit_w"):
        assert gpu.sources[name] == "driver"


def test_two_mixed_gpus_keep_their_own_figures():
    gpus, status = probe_nvidia(SCENARIOS["two_mixed_gpus"]())
    assert status.device_count == 2
    big, small = gpus
    assert (big.index, small.index) == (0, 1)
    assert small.name == "NVIDIA GeForce RTX 3060"
    assert small.vram_total_bytes == 12 * GiB
    assert small.memory_bandwidth_bytes_per_s == pytest.approx(360.0e9, rel=1e-3)
    assert small.sm_count == 28 and small.architecture == "Ampere"
    # The maximum link of the slot, not the GPU's own maximum: gen 3 x8 here.
    assert (small.pcie_gen_max, small.pcie_width_max) == (3, 8)
    assert big.memory_bandwidth_bytes_per_s > small.memory_bandwidth_bytes_per_s


def test_unsupported_fields_are_none_with_a_reason_and_the_rest_is_read():
    (gpu,), status = probe_nvidia(SCENARIOS["field_not_supported"]())
    assert status.available and not gpu.lost
    assert gpu.memory_bus_width_bits is None
    assert "Not Supported" in gpu.unavailable["memory_bus_width_bits"]
    assert gpu.memory_bandwidth_bytes_per_s is None
    assert "bus width" in gpu.unavailable["memory_bandwidth_bytes_per_s"]
    assert gpu.cuda_cores is None and "driver version" in gpu.unavailable["cuda_cores"]
    assert gpu.sm_count is None
    # Memory v2 missing: v1 still gives total and free, the reservation is unknown.
    assert gpu.vram_total_bytes == 24564 * MiB
    assert gpu.vram_free_bytes == (24564 - 346 - 1024) * MiB
    assert gpu.vram_reserved_bytes is None and "v2" in gpu.unavailable["vram_reserved_bytes"]
    assert gpu.mem_clock_max_mhz == 10501 and gpu.compute_capability == "8.9"
    assert "vram_total_bytes" not in gpu.unavailable


def test_lost_gpus_are_marked_and_the_others_are_fine():
    gpus, status = probe_nvidia(SCENARIOS["gpu_lost"]())
    assert [g.lost for g in gpus] == [True, False, True]
    assert gpus[0].name == "NVIDIA GeForce RTX 4090"  # read before it fell off the bus
    assert gpus[0].vram_total_bytes is None
    assert "lost" in gpus[0].unavailable["*"]
    assert gpus[1].name == "NVIDIA GeForce RTX 3060" and gpus[1].vram_total_bytes == 12 * GiB
    assert gpus[2].name == "NVIDIA GPU"
    assert status.available and "2 of 3" in status.reason


def test_unified_memory_gpu_uses_system_ram():
    ram = 128 * GiB
    (gpu,), _ = probe_nvidia(SCENARIOS["unified_memory"](), system_ram_bytes=ram)
    assert gpu.name == "NVIDIA GB10"
    assert gpu.unified_memory is True and gpu.sources["unified_memory"] == "driver"
    assert gpu.gpu_usable_memory_bytes == ram and gpu.sources["gpu_usable_memory_bytes"] == "os"
    assert gpu.vram_total_bytes is None and "unified memory" in gpu.unavailable["vram_total_bytes"]
    assert gpu.compute_capability == "12.1" and gpu.architecture == "Blackwell"
    assert gpu.cuda_cores == 6144 and gpu.sm_count == 48
    assert gpu.power_limit_w is None and "power_limit_w" in gpu.unavailable


def test_unified_memory_without_ram_size_says_so():
    (gpu,), _ = probe_nvidia(SCENARIOS["unified_memory"]())
    assert gpu.unified_memory and gpu.gpu_usable_memory_bytes is None
    assert "unknown" in gpu.unavailable["gpu_usable_memory_bytes"]


def test_mig_and_nvlink_on_datacenter_parts():
    (a100, h100), _ = probe_nvidia(SCENARIOS["mig_enabled"]())
    assert a100.mig_enabled is True and h100.mig_enabled is True
    assert a100.nvlink_links == 12
    assert h100.nvlink_links == 16  # two of its 18 links are down
    assert a100.memory_bandwidth_bytes_per_s == pytest.approx(2039e9, rel=1e-3)
    assert h100.memory_bandwidth_bytes_per_s == pytest.approx(3352e9, rel=1e-3)
    assert a100.sm_count == 108 and h100.sm_count == 132
    assert a100.serial == "1323120012345"
    assert h100.architecture == "Hopper" and h100.pcie_gen_max == 5


def test_missing_binding_function_is_a_field_reason_not_a_crash():
    nvml = SCENARIOS["one_gpu"]()

    class OldBinding:
        def __getattr__(self, name):
            if name == "nvmlDeviceGetMemoryBusWidth":
                raise AttributeError(name)
            return getattr(nvml, name)

    (gpu,), _ = probe_nvidia(OldBinding())
    assert gpu.memory_bus_width_bits is None
    assert "nvidia-ml-py version" in gpu.unavailable["memory_bus_width_bits"]
    assert gpu.vram_total_bytes == 24564 * MiB


def test_real_binding_on_this_machine_never_raises():
    # No NVIDIA driver on the test machines: the real pynvml must answer with a reason, not a traceback.
    gpus, status = probe_nvidia()
    if not status.available:
        assert gpus == [] and status.reason


def test_vram_usage_for_live_displays():
    from rigcheck.probe.nvidia import vram_usage_bytes

    assert vram_usage_bytes(SCENARIOS["no_library"]()) is None
    nvml = SCENARIOS["two_mixed_gpus"]()
    assert vram_usage_bytes(nvml) == [((1024 + 346) * MiB, 24564 * MiB), ((300 + 243) * MiB, 12288 * MiB)]
    assert nvml.shutdown_calls == 1
    # The GPU lost at open and the unified GB10 have nothing to plot; readable ones still do.
    assert vram_usage_bytes(SCENARIOS["gpu_lost"]()) == [((1024 + 346) * MiB, 24564 * MiB), ((300 + 243) * MiB, 12288 * MiB)]
    assert vram_usage_bytes(SCENARIOS["unified_memory"]()) == []
