"""End-to-end refresh against a real local HTTP server: every good and bad feed case."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from refresh_helpers import EMBEDDED_SEQUENCE, feed_bytes, make_feed, seq
from werkzeug import Response

from rigcheck.catalog import cache, refresh, signing
from rigcheck.catalog.net import Deadlines
from rigcheck.catalog.refresh import (
    FeedInvalid,
    FeedTooLarge,
    HttpStatusError,
    NetworkDisabled,
    NetworkError,
    RefreshCancelled,
    RollbackRefused,
    SignatureInvalid,
    refresh_catalog,
)


def test_200_signed_feed_is_verified_written_and_reported(serve_feed):
    body = feed_bytes(make_feed(seq(7)))
    url = serve_feed(body, headers={"ETag": '"v7"', "Last-Modified": "Sun, 01 Nov 2026 00:00:00 GMT"})
    seen = []
    result = refresh_catalog(url, progress=lambda done, total: seen.append((done, total)))
    assert result.status == "updated" and result.changed and result.signed
    assert result.key_id == "test-primary"
    assert result.catalog.sequence == seq(7) and result.catalog.source == url
    assert f"sequence {seq(7)}" in result.message and "2 models" in result.message
    assert cache.catalog_path().read_bytes() == body  # the exact verified bytes
    assert signing.verify(body, cache.signature_path(cache.catalog_path()).read_text()) == "test-primary"
    meta = cache.read_meta()
    assert (meta.etag, meta.source_url, meta.sequence, meta.signed) == ('"v7"', url, seq(7), True)
    assert seen[0] == (0, len(body)) and seen[-1] == (len(body), len(body))


def test_304_sends_validators_and_reports_up_to_date(serve_feed, httpserver):
    body = feed_bytes(make_feed(seq(7)))
    url = serve_feed(body, headers={"ETag": '"v7"', "Last-Modified": "Sun, 01 Nov 2026 00:00:00 GMT"})
    refresh_catalog(url)
    httpserver.clear()
    httpserver.expect_request("/catalog.json", headers={"If-None-Match": '"v7"'}).respond_with_data(
        "", status=304)
    result = refresh_catalog(url)
    assert result.status == "unchanged" and not result.changed
    assert result.message == f"catalog is up to date (sequence {seq(7)})"
    assert result.catalog.sequence == seq(7)
    req = httpserver.log[-1][0]
    assert req.headers["If-Modified-Since"] == "Sun, 01 Nov 2026 00:00:00 GMT"


def test_429_then_200_honours_retry_after(serve_feed, httpserver):
    body = feed_bytes(make_feed(seq(3)))
    httpserver.expect_oneshot_request("/catalog.json").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"})
    url = serve_feed(body)
    waits = []
    result = refresh_catalog(url, sleep=waits.append)
    assert result.status == "updated"
    assert waits == [7.0]


def test_retry_after_past_the_deadline_gives_up_at_once(serve_feed, httpserver):
    """A server cannot park a refresh: a Retry-After longer than the request's deadline is not waited for."""
    httpserver.expect_oneshot_request("/catalog.json").respond_with_data(
        "", status=503, headers={"Retry-After": "86400"})
    url = serve_feed(feed_bytes(make_feed(seq(3))))
    waits = []
    with pytest.raises(HttpStatusError, match="asked to wait 86400 s"):
        refresh_catalog(url, sleep=waits.append)
    assert waits == [] and not cache.catalog_path().exists()


def test_5xx_gives_up_after_bounded_retries(httpserver):
    httpserver.expect_request("/catalog.json").respond_with_data("oops", status=502)
    waits = []
    with pytest.raises(HttpStatusError, match=r"server error \(HTTP 502\) after 4 attempts") as info:
        refresh_catalog(httpserver.url_for("/catalog.json"), sleep=waits.append)
    assert info.value.status == 502
    assert waits == [1.0, 2.0, 4.0]  # exponential backoff when no Retry-After
    assert len(httpserver.log) == 4
    assert not cache.catalog_path().exists()


def test_404_is_not_retried(httpserver):
    httpserver.expect_request("/catalog.json").respond_with_data("", status=404)
    with pytest.raises(HttpStatusError, match="was not found"):
        refresh_catalog(httpserver.url_for("/catalog.json"), sleep=lambda s: pytest.fail("retried a 404"))
    assert len(httpserver.log) == 1


