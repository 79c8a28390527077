"""The estimator's entry points: ``estimate`` (one model x quant) and ``evaluate`` (a whole catalog).

``evaluate`` resolves the machine once (bandwidths, compute, budgets per runtime) and then runs a
short, allocation-light computation per model x quant row, so a 20,000-row catalog takes a fraction
of a second. Quants whose runtime cannot run on the machine (MLX off Apple silicon, vLLM without an
NVIDIA or AMD Instinct GPU, NVFP4 before Blackwell) are skipped rather than estimated.

Each row is marked ``usable`` (``rules.is_usable`` with the settings' thresholds) and one row per model
``best``: its pick (``rules.pick_index``) when it has one, else the row closest to usable
(``rules.representative_index``); the rule is in ``rules``' docstring.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable

from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.estimate import memory as mem
from rigcheck.estimate.estimator import Estimator
from rigcheck.estimate.model_run import ModelRun
from rigcheck.estimate.row import expected_speeds, marked_best
from rigcheck.estimate.rules import Candidate, Thresholds, candidate, is_usable, representative_index
from rigcheck.estimate.runtimes import candidate_runtimes, runtime_unavailable_reason
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine

_tuple_new = tuple.__new__  # a NamedTuple built without its Python-level __new__ (once per row)


def mark_best(rows: list[Estimate], thresholds: Thresholds | None = None) -> list[Estimate]:
    """Mark each row ``usable`` and the row that speaks for each model ``best`` (``rules``); returns a new list.

    ``thresholds``: what counts as usable (the rules' defaults when None)."""
    thresholds = thresholds or Thresholds()
    by_model: dict[str, tuple[list[int], list[Candidate]]] = {}
    out = []
    for i, row in enumerate(rows):
        usable = is_usable(*expected_speeds_of(row), thresholds) if row.fits else False
        if row.best or row.usable != usable:
            row = dataclasses.replace(row, best=False, usable=usable)
        out.append(row)
        indices, candidates = by_model.setdefault(row.model_id, ([], []))
        indices.append(i)
        candidates.append(candidate(row))
    for indices, candidates in by_model.values():
        chosen = representative_index(candidates, thresholds)
        if chosen is not None:
            out[indices[chosen]] = marked_best(out[indices[chosen]])
    return out


def expected_speeds_of(row: Estimate) -> tuple[float | None, float | None]:
    decode, ttft = row.decode_tokens_per_s, row.ttft_s
    return (decode.expected if decode is not None else None, ttft.expected if ttft is not None else None)


def evaluate(machine: Machine, catalog: Catalog, settings: Settings,
             models: Iterable[Model] | None = None, estimator: Estimator | None = None) -> list[Estimate]:
    """Every model x quant of ``catalog`` (or of ``models``) on ``machine``, best quant per model marked.

    Rows whose runtime cannot run here are left out; a model without a parameter count is left out.
    ``estimator``: one already made for this machine, the catalog's devices and these settings, to share its work
    across calls (made here when None). Never raises for an incomplete model record.
    """
    # Tens of thousands of small records and no reference cycles: the cyclic garbage collector would
    # walk the growing list again and again (a third of the time); it is paused for the loop.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(estimator or Estimator(machine, catalog.devices, settings), catalog, settings, models)
    finally:
        if gc_was_enabled:
            gc.enable()


def _evaluate(estimator: Estimator, catalog: Catalog, settings: Settings,
              models: Iterable[Model] | None) -> list[Estimate]:
    rows: list[Estimate] = []
    wanted = settings.quant
    thresholds = settings.usable
    min_decode, max_ttft = thresholds.min_decode_tokens_per_s, thresholds.max_ttft_s
    for model in (catalog.models if models is None else models):
        try:
            shape = estimator.shape(model)
        except mem.ShapeError:
            continue
        runs: dict[str, ModelRun] = {}
        first = len(rows)
        candidates: list[Candidate] = []
        for quant in model.quants:
            if wanted is not None and quant.name.casefold() != wanted.casefold():
                continue
            runtime = estimator.choose_runtime(quant)
            if runtime is None:
                continue
            run = runs.get(runtime)
            if run is None:
                run = runs[runtime] = estimator.model_run(shape, runtime, 0.0, None, mem.LLAMA_CPP_UBATCH_TOKENS)
            row = estimator.estimate_in(run, quant, model.id)
            candidates.append(marked_usable(row, min_decode, max_ttft))
            rows.append(row)
        chosen = representative_index(candidates, thresholds)
        if chosen is not None:
            rows[first + chosen] = marked_best(rows[first + chosen])
    return rows


def marked_usable(row: Estimate, min_decode: float, max_ttft: float) -> Candidate:
    """Mark a row just made by ``Estimator.estimate_in`` (seen by nobody else yet) ``usable`` when it is
    (``rules.is_usable``, inlined), and return it as the rules see it."""
    decode, ttft = expected_speeds(row)
    d = row.__dict__
    if decode is not None and decode >= min_decode and (ttft is None or ttft <= max_ttft):
        d["usable"] = True
    speeds = d.get("_speeds")
    return _tuple_new(Candidate, (d["bits_per_weight"], d["verdict"], decode, ttft, d["calibrated"],
                                  d["gpu_memory_share"], None if speeds is None else speeds[0] * speeds[1]))


def estimate(model: Model, quant: Quant, machine: Machine, settings: Settings,
             devices: list[Device]) -> Estimate:
    """How ``model`` in ``quant`` runs on ``machine``.

    Raises ``ValueError`` when the quant's runtime cannot run on this machine (the message says why)
    or the model has no parameter count.
    """
    estimator = Estimator(machine, devices, settings)
    shape = estimator.shape(model)
    runtime = estimator.choose_runtime(quant)
    if runtime is None:
        candidates = candidate_runtimes(quant)
        reasons = "; ".join(f"{r}: {runtime_unavailable_reason(r, quant, estimator.rm) or 'not the chosen runtime'}"
                            for r in candidates)
        raise ValueError(f"{quant.name} of {model.id} cannot run on this machine ({reasons})")
    row = estimator.estimate(shape, quant, runtime)
    if is_usable(*expected_speeds(row), settings.usable):
        row.__dict__["usable"] = True  # made just now, seen by nobody else yet
    return row

