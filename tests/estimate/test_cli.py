"""`rigcheck fit` and `rigcheck validate`: the documented JSON shapes, the table, and bad input."""

from __future__ import annotations

import json

import pytest

from rigcheck.cli.main import main

RESULT_KEYS = {"model_id", "quant", "runtime", "verdict", "memory", "max_context_tokens", "prefill_tokens_per_s",
               "decode_tokens_per_s", "ttft_s", "basis", "usable", "capability", "cheapest_hosted"}
HOSTED_KEYS = {"provider", "usd_per_m_input", "usd_per_m_output", "usd_per_m_blended"}
MEMORY_KEYS = {"weights_bytes", "kv_cache_bytes", "overhead_bytes", "total_bytes", "gpu_bytes", "ram_bytes"}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_json_schema(capsys):
    code, out, err = _run(capsys, "fit", "--gpu", "RTX 4090", "--ram", "64GB", "--model", "Meta-Llama-3-8B",
                          "--model", "Qwen/Qwen3-30B-A3B", "--context", "16384", "--prompt", "2000",
                          "--kv-type", "q8_0", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "rigcheck.fit/1"
    assert doc["machine"]["schema"] == "rigcheck.machine/1"
    assert doc["catalog"]["schema_version"] and doc["settings"]["context_tokens"] == 16384
    assert doc["settings"]["kv_cache_type"] == "q8_0"
    results = doc["results"]
    assert {r["model_id"] for r in results} == {"meta-llama/Meta-Llama-3-8B", "Qwen/Qwen3-30B-A3B"}
    for r in results:
        assert RESULT_KEYS <= set(r)
        assert MEMORY_KEYS <= set(r["memory"])
        assert r["verdict"] in ("gpu", "gpu+ram", "unified", "cpu", "no_fit")
        if r["verdict"] == "no_fit":
            assert r["prefill_tokens_per_s"] is None and r["decode_tokens_per_s"] is None and r["ttft_s"] is None
        else:
            for key in ("prefill_tokens_per_s", "decode_tokens_per_s", "ttft_s"):
                band = r[key]
                assert band["low"] <= band["expected"] <= band["high"]
        assert r["basis"] and all(isinstance(line, str) for line in r["basis"])
        assert isinstance(r["usable"], bool)
        assert r["capability"] is None or 0 < r["capability"] <= 100
        hosted = r["cheapest_hosted"]
        if hosted is not None:
            assert set(hosted) == HOSTED_KEYS
            assert hosted["usd_per_m_blended"] == pytest.approx(
                (3 * hosted["usd_per_m_input"] + hosted["usd_per_m_output"]) / 4, abs=1e-6)
    assert sum(r["best"] for r in results) == 2, "one row speaks for each model"
    assert doc["settings"]["usable"] == {"min_decode_tokens_per_s": 10.0, "max_ttft_s": 60.0}
    assert doc["settings"]["input_per_output"] == 3.0
    assert any(r["capability"] for r in results if r["model_id"] == "Qwen/Qwen3-30B-A3B") is False, \
        "no published score for Qwen3-30B-A3B in the catalog: capability null"
    assert {r["runtime"] for r in results} <= {"llama.cpp", "vllm"}, "no MLX rows on an NVIDIA machine"


def test_fit_all_lists_every_quant_and_marks_the_pick(capsys):
    code, out, _ = _run(capsys, "fit", "--gpu", "RTX 4090", "--ram", "64GB", "--model", "Meta-Llama-3-8B", "--all")
    assert code == 0
    lines = [line for line in out.splitlines() if "Meta-Llama-3-8B" in line]
    assert len(lines) >= 8, "with --all every quant is listed"
    assert sum(line.startswith("*") for line in lines) == 1
    assert "DECODE tok/s" in out and "TTFT" in out


def test_fit_quant_filter(capsys):
    code, out, _ = _run(capsys, "fit", "--gpu", "2 x RTX 3090", "--ram", "128GB", "--quant", "q4_k_m", "--json")
    assert code == 0
    results = json.loads(out)["results"]
    assert results and {r["quant"] for r in results} == {"Q4_K_M"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "--gpu", "RTX 9999 Imaginary", "--ram", "64GB"], "unknown GPU"),
        (["fit", "--gpu", "RTX 4090", "--ram", "lots"], "size"),
        (["fit", "--gpu", "RTX 4090", "--model", "no-such-model-anywhere"], "no-such-model-anywhere"),
        (["fit", "--gpu", "RTX 4090", "--quant", "Q9_Z"], "no model has quant"),
        (["fit", "--gpu", "RTX 4090", "--context", "-5"], "context"),
        (["fit", "--gpu", "RTX 4090", "--kv-type", "q5"], "kv-type"),
        (["fit", "--gpu", "RTX 4090", "--model", "hf:not a repo"], "hf:not a repo"),
    ],
)
def test_fit_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert message.lower() in err.lower()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_validate_summary_and_json(capsys, tmp_path):
    from tests.estimate.test_calibration import HEADER, ROWS

    path = tmp_path / "m.csv"
    path.write_text(HEADER + ROWS["xiongjie"] + "\n" + ROWS["oom"] + "\n" + ROWS["max_load"] + "\n")
    code, out, err = _run(capsys, "validate", str(path))
    assert code == 0, err
    assert "llama.cpp CUDA" in out and "fit agreement: 100% of 2 rows" in out and "skipped 1 rows" in out
    code, out, _ = _run(capsys, "validate", str(path), "--json")
    doc = json.loads(out)
    assert doc["summary"]["fit_agreement"] == 1.0
    assert [r["row"] for r in doc["rows"]] == [0, 1]
    assert doc["rows"][0]["measured_decode"] == 114.32
    assert doc["skipped"][0]["row"] == 2


