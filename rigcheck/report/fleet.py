"""The fleet matrix: which machine runs which model, and what each needs to run the target model."""

from __future__ import annotations

from collections.abc import Sequence

from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.configs import machine_class
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine
from rigcheck.report.catalog_facts import model_name
from rigcheck.report.engine import Engine
from rigcheck.report.records import (
    FitRow,
    FleetCell,
    FleetRow,
    FleetSection,
    FleetTarget,
    MachineReport,
    rank,
)

FLEET_ROWS = 25


def _cell(row: FitRow | None) -> FleetCell | None:
    if row is None or not row.estimate.fits:
        return None
    e = row.estimate
    return FleetCell(e.quant, e.verdict, e.decode_tokens_per_s, row.usable)


def cell_rows(report: MachineReport) -> dict[str, FitRow]:
    """Per model, the row a fleet cell shows for this machine: the row that speaks for the model there (its
    pick when it is usable). The fleet JSON carries these rows."""
    return {r.model_id: r for r in report.model_rows}


def fleet_section(
    reports: list[MachineReport],
    machines: Sequence[Machine],
    catalog: Catalog,
    settings: Settings,
    engine: Engine,
    target_model_id: str | None,
    models_by_id: dict[str, Model],
) -> FleetSection:
    """The matrix of the most capable models against the machines, and how each reaches the target model."""
    per_machine = [cell_rows(rep) for rep in reports]
    # Rows: the most capable models that at least one machine runs, then the target if missing.
    union: dict[str, FitRow] = {}
    for rep in reports:
        for r in rep.model_rows:
            if r.estimate.fits and r.model_id not in union:
                union[r.model_id] = r
    ordered = sorted(union.values(), key=lambda r: (*rank(r), r.model_id))[:FLEET_ROWS]
    ids = [r.model_id for r in ordered]
    if target_model_id and target_model_id not in ids:
        ids.insert(0, target_model_id)
    rows = []
    for mid in ids:
        model = models_by_id[mid]
        some = next((pm[mid] for pm in per_machine if mid in pm), None)
        rows.append(
            FleetRow(
                model_id=mid,
                model_name=model_name(model),
                capability=some.capability if some else None,
                cells=tuple(_cell(pm.get(mid)) for pm in per_machine),
            )
        )
    targets: list[FleetTarget] = []
    if target_model_id:
        model = models_by_id[target_model_id]
        for rep, machine, pm in zip(reports, machines, per_machine, strict=True):
            cell = _cell(pm.get(target_model_id))
            if cell is not None and cell.usable:
                targets.append(FleetTarget(rep.machine.label, cell, (), "already runs it at usable speed"))
                continue
            if engine.upgrade is None:
                why = engine.unavailable.get("planner", "upgrade advice is not available in this build")
                targets.append(FleetTarget(rep.machine.label, cell, (), why))
                continue
            advice = tuple(engine.upgrade(machine, model, settings, catalog,
                                          machine_class(machine, catalog.devices)))
            targets.append(FleetTarget(rep.machine.label, cell, advice, None if advice else "no upgrade found"))
    return FleetSection(
        machine_labels=tuple(rep.machine.label for rep in reports),
        rows=tuple(rows),
        target_model_id=target_model_id,
        target_model_name=model_name(models_by_id[target_model_id]) if target_model_id else None,
        targets=tuple(targets),
    )