def test_read_timeout_is_one_sentence(httpserver):
    def slow(_request):
        time.sleep(1.0)
        return Response("{}")

    httpserver.expect_request("/catalog.json").respond_with_handler(slow)
    with pytest.raises(NetworkError, match="stopped sending data"):
        refresh_catalog(httpserver.url_for("/catalog.json"), deadlines=Deadlines(read_s=0.3))


def test_connection_refused_is_a_network_error():
    with pytest.raises(NetworkError, match="refused the connection|could not reach"):
        refresh_catalog("http://127.0.0.1:9/catalog.json")


def test_truncated_body_is_detected(httpserver, key_pem):
    body = feed_bytes(make_feed(seq(3)))

    def truncated(_request):
        response = Response(body[: len(body) // 2], content_type="application/json")
        response.headers["Content-Length"] = str(len(body))
        response.automatically_set_content_length = False
        return response

    httpserver.expect_request("/catalog.json").respond_with_handler(truncated)
    with pytest.raises(NetworkError, match="cut off"):
        refresh_catalog(httpserver.url_for("/catalog.json"))
    assert not cache.catalog_path().exists()


def test_truncated_json_is_invalid(serve_feed):
    body = feed_bytes(make_feed(seq(3)))[:-40]
    url = serve_feed(body)  # correctly signed, so the failure is the JSON itself
    with pytest.raises(FeedInvalid, match="not a usable catalog"):
        refresh_catalog(url)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(sequence="seven"), r"Expected `int`, got `str` - at `\$.sequence`"),
        (lambda d: d["models"][0].pop("family"), r"missing required field `family` - at `\$.models\[0\]`"),
        (lambda d: d.update(models=[]), "has no models"),
        (lambda d: d["models"].append(dict(d["models"][0])), "lists model id 'org/model-0' twice"),
        (lambda d: d["models"][1].update(num_layers=-3), r"\$.models\[1\].num_layers is -3"),
        (lambda d: d["hosted"][0].update(usd_per_m_output=-1.0), r"usd_per_m_output is -1.0"),
        (lambda d: d.update(expires_at="next tuesday"), "expires_at 'next tuesday' is not an ISO 8601"),
        (lambda d: d.update(schema_version="2.0"), "newer than this app understands"),
    ],
    ids=["wrong-type", "missing-key", "no-models", "duplicate-id", "negative", "negative-price",
         "bad-date", "newer-major"],
)
def test_invalid_feeds_leave_the_good_copy(serve_feed, httpserver, mutate, expected):
    good = feed_bytes(make_feed(seq(3)))
    url = serve_feed(good)
    refresh_catalog(url)
    httpserver.clear()
    doc = make_feed(seq(4))
    mutate(doc)
    url = serve_feed(feed_bytes(doc))
    with pytest.raises(FeedInvalid, match=expected):
        refresh_catalog(url)
    assert cache.catalog_path().read_bytes() == good
    assert cache.read_cached().catalog.sequence == seq(3)


def test_oversized_body_by_content_length(serve_feed):
    url = serve_feed(feed_bytes(make_feed(seq(3), models=50)))
    with pytest.raises(FeedTooLarge, match="over the 0 MB limit|MB limit"):
        refresh_catalog(url, max_bytes=1000)
    assert not cache.catalog_path().exists()


def test_oversized_streamed_body_stops_reading(httpserver, key_pem):
    produced = []

    def endless(_request):
        def chunks():
            for _ in range(10_000):  # 640 MB if read to the end
                produced.append(1)
                yield b" " * 65536
        return Response(chunks(), content_type="application/json")  # chunked: no Content-Length

    httpserver.expect_request("/catalog.json").respond_with_handler(endless)
    with pytest.raises(FeedTooLarge, match="larger than the 1 MB limit"):
        refresh_catalog(httpserver.url_for("/catalog.json"), max_bytes=1_000_000)
    assert len(produced) < 200


def test_bad_signature_is_refused(serve_feed, httpserver):
    body = feed_bytes(make_feed(seq(3)))
    url = serve_feed(body, sig=signing.sign(body, Ed25519PrivateKey.generate()))
    with pytest.raises(SignatureInvalid, match="does not match any trusted rigcheck key"):
        refresh_catalog(url)
    assert not cache.catalog_path().exists()


