"""The estimator's entry points: ``estimate`` (one model x quant) and ``evaluate`` (a whole catalog).

``evaluate`` resolves the machine once (bandwidths, compute, budgets per runtime) and then runs a
short, allocation-light computation per model x quant row, so a 20,000-row catalog takes a fraction
of a second. Quants whose runtime cannot run on the machine (MLX off Apple silicon, vLLM without an
NVIDIA or AMD Instinct GPU, NVFP4 before Blackwell) are skipped rather than estimated.

Best quant per model: ``best.pick_best`` (quality tiers by bits per weight, usable speed, resident
before spilled; the rule is in that module's docstring).
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable

from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.estimate import memory as mem
from rigcheck.estimate.best import (  # noqa: F401 - the usable limits, re-exported
    USABLE_DECODE_TOKENS_PER_S,
    USABLE_TTFT_S,
    Candidate,
    pick_best,
)
from rigcheck.estimate.efficiency import Efficiency, efficiency_for, weight_class
from rigcheck.estimate.placement import (
    NO_FIT,
    Budget,
    Placement,
    WeightSplit,
    place,
    solve_max_context,
)
from rigcheck.estimate.resolved import (
    GIB,
    RAM_RESERVE_BYTES,
    VRAM_HEADROOM_FRACTION,
    ResolvedMachine,
    resolve_machine,
)
from rigcheck.estimate.speed import (
    TENSOR_PARALLEL_SCALING,
    achieved_bandwidth,
    decode_seconds_per_token,
    is_hbm,
    pcie_stream_seconds,
    prefill_seconds,
)
from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown, Settings
from rigcheck.probe.types import Machine

NVME_BYTES_PER_S = 2.0e9
"""Typical sustained read of an NVMe SSD: load time, shown apart from time to first token."""
FREE_RAM_RESERVE_BYTES = 512 * 1024**2

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
_NOT_MODELLED = ("not modelled: speculative decoding, prompt caching, thermal or power limits, "
                 "other programs using the GPU")


class _RuntimeView:
    """One runtime on one machine: budgets, bandwidth shares and compute, computed once."""

    __slots__ = ("runtime", "backend", "eff", "cpu_eff", "gpu_base_total", "gpu_base_free",
                 "ram_total", "ram_free", "seconds_per_byte", "flops16", "flops8", "flops4", "pcie",
                 "unified", "allow_ram", "lines", "gpus", "ram_seconds_per_byte", "bandwidth",
                 "tensor_parallel", "raw_seconds_per_byte", "ram_bandwidth", "gpu_bands", "gpu_base_sum",
                 "equal_gpus", "free_known", "_descriptions")

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
        self.unified = rm.unified
        self.allow_ram = runtime == "llama.cpp"
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
        total = sum(self.gpu_base_total) or 1.0
        shares = [b / total for b in self.gpu_base_total]
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


    def describe_all_on_gpu(self, budget: Budget, layers: int) -> str:
        """``budget.describe_all_on_gpu(layers)``, formatted once per distinct text on this machine."""
        key = (budget.gpus_used, budget.unified, layers)
        text = self._descriptions.get(key)
        if text is None:
            text = self._descriptions[key] = budget.describe_all_on_gpu(layers)
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
        if quant.format in ("fp8",) and any(
                g.compute_capability is not None and g.compute_capability < 8.0 for g in rm.gpus):
            return "FP8 kernels need an Ampere or newer GPU"
        return None
    return f"unknown runtime {runtime}"


class Estimator:
    """Estimates rows for one machine and one set of settings; build once, call per row."""

    def __init__(self, machine: Machine, devices: list[Device], settings: Settings,
                 flash_attention: bool = True, backend: str | None = None) -> None:
        """``flash_attention``: llama.cpp's -fa (on by default since 2025). ``backend`` overrides the
        llama.cpp backend the GPUs' vendor implies (e.g. "vulkan" instead of "rocm" on AMD)."""
        self.machine = machine
        self.backend = backend
        self.settings = settings
        self.flash_attention = flash_attention
        self.rm = resolve_machine(machine, devices)
        self._views: dict[str, _RuntimeView] = {}
        self._base_basis = self.rm.basis
        self._shapes: dict[str, mem.ModelShape] = {}
        self._runs: dict[tuple, _ModelRun] = {}
        self._runtime_choice: dict[tuple, str | None] = {}

    def view(self, runtime: str) -> _RuntimeView:
        v = self._views.get(runtime)
        if v is None:
            v = self._views[runtime] = _RuntimeView(runtime, self.rm, self.backend, self.flash_attention)
        return v

    def shape(self, model: Model) -> mem.ModelShape:
        s = self._shapes.get(model.id)
        if s is None:
            s = self._shapes[model.id] = mem.model_shape(model)
        return s

    def choose_runtime(self, quant: Quant) -> str | None:
        """The runtime that will run ``quant`` here (the preferred one when it can), or None."""
        runtimes = quant.runtimes
        key = (quant.format, runtimes[0] if len(runtimes) == 1 else tuple(runtimes))
        try:
            return self._runtime_choice[key]
        except KeyError:
            pass
        choice = self._runtime_choice[key] = self._choose_runtime(quant)
        return choice

    def _choose_runtime(self, quant: Quant) -> str | None:
        candidates = tuple(quant.runtimes) or _FORMAT_RUNTIMES.get(quant.format, ("llama.cpp",))
        if self.settings.runtime:
            candidates = tuple(r for r in candidates if r == self.settings.runtime)
        for runtime in candidates:
            if runtime_unavailable_reason(runtime, quant, self.rm) is None:
                return runtime
        return None

    def _model_run(self, shape: mem.ModelShape, runtime: str, prompt_depth_tokens: float,
                   decode_depth_tokens: float | None, ubatch_tokens: int) -> _ModelRun:
        key = (shape.model.id, runtime, prompt_depth_tokens, decode_depth_tokens, ubatch_tokens)
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = _ModelRun(self, shape, self.view(runtime), prompt_depth_tokens,
                                              decode_depth_tokens, ubatch_tokens)
        return run

    def estimate(self, shape: mem.ModelShape, quant: Quant, runtime: str,
                 prompt_depth_tokens: float = 0.0, decode_depth_tokens: float | None = None,
                 ubatch_tokens: int = mem.LLAMA_CPP_UBATCH_TOKENS) -> Estimate:
        """One row. Depths default to the settings: prompt from an empty cache, decode at the prompt's end."""
        return self.estimate_in(self._model_run(shape, runtime, prompt_depth_tokens, decode_depth_tokens,
                                                ubatch_tokens), quant)

    def _row_all_on_gpu(self, run: _ModelRun, quant: Quant, wclass: str, w: float, emb: float,
                        layer_bytes: float, expert: float, gpu_all: float, need_gpu: float) -> Estimate:
        """``estimate_in`` for the common row: every layer on the GPU(s), free memory not asked about.

        The same arithmetic as the general path, in the same order (results are bit-identical), with the
        per-model constants of ``_ModelRun`` (overheads, decode cost terms, bands, prefill) looked up
        instead of recomputed: most of a 20,000-row evaluate is rows of this kind.
        """
        gpus_used = run.fast_gpus_used
        host = emb * run.host_embeddings
        p = Placement(run.all_on_gpu_verdict, run.all_on_gpu_description, need_gpu, host,
                      layer_bytes - expert * run.expert_inactive + emb, 0.0, 1.0, 0.0, gpus_used)
        gpu_side = run.fast_gpu_side
        kv_read = run.kv_read
        gpu_read = p.gpu_read_bytes + kv_read
        spb, fixed_s = run.fast_decode_terms[wclass]
        decode = 1.0 / ((gpu_read + kv_read * run.kv_slowdown_extra) * spb + fixed_s + run.fast_tp_s)
        fmt = quant.format
        t_prefill = run.fast_prefill.get((fmt, wclass))
        if t_prefill is None:
            t_prefill = run.fast_prefill[(fmt, wclass)] = run.prefill_seconds(p, fmt, wclass)
        d_low, d_high, p_low, p_high = run.view.gpu_bands
        roofline = 1.0 / (gpu_read * run.view.raw_seconds_per_byte)
        high = decode * d_high
        if high > roofline:
            high = roofline
        # The memory breakdown and the three bands are built on first access (see _RowEstimate).
        row = _object_new(_RowEstimate)
        _object_setattr(row, "__dict__", {
            "model_id": run.model_id, "quant": quant.name, "runtime": run.view.runtime,
            "verdict": run.all_on_gpu_verdict, "context_tokens": run.ctx,
            "placement": run.all_on_gpu_description, "runs_now": run.fast_runs_now, "best": False,
            "_speeds": (decode, d_low, high, run.n_prompt / t_prefill, p_low, p_high, t_prefill),
            "_memory_parts": (_all_on_gpu_memory, run, w, gpu_side, need_gpu, host),
            "_lazy": (run, quant, wclass, w, gpu_side, p, (gpu_all, w, run.view.gpu_base_total, run.view.ram_total),
                      gpu_read, 0.0)})
        return row

    def estimate_in(self, run: _ModelRun, quant: Quant) -> Estimate:
        """One row, with the model's quant-independent part already computed (``evaluate``'s loop)."""
        v = run.view
        shape = run.shape
        runtime = v.runtime
        model = shape.model
        w = float(quant.file_size_bytes) if quant.file_size_bytes else mem.weights_bytes(shape, quant)
        kv = run.kv
        wclass = _weight_class(quant.name, quant.format)

        # The weight split by role (see _ModelRun: embeddings, output head, layers, routed experts).
        bytes_per_param = w / shape.params_total
        emb = shape.embedding_params * bytes_per_param
        if emb > 0.25 * w:
            emb = 0.25 * w
        layer_bytes = w - emb * run.emb_copies_off_layers
        if layer_bytes < 0.5 * w:
            layer_bytes = 0.5 * w
        expert = shape.expert_params * bytes_per_param
        if expert > layer_bytes:
            expert = layer_bytes
        gpu_all = layer_bytes + emb
        need_gpu = gpu_all + kv
        if need_gpu <= run.fast_gpu_total and need_gpu <= run.fast_free_gpu_total:
            return self._row_all_on_gpu(run, quant, wclass, w, emb, layer_bytes, expert, gpu_all, need_gpu)
        split = None
        decode_cost = (run.decode_cost or run.build_decode_cost())[wclass]
        budget = run.budget_total
        if budget.gpus_used and need_gpu <= budget.gpu_total:
            # The common case, inlined from placement.place: everything on the GPU(s).
            p = Placement(run.all_on_gpu_verdict, run.all_on_gpu_description, need_gpu, emb * run.host_embeddings,
                          layer_bytes - expert * (1.0 - shape.expert_fraction_active) + emb, 0.0, 1.0, 0.0,
                          budget.gpus_used)
        else:
            split = WeightSplit(w, emb * run.host_embeddings, emb, layer_bytes, expert,
                                shape.expert_fraction_active, shape.layers, shape.moe_layers)
            p = place(split, kv, budget, run.ram_overhead, decode_cost)
        bases, ram_base = v.gpu_base_total, v.ram_total
        runs_now = None
        if p is NO_FIT:
            runs_now = False
        elif run.budget_free is not None:
            if split is None:
                split = WeightSplit(w, emb * run.host_embeddings, emb, layer_bytes, expert,
                                    shape.expert_fraction_active, shape.layers, shape.moe_layers)
            now = place(split, kv, run.budget_free, run.ram_overhead, decode_cost)
            runs_now = now.verdict != "no_fit"
            if self.settings.memory_basis == "free":
                p = now  # "can it run now": placed in what is free at the probe
                bases, ram_base = v.gpu_base_free or (), v.ram_free

        verdict = p.verdict
        gpus_used = p.gpus_used
        gpu_overhead, vision = run.gpu_overhead, run.vision
        # RAM-side compute buffer only where layers run on the CPU (gpu+ram, cpu).
        ram_side = run.ram_overhead if verdict == "gpu+ram" or verdict == "cpu" else 0.0
        gpu_side = (gpu_overhead * gpus_used + vision) if gpus_used else 0.0
        overhead = gpu_side + ram_side
        if p is NO_FIT:
            # What it would need: on the GPUs there are, else in RAM.
            n = len(v.gpus)
            overhead = gpu_overhead * n + vision if n else run.ram_overhead
        # The breakdown is built on first access (see _RowEstimate.memory).
        memory_parts = (_placed_memory, run, w, kv, overhead, gpu_side, ram_side, p, bases)
        if p is NO_FIT:
            return _new(_RowEstimate, {
                "model_id": model.id, "quant": quant.name, "runtime": runtime, "verdict": "no_fit",
                "_memory_parts": memory_parts, "context_tokens": run.ctx,
                "_prefill": None, "_decode": None, "_ttft": None,
                "placement": p.description, "runs_now": runs_now, "best": False,
                "_lazy": (run, quant, wclass, w, overhead, p, None, 0.0, 0.0)})

        # Decode at the prompt's depth.
        kv_read = run.kv_read
        kv_gpu = kv_read * p.kv_gpu_fraction
        gpu_read = p.gpu_read_bytes + kv_gpu
        ram_read = p.ram_read_bytes + kv_read * (1.0 - p.kv_gpu_fraction)
        decode = 1.0 / decode_cost(gpu_read + kv_gpu * run.kv_slowdown_extra, ram_read, gpus_used)

        t_prefill = run.prefill_seconds(p, quant.format, wclass)
        prefill = run.n_prompt / t_prefill

        eff = v.eff
        d_low, d_high = eff.decode_band
        p_low, p_high = eff.prefill_band
        if verdict == "gpu+ram" or verdict == "cpu":
            cpu_eff = v.cpu_eff
            d_low, d_high = min(d_low, cpu_eff.decode_band[0]), max(d_high, cpu_eff.decode_band[1])
            p_low, p_high = min(p_low, cpu_eff.prefill_band[0]), max(p_high, cpu_eff.prefill_band[1])
        # The band's top never passes the roofline: every byte read at the full spec bandwidth.
        roofline = 1.0 / (gpu_read * v.raw_seconds_per_byte + ram_read / v.ram_bandwidth)
        high = decode * d_high
        if high > roofline:
            high = roofline
        # The bands are built on first access (see _RowEstimate).
        return _new(_RowEstimate, {
            "model_id": model.id, "quant": quant.name, "runtime": runtime, "verdict": verdict,
            "_memory_parts": memory_parts, "context_tokens": run.ctx,
            "_speeds": (decode, d_low, high, prefill, p_low, p_high, t_prefill),
            "placement": p.description, "runs_now": runs_now, "best": False,
            "_lazy": (run, quant, wclass, w, overhead, p, (gpu_all, w, bases, ram_base), gpu_read, ram_read)})


