"""``rigcheck fit --json``'s document: each result with its capability, cheapest hosted offer and launch commands.

``write_rows_document`` writes results already estimated (installed models, corrected speeds, a sorted listing
of every row). ``write_catalog_document`` estimates the catalog's models itself, a chunk of models at a time,
the chunks shared with forked workers where that is safe (``forked.in_order``): estimating, making each result
and encoding it are independent per model and are most of the command's time over a large catalog. Each chunk's
picks are chosen as ``fit``'s listing chooses them (``_fit_listing.picks_listing``, a choice made per model), then
all are sorted and cut; every row is written in the catalog's order. Either way the text is what one process
writing every result in turn writes. The document says which rows it holds (``settings.rows``: "all" or "picks").
"""

from __future__ import annotations

import sys
from collections.abc import Callable

FIT_SCHEMA = "rigcheck.fit/1"
MODELS_PER_CHUNK = 250


def result_item(row, facts, launch=None) -> dict[str, object]:
    """One result as the document shows it. ``facts``: fit's ``ModelFacts``; ``launch``: row -> launch commands."""
    out = row.to_dict()
    out["capability"] = facts.capability_value(row.model_id)
    out["cheapest_hosted"] = facts.cheapest_hosted(row.model_id)
    if launch is not None:
        out["launch"] = [c.to_dict() for c in launch(row)]
    out.setdefault("measured", [])
    return out


def write_rows_document(machine, catalog, settings, results: list, facts, launch=None, skipped=(),
                        measured=None, *, rows: str = "all", workers: int | None = None) -> None:
    """Write the document of ``results`` (each let go of once written) to stdout. ``workers``: as
    ``forked.in_order``."""
    from rigcheck.cli._json_stream import write_rows

    tail: dict[str, object] = {}
    if skipped:
        tail["installed_not_estimated"] = list(skipped)
    if measured is not None and measured.active:
        tail["measurements"] = {
            "runs": len(measured.checks),
            "corrections": [{"runtime": c.runtime, "backend": c.backend, "placement": c.placement, "kind": c.kind,
                             "factor": round(c.factor, 3), "measurements": c.count, "capped": c.capped}
                            for c in measured.corrections.values()]}
    # Each row is let go of once its chunk is written: the parts its to_dict works out would otherwise live on in it
    # (hundreds of MB over a 10,000-model catalog) until the command ends.
    write_rows(sys.stdout, _head(machine, catalog, settings, rows), "results", results,
               lambda row: result_item(row, facts, launch), tail, workers=workers)


def write_catalog_document(machine, catalog, settings, models: list, facts, launch, *, rows: str,
                           picks: Callable[[list], list] | None, sort_key: Callable[[object], object] | None = None,
                           limit: int | None = None, workers: int | None = None) -> None:
    """Estimate ``models`` (no model id twice) and write the document to stdout. ``picks``: the rows a chunk's
    picks estimate (``evaluate_picks``) -> the rows the listing keeps of them, which are sorted by ``sort_key`` and
    cut at ``limit``; None: every row, in the order ``evaluate`` gives. ``rows``: the scope the document states.
    ``workers``: as ``forked.in_order``."""
    from rigcheck.cli import _json_stream
    from rigcheck.estimate import forked
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.estimator import Estimator
    from rigcheck.estimate.picks import evaluate_picks

    # One estimator per process for every chunk: models of one architecture share their work across chunks too.
    estimator = Estimator(machine, catalog.devices, settings)
    if picks is not None:
        # The picks are sorted once all are made, so their chunks may hold any models: those of one architecture
        # (the fine-tunes of a base model) go together, and the work they share is done in one process, not in
        # each (a third of the per-architecture work of 10,000 models was done twice).
        models = _by_architecture(models, estimator)
    count = (len(models) + MODELS_PER_CHUNK - 1) // MODELS_PER_CHUNK

    def chunk(j: int) -> list[dict[str, object]]:
        some = models[j * MODELS_PER_CHUNK:(j + 1) * MODELS_PER_CHUNK]
        if picks is None:
            return [result_item(row, facts, launch) for row in evaluate(machine, catalog, settings, some, estimator)]
        return picks(evaluate_picks(machine, catalog, settings, some, estimator))

    if picks is None:
        bodies = forked.in_order(count, lambda j: _json_stream.chunk_body(chunk(j)), workers)
    else:
        def keyed(j: int) -> list[tuple[object, bytes]]:
            rows = chunk(j)
            bodies = _json_stream.item_bodies([result_item(row, facts, launch) for row in rows])
            return [(sort_key(row), body) for row, body in zip(rows, bodies, strict=True)]

        entries = [entry for part in forked.in_order(count, keyed, workers) for entry in part]
        entries.sort(key=lambda entry: entry[0])  # distinct keys (the model id ends each): never the bodies
        bodies = (body for _, body in (entries[:limit] if limit else entries))
    _json_stream.write_bodies(sys.stdout, _head(machine, catalog, settings, rows), "results", bodies)


def _by_architecture(models: list, estimator) -> list:
    """``models`` with those of one architecture (``Estimator.architecture_key``) next to each other, in the order
    each architecture first appears."""
    groups: dict[object, list] = {}
    for model in models:
        groups.setdefault(estimator.architecture_key(model), []).append(model)
    return [model for group in groups.values() for model in group]


def _head(machine, catalog, settings, rows: str) -> dict[str, object]:
    import msgspec

    from rigcheck.probe.profile import machine_to_dict

    return {
        "schema": FIT_SCHEMA,
        "machine": machine_to_dict(machine),
        "catalog": {
            "schema_version": catalog.schema_version,
            "generated_at": catalog.generated_at,
            "sequence": catalog.sequence,
            "source": catalog.source,
            "models": len(catalog.models),
        },
        "settings": {**msgspec.to_builtins(settings), "rows": rows},
    }