def test_signature_over_other_bytes_is_refused(serve_feed, key_pem):
    key, _ = key_pem
    body = feed_bytes(make_feed(seq(3)))
    url = serve_feed(body, sig=signing.sign(body + b" ", key))
    with pytest.raises(SignatureInvalid):
        refresh_catalog(url)


def test_garbage_signature_is_refused(serve_feed):
    url = serve_feed(feed_bytes(make_feed(seq(3))), sig="not base64 at all!")
    with pytest.raises(SignatureInvalid, match="not base64"):
        refresh_catalog(url)


def test_spare_key_is_trusted_for_rotation(serve_feed, key_pem, monkeypatch):
    key, _ = key_pem
    primary = Ed25519PrivateKey.generate()
    monkeypatch.setattr(signing, "PINNED_PUBLIC_KEYS", {
        "primary": signing.public_key_b64(primary.public_key()),
        "spare": signing.public_key_b64(key.public_key()),
    })
    result = refresh_catalog(serve_feed(feed_bytes(make_feed(seq(3)))))
    assert result.key_id == "spare"


def test_pinned_keys_are_two_valid_distinct_keys():
    keys = signing.PINNED_PUBLIC_KEYS
    assert len(keys) == 2 and len(set(keys.values())) == 2
    for value in keys.values():
        signing.public_key_from_b64(value)


def test_rollback_is_refused(serve_feed, httpserver):
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(9)))))
    httpserver.clear()
    url = serve_feed(feed_bytes(make_feed(seq(8))))
    with pytest.raises(RollbackRefused, match=rf"sequence {seq(8)}\) is older than a signed catalog already installed here \(sequence {seq(9)}"):
        refresh_catalog(url)
    assert cache.read_cached().catalog.sequence == seq(9)


def test_expired_feed_is_refused(serve_feed):
    """A feed past its expires_at is a frozen or replayed one (TUF's freeze attack): refused, nothing written."""
    url = serve_feed(feed_bytes(make_feed(seq(3), expires_at="2026-12-01T06:00:00Z")))
    now = datetime(2026, 12, 31, tzinfo=timezone.utc)
    with pytest.raises(refresh.FeedExpired, match=r"refusing the feed: the catalog expired 29 days ago \(2026-12-01\)"):
        refresh_catalog(url, now=now)
    assert not cache.catalog_path().exists()


def test_unsigned_custom_feed_refused_without_allow_unsigned(serve_feed):
    url = serve_feed(feed_bytes(make_feed(seq(3))), sign=False)
    with pytest.raises(SignatureInvalid, match="has no signature.*--allow-unsigned"):
        refresh_catalog(url)
    assert not cache.catalog_path().exists()


def test_unsigned_custom_feed_accepted_with_allow_unsigned(serve_feed):
    url = serve_feed(feed_bytes(make_feed(seq(3))), sign=False)
    result = refresh_catalog(url, allow_unsigned=True)
    assert result.status == "updated" and not result.signed
    assert "UNSIGNED" in result.message and "The catalog is unsigned" in result.message
    assert not cache.signature_path(cache.catalog_path()).exists()
    assert cache.read_meta().signed is False


def test_default_url_refused_when_network_disabled():
    with pytest.raises(NetworkDisabled, match="RIGCHECK_NO_NETWORK"):
        refresh_catalog()
    with pytest.raises(NetworkDisabled):
        refresh_catalog("https://example.com/catalog.json")


def test_cancellation_mid_download_writes_nothing(serve_feed):
    url = serve_feed(feed_bytes(make_feed(seq(3), models=3000)))
    stop = threading.Event()
    reads = []

    def progress(done, total):
        reads.append(done)
        if done > 0:
            stop.set()

    with pytest.raises(RefreshCancelled, match="cancelled"):
        refresh_catalog(url, progress=progress, cancel=stop)
    assert reads[0] == 0 and len(reads) == 2  # the start, then one chunk; the second chunk is never read
    assert not cache.catalog_path().exists()


