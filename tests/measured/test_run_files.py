"""Reading the user's run files: real llama-bench JSON/JSONL/CSV/markdown, llama-server and llama-cli logs,
`ollama run --verbose` statistics and vLLM bench serve JSON (tests/data/runs, sources in its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigcheck.estimate.calibration.measurements import MeasurementError
from rigcheck.estimate.calibration.run_files import read_run_file

RUNS = Path(__file__).resolve().parents[1] / "data" / "runs"


@pytest.mark.parametrize("name,prefill,decode", [
    ("llama-bench.json", 7100.002165, 118.881588),
    ("llama-bench.jsonl", 7100.002165, 118.881588),
    ("llama-bench.csv", 7285.676949, 119.915244),
])
def test_llama_bench_json_jsonl_csv_give_the_same_runs(name, prefill, decode):
    pp, tg = read_run_file(RUNS / name)
    assert (pp.prefill_tokens_per_s, pp.decode_tokens_per_s, pp.prompt_tokens) == (prefill, None, 512)
    assert (tg.decode_tokens_per_s, tg.prefill_tokens_per_s, tg.decode_depth_tokens) == (decode, None, 64.0)
    for m in (pp, tg):
        assert m.device == "NVIDIA GeForce RTX 4080" and m.backend == "cuda"
        assert m.model == "Qwen2.5-7B-Instruct-Q4_K_M" and m.quant == "Q4_K_M"
        assert m.file_size_bytes == 4677120000 and m.params_b == pytest.approx(7.6156, abs=1e-4)
        assert m.all_layers_on_gpu  # n_gpu_layers -1: every layer


def test_llama_bench_markdown_table_with_depths():
    rows = read_run_file(RUNS / "llama-bench.md")
    assert [(r.prompt_tokens, r.prompt_depth_tokens, r.prefill_tokens_per_s, r.decode_tokens_per_s) for r in rows] == [
        (512, 0, 7340.20, None), (None, 0, None, 120.60), (512, 512, 6425.91, None), (None, 512, None, 116.71)]
    assert rows[3].decode_depth_tokens == 512 + 64
    assert rows[0].quant == "Q4_K_M" and rows[0].params_b == pytest.approx(7.62)
    assert rows[0].file_size_bytes == int(4.36 * 1024**3) and rows[0].backend == "cuda"


def test_llama_server_log_gives_one_run_per_request_with_the_model_and_gpu():
    first, second = read_run_file(RUNS / "llama-server.log")
    assert (first.prompt_tokens, first.prefill_tokens_per_s, first.decode_tokens_per_s) == (13, 33.06, 20.33)
    assert first.decode_depth_tokens == 13 + 200 / 2
    assert (second.prompt_tokens, second.prefill_tokens_per_s, second.decode_tokens_per_s) == (4, 15.87, 16.58)
    assert first.device == "NVIDIA GeForce RTX 4070 SUPER" and first.backend == "cuda"
    assert first.model == "mistralai_Devstral-Small-2507-Q2_K_L" and first.params_b == 23.57
    assert first.all_layers_on_gpu


def test_llama_cli_timings_and_ollama_verbose():
    (cli,) = read_run_file(RUNS / "llama-cli.log")
    assert (cli.prompt_tokens, cli.prefill_tokens_per_s, cli.decode_tokens_per_s) == (271, 43.05, 4.43)
    (ollama,) = read_run_file(RUNS / "ollama-verbose.txt")
    assert (ollama.prompt_tokens, ollama.prefill_tokens_per_s, ollama.decode_tokens_per_s) == (26, 356.16, 124.04)
    assert ollama.engine.startswith("ollama") and ollama.decode_depth_tokens == 26 + 290 / 2


def test_vllm_bench_serve_json():
    (run,) = read_run_file(RUNS / "vllm-bench-serve.json")
    assert run.runtime == "vllm" and run.batch_size == 1
    assert run.decode_tokens_per_s == pytest.approx(1000 / 14.1)
    assert run.prefill_tokens_per_s == pytest.approx(1024 / 0.1184)
    assert run.model == "Llama-3.1-8B-Instruct"


@pytest.mark.parametrize("content,message", [
    ("", "empty"),
    ("[{\"n_prompt\": 512}]", "lacks n_prompt/n_gen/avg_ts"),
    ("{\"a\": 1}\n{broken", "line 2 is not JSON"),
    ("hello world\n", "not a run rigcheck can read"),
    ("| model | size |\n| --- | --- |\n| x | 1 GiB |\n", "without llama-bench pp/tg rows"),
])
def test_bad_files_get_one_clear_sentence(tmp_path, content, message):
    path = tmp_path / "run.txt"
    path.write_text(content)
    with pytest.raises(MeasurementError, match=message):
        read_run_file(path)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(MeasurementError, match="not a text file"):
        read_run_file(path)


def test_a_huge_file_is_refused_without_reading_it(tmp_path):
    import os

    path = tmp_path / "huge.log"
    path.write_text("prompt eval time = 1 ms / 1 tokens (1 ms per token, 1 tokens per second)\n")
    os.truncate(path, 65 * 1024 * 1024)  # sparse: nothing is written
    with pytest.raises(MeasurementError, match="too large for a run file"):
        read_run_file(path)
