"""Builds the report's data: a typed ``ReportData`` from machines, the catalog, settings and estimates.

No formatting and no Qt here: renderers (pdf, html, md, json, csv) turn a ``ReportData`` into a file.
Each section is made by its own module (inventory, summary, details, plans, fleet); this one checks the
inputs, runs them per machine, and adds the title and the assumptions. The builder calls the estimator, planner and device resolver through an injectable ``Engine`` so tests
(and the GUI, which already holds the estimates) can supply their own; sections whose engine part is
missing say so instead of being silently empty.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import gc
from collections.abc import Callable, Sequence
from typing import Any

from rigcheck import __version__, units
from rigcheck.catalog.records import Catalog
from rigcheck.estimate import rules
from rigcheck.estimate.configs import machine_class
from rigcheck.estimate.engine import mark_best
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine
from rigcheck.report.adapters import default_engine
from rigcheck.report.catalog_facts import capability_by_model, catalog_info, hosted_by_model
from rigcheck.report.details import default_selection, detail
from rigcheck.report.engine import Engine
from rigcheck.report.fleet import fleet_section
from rigcheck.report.inventory import machine_info
from rigcheck.report.plans import plan_section
from rigcheck.report.records import (
    MachineReport,
    ModelDetail,
    PlanSection,
    ReportData,
    fleet_rows,
    one_row_per_model,
)
from rigcheck.report.summary import answer_model, fit_row, one_line_answer, runs_everything_answer, summarize


class ReportBuildError(ValueError):
    """The report cannot be built from these inputs (unknown model, no machine); one sentence."""


def build_report(
    machines: Sequence[Machine],
    catalog: Catalog,
    settings: Settings,
    *,
    engine: Engine | None = None,
    estimates: Sequence[Sequence[Estimate]] | None = None,
    selected_model_ids: Sequence[str] = (),
    target_model_id: str | None = None,
    catalog_status: Any = None,
    now: _dt.datetime | None = None,
    title: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> ReportData:
    """Build the report for one machine, or a fleet report for several.

    ``estimates``: the evaluate() results per machine when the caller already has them (the GUI);
    otherwise the engine's evaluate is called. ``selected_model_ids`` get a detail section each;
    by default a few of the most capable models that fit or nearly fit. ``target_model_id`` adds the
    planner's configurations and per-machine upgrade advice for that model.
    Raises ReportBuildError for no machines, an unknown model id, or no way to get estimates.
    """
    if not machines:
        raise ReportBuildError("a report needs at least one machine")
    engine = engine if engine is not None else default_engine()
    models_by_id = {m.id: m for m in catalog.models}
    for model_id in (*selected_model_ids, *([target_model_id] if target_model_id else [])):
        if model_id not in models_by_id:
            raise ReportBuildError(f"model {model_id!r} is not in the catalog")
    if estimates is not None and len(estimates) != len(machines):
        raise ReportBuildError("estimates must be given for every machine, or for none")
    if estimates is None and engine.evaluate is None:
        why = engine.unavailable.get("estimator", "the estimator is not installed")
        raise ReportBuildError(f"cannot estimate: {why}")

    def step(fraction: float, message: str) -> None:
        if progress is not None:
            progress(min(1.0, max(0.0, fraction)), message)

    now = now or _dt.datetime.now(_dt.timezone.utc)
    capability = capability_by_model(catalog.scores)
    hosted = hosted_by_model(catalog.hosted, settings.input_per_output)
    labels = _unique_labels(machines)

    reports: list[MachineReport] = []
    shared: dict[str, dict[str, object]] = {}  # what every machine's rows of one model share
    # Each machine's evaluation makes some 100,000 short-lived objects that reference counting frees; the
    # estimator leaves no cycles (tests/hostile/test_fleet.py holds it to that), so in a fleet the cyclic
    # collector would only walk them, and the rows kept so far, again and again: a third of a fleet's time.
    with _cycle_collection_paused(len(machines) > 1):
        for i, machine in enumerate(machines):
            share = 0.9 / len(machines)
            step(i * share, f"estimating {labels[i]}")
            if estimates is not None:
                # Estimates made elsewhere (the GUI's) are marked again with the report's thresholds: one rule.
                rows_est = mark_best(list(estimates[i]), settings.usable)
            else:
                rows_est = engine.evaluate(machine, catalog, settings)
            info = machine_info(machine, labels[i], catalog.devices, engine.resolve_gpu)
            rows = tuple(
                fit_row(e, models_by_id.get(e.model_id), capability, hosted, shared)
                for e in rows_est
                if e.model_id in models_by_id
            )
            per_model = one_row_per_model(rows)
            summary = summarize(rows, info, catalog, settings, hosted, per_model)
            if len(machines) > 1:  # a fleet report keeps the row that speaks for each model, not every quant
                rows = fleet_rows(rows, per_model)
            step(i * share + share / 3, f"details for {labels[i]}")
            details: tuple[ModelDetail, ...] = ()
            plans: tuple[PlanSection, ...] = ()
            if len(machines) == 1:
                chosen = list(selected_model_ids) or default_selection(rows, info)
                details = tuple(
                    detail(models_by_id[mid], rows, machine, info, catalog, settings, engine, capability, hosted)
                    for mid in chosen
                )
                # The target's row that speaks for it (its pick, else the smallest quant when none of its
                # quants runs: then no row is marked best).
                about = (next((r for r in per_model if r.model_id == target_model_id), None)
                         if target_model_id else answer_model(rows))
                plan_ids = [target_model_id] if target_model_id else ([about.model_id] if about else [])
                step(i * share + 2 * share / 3, "asking the planner")
                klass = machine_class(machine, catalog.devices)
                plans = tuple(
                    plan_section(models_by_id[mid], machine, catalog, settings, engine, klass) for mid in plan_ids
                )
                if about is not None and about.usable:
                    e = about.estimate
                    answer = (f"{info.label} runs {about.model_name} usably: {e.quant} on "
                              f"{units.verdict_place(e.verdict)}, {units.rate_text(e.decode_tokens_per_s.expected)} "
                              "tok/s.")
                elif about is not None:
                    answer = one_line_answer(about, plans[0] if plans else None, settings)
                else:
                    answer = runs_everything_answer(rows)
                summary = dataclasses.replace(summary, answer=answer)
            reports.append(MachineReport(info, summary, rows, details, plans))

    fleet = None
    if len(machines) > 1:
        step(0.92, "fleet matrix")
        fleet = fleet_section(reports, machines, catalog, settings, engine, target_model_id, models_by_id)
    step(1.0, "report built")
    return ReportData(
        generated_at=now.astimezone(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        app_version=__version__,
        title=title or _title(reports),
        settings=settings,
        catalog=catalog_info(catalog, catalog_status, now),
        machines=tuple(reports),
        fleet=fleet,
        assumptions=_assumptions(settings, engine),
    )


@contextlib.contextmanager
def _cycle_collection_paused(pause: bool):
    """Python's cyclic garbage collector paused for the block (when ``pause``), as it was after it."""
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()


