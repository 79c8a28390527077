"""Fleet scale: a report's size stays bounded whatever the catalog's size (the full model list goes to CSV/JSON of
one machine; a fleet JSON carries each machine's matrix rows only; Markdown, HTML and PDF keep to the picks), the
PDF is laid out section by section, and ``probe --format prometheus`` writes metrics Prometheus can parse."""

from __future__ import annotations

import csv
import io
import json
import os

import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rigcheck.catalog import devices
from rigcheck.catalog.store import load_embedded
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory
from rigcheck.report import build_report, render_text
from rigcheck.report.fleet import FLEET_ROWS
from rigcheck.report.json import schema
from rigcheck.report.pdf import render_sections
from rigcheck.report.prometheus import render as prometheus
from rigcheck.report.records import FIT_TABLE_ROWS, FLEET_FIT_TABLE_ROWS
from tests.hostile.conftest import assert_one_clear_line
from tests.report.schema_check import errors as schema_errors

pytestmark = pytest.mark.timeout(300)
EMBEDDED = load_embedded()


def _big_catalog(copies: int):
    """The embedded catalog with every model repeated ``copies`` times under new ids."""
    models = [msgspec.structs.replace(m, id=f"{m.id}-copy{k}" if k else m.id)
              for k in range(copies) for m in EMBEDDED.models]
    return msgspec.structs.replace(EMBEDDED, models=models)


def _estimated(machine_report) -> int:
    """Models the estimator could size (a model without a parameter count is in the catalog, not in a fit table)."""
    return len({r.model_id for r in machine_report.rows})


def _machines(n: int, catalog=EMBEDDED) -> list[Machine]:
    names = ["RTX 4090", "2 x RTX 3090", "H100 SXM", "RTX 5090"]
    return [msgspec.structs.replace(devices.hypothetical_machine([names[i % 4]], (64 + 64 * (i % 3)) * 2**30,
                                                                 catalog=catalog), label=f"node-{i}")
            for i in range(n)]


def test_fleet_json_is_bounded_whatever_the_catalog_size():
    sizes = {}
    for copies in (1, 4):
        catalog = _big_catalog(copies)
        report = build_report(_machines(3, catalog), catalog, Settings())
        doc = json.loads(render_text(report, "json"))
        assert schema_errors(doc, schema()) == []
        for machine, mr in zip(doc["machines"], report.machines, strict=True):
            assert machine["rows_scope"] == "fleet_matrix"
            assert 0 < len(machine["rows"]) <= FLEET_ROWS
            assert {r["model_id"] for r in machine["rows"]} <= {r["model_id"] for r in doc["fleet"]["rows"]}
            assert machine["rows_omitted"] == _estimated(mr) - len(machine["rows"])
            assert all(r["estimate"]["basis"] == [] for r in machine["rows"]), "a fleet carries no basis lines"
        sizes[copies] = sum(len(json.dumps(m)) for m in doc["machines"])
    assert sizes[4] < 1.3 * sizes[1], f"per-machine JSON grew with the catalog: {sizes}"


def test_machine_json_and_csv_carry_the_full_model_list():
    catalog = _big_catalog(2)
    report = build_report(_machines(1, catalog), catalog, Settings())
    doc = json.loads(render_text(report, "json"))
    rows = doc["machines"][0]["rows"]
    assert doc["machines"][0]["rows_scope"] == "all" and doc["machines"][0]["rows_omitted"] == 0
    assert len({r["model_id"] for r in rows}) == _estimated(report.machines[0]) > len(EMBEDDED.models)
    assert len(rows) == len(report.machines[0].rows)
    csv_rows = list(csv.DictReader(io.StringIO(render_text(report, "csv"))))
    assert len(csv_rows) == len(rows)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_markdown_and_html_keep_to_the_picks(fmt):
    catalog = _big_catalog(2)  # 220 models: more than a fit table shows
    report = build_report(_machines(1, catalog), catalog, Settings())
    one = render_text(report, fmt)
    assert f"The {FIT_TABLE_ROWS} most capable are shown; {_estimated(report.machines[0]) - FIT_TABLE_ROWS} more" in one
    fleet = build_report(_machines(2, catalog), catalog, Settings())
    text = render_text(fleet, fmt)
    assert f"The {FLEET_FIT_TABLE_ROWS} most capable are shown" in text
    for mr in fleet.machines:  # a fleet keeps, per machine, the row that speaks for each model
        assert len(mr.rows) == _estimated(mr)


