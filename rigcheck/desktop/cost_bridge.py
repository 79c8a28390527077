"""Adapts the cost doors (``rigcheck.estimate.compare``) to the detail pane's cost chart."""

from __future__ import annotations

from collections.abc import Sequence

from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine


def cost_curves(model: Model, quant: str, machine: Machine, catalog: Catalog, utilizations: Sequence[float],
                settings: Settings) -> tuple[dict[str, list[float | None]], str]:
    """$/M output tokens at each utilization for the hosted, rented and owned doors, and a note saying where
    each wins (K's break-even sentences) and why a door is missing."""
    from rigcheck.estimate import compare, curves

    comparison = compare.compare_doors(model, catalog, None, settings, machine, quant_name=quant)
    by_label = curves.cost_curves(comparison.doors, list(utilizations))
    values = {label: [usd for _u, usd in points] for label, points in by_label.items()}
    notes = [b.sentence for b in comparison.break_even if b.sentence]
    notes += [f"{d.door}: {d.unavailable_reason}" for d in comparison.doors if d.unavailable_reason]
    notes += list(comparison.notes)
    return values, "\n".join(n if n.endswith(".") else n + "." for n in notes)
