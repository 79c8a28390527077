"""``rigcheck report`` end to end on the embedded catalog: what-if machines, profiles, fleets, bad input."""

from __future__ import annotations

import csv
import json

import pytest

from rigcheck.cli.main import main
from rigcheck.report import json as report_json

from . import schema_check

pytest.importorskip("rigcheck.estimate.engine", reason="the estimator is not in this checkout")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _profile(tmp_path, name: str, gpus: list[str], ram: str) -> str:
    from rigcheck.catalog import devices
    from rigcheck.probe.profile import dump_profile

    machine = devices.hypothetical_machine(gpus, devices.parse_size(ram))
    path = tmp_path / f"{name}.json"
    path.write_text(dump_profile(machine), encoding="utf-8")
    return str(path)


def test_json_report_for_a_what_if_machine_validates(capsys, tmp_path):
    out_path = tmp_path / "r.json"
    code, out, err = _run(capsys, "report", "--gpu", "RTX 4090", "--ram", "64GB", "-o", str(out_path),
                          "--select", "Qwen3-32B", "--context", "16384")
    assert code == 0, err
    assert "wrote report (json)" in out
    doc = json.loads(out_path.read_text(encoding="utf-8"))
    assert schema_check.errors(doc, report_json.schema()) == []
    assert doc["settings"]["context_tokens"] == 16384
    assert [d["model_id"] for d in doc["machines"][0]["details"]] == ["Qwen/Qwen3-32B"]
    gpu = doc["machines"][0]["machine"]["gpus"][0]
    assert gpu["vram_total_bytes"] == 24 * 1024**3 and gpu["memory_bandwidth_bytes_per_s"] > 9e11
    assert doc["machines"][0]["summary"]["runs_well"], "a 4090 runs some catalog model at usable speed"


def test_fleet_of_two_profiles(capsys, tmp_path):
    a = _profile(tmp_path, "ws", ["RTX 4090"], "64GB")
    b = _profile(tmp_path, "node", ["8 x H100"], "1TB")
    out_path = tmp_path / "fleet.csv"
    code, out, err = _run(capsys, "report", "--machine", a, "--machine", b, "--format", "csv", "-o", str(out_path))
    assert code == 0, err
    assert "fleet report" in out
    rows = list(csv.DictReader(out_path.open(encoding="utf-8")))
    assert len({r["machine"] for r in rows}) == 2
    md = tmp_path / "fleet.md"
    code, _, err = _run(capsys, "report", "--machine", a, "--machine", b, "-o", str(md),
                        "--target-model", "deepseek-ai/DeepSeek-R1")
    assert code == 0, err
    text = md.read_text(encoding="utf-8")
    assert "## Fleet: which machines run which models" in text
    assert "### Bringing the fleet to" in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-o", "/no/such/folder/r.pdf"], "does not exist"),
        (["-o", "report.docx"], "cannot tell the format"),
        (["-o", "r.json", "--select", "no-such-model-xyz"], "no-such-model-xyz"),
        (["-o", "r.json", "--gpu", "RTX 9999 Imaginary"], "RTX 9999"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, argv, message):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    base = ["report", "--gpu", "RTX 4090", "--ram", "64GB"] if "--gpu" not in argv else ["report", "--ram", "64GB"]
    code, out, err = _run(capsys, *base, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err
    assert not any(p.name.startswith(".r.") for p in tmp_path.iterdir())


def test_bad_context_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--gpu", "RTX 4090", "-o", "r.json", "--context", "zero"])
    assert exc.value.code == 2


def test_report_to_standard_output_writes_the_document_and_no_file(capsys, tmp_path, monkeypatch):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    code, out, err = _run(capsys, "report", "--gpu", "RTX 4090", "--ram", "64GB", "-o", "-", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["schema"] == "rigcheck.report/2"
    assert list((tmp_path / "cwd").iterdir()) == []  # not a file named "-"


def test_pdf_to_standard_output_is_the_pdf_bytes(capfdbinary, tmp_path, monkeypatch):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    code = main(["report", "--gpu", "RTX 4090", "--ram", "64GB", "-o", "-", "--format", "pdf",
                 "--select", "Qwen3-8B"])
    out, _ = capfdbinary.readouterr()
    assert code == 0
    assert out.startswith(b"%PDF-") and out.rstrip().endswith(b"%%EOF")
    assert list((tmp_path / "cwd").iterdir()) == []


@pytest.mark.parametrize(("argv", "says"), [
    (["-o", "-"], "cannot tell the format from standard output"),
    (["-o", "r.md", "--format", "pdf"], "'r.md' names a Markdown file but --format is pdf"),
])
def test_report_output_and_format_that_disagree_are_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, says):
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    code, out, err = _run(capsys, "report", "--gpu", "RTX 4090", "--ram", "64GB", *argv)
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1
    assert list((tmp_path / "cwd").iterdir()) == []


def test_a_name_without_a_known_suffix_takes_the_format_given(capsys, tmp_path):
    target = tmp_path / "report.txt"
    code, out, err = _run(capsys, "report", "--gpu", "RTX 4090", "--ram", "64GB", "-o", str(target), "--format", "md")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("# ")
