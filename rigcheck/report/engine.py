"""What the report builder calls to estimate and plan: an ``Engine`` of plain functions, injectable.

Tests inject a fake one and the GUI one that already holds its estimates; ``adapters.default_engine``
makes the real one. A part left None is missing from this build, and ``unavailable`` says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Gpu, Machine
from rigcheck.report.records import PlanOption

EvaluateFn = Callable[[Machine, Catalog, Settings], list[Estimate]]
EstimateFn = Callable[[Model, Quant, Machine, Settings, list[Device]], Estimate]
PlanFn = Callable[[Model, "str | None", Settings, Catalog, str], "tuple[str | None, list[PlanOption]]"]
UpgradeFn = Callable[[Machine, Model, Settings, Catalog, str], list[str]]
ResolveGpuFn = Callable[[Gpu, list[Device]], "Device | None"]


@dataclass
class Engine:
    """The estimator, planner and device resolver the builder calls; None where not available."""

    evaluate: EvaluateFn | None = None
    estimate: EstimateFn | None = None
    plan: PlanFn | None = None
    """(model, quant or None, settings, catalog, machine class) -> (quant used, options cheapest first)."""
    upgrade: UpgradeFn | None = None
    """(machine, model, settings, catalog, machine class) -> lines of advice, smallest change first."""
    resolve_gpu: ResolveGpuFn | None = None
    unavailable: dict[str, str] = field(default_factory=dict)
    """Engine part ("estimator", "device resolver", "planner") -> why it is missing, shown in the report."""