@pytest.mark.parametrize("content", [b"", b"a,b\n1,2\n", b"\x00\x01\x02"])
def test_validate_bad_file_exit_2(capsys, tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    code, _, err = _run(capsys, "validate", str(path))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_fit_runtime_filter(capsys):
    code, out, _ = _run(capsys, "fit", "--gpu", "H100 SXM", "--ram", "256GB", "--model", "Meta-Llama-3-8B",
                        "--runtime", "vllm", "--json")
    assert code == 0
    results = json.loads(out)["results"]
    assert results and {r["runtime"] for r in results} == {"vllm"}


def test_plain_fit_prints_one_pick_per_model_usable_and_capable_first(capsys):
    code, out, _ = _run(capsys, "fit", "--gpu", "RTX 4090", "--ram", "64GB")
    assert code == 0
    rows = [line for line in out.splitlines() if "/" in line.split("  ")[0] and "llama.cpp" in line or " vllm " in line]
    ids = [line.split()[0] for line in rows]
    assert len(ids) == len(set(ids)), "one line per model"
    usable = [" yes " in line for line in rows]
    assert usable == sorted(usable, reverse=True), "usable models first"
    assert "PICK" in out and "CAPABILITY" in out and "HOSTED $/M BLENDED (IN / OUT)" in out


def test_fit_best_json_limit_and_sort(capsys):
    code, out, err = _run(capsys, "fit", "--gpu", "RTX 4090", "--ram", "64GB", "--best", "--usable", "--sort",
                          "decode", "--limit", "5", "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 5 and all(r["usable"] and r["best"] for r in results)
    decodes = [r["decode_tokens_per_s"]["expected"] for r in results]
    assert decodes == sorted(decodes, reverse=True)


def test_fit_usable_thresholds_change_the_set(capsys):
    _, out, _ = _run(capsys, "fit", "--gpu", "RTX 4090", "--ram", "64GB", "--usable", "--json")
    default = {r["model_id"] for r in json.loads(out)["results"]}
    _, out, _ = _run(capsys, "fit", "--gpu", "RTX 4090", "--ram", "64GB", "--usable", "--json",
                     "--min-decode", "40", "--max-ttft", "5")
    strict_doc = json.loads(out)
    strict = {r["model_id"] for r in strict_doc["results"]}
    assert strict < default, "a higher bar leaves fewer usable models"
    assert strict_doc["settings"]["usable"] == {"min_decode_tokens_per_s": 40.0, "max_ttft_s": 5.0}
    assert all(r["decode_tokens_per_s"]["expected"] >= 40 and r["ttft_s"]["expected"] <= 5
               for r in strict_doc["results"])


def test_ambiguous_model_exits_2_listing_candidates(capsys):
    code, out, err = _run(capsys, "fit", "--gpu", "RTX 4090", "--model", "qwen3")
    assert code == 2 and not out
    assert "Qwen/Qwen3-8B" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["--sort", "speed"], ["--limit", "0"], ["--min-decode", "-1"],
                                  ["--max-ttft", "nan"], ["--all", "--best"]])
def test_fit_listing_options_bad_input(capsys, argv):
    code, out, err = _run(capsys, "fit", "--gpu", "RTX 4090", *argv)
    assert code == 2 and not out and err.strip()
