"""The fit table's rows and the machine summary drawn from them: what runs usably, what cannot, and why, and the
one-line answer at the top of the report."""

from __future__ import annotations

from collections.abc import Sequence

from rigcheck import units
from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.rules import why_not_usable
from rigcheck.estimate.tally import ModelTally, tally
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.report.catalog_facts import model_name
from rigcheck.report.inventory import all_unified
from rigcheck.report.records import (
    Capability,
    FitRow,
    HostedRow,
    MachineInfo,
    PlanSection,
    Summary,
    SummaryPick,
    one_row_per_model,
)

SUMMARY_PICKS = 5


def fit_row(
    e: Estimate, model: Model | None, capability: dict[str, Capability], hosted: dict[str, tuple[HostedRow, ...]],
    cache: dict[str, dict[str, object]] | None = None,
) -> FitRow:
    """One row of the fit table: the estimate beside the model's name, size, capability and cheapest hosted offer.

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
            "capability": capability.get(e.model_id),
            "cheapest_hosted": offers[0] if offers and (offers[0].usd_per_m_input or offers[0].usd_per_m_output)
            else None,
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


def usable_models(per_model: Sequence[FitRow]) -> list[FitRow]:
    """The models this machine runs usably, at their picks, in the rules' order (``per_model`` is
    ``one_row_per_model``'s answer). The summary and ``probe --format prometheus`` count and pick from it."""
    return [r for r in per_model if r.usable]


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
        capability=row.capability,
        reason=reason,
    )


def summarize(
    rows: tuple[FitRow, ...],
    info: MachineInfo,
    catalog: Catalog,
    settings: Settings,
    hosted: dict[str, tuple[HostedRow, ...]],
    per_model: tuple[FitRow, ...] | None = None,
) -> Summary:
    """The machine's summary: the most capable models it runs usably (their picks), those it cannot (with why), the
    best hosted alternative, and counts that add up to the catalog's. ``per_model``: ``one_row_per_model(rows)``
    when the caller has it."""
    per_model = one_row_per_model(rows) if per_model is None else per_model
    well = usable_models(per_model)
    runs_well = tuple(
        _pick(r, f"{units.verdict_place(r.estimate.verdict)}, {units.rate_text(r.estimate.decode_tokens_per_s.expected)} tok/s")
        for r in well[:SUMMARY_PICKS]
    )
    unified = all_unified(info)
    cannot = []
    for r in (r for r in per_model if not r.usable):
        e = r.estimate
        if not e.fits and e.placement.startswith("does not fit:"):  # not memory: the prompt is too long for it
            reason = e.placement
        elif not e.fits:
            room = units.room_text(e.memory.budget_bytes, info.vram_total_bytes, info.memory.total_bytes, unified)
            reason = f"needs {units.bytes_text(e.memory.total_bytes)} at {e.quant}; has {room}"
        else:
            reason = f"fits ({units.verdict_place(e.verdict)}) but {why_not_usable(e, settings.usable)}"
        cannot.append(_pick(r, reason))
        if len(cannot) >= SUMMARY_PICKS:
            break
    # The best hosted alternative: the most capable model this machine cannot run usably that has a priced hosted
    # offer, at its cheapest provider.
    best_hosted = best_name = best_reason = None
    for r in sorted(per_model, key=_capable_first):
        if r.usable or r.cheapest_hosted is None:
            continue
        best_hosted, best_name = r.cheapest_hosted, r.model_name
        best_reason = "the most capable model this machine cannot run usably"
        break
    if best_hosted is None:
        top = next((r for r in sorted(per_model, key=_capable_first) if r.cheapest_hosted), None)
        if top is not None:
            best_hosted, best_name = top.cheapest_hosted, top.model_name
            best_reason = "the most capable catalog model with a hosted offer"
    counts = model_tally(per_model, catalog)
    headline = (
        f"{info.label} runs {counts.usable} of the catalog's {counts.total} models usably "
        f"({settings.usable.describe()} for a {units.tokens_text(settings.prompt_tokens)}-token prompt); "
        f"{counts.fitting} fit in memory, {counts.no_fit} do not"
        + (f", {counts.not_estimated} cannot be estimated (the catalog lacks their size or architecture)"
           if counts.not_estimated else "") + "."
    )
    return Summary(headline, runs_well, tuple(cannot), best_hosted, best_name, best_reason,
                   catalog_models=counts.total, usable_models=counts.usable, fitting_models=counts.fitting,
                   unestimated_models=counts.not_estimated)


def model_tally(per_model: Sequence[FitRow], catalog: Catalog) -> ModelTally:
    """The catalog's models by what this machine does with them (``estimate.tally``, as ``fit`` and the GUI count
    them); ``per_model``: ``one_row_per_model``'s answer."""
    return tally(((r.estimate.fits, r.usable) for r in per_model), len(catalog.models))


def _capable_first(row: FitRow) -> tuple[float, float, str]:
    """Capability first (unscored after), larger first: the order in which to ask "what cannot it run?"."""
    return (-(row.capability.value if row.capability else -1.0), -(row.params_total_b or 0.0), row.model_id)


def answer_model(rows: tuple[FitRow, ...]) -> FitRow | None:
    """The model the one-line answer is about: the most capable one this machine does not run usably (None when it
    runs every model, or there are none)."""
    return next((r for r in sorted(one_row_per_model(rows), key=_capable_first) if not r.usable), None)


def one_line_answer(row: FitRow, plan: PlanSection | None, settings: Settings) -> str:
    """"To run X at 32k context at ≥ 10 tok/s: buy A ($), rent B ($/h), or use hosted C ($/M blended)"; the context
    is the one the model is sized for (the setting capped at its maximum), not a setting it cannot hold."""
    head = (f"To run {row.model_name} at {units.tokens_text(row.estimate.context_tokens)} context at "
            f"≥ {settings.usable.min_decode_tokens_per_s:g} tok/s")
    ways = []
    options = [o for o in (plan.options if plan else ()) if o.meets_target]
    bought = [o for o in options if o.purchase_usd is not None]
    if bought:
        cheapest = min(bought, key=lambda o: o.purchase_usd)
        ways.append(f"buy {cheapest.label} ({units.usd_text(cheapest.purchase_usd, 0)})")
    elif options:
        ways.append(f"buy {options[0].label} (price not in the catalog)")
    rented = [o for o in options if o.rental_usd_per_hour is not None]
    if rented:
        cheapest = min(rented, key=lambda o: o.rental_usd_per_hour)
        ways.append(f"rent {cheapest.label} ({units.usd_text(cheapest.rental_usd_per_hour)}/h)")
    h = row.cheapest_hosted
    if h is not None:
        ways.append(f"use hosted {h.provider} ({units.usd_per_m_text(h.usd_per_m_blended)} blended)")
    if not ways:
        return f"{head}: no configuration in the device table and no hosted offer in the catalog does it."
    return f"{head}: " + (", ".join(ways[:-1]) + ", or " + ways[-1] if len(ways) > 1 else ways[0]) + "."


def runs_everything_answer(rows: Sequence[FitRow]) -> str:
    """The answer when this machine runs every model usably: its most capable pick."""
    top = sorted(one_row_per_model(rows), key=_capable_first)
    if not top:
        return "The catalog has no model this machine could be estimated for."
    r = top[0]
    e = r.estimate
    speed = f", {units.rate_text(e.decode_tokens_per_s.expected)} tok/s" if e.decode_tokens_per_s else ""
    return (f"This machine runs every catalog model usably; the most capable: {r.model_name} at {e.quant} "
            f"({units.verdict_place(e.verdict)}{speed}).")
