"""`rigcheck fit --installed`: exactly the installed files, each at its real size, each with the command that
runs it from where it is."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rigcheck.cli.main import main
from tests.installed.layouts import (
    LLAMA_32_3B,
    QWEN25_7B,
    SMOLLM_360M,
    hf_cache_repo,
    ollama_pull,
    write_gguf,
)


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_installed_estimates_exactly_the_files_at_their_real_sizes(capsys, tmp_path):
    home = Path(os.environ["HOME"])  # the temporary home tests/conftest.py sets
    llama = write_gguf(tmp_path / "a.gguf", LLAMA_32_3B)[0]
    llama_size = llama.stat().st_size
    ollama_pull(Path(os.environ["OLLAMA_MODELS"]), "llama3.2", "3b", llama)
    qwen = write_gguf(tmp_path / "b.gguf", QWEN25_7B)[0]
    qwen_size = qwen.stat().st_size
    hf_cache_repo(home / ".cache" / "huggingface" / "hub", "Qwen/Qwen2.5-7B-Instruct-GGUF",
                  {"qwen2.5-7b-instruct-q4_k_m.gguf": qwen})
    extra = tmp_path / "mine"
    write_gguf(extra / "SmolLM2-360M-Instruct-Q8_0.gguf", SMOLLM_360M, "Q8_0")
    write_gguf(extra / "broken-Q4_K_M.gguf", LLAMA_32_3B, cut_to_fraction=0.5)

    code, out, err = _run(capsys, "fit", "--installed", "--path", str(extra), "--gpu", "RTX 4090", "--ram", "64GB",
                          "--json")
    assert code == 0, err
    doc = json.loads(out)
    rows = {r["installed"]["name"]: r for r in doc["results"]}
    assert set(rows) == {"llama3.2:3b", "qwen2.5-7b-instruct-q4_k_m.gguf", "SmolLM2-360M-Instruct-Q8_0.gguf"}
    assert rows["llama3.2:3b"]["model_id"] == "meta-llama/Llama-3.2-3B-Instruct"
    assert rows["llama3.2:3b"]["memory"]["weights_bytes"] == llama_size
    assert rows["qwen2.5-7b-instruct-q4_k_m.gguf"]["memory"]["weights_bytes"] == qwen_size
    assert rows["qwen2.5-7b-instruct-q4_k_m.gguf"]["model_id"] == "Qwen/Qwen2.5-7B-Instruct"
    assert rows["SmolLM2-360M-Instruct-Q8_0.gguf"]["model_id"].startswith("local/")
    for row in rows.values():
        assert row["verdict"] == "gpu" and row["best"]
        llama_cmd = next(c for c in row["launch"] if c["runtime"] == "llama.cpp")
        assert llama_cmd["argv"][1:3] == ["-m", row["installed"]["path"]]
    ollama_cmd = next(c for c in rows["llama3.2:3b"]["launch"] if c["runtime"] == "ollama")
    assert ollama_cmd["modelfile"][0] == "FROM llama3.2:3b"
    (broken,) = doc["installed_not_estimated"]
    assert broken["name"] == "broken-Q4_K_M.gguf" and "cut short" in broken["reason"]

    code, out, err = _run(capsys, "fit", "--installed", "--path", str(extra), "--gpu", "RTX 4090", "--ram", "64GB")
    assert code == 0 and "llama3.2:3b" in out and "not estimated: broken-Q4_K_M.gguf" in out


def test_path_without_installed_is_refused(capsys, tmp_path):
    code, out, err = _run(capsys, "fit", "--path", str(tmp_path), "--gpu", "RTX 4090", "--ram", "64GB")
    assert code == 2 and "--installed" in err
