"""Machine resolution: where bandwidth, compute and usable memory come from, and the max-context solve."""

from __future__ import annotations

import pytest

from rigcheck.catalog.records import Device
from rigcheck.estimate.placement import solve_max_context
from rigcheck.estimate.resolved import RAM_RESERVE_BYTES, resolve_machine
from rigcheck.estimate.unified import APPLE_GPU_SHARE
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory
from tests.estimate.records import DEVICES, GIB, H100, M2_ULTRA, RTX_3060, RTX_4090, machine


@pytest.mark.parametrize(
    "device, field, expected, reason",
    [
        (RTX_4090, "fp16_flops_per_s", 165.2e12, "spec-table FP16 tensor rate (FP32 accumulate)"),
        (RTX_4090, "fp16_acc16_flops_per_s", 330.4e12, "GeForce: FP16 accumulate runs at twice that"),
        (H100, "fp16_acc16_flops_per_s", 989e12, "datacenter parts: no doubling"),
        (RTX_3060, "fp16_flops_per_s", 2 * 12.7e12, "no tensor figure: 2x the GeForce shader rate"),
        (M2_ULTRA, "fp16_flops_per_s", 76 * 0.35e12, "Apple: GPU cores x 0.35 TFLOPS"),
        (M2_ULTRA, "memory_total_bytes", int(192 * GIB * APPLE_GPU_SHARE), "Apple: 3/4 of RAM for the GPU"),
        (H100, "fp8_flops_per_s", 1979e12, "FP8 tensor rate where the table has it"),
        (RTX_3060, "fp8_flops_per_s", None, "no FP8 tensor cores"),
    ],
)
def test_resolved_gpu_fields(device, field, expected, reason):
    rm = resolve_machine(machine([device], 192), DEVICES)
    assert getattr(rm.gpus[0], field) == (pytest.approx(expected) if expected is not None else None), reason


def test_driver_figures_win_and_provenance_is_said():
    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 4090", vram_total_bytes=24 * GIB,
              memory_bandwidth_bytes_per_s=1.0e12, sources={"memory_bandwidth_bytes_per_s": "driver"})
    m = Machine(gpus=(gpu,), cpu=Cpu(), memory=Memory(total_bytes=64 * GIB))
    rm = resolve_machine(m, DEVICES)
    assert rm.gpus[0].bandwidth_bytes_per_s == 1.0e12 and rm.gpus[0].bandwidth_source == "driver"
    assert any("1000 GB/s (driver)" in line for line in rm.basis)


def test_unknown_gpu_gets_assumptions_not_a_crash():
    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA Mystery 9000", vram_total_bytes=16 * GIB)
    rm = resolve_machine(Machine(gpus=(gpu,), cpu=Cpu(), memory=Memory(total_bytes=32 * GIB)), DEVICES)
    g = rm.gpus[0]
    assert g.device is None and g.memory_total_bytes == 16 * GIB
    assert "assumed" in g.bandwidth_source and "assumed" in g.compute_source


def test_lost_gpus_are_left_out():
    lost = Gpu(index=1, vendor="nvidia", name="NVIDIA GeForce RTX 4090", lost=True)
    base = machine([RTX_4090])
    m = Machine(gpus=(*base.gpus, lost), cpu=base.cpu, memory=base.memory)
    assert len(resolve_machine(m, DEVICES).gpus) == 1


def test_cpu_bandwidth_is_bounded_by_cores():
    m = machine([], 64, cpu=Cpu(physical_cores=2, max_clock_mhz=3000, isa_flags=("avx2",)))
    rm = resolve_machine(m, DEVICES)
    assert rm.ram_bandwidth_bytes_per_s == 80e9, "a measured figure is kept as it is"
    unmeasured = Machine(gpus=(), cpu=Cpu(physical_cores=2), memory=Memory(total_bytes=64 * GIB, ram_speed_mhz=6000))
    assert resolve_machine(unmeasured, DEVICES).ram_bandwidth_bytes_per_s == 24e9, "2 cores x 12 GB/s"


def test_unified_non_apple_part_keeps_an_os_reserve():
    spark = Device(name="NVIDIA DGX Spark (GB10)", vendor="NVIDIA", kind="apu", memory_bytes=128 * GIB,
                   bandwidth_bytes_per_s=273e9, fp16_vector_tflops=29.7, unified_memory=True)
    gpu = Gpu(index=0, vendor="nvidia", name=spark.name, unified_memory=True)
    rm = resolve_machine(Machine(gpus=(gpu,), cpu=Cpu(), memory=Memory(total_bytes=128 * GIB)), [spark])
    assert rm.unified and rm.gpus[0].memory_total_bytes == 128 * GIB - RAM_RESERVE_BYTES


@pytest.mark.parametrize(
    "avail, full, window_part, window, fixed, model_max, expected, reason",
    [
        (1000 * 100, 100, 0, 0, 0, None, 1000, "plain GQA: room / bytes per token"),
        (1000 * 100, 100, 0, 0, 0, 512, 512, "capped at the model's maximum"),
        (100 * 100, 100, 0, 0, 50_000, None, None, "fixed state leaves room for under 256 tokens"),
        (1000 * 100 + 128 * 100, 100, 100, 128, 0, None, 1000, "window layers stop growing past 128 tokens"),
        (100 * 200, 100, 100, 1000, 0, None, None, "below the window both grow: 100 tokens is under 256"),
        (300 * 200, 100, 100, 1000, 0, None, 300, "below the window both grow"),
    ],
)
def test_solve_max_context(avail, full, window_part, window, fixed, model_max, expected, reason):
    assert solve_max_context(avail, full, window_part, window, fixed, model_max) == expected, reason


def test_m5_gpu_cores_carry_matrix_accelerators():
    m5 = Device(name="Apple M5 Max", vendor="Apple", kind="apple", gpu_cores=40, bandwidth_bytes_per_s=614e9,
                unified_memory=True)
    m4 = Device(name="Apple M4 Max (40-core GPU)", vendor="Apple", kind="apple", gpu_cores=40,
                bandwidth_bytes_per_s=546e9, unified_memory=True)
    fast = resolve_machine(machine([m5], 128), [m5]).gpus[0]
    slow = resolve_machine(machine([m4], 128), [m4]).gpus[0]
    assert fast.fp16_flops_per_s == pytest.approx(3.5 * slow.fp16_flops_per_s)
    assert "neural accelerators" in fast.compute_source
