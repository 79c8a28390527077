"""Estimates of the models installed on this machine: each file at its real size, with the command that runs it.

``evaluate_installed`` estimates exactly the installed files (``catalog.installed.scan``): the catalog model
(or one built from the header) with a quant whose size is the files' own, so the memory is what the disk
holds. Each row carries ``installed`` (where the file is, which tool holds it) in its extra fields; the files
that cannot be estimated (broken, or a runtime this machine lacks) come back apart, each with its reason.
"""

from __future__ import annotations

import dataclasses

from rigcheck.catalog.installed.matching import InstalledModel, estimate_inputs
from rigcheck.catalog.records import Catalog, Model, Quant
from rigcheck.estimate.engine import estimate, mark_best
from rigcheck.estimate.launch import Installed, LaunchCommand, launch_commands
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine


def installed_ref(m: InstalledModel) -> Installed:
    return Installed(path=m.path, tag=m.tag, mmproj=m.mmproj, source=m.source)


def installed_summary(m: InstalledModel) -> dict[str, object]:
    """What a result says about the file it estimates."""
    return {"path": m.path, "source": m.source, "name": m.name, "ollama_tag": m.tag, "size_bytes": m.size_bytes,
            "matched_by": m.matched_by}


def evaluate_installed(machine: Machine, catalog: Catalog, settings: Settings, installed: list[InstalledModel]
                       ) -> tuple[list[Estimate], list[dict[str, object]], dict[tuple[str, str, str], tuple]]:
    """(rows, skipped, inputs): one row per installed file that can run here, best quant per model marked
    among the installed ones; the files left out with the reason; and, per row (model id, quant, path), its
    (Model, Quant, InstalledModel) for launch commands."""
    rows: list[Estimate] = []
    skipped: list[dict[str, object]] = []
    inputs: dict[tuple[str, str, str], tuple[Model, Quant, InstalledModel]] = {}
    for m in installed:
        if m.problem:
            skipped.append({**installed_summary(m), "reason": m.problem})
            continue
        pair = estimate_inputs(m, catalog)
        if pair is None:
            skipped.append({**installed_summary(m), "reason": "its parameter count could not be read"})
            continue
        model, quant = pair
        try:
            row = estimate(model, quant, machine, settings, catalog.devices)
        except ValueError as exc:
            skipped.append({**installed_summary(m), "reason": str(exc)})
            continue
        row = dataclasses.replace(row, extra={**row.extra, "installed": installed_summary(m)})
        rows.append(row)
        inputs[(row.model_id, row.quant, m.path)] = (model, quant, m)
    return mark_best(rows, settings.usable), skipped, inputs


def launch_for_row(row: Estimate, inputs: dict, settings: Settings) -> list[LaunchCommand]:
    """The launch commands of an installed row (``inputs`` from ``evaluate_installed``)."""
    info = row.extra.get("installed")
    path = info.get("path") if isinstance(info, dict) else None
    entry = inputs.get((row.model_id, row.quant, path))
    if entry is None:
        return []
    model, quant, m = entry
    return launch_commands(row, model, quant, kv_cache_type=settings.kv_cache_type, installed=installed_ref(m))
