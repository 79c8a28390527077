"""How the models looked at divide on a machine: usable, fit but too slow, do not fit, not estimated.

One count for every screen that says how many models a machine runs (``fit``'s footer, the GUI's capacity line,
the report's summary and its JSON): the parts always add up to the models looked at (the catalog's, unless a
listing was asked for some of them), so a model the estimator could not size is counted, never left out of the
total. Stdlib only: the GUI's start-up helper counts with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class ModelTally(NamedTuple):
    """The models looked at, by what this machine does with them (each model once, by the row that speaks for
    it: its pick, else the row closest to one)."""

    usable: int
    """Its pick runs usably (``rules``)."""
    too_slow: int
    """Fits in memory, but no quant of it is usable."""
    no_fit: int
    """No quant of it fits (or the prompt is longer than its context)."""
    not_estimated: int
    """The estimator gave it no row: the catalog lacks a fact it needs (a parameter count)."""

    @property
    def total(self) -> int:
        """Every model looked at: the four parts together."""
        return self.usable + self.too_slow + self.no_fit + self.not_estimated

    @property
    def fitting(self) -> int:
        """Models that fit in memory, usable or not."""
        return self.usable + self.too_slow

    @property
    def estimated(self) -> int:
        return self.total - self.not_estimated


def tally(outcomes: Iterable[tuple[bool, bool]], models_looked_at: int | None = None) -> ModelTally:
    """The tally of ``outcomes``, one ``(fits, usable)`` per estimated model (of the row that speaks for it), over
    ``models_looked_at`` models (None: only those estimated); the models beyond ``outcomes`` are not estimated.

    Raises ValueError when there are more outcomes than models looked at (a model counted twice).
    """
    usable = too_slow = no_fit = 0
    for fits, runs_usably in outcomes:
        if runs_usably:
            usable += 1
        elif fits:
            too_slow += 1
        else:
            no_fit += 1
    estimated = usable + too_slow + no_fit
    total = estimated if models_looked_at is None else models_looked_at
    if total < estimated:
        raise ValueError(f"{estimated} models estimated out of {total} looked at")
    return ModelTally(usable, too_slow, no_fit, total - estimated)
