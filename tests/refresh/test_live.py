"""Refresh from the sources, `catalog add` and `catalog remove`, end to end against a fake Hub and OpenRouter
served by a real local HTTP server (HF_ENDPOINT and RIGCHECK_OPENROUTER_URL point at it)."""

from __future__ import annotations

import json

import pytest
from live_hub import GATED, GGUF_ONLY, NEW, NEW_GGUF, FakeHub, tiny_gguf
from werkzeug import Response

from rigcheck.catalog import cache, live
from rigcheck.catalog.net import HttpStatusError, NetworkDisabled
from rigcheck.catalog.store import catalog_status, load_catalog, load_embedded
from rigcheck.cli.main import main


@pytest.fixture
def hub(httpserver, tmp_path, monkeypatch):
    fake = FakeHub(httpserver, tiny_gguf(tmp_path / "tiny.gguf"))
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.setenv("RIGCHECK_OPENROUTER_URL", fake.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield fake
    httpserver.no_handler_status_code = 500


def refresh(**kw):
    return live.refresh_from_sources(sleep=lambda s: None, **kw)


def test_refresh_discovers_a_new_model_with_quants_and_prices(hub):
    result = refresh()
    catalog = load_catalog()
    nova = next(m for m in catalog.models if m.id == NEW)
    # architecture from text_config, vision from vision_config, parameters from safetensors metadata
    assert (nova.num_layers, nova.hidden_size, nova.num_kv_heads, nova.head_dim) == (48, 3840, 8, 256)
    assert nova.attention == "swa-mixed" and nova.sliding_window_tokens == 1024 and "vision" in nova.use_cases
    assert nova.params_total_b == pytest.approx(12.187, abs=0.001)
    assert nova.license == "apache-2.0" and nova.release_date == "2026-11-20"
    quants = {q.name: q for q in nova.quants}
    # only the files the index names: consolidated.safetensors is the same weights again
    assert quants["BF16"].file_size_bytes == 24_400_000_000 and quants["BF16"].format == "safetensors"
    assert quants["Q8_0"].file_size_bytes == 8_000_000_000 + 4_950_000_000  # split shards summed
    assert quants["IQ2_XXS"].repo == NEW_GGUF
    assert quants["BF16-GGUF"].format == "gguf"  # kept beside the safetensors BF16
    assert nova.vision_projector_bytes == 850_000_000
    assert any("(fetched " in s for s in nova.sources)
    offers = {(o.provider, o.endpoint): o for o in catalog.hosted if o.model_id == NEW}
    assert set(offers) == {("DeepInfra", "deepinfra/bf16"), ("Together", "together/fp8")}
    together = offers[("Together", "together/fp8")]
    assert (together.usd_per_m_input, together.usd_per_m_output, together.usd_per_m_cached_input) == (0.1, 0.2, 0.02)
    assert together.quantization == "fp8" and together.context_tokens == 65536
    assert "someone/Nova-12B-Instruct-GGUF" not in {m.id for m in catalog.models}  # a quantized copy
    assert result.changed and "models fetched" in result.message
    assert catalog_status().description.startswith("refreshed from Hugging Face and OpenRouter on ")
    assert catalog_status().source == "sources"


def test_refreshed_offers_replace_stale_duplicates(hub):
    """The embedded catalog's deepinfra offer and OpenRouter's DeepInfra endpoint are one offer, not two."""
    refresh()
    qwen = [o for o in load_catalog().hosted if o.model_id == "Qwen/Qwen3-30B-A3B"]
    deepinfra = [o for o in qwen if o.provider.lower() == "deepinfra"]
    assert len(deepinfra) == 1 and deepinfra[0].usd_per_m_output == 0.3
    assert deepinfra[0].no_training is True  # curated residency terms carried over
    assert not [o for o in qwen if o.provider.lower() == "openrouter"]


def test_curated_values_are_never_overwritten(hub):
    embedded = {m.id: m for m in load_embedded().models}["Qwen/Qwen3-30B-A3B"]
    refresh()
    qwen = {m.id: m for m in load_catalog().models}["Qwen/Qwen3-30B-A3B"]
    assert qwen.params_total_b == embedded.params_total_b and qwen.num_layers == embedded.num_layers
    assert qwen.release_date == embedded.release_date
    assert load_catalog().scores == load_embedded().scores


def test_failures_are_notes_not_a_failed_refresh(hub):
    hub.faults["/Qwen/Qwen3-30B-A3B/resolve/main/config.json"] = [Response("oops", status=500)] * 4
    hub.faults["/unsloth/"] = []
    hub.faults["/api/v1/models/newlab"] = [Response("{not json", content_type="application/json")]
    result = refresh()
    joined = "\n".join(result.notes)
    assert "Qwen/Qwen3-30B-A3B: skipped" in joined and "server error (HTTP 500)" in joined
    assert "OpenRouter endpoints of newlab/nova-12b-instruct" in joined
    assert NEW in {m.id for m in load_catalog().models}


def test_429_with_retry_after_is_waited_for(hub):
    hub.faults["/api/models/newlab/Nova-12B-Instruct"] = [Response("", status=429, headers={"Retry-After": "2"})]
    waits = []
    live.refresh_from_sources(sleep=waits.append)
    assert 2.0 in waits and NEW in {m.id for m in load_catalog().models}


def test_second_refresh_reuses_unchanged_repos(hub):
    refresh()
    first = len(hub.calls)
    hub.calls.clear()
    refresh()
    assert len(hub.calls) < first
    assert not [c for c in hub.calls if c.endswith("/tree/main") and "Nova" in c]  # same sha: no file list


def test_cancel_leaves_the_catalog_as_it_was(hub):
    import threading

    stop = threading.Event()

    def progress(done, total, what):
        if done == 3:
            stop.set()

    with pytest.raises(live.RefreshCancelled):
        live.refresh_from_sources(progress=progress, cancel=stop)
    assert not cache.catalog_path().exists()


def test_no_network_refuses_default_sources(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    with pytest.raises(NetworkDisabled, match="RIGCHECK_NO_NETWORK"):
        refresh()
    assert not cache.catalog_path().exists()


def test_add_gguf_only_repo_reads_the_gguf_header(hub, capsys):
    assert main(["catalog", "add", f"https://huggingface.co/{GGUF_ONLY}", "-q"]) == 0
    tiny = next(m for m in load_catalog().models if m.id == GGUF_ONLY)
    assert (tiny.num_layers, tiny.hidden_size, tiny.num_attention_heads, tiny.num_kv_heads) == (4, 256, 8, 2)
    assert tiny.params_total_b == round((5000 * 256 + 4 * 256 * 256) / 1e9, 3)  # from the tensor infos
    assert [q.name for q in tiny.quants] == ["Q8_0"] and tiny.license == "mit"
    assert live.added_models() == [GGUF_ONLY]
    assert f"added {GGUF_ONLY}" in capsys.readouterr().out
    # an added model stays through a refresh, and remove takes it out
    refresh()
    assert GGUF_ONLY in {m.id for m in load_catalog().models}
    assert main(["catalog", "remove", GGUF_ONLY]) == 0
    assert GGUF_ONLY not in {m.id for m in load_catalog().models} and live.added_models() == []


def test_add_gated_repo_says_how_and_changes_nothing(hub, capsys):
    assert main(["catalog", "add", GATED, "-q"]) == 1
    err = capsys.readouterr().err
    assert "gated" in err and "HF_TOKEN" in err and err.count("\n") == 1
    assert not cache.catalog_path().exists() and live.added_models() == []


def test_add_missing_repo_exit_1_and_bad_id_exit_2(hub, capsys):
    assert main(["catalog", "add", "nobody/nothing", "-q"]) == 1
    assert "was not found" in capsys.readouterr().err
    assert main(["catalog", "add", "not a repo"]) == 2
    assert main(["catalog", "remove", "Qwen/Qwen3-30B-A3B"]) == 2
    assert "only added models can be removed" in capsys.readouterr().err


def test_cli_refresh_then_fit_hosted_and_report_show_the_new_model(hub, capsys, tmp_path):
    assert main(["catalog", "refresh", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["changed"] and out["models"] > len(load_embedded().models)
    assert main(["fit", "--gpu", "RTX 4090", "--ram", "64GB", "--model", NEW, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert {r["quant"] for r in results} >= {"Q4_K_M", "IQ2_XXS", "BF16"}
    assert main(["hosted", "--model", NEW, "--json"]) == 0
    hosted = capsys.readouterr().out
    assert "Together" in hosted and "DeepInfra" in hosted
    report = tmp_path / "r.md"
    assert main(["report", "--gpu", "RTX 4090", "--ram", "64GB", "--format", "md", "-o", str(report)]) == 0
    assert "Nova-12B-Instruct" in report.read_text()
    assert main(["catalog", "show"]) == 0
    assert "refreshed from Hugging Face and OpenRouter on" in capsys.readouterr().out


def test_gated_base_still_gets_its_quantized_versions(hub):
    """A catalog model whose own files are gated: its open quantized versions are still read."""
    from rigcheck.catalog.sources.huggingface import HubClient
    from rigcheck.catalog.sources.update import ModelFetcher

    hub.children[GATED] = [{"id": NEW_GGUF, "downloads": 5, "sha": "2222"}]
    model, notes = ModelFetcher(HubClient(base_url=hub.url)).fetch(GATED, known=True)
    assert {q.name for q in model.quants} >= {"Q4_K_M", "IQ2_XXS"}
    assert any("gated" in n for n in notes)
    with pytest.raises(HttpStatusError, match="HF_TOKEN"):
        ModelFetcher(HubClient(base_url=hub.url)).fetch(GATED, known=False)


def test_refresh_contacts_only_the_documented_endpoints(hub, httpserver):
    """huggingface_hub's daily /api/agent-harnesses lookup (user-agent telemetry) is not made for us."""
    refresh()
    paths = {request.path for request, _response in httpserver.log}
    assert paths and not any("agent-harnesses" in path for path in paths)
