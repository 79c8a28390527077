"""How many requests a refresh of the whole embedded catalog makes, its worker threads, and the Hub's rate limit.

A fake Hub serving every catalog model (catalog_hub.py: config, own weights, GGUF/MLX/FP8/... quantized versions
from the publishers real models have, gated Llama and Gemma repos) counts requests by the Hub's rate-limit
buckets. The anonymous limit is 500 API requests per 5 minutes per IP (https://huggingface.co/docs/hub/rate-limits).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
from catalog_hub import CatalogHub, serve

from rigcheck.catalog import live, store
from rigcheck.catalog.net import MAX_RATE_LIMIT_WAIT_S
from rigcheck.catalog.records import encode_catalog
from rigcheck.catalog.store import load_catalog, load_embedded

EMBEDDED = load_embedded()
FIRST_REFRESH_MAX_API = 300
"""What a first refresh must ask the Hub's API, per model: the list of its quantized versions (with their file
names, dtype counts and commits) and one GGUF file list (the repo adding the most types); the info with file
sizes only of a model whose curated record lacks a license or a date, or that refresh discovers; and the two
discovery lists and huggingface_hub's own daily registry request. On this catalog: 116 lists + 115 GGUF file
lists + 41 infos (38 catalog records with a gap, 3 discovered) + 2 + 1 = 275. The bound leaves the anonymous
budget (500 per 5 minutes) 200 requests for the user's other Hub traffic and for more discoveries, and fails if
a change brings back a file list per repo (the design before: 1,116)."""
SAME_DAY_MAX_API = 0
"""Every model was checked less than 12 h before: nothing is asked of the Hub (OpenRouter prices still are)."""
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
SMALL = msgspec.structs.replace(EMBEDDED, models=[m for i, m in enumerate(EMBEDDED.models)
                                                  if i % 4 == 0 or m.id == "Qwen/Qwen3-8B"])
"""Every fourth catalog model (gated ones, MoE, sharded GGUF among them): for the tests that need no exact counts."""


@pytest.fixture
def hub_factory(monkeypatch):
    servers = []

    def make(*, small: bool = False, **kwargs) -> CatalogHub:
        if small:
            monkeypatch.setattr(store, "load_embedded", lambda: SMALL)
        hub = CatalogHub(SMALL if small else EMBEDDED, **kwargs)
        server, url = serve(hub)
        servers.append(server)
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("RIGCHECK_OPENROUTER_URL", url)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setattr(live, "_logged_in", lambda: False)
        return hub

    yield make
    for server in servers:
        server.shutdown()


def refresh(when: datetime = NOW, **kwargs):
    waits: list[float] = []
    result = live.refresh_from_sources(sleep=waits.append, now=when, **kwargs)
    return result, waits


def test_first_refresh_fits_the_anonymous_budget_and_a_second_asks_nothing(hub_factory):
    hub = hub_factory()
    result, _ = refresh()
    assert hub.counts["api"] <= FIRST_REFRESH_MAX_API, hub.counts
    assert hub.counts["resolvers"] <= 3 * len(hub.bases) + 250, hub.counts  # configs, indexes: 3,000 allowed
    catalog = load_catalog()
    assert len(catalog.models) == len(EMBEDDED.models) + 3  # the three trending newcomers
    qwen = {m.id: m for m in catalog.models}["Qwen/Qwen3-8B"]
    quants = {q.name: q for q in qwen.quants}
    unsloth = hub.repos["unsloth/Qwen3-8B-GGUF"].files
    assert quants["Q4_K_M"].file_size_bytes == unsloth["Qwen3-8B-Q4_K_M.gguf"]  # exact, from the file list
    assert not quants["Q4_K_M"].size_is_estimate and quants["UD-Q4_K_XL"].repo == "unsloth/Qwen3-8B-GGUF"
    own = hub.repos["Qwen/Qwen3-8B"]
    assert quants["BF16"].file_size_bytes == own.index["metadata"]["total_size"]  # from the index, resolver only
    mlx = hub.repos["mlx-community/Qwen3-8B-4bit"]
    assert quants["MLX-4bit"].file_size_bytes == sum(n * {"U32": 4, "BF16": 2}[d] for d, n in mlx.parameters.items())
    assert any("safetensors metadata" in s for s in quants["MLX-4bit"].sources)
    # split GGUF shards are summed
    big = next(m for m in catalog.models if any(q.file_size_bytes and q.file_size_bytes > 100e9 and q.format == "gguf"
                                                   for q in m.quants))
    shard = next(q for q in big.quants if q.format == "gguf" and q.file_size_bytes > 100e9)
    files = hub.repos[shard.repo].files
    assert shard.file_size_bytes == sum(size for path, size in files.items() if path.startswith(f"{shard.name}/"))
    # merges and duplicates are never read; gated repos are notes, not failures
    read = [c for c in hub.calls if "/tree/main" in c]
    assert not [c for c in read if "mergers/" in c or "lmstudio-community/" in c or "someone/" in c]
    assert any("gated" in n for n in result.notes) and result.status == "updated"

    hub.reset_counts()
    second, _ = refresh(NOW + timedelta(hours=1))
    assert hub.counts["api"] <= SAME_DAY_MAX_API and hub.counts["resolvers"] == 0, hub.counts
    assert hub.counts["openrouter"] > 0  # prices are always asked
    assert "checked less than 12 h ago" in second.message
    assert encode_catalog(second.catalog.models[0]) == encode_catalog(result.catalog.models[0])


def test_later_checks_read_only_what_changed(hub_factory):
    hub = hub_factory(small=True)
    refresh()
    models = len(hub.bases)
    hub.reset_counts()
    refresh(NOW + timedelta(hours=13))  # the next day: one more GGUF repo per model that adds types
    assert hub.counts["api"] <= 2 * models + 5, hub.counts
    after = {m.id: m for m in load_catalog().models}["Qwen/Qwen3-8B"]
    assert {"IQ2_M", "Q4_0"} <= {q.name for q in after.quants}  # bartowski's types, now read
    hub.reset_counts()
    refresh(NOW + timedelta(hours=26))  # nothing changed: one list per model, every repo known at its commit
    assert hub.counts["api"] <= models + 5, hub.counts
    assert not [c for c in hub.calls if "/tree/main" in c or "blobs=true" in c]
    hub.repos["unsloth/Qwen3-8B-GGUF"].sha = "f" * 40  # a new commit: that repo alone is read again
    hub.reset_counts()
    refresh(NOW + timedelta(hours=39))
    assert [c for c in hub.calls if "/tree/main" in c] == ["GET /api/models/unsloth/Qwen3-8B-GGUF/tree/main?"
                                                           "recursive=true&expand=false"]


def test_results_do_not_depend_on_which_request_answers_first(hub_factory, tmp_path, monkeypatch):
    hub = hub_factory(small=True)
    half = len(hub.bases) // 2
    outcomes = []
    for slow in (hub.bases[:half], hub.bases[half:]):
        monkeypatch.setenv("RIGCHECK_CACHE_DIR", str(tmp_path / f"cache{len(outcomes)}"))
        hub.delays = {f"/{repo}": 0.02 for repo in slow} | {f"quantized:{repo}": 0.02 for repo in slow}
        finished: list[str] = []
        result = live.refresh_from_sources(sleep=lambda s: None, now=NOW,
                                           progress=lambda done, total, what, seen=finished: seen.append(what))
        outcomes.append((result, finished))
    (first, order_a), (second, order_b) = outcomes
    assert order_a != order_b  # the threads did finish in other orders
    assert encode_catalog(first.catalog) == encode_catalog(second.catalog)
    assert first.notes == second.notes and first.message == second.message


def test_rate_limit_stops_new_api_requests_and_says_when_to_run_again(hub_factory):
    hub = hub_factory(small=True, api_quota=50)
    result, waits = refresh()
    assert result.status == "updated" and result.changed
    note = next(n for n in result.notes if n.startswith("Hub rate limit: "))
    assert "models keep their previous facts; run again in 5 min, or log in (HF_TOKEN / hf auth login)" in note
    assert hub.used["api"] <= 50 + live.WORKERS  # no request started once the Hub said only 8 were left
    assert all(w <= MAX_RATE_LIMIT_WAIT_S for w in waits)  # never a sleep for minutes
    kept = int(note.split(": ")[1].split(" ")[0])
    fetched = {m.id: m for m in load_catalog().models}
    exact = [m for m in SMALL.models
             if any(q.format == "gguf" and not q.size_is_estimate and q.repo for q in fetched[m.id].quants)]
    assert 0 < len(exact) < len(SMALL.models) and kept > 0
    # after the window resets, the next refresh finishes what was left, reusing what the first one read
    hub.new_window()
    hub.reset_counts()
    again, _ = refresh(NOW + timedelta(minutes=6))
    assert not [n for n in again.notes if n.startswith("Hub rate limit")]
    assert hub.counts["api"] < 50


def test_429_with_a_long_wait_is_not_slept_through(hub_factory):
    """A Hub that answers 429 without announcing its budget first: the refresh still ends at once, with the note."""
    hub = hub_factory(small=True, api_quota=20)
    hub.quiet = True  # no RateLimit header on answers that succeed: only the 429s say it
    result, waits = refresh()
    assert any(n.startswith("Hub rate limit: ") for n in result.notes)
    assert all(w <= MAX_RATE_LIMIT_WAIT_S for w in waits)


def test_cancel_stops_the_workers_and_changes_nothing(hub_factory, tmp_path, monkeypatch):
    hub = hub_factory(small=True, latency_s=0.01)
    stop = threading.Event()
    seen = []

    def progress(done, total, what):
        seen.append(done)
        if done >= 5:
            stop.set()

    with pytest.raises(live.RefreshCancelled):
        live.refresh_from_sources(progress=progress, cancel=stop, now=NOW)
    assert load_catalog().generated_at == EMBEDDED.generated_at and not (live.cache.catalog_path()).exists()
    cancelled = hub.counts["api"] + hub.counts["resolvers"]
    monkeypatch.setenv("RIGCHECK_CACHE_DIR", str(tmp_path / "full"))
    hub.reset_counts()
    refresh()
    assert cancelled < (hub.counts["api"] + hub.counts["resolvers"]) / 2  # it stopped, not after every model


def test_time_limit_keeps_what_was_fetched(hub_factory):
    hub_factory(small=True, latency_s=0.05)
    result, _ = refresh(time_limit_s=1.0)
    assert any("the time limit was reached" in n for n in result.notes)
    assert result.status == "updated"
