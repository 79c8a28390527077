"""The planner's section for a model: configurations that meet the target, and upgrade advice."""

from __future__ import annotations

from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine
from rigcheck.report.catalog_facts import model_name
from rigcheck.report.engine import Engine
from rigcheck.report.records import PlanOption, PlanSection


def plan_section(model: Model, machine: Machine, catalog: Catalog, settings: Settings, engine: Engine,
                 machine_class: str = "any") -> PlanSection:
    """The planner's options and the upgrade advice for ``model``, kept to ``machine_class`` (a workstation's
    report proposes workstations); a missing planner is named in ``note``."""
    notes = []
    options: tuple[PlanOption, ...] = ()
    quant = settings.quant
    if engine.plan is not None:
        quant, found = engine.plan(model, settings.quant, settings, catalog, machine_class)
        options = tuple(found)
    else:
        notes.append(engine.unavailable.get("planner", "the planner is not available in this build"))
    advice: tuple[str, ...] = ()
    if engine.upgrade is not None:
        advice = tuple(engine.upgrade(machine, model, settings, catalog, machine_class))
    return PlanSection(
        model_id=model.id,
        model_name=model_name(model),
        quant=quant,
        options=options,
        advice=advice,
        note="; ".join(notes) or None,
    )
