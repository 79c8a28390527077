"""Feed builder sources against a local server serving recorded Hugging Face and OpenRouter payloads."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from refresh_helpers import make_feed, seq
from werkzeug import Response

from rigcheck.catalog.net import HttpStatusError, NetworkDisabled
from rigcheck.catalog.records import Catalog, ClosedModel, HostedOffer, Model, Quant, decode_catalog
from rigcheck.catalog.sources import feed, huggingface, openrouter
from rigcheck.catalog.sources.huggingface import HubClient, fetch_model, gguf_quant_type, model_from_config

RECORDED = Path(__file__).parents[1] / "data" / "recorded"
HF = RECORDED / "huggingface"


def recorded(name: str):
    return json.loads((HF / name).read_text())


@pytest.fixture
def hub(httpserver):
    """Serve every recorded Hub payload at the paths the real API uses; anything else is a 404, as on the Hub."""
    httpserver.no_handler_status_code = 404
    for path in HF.glob("*.json"):
        stem, kind, _ = path.name.rsplit(".", 2)
        repo = stem.replace("--", "/", 1)
        body = path.read_bytes()
        if kind == "config":
            httpserver.expect_request(f"/{repo}/resolve/main/config.json").respond_with_data(body)
        elif kind == "info":
            httpserver.expect_request(f"/api/models/{repo}").respond_with_data(body)
        elif kind == "tree":
            httpserver.expect_request(f"/api/models/{repo}/tree/main").respond_with_data(body)

    def children(request):
        base = request.args.get("filter", "").removeprefix("base_model:quantized:")
        path = HF / f"{base.replace('/', '--', 1)}.children.json"
        return Response(path.read_bytes() if path.exists() else b"[]", content_type="application/json")

    httpserver.expect_request("/api/models").respond_with_handler(children)
    httpserver.expect_request("/api/v1/models").respond_with_data((RECORDED / "openrouter" / "models.json").read_bytes())
    yield httpserver.url_for("").rstrip("/")
    httpserver.no_handler_status_code = 500


# ---------------------------------------------------------------------------------------- config parsing

def test_moe_gqa_config_with_active_parameters():
    model = model_from_config("Qwen/Qwen3-30B-A3B", recorded("Qwen--Qwen3-30B-A3B.config.json"),
                              params_total=30_532_122_624)
    assert (model.num_layers, model.hidden_size, model.num_attention_heads, model.num_kv_heads,
            model.head_dim) == (48, 2048, 32, 4, 128)
    assert model.attention == "gqa" and model.max_context_tokens == 40960 and model.vocab_size == 151936
    assert (model.moe_num_experts, model.moe_experts_per_token, model.moe_intermediate_size) == (128, 8, 768)
    # 30.53B - 120 unused experts x 3 x 2048 x 768 x 48 layers = 3.35B ("A3B")
    assert model.params_total_b == 30.532 and model.params_active_b == pytest.approx(3.353, abs=0.001)
    assert model.tie_word_embeddings is False


def test_mla_config():
    model = model_from_config("deepseek-ai/DeepSeek-V3", recorded("deepseek-ai--DeepSeek-V3.config.json"),
                              params_total=671_026_419_200)
    assert model.attention == "mla"
    assert (model.mla_kv_lora_rank, model.mla_qk_rope_head_dim) == (512, 64)
    assert (model.moe_num_experts, model.moe_shared_experts, model.first_dense_layers) == (256, 1, 3)
    assert model.params_active_b == pytest.approx(37.55, abs=0.05)  # DeepSeek states 37B activated


def test_text_config_nesting_and_sliding_window_pattern():
    model = model_from_config("google/gemma-3-27b-it", recorded("google--gemma-3-27b-it.config.json"))
    assert (model.num_layers, model.hidden_size, model.num_kv_heads, model.vocab_size) == (62, 5376, 16, 262208)
    assert model.attention == "swa-mixed"
    assert (model.sliding_window_tokens, model.full_attention_layers) == (1024, 10)  # every 6th layer global
    assert "vision" in model.use_cases and model.family == "gemma3"


def test_layer_types_sliding_and_experts_per_token():
    model = model_from_config("openai/gpt-oss-20b", recorded("openai--gpt-oss-20b.config.json"))
    assert model.attention == "swa-mixed"
    assert (model.full_attention_layers, model.sliding_window_tokens) == (12, 128)
    assert (model.moe_num_experts, model.moe_experts_per_token, model.moe_intermediate_size) == (32, 4, 2880)


def test_hybrid_linear_attention():
    model = model_from_config("Qwen/Qwen3-Next-80B-A3B-Instruct",
                              recorded("Qwen--Qwen3-Next-80B-A3B-Instruct.config.json"))
    assert model.attention == "hybrid-linear" and model.full_attention_layers == 12
    # 32 value heads x 128 x 128 f32 state + 3 conv taps x (2x16x128 + 32x128) f32
    assert model.linear_state_bytes_per_layer == 32 * 128 * 128 * 4 + 3 * (2 * 16 * 128 + 32 * 128) * 4
    assert model.moe_shared_experts == 1 and model.head_dim == 256


def test_layer_types_with_linear_attention_counts_full_layers():
    config = {"num_hidden_layers": 8, "hidden_size": 64, "num_attention_heads": 4,
              "layer_types": ["linear_attention"] * 3 + ["full_attention"] + ["linear_attention"] * 3
              + ["full_attention"]}
    model = model_from_config("x/y", config)
    assert model.attention == "hybrid-linear" and model.full_attention_layers == 2


@pytest.mark.parametrize("config", [{}, {"hidden_size": 10}, {"num_hidden_layers": "many", "hidden_size": 8,
                                                                "num_attention_heads": 2}])
def test_config_without_basics_is_refused(config):
    with pytest.raises(huggingface.FeedInvalid, match="does not describe a transformer"):
        model_from_config("x/y", config)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Qwen3-30B-A3B-Q4_K_M.gguf", "Q4_K_M"),
        ("Qwen3-30B-A3B-UD-Q2_K_XL.gguf", "UD-Q2_K_XL"),
        ("UD-Q2_K_XL/GLM-4.6-UD-Q2_K_XL-00001-of-00003.gguf", "UD-Q2_K_XL"),
        ("BF16/Qwen3-30B-A3B-BF16-00002-of-00002.gguf", "BF16"),
        ("llama-3.2-1b-instruct-iq2_xxs.gguf", "IQ2_XXS"),
        ("gpt-oss-20b-MXFP4.gguf", "MXFP4"),
        ("Q4_K_M/Kimi-K2-Instruct-Q4_K_M-00001-of-00013.gguf", "Q4_K_M"),
        ("model-q8_0.gguf", "Q8_0"),
        ("README.md", None),
        ("weird-name.gguf", None),
    ],
)
def test_gguf_quant_type(path, expected):
    assert gguf_quant_type(path) == expected


def test_gguf_shards_summed_and_mmproj_apart():
    entries = msgspec.convert(recorded("unsloth--gemma-3-27b-it-GGUF.tree.json"), list[huggingface.TreeEntry])
    quants, projector = huggingface.quants_from_tree("unsloth/gemma-3-27b-it-GGUF", entries, 27_000_000_000)
    assert {q.name for q in quants} == {"Q4_K_M", "UD-Q2_K_XL"}
    assert projector == 858_000_000  # the F16 projector, not BF16/F32 nor their sum


# ------------------------------------------------------------------------------------------ end to end

def test_fetch_model_end_to_end_and_cached(hub, httpserver):
    model = fetch_model("hf:Qwen/Qwen3-30B-A3B", base_url=hub)
    by_name = {q.name: q for q in model.quants}
    assert model.license == "apache-2.0" and model.release_date == "2025-04-27"
    assert by_name["BF16"].file_size_bytes == 61_064_245_248 and by_name["BF16"].repo == "Qwen/Qwen3-30B-A3B"
    assert by_name["BF16"].bits_per_weight == pytest.approx(16.0, abs=0.01)
    # GGUF shards summed; Q4_K_M from the most downloaded child (unsloth), not Qwen's own GGUF repo
    assert by_name["BF16"].format == "safetensors"
    gguf_bf16 = [q for q in model.quants if q.format == "gguf" and q.name == "Q4_K_M"][0]
    assert gguf_bf16.repo == "unsloth/Qwen3-30B-A3B-GGUF" and gguf_bf16.file_size_bytes == 18_556_686_208
    assert by_name["Q5_K_M"].repo == "Qwen/Qwen3-30B-A3B-GGUF"
    assert by_name["FP8"].format == "fp8" and by_name["FP8"].file_size_bytes == 31_240_000_000
    assert by_name["MLX-4bit"].runtimes == ["mlx"] and by_name["MLX-4bit"].bits_per_weight == pytest.approx(4.5, abs=0.01)
    assert by_name["UD-Q4_K_XL"].runtimes == ["llama.cpp"]
    requests_before = len(httpserver.log)
    again = fetch_model("Qwen/Qwen3-30B-A3B", base_url=hub)
    assert again == model and len(httpserver.log) == requests_before  # served from the cache


def test_bf16_gguf_shards_are_summed(hub):
    model = fetch_model("hf:Qwen/Qwen3-30B-A3B", base_url=hub)
    # BF16 exists twice: the original safetensors keeps the name, unsloth's 2-shard GGUF is kept beside it
    bf16 = {q.name: q for q in model.quants if q.name.startswith("BF16")}
    assert (bf16["BF16"].format, bf16["BF16-GGUF"].format) == ("safetensors", "gguf")
    assert bf16["BF16-GGUF"].repo == "unsloth/Qwen3-30B-A3B-GGUF"
    client = HubClient(base_url=hub)
    quants, _ = huggingface.quants_from_tree("unsloth/Qwen3-30B-A3B-GGUF",
                                             client.tree("unsloth/Qwen3-30B-A3B-GGUF"), 30_532_122_624)
    bf16 = [q for q in quants if q.name == "BF16"][0]
    assert bf16.file_size_bytes == 49_860_000_000 + 11_240_000_000


def test_fetch_unknown_model_is_one_sentence(hub):
    with pytest.raises(HttpStatusError, match="was not found"):
        fetch_model("hf:nobody/nothing", base_url=hub, sleep=lambda s: None)


def test_fetch_model_bad_reference():
    with pytest.raises(huggingface.InvalidRepoId, match="expected ORG/REPO"):
        fetch_model("hf:not a repo")


def test_fetch_model_default_url_refused_offline():
    with pytest.raises(NetworkDisabled):
        fetch_model("hf:Qwen/Qwen3-30B-A3B")


def test_tree_pagination_follows_link_header(httpserver):
    first = [{"type": "file", "oid": "a", "size": 10, "path": "a-Q4_K_M.gguf"}]
    second = [{"type": "file", "oid": "b", "size": 20, "path": "b-Q8_0.gguf"}]
    next_url = httpserver.url_for("/api/models/o/r/tree/main") + "?recursive=true&cursor=abc"
    httpserver.expect_request("/api/models/o/r/tree/main", query_string="recursive=true&cursor=abc"
                              ).respond_with_json(second)
    httpserver.expect_request("/api/models/o/r/tree/main", query_string="recursive=true&expand=false").respond_with_json(
        first, headers={"Link": f'<{next_url}>; rel="next"'})
    entries = HubClient(base_url=httpserver.url_for("")).tree("o/r")
    assert [e.path for e in entries] == ["a-Q4_K_M.gguf", "b-Q8_0.gguf"]


def test_hub_429_honours_retry_after(httpserver):
    httpserver.expect_oneshot_request("/o/r/resolve/main/config.json").respond_with_data(
        "", status=429, headers={"Retry-After": "3"})
    httpserver.expect_request("/o/r/resolve/main/config.json").respond_with_json(
        {"num_hidden_layers": 2, "hidden_size": 8, "num_attention_heads": 2})
    waits = []
    config = HubClient(base_url=httpserver.url_for(""), sleep=waits.append).config("o/r")
    assert config["num_hidden_layers"] == 2 and waits == [3.0]


def test_hub_wrong_shape_is_feed_invalid(httpserver):
    httpserver.expect_request("/api/models/o/r/tree/main").respond_with_json([{"type": "file", "path": 5}])
    with pytest.raises(huggingface.FeedInvalid, match="file list of o/r"):
        HubClient(base_url=httpserver.url_for("")).tree("o/r")


# ----------------------------------------------------------------------------------------- OpenRouter

def _base_catalog() -> Catalog:
    doc = make_feed(seq(4))
    catalog = decode_catalog(json.dumps(doc).encode())
    qwen = Model(id="Qwen/Qwen3-30B-A3B", family="qwen3-moe", params_total_b=30.5, aliases=["qwen3-30b"],
                 quants=[Quant(name="Q4_K_M", format="gguf", bits_per_weight=4.85, file_size_bytes=18_500_000_000,
                               size_is_estimate=True, sources=["estimate"]),
                         Quant(name="Q8_0", format="gguf", bits_per_weight=8.5, file_size_bytes=32_400_000_000)])
    return Catalog(**{**{f: getattr(catalog, f) for f in catalog.__struct_fields__},
                      "models": [*catalog.models, qwen],
                      "closed_models": [ClosedModel(id="closed:anthropic/claude-opus-4.8", name="Claude Opus 4.8",
                                                    vendor="Anthropic")],
                      "hosted": [HostedOffer(model_id="Qwen/Qwen3-30B-A3B", provider="OpenRouter",
                                             usd_per_m_input=9.0, usd_per_m_output=9.0),
                                 HostedOffer(model_id="Qwen/Qwen3-30B-A3B", provider="alibaba",
                                             usd_per_m_input=0.2, usd_per_m_output=0.8)]})


def test_openrouter_prices_are_per_million_and_joined(hub):
    listing = openrouter.fetch_models(base_url=hub)
    assert any("data[6]" in line for line in listing.skipped)  # the entry without pricing
    offers, skipped = openrouter.hosted_offers(listing, _base_catalog(), date_seen="2026-11-29")
    by_model = {o.model_id: o for o in offers}
    assert set(by_model) == {"Qwen/Qwen3-30B-A3B", "closed:anthropic/claude-opus-4.8"}
    qwen = by_model["Qwen/Qwen3-30B-A3B"]
    assert (qwen.usd_per_m_input, qwen.usd_per_m_output) == (0.08, 0.28)  # not the :free variant
    assert qwen.context_tokens == 40960 and qwen.date_seen == "2026-11-29"
    opus = by_model["closed:anthropic/claude-opus-4.8"]
    assert (opus.usd_per_m_input, opus.usd_per_m_output, opus.usd_per_m_cached_input) == (5.0, 25.0, 0.5)


@pytest.mark.parametrize(("text", "expected"), [("0.0000006", 0.6), ("0", 0.0), ("-1", None), ("abc", None),
                                                (None, None), ("0.000015", 15.0)])
def test_usd_per_million(text, expected):
    assert openrouter.usd_per_million(text) == expected


def test_openrouter_not_a_listing(httpserver):
    httpserver.expect_request("/api/v1/models").respond_with_json({"models": []})
    with pytest.raises(openrouter.FeedInvalid, match="OpenRouter model list"):
        openrouter.fetch_models(base_url=httpserver.url_for(""))


# --------------------------------------------------------------------------------------------- merging

def test_build_from_sources_merges_over_base(hub):
    base = _base_catalog()
    report = feed.build_from_sources(base, ["Qwen/Qwen3-30B-A3B", "google/gemma-3-27b-it", "nobody/nothing"],
                                     hf_base_url=hub, openrouter_base_url=hub, sequence=seq(10))
    catalog = report.catalog
    assert report.models_updated == ["Qwen/Qwen3-30B-A3B"] and report.models_added == ["google/gemma-3-27b-it"]
    assert any(p.startswith("nobody/nothing:") for p in report.problems)
    qwen = next(m for m in catalog.models if m.id == "Qwen/Qwen3-30B-A3B")
    assert qwen.params_total_b == 30.5 and qwen.family == "qwen3-moe"  # curated values kept
    assert qwen.num_layers == 48 and qwen.moe_num_experts == 128  # gaps filled from config.json
    quants = {q.name: q for q in qwen.quants}
    assert quants["Q4_K_M"].file_size_bytes == 18_556_686_208 and not quants["Q4_K_M"].size_is_estimate
    assert quants["Q8_0"].file_size_bytes == 32_400_000_000  # a real size in the base is kept
    assert "IQ2_XXS" in quants and "FP8" in quants
    hosted = [(o.provider, o.usd_per_m_output) for o in catalog.hosted if o.model_id == "Qwen/Qwen3-30B-A3B"]
    assert sorted(hosted) == [("OpenRouter", 0.28), ("alibaba", 0.8)]  # the old OpenRouter price replaced
    assert catalog.sequence == seq(10) and catalog.expires_at > catalog.generated_at
    decode_catalog(feed.feed_bytes(catalog))  # the output is a valid feed


def test_build_sequence_must_increase():
    with pytest.raises(feed.CatalogError, match="must be above"):
        feed.build_feed(_base_catalog(), sequence=seq(4))


def test_build_default_sources_refused_offline():
    with pytest.raises(NetworkDisabled):
        feed.build_from_sources(_base_catalog(), ["Qwen/Qwen3-30B-A3B"])


# ---------------------------------------------------------------------------------- build -> sign -> refresh

def test_cli_build_sign_then_refresh_round_trip(hub, httpserver, tmp_path, key_pem, capsys):
    from rigcheck.catalog.refresh import refresh_catalog
    from rigcheck.catalog.store import load_embedded
    from rigcheck.cli.main import main

    _, key_path = key_pem
    out = tmp_path / "feed.json"
    embedded = load_embedded()
    code = main(["catalog", "build", "--models", "Qwen/Qwen3-30B-A3B", "--base-url-hf", hub,
                 "--base-url-openrouter", hub, "-o", str(out), "--key", str(key_path)])
    assert code == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    built = decode_catalog(out.read_bytes())
    assert built.sequence > embedded.sequence and len(built.models) == len(embedded.models)
    qwen = next(m for m in built.models if m.id == "Qwen/Qwen3-30B-A3B")
    q4 = next(q for q in qwen.quants if q.name == "Q4_K_M" and q.format == "gguf")
    assert q4.file_size_bytes == 18_556_686_208 and not q4.size_is_estimate

    httpserver.expect_request("/feed.json").respond_with_data(out.read_bytes())
    httpserver.expect_request("/feed.json.sig").respond_with_data((tmp_path / "feed.json.sig").read_bytes())
    result = refresh_catalog(httpserver.url_for("/feed.json"))
    assert result.signed and result.catalog.sequence == built.sequence


def test_cli_build_nothing_fetched_exit_1(hub, tmp_path, capsys):
    from rigcheck.cli.main import main

    out = tmp_path / "feed.json"
    assert main(["catalog", "build", "--models", "nobody/nothing", "--base-url-hf", hub, "--no-prices",
                 "-o", str(out)]) == 1
    assert "no model could be fetched" in capsys.readouterr().err and not out.exists()


def test_cli_build_bad_model_id_exit_2(tmp_path, capsys):
    from rigcheck.cli.main import main

    assert main(["catalog", "build", "--models", "not a repo", "-o", str(tmp_path / "f.json")]) == 2
    assert "expected ORG/REPO" in capsys.readouterr().err


def test_gated_repo_says_how_to_get_access(httpserver):
    httpserver.expect_request("/api/models/meta-llama/Llama-3.1-8B").respond_with_json(
        {"id": "meta-llama/Llama-3.1-8B", "gated": "manual"})
    httpserver.expect_request("/meta-llama/Llama-3.1-8B/resolve/main/config.json").respond_with_data(
        "Access to model meta-llama/Llama-3.1-8B is restricted.", status=401)
    client = HubClient(base_url=httpserver.url_for(""))
    with pytest.raises(HttpStatusError, match="gated or private on Hugging Face.*set HF_TOKEN"):
        huggingface.describe_repo(client, "meta-llama/Llama-3.1-8B")


def test_token_is_sent_and_requests_are_paced(httpserver):
    httpserver.expect_request("/o/r/resolve/main/config.json",
                              headers={"Authorization": "Bearer hf_test"}).respond_with_json({"a": 1})
    waits = []
    client = HubClient(base_url=httpserver.url_for(""), token="hf_test", min_interval_s=5.0, sleep=waits.append)
    client.config("o/r")
    client.config("o/r")
    assert len(waits) == 1 and 4.0 < waits[0] <= 5.0


def test_fit_with_hf_model_uses_hf_endpoint(hub, monkeypatch, capsys):
    """`rigcheck fit --model hf:...` (the estimator's command) fetches through fetch_model and HF_ENDPOINT."""
    from rigcheck.cli.main import main

    monkeypatch.setenv("HF_ENDPOINT", hub)
    code = main(["fit", "--gpu", "RTX 4090", "--ram", "64GB", "--model", "hf:google/gemma-3-27b-it", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    results = json.loads(out)["results"]
    assert results and {r["model_id"] for r in results} == {"google/gemma-3-27b-it"}
    assert huggingface.model_cache_path("google/gemma-3-27b-it").exists()


def test_fit_with_hf_model_offline_is_one_line(capsys):
    from rigcheck.cli.main import main

    code = main(["fit", "--gpu", "RTX 4090", "--ram", "64GB", "--model", "hf:google/gemma-3-27b-it"])
    err = capsys.readouterr().err
    assert code != 0 and "RIGCHECK_NO_NETWORK" in err and "Traceback" not in err


BASIC = {"num_hidden_layers": 48, "hidden_size": 4096, "num_attention_heads": 32, "num_key_value_heads": 8,
         "max_position_embeddings": 131072}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # Gemma 2 alternates local and global layers and says so only through its model_type.
        ({"model_type": "gemma2", "sliding_window": 4096}, ("swa-mixed", 24, 4096)),
        # Llama 4: no_rope_layers 0 = global NoPE layer (every 4th), the rest chunked local attention.
        ({"attention_chunk_size": 8192, "no_rope_layers": [1, 1, 1, 0] * 12}, ("swa-mixed", 12, 8192)),
        # Mistral 7B v0.1: every layer slides over 4096 tokens.
        ({"sliding_window": 4096, "max_position_embeddings": 32768}, ("swa-mixed", 0, 4096)),
        # Qwen2.5 ships a sliding_window value but disables it.
        ({"sliding_window": 32768, "use_sliding_window": False}, ("gqa", None, None)),
        # A window as long as the context is no window at all.
        ({"sliding_window": 131072}, ("gqa", None, None)),
    ],
    ids=["gemma2", "llama4-chunked", "mistral-v0.1", "qwen2-disabled", "window-equals-context"],
)
def test_attention_layouts(extra, expected):
    model = model_from_config("x/y", {**BASIC, **extra})
    assert (model.attention, model.full_attention_layers, model.sliding_window_tokens) == expected


def test_chatglm_kv_groups_and_mha_default():
    glm = model_from_config("x/glm", {"num_layers": 40, "hidden_size": 4096, "num_attention_heads": 32,
                                      "multi_query_group_num": 2, "padded_vocab_size": 151552,
                                      "seq_length": 131072})
    assert (glm.num_kv_heads, glm.vocab_size, glm.max_context_tokens, glm.attention) == (2, 151552, 131072, "gqa")
    mha = model_from_config("x/mha", {"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4})
    assert (mha.num_kv_heads, mha.head_dim, mha.attention) == (4, 16, "mha")


def test_embedded_catalog_passes_feed_validation():
    """A feed built from the embedded catalog alone must be accepted by refresh's checks."""
    from rigcheck.catalog.store import load_embedded

    embedded = load_embedded()
    report = feed.build_feed(embedded)
    assert report.catalog.sequence > embedded.sequence
    decode_catalog(feed.feed_bytes(report.catalog))


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"torch_dtype": "bfloat16"}, ("BF16", "safetensors", ["vllm"])),
        ({"torch_dtype": "float16"}, ("F16", "safetensors", ["vllm"])),
        ({"quantization_config": {"quant_method": "fp8", "fmt": "e4m3"}}, ("FP8", "fp8", ["vllm"])),
        ({"quantization_config": {"quant_method": "compressed-tensors",
                                  "config_groups": {"g": {"weights": {"type": "float", "num_bits": 8}}},
                                  "format": "float-quantized", "quant_algo": "FP8"}}, ("FP8", "fp8", ["vllm"])),
        ({"quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}}, ("AWQ-INT4", "awq", ["vllm"])),
        ({"quantization_config": {"quant_method": "gptq", "bits": 8}}, ("GPTQ-INT8", "gptq", ["vllm"])),
        ({"quantization_config": {"quant_method": "modelopt", "quant_algo": "NVFP4"}}, ("NVFP4", "nvfp4", ["vllm"])),
        ({"quantization_config": {"quant_method": "mxfp4"}}, ("MXFP4", "mxfp4", ["vllm"])),
        ({"quantization": {"bits": 8, "group_size": 64}}, ("MLX-8bit", "mlx", ["mlx"])),
        ({"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}}, None),
    ],
    ids=["bf16", "f16", "fp8", "compressed-fp8", "awq", "gptq8", "nvfp4", "mxfp4", "mlx8", "bnb-skipped"],
)
def test_safetensors_repo_kind_from_config(config, expected):
    entries = [huggingface.TreeEntry(type="file", path="model-00001-of-00002.safetensors", size=6_000_000_000),
               huggingface.TreeEntry(type="file", path="model-00002-of-00002.safetensors", size=2_000_000_000),
               huggingface.TreeEntry(type="file", path="original/consolidated.safetensors", size=16_000_000_000)]
    quants, _ = huggingface.quants_from_tree("o/r", entries, 8_000_000_000, config=config)
    if expected is None:
        assert quants == []
        return
    (quant,) = quants
    assert (quant.name, quant.format, quant.runtimes) == expected
    assert quant.file_size_bytes == 8_000_000_000  # original/ checkpoints are not counted
    assert quant.bits_per_weight == 8.0  # 8 GB x 8 bits / 8 B parameters


def test_hub_429_without_retry_after_uses_ratelimit_header(httpserver):
    httpserver.expect_oneshot_request("/o/r/resolve/main/config.json").respond_with_data(
        "", status=429, headers={"RateLimit": '"api";r=0;t=12', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'})
    httpserver.expect_request("/o/r/resolve/main/config.json").respond_with_json({"ok": True})
    waits = []
    assert HubClient(base_url=httpserver.url_for(""), sleep=waits.append).config("o/r") == {"ok": True}
    assert waits == [12.0]  # a short wait for the window to reset is waited for


def test_hub_429_with_a_long_reset_fails_at_once_without_sleeping(httpserver):
    """Minutes to the end of the window: no silent sleep; RateLimited says how long, the bucket is marked spent."""
    from rigcheck.catalog.net import RateLimited

    httpserver.expect_request("/o/r/resolve/main/config.json").respond_with_data(
        "", status=429, headers={"RateLimit": '"resolvers";r=0;t=240'})
    waits = []
    client = HubClient(base_url=httpserver.url_for(""), sleep=waits.append)
    with pytest.raises(RateLimited, match="asked to wait 240 s") as info:
        client.config("o/r")
    assert waits == [] and info.value.reset_s == 240 and info.value.bucket == "resolvers"
    assert 230 < client.session.rate_limits.spent("localhost", "resolvers") <= 240