def test_fleet_csv_is_one_row_per_machine_and_model(tmp_path):
    report = build_report(_machines(3), EMBEDDED, Settings())
    rows = list(csv.DictReader(io.StringIO(render_text(report, "csv"))))
    for label, mr in zip(("node-0", "node-1", "node-2"), report.machines, strict=True):
        mine = [r for r in rows if r["machine"] == label]
        assert len({r["model_id"] for r in mine}) == len(mine) == _estimated(mr)


def test_the_pdf_is_laid_out_section_by_section(qapp, tmp_path):
    from rigcheck.report.files import export

    report = build_report(_machines(3), EMBEDDED, Settings())
    sections, _ = render_sections(report)
    # The fleet matrix, then each machine's summary, inventory and fit table, then the assumptions.
    assert len(sections) == 1 + 3 * 3 + 1
    assert all(s.startswith("<!DOCTYPE html>") and s.endswith("</body></html>") for s in sections)
    assert not any('<h2 class="pb"' in s for s in sections), "each section starts its own document, no blank page"
    path = export(report, "pdf", tmp_path / "f.pdf")
    assert path.read_bytes().startswith(b"%PDF-")


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_prometheus_metrics_parse_and_carry_the_picks():
    machine = devices.hypothetical_machine(["2 x RTX 4090"], 128 * 2**30, catalog=EMBEDDED)
    text = prometheus(machine, EMBEDDED, evaluate(machine, EMBEDDED, Settings()), Settings(), "embedded")
    families = _families(text)
    memory = families["rigcheck_gpu_memory_bytes"].samples
    assert [s.labels["gpu"] for s in memory] == ["0", "1"] and memory[0].value == 24 * 2**30
    assert families["rigcheck_gpu_memory_bandwidth_bytes_per_second"].samples[0].value > 9e11
    models = {s.labels["state"]: s.value for s in families["rigcheck_models"].samples}
    estimated = {e.model_id for e in evaluate(machine, EMBEDDED, Settings())}
    assert 0 < models["usable"] <= models["fit"] <= models["catalog"] == len(estimated)
    (best,) = families["rigcheck_best_model"].samples
    assert best.labels["model"] in {m.id for m in EMBEDDED.models} and best.labels["quant"]
    assert families["rigcheck_best_model_decode_tokens_per_second"].samples[0].value >= 10


def test_prometheus_label_values_from_hostile_names_stay_labels():
    gpu = Gpu(index=0, vendor="nvidia", name='RTX "4090"\\\n\x1b[31m}{evil="1"', vram_total_bytes=24 * 2**30,
              memory_bandwidth_bytes_per_s=1e12, uuid="GPU-\x07x")
    machine = Machine(gpus=(gpu,), cpu=Cpu(), memory=Memory(total_bytes=64 * 2**30))
    text = prometheus(machine, EMBEDDED, evaluate(machine, EMBEDDED, Settings(), models=EMBEDDED.models[:5]),
                      Settings())
    assert "\x1b" not in text and "\x07" not in text
    (sample,) = _families(text)["rigcheck_gpu_memory_bytes"].samples
    assert sample.labels["name"] == 'RTX "4090"\\\n[31m}{evil="1"' and set(sample.labels) == {"gpu", "name", "uuid"}


def test_probe_prometheus_to_a_file_is_atomic_and_refuses_special_files(cli, tmp_path):
    out = tmp_path / "rigcheck.prom"
    out.write_text("old\n")
    code, stdout, err = cli("probe", "--format", "prometheus", "-o", str(out))
    assert code == 0, err
    assert stdout == "" and "rigcheck_models" in _families(out.read_text())
    assert oct(out.stat().st_mode & 0o777) != "0o600", "the collector (another user) can read it"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temporary left"
    fifo = tmp_path / "pipe.prom"
    os.mkfifo(fifo)
    code, _, err = cli("probe", "--format", "prometheus", "-o", str(fifo))
    assert code == 2
    assert_one_clear_line(err, "not a regular file")
    code, _, err = cli("probe", "--json", "--format", "prometheus")
    assert code == 2
    assert_one_clear_line(err, "two formats")


def test_a_fleet_build_leaves_no_cyclic_garbage():
    """The builder pauses the cyclic collector while it evaluates a fleet: that is safe only while evaluating
    makes no reference cycles (each machine's garbage is then freed by reference counting alone)."""
    import gc

    machines = [*_machines(4), devices.hypothetical_machine([], 64 * 2**30, catalog=EMBEDDED),
                devices.hypothetical_machine(["M2 Ultra 76c"], 192 * 2**30, catalog=EMBEDDED)]
    render_text(build_report(machines, EMBEDDED, Settings()), "json")  # first use: imports, caches
    gc.collect()
    gc.disable()
    try:
        report = build_report(machines, EMBEDDED, Settings())
        del report
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert gc.isenabled()
