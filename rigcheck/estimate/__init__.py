"""Pure estimation functions: memory, placement, speed, serving, cost, plans.

Entry points: ``evaluate(machine, catalog, settings, models=None)`` for every model x quant of a
catalog, ``estimate(model, quant, machine, settings, devices)`` for one row, and
``serve_answer.serve`` for what a node serves to many users at once (engine, concurrency, layout).

The names are loaded on first use (PEP 562): importing ``rigcheck.estimate.types`` for its records
must not load the whole engine (the desktop app reads the records long before it evaluates anything).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rigcheck.estimate.engine import estimate, evaluate
    from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown, Settings

__all__ = ["Band", "Estimate", "MemoryBreakdown", "Settings", "estimate", "evaluate"]
_HOME = {"estimate": "engine", "evaluate": "engine", "Band": "types", "Estimate": "types",
         "MemoryBreakdown": "types", "Settings": "types"}


def __getattr__(name: str):
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
