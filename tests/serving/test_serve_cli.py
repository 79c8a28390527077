"""``rigcheck serve`` and ``rigcheck validate --serving`` end to end, on the embedded catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigcheck.cli.main import main
from rigcheck.estimate.calibration.serving_rows import date_of, layout_of, read_serving_csv

SERVING_CSV = Path("/work/shared/calibration/serving.csv")
SAMPLE = Path(__file__).parents[1] / "data" / "serving_sample.csv"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv) -> dict:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


def test_serve_json_contract(capsys):
    data = run_json(capsys, "serve", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "H100 SXM",
                    "--engine", "trtllm", "--concurrency", "32", "--json")
    assert data["schema"] == "rigcheck.serve/1" and data["quant"] == "FP8"
    for key in ("output_tokens_per_s", "per_user_tokens_per_s", "input_tokens_per_s", "ttft_s"):
        band = data[key]
        assert set(band) == {"low", "expected", "high"} and band["low"] <= band["expected"] <= band["high"]
    assert isinstance(data["max_concurrency"], int) and data["max_concurrency"] > 32
    assert data["settings"]["engine"] == "trtllm" and data["settings"]["concurrency"] == 32
    assert data["settings"]["kv_type"] == "fp8" and data["settings"]["layout"] == "one GPU"
    assert data["basis"] and all(isinstance(line, str) for line in data["basis"])
    # the sweep runs up to what the node holds, then saturated
    assert [p["concurrency"] for p in data["sweep"][:3]] == [1, 4, 16]
    assert data["sweep"][-1]["active"] == data["max_concurrency"]


def test_serve_table_sweeps_concurrency(capsys):
    code, out, _ = run(capsys, "serve", "--model", "gpt-oss-120b", "--gpu", "H100 SXM", "--engine", "vllm")
    assert code == 0
    assert "openai/gpt-oss-120b MXFP4 on NVIDIA H100 SXM with vLLM: one GPU" in out
    for label in ("concurrency", "node output tok/s", "per-user decode tok/s", "first token"):
        assert label in out
    # one H100 holds fewer than 256 of these requests: the sweep stops at 64, then runs saturated
    assert "\n64 " in out and "\n256 " not in out and "\nmax (" in out
    assert "basis:" in out


@pytest.mark.parametrize("argv", [
    ["--model", "DeepSeek-R1-0528", "--gpu", "8 x B200", "--quant", "NVFP4", "--engine", "trtllm", "--ep"],
    ["--model", "Llama-3.1-405B-Instruct", "--gpu", "8 x MI300X", "--quant", "FP8", "--concurrency", "256",
     "--static"],
    ["--model", "zai-org/GLM-5", "--gpu", "8 x B200", "--quant", "FP8", "--engine", "sglang",
     "--input-len", "8192", "--concurrency", "32"],
    ["--model", "DeepSeek-R1-0528", "--gpu", "4 x MI355X", "--quant", "MXFP4", "--engine", "sglang", "--tp", "4"],
    ["--model", "Qwen3-235B-A22B", "--gpu", "8 x H100 SXM", "--quant", "FP8", "--tp", "1", "--ep",
     "--concurrency", "max"],
])
def test_serve_answers_the_nodes_of_the_calibration_rows(capsys, argv):
    data = run_json(capsys, "serve", *argv, "--json")
    assert data["output_tokens_per_s"]["expected"] > 0 and data["per_user_tokens_per_s"]["expected"] > 0


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "Llama-3.1-8B-Instruct", "--gpu", "H100 SXM", "--engine", "tgi"], "unknown engine"),
    (["--model", "Llama-3.1-8B-Instruct", "--gpu", "8 x H100 SXM", "--tp", "3"], "does not divide"),
    (["--model", "Llama-3.1-8B-Instruct", "--gpu", "H100 SXM", "--ep"], "not a mixture-of-experts"),
    (["--model", "DeepSeek-R1-0528", "--gpu", "8 x H200", "--quant", "NVFP4"], "NVFP4 needs a GPU with FP4"),
    (["--model", "DeepSeek-R1-0528", "--gpu", "H100 SXM", "--quant", "FP8"], "no room for the KV cache"),
    (["--model", "Llama-3.1-8B-Instruct", "--gpu", "H100 SXM", "--quant", "Q9"], "has no quant 'Q9'"),
    (["--model", "Llama-3.1-8B-Instruct", "--gpu", "H100 SXM", "--concurrency", "max", "--static"], "static batch"),
    (["--model", "Qwen3-32B", "--gpu", "H100 SXM", "--engine", "llama.cpp", "--quant", "FP8"],
     "choose --engine vllm, sglang or trtllm for it, or a GGUF quant"),
    (["--model", "Qwen3-32B", "--gpu", "H100 SXM", "--engine", "vllm", "--quant", "Q4_K_M"],
     "choose --engine llama.cpp or a safetensors quant"),
])
def test_serve_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "serve", *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_validate_serving_on_a_sample(capsys):
    data = run_json(capsys, "validate", "--serving", str(SAMPLE), "--json")
    assert data["schema"] == "rigcheck.validate-serving/1"
    summary = data["summary"]
    assert summary["rows"] == 4 and summary["refused"] == 1
    rows = {r["row"]: r for r in data["rows"]}
    assert rows[3]["refused"] and "not in the device table" in rows[3]["refused"]
    assert rows[0]["engine"] == "trtllm" and rows[1]["engine"] == "sglang (<2025-05)"
    assert rows[2]["static"] and rows[2]["estimated_output_tokens_per_s"] > 0
    # a refused row is a miss: the 90th percentile over 4 rows lands on it
    assert summary["output_tokens_per_s"]["p90_abs_error_pct"] is None
    code, out, _ = run(capsys, "validate", "--serving", str(SAMPLE))
    assert code == 0 and "1 of 4 rows could not be estimated" in out and "miss" in out


@pytest.mark.parametrize(("text", "date"), [
    ("date 2025-12-15; rows", "2025-12-15"),
    ("(blog 2025-03-18, dstack)", "2025-03-18"),
    ("OCI BM.GPU.MI300X.8; Oct 10 2024", "2024-10-10"),
    ("no date here", None),
])
def test_dates_of_rows(text, date):
    assert date_of("", text) == date


def test_layouts_of_rows():
    rows = read_serving_csv(SAMPLE)
    assert layout_of(rows[0]) == (8, True) and layout_of(rows[1]) == (8, False)


def test_validate_serving_bad_files(capsys, tmp_path):
    wrong = tmp_path / "speed.csv"
    wrong.write_text("device,model\nx,y\n", encoding="utf-8")
    code, _, err = run(capsys, "validate", "--serving", str(wrong))
    assert code == 2 and "not a serving CSV" in err
    code, _, err = run(capsys, "validate", "--serving", str(tmp_path / "missing.csv"))
    assert code == 2


@pytest.mark.skipif(not SERVING_CSV.exists(), reason="shared calibration data not present")
def test_the_serving_model_meets_its_aim_on_the_calibration_rows(capsys):
    """Issue 15's aim: median |estimate / published - 1| at most 25% and p90 at most 60% for total output
    and per-user tokens/s, every row estimated (a refusal counts as a miss)."""
    data = run_json(capsys, "validate", "--serving", str(SERVING_CSV), "--json")
    summary = data["summary"]
    assert summary["refused"] == 0 and summary["rows"] == 39
    for kind in ("output_tokens_per_s", "per_user_tokens_per_s"):
        assert summary[kind]["median_abs_error_pct"] <= 25, summary
        assert summary[kind]["p90_abs_error_pct"] <= 60, summary


def test_the_gui_serving_view_on_the_embedded_catalog():
    from rigcheck.catalog import devices
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.serving_bridge import serving_view
    from rigcheck.estimate.types import Settings

    catalog = load_catalog()
    model = next(m for m in catalog.models if m.id == "zai-org/GLM-5")
    machine = devices.hypothetical_machine(["8 x H200"], 2 * 2**40, catalog=catalog)
    view = serving_view(model, "FP8", machine, catalog, Settings(prompt_tokens=2048))
    assert view.title == "GLM-5 FP8, vLLM: tensor parallel over 8 GPUs"
    concurrency = [p.concurrency for p in view.points]
    assert concurrency[:4] == [1, 2, 4, 8] and view.points[-1].saturated
    outputs = [p.output_tokens_per_s for p in view.points]
    per_user = [p.per_user_tokens_per_s for p in view.points]
    assert outputs == sorted(outputs) and per_user == sorted(per_user, reverse=True)
    doors = {d.door: d for d in view.doors}
    assert set(doors) == {"hosted", "rented", "owned"}
    assert doors["rented"].usd_per_m_saturated < doors["rented"].usd_per_m_workload
    assert "tensor parallel over 8 GPUs" in doors["rented"].why


def test_the_gui_serving_view_says_why_a_node_cannot_serve():
    from rigcheck.catalog import devices
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.serving_bridge import serving_view
    from rigcheck.estimate.types import Settings

    catalog = load_catalog()
    model = next(m for m in catalog.models if m.id == "deepseek-ai/DeepSeek-R1-0528")
    machine = devices.hypothetical_machine(["8 x H200"], 2 * 2**40, catalog=catalog)
    view = serving_view(model, "NVFP4", machine, catalog, Settings())
    assert view.points == () and "NVFP4 needs a GPU with FP4" in view.note


def test_one_user_decodes_faster_than_the_node_outputs_and_every_view_says_why(capsys):
    """At one request the node's output (95.0 tok/s) was printed beside a larger "per user" figure (95.5) under
    labels that read as a share of it. They are two rates: the node's output counts each request's time to first
    token, the per-user figure is the decode rate after it (1 / time per output token, as serving.csv's
    per-user column). The arithmetic and the labels of `serve`, its JSON and the app's Serving tab say so."""
    from rigcheck.catalog import devices
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.serving_bridge import serving_view
    from rigcheck.estimate.serve import NODE_OUTPUT_MEANS, PER_USER_MEANS
    from rigcheck.estimate.types import Settings

    argv = ("serve", "--model", "DeepSeek-R1-0528", "--gpu", "8 x H200", "--ram", "2TB", "--concurrency", "1")
    data = run_json(capsys, *argv, "--json")
    one = data["sweep"][0]
    osl = data["settings"]["output_len"]
    assert one["concurrency"] == 1 and one["output_tokens_per_s"] < one["per_user_tokens_per_s"]
    # the node's output is one request's tokens over its whole time: first token, then (osl - 1) decodes
    assert one["output_tokens_per_s"] == pytest.approx(
        osl / (one["ttft_s"] + (osl - 1) / one["per_user_tokens_per_s"]), rel=1e-3)
    for p in data["sweep"]:  # never more than every active user's decode rate together
        assert p["output_tokens_per_s"] <= p["per_user_tokens_per_s"] * p["active"] * (1 + 1e-6)
    assert data["definitions"] == {"output_tokens_per_s": NODE_OUTPUT_MEANS, "per_user_tokens_per_s": PER_USER_MEANS}
    assert "prefill counted" in NODE_OUTPUT_MEANS and "1 / time per output token" in PER_USER_MEANS

    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "at 1 concurrent request: the node outputs " in out and ", each user decodes at " in out
    assert f"node output tok/s: {NODE_OUTPUT_MEANS};" in out and f"per-user decode tok/s: {PER_USER_MEANS}." in out
    assert "per user tok/s" not in out

    catalog = load_catalog()
    model = next(m for m in catalog.models if m.id == "deepseek-ai/DeepSeek-R1-0528")
    machine = devices.hypothetical_machine(["8 x H200"], 2 * 2**40, catalog=catalog)
    view = serving_view(model, "FP8", machine, catalog, Settings())
    assert view.points[0].output_tokens_per_s < view.points[0].per_user_tokens_per_s
    assert f"User tok/s: each user's decode rate, {PER_USER_MEANS}." in view.note
    assert f"Node output tok/s: {NODE_OUTPUT_MEANS}." in view.note
