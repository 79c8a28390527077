"""Feed sequencing like TUF, the refresh lock, stale temporaries, and an install whose last write fails."""

from __future__ import annotations

import pytest
from refresh_helpers import feed_bytes, make_feed, seq

from rigcheck.catalog import cache, refresh
from rigcheck.catalog.refresh import FeedInvalid, RollbackRefused, refresh_catalog


@pytest.mark.parametrize("sequence", [2**63 - 1, 99, 202613450000, 209912310000])
def test_sequence_must_be_a_build_time_not_in_the_future(serve_feed, sequence):
    url = serve_feed(feed_bytes(make_feed(sequence)), sign=False)
    with pytest.raises(FeedInvalid, match="sequence"):
        refresh_catalog(url, allow_unsigned=True)
    assert not cache.catalog_path().exists()


def test_unsigned_feed_neither_outranks_nor_blocks_a_signed_one(serve_feed, httpserver):
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(5)))))  # signed: the floor is seq(5)
    unsigned = serve_feed(feed_bytes(make_feed(seq(9))), sign=False, path="/unsigned.json")
    assert refresh_catalog(unsigned, allow_unsigned=True).catalog.sequence == seq(9)
    assert cache.read_trust().signed_sequence == seq(5)  # an unsigned feed does not raise the floor
    # a signed feed older than the unsigned one in use is still accepted: only signed feeds set the floor
    result = refresh_catalog(serve_feed(feed_bytes(make_feed(seq(6))), path="/newer.json"))
    assert result.signed and cache.read_cached().catalog.sequence == seq(6)
    # and a signed rollback below the floor is refused with both sequences named
    with pytest.raises(RollbackRefused, match=rf"sequence {seq(4)}\).*sequence {seq(6)}"):
        refresh_catalog(serve_feed(feed_bytes(make_feed(seq(4))), path="/old.json"))


def test_unsigned_feed_is_used_only_while_asked_for(serve_feed):
    url = serve_feed(feed_bytes(make_feed(seq(5))), sign=False, headers={"ETag": '"u"'})
    refresh_catalog(url, allow_unsigned=True)
    with pytest.raises(refresh.SignatureInvalid):
        refresh_catalog(url)  # the same unsigned feed, no longer allowed: refused, not "up to date"


def test_stale_temporaries_are_removed_by_the_next_refresh(serve_feed):
    folder = cache.catalog_path().parent
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / ".catalog.json.abc123.tmp"
    stale.write_bytes(b"half a catalog")
    refresh_catalog(serve_feed(feed_bytes(make_feed(seq(3)))))
    assert not stale.exists() and not list(folder.glob(".*.tmp"))


def test_a_held_lock_refuses_a_second_refresh(serve_feed):
    url = serve_feed(feed_bytes(make_feed(seq(3))))
    with cache.refresh_lock(), pytest.raises(refresh.RefreshBusy, match="another catalog refresh is running"):
        refresh_catalog(url)


def test_meta_write_failure_after_the_install_is_a_warning_not_a_failure(serve_feed, monkeypatch):
    """Once the catalog is in place the refresh has happened: the message must say so."""
    import os

    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(cache.META_FILE):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(cache.os, "replace", replace)
    result = refresh_catalog(serve_feed(feed_bytes(make_feed(seq(3)))))
    assert result.changed and cache.read_cached().catalog.sequence == seq(3)
    assert any("could not be written" in w for w in result.warnings)
    assert cache.read_meta() is None or cache.read_meta().sequence == seq(3)
