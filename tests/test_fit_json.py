"""fit --json estimating the catalog a chunk of models at a time, beside forked workers, writes what one process
writing each result in turn writes."""

from __future__ import annotations

import json

import pytest

from rigcheck.catalog.devices import hypothetical_machine, parse_size
from rigcheck.catalog.store import load_catalog
from rigcheck.cli import _fit_json
from rigcheck.cli._fit_listing import ModelFacts, picks_listing, sort_key
from rigcheck.cli.fit import _catalog_launcher
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.rules import Thresholds
from rigcheck.estimate.types import Settings


@pytest.fixture(scope="module")
def setup():
    catalog = load_catalog()
    machine = hypothetical_machine(["RTX 4090"], parse_size("64GB"), catalog=catalog)
    settings = Settings(context_tokens=8192, prompt_tokens=4096, kv_cache_type="f16", runtime=None,
                        memory_basis="total", quant=None, usable=Thresholds(10.0, 60.0), input_per_output=3.0)
    return catalog, machine, settings, ModelFacts(catalog, None, settings.input_per_output)


def _reference(capfdbinary, catalog, machine, settings, facts, *, picks: bool, usable: bool, limit) -> bytes:
    rows = evaluate(machine, catalog, settings)
    if picks:
        rows = picks_listing(rows, facts, usable_only=usable, sort="capability", limit=limit).rows
    _fit_json.write_rows_document(machine, catalog, settings, rows, facts, _catalog_launcher(catalog, settings),
                                  rows="picks" if picks else "all", workers=0)
    return capfdbinary.readouterr().out


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize(("picks", "usable", "limit"), [(False, False, None), (True, False, None), (True, True, 5)])
def test_chunked_and_forked_is_the_same_text(monkeypatch, capfdbinary, setup, workers, picks, usable, limit):
    catalog, machine, settings, facts = setup
    expected = _reference(capfdbinary, catalog, machine, settings, facts, picks=picks, usable=usable, limit=limit)
    monkeypatch.setattr(_fit_json, "MODELS_PER_CHUNK", 7)  # many chunks, a short last one
    _fit_json.write_catalog_document(machine, catalog, settings, list(catalog.models), facts,
                                     _catalog_launcher(catalog, settings), rows="picks" if picks else "all",
                                     picks=(lambda rows: picks_listing(rows, facts, usable_only=usable,
                                                                       sort="capability", limit=None).rows)
                                     if picks else None,
                                     sort_key=sort_key("capability", facts), limit=limit, workers=workers)
    got = capfdbinary.readouterr().out
    assert got == expected
    results = json.loads(got)["results"]
    assert len(results) == limit if limit else len(results) > 50
    assert all(r["usable"] for r in results) if usable else not all(r["usable"] for r in results)
