"""The estimator proper: one machine and one set of settings, one model x quant row at a time.

``Estimator.estimate_in`` splits a quant's weights by role, places them (all on the GPU(s), or by
``placement.place`` over GPUs and RAM, in total and in free memory), and works out decode and prefill
speed for that placement. Runtimes (``runtimes.RuntimeView``), models (``model_run.ModelRun``) and
shapes are computed once and cached; the row it returns is a ``row.RowEstimate``.

A ``ModelRun`` depends on a model's architecture, not on which model it is: models that differ only in
``IDENTITY_FIELDS`` (the fine-tunes of one base model, which a refreshed catalog holds many of) share one.
"""

from __future__ import annotations

import operator

from rigcheck.catalog.records import Device, Model, Quant
from rigcheck.estimate import memory as mem
from rigcheck.estimate.efficiency import weight_class
from rigcheck.estimate.model_run import ModelRun
from rigcheck.estimate.placement import NO_FIT, Placement, WeightSplit, place
from rigcheck.estimate.resolved import resolve_machine
from rigcheck.estimate.row import RowEstimate, all_on_gpu_memory, new_record, placed_memory
from rigcheck.estimate.rules import prompt_too_long_text
from rigcheck.estimate.runtimes import RuntimeView, choose_runtime
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine

_object_new = object.__new__
_object_setattr = object.__setattr__

IDENTITY_FIELDS = frozenset({"id", "family", "name", "aliases", "license", "release_date", "use_cases", "quants",
                             "sources", "notes"})
