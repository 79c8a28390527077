"""load_catalog / catalog_status: the cached copy when it is good, the embedded one otherwise, with one warning."""

from __future__ import annotations

import msgspec
import pytest

from rigcheck.catalog import cache, store
from rigcheck.catalog.records import CatalogError, encode_catalog


@pytest.fixture()
def embedded():
    return store.load_embedded()


def write_cache(catalog, path=None, meta_url="https://example.test/feed.json"):
    path = path or cache.catalog_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_catalog(catalog))
    cache.write_meta(cache.CacheMeta(source_url=meta_url, fetched_at="2026-11-28T10:00:00Z",
                                     sequence=catalog.sequence))
    return path


def newer(embedded, **changes):
    fields = {"sequence": embedded.sequence + 5, "source": "https://example.test/feed.json",
              "models": embedded.models[:10], **changes}
    return msgspec.structs.replace(embedded, **fields)


def test_no_cache_uses_embedded(embedded):
    status = store.catalog_status()
    assert status.is_embedded and status.source == "embedded"
    assert status.warnings == ()
    assert status.counts["models"] == len(embedded.models)
    assert status.counts["quants"] == sum(len(m.quants) for m in embedded.models)
    assert status.age_s is not None and status.age_s >= 0
    assert store.load_catalog() is store.load_catalog(), "decoded once, then reused"


def test_valid_cache_is_used(embedded):
    write_cache(newer(embedded))
    catalog = store.load_catalog()
    assert len(catalog.models) == 10
    status = store.catalog_status()
    assert status.source == "https://example.test/feed.json"
    assert status.sequence == embedded.sequence + 5
    assert status.fetched_at == "2026-11-28T10:00:00Z"
    assert status.path == str(cache.catalog_path())
    assert status.warnings == ()


def test_replaced_cache_is_seen(embedded):
    write_cache(newer(embedded))
    assert len(store.load_catalog().models) == 10
    write_cache(newer(embedded, models=embedded.models[:12]))
    assert len(store.load_catalog().models) == 12


def test_corrupt_cache_falls_back_to_embedded_with_one_warning(embedded):
    path = cache.catalog_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'{"schema_version": "1.0", "generated_at": "x", "models": [{"id": 3}]')
    catalog = store.load_catalog()
    assert len(catalog.models) == len(embedded.models)
    status = store.catalog_status()
    assert status.is_embedded
    assert len(status.warnings) == 1 and "using the embedded catalog" in status.warnings[0]


def test_corrupt_cache_with_good_previous_copy(embedded):
    write_cache(newer(embedded), path=cache.previous_path())
    cache.catalog_path().write_bytes(b"\x00garbage")
    status = store.catalog_status()
    assert status.path == str(cache.previous_path())
    assert len(store.load_catalog().models) == 10
    assert any("previous" in w for w in status.warnings)


def test_newer_major_schema_is_refused(embedded):
    write_cache(newer(embedded, schema_version="2.0"))
    status = store.catalog_status()
    assert status.is_embedded
    assert any("newer than this app understands" in w for w in status.warnings)


def test_older_cache_than_embedded_is_skipped(embedded):
    write_cache(msgspec.structs.replace(embedded, sequence=embedded.sequence - 1, models=embedded.models[:10]))
    status = store.catalog_status()
    assert status.is_embedded
    assert any("older than the embedded one" in w for w in status.warnings)


def test_expired_cache_is_used_with_a_warning(embedded):
    write_cache(newer(embedded, expires_at="2020-01-01T00:00:00Z"))
    status = store.catalog_status()
    assert not status.is_embedded
    assert any("expired" in w for w in status.warnings)


def test_status_to_dict_is_json_ready(embedded):
    import json

    data = store.catalog_status().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["schema"] == "rigcheck.catalog-status/1"
    assert set(data["counts"]) == {"models", "quants", "devices", "hosted", "rentals", "scores", "closed_models"}


def test_missing_embedded_catalog_is_an_installation_error(monkeypatch, tmp_path):
    monkeypatch.setattr(store, "embedded_catalog_path", lambda: tmp_path / "nope.json")
    with pytest.raises(store.EmbeddedCatalogError, match="reinstall rigcheck"):
        store.load_catalog()


def test_app_update_with_newer_embedded_data_outranks_an_older_cached_feed(embedded):
    """Sequences are build times (YYYYMMDDHHMM) for feeds and the embedded catalog alike, so a feed cached on
    2026-11-20 loses to an app update whose embedded catalog was built 2026-11-29; a feed built after it wins."""
    assert embedded.generated_at == "2026-11-29T00:00:00+00:00" and embedded.sequence == 202611290000
    write_cache(newer(embedded, sequence=202611200000, generated_at="2026-11-20T00:00:00+00:00"))
    status = store.catalog_status()
    assert status.is_embedded and status.sequence == embedded.sequence
    assert len(store.load_catalog().models) == len(embedded.models)
    assert status.warnings == ("the cached catalog (sequence 202611200000) is older than the embedded one "
                               "(sequence 202611290000); using the embedded catalog",)

    write_cache(newer(embedded, sequence=202612010000, generated_at="2026-12-01T00:00:00+00:00"))
    status = store.catalog_status()
    assert not status.is_embedded and status.sequence == 202612010000 and status.warnings == ()
    assert len(store.load_catalog().models) == 10


def test_a_cached_catalog_over_the_size_cap_is_not_read(embedded, monkeypatch):
    path = write_cache(newer(embedded))
    monkeypatch.setattr(cache, "MAX_CATALOG_BYTES", path.stat().st_size - 1)
    result = cache.read_cached()
    assert result.catalog is None and "larger than the" in result.reason
    monkeypatch.setattr(cache, "MAX_CATALOG_BYTES", path.stat().st_size)
    assert len(cache.read_cached().catalog.models) == 10, "a document of exactly the cap is read"


def test_the_feed_cap_is_the_catalog_cap_and_holds_ten_thousand_models():
    from rigcheck.catalog import refresh
    from rigcheck.catalog.records import MAX_CATALOG_BYTES

    assert refresh.MAX_FEED_BYTES == MAX_CATALOG_BYTES
    embedded = store.load_embedded()
    per_model = len(encode_catalog(embedded)) / len(embedded.models)
    assert 10_000 * per_model * 1.5 < MAX_CATALOG_BYTES, "a 10,000-model catalog fits with room to grow"


def test_a_catalog_over_the_size_cap_is_not_installed(embedded, monkeypatch):
    good = write_cache(newer(embedded))
    before = good.read_bytes()
    data = encode_catalog(newer(embedded, sequence=embedded.sequence + 6))
    monkeypatch.setattr(cache, "MAX_CATALOG_BYTES", len(data) - 1)
    meta = cache.CacheMeta(source_url="https://example.test/feed.json", fetched_at="2026-11-28T10:00:00Z")
    with pytest.raises(CatalogError, match="MB a catalog may have"):
        cache.install_catalog(data, meta)
    assert good.read_bytes() == before, "what a reader would refuse is never written"
