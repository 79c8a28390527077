"""A machine resolved for estimation: each GPU's usable memory, bandwidth and compute, with provenance.

``resolve_machine`` runs once per machine (not per model row) and turns the probed or hypothetical
``Machine`` into plain numbers the estimator reads in its inner loop. Where the driver did not say,
the catalog's device table fills in (``rigcheck.catalog.devices.resolve_gpu``). A GPU with no spec row is
estimated from what its driver reports (bus width x memory clock, units x clock x the architecture's rate:
``driver_rates``) with the basis "from driver, no spec row"; only what neither knows is assumed, and a basis
line says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rigcheck.catalog.records import Device
from rigcheck.estimate.driver_rates import NO_SPEC_ROW, driver_compute
from rigcheck.estimate.unified import APPLE_GPU_SHARE
from rigcheck.probe.limits import MIN_CLOCK_MHZ
from rigcheck.probe.types import Gpu, Machine

GIB = 1024**3

# Headroom kept free, so a verdict of "fits" leaves the machine usable. VRAM: the display, the
# driver's own allocations and fragmentation take a little; 2% (about 0.5 GiB on a 24 GB card) is what
# llama.cpp users report between nvidia-smi's total and what a model can allocate.
VRAM_HEADROOM_FRACTION = 0.02
# RAM: the OS and a desktop session need a couple of GiB that a model cannot have.
RAM_RESERVE_BYTES = 2 * GIB

# Unified memory: how much of RAM the GPU may use when the probe did not report it (unified.APPLE_GPU_SHARE).
UNIFIED_CPU_BANDWIDTH_SHARE = 0.5
# Other unified parts (GB10, Strix Halo): nearly all of RAM can be mapped (GTT / coherent memory),
# less the OS reserve.

# Compute figures when the device table has no tensor rate. NVIDIA's dense FP16 tensor rate with FP32
# accumulate is 2x the shader FP32 rate on GeForce parts (Ampere/Ada/Blackwell) and 4x on
# workstation/datacenter parts (A6000 154.8 vs 38.7, L40S 362 vs 91.6, A100 312 vs 78).
NVIDIA_TENSOR_OVER_SHADER = {"consumer": 2.0, "laptop": 2.0, "apu": 2.0, "workstation": 4.0, "datacenter": 4.0}
# NVIDIA parts released before Volta (the V100, 21 June 2017) have no tensor cores: their compute is the shader
# rate runtimes use, the larger of FP16 and FP32 (Pascal GP102/GP104, e.g. the Tesla P40, run FP16 at 1/64 of
# FP32, so llama.cpp computes in FP32 there; GP100 runs packed FP16 at twice FP32).
NVIDIA_FIRST_TENSOR_CORE_DATE = "2017-06-21"
# AMD RDNA 4 (RX 9060/9070, Radeon AI PRO R9700): WMMA does 1024 dense FP16 FLOPs per clock per CU, twice
# RDNA 3's 512, whose matrix rate equals the packed shader FP16 figure in the device table. So the matrix
# rate is 2x that figure: RX 9070 XT 64 CU x 1024 x 2.97 GHz = 194.6 TFLOPS, consistent with AMD's
# 1557 INT4 sparse TOPS (8x the FP16 dense rate; purepc.pl and hmc-tech.com spec tables). Checked on the
# held-out RX 9070 XT Vulkan rows (prefill 66% low with the shader rate), never fitted on them.
RDNA4_MATRIX_OVER_SHADER = 2.0
_RDNA4_NAME = re.compile(r"\bRX 9\d{3}\b|\bR9700\b")
# Apple GPU cores: 128 FP32 ALUs x 2 FLOP x ~1.4 GHz = ~0.36 TFLOPS per core (Apple: M1 8-core 2.6 TFLOPS,
# M2 Ultra 76-core 27.2 TFLOPS); FP16 runs at the same rate on M1-M3. The device table leaves Apple
# TFLOPS empty (third-party figures disagree), so this per-core figure is used.
APPLE_FLOPS_PER_CORE = 0.35e12
APPLE_DEFAULT_CORES = 8
# M5 and later put a matrix ("neural") accelerator in every GPU core; Apple quotes over 4x M4's peak GPU
# compute for AI, and MLX reports time to first token about 4x shorter. 3.5x is used for matrix work.
APPLE_NEURAL_ACCELERATOR_FACTOR = 3.5
# PCIe payload bandwidth per lane in bytes/s (after encoding), by generation.
PCIE_BYTES_PER_S_PER_LANE = {3: 0.985e9, 4: 1.969e9, 5: 3.938e9, 6: 7.563e9}
DEFAULT_PCIE_GEN = 4
# When a GPU's bandwidth is unknown (no driver figure, not in the table): a mid-range card's.
UNKNOWN_GPU_BANDWIDTH = 300e9
UNKNOWN_GPU_FLOPS = 20e12
# RAM bandwidth when neither measured nor derivable: dual-channel DDR4-3200 (51 GB/s).
DEFAULT_RAM_BANDWIDTH = 51.2e9
# CPU FP32 FLOPs per cycle per core by widest SIMD (two FMA pipes): AVX-512 2x16x2, AVX2+FMA 2x8x2,
# NEON/SVE128 on big Arm cores 4x4x2; quantized matmul in llama.cpp reaches a fraction of this.
CPU_FLOPS_PER_CYCLE = {"avx512f": 64, "avx2": 32, "neon": 32, None: 16}
DEFAULT_CPU_CORES = 8
# What one core can stream from DRAM (about 10 outstanding 64-byte misses per ~80 ns on current x86
# and Arm cores, 8-16 GB/s in single-thread STREAM): bounds CPU decode on machines with few cores.
CPU_CORE_BANDWIDTH = 12e9
DEFAULT_CPU_CLOCK_HZ = 3.0e9


@dataclass(frozen=True, slots=True)
class ResolvedGpu:
    """One GPU as the estimator sees it: plain numbers in base units, and where each came from."""

    index: int
    name: str
    vendor: str
    backend: str
    """llama.cpp backend: "cuda", "metal", "rocm", "vulkan"."""
    kind: str
    """Device class from the spec table: consumer, workstation, datacenter, apple, apu, laptop, unknown."""
    unified: bool
    memory_total_bytes: int
    """VRAM, or for unified parts the GPU-usable share of RAM; 0 when unknown."""
    memory_free_bytes: int | None
    bandwidth_bytes_per_s: float
    bandwidth_source: str
    fp16_flops_per_s: float
    """Dense FP16 matrix throughput (tensor cores where present, else the shader rate)."""
    fp16_acc16_flops_per_s: float
    """The same with FP16 accumulate (llama.cpp's GEMMs): twice the table figure on GeForce cards."""
    fp8_flops_per_s: float | None
    """Dense FP8 tensor throughput; None on parts without FP8 tensor cores."""
    fp4_flops_per_s: float | None
    compute_source: str
    pcie_bytes_per_s: float
    compute_capability: float | None
    device: Device | None


@dataclass(frozen=True, slots=True)
class ResolvedMachine:
    """A machine reduced to what the estimator needs; built once per machine."""

    gpus: tuple[ResolvedGpu, ...]
    unified: bool
    ram_total_bytes: int
    ram_free_bytes: int | None
    ram_bandwidth_bytes_per_s: float
    ram_bandwidth_source: str
    cpu_flops_per_s: float
    cpu_source: str
    basis: tuple[str, ...]

    @property
    def backend(self) -> str:
        return self.gpus[0].backend if self.gpus else "cpu"

    @property
    def gpu_memory_total_bytes(self) -> int:
        return sum(g.memory_total_bytes for g in self.gpus)


def _backend_for(vendor: str) -> str:
    return {"nvidia": "cuda", "apple": "metal", "amd": "rocm", "intel": "vulkan"}.get(vendor, "vulkan")


def _lookup_device(gpu: Gpu, devices: list[Device]) -> Device | None:
    """The spec-table entry for this GPU, or None when the table does not know it."""
    from rigcheck.catalog.devices import resolve_gpu

    return resolve_gpu(gpu, devices)


def _compute_capability(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _resolve_gpu(gpu: Gpu, devices: list[Device], ram_total_bytes: int, notes: list[str]) -> ResolvedGpu:
    device = _lookup_device(gpu, devices)
    kind = device.kind if device is not None else "unknown"
    unified = gpu.unified_memory or (device is not None and device.unified_memory) or kind in ("apple", "apu")
    label = f"GPU {gpu.index} ({gpu.name})"

    # Memory
    if unified:
        if gpu.gpu_usable_memory_bytes:
            total = gpu.gpu_usable_memory_bytes
            notes.append(f"{label}: GPU-usable share of RAM {total / GIB:.1f} GiB "
                         f"({gpu.sources.get('gpu_usable_memory_bytes', 'driver')})")
        elif gpu.vendor == "apple" or kind == "apple":
            total = int(ram_total_bytes * APPLE_GPU_SHARE)
            notes.append(f"{label}: GPU may use {APPLE_GPU_SHARE:.0%} of RAM ({total / GIB:.1f} GiB), "
                         "macOS default wired limit (assumed)")
        else:
            total = max(0, ram_total_bytes - RAM_RESERVE_BYTES)
            notes.append(f"{label}: unified memory, GPU may map RAM less {RAM_RESERVE_BYTES // GIB} GiB "
                         "for the OS (assumed)")
        free = None
    else:
        total = gpu.vram_total_bytes or (device.memory_bytes if device and device.memory_bytes else 0)
        free = gpu.vram_free_bytes

    # Bandwidth
    if gpu.memory_bandwidth_bytes_per_s:
        bandwidth = float(gpu.memory_bandwidth_bytes_per_s)
        bw_source = gpu.sources.get("memory_bandwidth_bytes_per_s", "driver")
        if device is None:
            bw_source = NO_SPEC_ROW + _bus_detail(gpu)
    elif device is not None and device.bandwidth_bytes_per_s:
        bandwidth = float(device.bandwidth_bytes_per_s)
        bw_source = f"spec table ({device.name})"
    else:
        bandwidth = UNKNOWN_GPU_BANDWIDTH
        bw_source = "unknown; assumed" if device is not None else (
            f"{NO_SPEC_ROW}; the driver gives no memory bus width and clock: "
            f"assumed {UNKNOWN_GPU_BANDWIDTH / 1e9:.0f} GB/s")
    notes.append(f"{label}: memory bandwidth {bandwidth / 1e9:.0f} GB/s ({bw_source})")

    # Compute
    fp8 = fp4 = None
    from_driver = driver_compute(gpu) if device is None else None
    if from_driver is not None:
        fp16, fp16_acc16, fp8 = from_driver.fp16_flops_per_s, from_driver.fp16_acc16_flops_per_s, from_driver.fp8_flops_per_s
        c_source = f"{NO_SPEC_ROW}: {from_driver.how}"
    else:
        fp16, c_source = device_fp16_flops(device, gpu.vendor, gpu.gpu_cores)
        fp16_acc16 = fp16
        if gpu.vendor == "nvidia" and kind in ("consumer", "laptop") and device is not None:
            # GeForce tensor cores run FP16 with FP16 accumulate (what llama.cpp's cuBLAS GEMM and int8 MMQ
            # kernels use) at twice the FP32-accumulate figure the table holds.
            fp16_acc16 = 2 * fp16
        if device is None:
            c_source = f"{NO_SPEC_ROW}; the driver gives no unit count, clock or known architecture: {c_source}"
    if device is not None:
        fp8 = device.fp8_tensor_tflops * 1e12 if device.fp8_tensor_tflops else None
        fp4 = device.fp4_tensor_tflops * 1e12 if device.fp4_tensor_tflops else None
    notes.append(f"{label}: FP16 compute {fp16 / 1e12:.1f} TFLOPS ({c_source})")

    gen = gpu.pcie_gen_max or (device.pcie_gen if device else None) or DEFAULT_PCIE_GEN
    lanes = gpu.pcie_width_max or 16
    pcie = PCIE_BYTES_PER_S_PER_LANE.get(gen, PCIE_BYTES_PER_S_PER_LANE[DEFAULT_PCIE_GEN]) * lanes

    return ResolvedGpu(
        index=gpu.index,
        name=device.name if device is not None else gpu.name,
        vendor=gpu.vendor,
        backend=_backend_for(gpu.vendor),
        kind=kind,
        unified=unified,
        memory_total_bytes=int(total),
        memory_free_bytes=free,
        bandwidth_bytes_per_s=bandwidth,
        bandwidth_source=bw_source,
        fp16_flops_per_s=fp16,
        fp16_acc16_flops_per_s=fp16_acc16,
        fp8_flops_per_s=fp8,
        fp4_flops_per_s=fp4,
        compute_source=c_source,
        pcie_bytes_per_s=pcie,
        compute_capability=_compute_capability(gpu.compute_capability),
        device=device,
    )


def _bus_detail(gpu: Gpu) -> str:
    """How the driver's peak bandwidth was made, when it says: " (384-bit bus x 10501 MHz x 2)"."""
    if gpu.memory_bus_width_bits and gpu.mem_clock_max_mhz:
        return f" ({gpu.memory_bus_width_bits}-bit bus x {gpu.mem_clock_max_mhz} MHz x 2)"
    return ""


def device_fp16_flops(device: Device | None, vendor: str, gpu_cores: int | None = None) -> tuple[float, str]:
    """Dense FP16 matrix throughput of a device (FP32 accumulate) and where the figure comes from."""
    if vendor == "apple" or (device is not None and device.kind == "apple"):
        cores = gpu_cores or (device.gpu_cores if device else None)
        if device is not None and device.fp16_vector_tflops:
            return device.fp16_vector_tflops * 1e12, "spec table FP16 shader rate"
        generation = re.search(r"\bM(\d+)\b", device.name if device is not None else "")
        factor = APPLE_NEURAL_ACCELERATOR_FACTOR if generation and int(generation.group(1)) >= 5 else 1.0
        note = (f" x {factor:g} for the M5 GPU's per-core neural accelerators (Apple: over 4x M4's AI compute; "
                "estimate)" if factor != 1.0 else " (estimate)")
        if cores:
            return cores * APPLE_FLOPS_PER_CORE * factor, f"{cores} GPU cores x 0.35 TFLOPS{note}"
        return (APPLE_DEFAULT_CORES * APPLE_FLOPS_PER_CORE * factor,
                f"assumed {APPLE_DEFAULT_CORES} GPU cores x 0.35 TFLOPS{note}")
    if device is not None and (device.fp16_tensor_tflops or device.bf16_tensor_tflops):
        return (device.fp16_tensor_tflops or device.bf16_tensor_tflops) * 1e12, "spec table FP16 tensor rate"
    if device is not None and device.fp16_vector_tflops:
        if device.vendor.lower() == "amd" and _RDNA4_NAME.search(device.name):
            return (device.fp16_vector_tflops * RDNA4_MATRIX_OVER_SHADER * 1e12,
                    f"RDNA 4 matrix rate estimated as {RDNA4_MATRIX_OVER_SHADER:g}x the spec-table shader FP16 rate")
        if device.vendor.lower() == "nvidia" and (device.release_date or "9") < NVIDIA_FIRST_TENSOR_CORE_DATE:
            rate = max(device.fp16_vector_tflops, device.fp32_vector_tflops or 0.0)
            return rate * 1e12, "no tensor cores (before Volta): the spec-table shader rate runtimes use"
        if device.vendor.lower() == "nvidia":
            factor = NVIDIA_TENSOR_OVER_SHADER.get(device.kind, 2.0)
            return (device.fp16_vector_tflops * factor * 1e12,
                    f"tensor rate estimated as {factor:g}x the spec-table shader rate")
        return device.fp16_vector_tflops * 1e12, "spec table FP16 shader rate"
    if device is not None and device.fp32_vector_tflops:
        return device.fp32_vector_tflops * 1e12, "spec table FP32 shader rate"
    return UNKNOWN_GPU_FLOPS, "unknown; assumed 20 TFLOPS"


def _cpu_flops(machine: Machine) -> tuple[float, str]:
    cpu = machine.cpu
    flags = set(cpu.isa_flags)
    arch = (cpu.architecture or "").lower()
    simd = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else (
        "neon" if "neon" in flags or arch in ("arm64", "aarch64") else None)
    if simd is None and not flags and not arch:
        simd = "avx2"  # CPU not described (a what-if machine): assume a current x86 or Arm core
    cores = cpu.physical_cores or DEFAULT_CPU_CORES
    # A clock the OS misreports below any real one (profiles refuse it: probe.limits.MIN_CLOCK_MHZ) counts as unknown.
    measured = cpu.max_clock_mhz if cpu.max_clock_mhz and cpu.max_clock_mhz >= MIN_CLOCK_MHZ else None
    clock = measured * 1e6 if measured else DEFAULT_CPU_CLOCK_HZ
    flops = cores * clock * CPU_FLOPS_PER_CYCLE[simd]
    known = "" if cpu.physical_cores and measured else " (core count or clock assumed)"
    return flops, f"{cores} cores x {clock / 1e9:.1f} GHz x {CPU_FLOPS_PER_CYCLE[simd]} FLOP/cycle ({simd or 'scalar'}){known}"


def _ram_bandwidth(machine: Machine) -> tuple[float, str]:
    mem = machine.memory
    if mem.bandwidth_bytes_per_s:
        return float(mem.bandwidth_bytes_per_s), mem.sources.get("bandwidth_bytes_per_s", "measured")
    if mem.ram_speed_mhz:
        # Two 64-bit channels is the desktop norm; servers have more and usually report a measurement.
        bw = mem.ram_speed_mhz * 1e6 * 8 * 2
        return bw, f"{mem.ram_speed_mhz} MT/s x 2 channels x 8 bytes (assumed dual channel)"
    return DEFAULT_RAM_BANDWIDTH, "unknown; assumed dual-channel DDR4-3200 (51 GB/s)"


def resolve_machine(machine: Machine, devices: list[Device]) -> ResolvedMachine:
    """Resolve every usable GPU of ``machine`` to effective bandwidth, compute and memory.

    Never raises for missing facts: an unknown figure gets a documented default and a basis line.
    A unified-memory part's bandwidth and compute are the GPU's; its CPU shares the same RAM.
    """
    notes: list[str] = []
    ram_total = machine.memory.total_bytes
    gpus = tuple(_resolve_gpu(g, devices, ram_total, notes) for g in machine.usable_gpus)
    unified = any(g.unified for g in gpus)
    ram_bw, ram_source = _ram_bandwidth(machine)
    if unified and gpus and "measured" not in ram_source:
        # On a unified part the CPU reads the same memory as the GPU, but its cores pull only about
        # half of it (STREAM on M-series Max/Ultra and Strix Halo reaches 40-60% of the GPU's figure).
        ram_bw = gpus[0].bandwidth_bytes_per_s * UNIFIED_CPU_BANDWIDTH_SHARE
        ram_source = (f"unified memory: the CPU reaches about half the GPU's "
                      f"{gpus[0].bandwidth_bytes_per_s / 1e9:.0f} GB/s (assumed)")
    cores = machine.cpu.physical_cores
    if cores and "measured" not in ram_source and cores * CPU_CORE_BANDWIDTH < ram_bw:
        # Each core keeps only so many cache misses in flight: a few cores cannot drain wide memory.
        ram_bw = cores * CPU_CORE_BANDWIDTH
        ram_source += f"; limited to {cores} cores x {CPU_CORE_BANDWIDTH / 1e9:.0f} GB/s"
    cpu_flops, cpu_source = _cpu_flops(machine)
    notes.append(f"RAM {ram_total / GIB:.0f} GiB, bandwidth {ram_bw / 1e9:.0f} GB/s ({ram_source})")
    return ResolvedMachine(
        gpus=gpus,
        unified=unified,
        ram_total_bytes=ram_total,
        ram_free_bytes=machine.memory.available_bytes,
        ram_bandwidth_bytes_per_s=ram_bw,
        ram_bandwidth_source=ram_source,
        cpu_flops_per_s=cpu_flops,
        cpu_source=cpu_source,
        basis=tuple(notes),
    )
