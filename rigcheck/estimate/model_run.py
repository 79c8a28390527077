"""One model on one runtime: everything a row needs that does not depend on the quant, computed once.

Context, KV cache, overheads, memory budgets, the decode-cost functions that ``placement.place`` weighs,
the prefill time per placement, the longest context that fits, and the model's basis lines. The
``Estimator`` builds one per model architecture x runtime (fine-tunes of one base model share it) and estimates
every quant of those models against it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rigcheck.estimate import memory as mem
from rigcheck.estimate.engines import VLLM
from rigcheck.estimate.placement import Budget, Placement, solve_max_context
from rigcheck.estimate.resolved import GIB
from rigcheck.estimate.rules import describe_run_context, run_context
from rigcheck.estimate.speed import (
    TENSOR_PARALLEL_SCALING,
    decode_seconds_per_token,
    pcie_stream_seconds,
    prefill_seconds,
)
from rigcheck.estimate.step import single_stream_fixed_seconds

if TYPE_CHECKING:
    from rigcheck.estimate.estimator import Estimator
    from rigcheck.estimate.runtimes import RuntimeView


class ModelRun:
    """Everything about one model on one runtime that does not depend on the quant: context, cache,
    overheads, budgets, decode-cost functions, prefill pieces and basis lines. Built once per architecture (``Estimator.model_run``)."""

    __slots__ = ("view", "shape", "ctx", "kv_type", "kv", "gpu_overhead", "vision", "ram_overhead",
                 "budget_total", "budget_free", "decode_cost", "kv_read", "n_prompt", "depth", "_lines",
                 "params_b", "_prefill_cache", "_rm", "_flash_attention",
                 "prompt_depth", "ubatch", "per_ctx_full", "per_ctx_window", "cb_per_ctx", "gpu_base_sum",
                 "equal_gpus", "kv_slowdown_extra", "emb_copies_off_layers", "host_embeddings", "gpu_embeddings",
                 "duplicated_embeddings",
                 "all_on_gpu_verdict", "all_on_gpu_description", "expert_inactive",
                 "fast_gpu_total", "fast_gpus_used", "fast_gpu_side", "fast_per_gpu_mode", "fast_decode_terms",
                 "fast_tp_s", "fast_prefill", "fast_free_gpu_total", "fast_runs_now", "serving_fixed_s",
                 "context_line", "prompt_too_long")

    def __init__(self, estimator: Estimator, shape: mem.ModelShape, v: RuntimeView, prompt_depth_tokens: float,
                 decode_depth_tokens: float | None, ubatch_tokens: int) -> None:
        settings = estimator.settings
        fa = estimator.flash_attention
        runtime = v.runtime
        self.view = v
        self.shape = shape
        # What it needs of the estimator, not the estimator: that holds every run (``Estimator._runs``), and a
        # reference back would make each run a cycle that only the cyclic collector can free (a fleet report
        # evaluates a thousand machines, and their runs would pile up for it).
        self._rm = estimator.rm
        self._flash_attention = fa
        self.prompt_depth = prompt_depth_tokens
        self.ubatch = ubatch_tokens
        # The context for this prompt (``rules.run_context``): a prompt longer than the setting grows it, a prompt
        # longer than the model's maximum does not fit (``Estimator.estimate_in`` answers no_fit for every quant).
        fitted = run_context(settings.context_tokens, settings.prompt_tokens, shape.max_context_tokens)
        self.ctx = ctx = fitted.tokens
        self.prompt_too_long = not fitted.prompt_fits
        self.context_line = describe_run_context(fitted, settings.context_tokens, settings.prompt_tokens,
                                                 shape.max_context_tokens)
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
        # and puts the output head (a copy, when tied) on the GPU; vLLM and MLX keep every matrix of the file
        # on the GPU, the input table too (held there, though a token reads one row of it). Counted in
        # embedding matrices: in the file, in host RAM, on the GPU beside the layers, and held twice
        # (llama.cpp's GPU copy of a tied matrix: memory the file size does not show).
        self.emb_copies_off_layers = 1.0 if shape.tied_embeddings else 2.0
        self.host_embeddings = 1.0 if runtime == "llama.cpp" else 0.0
        self.gpu_embeddings = 1.0 if runtime == "llama.cpp" else self.emb_copies_off_layers
        self.duplicated_embeddings = self.host_embeddings + self.gpu_embeddings - self.emb_copies_off_layers
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
        self.fast_tp_s = shape.layers * eff.tp_allreduce_s_per_layer if v.tensor_parallel else 0.0
        self.serving_fixed_s: float | None = None
        if v.serving_node is not None:
            # vLLM: the serving step model's batch of one (attention, collectives, engine costs).
            self.serving_fixed_s = fixed = single_stream_fixed_seconds(
                shape, v.serving_node, VLLM, len(v.gpus), "fp8" if kv_type != "f16" else "bf16", depth,
                self.kv_read, spb["f16"])
            self.fast_tp_s = 0.0
        self.fast_decode_terms = {"f16": (spb["f16"], fixed), "quant": (spb["quant"], fixed)}
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
            if self.serving_fixed_s is not None:
                def cost(gpu_read: float, ram_read: float, gpus_used: int, gpu_spb=gpu_spb,
                         fixed=self.serving_fixed_s) -> float:
                    return gpu_read * gpu_spb + fixed
            elif v.tensor_parallel:
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
            head = self._rm.basis
            basis_head = {wc: (*head, v.lines[wc], *shape.assumptions) for wc in ("f16", "quant")}
            kv_line = f"KV cache {self.kv / GIB:.2f} GiB for {self.ctx:,} tokens ({self.kv_type})"
            depth_line = f"decode at a depth of {int(self.depth):,} tokens; prefill of {self.n_prompt:,} tokens"
            if self.context_line and not self.prompt_too_long:
                depth_line = f"{self.context_line}; {depth_line}"
            if v.serving_node is not None and len(v.gpus) > 1:
                ic = v.serving_node.interconnect
                multi = (f"tensor parallel over {len(v.gpus)} GPUs: each reads its slice of every layer; two "
                         f"all-reduces per layer over {ic.name} ({ic.latency_s * 1e6:.1f} us each + bytes at "
                         f"{ic.bytes_per_s / 1e9:,.0f} GB/s); prefill compute adds at "
                         f"{TENSOR_PARALLEL_SCALING:.0%} per extra GPU")
            elif v.tensor_parallel:
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
            rm, fa = self._rm, self._flash_attention
            if p.gpus_used:
                flops = v.flops16
                if fmt == "fp8" and v.flops8:
                    flops = v.flops8
                elif fmt == "nvfp4" and v.flops4:
                    flops = v.flops4
                t = prefill_seconds(self.shape, self.n_prompt, self.prompt_depth, flops, v.eff, wclass,
                                    p.gpus_used if p.verdict == "gpu" and not v.tensor_parallel else 1,
                                    0.0, 0.0, self.ubatch, fa, v.bandwidth)
            else:
                t = prefill_seconds(self.shape, self.n_prompt, self.prompt_depth, rm.cpu_flops_per_s,
                                    v.cpu_eff, wclass, flash_attention=fa,
                                    bandwidth_bytes_per_s=rm.ram_bandwidth_bytes_per_s)
            self._prefill_cache[key] = t
        if p.ram_weight_bytes > 0 and p.gpus_used and not v.unified:
            t += pcie_stream_seconds(self.n_prompt, p.ram_weight_bytes, v.pcie, self.ubatch)
        return t