"""The fields of a catalog ``Model`` that no estimate reads (who it is, where it comes from, what it is for). Every
other field may change an estimate, a field added later included."""
_architecture = operator.attrgetter(*(f for f in Model.__struct_fields__ if f not in IDENTITY_FIELDS))


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
        self._views: dict[str, RuntimeView] = {}
        self._base_basis = self.rm.basis
        self._shapes: dict[str, mem.ModelShape] = {}
        self._runs: dict[tuple, ModelRun] = {}
        self._arch_keys: dict[str, object] = {}
        self._arch_index: dict[tuple, int] = {}
        self._runtime_choice: dict[tuple, str | None] = {}

    def view(self, runtime: str) -> RuntimeView:
        v = self._views.get(runtime)
        if v is None:
            v = self._views[runtime] = RuntimeView(runtime, self.rm, self.backend, self.flash_attention)
        return v

    def shape(self, model: Model) -> mem.ModelShape:
        s = self._shapes.get(model.id)
        if s is None:
            s = self._shapes[model.id] = mem.model_shape(model)
        return s

    def architecture_key(self, model: Model) -> object:
        """A small key per distinct architecture (``IDENTITY_FIELDS``), worked out once per model."""
        key = self._arch_keys.get(model.id)
        if key is None:
            fields = _architecture(model)
            try:
                key = self._arch_index.setdefault(fields, len(self._arch_index))
            except TypeError:  # an unhashable architecture field: this model shares with none
                key = model.id
            self._arch_keys[model.id] = key
        return key

    def choose_runtime(self, quant: Quant) -> str | None:
        """The runtime that will run ``quant`` here (the preferred one when it can), or None."""
        runtimes = quant.runtimes
        key = (quant.format, runtimes[0] if len(runtimes) == 1 else tuple(runtimes))
        try:
            return self._runtime_choice[key]
        except KeyError:
            pass
        choice = self._runtime_choice[key] = choose_runtime(quant, self.rm, self.settings.runtime)
        return choice

    def model_run(self, shape: mem.ModelShape, runtime: str, prompt_depth_tokens: float,
                   decode_depth_tokens: float | None, ubatch_tokens: int) -> ModelRun:
        """The quant-independent part of a row, shared by models of the same architecture: the run's ``shape``
        may be another such model's (the row's model id is the caller's)."""
        key = (self.architecture_key(shape.model), runtime, prompt_depth_tokens, decode_depth_tokens, ubatch_tokens)
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = ModelRun(self, shape, self.view(runtime), prompt_depth_tokens,
                                              decode_depth_tokens, ubatch_tokens)
        return run

    def estimate(self, shape: mem.ModelShape, quant: Quant, runtime: str,
                 prompt_depth_tokens: float = 0.0, decode_depth_tokens: float | None = None,
                 ubatch_tokens: int = mem.LLAMA_CPP_UBATCH_TOKENS) -> Estimate:
        """One row. Depths default to the settings: prompt from an empty cache, decode at the prompt's end."""
        return self.estimate_in(self.model_run(shape, runtime, prompt_depth_tokens, decode_depth_tokens,
                                                ubatch_tokens), quant, shape.model.id)

    def _row_all_on_gpu(self, run: ModelRun, quant: Quant, model_id: str, wclass: str, w: float, emb: float,
                        layer_bytes: float, expert: float, gpu_all: float, need_gpu: float) -> Estimate:
        """``estimate_in`` for the common row: every layer on the GPU(s), free memory not asked about.

        The same arithmetic as the general path, in the same order (results are bit-identical), with the
        per-model constants of ``ModelRun`` (overheads, decode cost terms, bands, prefill) looked up
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
        # The memory breakdown and the three bands are built on first access (see RowEstimate).
        row = _object_new(RowEstimate)
        _object_setattr(row, "__dict__", {
            "model_id": model_id, "quant": quant.name, "runtime": run.view.runtime,
            "verdict": run.all_on_gpu_verdict, "context_tokens": run.ctx,
            "placement": run.all_on_gpu_description, "runs_now": run.fast_runs_now, "best": False,
            "usable": False, "bits_per_weight": quant_bits(quant), "calibrated": run.view.calibrated,
            "gpu_memory_share": (need_gpu + gpu_side) / run.view.gpu_base_sum if run.view.gpu_base_sum else None,
            "_speeds": (decode, d_low, high, run.n_prompt / t_prefill, p_low, p_high, t_prefill),
            "_memory_parts": (all_on_gpu_memory, run, w, gpu_side, need_gpu, host, emb * run.duplicated_embeddings),
            "_lazy": (run, quant, wclass, w, gpu_side + emb * run.duplicated_embeddings, p,
                      (gpu_all, w + emb * run.duplicated_embeddings, run.view.gpu_base_total, run.view.ram_total),
                      gpu_read, 0.0)})
        return row

    def _row_prompt_too_long(self, run: ModelRun, quant: Quant, model_id: str, wclass: str, w: float,
                             emb: float) -> Estimate:
        """A row of a model whose maximum context is below the prompt: it does not fit on any machine
        (``rules.run_context``); the memory is what it would need at its maximum context."""
        v = run.view
        overhead = _unplaced_overhead(run, emb)
        p = Placement("no_fit", prompt_too_long_text(self.settings.prompt_tokens, run.ctx), 0.0, 0.0, 0.0, 0.0,
                      0.0, 0.0, 0)
        return new_record(RowEstimate, {
            "model_id": model_id, "quant": quant.name, "runtime": v.runtime, "verdict": "no_fit",
            "_memory_parts": (placed_memory, run, w, run.kv, overhead, 0.0, 0.0, p, v.gpu_base_total,
                              v.ram_total),
            "context_tokens": run.ctx, "_prefill": None, "_decode": None, "_ttft": None,
            "placement": p.description, "runs_now": False, "best": False, "usable": False,
            "bits_per_weight": quant_bits(quant), "calibrated": v.calibrated, "gpu_memory_share": None,
            "_lazy": (run, quant, wclass, w, overhead, p, None, 0.0, 0.0)})

    def estimate_in(self, run: ModelRun, quant: Quant, model_id: str) -> Estimate:
        """One row of model ``model_id``, with its quant-independent part already computed (``evaluate``'s loop)."""
        v = run.view
        shape = run.shape
        runtime = v.runtime
        w = float(quant.file_size_bytes) if quant.file_size_bytes else mem.weights_bytes(shape, quant)
        kv = run.kv
        wclass = quant_weight_class(quant.name, quant.format)

        # The weight split by role (see ModelRun: embeddings, output head, layers, routed experts).
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
        gpu_all = layer_bytes + emb * run.gpu_embeddings  # the output head, and for vLLM/MLX the input table too
        need_gpu = gpu_all + kv
        if run.prompt_too_long:
            return self._row_prompt_too_long(run, quant, model_id, wclass, w, emb)
        if need_gpu <= run.fast_gpu_total and need_gpu <= run.fast_free_gpu_total:
            return self._row_all_on_gpu(run, quant, model_id, wclass, w, emb, layer_bytes, expert, gpu_all, need_gpu)
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
                                shape.expert_fraction_active, shape.layers, shape.moe_layers,
                                emb * (run.gpu_embeddings - 1.0))
            p = place(split, kv, budget, run.ram_overhead, decode_cost)
        bases, ram_base = v.gpu_base_total, v.ram_total
        runs_now = None
        if p is NO_FIT:
            runs_now = False
        elif run.budget_free is not None:
            if split is None:
                split = WeightSplit(w, emb * run.host_embeddings, emb, layer_bytes, expert,
                                    shape.expert_fraction_active, shape.layers, shape.moe_layers,
                                    emb * (run.gpu_embeddings - 1.0))
            now = place(split, kv, run.budget_free, run.ram_overhead, decode_cost)
            runs_now = now.verdict != "no_fit"
            if self.settings.memory_basis == "free":
                p = now  # "can it run now": placed in what is free at the probe
                bases, ram_base = v.gpu_base_free or (), v.ram_free

        if p is NO_FIT:
            # What it would need: on the GPUs there are, else in RAM.
            overhead = _unplaced_overhead(run, emb)
            return new_record(RowEstimate, {
                "model_id": model_id, "quant": quant.name, "runtime": runtime, "verdict": "no_fit",
                "_memory_parts": (placed_memory, run, w, kv, overhead, 0.0, 0.0, p, bases, ram_base),
                "context_tokens": run.ctx, "_prefill": None, "_decode": None, "_ttft": None,
                "placement": p.description, "runs_now": runs_now, "best": False,
                "usable": False, "bits_per_weight": quant_bits(quant), "calibrated": v.calibrated,
                "gpu_memory_share": None,
                "_lazy": (run, quant, wclass, w, overhead, p, None, 0.0, 0.0)})
        verdict = p.verdict
        gpus_used = p.gpus_used
        # RAM-side compute buffer only where layers run on the CPU (gpu+ram, cpu).
        ram_side = run.ram_overhead if verdict == "gpu+ram" or verdict == "cpu" else 0.0
        gpu_side = (run.gpu_overhead * gpus_used + run.vision) if gpus_used else 0.0
        overhead = gpu_side + ram_side
        # The breakdown is built on first access (see RowEstimate.memory). The weights held: the file, and
        # llama.cpp's GPU copy of a tied embedding matrix when the output sits on a GPU (counted as overhead).
        duplicate = emb * run.duplicated_embeddings if gpus_used else 0.0
        w_held = w + duplicate
        memory_parts = (placed_memory, run, w, kv, overhead + duplicate, gpu_side, ram_side, p, bases, ram_base)

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
        # The bands are built on first access (see RowEstimate).
        return new_record(RowEstimate, {
            "model_id": model_id, "quant": quant.name, "runtime": runtime, "verdict": verdict,
            "_memory_parts": memory_parts, "context_tokens": run.ctx,
            "_speeds": (decode, d_low, high, prefill, p_low, p_high, t_prefill),
            "placement": p.description, "runs_now": runs_now, "best": False,
            "usable": False, "bits_per_weight": quant_bits(quant), "calibrated": v.calibrated,
            "gpu_memory_share": _share(verdict, p.gpu_bytes + gpu_side, bases),
            "_lazy": (run, quant, wclass, w, overhead + duplicate, p, (gpu_all, w_held, bases, ram_base), gpu_read,
                      ram_read)})


