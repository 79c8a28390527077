"""The estimator is total over valid records: for any model, device, offer and machine that validation accepts,
evaluate, cost, plan and the report builder answer (no exception) with finite numbers and valid JSON."""

from __future__ import annotations

import json
import math

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigcheck.catalog import devices as device_table
from rigcheck.catalog.records import Catalog, decode_catalog, encode_catalog
from rigcheck.catalog.store import load_embedded
from rigcheck.estimate.compare import compare_doors
from rigcheck.estimate.cost import CostError
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.plan import plan
from rigcheck.estimate.serving import Workload
from rigcheck.estimate.target import PlanError
from rigcheck.estimate.types import Settings
from rigcheck.report import build_report
from rigcheck.report.files import render_text
from tests.hostile import strategies as S

EMBEDDED = load_embedded()
RTX_4090 = device_table.hypothetical_machine(["RTX 4090"], 64 * 2**30, catalog=EMBEDDED)
total = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _catalog(models, devices=(), hosted=(), rentals=(), scores=()) -> Catalog:
    catalog = msgspec.structs.replace(
        EMBEDDED, models=list(models), devices=[*EMBEDDED.devices, *devices], hosted=[*EMBEDDED.hosted, *hosted],
        rentals=[*EMBEDDED.rentals, *rentals], scores=[*EMBEDDED.scores, *scores])
    return decode_catalog(encode_catalog(catalog))  # what validation accepts, exactly as a feed would carry it


def _finite_json(document) -> None:
    json.dumps(document, allow_nan=False)


def _check_rows(rows) -> None:
    for row in rows:
        document = row.to_dict()
        _finite_json(document)
        for band in (row.prefill_tokens_per_s, row.decode_tokens_per_s, row.ttft_s):
            if band is not None:
                assert all(math.isfinite(x) and x >= 0 for x in (band.low, band.expected, band.high)), band
        assert row.memory.total_bytes >= 0


@total
@given(models=st.lists(S.models, min_size=1, max_size=3, unique_by=lambda m: m.id), run_settings=S.settings)
def test_evaluate_is_total_over_valid_models(models, run_settings):
    catalog = _catalog(models)
    _check_rows(evaluate(RTX_4090, catalog, run_settings))


@total
@given(machine=S.machines, run_settings=S.settings)
def test_evaluate_is_total_over_valid_machines(machine, run_settings):
    _check_rows(evaluate(machine, EMBEDDED, run_settings, models=EMBEDDED.models[:12]))


@total
@given(model=S.models, device=S.devices, run_settings=S.settings, count=st.integers(1, 8))
def test_evaluate_is_total_over_valid_devices(model, device, run_settings, count):
    catalog = _catalog([model], devices=[device])
    try:
        machine = device_table.hypothetical_machine([f"{count} x {device.name}"], 2**30, catalog=catalog)
    except device_table.DeviceLookupError:  # a unified-memory device is a whole machine: one, not several
        assert device.unified_memory and count > 1
        return
    _check_rows(evaluate(machine, catalog, run_settings))


@total
@given(model=S.models, offers=st.lists(S.hosted, max_size=2), rentals=st.lists(S.rentals, max_size=2),
       input_per_day=st.floats(0, 1e12), output_per_day=st.floats(1, 1e12))
def test_cost_is_total(model, offers, rentals, input_per_day, output_per_day):
    offers = [msgspec.structs.replace(o, model_id=model.id) for o in offers]
    catalog = _catalog([model], hosted=offers, rentals=rentals)
    workload = Workload(input_tokens_per_day=input_per_day, output_tokens_per_day=output_per_day)
    try:
        comparison = compare_doors(catalog.models[0], catalog, workload, Settings(), RTX_4090)
    except CostError:
        return
    _finite_json(json.loads(json.dumps(comparison.to_dict(), default=str)))


@total
@given(model=S.models, device=S.devices)
def test_plan_is_total(model, device):
    catalog = _catalog([model], devices=[device])
    try:
        result = plan(catalog.models[0], catalog)
    except PlanError:
        return
    assert result is not None


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(models=st.lists(S.models, min_size=1, max_size=2, unique_by=lambda m: m.id), machine=S.machines,
       offers=st.lists(S.hosted, max_size=2), scores=st.lists(S.scores, max_size=2))
def test_report_is_total(models, machine, offers, scores):
    offers = [msgspec.structs.replace(o, model_id=models[0].id) for o in offers]
    scores = [msgspec.structs.replace(s, model_id=models[-1].id) for s in scores]
    catalog = _catalog([*models, *EMBEDDED.models[:3]], hosted=offers, scores=scores)
    report = build_report([machine], catalog, Settings(), target_model_id=models[0].id,
                          selected_model_ids=[m.id for m in models])
    for fmt in ("json", "csv", "md", "html"):
        text = render_text(report, fmt)
        if fmt == "json":
            json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON report"))
    fleet = build_report([machine, RTX_4090], catalog, Settings(), target_model_id=models[0].id)
    json.loads(render_text(fleet, "json"), parse_constant=lambda c: pytest.fail(f"{c} in the JSON report"))


@pytest.mark.timeout(60)
def test_a_workload_of_huge_requests_on_a_tiny_cache_does_not_hang():
    """Found by the property above: 12 M input tokens a day for one output token makes a request of billions of
    input tokens, and a model whose KV cache is a byte a token holds it; the serving model stepped its prefill a
    chunk at a time (minutes per estimate). It now steps at most a few hundred groups of chunks."""
    from rigcheck.catalog.records import Model, Quant

    model = Model(id="org/tiny-cache", family="x", params_active_b=19_398.0, num_layers=4992, hidden_size=182,
                  num_attention_heads=235, num_kv_heads=235, attention="mha", max_context_tokens=8294,
                  quants=[Quant(name="BF16", format="safetensors", bits_per_weight=25.5, file_size_bytes=216)])
    catalog = _catalog([model])
    workload = Workload(input_tokens_per_day=12_076_390.0, output_tokens_per_day=1.0)
    try:
        compare_doors(catalog.models[0], catalog, workload, Settings(), RTX_4090)
    except CostError:
        pass
