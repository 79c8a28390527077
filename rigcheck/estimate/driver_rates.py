"""Peak compute of a GPU the spec table does not know, from what its driver reports: units x clock x rate.

NVIDIA: NVML gives the SM count (through the CUDA core count), the top SM clock and the compute capability; the
dense FP16 tensor rate per SM per clock follows from the architecture. AMD: the KFD topology gives the compute
units, the top shader clock and the gfx target; the dense FP16 matrix (or packed shader) rate per CU per clock
follows from the gfx family. Each rate reproduces the vendor's published figure for a part of that architecture
at its boost clock (tests/estimate/test_driver_rates.py checks them against the spec table). The driver's top
clock can sit a little above the clock a vendor used for its figure (H100 SXM: 1980 against 1830 MHz), so an
estimate from the driver may run up to ~8% high.
"""

from __future__ import annotations

import re

import msgspec

from rigcheck.probe.limits import MIN_CLOCK_MHZ
from rigcheck.probe.types import Gpu

NO_SPEC_ROW = "from driver, no spec row"
"""The basis of every figure of a GPU whose name matches no row of the device table."""

NVIDIA_FP16_FLOPS_PER_SM_CLOCK: dict[tuple[int, int], int] = {
    # Pascal: no tensor cores. GP100 (6.0) runs packed FP16 at twice its 64 FP32 lanes; GP10x (6.1, 6.2) run
    # FP16 at 1/64 rate, so runtimes compute in FP32 on their 128 lanes. Either way 256 FLOP per clock.
    (6, 0): 256, (6, 1): 256, (6, 2): 256,
    # Volta and Turing: 8 tensor cores x 64 FP16 FMA per clock (V100 80 SMs x 1.53 GHz -> 125 TFLOPS;
    # T4 40 x 1.59 GHz -> 65; Quadro RTX 6000 72 x 1.77 GHz -> 130.5).
    (7, 0): 1024, (7, 2): 1024, (7, 5): 1024,
    # GA100: 4 tensor cores x 256 dense FP16 FMA (A100 108 x 1.41 GHz -> 312). GA10x and Ada: 4 x 128
    # (RTX A6000 84 x 1.8 GHz -> 154.8; L40S 142 x 2.52 GHz -> 366 against 362 published).
    (8, 0): 2048, (8, 6): 1024, (8, 7): 1024, (8, 9): 1024,
    # Hopper: 4 x 512 (H100 SXM 132 x 1.83 GHz -> 989).
    (9, 0): 4096,
    # Blackwell data-centre parts: 4 x 1024 (B200 148 x 1.86 GHz -> 2250).
    (10, 0): 8192, (10, 3): 8192,
    # Blackwell workstation, GeForce and GB10: 4 x 128 (RTX PRO 6000 188 x 2.617 GHz -> 503.8).
    (12, 0): 1024, (12, 1): 1024,
}
"""Dense FP16 FLOPs per SM per clock with FP32 accumulate on professional and data-centre parts (NVIDIA's Volta,
Turing, A100, GA102, Ada, Hopper and Blackwell architecture whitepapers give the per-tensor-core FMA rates)."""

GEFORCE_HALF_RATE_CC = {(7, 5), (8, 6), (8, 9), (12, 0)}
"""Architectures whose GeForce boards run FP16 with FP32 accumulate at half the tensor rate (RTX 4090 128 SMs x
2.52 GHz x 512 -> 165.2); FP16 accumulate, which llama.cpp's kernels use, keeps the full rate."""

FP8_FROM_CC = (8, 9)
"""Ada, Hopper and Blackwell tensor cores run dense FP8 at twice their FP16 rate."""