class _RowEstimate(Estimate):
    """An ``Estimate`` whose basis lines, maximum context, extra fields, memory breakdown and speed bands
    are worked out on first access.

    ``evaluate`` builds tens of thousands of rows of which a screen shows a few dozen; formatting every
    row's basis and building five records per row up front was most of its time. The numbers behind the
    bands are kept raw ("_speeds", read by ``evaluate``'s best-quant pick without building the bands).
    Reading the attributes gives exactly what an eager
    ``Estimate`` would hold; ``to_dict``, equality and ``dataclasses.replace`` see the same values (the
    setters are what the dataclass ``__init__`` of a replaced copy uses).
    """

    def _materialize_speeds(self) -> dict:
        d = self.__dict__
        # Read, not popped: two threads reading a fresh row compute the same bands, neither fails.
        decode, d_low, d_high, prefill, p_low, p_high, t_prefill = d["_speeds"]
        d["_decode"] = _band(decode * d_low, decode, d_high)
        d["_prefill"] = _band(prefill * p_low, prefill, prefill * p_high)
        d["_ttft"] = _band(t_prefill / p_high, t_prefill, t_prefill / p_low)
        return d

    @property
    def decode_tokens_per_s(self) -> Band | None:  # type: ignore[override]
        d = self.__dict__
        return (d if "_decode" in d else self._materialize_speeds())["_decode"]

    @decode_tokens_per_s.setter
    def decode_tokens_per_s(self, value: Band | None) -> None:
        self.__dict__["_decode"] = value

    @property
    def prefill_tokens_per_s(self) -> Band | None:  # type: ignore[override]
        d = self.__dict__
        return (d if "_prefill" in d else self._materialize_speeds())["_prefill"]

    @prefill_tokens_per_s.setter
    def prefill_tokens_per_s(self, value: Band | None) -> None:
        self.__dict__["_prefill"] = value

    @property
    def ttft_s(self) -> Band | None:  # type: ignore[override]
        d = self.__dict__
        return (d if "_ttft" in d else self._materialize_speeds())["_ttft"]

    @ttft_s.setter
    def ttft_s(self, value: Band | None) -> None:
        self.__dict__["_ttft"] = value

    @property
    def memory(self) -> MemoryBreakdown:  # type: ignore[override]
        d = self.__dict__
        m = d.get("_memory")
        if m is None:
            parts = d["_memory_parts"]
            m = d["_memory"] = parts[0](*parts[1:])
        return m

    @memory.setter
    def memory(self, value: MemoryBreakdown) -> None:
        self.__dict__["_memory"] = value

    @property
    def basis(self) -> tuple[str, ...]:  # type: ignore[override]
        d = self.__dict__
        b = d.get("_basis")
        if b is None:
            b = d["_basis"] = _format_basis(*d["_lazy"])
        return b

    @basis.setter
    def basis(self, value: tuple[str, ...]) -> None:
        self.__dict__["_basis"] = value

    @property
    def max_context_tokens(self) -> int | None:  # type: ignore[override]
        d = self.__dict__
        if "_max_ctx" not in d:
            run, _, _, _, _, p, rest, _, _ = d["_lazy"]
            d["_max_ctx"] = None if rest is None else run.max_context(p, *rest)
        return d["_max_ctx"]

    @max_context_tokens.setter
    def max_context_tokens(self, value: int | None) -> None:
        self.__dict__["_max_ctx"] = value

    @property
    def extra(self) -> dict[str, object]:  # type: ignore[override]
        d = self.__dict__
        e = d.get("_extra")
        if e is None:
            lazy = d["_lazy"]
            e = d["_extra"] = ({} if lazy[6] is None else
                               {"decode_gpu_bytes_per_token": int(lazy[7]),
                                "decode_ram_bytes_per_token": int(lazy[8])})
        return e

    @extra.setter
    def extra(self, value: dict[str, object]) -> None:
        self.__dict__["_extra"] = value

    def __getstate__(self) -> dict[str, object]:
        """Copies and pickles carry the worked-out values, not the estimator behind them."""
        self.basis, self.max_context_tokens, self.extra, self.memory, self.ttft_s  # noqa: B018 - materialise
        state = dict(self.__dict__)
        for key in ("_lazy", "_memory_parts", "_speeds"):
            state.pop(key, None)
        return state


