"""Launch commands: each realises its estimate's placement, context and cache, and uses only flags and values
the runtime documents (tests/launch/runtime_flags.py, with the versions they were read from)."""

from __future__ import annotations

import shlex

import pytest

from rigcheck.catalog.devices import hypothetical_machine, parse_size
from rigcheck.catalog.lookup import find_model
from rigcheck.catalog.store import load_catalog
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.launch import Installed, launch_commands
from rigcheck.estimate.types import Settings
from tests.launch.runtime_flags import (
    LLAMA_SERVER,
    MLX_LM_CONVERT,
    MLX_LM_SERVER,
    OLLAMA_PARAMETERS,
    VLLM_SERVE,
    check_argv,
    check_modelfile,
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _rows(catalog, gpus, ram, model, settings: Settings | None = None):
    machine = hypothetical_machine(gpus, parse_size(ram), catalog)
    m = find_model(catalog, model)
    rows = evaluate(machine, catalog, settings or Settings(), models=[m])
    return m, {r.quant: r for r in rows}


def _quant(model, name):
    return next(q for q in model.quants if q.name == name)


def _check(cmd) -> list[str]:
    if cmd.runtime == "llama.cpp":
        return check_argv(list(cmd.argv[1:]), LLAMA_SERVER)
    if cmd.runtime == "vllm":
        assert cmd.argv[:2] == ("vllm", "serve")
        return check_argv(list(cmd.argv[2:]), VLLM_SERVE)
    if cmd.runtime == "mlx":
        problems = check_argv(list(cmd.argv[1:]), MLX_LM_SERVER)
        if "mlx_lm.convert" in cmd.command:
            convert = shlex.split(cmd.command.split(" && ")[0])
            problems += check_argv(convert[1:], MLX_LM_CONVERT)
        return problems
    assert cmd.runtime == "ollama"
    problems = check_modelfile(list(cmd.modelfile))
    for note in cmd.notes:
        if note.startswith("start the server as: "):
            for pair in note.removeprefix("start the server as: ").split()[:-2]:
                key, value = pair.split("=")
                if value not in OLLAMA_PARAMETERS["server_env"].get(key, ()):
                    problems.append(f"undocumented server setting {pair}")
    return problems


def _flag(argv, name):
    return argv[argv.index(name) + 1]


def test_all_on_one_gpu_llama_server_and_ollama(catalog):
    model, rows = _rows(catalog, ["RTX 4090"], "64GB", "meta-llama/Llama-3.1-8B-Instruct",
                        Settings(context_tokens=16384))
    row = rows["Q4_K_M"]
    assert row.verdict == "gpu"
    llama, ollama = launch_commands(row, model, _quant(model, "Q4_K_M"))
    assert _flag(llama.argv, "-c") == "16384" and _flag(llama.argv, "-ngl") == "999"
    assert _flag(llama.argv, "-fa") == "on" and "-ctk" not in llama.argv and "-ts" not in llama.argv
    assert llama.argv[1:3] == ("-m", "Llama-3.1-8B-Instruct-Q4_K_M.gguf") and "downloaded" in llama.notes[0]
    assert ollama.modelfile[1:] == ("PARAMETER num_ctx 16384", "PARAMETER num_gpu 999")
    assert ollama.command.startswith("cat > Modelfile <<'EOF'\nFROM ./Llama-3.1-8B-Instruct-Q4_K_M.gguf\n")
    assert _check(llama) == [] and _check(ollama) == []


def test_layer_offload_sets_ngl_to_the_layers_on_the_gpu(catalog):
    model, rows = _rows(catalog, ["RTX 4090"], "128GB", "meta-llama/Llama-3.1-70B-Instruct")
    row = rows["Q4_K_M"]
    assert row.verdict == "gpu+ram" and "-ngl" in row.placement
    llama, ollama = launch_commands(row, model, _quant(model, "Q4_K_M"))
    n = int(_flag(llama.argv, "-ngl"))
    assert 0 < n < model.num_layers and f"-ngl {n}" in row.placement
    assert f"PARAMETER num_gpu {n}" in ollama.modelfile
    assert _check(llama) == [] and _check(ollama) == []


def test_expert_offload_uses_n_cpu_moe(catalog):
    model, rows = _rows(catalog, ["RTX 4060 Ti 8GB"], "64GB", "Qwen/Qwen3-30B-A3B")
    moe_rows = [r for r in rows.values() if r.extra.get("cpu_moe_layers") is not None]
    assert moe_rows, "an 8 GB card holds a 30B-A3B's attention but not its experts"
    row = moe_rows[0]
    llama, ollama = launch_commands(row, model, _quant(model, row.quant))
    assert _flag(llama.argv, "-ngl") == "999"
    assert int(_flag(llama.argv, "--n-cpu-moe")) == row.extra["cpu_moe_layers"]
    assert f"--n-cpu-moe {row.extra['cpu_moe_layers']}" in row.placement
    assert not any(line.startswith("PARAMETER num_gpu") for line in ollama.modelfile)
    assert any("--n-cpu-moe" in n for n in ollama.notes)
    assert _check(llama) == [] and _check(ollama) == []


def test_two_gpus_split_by_tensor_split_and_quantized_cache(catalog):
    model, rows = _rows(catalog, ["2 x RTX 3090"], "128GB", "meta-llama/Llama-3.1-70B-Instruct",
                        Settings(kv_cache_type="q8_0", context_tokens=8192))
    row = rows["Q4_K_M"]
    assert row.verdict == "gpu" and len(row.memory.per_gpu_bytes) == 2
    llama, ollama = launch_commands(row, model, _quant(model, "Q4_K_M"), kv_cache_type="q8_0")
    shares = [float(x) for x in _flag(llama.argv, "-ts").split(",")]
    assert len(shares) == 2 and shares[0] >= shares[1] > 0
    assert _flag(llama.argv, "-ctk") == _flag(llama.argv, "-ctv") == "q8_0"
    assert any("OLLAMA_KV_CACHE_TYPE=q8_0" in n for n in ollama.notes)
    assert _check(llama) == [] and _check(ollama) == []


def test_cpu_only_puts_no_layer_on_a_gpu(catalog):
    model, rows = _rows(catalog, [], "64GB", "meta-llama/Llama-3.2-3B-Instruct")
    row = rows["Q4_K_M"]
    assert row.verdict == "cpu"
    llama, _ = launch_commands(row, model, _quant(model, "Q4_K_M"))
    assert _flag(llama.argv, "-ngl") == "0" and _check(llama) == []


def test_vllm_over_several_gpus_with_an_fp8_cache(catalog):
    model, rows = _rows(catalog, ["2 x H100 SXM"], "512GB", "meta-llama/Llama-3.3-70B-Instruct",
                        Settings(kv_cache_type="q8_0", context_tokens=32768))
    vllm_rows = [r for r in rows.values() if r.runtime == "vllm" and r.fits]
    assert vllm_rows
    for row in vllm_rows:
        (cmd,) = launch_commands(row, model, _quant(model, row.quant), kv_cache_type="q8_0")
        assert cmd.runtime == "vllm" and cmd.argv[2] == (_quant(model, row.quant).repo or model.id)
        assert _flag(cmd.argv, "--max-model-len") == "32768"
        assert _flag(cmd.argv, "--tensor-parallel-size") == "2"
        assert _flag(cmd.argv, "--kv-cache-dtype") == "fp8"
        assert _check(cmd) == []


def test_mlx_converts_then_serves_with_a_quantized_cache(catalog):
    model, rows = _rows(catalog, ["M2 Ultra 76c"], "192GB", "Qwen/Qwen2.5-7B-Instruct",
                        Settings(kv_cache_type="q4_0"))
    row = rows["MLX-4bit"]
    (cmd,) = launch_commands(row, model, _quant(model, "MLX-4bit"), kv_cache_type="q4_0")
    assert cmd.command.startswith("mlx_lm.convert --hf-path Qwen/Qwen2.5-7B-Instruct -q")
    assert "--q-bits 4" in cmd.command and _flag(cmd.argv, "--kv-bits") == "4"
    assert _check(cmd) == []


def test_installed_files_use_their_path_projector_and_ollama_tag(catalog):
    model, rows = _rows(catalog, ["RTX 4090"], "64GB", "google/gemma-3-4b-it")
    row = rows["Q4_K_M"]
    quant = _quant(model, "Q4_K_M")
    where = Installed(path="/home/me/.cache/llama.cpp/g.gguf", mmproj="/home/me/.cache/llama.cpp/mmproj.gguf")
    llama, ollama = launch_commands(row, model, quant, installed=where)
    assert llama.argv[1:5] == ("-m", where.path, "--mmproj", where.mmproj) and not llama.notes[:1] == ["downloaded"]
    assert ollama.modelfile[0] == f"FROM {where.path}"
    blob = Installed(path="/home/me/.ollama/models/blobs/sha256-abc", tag="gemma3:4b", source="ollama")
    llama, ollama = launch_commands(row, model, quant, installed=blob)
    assert llama.argv[2] == blob.path and ollama.modelfile[0] == "FROM gemma3:4b"
    assert _check(llama) == [] and _check(ollama) == []
    assert launch_commands(row, model, quant, installed=Installed(path="/m/x-00001-of-00002.gguf"))[1:] == []


def test_a_row_that_does_not_fit_has_no_command(catalog):
    model, rows = _rows(catalog, ["RTX 4060 Ti 8GB"], "16GB", "meta-llama/Llama-3.1-405B-Instruct")
    row = rows["Q4_K_M"]
    assert row.verdict == "no_fit" and launch_commands(row, model, _quant(model, "Q4_K_M")) == []


@pytest.mark.parametrize("gpus,ram,kv", [
    (["RTX 4090"], "64GB", "f16"),
    (["2 x RTX 3090"], "128GB", "q8_0"),
    (["RTX 4060 Ti 8GB"], "32GB", "q4_0"),
    ([], "64GB", "f16"),
    (["M3 Max 40c"], "128GB", "q8_0"),
    (["8 x H200"], "2TB", "f16"),
])
def test_every_command_of_every_row_uses_documented_flags(catalog, gpus, ram, kv):
    machine = hypothetical_machine(gpus, parse_size(ram), catalog)
    settings = Settings(kv_cache_type=kv)  # type: ignore[arg-type]
    quants = {(m.id, q.name): (m, q) for m in catalog.models for q in m.quants}
    checked = 0
    for row in evaluate(machine, catalog, settings):
        model, quant = quants[(row.model_id, row.quant)]
        for cmd in launch_commands(row, model, quant, kv_cache_type=kv):
            assert _check(cmd) == [], (row.model_id, row.quant, cmd.command)
            checked += 1
    assert checked > 100
