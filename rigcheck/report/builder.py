"""Builds the report's data: a typed ``ReportData`` from machines, the catalog, settings and estimates.

No formatting and no Qt here: renderers (pdf, html, md, json, csv) turn a ``ReportData`` into a file.
Each section is made by its own module (inventory, summary, details, plans, fleet); this one checks the
inputs, runs them per machine, and adds the title and the assumptions. The builder calls the estimator, planner and device resolver through an injectable ``Engine`` so tests
(and the GUI, which already holds the estimates) can supply their own; sections whose engine part is
missing say so instead of being silently empty.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
from collections.abc import Callable, Sequence
from typing import Any

from rigcheck import __version__, units
from rigcheck.catalog.records import Catalog
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine
from rigcheck.report.adapters import default_engine
from rigcheck.report.catalog_facts import INPUT_SHARE, catalog_info, hosted_by_model, quality_by_model
from rigcheck.report.details import default_selection, detail
from rigcheck.report.engine import Engine
from rigcheck.report.fleet import fleet_section
from rigcheck.report.inventory import machine_info
from rigcheck.report.plans import plan_candidates, plan_section
from rigcheck.report.records import (
    USABLE_DECODE_TOKENS_PER_S,
    USABLE_TTFT_S,
    MachineReport,
    ModelDetail,
    PlanSection,
    ReportData,
    fleet_rows,
    one_row_per_model,
    usable_by_model,
)
from rigcheck.report.summary import fit_row, summarize


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
    quality = quality_by_model(catalog.scores, catalog.models)
    hosted = hosted_by_model(catalog.hosted)
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
            rows_est = list(estimates[i]) if estimates is not None else engine.evaluate(machine, catalog, settings)
            info = machine_info(machine, labels[i], catalog.devices, engine.resolve_gpu)
            rows = tuple(
                fit_row(e, models_by_id.get(e.model_id), quality, hosted, shared)
                for e in rows_est
                if e.model_id in models_by_id
            )
            per_model, usable_rows = one_row_per_model(rows), usable_by_model(rows)
            summary = summarize(rows, info, catalog, quality, hosted, models_by_id, per_model, usable_rows)
            if len(machines) > 1:  # a fleet report keeps the rows that speak for each model, not every quant
                rows = fleet_rows(rows, per_model, usable_rows)
            step(i * share + share / 3, f"details for {labels[i]}")
            details: tuple[ModelDetail, ...] = ()
            plans: tuple[PlanSection, ...] = ()
            if len(machines) == 1:
                chosen = list(selected_model_ids) or default_selection(rows, info)
                details = tuple(
                    detail(models_by_id[mid], rows, machine, info, catalog, settings, engine, quality, hosted)
                    for mid in chosen
                )
                plan_ids = [target_model_id] if target_model_id else plan_candidates(details)
                step(i * share + 2 * share / 3, "asking the planner")
                plans = tuple(
                    plan_section(models_by_id[mid], machine, catalog, settings, engine) for mid in plan_ids
                )
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


def _assumptions(settings: Settings, engine: Engine) -> tuple[str, ...]:
    lines = [
        f"Context reserved: {units.tokens_text(settings.context_tokens)} tokens (capped at each model's maximum); "
        f"prompt for prefill and time to first token: {units.tokens_text(settings.prompt_tokens)} tokens; "
        f"decode speed is at that depth, batch 1.",
        f"KV cache type: {settings.kv_cache_type}; memory sized against "
        f"{'total' if settings.memory_basis == 'total' else 'free'} memory"
        f"{'' if settings.runtime is None else f'; runtime {settings.runtime}'}"
        f"{'' if settings.quant is None else f'; only quant {settings.quant}'}.",
        "Speeds are estimates from memory bandwidth and compute rooflines with calibrated efficiencies, "
        "not measurements; the band (low–high) is where the real figure is expected to fall. The "
        "estimator's error against published measurements is what `rigcheck validate` reports (see the README).",
        f"Usable speed: at least {USABLE_DECODE_TOKENS_PER_S:.0f} tok/s decode and a first token within "
        f"{USABLE_TTFT_S:.0f} s.",
        "Quality: published scores (AA index, SWE-bench Verified, Aider polyglot, Terminal-Bench 2); models "
        "are ordered by their mean percentile over the benchmarks they have, unscored models after, by size.",
        f"Hosted prices: list prices per million tokens; the blended figure assumes "
        f"{INPUT_SHARE * 100:.0f} % input and {(1 - INPUT_SHARE) * 100:.0f} % output tokens.",
        "Memory sizes are binary (1 GiB = 2^30 bytes); bandwidth is decimal (1 GB/s = 10^9 bytes/s).",
    ]
    for part, why in sorted(engine.unavailable.items()):
        lines.append(f"Not included — {part}: {why}.")
    return tuple(lines)