def _unique_labels(machines: Sequence[Machine]) -> list[str]:
    labels = []
    for i, m in enumerate(machines):
        base = m.label or m.hostname or ("this machine" if len(machines) == 1 else f"machine {i + 1}")
        label, n = base, 2
        while label in labels:
            label, n = f"{base} ({n})", n + 1
        labels.append(label)
    return labels


def _title(reports: list[MachineReport]) -> str:
    if len(reports) == 1:
        return f"Machine report: {reports[0].machine.label}"
    return f"Fleet report: {len(reports)} machines"


def context_rule_sentence() -> str:
    """The context rule (``rules.run_context``) in one sentence, for the assumptions."""
    from rigcheck.estimate.rules import OUTPUT_RESERVE_TOKENS

    return (f"A prompt longer than the context is never cut: the context grows to hold it and "
            f"{OUTPUT_RESERVE_TOKENS:,} tokens of answer, up to the model's maximum; a model whose maximum is below "
            "the prompt does not fit.")


def _assumptions(settings: Settings, engine: Engine) -> tuple[str, ...]:
    lines = [
        f"Context reserved: {units.tokens_text(settings.context_tokens)} tokens (capped at each model's maximum); "
        f"prompt for prefill and time to first token: {units.tokens_text(settings.prompt_tokens)} tokens; "
        f"decode speed is at that depth, batch 1. {context_rule_sentence()}",
        f"KV cache type: {settings.kv_cache_type}; memory sized against "
        f"{'total' if settings.memory_basis == 'total' else 'free'} memory"
        f"{'' if settings.runtime is None else f'; runtime {settings.runtime}'}"
        f"{'' if settings.quant is None else f'; only quant {settings.quant}'}.",
        "Speeds are estimates from memory bandwidth and compute rooflines with calibrated efficiencies, "
        "not measurements; the band (low–high) is where the real figure is expected to fall. The "
        "estimator's error against published measurements is what `rigcheck validate` reports (see the README).",
        f"Usable: {settings.usable.describe()} for the prompt above (the same rule as the app and `rigcheck "
        f"fit`). Each model's row is its pick: {rules.describe_pick()}.",
        f"Capability: {rules.describe_capability()}.",
        f"Models are listed in the rules' {rules.describe_order()}.",
        f"Hosted prices: list prices per million tokens, shown as {rules.describe_blend(settings.input_per_output)} "
        "beside the input and output prices.",
        "Memory sizes are binary (1 GiB = 2^30 bytes); bandwidth is decimal (1 GB/s = 10^9 bytes/s).",
    ]
    for part, why in sorted(engine.unavailable.items()):
        lines.append(f"Not included — {part}: {why}.")
    return tuple(lines)
