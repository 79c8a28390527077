"""One evaluation of every model for the table: the record the window shows and the function that makes it.

Qt-free and below both its users: the controller evaluates on its worker, and the start-up prefetch
(``services.with_evaluation``) evaluates on a thread before the window exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from rigcheck.catalog.records import Catalog
    from rigcheck.desktop.models.cells import TableRow
    from rigcheck.desktop.models.rows import ModelRow
    from rigcheck.desktop.services import Services
    from rigcheck.estimate.types import Estimate, Settings
    from rigcheck.probe.types import Machine


class Evaluation(msgspec.Struct, frozen=True):
    """One finished evaluation: what was evaluated and the rows the table shows."""

    machine: Machine
    catalog: Catalog
    settings: Settings
    estimates: tuple[Estimate, ...]
    rows: tuple[ModelRow, ...]
    cells: tuple[TableRow, ...] = ()
    """The table's cells for ``rows``, made on the worker with them (empty: the table makes them itself)."""


def evaluate_rows(services: Services, machine: Machine, catalog: Catalog, settings: Settings) -> Evaluation:
    """Evaluate every model and build the table's rows and cells (runs on a worker or prefetch thread, so the
    GUI thread only swaps them in)."""
    from rigcheck.desktop.models.cells import table_rows
    from rigcheck.desktop.models.rows import build_rows, mac_hints

    estimates = tuple(services.evaluate(machine, catalog, settings))
    hints = mac_hints(machine, catalog, settings, list(estimates), services.evaluate)
    rows = tuple(build_rows(catalog, list(estimates), settings, hints))
    return Evaluation(machine, catalog, settings, estimates, rows, tuple(table_rows(list(rows))))
