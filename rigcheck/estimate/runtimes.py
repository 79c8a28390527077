"""The runtimes on one machine: which one runs a quant here, and what it gets (budgets, bandwidth, compute).

A quant names the runtimes that can run it (else its format does: GGUF on llama.cpp, MLX on mlx, the
rest on vLLM). ``choose_runtime`` takes the first that can run on this machine; ``RuntimeView`` holds
what that runtime sees of the machine, computed once and shared by every row it runs.
"""

from __future__ import annotations

from rigcheck.catalog.records import Quant
from rigcheck.estimate.efficiency import efficiency_for
from rigcheck.estimate.engines import VLLM
from rigcheck.estimate.node import ServingNode, node_from_resolved
from rigcheck.estimate.placement import Budget
from rigcheck.estimate.resolved import RAM_RESERVE_BYTES, VRAM_HEADROOM_FRACTION, ResolvedMachine
from rigcheck.estimate.speed import TENSOR_PARALLEL_SCALING, achieved_bandwidth, is_hbm

FREE_RAM_RESERVE_BYTES = 512 * 1024**2
RAM_RUNTIMES = frozenset({"llama.cpp"})
"""Runtimes that may put weights in host RAM (llama.cpp offloads layers); vLLM and MLX hold them all on the GPU."""

_FORMAT_RUNTIMES = {
    "gguf": ("llama.cpp",),
    "mlx": ("mlx",),
    "safetensors": ("vllm",),
    "fp8": ("vllm",),
    "awq": ("vllm",),
    "gptq": ("vllm",),
    "nvfp4": ("vllm",),
    "mxfp4": ("vllm",),
    "int8": ("vllm",),
}


