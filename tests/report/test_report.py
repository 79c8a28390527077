"""The exported report: what the builder puts in it, each format written and read back, atomic writes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from html.parser import HTMLParser

import pytest

from rigcheck import units
from rigcheck.estimate.types import Settings
from rigcheck.report import ExportError, build_report, export
from rigcheck.report import csv as report_csv
from rigcheck.report import files as report_files
from rigcheck.report import json as report_json
from rigcheck.report.builder import ReportBuildError
from rigcheck.report.engine import Engine
from rigcheck.report.files import render_text

from . import schema_check
from .conftest import GIB, fake_evaluate, make_machine


@pytest.fixture
def report(machine, catalog, engine):
    return build_report([machine], catalog, Settings(), engine=engine)


@pytest.fixture
def fleet(catalog, engine):
    machines = [make_machine("ws-01"), make_machine("big-01", vram_gib=80, ram_gib=512, gpus=2, name="NVIDIA H100")]
    return build_report(machines, catalog, Settings(), engine=engine, target_model_id="acme/Large-70B")


# ------------------------------------------------------------------------------------------------ builder


def test_summary_names_what_runs_well_what_does_not_and_the_hosted_alternative(report):
    s = report.machines[0].summary
    # 24 GiB VRAM + 64 GiB RAM: 8B and 32B (Q4) fit on the GPU; 70B spills to RAM (slow); 671B fits nowhere.
    assert [p.model_id for p in s.runs_well] == ["acme/Mid-32B", "acme/Small-8B-Instruct"]  # by capability
    cannot = {p.model_id: p for p in s.cannot_run}
    assert set(cannot) == {"acme/Huge-671B", "acme/Large-70B"}
    # What it has is said as the verdict counted it: the row's usable budget (its memory chart's line).
    huge = [r.estimate for r in report.machines[0].rows if r.model_id == "acme/Huge-671B"]
    budget = next(r for r in report.machines[0].model_rows if r.model_id == "acme/Huge-671B").estimate.memory.budget_bytes
    assert budget and budget == max(e.memory.budget_bytes for e in huge)
    assert "needs 380 GiB" in cannot["acme/Huge-671B"].reason
    assert f"has {units.bytes_text(budget)} usable of 24 GiB VRAM + 64 GiB RAM" in cannot["acme/Huge-671B"].reason
    assert "tok/s" in cannot["acme/Large-70B"].reason
    # The best hosted alternative is the most capable model it cannot run, at the cheaper provider.
    assert s.best_hosted.model_id == "acme/Huge-671B" and s.best_hosted.provider == "cheapco"
    assert s.best_hosted.usd_per_m_blended == pytest.approx((3 * 0.3 + 1.2) / 4)
    # The counts add up to the catalog's, and the answer comes first.
    assert (s.catalog_models, s.usable_models, s.fitting_models, s.unestimated_models) == (4, 2, 3, 0)
    assert "of the catalog's 4 models usably" in s.headline
    assert s.answer == ("To run Huge-671B at 8k context at ≥ 10 tok/s: buy 2x NVIDIA GeForce RTX 4090 ($3,198), "
                        "rent 2x NVIDIA GeForce RTX 4090 ($0.80/h), or use hosted cheapco ($0.53/M blended).")


def test_fit_table_has_one_row_per_model_with_the_best_quant(report):
    rows = report.machines[0].model_rows
    assert len(rows) == 4
    by_id = {r.model_id: r.estimate for r in rows}
    assert by_id["acme/Mid-32B"].quant == "Q4_K_M" and by_id["acme/Mid-32B"].verdict == "gpu"
    # F16 and Q8_0 are both near-lossless, so the faster is the pick (the rules', as everywhere).
    assert by_id["acme/Small-8B-Instruct"].quant == "Q8_0"
    # Nothing fits: the smallest quant is shown, with what it needs.
    assert by_id["acme/Huge-671B"].quant == "Q4_K_M" and by_id["acme/Huge-671B"].verdict == "no_fit"
    assert len(report.machines[0].rows) == 9  # every model x quant kept for CSV and JSON


def test_default_selection_is_this_machines_picks_with_a_speed_curve(report):
    details = report.machines[0].details
    assert [d.model_id for d in details] == ["acme/Mid-32B", "acme/Small-8B-Instruct"], "the usable picks"
    assert [p.model_id for p in report.machines[0].plans] == ["acme/Huge-671B"], "the answer's model is planned"
    mid = details[0]
    assert mid.best_quant == "Q4_K_M"
    assert [p.context_tokens for p in mid.speed_vs_context] == [512, 2048, 8192, 32768, 131072]
    decode = [p.decode_tokens_per_s.expected for p in mid.speed_vs_context if p.decode_tokens_per_s]
    assert decode == sorted(decode, reverse=True)  # deeper context, slower decode
    assert mid.gpu_capacity_bytes == 24 * GIB and mid.ram_capacity_bytes == 64 * GIB


def test_selected_models_and_plans(machine, catalog, engine):
    r = build_report([machine], catalog, Settings(), engine=engine, selected_model_ids=["acme/Huge-671B"])
    assert [d.model_id for d in r.machines[0].details] == ["acme/Huge-671B"]
    assert r.machines[0].details[0].hosted[0].provider == "cheapco"
    plans = r.machines[0].plans
    assert [p.model_id for p in plans] == ["acme/Huge-671B"]  # it does not fit: worth a plan
    assert plans[0].options[0].meets_target and plans[0].options[0].purchase_usd == 3198.0
    assert plans[0].advice and "add a second" in plans[0].advice[0]


def test_missing_planner_is_said_not_hidden(machine, catalog):
    engine = Engine(evaluate=fake_evaluate, unavailable={"planner": "the planner is not installed"})
    r = build_report([machine], catalog, Settings(), engine=engine, selected_model_ids=["acme/Huge-671B"])
    assert r.machines[0].plans[0].note == "the planner is not installed"
    assert any("planner" in a for a in r.assumptions)
    assert r.machines[0].details[0].speed_vs_context == ()  # no estimate function: no curve, no crash


def test_unknown_model_and_no_machine_are_build_errors(machine, catalog, engine):
    with pytest.raises(ReportBuildError, match="not in the catalog"):
        build_report([machine], catalog, Settings(), engine=engine, selected_model_ids=["acme/Nope"])
    with pytest.raises(ReportBuildError, match="at least one machine"):
        build_report([], catalog, Settings(), engine=engine)
    with pytest.raises(ReportBuildError, match="cannot estimate"):
        build_report([machine], catalog, Settings(), engine=Engine(unavailable={"evaluate": "not here"}))


def test_precomputed_estimates_are_used_as_given(machine, catalog):
    # The GUI passes what it already shows; the builder must not re-estimate.
    ests = fake_evaluate(machine, catalog, Settings())
    r = build_report([machine], catalog, Settings(), engine=Engine(), estimates=[ests])
    assert [row.estimate for row in r.machines[0].rows] == ests


def test_fleet_matrix_and_target(fleet):
    f = fleet.fleet
    assert f.machine_labels == ("ws-01", "big-01")
    cells = {r.model_id: r.cells for r in f.rows}
    assert cells["acme/Mid-32B"][0].verdict == "gpu" and cells["acme/Mid-32B"][1].verdict == "gpu"
    # 70B: GPU + RAM on the workstation, all on GPU across two 80 GB cards.
    assert cells["acme/Large-70B"][0].verdict == "gpu+ram" and cells["acme/Large-70B"][1].verdict == "gpu"
    targets = {t.label: t for t in f.targets}
    assert targets["ws-01"].advice and not targets["ws-01"].cell.usable
    assert targets["big-01"].note == "already runs it at usable speed"
    assert fleet.is_fleet and fleet.title == "Fleet report: 2 machines"


def test_inventory_keeps_identifiers_and_provenance(report):
    gpu = report.machines[0].machine.gpus[0]
    assert gpu.uuid.startswith("GPU-") and gpu.serial and gpu.pcie_link == "PCIe 4.0 x16"
    assert gpu.sources["memory_bandwidth_bytes_per_s"] == "spec table"
    assert gpu.sources["pcie_link"] == "driver"


# ------------------------------------------------------------------------------------------------ formats


class _StrictHTML(HTMLParser):
    """Fails on mismatched tags; collects what a standalone page must not have."""

    VOID = {"meta", "br", "img", "hr", "input", "link", "circle", "rect", "line", "polyline", "polygon"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_standalone_well_formed_and_has_charts(report, tmp_path):
    path = export(report, "html", tmp_path / "r.html")
    parser = _StrictHTML()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    assert parser.stack == ["html"] or parser.stack == []
    assert "script" not in parser.tags and parser.external == []
    assert parser.tags.count("svg") == 2 * 2  # memory + speed chart for each of the two selected models
    text = " ".join(parser.text)
    for expected in ("Summary", "Machine inventory", "Fit table", "GPU-0b4c6f1e-7d2a-4c11-9e3f-000000000000",
                     "Assumptions", "catalog #7", "cheapco", "What it would take"):
        assert expected in text, expected


def test_memory_chart_draws_the_limit_the_verdicts_used_and_says_what_does_not_fit(catalog, engine):
    """The chart agrees with the table: its limit lines are the estimates' own budgets and every quant that does not
    fit says so on its bar (a bar under the line may still not fit: whole layers are placed)."""
    from dataclasses import replace

    import msgspec

    from rigcheck.report.charts import memory_chart

    report = build_report([make_machine()], catalog, Settings(), engine=engine,
                          selected_model_ids=["acme/Huge-671B", "acme/Mid-32B"])
    detail = next(d for d in report.machines[0].details if d.model_id == "acme/Huge-671B")
    svg = memory_chart(detail)
    assert "usable VRAM 24 GiB" in svg and "usable VRAM + RAM 88 GiB" in svg  # the fake's budgets
    assert svg.count("· does not fit") == sum(not e.fits for e in detail.quants) > 0
    assert "★ pick" not in svg  # nothing of it is picked here
    picked = next(d for d in report.machines[0].details if d.best_quant)
    assert "★ pick" in memory_chart(picked) and "best quant" not in memory_chart(picked)  # one word, as elsewhere
    # Budgets smaller than the machine's raw size (headroom, reserve) are what is drawn, whatever the capacity says.
    tight = replace(detail, quants=tuple(replace(e, memory=msgspec.structs.replace(e.memory, gpu_budget_bytes=23 * GIB,
                                                                                  budget_bytes=85 * GIB))
                                         for e in detail.quants))
    svg = memory_chart(tight)
    assert "usable VRAM + RAM 85 GiB" in svg and "88 GiB" not in svg


def test_json_validates_against_the_published_schema_and_round_trips(report, fleet, tmp_path):
    schema = report_json.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema_check.keywords_used(schema) <= schema_check.KEYWORDS
    for data, name in ((report, "one.json"), (fleet, "fleet.json")):
        doc = json.loads(export(data, "json", tmp_path / name).read_text(encoding="utf-8"))
        assert schema_check.errors(doc, schema) == []
        assert doc["schema"] == "rigcheck.report/2"
    doc = json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))
    assert doc["machines"][0]["machine"]["gpus"][0]["vram_total_bytes"] == 24 * GIB
    est = doc["machines"][0]["rows"][0]["estimate"]
    assert set(est["decode_tokens_per_s"] or {}) <= {"low", "expected", "high"}


def test_schema_check_catches_a_wrong_document(report):
    # The validator must be able to fail: a retyped field and a missing key are both reported.
    doc = report_json.to_dict(report)
    doc["machines"][0]["machine"]["gpus"][0]["vram_total_bytes"] = "24 GiB"
    del doc["catalog"]["sequence"]
    found = schema_check.errors(doc, report_json.schema())
    assert any("vram_total_bytes" in e for e in found) and any("sequence" in e for e in found)


def test_csv_round_trips_every_model_and_quant(report, fleet, tmp_path):
    rows = list(csv.DictReader(io.StringIO(export(report, "csv", tmp_path / "r.csv").read_text(encoding="utf-8"))))
    assert len(rows) == len(report.machines[0].rows) == 9
    assert tuple(rows[0]) == report_csv.COLUMNS
    for row, expected in zip(rows, report_csv.rows(report), strict=True):
        assert int(row["total_bytes"]) == expected["total_bytes"]
        assert row["verdict"] == expected["verdict"]
        if expected["decode_tokens_per_s"] is None:
            assert row["decode_tokens_per_s"] == ""
        else:
            assert float(row["decode_tokens_per_s"]) == pytest.approx(expected["decode_tokens_per_s"], rel=1e-6)
    assert sum(r["best"] == "true" for r in rows) == 3  # one best quant per model that fits
    fleet_rows = list(csv.DictReader(io.StringIO(export(fleet, "csv", tmp_path / "f.csv").read_text())))
    assert {r["machine"] for r in fleet_rows} == {"ws-01", "big-01"}
    # A fleet keeps per machine the row that speaks for each model, not every quant.
    assert len(fleet_rows) == sum(len(m.rows) for m in fleet.machines) < 18
    for label in ("ws-01", "big-01"):
        assert {r["model_id"] for r in fleet_rows if r["machine"] == label} == {r["model_id"] for r in rows}


def test_markdown_tables_are_rectangular(report, tmp_path):
    text = export(report, "md", tmp_path / "r.md").read_text(encoding="utf-8")
    assert text.startswith("# Machine report: ws-01")
    table: list[int] = []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            table.append(len(re.findall(r"(?<!\\)\|", line)))
        elif table:
            assert len(set(table)) == 1, table
            table = []
    for heading in ("## Summary", "## Machine inventory", "## Fit table", "### Speed vs context", "## Assumptions"):
        assert heading in text


def _pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def test_pdf_has_a_page_per_section_and_a_footer(report, tmp_path, qapp):
    from rigcheck.report import pdf

    pages = pdf.write(report, str(tmp_path / "direct.pdf"))
    data = export(report, "pdf", tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert _pdf_pages(data) == pages
    # Summary, inventory, fit table, two model sections, plans, assumptions: each starts a page.
    assert pages >= 7


def test_pdf_of_a_fleet(fleet, tmp_path, qapp):
    data = export(fleet, "pdf", tmp_path / "f.pdf").read_bytes()
    assert data.startswith(b"%PDF-") and _pdf_pages(data) >= 1 + 3 * 2 + 1


# ------------------------------------------------------------------------------------------------ atomicity


@pytest.mark.parametrize("fmt", ["html", "json", "pdf"])
def test_failure_mid_write_leaves_no_file_and_keeps_the_old_one(report, tmp_path, monkeypatch, fmt, qapp):
    from rigcheck.report import pdf

    def broken(*args, **kwargs):
        # Write some bytes first, as a renderer dying half-way would.
        if fmt == "pdf":
            with open(args[1], "wb") as fh:
                fh.write(b"%PDF-1.4 half")
        raise RuntimeError("renderer died")

    if fmt == "pdf":
        monkeypatch.setattr(pdf, "write", broken)
    else:
        monkeypatch.setattr(report_files, "render_text", broken)
    out = tmp_path / "out"
    out.mkdir()
    fresh = out / f"new.{fmt}"
    old = out / f"old.{fmt}"
    old.write_text("previous report")
    for target in (fresh, old):
        with pytest.raises(RuntimeError):
            export(report, fmt, target)
    assert not fresh.exists()
    assert old.read_text() == "previous report"
    assert sorted(p.name for p in out.iterdir()) == [f"old.{fmt}"]  # no temp file left


def test_write_error_is_one_clear_export_error(report, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    old = out / "r.md"
    old.write_text("previous")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ExportError, match=r"cannot write .*r\.md: no space left on device"):
        export(report, "md", old)
    assert old.read_text() == "previous"
    assert [p.name for p in out.iterdir()] == ["r.md"]


def test_unwritable_or_missing_folder(report, tmp_path, monkeypatch):
    with pytest.raises(ExportError, match="does not exist"):
        export(report, "json", tmp_path / "no" / "such" / "r.json")
    with pytest.raises(ExportError, match="is a folder"):
        export(report, "json", tmp_path)
    with pytest.raises(ExportError, match="unknown report format"):
        export(report, "docx", tmp_path / "r.docx")
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:  # root ignores folder permissions; the monkeypatched case below covers it
        locked.chmod(0o500)
        with pytest.raises(ExportError, match="permission denied"):
            export(report, "html", locked / "r.html")
        locked.chmod(0o700)

    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(ExportError, match=r"cannot write .*r\.html: permission denied"):
        export(report, "html", locked / "r.html")
    assert list(locked.iterdir()) == []


def test_progress_reaches_one(report, tmp_path):
    seen: list[tuple[float, str]] = []
    export(report, "html", tmp_path / "r.html", progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_new_file_gets_normal_permissions(report, tmp_path):
    path = export(report, "md", tmp_path / "r.md")
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_pdf_export_from_a_worker_thread(report, tmp_path, qapp, qtbot):
    # The GUI exports in a QThreadPool worker; Qt must neither warn (qt_log_level_fail) nor fail there.
    from PySide6.QtCore import QRunnable, QThreadPool

    result: dict[str, object] = {}

    class Job(QRunnable):
        def run(self):
            try:
                result["path"] = export(report, "pdf", tmp_path / "t.pdf")
            except Exception as exc:  # surfaced below with its message
                result["error"] = exc

    pool = QThreadPool()
    pool.start(Job())
    assert pool.waitForDone(60_000)
    assert "error" not in result, result.get("error")
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF-")


def test_a_large_fleet_matrix_is_split_into_tables_of_five_machines(catalog, engine):
    from rigcheck.report import html

    machines = [make_machine(f"m{i}") for i in range(7)]
    data = build_report(machines, catalog, Settings(), engine=engine)
    markup = html.render(data)
    fleet_part = markup[markup.index('id="fleet"'):markup.index('id="summary"')]
    heads = re.findall(r"<thead>(.*?)</thead>", fleet_part)
    assert [h.count("<th") for h in heads] == [2 + 5, 2 + 2]
    assert data.fleet.machine_labels == tuple(f"m{i}" for i in range(7))


@pytest.mark.parametrize(("limit", "step", "ticks"), [
    (120.0, 40.0, [0.0, 40.0, 80.0, 120.0]),
    (120.0 * (1 - 1e-12), 40.0, [0.0, 40.0, 80.0, 120.0]),  # a rounding error short of the last tick keeps it
    (119.0, 40.0, [0.0, 40.0, 80.0]),
    (1.5e-300, 5e-301, [0.0, 5e-301, 1e-300, 1.5e-300]),  # once summed with a 1e-9 tolerance: 3e291 ticks
    (1e300, 1e-300, [i * 1e-300 for i in range(12)]),  # at most twelve, whatever the ratio
    (float("inf"), 1.0, [float(i) for i in range(12)]),
    (10.0, 0.0, [0.0]), (10.0, float("nan"), [0.0]), (-1.0, 1.0, [0.0]),
])
def test_chart_axes_have_a_few_ticks_whatever_their_range(limit, step, ticks):
    from rigcheck.report.charts import _ticks

    assert _ticks(limit, step) == pytest.approx(ticks, rel=1e-9)


@pytest.mark.parametrize(("age_s", "text"), [
    (4.7 * 86400, "4 days ago"),  # the report said "(5 days old)" where catalog show and the status bar said this
    (5 * 86400 - 30, "4 days ago"),  # rounded down, as units.age_seconds_text rounds
    (5 * 3600 + 20, "5 h ago"),  # under a day: hours, not "0 days old"
])
def test_every_report_format_writes_the_catalog_age_as_catalog_show_does(catalog, machine, engine, qapp, age_s,
                                                                         text):
    import datetime as dt

    import msgspec

    from rigcheck import units

    now = dt.datetime(2026, 12, 3, 16, 57, 1, tzinfo=dt.timezone.utc)
    dated = msgspec.structs.replace(catalog, generated_at=(now - dt.timedelta(seconds=age_s)).isoformat())
    report = build_report([machine], dated, Settings(), engine=engine, now=now)
    assert units.age_seconds_text(age_s) == text  # what catalog show writes
    assert report.catalog.age_days == pytest.approx(age_s / 86400)
    for fmt, body in (("md", render_text(report, "md")), ("html", render_text(report, "html")),
                      ("pdf", _pdf_markup(report))):
        assert f"({text})" in body, fmt
        assert "days old" not in body, fmt


def _pdf_markup(report) -> str:
    """The markup the PDF is laid out from, every section."""
    from rigcheck.report import pdf

    return "".join(pdf.render_sections(report)[0])


def _plan_heading_md(body: str) -> list[str]:
    plan = body.split("## What it would take")[1]
    header = next(line for line in plan.splitlines() if line.startswith("| Configuration |"))
    return [cell.strip() for cell in header.strip("|").split("|")]


def _plan_heading_html(body: str) -> list[str]:
    plan = body.split("What it would take: the planner")[-1]
    header = next(row for row in plan.split("</tr>") if ">Configuration</th>" in row)
    return [re.sub(r"<br>", " ", cell).strip() for cell in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", header)]


@pytest.mark.parametrize(("fmt", "headings"), [
    ("md", lambda report: _plan_heading_md(render_text(report, "md"))),
    ("html", lambda report: _plan_heading_html(render_text(report, "html"))),
    ("pdf", lambda report: _plan_heading_html(_pdf_markup(report))),
])
def test_the_planners_quant_or_why_column_has_one_heading_in_every_format(machine, catalog, engine, qapp, fmt,
                                                                          headings):
    # md headed it "Why not" while it held "Q4_K_M, layer split" for options that meet the target; the PDF said
    # "Quant and split, or why not".
    from rigcheck.report.records import PLAN_WHY_HEADING

    report = build_report([machine], catalog, Settings(), engine=engine, selected_model_ids=["acme/Huge-671B"])
    options = report.machines[0].plans[0].options
    assert {o.meets_target for o in options} == {True, False}, "an option of each kind under one heading"
    heads = headings(report)
    assert heads[0] == "Configuration" and heads[-1] == PLAN_WHY_HEADING == "Quant and split, or why not", heads


def test_a_model_whose_prompt_is_too_long_is_not_said_to_need_memory(tmp_path, capsys):
    # The summary's "cannot run" said "needs 5 GiB …; has 85.5 GiB usable" for a row that does not fit because the
    # prompt is longer than the model's context; it now gives that reason, as fit does.
    from rigcheck.cli.main import main

    out = tmp_path / "r.md"
    assert main(["report", "--gpu", "RTX 4090", "--ram", "64GB", "--prompt", "300000", "--context", "400000",
                 "-o", str(out)]) == 0
    capsys.readouterr()
    rows = [line for line in out.read_text().splitlines() if line.startswith("| DeepSeek-R1 |")]
    assert rows and "does not fit: prompt longer than its context (300,000" in rows[0] and "needs" not in rows[0]
