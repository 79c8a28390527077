"""What the user's own runs on this machine do to its estimates: shown beside them, and a bounded correction.

Each kept run on this machine (same key: ``user_runs.machine_key``) is estimated as it was run (its prompt,
depth, flash attention and batch size, on this machine) and its ratio measured / estimated taken. Runs of
one runtime in one placement class (resident: all on the GPU or unified memory; spilled: GPU + RAM; the
CPU) and one kind (prefill, decode) form a correction:

- factor = the geometric mean of their ratios, bounded to [1/``MAX_FACTOR``, ``MAX_FACTOR``] (a run that
  far off is a different setup, not a calibration: the bound is shown);
- the band around the corrected value narrows to the runs' own spread: half-width ``BAND_FLOOR`` plus the
  largest residual, plus ``BAND_PER_RUN`` / sqrt(N), never wider than the platform band it replaces.

It applies to every row of that runtime and placement class on this machine, with a basis line saying so
("decode corrected by your 2 measurements, ×0.93 ..."); never on another machine (other keys, what-if
machines); ``Measured.apply`` leaves rows alone when there is nothing to apply. Rows of a model and quant
that was measured carry the runs (``extra["measured"]``) with their ratio to the uncorrected estimate.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from rigcheck.catalog.records import Catalog, Model, Quant
from rigcheck.estimate.calibration.user_runs import RunStore, UserRun, load_store, machine_key
from rigcheck.estimate.rules import Thresholds
from rigcheck.estimate.types import Band, Estimate
from rigcheck.probe.types import Machine

MAX_FACTOR = 2.0
BAND_FLOOR = 0.05
BAND_PER_RUN = 0.05
KINDS = ("prefill", "decode")
_PLACEMENT_TEXT = {"resident": "all on the GPU", "spilled": "GPU + RAM", "cpu": "on the CPU"}


def placement_class(verdict: str | None) -> str | None:
    if verdict in ("gpu", "unified"):
        return "resident"
    if verdict == "gpu+ram":
        return "spilled"
    if verdict == "cpu":
        return "cpu"
    return None


@dataclass(frozen=True)
class RunCheck:
    """A run beside its estimate on the machine it ran on (as it was run: its depth, its settings)."""

    run: UserRun
    model_id: str
    verdict: str | None
    estimated_prefill_tokens_per_s: float | None
    estimated_decode_tokens_per_s: float | None
    note: str | None = None

    def ratio(self, kind: str) -> float | None:
        measured = self.run.prefill_tokens_per_s if kind == "prefill" else self.run.decode_tokens_per_s
        estimated = self.estimated_prefill_tokens_per_s if kind == "prefill" else self.estimated_decode_tokens_per_s
        if not measured or not estimated:
            return None
        return measured / estimated

    def to_dict(self) -> dict[str, object]:
        r = self.run
        out: dict[str, object] = {
            "id": r.id, "engine": r.engine, "measured_at": r.measured_at, "prompt_tokens": r.prompt_tokens,
            "prompt_depth_tokens": r.prompt_depth_tokens, "decode_depth_tokens": r.decode_depth_tokens,
            "prefill_tokens_per_s": r.prefill_tokens_per_s, "decode_tokens_per_s": r.decode_tokens_per_s,
            "estimated_prefill_tokens_per_s": _round(self.estimated_prefill_tokens_per_s),
            "estimated_decode_tokens_per_s": _round(self.estimated_decode_tokens_per_s),
            "prefill_ratio": _round(self.ratio("prefill"), 3), "decode_ratio": _round(self.ratio("decode"), 3),
        }
        return out


def _round(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(x, places)


@dataclass(frozen=True)
class Correction:
    """The correction of one kind of speed for one runtime and placement class on one machine."""

    runtime: str
    backend: str
    placement: str
    kind: str
    factor: float
    count: int
    half_width: float
    """Of the band, in log space: the band is factor x [exp(-h), exp(h)]."""
    capped: bool = False
    measured_factor: float = 1.0
    """The runs' own geometric mean, before the bound."""

    def basis_line(self, band_pct: float) -> str:
        plural = "s" if self.count != 1 else ""
        capped = f" (bounded: your runs say ×{self.measured_factor:.2f})" if self.capped else ""
        return (f"{self.kind} corrected by your {self.count} measurement{plural}, ×{self.factor:.2f} "
                f"({self.runtime} {self.backend.upper() if self.backend != 'metal' else 'Metal'}, "
                f"{_PLACEMENT_TEXT[self.placement]}; band now ±{band_pct:.0f}%){capped}")