def _band(low: float, expected: float, high: float) -> Band:
    band = _object_new(Band)
    _object_setattr(band, "__dict__", {"low": low, "expected": expected, "high": high})
    return band


def _placed_memory(run: _ModelRun, w: float, kv: float, overhead: float, gpu_side: float, ram_side: float,
                   p: Placement, bases: tuple[float, ...]) -> MemoryBreakdown:
    """The memory breakdown of a row placed by ``placement.place`` (estimate_in's general path)."""
    v = run.view
    gpus_used = p.gpus_used
    gpu_overhead, vision = run.gpu_overhead, run.vision
    per_gpu: tuple[int, ...] = ()
    if gpus_used == 1 and len(bases) == 1:
        per_gpu = (int(p.gpu_bytes + gpu_overhead + vision),)
    elif gpus_used and run.equal_gpus and bases is v.gpu_base_total:
        # Identical GPUs (the usual server): an even split, GPU 0 also holds the projector.
        each = int(p.gpu_bytes / gpus_used + gpu_overhead)
        per_gpu = (int(each + vision), *((each,) * (gpus_used - 1)))
    elif gpus_used:
        total_base = (run.gpu_base_sum if bases is v.gpu_base_total else sum(bases)) or 1.0
        per_gpu = tuple(int(p.gpu_bytes * b / total_base + gpu_overhead + (vision if i == 0 else 0.0))
                        for i, b in enumerate(bases))
    return _new(MemoryBreakdown, {
        "weights_bytes": int(w), "kv_cache_bytes": int(kv), "overhead_bytes": int(overhead),
        "gpu_bytes": int(p.gpu_bytes + gpu_side), "ram_bytes": int(p.ram_bytes + ram_side),
        "per_gpu_bytes": per_gpu})


