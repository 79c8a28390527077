"""The installed-model scan over real folder layouts: Ollama, LM Studio, the Hugging Face cache, llama.cpp's
cache and a user folder, with GGUF files whose headers are real and whose sizes are sparse extensions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rigcheck.catalog.installed.gguf_header import GgufError, read_header
from rigcheck.catalog.installed.matching import estimate_inputs
from rigcheck.catalog.installed.roots import default_roots
from rigcheck.catalog.installed.scan import HeaderCache, scan
from rigcheck.catalog.store import load_catalog
from tests.installed.layouts import (
    GEMMA3_4B,
    LLAMA_31_8B,
    LLAMA_32_1B,
    LLAMA_32_3B,
    QWEN3_30B_A3B,
    QWEN25_7B,
    QWEN25_14B,
    SMOLLM_360M,
    hf_cache_repo,
    ollama_pull,
    write_gguf,
    write_projector,
    write_safetensors,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "userhome"
    home.mkdir()
    return home


def _roots(home: Path):
    return default_roots(env={}, home=home, platform="linux", service_folders=False)


def _by_name(models):
    return {m.name: m for m in models}


def test_ollama_manifest_points_at_the_model_blob_and_its_projector(home, catalog):
    models_dir = home / ".ollama" / "models"
    gguf = write_gguf(home / "dl" / "model.gguf", LLAMA_32_3B)[0]
    size = gguf.stat().st_size
    projector = write_projector(home / "dl" / "proj.gguf", 100_000_000)
    ollama_pull(models_dir, "llama3.2", "3b", gguf, projector)
    found = scan(catalog, _roots(home))
    assert len(found) == 1
    m = found[0]
    # The tag as `ollama list` names it; the path is the blob the manifest's model layer names.
    assert (m.source, m.name, m.tag) == ("ollama", "llama3.2:3b", "llama3.2:3b")
    assert Path(m.path).parent == models_dir / "blobs" and Path(m.path).name.startswith("sha256-")
    assert m.model_id == "meta-llama/Llama-3.2-3B-Instruct"
    assert m.quant == "Q4_K_M" and m.architecture == "llama"
    assert m.size_bytes == size > 1_800_000_000  # the real (sparse) size, not the bytes on disk
    assert m.mmproj is not None and m.mmproj_bytes == 100_000_000
    assert m.problem is None
    assert m.params_b == pytest.approx(3.21, abs=0.01)  # counted from the tensor table


def test_ollama_tags_outside_the_library_and_from_hugging_face(home, catalog):
    models_dir = home / ".ollama" / "models"
    ollama_pull(models_dir, "my-llama", "latest", write_gguf(home / "a.gguf", LLAMA_32_1B, "Q8_0")[0],
                namespace="someone")
    ollama_pull(models_dir, "Qwen2.5-7B-Instruct-GGUF", "Q4_K_M", write_gguf(home / "b.gguf", QWEN25_7B)[0],
                namespace="bartowski", host="hf.co")
    names = _by_name(scan(catalog, _roots(home)))
    assert names["someone/my-llama:latest"].model_id == "meta-llama/Llama-3.2-1B-Instruct"
    hf = names["hf.co/bartowski/Qwen2.5-7B-Instruct-GGUF:Q4_K_M"]
    assert hf.repo == "bartowski/Qwen2.5-7B-Instruct-GGUF" and hf.model_id == "Qwen/Qwen2.5-7B-Instruct"


def test_broken_ollama_manifests_are_listed_with_the_problem(home, catalog):
    models_dir = home / ".ollama" / "models"
    bad = models_dir / "manifests" / "registry.ollama.ai" / "library" / "broken" / "latest"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    path = ollama_pull(models_dir, "gone", "1b", write_gguf(home / "c.gguf", LLAMA_32_1B)[0])
    blob = json.loads(path.read_text())["layers"][0]["digest"].replace(":", "-")
    (models_dir / "blobs" / blob).unlink()
    names = _by_name(scan(catalog, _roots(home)))
    assert "not readable JSON" in names["broken:latest"].problem
    assert "missing" in names["gone:1b"].problem


def test_lm_studio_publisher_repo_layout_and_the_older_folder(home, catalog):
    new = home / ".lmstudio" / "models" / "lmstudio-community" / "Qwen2.5-7B-Instruct-GGUF"
    write_gguf(new / "Qwen2.5-7B-Instruct-Q4_K_M.gguf", QWEN25_7B)
    old = home / ".cache" / "lm-studio" / "models" / "bartowski" / "gemma-3-4b-it-GGUF"
    write_gguf(old / "gemma-3-4b-it-Q4_K_M.gguf", GEMMA3_4B)
    write_projector(old / "mmproj-gemma-3-4b-it-f16.gguf")
    names = _by_name(scan(catalog, _roots(home)))
    qwen = names["Qwen2.5-7B-Instruct-Q4_K_M.gguf"]
    assert (qwen.source, qwen.repo, qwen.model_id, qwen.matched_by) == (
        "lmstudio", "lmstudio-community/Qwen2.5-7B-Instruct-GGUF", "Qwen/Qwen2.5-7B-Instruct", "repo name")
    gemma = names["gemma-3-4b-it-Q4_K_M.gguf"]
    # The catalog counts the vision tower (4.3B); the text GGUF holds 3.9B: matched by name and shape.
    assert gemma.model_id == "google/gemma-3-4b-it" and gemma.mmproj.endswith("mmproj-gemma-3-4b-it-f16.gguf")
    assert "mmproj-gemma-3-4b-it-f16.gguf" not in names  # a projector is not a model


def test_hugging_face_cache_gguf_and_mlx_repos(home, catalog):
    hub = home / ".cache" / "huggingface" / "hub"
    gguf = write_gguf(home / "x.gguf", LLAMA_32_1B, "Q8_0")[0]
    hf_cache_repo(hub, "bartowski/Llama-3.2-1B-Instruct-GGUF",
                  {"Llama-3.2-1B-Instruct-Q8_0.gguf": gguf, "README.md": "# card"})
    config = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "num_hidden_layers": 24,
              "hidden_size": 896, "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 151936,
              "quantization": {"group_size": 64, "bits": 4}}
    # mlx-community's 4-bit Qwen2.5-0.5B is 278 MB: packed uint32 weights and bf16 scales and biases.
    weights = write_safetensors(home / "w.safetensors", {"model.embed_tokens.weight": ("U32", (151936, 112)),
                                                         "model.layers.weight": ("U32", (24, 896, 2240)),
                                                         "model.layers.scales": ("BF16", (24, 896, 1120))})
    hf_cache_repo(hub, "mlx-community/Qwen2.5-0.5B-Instruct-4bit",
                  {"config.json": json.dumps(config), "model.safetensors": weights})
    hf_cache_repo(hub, "not-a-model/readme-only", {"README.md": "nothing to run"})
    names = _by_name(scan(catalog, _roots(home)))
    llama = names["Llama-3.2-1B-Instruct-Q8_0.gguf"]
    assert (llama.source, llama.model_id, llama.quant) == ("huggingface", "meta-llama/Llama-3.2-1B-Instruct", "Q8_0")
    assert "/snapshots/" in llama.path  # the path a user passes to llama-server -m
    mlx = names["mlx-community/Qwen2.5-0.5B-Instruct-4bit"]
    assert (mlx.format, mlx.quant, mlx.model_id) == ("mlx", "MLX-4bit", "Qwen/Qwen2.5-0.5B-Instruct")
    assert len(names) == 2


def test_env_variables_move_the_roots(tmp_path):
    env = {"OLLAMA_MODELS": str(tmp_path / "o"), "HF_HOME": str(tmp_path / "hf"), "LLAMA_CACHE": str(tmp_path / "l")}
    roots = default_roots(env=env, home=tmp_path / "h", platform="linux")
    assert roots.ollama == (tmp_path / "o",)  # no service folder once OLLAMA_MODELS is set
    assert roots.huggingface == (tmp_path / "hf" / "hub",) and roots.llama_cpp == (tmp_path / "l",)
    roots = default_roots(env={"HF_HUB_CACHE": str(tmp_path / "hub")}, home=tmp_path / "h", platform="darwin")
    assert roots.huggingface == (tmp_path / "hub",)
    assert roots.llama_cpp == (tmp_path / "h" / "Library" / "Caches" / "llama.cpp",)
    assert roots.lmstudio == (tmp_path / "h" / ".lmstudio" / "models", tmp_path / "h" / ".cache" / "lm-studio" / "models")


def test_llama_cpp_flat_cache_names_manifests_and_projectors(home, catalog):
    cache = home / ".cache" / "llama.cpp"
    write_gguf(cache / "ggml-org_gemma-3-4b-it-GGUF_gemma-3-4b-it-Q4_K_M.gguf", GEMMA3_4B)
    (cache / "ggml-org_gemma-3-4b-it-GGUF_gemma-3-4b-it-Q4_K_M.gguf.etag").write_text('"abc"')
    write_projector(cache / "ggml-org_gemma-3-4b-it-GGUF_mmproj-model-f16.gguf")
    (cache / "manifest=ggml-org=gemma-3-4b-it-GGUF=latest.json").write_text(json.dumps(
        {"ggufFile": {"rfilename": "gemma-3-4b-it-Q4_K_M.gguf"}}))
    write_gguf(cache / "unsloth_Qwen3-30B-A3B-GGUF_Qwen3-30B-A3B-Q4_K_M.gguf", QWEN3_30B_A3B)
    names = _by_name(scan(catalog, _roots(home)))
    gemma = names["gemma-3-4b-it-Q4_K_M.gguf"]
    assert (gemma.repo, gemma.model_id) == ("ggml-org/gemma-3-4b-it-GGUF", "google/gemma-3-4b-it")
    assert gemma.mmproj.endswith("mmproj-model-f16.gguf")
    moe = names["Qwen3-30B-A3B-Q4_K_M.gguf"]
    assert (moe.repo, moe.model_id) == ("unsloth/Qwen3-30B-A3B-GGUF", "Qwen/Qwen3-30B-A3B")
    assert moe.expert_params_b > 25  # the routed experts' share, for the active-parameter count


def test_user_folder_split_shards_unknown_model_and_broken_files(home, catalog):
    folder = home / "models"
    shards = write_gguf(folder / "Qwen2.5-14B-Instruct-Q8_0.gguf", QWEN25_14B, "Q8_0", shards=3)
    assert [s.name for s in shards][-1] == "Qwen2.5-14B-Instruct-Q8_0-00003-of-00003.gguf"
    write_gguf(folder / "SmolLM2-360M-Instruct-Q8_0.gguf", SMOLLM_360M, "Q8_0")
    write_gguf(folder / "deep" / "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", LLAMA_31_8B, cut_to_fraction=0.4)
    (folder / "junk.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 30)
    (folder / "empty.gguf").write_bytes(b"")
    (folder / "text.gguf").write_text("not a model at all")
    lone = write_gguf(folder / "lone" / "Qwen2.5-7B-Instruct-Q4_K_M.gguf", QWEN25_7B, shards=2)
    lone[1].unlink()
    names = _by_name(scan(catalog, _roots(home), folders=[folder]))
    split = names["Qwen2.5-14B-Instruct-Q8_0.gguf"]
    assert split.model_id == "Qwen/Qwen2.5-14B-Instruct" and len(split.files) == 3
    assert split.size_bytes == sum(s.stat().st_size for s in shards)
    assert split.params_b == pytest.approx(14.77, rel=0.01)  # every shard's tensors counted once
    smol = names["SmolLM2-360M-Instruct-Q8_0.gguf"]
    assert smol.model_id is None and smol.architecture == "llama" and smol.problem is None
    assert smol.facts["layers"] == 32 and smol.facts["kv_heads"] == 5
    cut = names["Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"]
    assert cut.model_id == "meta-llama/Llama-3.1-8B-Instruct" and "cut short" in cut.problem
    assert "corrupt header" in names["junk.gguf"].problem
    assert "cut short" in names["empty.gguf"].problem
    assert "not a GGUF file" in names["text.gguf"].problem
    assert "1 of 2 shards" in names["Qwen2.5-7B-Instruct-Q4_K_M.gguf"].problem
    assert all(m.source == "folder" for m in names.values())


def test_a_file_reached_twice_is_listed_once(home, catalog):
    store = home / "store"
    write_gguf(store / "Llama-3.2-1B-Instruct-Q8_0.gguf", LLAMA_32_1B, "Q8_0")
    lm = home / ".lmstudio" / "models" / "me" / "llama"
    lm.mkdir(parents=True)
    (lm / "Llama-3.2-1B-Instruct-Q8_0.gguf").symlink_to(store / "Llama-3.2-1B-Instruct-Q8_0.gguf")
    found = scan(catalog, _roots(home), folders=[store])
    assert len(found) == 1


def test_header_reader_on_a_real_sized_vocabulary_and_on_every_truncation(tmp_path):
    path = write_gguf(tmp_path / "Llama-3.2-1B-Instruct-Q8_0.gguf", LLAMA_32_1B, "Q8_0", vocab_tokens=None)[0]
    header = read_header(path)
    assert header.get("tokenizer.ggml.tokens").length == 128256
    assert header.file_type == "Q8_0" and header.get_int("{arch}.block_count") == 16
    assert not header.truncated
    head = path.read_bytes()[:header.data_end_bytes - header.tensor_bytes]
    # Cut anywhere inside the header: a clear error, never a crash or a hang.
    for cut in range(0, len(head), max(1, len(head) // 97)):
        short = tmp_path / "short.gguf"
        short.write_bytes(head[:cut])
        with pytest.raises(GgufError):
            read_header(short)


def test_second_scan_reads_no_header(home, catalog, monkeypatch):
    folder = home / "models"
    write_gguf(folder / "Qwen2.5-7B-Instruct-Q4_K_M.gguf", QWEN25_7B)
    cache_file = home / "headers.json"
    first = scan(catalog, _roots(home), folders=[folder], cache=HeaderCache(cache_file))
    import rigcheck.catalog.installed.describe as describe

    def fail(*args, **kwargs):
        raise AssertionError("header read again")

    monkeypatch.setattr(describe, "read_header", fail)
    second = scan(catalog, _roots(home), folders=[folder], cache=HeaderCache(cache_file))
    assert second == first
    # A changed file is read again.
    os.truncate(folder / "Qwen2.5-7B-Instruct-Q4_K_M.gguf", 1000)
    with pytest.raises(AssertionError, match="header read again"):
        scan(catalog, _roots(home), folders=[folder], cache=HeaderCache(cache_file))


def test_estimate_inputs_use_the_real_size_and_the_header_for_unknown_models(home, catalog):
    folder = home / "models"
    write_gguf(folder / "Qwen2.5-7B-Instruct-Q4_K_M.gguf", QWEN25_7B)
    write_gguf(folder / "SmolLM2-360M-Instruct-Q8_0.gguf", SMOLLM_360M, "Q8_0")
    names = _by_name(scan(catalog, _roots(home), folders=[folder]))
    qwen = names["Qwen2.5-7B-Instruct-Q4_K_M.gguf"]
    model, quant = estimate_inputs(qwen, catalog)
    assert model.id == "Qwen/Qwen2.5-7B-Instruct"
    assert quant.file_size_bytes == qwen.size_bytes and not quant.size_is_estimate
    assert quant.name == "Q4_K_M" and quant.runtimes == ["llama.cpp"]
    smol_model, smol_quant = estimate_inputs(names["SmolLM2-360M-Instruct-Q8_0.gguf"], catalog)
    assert smol_model.id.startswith("local/") and smol_model.num_layers == 32 and smol_model.num_kv_heads == 5
    assert smol_model.params_total_b == pytest.approx(0.36, abs=0.01)
    assert smol_quant.bits_per_weight == pytest.approx(8.5, abs=0.2)


def _cli(*args, home: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "HF_", "LLAMA_"))}
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "OLLAMA_MODELS": str(home / ".ollama" / "models")})
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "rigcheck", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_installed_command_lists_two_places_as_json_and_as_a_table(home):
    gguf = write_gguf(home / "dl.gguf", LLAMA_32_3B)[0]
    ollama_pull(home / ".ollama" / "models", "llama3.2", "3b", gguf)
    extra = home / "elsewhere"
    write_gguf(extra / "Qwen2.5-7B-Instruct-Q4_K_M.gguf", QWEN25_7B)
    proc = _cli("installed", "--json", "--path", str(extra), home=home)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "rigcheck.installed/1"
    rows = {r["source"]: r for r in doc["models"]}
    assert set(rows) == {"ollama", "folder"}
    for row in rows.values():
        assert {"path", "source", "model_id", "quant", "size_bytes", "architecture"} <= set(row)
    assert rows["ollama"]["model_id"] == "meta-llama/Llama-3.2-3B-Instruct"
    assert rows["folder"]["size_bytes"] == (extra / "Qwen2.5-7B-Instruct-Q4_K_M.gguf").stat().st_size
    table = _cli("installed", "--path", str(extra), home=home)
    assert "llama3.2:3b" in table.stdout and "Qwen/Qwen2.5-7B-Instruct" in table.stdout
    missing = _cli("installed", "--path", str(home / "nope"), home=home)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