def check_run(run: UserRun, machine: Machine, catalog: Catalog) -> RunCheck:
    """Estimate ``run`` on ``machine`` as it was run. Never raises: a run that cannot be estimated has no
    estimate and a note."""
    from rigcheck.estimate.estimator import Estimator
    from rigcheck.estimate.memory import ShapeError
    from rigcheck.estimate.types import Settings

    model = _model(run, catalog)
    if model is None:
        return RunCheck(run, run.model_id or run.model_name, None, None, None,
                        "its model is not in the catalog and the run gives no parameter count")
    quant = _quant(run, model)
    prompt = run.prompt_tokens or 512
    context = max(prompt + run.prompt_depth_tokens, int(run.decode_depth_tokens * 2), 512)
    settings = Settings(context_tokens=context, prompt_tokens=prompt)
    backend = run.backend if run.runtime == "llama.cpp" and machine.gpus else None
    estimator = Estimator(machine, catalog.devices, settings, flash_attention=run.flash_attention, backend=backend)
    try:
        shape = estimator.shape(model)
    except ShapeError as exc:
        return RunCheck(run, model.id, None, None, None, str(exc))
    runtime = run.runtime if run.runtime in ("llama.cpp", "vllm", "mlx") else "llama.cpp"
    est = estimator.estimate(shape, quant, runtime, prompt_depth_tokens=run.prompt_depth_tokens,
                             decode_depth_tokens=run.decode_depth_tokens, ubatch_tokens=run.ubatch_tokens)
    prefill = est.prefill_tokens_per_s.expected if est.prefill_tokens_per_s else None
    decode = est.decode_tokens_per_s.expected if est.decode_tokens_per_s else None
    return RunCheck(run, model.id, est.verdict, prefill, decode)


def _model(run: UserRun, catalog: Catalog) -> Model | None:
    from rigcheck.estimate.calibration.matching import generic_model

    if run.model_id:
        model = next((m for m in catalog.models if m.id == run.model_id), None)
        if model is not None:
            return model
    if run.params_b:
        return generic_model(run.model_name or "model", run.params_b, None)
    return None


def _quant(run: UserRun, model: Model) -> Quant:
    from rigcheck.estimate.memory import BITS_PER_WEIGHT

    fmt = "gguf" if run.runtime == "llama.cpp" else ("mlx" if run.runtime == "mlx" else "safetensors")
    name = run.quant or ("Q4_K_M" if fmt == "gguf" else "BF16")
    existing = next((q for q in model.quants if q.name.casefold() == name.casefold()
                     and (q.format == fmt or fmt != "gguf")), None)
    if existing is not None and (run.file_size_bytes is None or existing.file_size_bytes == run.file_size_bytes):
        return existing
    bits = existing.bits_per_weight if existing else BITS_PER_WEIGHT.get(name.upper(), 4.8)
    runtimes = ["llama.cpp"] if fmt == "gguf" else (["mlx"] if fmt == "mlx" else ["vllm"])
    return Quant(name=existing.name if existing else name, format=existing.format if existing else fmt,  # type: ignore[arg-type]
                 bits_per_weight=bits, file_size_bytes=run.file_size_bytes, runtimes=runtimes)  # type: ignore[arg-type]


