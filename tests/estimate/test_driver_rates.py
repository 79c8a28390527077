"""A GPU with no spec row is estimated from what its driver reports, with the basis "from driver, no spec row".

The per-architecture rates are checked against the spec table: units x boost clock x rate must give the
published figure of a known part of that architecture (boost clocks from TechPowerUp's pages for these parts,
except the H100, whose figure NVIDIA computed at 1830 MHz as ml-engineering works out).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rigcheck.catalog.records import decode_catalog
from rigcheck.catalog.store import embedded_catalog_path
from rigcheck.estimate.driver_rates import NO_SPEC_ROW, driver_compute
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.resolved import device_fp16_flops, resolve_machine
from rigcheck.estimate.types import Settings
from rigcheck.probe.amd import probe_amd
from rigcheck.probe.nvidia import probe_nvidia
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory
from tests.probe.fake_nvml import SCENARIOS

GIB = 2**30
SYSFS = Path(__file__).resolve().parents[1] / "data" / "sysfs"


@pytest.fixture(scope="module")
def catalog():
    return decode_catalog(embedded_catalog_path().read_bytes())


def _row(catalog, name):
    return next(d for d in catalog.devices if d.name == name)


@pytest.mark.parametrize(
    ("row", "vendor", "arch", "units", "clock_mhz", "why"),
    [
        ("NVIDIA H100 SXM", "nvidia", "9.0", 132, 1830, "Hopper: 4 tensor cores x 512 FMA"),
        ("NVIDIA A100 80GB SXM", "nvidia", "8.0", 108, 1410, "GA100: 4 x 256 FMA"),
        ("NVIDIA L40S", "nvidia", "8.9", 142, 2520, "Ada, professional: full-rate FP32 accumulate"),
        ("NVIDIA RTX A6000", "nvidia", "8.6", 84, 1800, "GA102, professional"),
        ("NVIDIA GeForce RTX 4090", "nvidia", "8.9", 128, 2520, "Ada GeForce: FP32 accumulate at half rate"),
        ("NVIDIA GeForce RTX 5090", "nvidia", "12.0", 170, 2407, "Blackwell GeForce: half rate too"),
        ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "nvidia", "12.0", 188, 2617, "Blackwell professional"),
        ("NVIDIA T4", "nvidia", "7.5", 40, 1590, "Turing: 8 tensor cores x 64 FMA"),
        ("NVIDIA V100 SXM2 32GB", "nvidia", "7.0", 80, 1530, "Volta: 8 x 64 FMA"),
        ("NVIDIA Tesla P40", "nvidia", "6.1", 30, 1531, "Pascal GP102: no tensor cores, FP32 shader rate"),
        ("AMD Instinct MI300X", "amd", "gfx942 (CDNA 3)", 304, 2100, "CDNA 3: 2048 per CU per clock"),
        ("AMD Instinct MI210", "amd", "gfx90a (GCN 5 / CDNA)", 104, 1700, "CDNA 2: 1024"),
        ("AMD Instinct MI250X (one GCD)", "amd", "gfx90a (GCN 5 / CDNA)", 110, 1700, "one GCD of an MI250X"),
        ("AMD Instinct MI100", "amd", "gfx908", 120, 1502, "CDNA 1: 1024"),
        ("AMD Radeon RX 7900 XTX", "amd", "gfx1100 (RDNA 3)", 96, 2500, "RDNA 3 WMMA: 512"),
    ],
)
def test_rates_reproduce_the_spec_table(catalog, row, vendor, arch, units, clock_mhz, why):
    device = _row(catalog, row)
    table_flops, _ = device_fp16_flops(device, vendor, device.gpu_cores)
    name = device.name if vendor == "nvidia" else "AMD GPU"
    gpu = (Gpu(index=0, vendor="nvidia", name=name, sm_count=units, sm_clock_max_mhz=clock_mhz, compute_capability=arch)
           if vendor == "nvidia" else
           Gpu(index=0, vendor="amd", name=name, gpu_cores=units, sm_clock_max_mhz=clock_mhz, architecture=arch))
    estimate = driver_compute(gpu)
    assert estimate is not None
    assert estimate.fp16_flops_per_s == pytest.approx(table_flops, rel=0.03), why


@pytest.mark.parametrize(
    "gpu, why",
    [
        (Gpu(index=0, vendor="nvidia", name="NVIDIA X", sm_count=10, compute_capability="8.9"), "no clock"),
        (Gpu(index=0, vendor="nvidia", name="NVIDIA X", sm_count=10, sm_clock_max_mhz=2000,
             compute_capability="99.0"), "an architecture newer than the table"),
        (Gpu(index=0, vendor="amd", name="AMD X", gpu_cores=40, sm_clock_max_mhz=2000), "no gfx target"),
        (Gpu(index=0, vendor="intel", name="Intel X", gpu_cores=32, sm_clock_max_mhz=2000), "no Intel rates"),
    ],
)
def test_missing_driver_facts_give_no_driver_estimate(gpu, why):
    assert driver_compute(gpu) is None, why


def _machine(gpus) -> Machine:
    return Machine(gpus=tuple(gpus), cpu=Cpu(physical_cores=16, max_clock_mhz=5000, isa_flags=("avx2",)),
                   memory=Memory(total_bytes=64 * GIB))


def test_unknown_nvidia_gpu_is_estimated_from_nvml(catalog):
    (gpu,), _ = probe_nvidia(SCENARIOS["unknown_gpu"]())
    resolved = resolve_machine(_machine([gpu]), catalog.devices)
    g = resolved.gpus[0]
    assert g.device is None and g.memory_total_bytes == gpu.vram_total_bytes
    # 192-bit x 14001 MHz x 2 (NVML's effective GDDR7 clock) = 672 GB/s; 70 SMs x 2617 MHz x 1024 = 187.6 TFLOPS.
    assert g.bandwidth_bytes_per_s == pytest.approx(672.0e9, rel=1e-3)
    assert g.fp16_flops_per_s == pytest.approx(70 * 2617e6 * 1024)
    assert g.fp8_flops_per_s == pytest.approx(2 * 70 * 2617e6 * 1024), "Blackwell runs FP8 at twice FP16"
    assert g.bandwidth_source == f"{NO_SPEC_ROW} (192-bit bus x 14001 MHz x 2)"
    assert g.compute_source.startswith(f"{NO_SPEC_ROW}: 70 SMs x 2617 MHz x 1024 FLOP per SM per clock")
    gpu_lines = "\n".join(line for line in resolved.basis if line.startswith("GPU 0"))
    assert f"672 GB/s ({NO_SPEC_ROW}" in gpu_lines and f"187.6 TFLOPS ({NO_SPEC_ROW}" in gpu_lines
    assert "unknown" not in gpu_lines and "assumed" not in gpu_lines


def test_unknown_gpu_gets_speeds_not_blanks(catalog):
    (gpu,), _ = probe_nvidia(SCENARIOS["unknown_gpu"]())
    model = next(m for m in catalog.models if m.id == "Qwen/Qwen3-8B")
    rows = evaluate(_machine([gpu]), catalog, Settings(), models=[model])
    on_gpu = [r for r in rows if r.verdict == "gpu"]
    assert on_gpu and all(r.decode_tokens_per_s.expected > 0 and r.prefill_tokens_per_s.expected > 0 for r in on_gpu)
    assert any(NO_SPEC_ROW in line for line in on_gpu[0].basis)


def test_unknown_geforce_runs_fp32_accumulate_at_half_rate(catalog):
    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 9080", vram_total_bytes=16 * GIB, sm_count=84,
              sm_clock_max_mhz=2600, compute_capability="12.0", memory_bandwidth_bytes_per_s=960e9,
              sources={"memory_bandwidth_bytes_per_s": "driver"})
    g = resolve_machine(_machine([gpu]), catalog.devices).gpus[0]
    assert g.fp16_flops_per_s == pytest.approx(84 * 2600e6 * 512)
    assert g.fp16_acc16_flops_per_s == pytest.approx(84 * 2600e6 * 1024)


def test_unknown_amd_gpu_is_estimated_from_sysfs(catalog, tmp_path):
    # The RX 7900 XTX tree with a product name no row knows: the KFD topology still gives 96 CUs at 2500 MHz
    # and gfx1100; sysfs gives no memory bus width, so bandwidth is the one assumption, and the basis says so.
    root = tmp_path / "sys"
    shutil.copytree(SYSFS / "amd_dgpu", root)
    (root / "class/drm/card0/device/product_name").write_text("AMD Radeon RX 9999 XTX\n")
    gpus, _ = probe_amd(root, runner=lambda argv: None)
    resolved = resolve_machine(_machine(gpus[:1]), catalog.devices)
    g = resolved.gpus[0]
    assert g.device is None
    assert g.fp16_flops_per_s == pytest.approx(96 * 2500e6 * 512)
    assert g.compute_source == f"{NO_SPEC_ROW}: 96 CUs x 2500 MHz x 512 FLOP per CU per clock (gfx1100)"
    assert g.bandwidth_source.startswith(f"{NO_SPEC_ROW}; the driver gives no memory bus width")


def test_unknown_gpu_without_driver_figures_still_gets_estimates(catalog):
    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA Mystery 9000", vram_total_bytes=16 * GIB)
    g = resolve_machine(_machine([gpu]), catalog.devices).gpus[0]
    assert g.device is None and g.fp16_flops_per_s > 0 and g.bandwidth_bytes_per_s > 0
    assert g.compute_source.startswith(NO_SPEC_ROW) and "assumed" in g.compute_source
    assert g.bandwidth_source.startswith(NO_SPEC_ROW) and "assumed" in g.bandwidth_source