class RuntimeView:
    """One runtime on one machine: budgets, bandwidth shares and compute, computed once."""

    __slots__ = ("runtime", "backend", "eff", "cpu_eff", "gpu_base_total", "gpu_base_free",
                 "ram_total", "ram_free", "seconds_per_byte", "flops16", "flops8", "flops4", "pcie",
                 "unified", "allow_ram", "lines", "gpus", "ram_seconds_per_byte", "bandwidth",
                 "tensor_parallel", "raw_seconds_per_byte", "ram_bandwidth", "gpu_bands", "gpu_base_sum",
                 "equal_gpus", "free_known", "calibrated", "_descriptions", "serving_node")

    def __init__(self, runtime: str, rm: ResolvedMachine, backend: str | None = None,
                 flash_attention: bool = True) -> None:
        self.runtime = runtime
        gpus = rm.gpus
        self.gpus = gpus
        self.backend = (backend if backend and runtime == "llama.cpp" and gpus else None) or (
            gpus[0].backend if gpus else "cpu")
        vendors = {g.vendor for g in gpus}
        self.eff = efficiency_for(runtime, self.backend, vendors.pop() if len(vendors) == 1 else None)
        self.cpu_eff = efficiency_for("llama.cpp", "cpu")
        self.calibrated = self.eff.calibrated
        self.unified = rm.unified
        self.allow_ram = runtime in RAM_RUNTIMES
        self.gpu_base_total = tuple(
            g.memory_total_bytes * (1.0 if g.unified else 1.0 - VRAM_HEADROOM_FRACTION) for g in gpus)
        if all(g.memory_free_bytes is not None or g.unified for g in gpus) and rm.ram_free_bytes is not None:
            self.gpu_base_free = tuple(
                min(g.memory_free_bytes, g.memory_total_bytes) if not g.unified
                else min(g.memory_total_bytes, rm.ram_free_bytes) for g in gpus)
        else:
            self.gpu_base_free = None
        self.ram_total = float(rm.ram_total_bytes - RAM_RESERVE_BYTES)
        self.ram_free = (float(rm.ram_free_bytes - FREE_RAM_RESERVE_BYTES)
                         if rm.ram_free_bytes is not None else None)
        total = sum(self.gpu_base_total)
        # Each GPU's share of the bytes; GPUs with no memory at all (a profile may say so) share equally.
        shares = [b / total if total > 0 else 1.0 / len(gpus) for b in self.gpu_base_total]
        pairs = list(zip(shares, gpus, strict=True))
        self.seconds_per_byte = {
            wc: sum(s / achieved_bandwidth(g.bandwidth_bytes_per_s, self.eff, wc, is_hbm(g.device)) for s, g in pairs)
            for wc in ("f16", "quant")}
        self.ram_bandwidth = rm.ram_bandwidth_bytes_per_s
        self.ram_seconds_per_byte = {
            wc: 1.0 / (rm.ram_bandwidth_bytes_per_s * self.cpu_eff.decode_bandwidth[wc]) for wc in ("f16", "quant")}
        self.bandwidth = 1.0 / sum(s / g.bandwidth_bytes_per_s for s, g in pairs) if gpus else rm.ram_bandwidth_bytes_per_s
        self.raw_seconds_per_byte = 1.0 / self.bandwidth  # the roofline: spec bandwidth, no overhead
        self.tensor_parallel = runtime == "vllm" and len(gpus) > 1
        if self.tensor_parallel:
            # vLLM splits every layer over the GPUs (tensor parallelism): bandwidth and compute add,
            # at TENSOR_PARALLEL_SCALING per extra GPU; the all-reduces cost time per layer instead.
            scale = 1.0 + TENSOR_PARALLEL_SCALING * (len(gpus) - 1)
            self.seconds_per_byte = {
                wc: 1.0 / (min(achieved_bandwidth(g.bandwidth_bytes_per_s, self.eff, wc, is_hbm(g.device))
                               for g in gpus) * scale)
                for wc in ("f16", "quant")}
            self.bandwidth = min(g.bandwidth_bytes_per_s for g in gpus) * len(gpus)
            self.raw_seconds_per_byte = 1.0 / self.bandwidth
        if gpus:
            # llama.cpp's GEMMs accumulate in FP16 (full rate on GeForce); vLLM's BF16 GEMMs in FP32.
            self.flops16 = 1.0 / sum(s / (g.fp16_acc16_flops_per_s if runtime == "llama.cpp" else g.fp16_flops_per_s)
                                     for s, g in pairs)
        else:
            self.flops16 = rm.cpu_flops_per_s
        self.flops8 = (1.0 / sum(s / g.fp8_flops_per_s for s, g in pairs)
                       if gpus and all(g.fp8_flops_per_s for g in gpus) else None)
        self.flops4 = (1.0 / sum(s / g.fp4_flops_per_s for s, g in pairs)
                       if gpus and all(g.fp4_flops_per_s for g in gpus) else None)
        if self.tensor_parallel:
            scale = 1.0 + TENSOR_PARALLEL_SCALING * (len(gpus) - 1)
            self.flops16 *= scale
            self.flops8 = self.flops8 * scale if self.flops8 else None
            self.flops4 = self.flops4 * scale if self.flops4 else None
        # vLLM decodes as the serving step model's batch of one: each GPU streams its slice of the weights at
        # the engine's share of its bandwidth; collectives and fixed costs come per model (ModelRun).
        self.serving_node: ServingNode | None = None
        if runtime == "vllm" and gpus:
            node = node_from_resolved(rm)
            if isinstance(node, ServingNode):
                self.serving_node = node
                stack = VLLM.rocm_factor if node.backend == "rocm" else 1.0
                spb = 1.0 / (node.bandwidth_bytes_per_s * VLLM.bandwidth_share * stack * len(gpus))
                self.seconds_per_byte = {"f16": spb, "quant": spb}
        self.pcie = min((g.pcie_bytes_per_s for g in gpus), default=0.0)
        self.gpu_bands = (*self.eff.decode_band, *self.eff.prefill_band)  # (decode low, high, prefill low, high)
        self.gpu_base_sum = sum(self.gpu_base_total)
        self.equal_gpus = len(set(self.gpu_base_total)) == 1
        self.free_known = self.ram_free is not None and (self.gpu_base_free is not None or not gpus)
        self._descriptions: dict[tuple[int, bool, int], str] = {}
        ceiling = (f" (at most {self.eff.decode_bandwidth_ceiling / 1e12:.1f} TB/s on HBM)"
                   if self.eff.decode_bandwidth_ceiling and any(is_hbm(g.device) for g in gpus) else "")
        attention = ("" if runtime != "llama.cpp" else
                     "; flash attention on (-fa, the default since 2025)" if flash_attention else
                     "; flash attention off")
        self.lines = {
            wc: (f"{runtime} on {self.backend}{attention}: decode at {self.eff.decode_bandwidth[wc]:.0%} of memory "
                 f"bandwidth{ceiling} + {self.eff.decode_overhead_s_per_layer * 1e6:.0f} us per layer per token; "
                 f"prefill at {self.eff.prefill_compute[wc]:.0%} of the FP16 matrix rate "
                 f"({self.eff.source})")
            for wc in ("f16", "quant")
        }
        if self.serving_node is not None:
            e = VLLM
            decode = (f"vllm on {self.backend}: decode is the serving model's batch of one (docs/serving.md): weights "
                      f"and KV at {e.bandwidth_share:.0%} of memory bandwidth"
                      + (f" x {e.rocm_factor:g} on ROCm" if self.backend == "rocm" else "")
                      + f", {e.step_overhead_s * 1e3:g} ms per step + {e.layer_overhead_s * 1e6:.0f} us per layer")
            self.lines = {wc: f"{decode}; prefill at {self.eff.prefill_compute[wc]:.0%} of the FP16 matrix rate "
                              f"({self.eff.source})" for wc in ("f16", "quant")}

    def describe_all_on_gpu(self, budget: Budget, layers: int) -> str:
        """``budget.describe_all_on_gpu(layers)``, formatted once per distinct text on this machine."""
        key = (budget.gpus_used, budget.unified, layers)
        text = self._descriptions.get(key)
        if text is None:
            text = budget.describe_all_on_gpu(layers)
            if self.tensor_parallel:
                # vLLM splits every layer over the GPUs, it does not hand whole layers to each.
                text = text.replace("(layer split)", "(tensor parallel)")
            self._descriptions[key] = text
        return text