_WEIGHT_CLASSES: dict[tuple[str, str], str] = {}
_BITS: dict[tuple[str, float | None], float] = {}


def quant_bits(quant: Quant) -> float:
    """``memory.bits_per_weight`` of a quant, worked out once per name and stated bits."""
    key = (quant.name, quant.bits_per_weight)
    bits = _BITS.get(key)
    if bits is None:
        bits = _BITS[key] = mem.bits_per_weight(quant)
    return bits


def _unplaced_overhead(run: ModelRun, emb: float) -> float:
    """The overhead of a row that is not placed (it does not fit), as it would be on this machine: with GPUs, each
    GPU's runtime overhead, the vision projector and llama.cpp's GPU copy of a tied embedding matrix (``emb`` bytes)
    beside the host-RAM table, as a placed row holds them; without, the RAM-side runtime and compute buffer."""
    n = len(run.view.gpus)
    if not n:
        return run.ram_overhead
    return run.gpu_overhead * n + run.vision + emb * run.duplicated_embeddings


def _share(verdict: str, gpu_bytes: float, bases: tuple[float, ...]) -> float | None:
    """Share of the GPU memory budget a resident row uses (the pick's headroom test); None when not resident."""
    if verdict != "gpu" and verdict != "unified":
        return None
    total = sum(bases)
    return gpu_bytes / total if total else None


def quant_weight_class(name: str, fmt: str) -> str:
    """``efficiency.weight_class`` of a quant's name and format, worked out once per pair."""
    key = (name, fmt)
    wc = _WEIGHT_CLASSES.get(key)
    if wc is None:
        wc = _WEIGHT_CLASSES[key] = weight_class(name, fmt)
    return wc