def corrections_for(checks: list[RunCheck]) -> dict[tuple[str, str, str], Correction]:
    """(runtime, placement class, kind) -> the correction the single-stream runs of ``checks`` give."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    backends: dict[tuple[str, str, str], str] = {}
    for check in checks:
        placement = placement_class(check.verdict)
        if placement is None or not check.run.single_stream:
            continue
        for kind in KINDS:
            ratio = check.ratio(kind)
            if ratio is None or ratio <= 0:
                continue
            key = (check.run.runtime, placement, kind)
            groups.setdefault(key, []).append(math.log(ratio))
            backends[key] = check.run.backend
    out = {}
    for key, logs in groups.items():
        mean = sum(logs) / len(logs)
        bound = math.log(MAX_FACTOR)
        capped = abs(mean) > bound
        factor_log = max(-bound, min(bound, mean))
        spread = max(abs(x - factor_log) for x in logs) if len(logs) > 1 else 0.0
        half = BAND_FLOOR + spread + BAND_PER_RUN / math.sqrt(len(logs))
        out[key] = Correction(key[0], backends[key], key[1], key[2], math.exp(factor_log), len(logs), half, capped,
                              math.exp(mean))
    return out


class Measured:
    """The user's runs on one machine and what they do to that machine's estimates."""

    def __init__(self, machine: Machine, catalog: Catalog, store: RunStore | None = None) -> None:
        self.key = machine_key(machine)
        store = store if store is not None else load_store()
        runs = store.runs_on(self.key)
        self.checks = [check_run(r, machine, catalog) for r in runs]
        self.corrections = corrections_for(self.checks)
        self._by_model: dict[tuple[str, str, str], list[RunCheck]] = {}
        for c in self.checks:
            self._by_model.setdefault((c.model_id, c.run.quant.casefold(), c.run.runtime), []).append(c)

    @property
    def active(self) -> bool:
        return bool(self.checks)

    def measured_for(self, row: Estimate) -> list[RunCheck]:
        return self._by_model.get((row.model_id, row.quant.casefold(), row.runtime), [])

    def apply(self, rows: list[Estimate]) -> list[Estimate]:
        """``rows`` corrected where a correction applies, and carrying their runs; the same list when this
        machine has no runs."""
        if not self.checks:
            return rows
        return [self.apply_one(r) for r in rows]

    def apply_one(self, row: Estimate) -> Estimate:
        measured = self.measured_for(row)
        placement = placement_class(row.verdict)
        prefill_fix = self.corrections.get((row.runtime, placement, "prefill")) if placement else None
        decode_fix = self.corrections.get((row.runtime, placement, "decode")) if placement else None
        if not measured and prefill_fix is None and decode_fix is None:
            return row
        changes: dict[str, object] = {}
        basis = list(row.basis)
        if decode_fix is not None and row.decode_tokens_per_s is not None:
            band, pct = _corrected(row.decode_tokens_per_s, decode_fix)
            changes["decode_tokens_per_s"] = band
            basis.append(decode_fix.basis_line(pct))
        if prefill_fix is not None and row.prefill_tokens_per_s is not None and row.ttft_s is not None:
            band, pct = _corrected(row.prefill_tokens_per_s, prefill_fix)
            changes["prefill_tokens_per_s"] = band
            ttft = row.ttft_s.expected / prefill_fix.factor
            changes["ttft_s"] = Band(ttft * band.expected / band.high, ttft, ttft * band.expected / band.low)
            basis.append(prefill_fix.basis_line(pct))
        extra = dict(row.extra)
        if measured:
            extra["measured"] = [c.to_dict() for c in measured]
        corrections = [c for c in (prefill_fix, decode_fix) if c is not None]
        if corrections:
            extra["correction"] = {c.kind: {"factor": round(c.factor, 3), "measurements": c.count,
                                            "capped": c.capped} for c in corrections}
        return dataclasses.replace(row, basis=tuple(basis), extra=extra, **changes)  # type: ignore[arg-type]


def _corrected(band: Band, fix: Correction) -> tuple[Band, float]:
    """The band scaled by the correction and narrowed to its half-width (never wider than before)."""
    expected = band.expected * fix.factor
    low_mult = max(band.low / band.expected if band.expected else 1.0, math.exp(-fix.half_width))
    high_mult = min(band.high / band.expected if band.expected else 1.0, math.exp(fix.half_width))
    pct = max(1.0 - low_mult, high_mult - 1.0) * 100.0
    return Band(expected * low_mult, expected, expected * high_mult), pct


def validation_report(store: RunStore, catalog: Catalog):
    """The kept runs as a ``validation.ValidationReport``: each run estimated on the machine it was kept with
    (the estimator's error on the user's own machines); runs that cannot be estimated are listed as skipped."""
    from rigcheck.estimate.calibration.measurements import Measurement
    from rigcheck.estimate.calibration.validation import RowResult, ValidationReport, platform_of

    report = ValidationReport()
    for i, run in enumerate(store.runs):
        machine = store.machine(run.machine_key)
        if machine is None:
            report.skipped.append({"row": i, "model": run.model_name, "device": run.device,
                                   "reason": "the machine it ran on was not kept"})
            continue
        check = check_run(run, machine, catalog)
        if check.note:
            report.skipped.append({"row": i, "model": run.model_name, "device": run.device, "reason": check.note})
            continue
        m = Measurement(row=i, engine=run.engine, runtime=run.runtime, backend=run.backend, device=run.device,
                        device_count=1, model=run.model_name, params_b=run.params_b, active_params_b=None,
                        quant=run.quant, file_size_bytes=run.file_size_bytes, prompt_tokens=run.prompt_tokens,
                        prompt_depth_tokens=run.prompt_depth_tokens, decode_depth_tokens=run.decode_depth_tokens,
                        prefill_tokens_per_s=run.prefill_tokens_per_s, decode_tokens_per_s=run.decode_tokens_per_s,
                        batch_size=run.batch_size, flash_attention=run.flash_attention, source=run.id,
                        all_layers_on_gpu=False)
        platform = platform_of(m) if m.backend in ("cuda", "metal", "rocm", "vulkan", "cpu") else run.runtime
        report.rows.append(RowResult(m, check.model_id, run.quant, run.device, check.verdict or "no_fit",
                                     check.estimated_prefill_tokens_per_s, check.estimated_decode_tokens_per_s,
                                     f"{platform} on {run.machine_label}"))
    return report


def with_measured(machine: Machine, catalog: Catalog, rows: list[Estimate],
                  thresholds: Thresholds | None = None) -> list[Estimate]:
    """``rows`` (an ``evaluate`` of ``catalog``) with the user's runs on ``machine`` applied and each model marked
    again by the rules with ``thresholds`` (the settings'; a corrected speed can change what is usable and which
    quant is the pick). The rows as they are for a
    what-if machine, a machine without runs, or an unreadable measurements file (the GUI and reports must
    still show the estimates)."""
    from rigcheck.estimate.calibration.user_runs import StoreError
    from rigcheck.estimate.engine import mark_best

    if machine.is_hypothetical:
        return rows
    try:
        measured = Measured(machine, catalog)
    except StoreError:
        return rows
    if not measured.active:
        return rows
    return mark_best(measured.apply(rows), thresholds)