def _all_on_gpu_memory(run: _ModelRun, w: float, gpu_side: float, need_gpu: float, host: float) -> MemoryBreakdown:
    """The memory breakdown of an all-on-GPU row (the fast path's; same expressions as estimate_in's)."""
    gpus_used = run.fast_gpus_used
    mode = run.fast_per_gpu_mode
    if mode == 1:
        per_gpu: tuple[int, ...] = (int(need_gpu + run.gpu_overhead + run.vision),)
    elif mode == 2:
        each = int(need_gpu / gpus_used + run.gpu_overhead)
        per_gpu = (int(each + run.vision), *((each,) * (gpus_used - 1)))
    else:
        total_base = run.gpu_base_sum or 1.0
        gpu_overhead, vision = run.gpu_overhead, run.vision
        per_gpu = tuple(int(need_gpu * b / total_base + gpu_overhead + (vision if i == 0 else 0.0))
                        for i, b in enumerate(run.view.gpu_base_total))
    return _new(MemoryBreakdown, {
        "weights_bytes": int(w), "kv_cache_bytes": int(run.kv), "overhead_bytes": int(gpu_side),
        "gpu_bytes": int(need_gpu + gpu_side), "ram_bytes": int(host), "per_gpu_bytes": per_gpu})


def _format_basis(run: _ModelRun, quant: Quant, wclass: str, w: float, overhead: float, p: Placement,
                  rest, gpu_read: float, ram_read: float) -> tuple[str, ...]:
    v = run.view
    basis_head, kv_line, depth_line, multi_gpu_line = run.lines()
    if quant.file_size_bytes and not quant.size_is_estimate:
        source = "file size"
    else:
        source = f"{mem.bits_per_weight(quant):g} bits per weight x {run.params_b:.1f}B params"
    weights_line = (f"weights {w / GIB:.1f} GiB ({source}); {kv_line}; overhead {overhead / GIB:.2f} GiB; "
                    f"loading them from an NVMe disk takes about {w / NVME_BYTES_PER_S:.0f} s (not in TTFT)")
    if rest is None:
        return (*basis_head[wclass], weights_line, _NO_FIT_LINE, _NOT_MODELLED)
    tail = [weights_line, "placement: " + p.description]
    if p.gpus_used > 1:
        tail.append(multi_gpu_line)
    if p.ram_weight_bytes > 0 and not v.unified:
        tail.append(f"prefill streams {p.ram_weight_bytes / GIB:.1f} GiB of RAM-resident weights over "
                    f"PCIe ({v.pcie / 1e9:.0f} GB/s) per {run.ubatch}-token batch")
    tail.append(depth_line)
    tail.append(_NOT_MODELLED)
    return (*basis_head[wclass], *tail)


