"""The estimator's entry points: ``estimate`` (one model x quant) and ``evaluate`` (a whole catalog).

``evaluate`` resolves the machine once (bandwidths, compute, budgets per runtime) and then runs a
short, allocation-light computation per model x quant row, so a 20,000-row catalog takes a fraction
of a second. Quants whose runtime cannot run on the machine (MLX off Apple silicon, vLLM without an
NVIDIA or AMD Instinct GPU, NVFP4 before Blackwell) are skipped rather than estimated.

Best quant per model: ``best.pick_best`` (quality tiers by bits per weight, usable speed, resident
before spilled; the rule is in that module's docstring).
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterable

from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.estimate import memory as mem
from rigcheck.estimate.best import Candidate, pick_best
from rigcheck.estimate.estimator import Estimator
from rigcheck.estimate.model_run import ModelRun
from rigcheck.estimate.row import expected_speeds, marked_best
from rigcheck.estimate.runtimes import candidate_runtimes, runtime_unavailable_reason
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine

_tuple_new = tuple.__new__  # a NamedTuple built without its Python-level __new__ (once per row)


_BITS: dict[tuple[str, float | None], float] = {}


def _bits(quant: Quant) -> float:
    key = (quant.name, quant.bits_per_weight)
    bits = _BITS.get(key)
    if bits is None:
        bits = _BITS[key] = mem.bits_per_weight(quant)
    return bits


def _candidate(row: Estimate, quant: Quant) -> Candidate:
    decode, ttft = row.decode_tokens_per_s, row.ttft_s
    return Candidate(mem.bits_per_weight(quant), row.verdict, decode.expected if decode is not None else None,
                     ttft.expected if ttft is not None else None)


def mark_best(rows: list[Estimate], quants: dict[tuple[str, str], Quant]) -> list[Estimate]:
    """Mark the best row of each model (``best.pick_best``); returns a new list.

    ``quants`` maps (model id, quant name) to the quant record of each row; rows without one are
    never best."""
    by_model: dict[str, tuple[list[int], list[Candidate]]] = {}
    for i, row in enumerate(rows):
        quant = quants.get((row.model_id, row.quant))
        if quant is not None:
            indices, candidates = by_model.setdefault(row.model_id, ([], []))
            indices.append(i)
            candidates.append(_candidate(row, quant))
    out = [dataclasses.replace(r, best=False) if r.best else r for r in rows]
    for indices, candidates in by_model.values():
        pick = pick_best(candidates)
        if pick is not None:
            out[indices[pick]] = marked_best(out[indices[pick]])
    return out


def evaluate(machine: Machine, catalog: Catalog, settings: Settings,
             models: Iterable[Model] | None = None) -> list[Estimate]:
    """Every model x quant of ``catalog`` (or of ``models``) on ``machine``, best quant per model marked.

    Rows whose runtime cannot run here are left out; a model without a parameter count is left out.
    Never raises for an incomplete model record.
    """
    # Tens of thousands of small records and no reference cycles: the cyclic garbage collector would
    # walk the growing list again and again (a third of the time); it is paused for the loop.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(machine, catalog, settings, models)
    finally:
        if gc_was_enabled:
            gc.enable()


def _evaluate(machine: Machine, catalog: Catalog, settings: Settings,
              models: Iterable[Model] | None) -> list[Estimate]:
    estimator = Estimator(machine, catalog.devices, settings)
    rows: list[Estimate] = []
    wanted = settings.quant
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
            row = estimator.estimate_in(run, quant)
            decode, ttft = expected_speeds(row)
            candidates.append(_tuple_new(Candidate, (_bits(quant), row.verdict, decode, ttft)))
            rows.append(row)
        pick = pick_best(candidates)
        if pick is not None:
            rows[first + pick] = marked_best(rows[first + pick])
    return rows


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
    return estimator.estimate(shape, quant, runtime)

