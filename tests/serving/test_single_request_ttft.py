"""At one request, `rigcheck serve` says what `rigcheck fit` says about the same first token, and whether they agree."""

from __future__ import annotations

import json

import pytest

from rigcheck.cli.main import main


@pytest.mark.parametrize("gpu, engine, quant", [
    ("RTX 4090", "llama.cpp", "Q4_K_M"),
    ("H100 SXM", "vllm", "FP8"),
])
def test_serve_at_one_request_names_fits_first_token(capsys, gpu, engine, quant):
    args = ["--model", "Qwen/Qwen3-32B", "--gpu", gpu, "--ram", "64GB", "--prompt", "1024"]
    assert main(["fit", *args, "--quant", quant, "--json"]) == 0
    fit_rows = [r for r in json.loads(capsys.readouterr().out)["results"] if r["quant"] == quant]
    assert main(["serve", "--model", "Qwen/Qwen3-32B", "--gpu", gpu, "--ram", "64GB", "--engine", engine,
                 "--concurrency", "1", "--input-len", "1024", "--quant", quant, "--json"]) == 0
    served = json.loads(capsys.readouterr().out)
    alone = served["single_request_fit"]
    assert alone["ttft_s"] == pytest.approx(fit_rows[0]["ttft_s"]["expected"], rel=1e-3)
    ratio = max(alone["ttft_s"], served["ttft_s"]["expected"]) / min(alone["ttft_s"], served["ttft_s"]["expected"])
    assert alone["note"].startswith("the two differ by" if ratio > 1.2 else "the two agree")


def test_serve_at_many_requests_leaves_it_out(capsys):
    assert main(["serve", "--model", "Qwen/Qwen3-32B", "--gpu", "H100 SXM", "--ram", "64GB", "--concurrency", "8",
                 "--json"]) == 0
    assert "single_request_fit" not in json.loads(capsys.readouterr().out)
