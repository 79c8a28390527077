"""`rigcheck measured import|list|remove`, `bench`, `validate --measured` and what the runs do to `fit`:
shown beside the estimate, a bounded correction of that machine's band, never of another machine's."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

import msgspec
import pytest

from rigcheck.catalog.devices import hypothetical_machine, parse_size
from rigcheck.cli.main import main
from rigcheck.probe.profile import dump_profile
from tests.installed.layouts import QWEN25_7B, write_gguf

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


def _run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _profile(tmp_path, gpu: str, host: str) -> str:
    m = hypothetical_machine([gpu], parse_size("64GB"))
    m = msgspec.structs.replace(m, origin="profile", hostname=host, label=host)
    path = tmp_path / f"{host}.json"
    path.write_text(dump_profile(m))
    return str(path)


def _fit(capsys, profile, *extra):
    code, out, err = _run(capsys, "fit", "--machine", profile, "--model", "Qwen/Qwen2.5-7B-Instruct", "--quant",
                          "Q4_K_M", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_import_shows_measured_beside_the_estimate_and_corrects_that_machine_only(capsys, tmp_path):
    ws = _profile(tmp_path, "RTX 4080", "workstation")
    other = _profile(tmp_path, "RTX 4080", "other-box")
    before = _fit(capsys, ws)["results"][0]
    code, out, err = _run(capsys, "measured", "import", str(RUNS / "llama-bench.json"), "--machine", ws)
    assert code == 0, err
    assert "kept 2 new run(s)" in out and "×" in out
    doc = _fit(capsys, ws)
    row = doc["results"][0]
    assert {m["engine"] for m in row["measured"]} == {"llama-bench"}
    tg = next(m for m in row["measured"] if m["decode_tokens_per_s"])
    assert tg["decode_tokens_per_s"] == 118.881588
    assert tg["decode_ratio"] == pytest.approx(118.881588 / tg["estimated_decode_tokens_per_s"], abs=1e-3)
    factor = tg["decode_ratio"]
    # The expected value moves by the runs' ratio, the band narrows, and the basis says so.
    assert row["decode_tokens_per_s"]["expected"] == pytest.approx(before["decode_tokens_per_s"]["expected"] * factor,
                                                                   rel=0.01)
    width = lambda b: (b["high"] - b["low"]) / b["expected"]  # noqa: E731
    assert width(row["decode_tokens_per_s"]) < width(before["decode_tokens_per_s"])
    assert width(row["prefill_tokens_per_s"]) < width(before["prefill_tokens_per_s"])
    assert any(line.startswith("decode corrected by your 1 measurement, ×") for line in row["basis"])
    assert doc["measurements"]["runs"] == 2
    # Another machine, even with the same GPU, and what-if machines are left alone.
    other_row = _fit(capsys, other)["results"][0]
    assert other_row["decode_tokens_per_s"] == before["decode_tokens_per_s"] and other_row["measured"] == []
    code, out, _ = _run(capsys, "fit", "--gpu", "RTX 4080", "--ram", "64GB", "--model", "Qwen/Qwen2.5-7B-Instruct",
                        "--quant", "Q4_K_M", "--json")
    assert json.loads(out)["results"][0]["decode_tokens_per_s"] == before["decode_tokens_per_s"]
    # --no-measured turns it off.
    off = _fit(capsys, ws, "--no-measured")["results"][0]
    assert off["decode_tokens_per_s"] == before["decode_tokens_per_s"] and off["measured"] == []
    # Importing the same file again adds nothing.
    code, out, _ = _run(capsys, "measured", "import", str(RUNS / "llama-bench.csv"), "--machine", ws)
    assert code == 0 and "kept 2 new run(s)" in out
    code, out, _ = _run(capsys, "measured", "import", str(RUNS / "llama-bench.json"), "--machine", ws)
    assert "kept 0 new run(s)" in out


def test_list_remove_and_validate_the_kept_runs(capsys, tmp_path):
    ws = _profile(tmp_path, "RTX 4080", "workstation")
    assert _run(capsys, "measured", "import", str(RUNS / "llama-bench.md"), "--machine", ws)[0] == 0
    code, out, _ = _run(capsys, "measured", "list", "--json")
    runs = json.loads(out)["runs"]
    assert len(runs) == 4 and all(r["machine_label"] == "workstation" for r in runs)
    assert all(r["model_id"] == "Qwen/Qwen2.5-7B-Instruct" and r["quant"] == "Q4_K_M" for r in runs)
    assert {r["device"] for r in runs} == {"NVIDIA GeForce RTX 4080"}  # the table names no GPU: the machine's
    code, out, _ = _run(capsys, "validate", "--measured", "--json")
    report = json.loads(out)
    assert code == 0 and report["summary"]["decode"]["count"] == 2 and report["summary"]["prefill"]["count"] == 2
    code, out, _ = _run(capsys, "measured", "remove", runs[0]["id"][:6])
    assert code == 0 and "removed 1" in out
    assert len(json.loads(_run(capsys, "measured", "list", "--json")[1])["runs"]) == 3
    code, _, err = _run(capsys, "measured", "remove", "nope")
    assert code == 2 and "no kept run" in err
    assert _run(capsys, "measured", "remove", "--all")[0] == 0
    code, out, _ = _run(capsys, "measured", "list")
    assert "no measurements kept" in out


def test_refusals_keep_the_data(capsys, tmp_path):
    other_gpu = _profile(tmp_path, "RTX 4090", "gamer")
    code, _, err = _run(capsys, "measured", "import", str(RUNS / "llama-bench.json"), "--machine", other_gpu)
    assert code == 2 and "measured on NVIDIA GeForce RTX 4080" in err and "--machine" in err
    code, _, err = _run(capsys, "measured", "import", str(RUNS / "llama-bench.json"), "--gpu", "RTX 4080")
    assert code == 2 and "real machine" in err
    code, _, err = _run(capsys, "measured", "import", str(tmp_path / "missing.json"), "--machine", other_gpu)
    assert code == 2 and "cannot read" in err
    store = Path(os.environ["RIGCHECK_DATA_DIR"]) / "measurements.json"
    store.write_text("{damaged")
    ws = _profile(tmp_path, "RTX 4080", "workstation")
    code, _, err = _run(capsys, "measured", "import", str(RUNS / "llama-bench.json"), "--machine", ws)
    assert code == 2 and "damaged" in err and store.read_text() == "{damaged"
    code, out, err = _run(capsys, "fit", "--machine", ws, "--model", "Qwen/Qwen2.5-7B-Instruct", "--json")
    assert code == 0 and "not used" in err and json.loads(out)["results"]


def test_ollama_statistics_need_the_model_which_an_installed_tag_names(capsys, tmp_path):
    from tests.installed.layouts import ollama_pull

    ws = _profile(tmp_path, "RTX 4080", "workstation")
    ollama_pull(Path(os.environ["OLLAMA_MODELS"]), "qwen2.5", "7b", write_gguf(tmp_path / "q.gguf", QWEN25_7B)[0])
    code, out, err = _run(capsys, "measured", "import", str(RUNS / "ollama-verbose.txt"), "--machine", ws,
                          "--model", "qwen2.5:7b", "--json")
    assert code == 0, err
    (run,) = json.loads(out)["runs"]
    assert (run["model_id"], run["quant"], run["engine"], run["backend"]) == (
        "Qwen/Qwen2.5-7B-Instruct", "Q4_K_M", "ollama", "cuda")
    assert run["decode_ratio"] and run["decode_tokens_per_s"] == 124.04


def _fake_llama_bench(bin_dir: Path, record: Path) -> None:
    """A llama-bench on PATH that records its arguments and prints the recorded JSON run."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "llama-bench"
    script.write_text(f"""#!{sys.executable}
import sys
if "--help" in sys.argv:
    print("  -fa, --flash-attn <on|off|auto>")
    sys.exit(0)
open({str(record)!r}, "w").write(" ".join(sys.argv[1:]))
sys.stdout.write(open({str(RUNS / "llama-bench.json")!r}).read())
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_bench_runs_llama_bench_with_the_estimated_placement_and_keeps_the_run(capsys, tmp_path, monkeypatch):
    ws = _profile(tmp_path, "RTX 4080", "workstation")
    model = write_gguf(tmp_path / "models" / "Qwen2.5-7B-Instruct-Q4_K_M.gguf", QWEN25_7B)[0]
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, out, err = _run(capsys, "bench", str(model), "--machine", ws)
    assert code == 1 and "llama-bench is not on PATH: skipped" in err and not out
    record = tmp_path / "argv.txt"
    _fake_llama_bench(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    code, out, err = _run(capsys, "bench", str(model), "--machine", ws)
    assert code == 0, err
    argv = record.read_text().split()
    assert argv[:2] == ["-m", str(model)] and argv[argv.index("-ngl") + 1] == "999"
    assert argv[argv.index("-fa") + 1] == "on" and argv[argv.index("-o") + 1] == "json"
    runs = json.loads(_run(capsys, "measured", "list", "--json")[1])["runs"]
    assert len(runs) == 2 and runs[0]["model_file"] == str(model)
    code, _, err = _run(capsys, "bench", "no-such-model", "--machine", ws)
    assert code == 2 and "no installed GGUF model" in err


def test_fit_text_marks_the_figures_that_rest_on_your_runs(capsys, tmp_path):
    ws = _profile(tmp_path, "RTX 4080", "workstation")
    code, out, _ = _run(capsys, "fit", "--machine", ws, "--model", "Qwen/Qwen2.5-7B-Instruct", "--all")
    assert code == 0 and " m " not in out and not out.rstrip().endswith("m") and "= measured" not in out
    assert _run(capsys, "measured", "import", str(RUNS / "llama-bench.json"), "--machine", ws)[0] == 0
    code, out, _ = _run(capsys, "fit", "--machine", ws, "--model", "Qwen/Qwen2.5-7B-Instruct", "--all")
    doc = _fit(capsys, ws, "--all")  # the same rows as JSON: which carry their runs
    json_measured = {r["quant"] for r in doc["results"] if r["measured"]}
    assert json_measured == {"Q4_K_M"}
    lines = {line.split()[2] if line.startswith("*") else line.split()[1]: line
             for line in out.splitlines() if "Qwen/Qwen2.5-7B-Instruct" in line}
    # (quant, the marks its prefill, decode and TTFT figures end with)
    for quant, mark in [("Q4_K_M", "m"),  # measured: llama-bench pp512 and tg128 of this quant
                        ("Q6_K", "c"),  # llama.cpp all on the GPU, another quant: corrected by those runs
                        ("AWQ-INT4", None)]:  # vLLM: no run of that runtime, estimated alone
        figures = lines[quant].split("Fits in VRAM")[1]
        assert re.findall(r" ([mc])(?=\s)", figures) == ([mark] * 3 if mark else []), (quant, figures)
    legend = next(line for line in out.splitlines() if line.startswith("m = "))
    assert legend.startswith("m = measured on this machine: your runs of this model and quant (2 kept)")
    assert "c = corrected by your runs of other models or quants on this machine" in legend
    assert legend.endswith("other figures estimated.")
    # The picks listing: its pick (Q6_K) is corrected only, and the legend names only the mark it shows.
    code, out, _ = _run(capsys, "fit", "--machine", ws, "--model", "Qwen/Qwen2.5-7B-Instruct")
    row = next(line for line in out.splitlines() if line.startswith("Qwen/Qwen2.5-7B-Instruct"))
    assert "Q6_K" in row and row.count(" c ") == 2
    assert any(line.startswith("c = corrected by your runs of other models or quants on this machine (2 kept)")
               for line in out.splitlines()) and "m = measured" not in out
    # --no-measured: no marks, no legend.
    code, out, _ = _run(capsys, "fit", "--machine", ws, "--model", "Qwen/Qwen2.5-7B-Instruct", "--no-measured")
    assert " c " not in out and "= corrected" not in out