AMD_FP16_FLOPS_PER_CU_CLOCK: dict[str, int] = {
    # GCN 5 (Vega, MI50/MI60): packed FP16 on 64 lanes.
    "gfx900": 256, "gfx906": 256,
    # CDNA 1 and 2: matrix cores at 1024 FLOP per CU per clock (MI100 120 CUs x 1.502 GHz -> 184.6;
    # MI210 104 x 1.7 GHz -> 181; MI250X 220 x 1.7 GHz -> 383).
    "gfx908": 1024, "gfx90a": 1024,
    # CDNA 3: 2048 (MI300X 304 x 2.1 GHz -> 1307.4). CDNA 4: 4096 (MI355X 256 x 2.4 GHz -> 2516, 2500 published).
    "gfx940": 2048, "gfx941": 2048, "gfx942": 2048, "gfx950": 4096,
}
AMD_FP16_FLOPS_PER_CU_CLOCK_BY_FAMILY: dict[str, int] = {
    # RDNA 1 and 2: no matrix units; packed FP16 on 64 lanes (RX 6800 XT 72 x 2.25 GHz -> 41.5).
    "gfx101": 256, "gfx103": 256,
    # RDNA 3 and 3.5: WMMA at 512 (RX 7900 XTX 96 x 2.5 GHz -> 122.9; Radeon 8060S 40 x 2.9 GHz -> 59.4).
    "gfx110": 512, "gfx115": 512,
    # RDNA 4: WMMA at 1024 (see RDNA4_MATRIX_OVER_SHADER in resolved.py).
    "gfx120": 1024,
}
"""Dense FP16 matrix (or packed shader) FLOPs per CU per clock by gfx target, then by family (the target less its
last digit)."""

AMD_FP8_TARGETS = {"gfx940", "gfx941", "gfx942", "gfx950"}
"""CDNA 3 and 4 run dense FP8 at twice their FP16 rate."""

_GFX_RE = re.compile(r"\bgfx([0-9a-f]{3,4})\b")


class DriverCompute(msgspec.Struct, frozen=True):
    """Peak dense compute estimated from a driver's counts and clocks, and the sentence that says how."""

    fp16_flops_per_s: float
    """FP16 with FP32 accumulate (the figure spec sheets give)."""
    fp16_acc16_flops_per_s: float
    fp8_flops_per_s: float | None
    how: str


def _compute_capability(text: str | None) -> tuple[int, int] | None:
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def _nvidia(gpu: Gpu) -> DriverCompute | None:
    cc = _compute_capability(gpu.compute_capability)
    rate = NVIDIA_FP16_FLOPS_PER_SM_CLOCK.get(cc) if cc else None
    if not (rate and gpu.sm_count and (gpu.sm_clock_max_mhz or 0) >= MIN_CLOCK_MHZ):
        return None
    geforce = "geforce" in gpu.name.lower() and cc in GEFORCE_HALF_RATE_CC
    acc32_rate = rate // 2 if geforce else rate
    per_s = gpu.sm_count * gpu.sm_clock_max_mhz * 1e6
    fp8 = 2 * rate * per_s if cc >= FP8_FROM_CC else None
    board = ", GeForce: FP32 accumulate at half rate" if geforce else ""
    how = (f"{gpu.sm_count} SMs x {gpu.sm_clock_max_mhz} MHz x {acc32_rate} FLOP per SM per clock "
           f"(compute capability {cc[0]}.{cc[1]}{board})")
    return DriverCompute(acc32_rate * per_s, rate * per_s, fp8, how)


def _amd(gpu: Gpu) -> DriverCompute | None:
    match = _GFX_RE.search((gpu.architecture or "").lower())
    if not (match and gpu.gpu_cores and (gpu.sm_clock_max_mhz or 0) >= MIN_CLOCK_MHZ):
        return None
    target = f"gfx{match.group(1)}"
    rate = AMD_FP16_FLOPS_PER_CU_CLOCK.get(target) or AMD_FP16_FLOPS_PER_CU_CLOCK_BY_FAMILY.get(target[:-1])
    if not rate:
        return None
    flops = gpu.gpu_cores * gpu.sm_clock_max_mhz * 1e6 * rate
    fp8 = 2 * flops if target in AMD_FP8_TARGETS else None
    how = f"{gpu.gpu_cores} CUs x {gpu.sm_clock_max_mhz} MHz x {rate} FLOP per CU per clock ({target})"
    return DriverCompute(flops, flops, fp8, how)


def driver_compute(gpu: Gpu) -> DriverCompute | None:
    """Peak dense FP16 compute from the driver's unit count, top clock and architecture.

    Returns None when the driver did not report one of them, or for an architecture without a known rate
    (Intel, Apple, a compute capability or gfx target newer than this table).
    """
    if gpu.vendor == "nvidia":
        return _nvidia(gpu)
    if gpu.vendor == "amd":
        return _amd(gpu)
    return None
