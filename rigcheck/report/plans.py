"""The planner's section for a model: configurations that meet the target, and upgrade advice."""

from __future__ import annotations

from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine
from rigcheck.report.catalog_facts import model_name
from rigcheck.report.engine import Engine
from rigcheck.report.records import ModelDetail, PlanOption, PlanSection


def plan_candidates(details: tuple[ModelDetail, ...]) -> list[str]:
    """Selected models this machine cannot run on its GPU(s) alone: worth a plan."""
    out = []
    for d in details:
        best = next((e for e in d.quants if e.quant == d.best_quant), None)
        if best is None or best.verdict in ("gpu+ram", "cpu"):
            out.append(d.model_id)
    return out


def plan_section(model: Model, machine: Machine, catalog: Catalog, settings: Settings, engine: Engine) -> PlanSection:
    """The planner's options and the upgrade advice for ``model``; a missing planner is named in ``note``."""
    notes = []
    options: tuple[PlanOption, ...] = ()
    quant = settings.quant
    if engine.plan is not None:
        quant, found = engine.plan(model, settings.quant, settings, catalog)
        options = tuple(found)
    else:
        notes.append(engine.unavailable.get("planner", "the planner is not available in this build"))
    advice: tuple[str, ...] = ()
    if engine.upgrade is not None:
        advice = tuple(engine.upgrade(machine, model, settings, catalog))
    return PlanSection(
        model_id=model.id,
        model_name=model_name(model),
        quant=quant,
        options=options,
        advice=advice,
        note="; ".join(notes) or None,
    )
