"""The row that speaks for each model (``evaluate``'s ``best`` rows), without estimating rows that cannot be it.

A listing of picks (``fit --best``, the app's table) needs one row per model, but ``evaluate`` estimates every
quant: over 100,000 rows for a 10,000-model catalog. ``evaluate_picks`` estimates a model's quants best quality
tier first and stops where the rules (``rules.representative_index``) can no longer look further:

- When a tier of small loss or better (4 bits and up) has a usable row held in VRAM or unified memory (on a
  machine without a GPU: in RAM), the pick is in that tier: the rules rank resident rows by tier before anything
  else, never let a spilled row beat a resident one of small loss, and let a lower tier's rows neither decide
  which rows are allowed (a row of 4 bits or more runs) nor whether a GPU is in use. The tiers below are not
  estimated.
- When no such row is usable but one of those tiers' spilled rows (GPU + RAM) is, the pick is the best of those:
  a spilled row of small loss beats every resident row below small loss and every spilled row below it. The
  tiers below small loss are not estimated either.
- A quant that does not fit takes no part in the rules, and on the same runtime a larger file does not fit
  either (the weights, split by role, only grow with the file; the cache and overheads are the model's): it is
  not estimated.

What it saves depends on the machine: on a GPU most models settle in their top tier (10,000 models on an RTX 4090:
half the rows, 0.9 s instead of 1.2 s); without one few models are usable and most rows are cheap anyway (about
the same time as ``evaluate``). The rows it does estimate are ``evaluate``'s own (the same ``Estimator`` calls), marked the same way. A model with
no row that runs has no pick; for it the rows that need the least memory are returned (on each runtime those with
the smallest file), as ``evaluate`` lists them, so that what a table shows for it (``rows.pick_shown``: the least
memory it would need) is the same. tests/estimate/test_picks.py holds the result to ``evaluate``'s over many
machines and settings.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable

from rigcheck.catalog.records import Catalog, Model, Quant
from rigcheck.estimate import memory as mem
from rigcheck.estimate.engine import marked_usable
from rigcheck.estimate.estimator import Estimator, quant_bits
from rigcheck.estimate.model_run import ModelRun
from rigcheck.estimate.row import marked_best
from rigcheck.estimate.rules import (
    CPU_ONLY_RESIDENT_VERDICTS,
    RESIDENT_VERDICTS,
    SMALL_LOSS_TIER,
    quality_tier,
    representative_index,
)
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine


def evaluate_picks(machine: Machine, catalog: Catalog, settings: Settings,
                   models: Iterable[Model] | None = None, estimator: Estimator | None = None) -> list[Estimate]:
    """For each model of ``catalog`` (or of ``models``), in order: the row ``evaluate`` marks ``best``, equal to
    it; for a model with none (nothing runs), its rows that need the least memory, as ``evaluate`` lists them.
    ``estimator``: as ``evaluate``'s. Never raises for an incomplete model record."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as in evaluate: many small records, no reference cycle
    try:
        return _evaluate_picks(estimator or Estimator(machine, catalog.devices, settings), settings,
                               catalog.models if models is None else models)
    finally:
        if gc_was_enabled:
            gc.enable()


def _evaluate_picks(estimator: Estimator, settings: Settings, models: Iterable[Model]) -> list[Estimate]:
    out: list[Estimate] = []
    wanted = settings.quant
    for model in models:
        try:
            shape = estimator.shape(model)
        except mem.ShapeError:
            continue
        # The model's rows as evaluate lists them: (tier, weight bytes, position, quant, runtime).
        todo: list[_Item] = []
        for quant in model.quants:
            if wanted is not None and quant.name.casefold() != wanted.casefold():
                continue
            runtime = estimator.choose_runtime(quant)
            if runtime is None:
                continue
            w = float(quant.file_size_bytes) if quant.file_size_bytes else mem.weights_bytes(shape, quant)
            todo.append((quality_tier(quant_bits(quant)), w, len(todo), quant, runtime))
        if todo:
            out.extend(_ModelRows(estimator, shape, settings, todo).picks())
    return out


_Item = tuple[int, float, int, Quant, str]


class _ModelRows:
    """One model's rows, estimated as the search needs them."""

    def __init__(self, estimator: Estimator, shape: mem.ModelShape, settings: Settings, todo: list[_Item]):
        self.estimator, self.shape, self.todo = estimator, shape, todo
        self.thresholds = settings.usable
        self.rows: list[Estimate | None] = [None] * len(todo)
        self.candidates: list = [None] * len(todo)
        self.runs: dict[str, ModelRun] = {}
        self.no_fit_from: dict[str, float] = {}
        """Per runtime: the least weight bytes known not to fit."""
        # Without a GPU every row runs on the CPU or not at all, and the rules count CPU rows as resident.
        self.resident = RESIDENT_VERDICTS if estimator.rm.gpus else CPU_ONLY_RESIDENT_VERDICTS

    def estimate(self, item: _Item, skip_if_too_large: bool = True) -> Estimate | None:
        _tier, w, k, quant, runtime = item
        if skip_if_too_large and w >= self.no_fit_from.get(runtime, math.inf):
            return None
        run = self.runs.get(runtime)
        if run is None:
            run = self.runs[runtime] = self.estimator.model_run(self.shape, runtime, 0.0, None,
                                                                mem.LLAMA_CPP_UBATCH_TOKENS)
        row = self.rows[k] = self.estimator.estimate_in(run, quant, self.shape.model.id)
        t = self.thresholds
        self.candidates[k] = marked_usable(row, t.min_decode_tokens_per_s, t.max_ttft_s)
        if row.verdict == "no_fit":
            self.no_fit_from[runtime] = min(w, self.no_fit_from.get(runtime, math.inf))
        return row

    def picks(self) -> list[Estimate]:
        """The row marked best, or (nothing runs) the rows that need the least memory."""
        self._search()
        done = [k for k, row in enumerate(self.rows) if row is not None]
        chosen = representative_index([self.candidates[k] for k in done], self.thresholds)
        if chosen is not None:
            return [marked_best(self.rows[done[chosen]])]
        # Nothing runs. What a table shows for the model is the row that needs the least memory (the first in
        # evaluate's order when several do): on each runtime one of those with the smallest file, the others
        # needing more by their extra weight.
        smallest: dict[str, float] = {}
        for item in self.todo:
            smallest[item[4]] = min(item[1], smallest.get(item[4], math.inf))
        least = [item for item in self.todo if item[1] == smallest[item[4]]]
        return [self.rows[item[2]] or self.estimate(item, skip_if_too_large=False) for item in least]

    def _search(self) -> None:
        """Estimate the rows best tier first (within a tier the smallest file first, so that one that does not fit
        spares the larger ones) until the rules cannot look further (the module's docstring)."""
        todo = sorted(self.todo, key=lambda item: (-item[0], item[1], item[2]))
        good_usable = on_gpu = False
        start = 0
        while start < len(todo):
            tier = todo[start][0]
            end = start
            while end < len(todo) and todo[end][0] == tier:
                end += 1
            resident = False
            for item in todo[start:end]:
                row = self.estimate(item)
                if row is None or row.verdict == "no_fit":
                    continue
                on_gpu = on_gpu or row.verdict != "cpu"
                if row.usable and tier >= SMALL_LOSS_TIER:
                    good_usable = True
                    resident = resident or row.verdict in self.resident
            start = end
            if resident:
                return  # the pick is a resident row of this tier
            if good_usable and on_gpu and (start == len(todo) or todo[start][0] < SMALL_LOSS_TIER):
                return  # no resident row of small loss is usable, one of them spilled is: the pick is spilled