_NO_FIT_LINE = "does not fit: needs more memory than the GPU(s) and RAM offer with headroom"


def _new(cls, fields: dict):
    """Build a frozen dataclass record without its __init__ (object.__setattr__ per field): the
    20,000-row evaluate spends most of its time building records otherwise. Every field is given."""
    obj = _object_new(cls)
    _object_setattr(obj, "__dict__", fields)
    return obj


_object_new = object.__new__
_tuple_new = tuple.__new__  # a NamedTuple built without its Python-level __new__ (once per row)
_object_setattr = object.__setattr__


class _ModelRun:
    """Everything about one model on one runtime that does not depend on the quant: context, cache,
    overheads, budgets, decode-cost functions, prefill pieces and basis lines. Built once per model."""

    __slots__ = ("view", "shape", "ctx", "kv_type", "kv", "gpu_overhead", "vision", "ram_overhead",
                 "budget_total", "budget_free", "decode_cost", "kv_read", "n_prompt", "depth", "_lines",
                 "params_b", "_prefill_cache", "_estimator",
                 "prompt_depth", "ubatch", "per_ctx_full", "per_ctx_window", "cb_per_ctx", "gpu_base_sum",
                 "equal_gpus", "kv_slowdown_extra", "emb_copies_off_layers", "host_embeddings",
                 "all_on_gpu_verdict", "all_on_gpu_description", "model_id", "expert_inactive",
                 "fast_gpu_total", "fast_gpus_used", "fast_gpu_side", "fast_per_gpu_mode", "fast_decode_terms",
                 "fast_tp_s", "fast_prefill", "fast_free_gpu_total", "fast_runs_now")

    def __init__(self, estimator: Estimator, shape: mem.ModelShape, v: _RuntimeView, prompt_depth_tokens: float,
                 decode_depth_tokens: float | None, ubatch_tokens: int) -> None:
        settings = estimator.settings
        fa = estimator.flash_attention
        runtime = v.runtime
        self.view = v
        self.shape = shape
        self._estimator = estimator
        self.prompt_depth = prompt_depth_tokens
        self.ubatch = ubatch_tokens
        self.ctx = ctx = mem.context_for(shape, settings.context_tokens)
        kv_type = settings.kv_cache_type
        if runtime != "llama.cpp" and kv_type != "f16":
            kv_type = "q8_0"  # vLLM/MLX quantize the cache to 8 bits (fp8), not 4
        self.kv_type = kv_type
        self.kv = shape.kv_cache_bytes(ctx, kv_type)
        if runtime == "llama.cpp":
            compute_buffer = mem.compute_buffer_bytes(shape, ctx, fa, ubatch_tokens)
            self.gpu_overhead = mem.RUNTIME_CONTEXT_BYTES.get(v.backend, 300 * mem.MIB) + compute_buffer
            self.cb_per_ctx = mem.compute_buffer_bytes_per_context_token(shape, fa, ubatch_tokens)
        else:
            self.gpu_overhead = mem.VLLM_OVERHEAD_BYTES
            self.cb_per_ctx = 0.0
            compute_buffer = mem.compute_buffer_bytes(shape, ctx, fa, ubatch_tokens)
        self.vision = float(shape.model.vision_projector_bytes or 0)
        # The weight file holds the token embeddings and, untied, an output head of the same size; the rest
        # is the repeating layers. llama.cpp keeps the embeddings in host RAM (one row per token is read)
        # and puts the output head (a copy, when tied) on the GPU; vLLM keeps both on the GPU.
        self.host_embeddings = 1.0 if runtime == "llama.cpp" else 0.0
        self.emb_copies_off_layers = 1.0 if shape.tied_embeddings else 2.0
        self.ram_overhead = mem.RUNTIME_CONTEXT_BYTES["cpu"] + compute_buffer
        per = mem.KV_BYTES_PER_ELEMENT[kv_type]
        self.per_ctx_full = shape.kv_elements_full_per_token * per
        self.per_ctx_window = shape.kv_elements_window_per_token * per

        gpu_overhead, vision = self.gpu_overhead, self.vision
        # Per GPU: its usable memory less its own overhead; GPU 0 also holds the vision projector.
        bases = v.gpu_base_total
        self.budget_total = Budget(tuple(b - gpu_overhead - (vision if i == 0 else 0.0) for i, b in enumerate(bases)),
                                   v.ram_total, v.unified, v.allow_ram)
        if v.free_known:
            free = v.gpu_base_free or ()
            self.budget_free = Budget(tuple(b - gpu_overhead - (vision if i == 0 else 0.0) for i, b in enumerate(free)),
                                      v.ram_free, v.unified, v.allow_ram)
        else:
            self.budget_free = None
        self.all_on_gpu_verdict = "unified" if v.unified else "gpu"
        self.all_on_gpu_description = v.describe_all_on_gpu(self.budget_total, shape.layers)
        self.gpu_base_sum = v.gpu_base_sum
        self.equal_gpus = v.equal_gpus

        eff = v.eff
        layers = shape.overhead_layers
        self.decode_cost: dict | None = None  # built by build_decode_cost when a row needs place()

        # Without flash attention the cache is read more slowly than the weights (extra effective bytes).
        self.kv_slowdown_extra = 0.0 if fa or runtime != "llama.cpp" else eff.decode_kv_slowdown_no_fa - 1.0
        depth = min(settings.prompt_tokens, ctx) if decode_depth_tokens is None else decode_depth_tokens
        self.kv_read = shape.kv_read_bytes(depth, kv_type)
        self.n_prompt = max(1, min(settings.prompt_tokens, ctx))
        self.params_b = shape.params_total / 1e9
        self.depth = depth
        self._lines: tuple | None = None
        self._prefill_cache: dict[tuple, float] = {}

        # Constants of the all-on-GPU fast path (Estimator._row_all_on_gpu), each computed by the same
        # expression the general path uses, so both give the same bits. A row takes it when it fits
        # on the GPU(s) in total memory and, where free memory is known, in free memory too ("runs
        # now": True); it is off (a negative room) when rows are placed in free memory.
        self.model_id = shape.model.id
        self.expert_inactive = 1.0 - shape.expert_fraction_active
        budget_total, budget_free = self.budget_total, self.budget_free
        gpus_used = budget_total.gpus_used
        self.fast_gpus_used = gpus_used
        self.fast_gpu_total = (budget_total.gpu_total if gpus_used and (
            budget_free is None or settings.memory_basis != "free") else -1.0)
        self.fast_free_gpu_total = (float("inf") if budget_free is None else
                                    budget_free.gpu_total if budget_free.gpus_used else -1.0)
        self.fast_runs_now = None if budget_free is None else True
        self.fast_gpu_side = (self.gpu_overhead * gpus_used + self.vision) if gpus_used else 0.0
        self.fast_per_gpu_mode = 1 if gpus_used == 1 and len(bases) == 1 else 2 if self.equal_gpus else 3
        decode_gpus = 1 if v.tensor_parallel else gpus_used
        fixed = layers * eff.decode_overhead_s_per_layer + max(0, decode_gpus - 1) * eff.extra_gpu_overhead_s
        spb = v.seconds_per_byte
        self.fast_decode_terms = {"f16": (spb["f16"], fixed), "quant": (spb["quant"], fixed)}
        self.fast_tp_s = shape.layers * eff.tp_allreduce_s_per_layer if v.tensor_parallel else 0.0
        self.fast_prefill: dict[tuple[str, str], float] = {}

    def build_decode_cost(self) -> dict:
        """Seconds per decode token as a function of (GPU bytes, RAM bytes, GPUs used), per weight class:
        what ``placement.place`` weighs the GPU + RAM layouts with. Built on first use."""
        self.decode_cost = costs = {}
        v, shape = self.view, self.shape
        eff, cpu_eff = v.eff, v.cpu_eff
        layers = shape.overhead_layers
        for wc in ("f16", "quant"):
            gpu_spb = v.seconds_per_byte[wc]
            ram_spb = v.ram_seconds_per_byte[wc]
            if v.tensor_parallel:
                # No pipeline hops; one pair of all-reduces per layer instead.
                tp = shape.layers * eff.tp_allreduce_s_per_layer

                def cost(gpu_read: float, ram_read: float, gpus_used: int, gpu_spb=gpu_spb, ram_spb=ram_spb,
                         tp=tp) -> float:
                    return decode_seconds_per_token(gpu_read, gpu_spb, ram_read, ram_spb, eff, cpu_eff, layers, 1) + tp
            else:
                def cost(gpu_read: float, ram_read: float, gpus_used: int, gpu_spb=gpu_spb,
                         ram_spb=ram_spb) -> float:
                    return decode_seconds_per_token(gpu_read, gpu_spb, ram_read, ram_spb, eff, cpu_eff, layers,
                                                    gpus_used)
            costs[wc] = cost
        return costs

    def lines(self) -> tuple[dict[str, tuple[str, ...]], str, str, str]:
        """(basis head per weight class, KV line, depth line, multi-GPU line), formatted on first use."""
        if self._lines is None:
            v, shape, eff = self.view, self.shape, self.view.eff
            head = self._estimator.rm.basis
            basis_head = {wc: (*head, v.lines[wc], *shape.assumptions) for wc in ("f16", "quant")}
            kv_line = f"KV cache {self.kv / GIB:.2f} GiB for {self.ctx:,} tokens ({self.kv_type})"
            depth_line = f"decode at a depth of {int(self.depth):,} tokens; prefill of {self.n_prompt:,} tokens"
            if v.tensor_parallel:
                multi = (f"tensor parallel over {len(v.gpus)} GPUs: bandwidth and compute add at "
                         f"{TENSOR_PARALLEL_SCALING:.0%} per extra GPU; all-reduces cost "
                         f"{eff.tp_allreduce_s_per_layer * 1e6:.0f} us per layer per token")
            else:
                multi = ("layer split over several GPUs is a pipeline: decode does not add bandwidths "
                         f"and each extra GPU adds {eff.extra_gpu_overhead_s * 1e3:.2f} ms per token")
            self._lines = (basis_head, kv_line, depth_line, multi)
        return self._lines

    def max_context(self, p: Placement, gpu_weight_bytes: float, weight_bytes: float, bases: tuple[float, ...],
                    ram_base: float) -> int | None:
        """The longest context that still fits with this placement (the cache grows, nothing else)."""
        shape, ctx, cb = self.shape, self.ctx, self.cb_per_ctx
        gpu_room = sum(bases) - self.gpu_overhead * len(bases) - self.vision
        if p.verdict in ("gpu", "unified"):
            avail = gpu_room - gpu_weight_bytes + cb * ctx * p.gpus_used
            cb_total = cb * p.gpus_used
        elif p.verdict == "gpu+ram":
            avail = gpu_room + ram_base - self.ram_overhead - weight_bytes + cb * ctx * (p.gpus_used + 1)
            cb_total = cb * (p.gpus_used + 1)
        else:
            avail = ram_base - self.ram_overhead - weight_bytes + cb * ctx
            cb_total = cb
        max_ctx = solve_max_context(avail, self.per_ctx_full + cb_total, self.per_ctx_window, shape.window_tokens,
                                    shape.fixed_state_bytes, shape.max_context_tokens)
        if max_ctx is not None and max_ctx < ctx:
            max_ctx = ctx  # it fits at ctx by the placement; the linear solve rounds against it
        return max_ctx

    def prefill_seconds(self, p: Placement, fmt: str, wclass: str) -> float:
        """Seconds to prefill the prompt with this placement.

        The compute part is cached per (verdict, GPUs, format, weight class); the streaming of
        RAM-resident weights over PCIe (a GPU + RAM placement) is added per row, as
        ``speed.prefill_seconds`` adds it."""
        v = self.view
        key = (p.verdict, p.gpus_used, fmt, wclass)
        t = self._prefill_cache.get(key)
        if t is None:
            est = self._estimator
            if p.gpus_used:
                flops = v.flops16
                if fmt == "fp8" and v.flops8:
                    flops = v.flops8
                elif fmt == "nvfp4" and v.flops4:
                    flops = v.flops4
                t = prefill_seconds(self.shape, self.n_prompt, self.prompt_depth, flops, v.eff, wclass,
                                    p.gpus_used if p.verdict == "gpu" and not v.tensor_parallel else 1,
                                    0.0, 0.0, self.ubatch, est.flash_attention, v.bandwidth)
            else:
                t = prefill_seconds(self.shape, self.n_prompt, self.prompt_depth, est.rm.cpu_flops_per_s,
                                    v.cpu_eff, wclass, flash_attention=est.flash_attention,
                                    bandwidth_bytes_per_s=est.rm.ram_bandwidth_bytes_per_s)
            self._prefill_cache[key] = t
        if p.ram_weight_bytes > 0 and p.gpus_used and not v.unified:
            t += pcie_stream_seconds(self.n_prompt, p.ram_weight_bytes, v.pcie, self.ubatch)
        return t


