"""Pure estimation functions: memory, placement, speed, cost, plans.

Entry points: ``evaluate(machine, catalog, settings, models=None)`` for every model x quant of a
catalog, ``estimate(model, quant, machine, settings, devices)`` for one row, and
``speed.serving_throughput`` for a server's aggregate throughput at a batch size.
"""

from rigcheck.catalog.estimate.engine import estimate, evaluate
from rigcheck.catalog.estimate.types import Band, Estimate, MemoryBreakdown, Settings

__all__ = ["Band", "Estimate", "MemoryBreakdown", "Settings", "estimate", "evaluate"]
