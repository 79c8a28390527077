"""The fit table's rows and the machine summary drawn from them: what runs well, what cannot, and why."""

from __future__ import annotations

from rigcheck import units
from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.types import Estimate
from rigcheck.report.catalog_facts import model_name
from rigcheck.report.inventory import all_unified
from rigcheck.report.records import (
    USABLE_DECODE_TOKENS_PER_S,
    FitRow,
    HostedRow,
    MachineInfo,
    Quality,
    Summary,
    SummaryPick,
    one_row_per_model,
    usable_by_model,
)

SUMMARY_PICKS = 5


def fit_row(
    e: Estimate, model: Model | None, quality: dict[str, Quality], hosted: dict[str, tuple[HostedRow, ...]],
    cache: dict[str, dict[str, object]] | None = None,
) -> FitRow:
    """One row of the fit table: the estimate beside the model's name, size, quality and cheapest hosted offer.

    ``cache`` (a dict the caller keeps for one report) holds what the rows of one model share, worked out once.
    """
    shared = None if cache is None else cache.get(e.model_id)
    if shared is None:
        offers = hosted.get(e.model_id, ())
        shared = {
            "model_id": e.model_id,
            "model_name": model_name(model) if model else e.model_id,
            "params_total_b": model.params_total_b if model else None,
            "params_active_b": model.params_active_b if model else None,
            "quality": quality.get(e.model_id),
            "cheapest_hosted": offers[0] if offers else None,
        }
        if cache is not None:
            cache[e.model_id] = shared
    # Built as the estimator builds its rows (a frozen dataclass's __init__ sets each field through
    # object.__setattr__): a fleet report makes one per model x quant x machine, a million for a thousand.
    row = _object_new(FitRow)
    _object_setattr(row, "__dict__", {**shared, "estimate": e})
    return row


_object_new = object.__new__
_object_setattr = object.__setattr__


def _pick(row: FitRow, reason: str) -> SummaryPick:
    e = row.estimate
    return SummaryPick(
        model_id=row.model_id,
        model_name=row.model_name,
        quant=e.quant,
        verdict=e.verdict,
        decode_tokens_per_s=e.decode_tokens_per_s,
        ttft_s=e.ttft_s,
        needed_bytes=e.memory.total_bytes,
        quality=row.quality,
        reason=reason,
    )


def usable_models(rows: tuple[FitRow, ...], per_model: tuple[FitRow, ...] | None = None,
                  usable_rows: dict[str, FitRow] | None = None) -> list[FitRow]:
    """The models this machine runs at usable speed, most capable first, each at the quant to use.

    A model runs well when any quant of it is usable: the best quant when it is, else the highest-quality
    (largest) usable one, e.g. a smaller quant that keeps decode above the bar. The summary and
    ``probe --format prometheus`` both count and pick from this list."""
    per_model = one_row_per_model(rows) if per_model is None else per_model
    usable_rows = usable_by_model(rows) if usable_rows is None else usable_rows
    return [usable_rows[r.model_id] for r in per_model if r.model_id in usable_rows]


def summarize(
    rows: tuple[FitRow, ...],
    info: MachineInfo,
    catalog: Catalog,
    quality: dict[str, Quality],
    hosted: dict[str, tuple[HostedRow, ...]],
    models_by_id: dict[str, Model],
    per_model: tuple[FitRow, ...] | None = None,
    usable_rows: dict[str, FitRow] | None = None,
) -> Summary:
    """The machine's summary: the most capable models it runs at usable speed, those it cannot (with why),
    and the best hosted alternative. ``per_model`` and ``usable_rows`` are ``one_row_per_model(rows)`` and
    ``usable_by_model(rows)`` when the caller has them already."""
    per_model = one_row_per_model(rows) if per_model is None else per_model
    usable_rows = usable_by_model(rows) if usable_rows is None else usable_rows
    well = usable_models(rows, per_model, usable_rows)
    runs_well = tuple(
        _pick(
            r,
            f"{units.verdict_place(r.estimate.verdict)}, {units.rate_text(r.estimate.decode_tokens_per_s.expected)} tok/s",
        )
        for r in well[:SUMMARY_PICKS]
    )
    capacity = info.vram_total_bytes + (0 if all_unified(info) else info.memory.total_bytes)
    cannot = []
    for r in per_model:
        e = r.estimate
        if r.model_id in usable_rows:
            continue
        if not e.fits:
            reason = f"needs {units.bytes_text(e.memory.total_bytes)} at {e.quant}; has {units.bytes_text(capacity)}"
        else:
            decode = e.decode_tokens_per_s.expected if e.decode_tokens_per_s else None
            reason = f"fits ({units.verdict_place(e.verdict)}) but only {units.rate_text(decode)} tok/s"
            if decode is not None and decode >= USABLE_DECODE_TOKENS_PER_S and e.ttft_s is not None:
                reason = f"fits but first token after {units.seconds_text(e.ttft_s.expected)}"
        cannot.append(_pick(r, reason))
        if len(cannot) >= SUMMARY_PICKS:
            break
    # The best hosted alternative: the highest-quality model this machine cannot run well that has a
    # hosted offer, at its cheapest provider.
    best_hosted = best_name = best_reason = None
    usable_ids = {r.model_id for r in well}
    for r in per_model:
        if r.model_id in usable_ids or not hosted.get(r.model_id):
            continue
        best_hosted = hosted[r.model_id][0]
        best_name = r.model_name
        best_reason = "the most capable model this machine cannot run at usable speed"
        break
    if best_hosted is None and per_model:
        top = next((r for r in per_model if hosted.get(r.model_id)), None)
        if top is not None:
            best_hosted, best_name = hosted[top.model_id][0], top.model_name
            best_reason = "the most capable catalog model with a hosted offer"
    n_fit = sum(1 for r in per_model if r.estimate.fits)
    headline = (
        f"{info.label} runs {len(well)} of {len(per_model)} catalog models at usable speed "
        f"(≥ {USABLE_DECODE_TOKENS_PER_S:.0f} tok/s decode); {n_fit} fit in memory."
    )
    return Summary(headline, runs_well, tuple(cannot), best_hosted, best_name, best_reason)