def test_corrupt_cache_falls_back_to_previous_then_none(serve_feed, httpserver):
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(3)))))
    httpserver.clear()
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(4)))))
    assert json.loads(cache.previous_path().read_bytes())["sequence"] == seq(3)
    cache.catalog_path().write_bytes(b'{"schema_version": "1.0", "generated_at": "x", "models": [')
    got = cache.read_cached()
    assert got.catalog.sequence == seq(3) and "corrupt" in got.reason and "previous good copy" in got.reason
    cache.previous_path().write_bytes(b"\x00\xff")
    got = cache.read_cached()
    assert got.catalog is None and "catalog.json is corrupt" in got.reason


def test_no_cache_reads_as_nothing_without_complaint():
    assert cache.read_cached() == (None, None, None)


def test_refresh_after_corrupt_cache_does_not_evict_good_previous(serve_feed, httpserver):
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(3)))))
    httpserver.clear()
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(4)))))
    cache.catalog_path().write_bytes(b"garbage")
    httpserver.clear()
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(5)))))
    assert json.loads(cache.previous_path().read_bytes())["sequence"] == seq(3)
    assert cache.read_cached().catalog.sequence == seq(5)


def test_atomic_write_leaves_old_file_when_write_fails(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir()
    target = folder / "f.json"
    target.write_bytes(b"old")

    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.os, "fsync", boom)
    with pytest.raises(OSError):
        cache.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["f.json"]


def test_disk_failure_is_a_refresh_error(serve_feed, monkeypatch):
    url = serve_feed(feed_bytes(make_feed(seq(3))))

    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache, "atomic_write", full)
    with pytest.raises(refresh.CacheWriteError, match="No space left on device"):
        refresh_catalog(url)


def test_feed_older_than_embedded_catalog_is_refused(serve_feed):
    from rigcheck.catalog import store

    # A feed built 2026-11-01 is older than the embedded catalog built 2026-11-29 (sequences are build times),
    # so an app update that ships newer data is not rolled back by a stale feed.
    embedded = store.load_embedded()
    assert embedded.sequence == EMBEDDED_SEQUENCE
    url = serve_feed(feed_bytes(make_feed(202611010000)))
    with pytest.raises(RollbackRefused, match=r"older than the catalog built into this app \(sequence 202611290000\)"):
        refresh_catalog(url)
    assert not cache.catalog_path().exists()


def test_refreshed_catalog_is_what_load_catalog_uses(serve_feed):
    from rigcheck.catalog import store

    url = serve_feed(feed_bytes(make_feed(store.load_embedded().sequence + 1)))
    refresh_catalog(url)
    status = store.catalog_status()
    assert status.source == url and status.sequence == store.load_embedded().sequence + 1
    assert store.load_catalog().models[0].id == "org/model-0"


def test_retry_after_http_date():
    from rigcheck.catalog.net import retry_after_s

    now = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_s("Sun, 29 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_s("Sun, 29 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_s("soon", now=now) is None and retry_after_s(None) is None


def test_gzip_feed_is_verified_over_decoded_bytes_and_capped(httpserver, key_pem):
    import gzip

    key, _ = key_pem
    body = feed_bytes(make_feed(seq(3), models=200))
    packed = gzip.compress(body)
    httpserver.expect_request("/catalog.json").respond_with_data(
        packed, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    httpserver.expect_request("/catalog.json.sig").respond_with_data(signing.sign(body, key))
    url = httpserver.url_for("/catalog.json")
    assert refresh_catalog(url).catalog.sequence == seq(3)
    cache.catalog_path().unlink()
    # The cap applies to the decoded bytes: a small compressed body cannot inflate past it.
    assert len(packed) < 20_000 < len(body)
    with pytest.raises(FeedTooLarge):
        refresh_catalog(url, max_bytes=20_000)


def test_same_bytes_without_validators_is_unchanged(serve_feed):
    body = feed_bytes(make_feed(seq(3)))
    url = serve_feed(body)  # no ETag, no Last-Modified
    assert refresh_catalog(url).changed
    first_fetch = cache.read_meta().fetched_at
    result = refresh_catalog(url)
    assert (result.status, result.changed) == ("unchanged", False)
    assert result.message == f"catalog is up to date (sequence {seq(3)})"
    assert not cache.previous_path().exists()  # the good copy was not rotated into catalog.prev.json
    assert cache.read_meta().fetched_at >= first_fetch
