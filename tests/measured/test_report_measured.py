"""The report of a machine with imported runs: the detail section says how to run the pick and shows the runs
beside the estimate; its JSON still meets report.schema.json."""

from __future__ import annotations

import json

from rigcheck.cli.main import main
from rigcheck.report.json import schema
from tests.measured.test_measured_cli import RUNS, _profile
from tests.report.schema_check import errors


def test_report_has_launch_commands_and_the_measured_runs(capsys, tmp_path):
    ws = _profile(tmp_path, "RTX 4080", "workstation")
    assert main(["measured", "import", str(RUNS / "llama-bench.json"), "--machine", ws]) == 0
    md, js = tmp_path / "r.md", tmp_path / "r.json"
    for path, fmt in ((md, "md"), (js, "json")):
        assert main(["report", "--machine", ws, "--format", fmt, "-o", str(path), "--select",
                     "Qwen/Qwen2.5-7B-Instruct"]) == 0
    capsys.readouterr()
    text = md.read_text()
    assert "### Run it (" in text and "llama-server -m Qwen2.5-7B-Instruct-" in text
    assert "- Q4_K_M: decode measured 119 tok/s (llama-bench); estimated" in text
    doc = json.loads(js.read_text())
    assert errors(doc, schema()) == []
    (detail,) = [d for m in doc["machines"] for d in m["details"] if d["model_id"] == "Qwen/Qwen2.5-7B-Instruct"]
    assert {c["runtime"] for c in detail["launch"]} == {"llama.cpp", "ollama"}
    q4 = next(e for e in detail["quants"] if e["quant"] == "Q4_K_M")
    assert {m["engine"] for m in q4["measured"]} == {"llama-bench"}
    assert any(line.startswith("decode corrected by your 1 measurement") for line in q4["basis"])