_BITS: dict[tuple[str, float | None], float] = {}


def _bits(quant: Quant) -> float:
    key = (quant.name, quant.bits_per_weight)
    bits = _BITS.get(key)
    if bits is None:
        bits = _BITS[key] = mem.bits_per_weight(quant)
    return bits


_WEIGHT_CLASSES: dict[tuple[str, str], str] = {}


def _weight_class(name: str, fmt: str) -> str:
    key = (name, fmt)
    wc = _WEIGHT_CLASSES.get(key)
    if wc is None:
        wc = _WEIGHT_CLASSES[key] = weight_class(name, fmt)
    return wc


def _candidate(row: Estimate, quant: Quant) -> Candidate:
    decode, ttft = row.decode_tokens_per_s, row.ttft_s
    return Candidate(mem.bits_per_weight(quant), row.verdict, decode.expected if decode is not None else None,
                     ttft.expected if ttft is not None else None)


def _marked_best(row: Estimate) -> Estimate:
    if isinstance(row, _RowEstimate):
        return _new(_RowEstimate, {**row.__dict__, "best": True})
    return dataclasses.replace(row, best=True)


def mark_best(rows: list[Estimate], quants: dict[tuple[str, str], Quant]) -> list[Estimate]:
    """Mark the best row of each model (``best.pick_best``); returns a new list.

    ``quants`` maps (model id, quant name) to the quant record of each row; rows without one are
    never best."""
    by_model: dict[str, tuple[list[int], list[Candidate]]] = {}
    for i, row in enumerate(rows):
        quant = quants.get((row.model_id, row.quant))
        if quant is not None:
            indices, candidates = by_model.setdefault(row.model_id, ([], []))
            indices.append(i)
            candidates.append(_candidate(row, quant))
    out = [dataclasses.replace(r, best=False) if r.best else r for r in rows]
    for indices, candidates in by_model.values():
        pick = pick_best(candidates)
        if pick is not None:
            out[indices[pick]] = _marked_best(out[indices[pick]])
    return out


