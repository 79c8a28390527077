"""Apple Silicon, CPU and RAM on macOS, from recorded sysctl/system_profiler outputs (tests/data/mac)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigcheck.probe.apple import default_gpu_share_bytes, probe_apple
from rigcheck.probe.cpu import probe_cpu
from rigcheck.probe.memory import probe_memory

MAC = Path(__file__).parents[1] / "data" / "mac"
GiB = 1024**3


def recorded(name: str):
    """A runner answering from the recording of one Mac; None for commands it has no file for."""
    folder = MAC / name

    def run(argv):
        stem = "_".join(a for a in argv if a not in ("-n", "-json"))
        for suffix in (".txt", ".json"):
            path = folder / (stem + suffix)
            if path.exists():
                return path.read_text()
        return None

    return run


def no_metal():
    return None


def test_m2_max_stock_uses_the_default_share():
    (gpu,), status = probe_apple(runner=recorded("m2_max_96gb"), metal_working_set=no_metal)
    assert status.available
    assert gpu.vendor == "apple" and gpu.name == "Apple M2 Max"
    assert gpu.gpu_cores == 38 and gpu.unified_memory is True
    assert gpu.architecture == "Metal 3"
    # iogpu.wired_limit_mb is 0 (stock): 3/4 of 96 GiB.
    assert gpu.gpu_usable_memory_bytes == 72 * GiB
    assert gpu.sources["gpu_usable_memory_bytes"] == "spec table"
    assert gpu.vram_total_bytes is None and "unified" in gpu.unavailable["vram_total_bytes"]


def test_m4_max_with_raised_wired_limit():
    (gpu,), _ = probe_apple(runner=recorded("m4_max_128gb"), metal_working_set=no_metal)
    assert gpu.name == "Apple M4 Max" and gpu.gpu_cores == 40
    assert gpu.gpu_usable_memory_bytes == 120 * GiB
    assert gpu.sources["gpu_usable_memory_bytes"] == "os"


def test_metal_working_set_wins_when_pyobjc_answers():
    (gpu,), _ = probe_apple(runner=recorded("m4_max_128gb"), metal_working_set=lambda: 115_448_725_504)
    assert gpu.gpu_usable_memory_bytes == 115_448_725_504
    assert gpu.sources["gpu_usable_memory_bytes"] == "driver"


@pytest.mark.parametrize(
    ("ram_gib", "share_gib"),
    [(16, 16 * 2 / 3), (36, 24), (48, 36), (192, 144)],  # 2/3 up to 36 GB, 3/4 above
)
def test_default_share(ram_gib, share_gib):
    assert default_gpu_share_bytes(ram_gib * GiB) == pytest.approx(share_gib * GiB, abs=1)


def test_intel_mac_or_linux_is_not_apple_silicon():
    gpus, status = probe_apple(runner=lambda argv: "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz\n")
    assert gpus == [] and "not Apple Silicon" in status.reason
    gpus, status = probe_apple(runner=lambda argv: None)
    assert gpus == [] and not status.available


def test_mac_cpu_flags_and_model():
    cpu = probe_cpu(system="Darwin", runner=recorded("m4_max_128gb"))
    assert cpu.model == "Apple M4 Max" and cpu.vendor == "Apple"
    assert {"neon", "dotprod", "i8mm", "bf16", "sme"} <= set(cpu.isa_flags)
    assert cpu.max_clock_mhz is None and "max_clock_mhz" in cpu.unavailable
    m2 = probe_cpu(system="Darwin", runner=recorded("m2_max_96gb"))
    assert "sme" not in m2.isa_flags and "i8mm" in m2.isa_flags


def test_mac_ram_type():
    memory = probe_memory(system="Darwin", runner=recorded("m2_max_96gb"))
    assert memory.ram_type == "LPDDR5" and memory.sources["ram_type"] == "os"
    assert memory.ram_speed_mhz is None  # Apple Silicon does not report it