def runtime_unavailable_reason(runtime: str, quant: Quant, rm: ResolvedMachine) -> str | None:
    """Why ``runtime`` cannot run ``quant`` on this machine, or None when it can."""
    if runtime == "llama.cpp":
        return None if quant.format == "gguf" or "llama.cpp" in quant.runtimes else "not a GGUF quant"
    if runtime == "mlx":
        return None if any(g.vendor == "apple" for g in rm.gpus) else "MLX runs only on Apple silicon"
    if runtime == "vllm":
        if not rm.gpus:
            return "vLLM needs a GPU"
        for g in rm.gpus:
            if g.vendor == "apple":
                return "vLLM does not run on Apple GPUs"
            if g.vendor == "amd" and g.kind != "datacenter":
                return "vLLM on AMD needs an Instinct GPU"
            if g.vendor not in ("nvidia", "amd"):
                return f"vLLM does not support {g.vendor} GPUs"
        if quant.format == "nvfp4" and not all(
                g.fp4_flops_per_s or (g.compute_capability or 0) >= 10 for g in rm.gpus):
            return "NVFP4 needs a Blackwell GPU"
        if quant.format in ("fp8",) and _before_ampere(rm):
            return "FP8 kernels need an Ampere or newer GPU"
        if quant.format == "safetensors" and "BF16" in quant.name.upper() and _before_ampere(rm):
            return "BF16 needs an Ampere or newer GPU (vLLM refuses it on Volta and Turing)"
        if quant.format == "mxfp4" and _before_ampere(rm):
            return "MXFP4 kernels need an Ampere or newer GPU"
        return None
    return f"unknown runtime {runtime}"


def _before_ampere(rm: ResolvedMachine) -> bool:
    """Any NVIDIA GPU of compute capability below 8.0 (Volta, Turing, Pascal): no BF16, FP8 or MXFP4 kernels."""
    return any(g.vendor == "nvidia" and g.compute_capability is not None and g.compute_capability < 8.0
               for g in rm.gpus)


def candidate_runtimes(quant: Quant) -> tuple[str, ...]:
    """The runtimes that can run ``quant`` on some machine, preferred first: the quant's own, else its format's."""
    return tuple(quant.runtimes) or _FORMAT_RUNTIMES.get(quant.format, ("llama.cpp",))


def choose_runtime(quant: Quant, rm: ResolvedMachine, wanted: str | None = None) -> str | None:
    """The first of ``candidate_runtimes(quant)`` (only ``wanted``, when given) that can run ``quant`` on
    this machine; None when none can."""
    candidates = candidate_runtimes(quant)
    if wanted:
        candidates = tuple(r for r in candidates if r == wanted)
    for runtime in candidates:
        if runtime_unavailable_reason(runtime, quant, rm) is None:
            return runtime
    return None