def evaluate(machine: Machine, catalog: Catalog, settings: Settings,
             models: Iterable[Model] | None = None) -> list[Estimate]:
    """Every model x quant of ``catalog`` (or of ``models``) on ``machine``, best quant per model marked.

    Rows whose runtime cannot run here are left out; a model without a parameter count is left out.
    Never raises for an incomplete model record.
    """
    # Tens of thousands of small records and no reference cycles: the cyclic garbage collector would
    # walk the growing list again and again (a third of the time); it is paused for the loop.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(machine, catalog, settings, models)
    finally:
        if gc_was_enabled:
            gc.enable()


def _evaluate(machine: Machine, catalog: Catalog, settings: Settings,
              models: Iterable[Model] | None) -> list[Estimate]:
    estimator = Estimator(machine, catalog.devices, settings)
    rows: list[Estimate] = []
    wanted = settings.quant
    for model in (catalog.models if models is None else models):
        try:
            shape = estimator.shape(model)
        except mem.ShapeError:
            continue
        runs: dict[str, _ModelRun] = {}
        first = len(rows)
        candidates: list[Candidate] = []
        for quant in model.quants:
            if wanted is not None and quant.name.casefold() != wanted.casefold():
                continue
            runtime = estimator.choose_runtime(quant)
            if runtime is None:
                continue
            run = runs.get(runtime)
            if run is None:
                run = runs[runtime] = estimator._model_run(shape, runtime, 0.0, None, mem.LLAMA_CPP_UBATCH_TOKENS)
            row = estimator.estimate_in(run, quant)
            d = row.__dict__
            speeds = d.get("_speeds")  # read raw, so that the bands stay unbuilt (see _RowEstimate)
            if speeds is not None:
                decode, ttft = speeds[0], speeds[6]
            elif d["_decode"] is not None:
                decode, ttft = d["_decode"].expected, d["_ttft"].expected
            else:
                decode = ttft = None
            candidates.append(_tuple_new(Candidate, (_bits(quant), d["verdict"], decode, ttft)))
            rows.append(row)
        pick = pick_best(candidates)
        if pick is not None:
            rows[first + pick] = _marked_best(rows[first + pick])
    return rows


def estimate(model: Model, quant: Quant, machine: Machine, settings: Settings,
             devices: list[Device]) -> Estimate:
    """How ``model`` in ``quant`` runs on ``machine``.

    Raises ``ValueError`` when the quant's runtime cannot run on this machine (the message says why)
    or the model has no parameter count.
    """
    estimator = Estimator(machine, devices, settings)
    shape = estimator.shape(model)
    runtime = estimator.choose_runtime(quant)
    if runtime is None:
        candidates = tuple(quant.runtimes) or _FORMAT_RUNTIMES.get(quant.format, ("llama.cpp",))
        reasons = "; ".join(f"{r}: {runtime_unavailable_reason(r, quant, estimator.rm) or 'not the chosen runtime'}"
                            for r in candidates)
        raise ValueError(f"{quant.name} of {model.id} cannot run on this machine ({reasons})")
    return estimator.estimate(shape, quant, runtime)


__all__ = ["Efficiency", "Estimator", "estimate", "evaluate", "mark_best", "runtime_unavailable_reason"]
