"""`rigcheck catalog refresh|build|sign` through main(): exit codes and one-line messages."""

from __future__ import annotations

import json

import pytest
from refresh_helpers import feed_bytes, make_feed, seq

from rigcheck.catalog import cache, signing
from rigcheck.cli.main import main


def test_refresh_success_exit_0(serve_feed, capsys):
    url = serve_feed(feed_bytes(make_feed(seq(6))))
    assert main(["catalog", "refresh", "--url", url]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"catalog updated to sequence {seq(6)}") and err == ""
    assert cache.read_cached().catalog.sequence == seq(6)


def test_refresh_json(serve_feed, capsys):
    url = serve_feed(feed_bytes(make_feed(seq(6))))
    assert main(["catalog", "refresh", "--url", url, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "rigcheck.catalog-refresh/1"
    assert (doc["status"], doc["sequence"], doc["signed"], doc["key_id"]) == ("updated", seq(6), True, "test-primary")


def test_refresh_failure_is_exit_1_with_one_line(serve_feed, capsys):
    url = serve_feed(feed_bytes(make_feed(seq(6))), sig="AAAA")
    assert main(["catalog", "refresh", "--url", url]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("rigcheck: catalog refresh failed: refusing the feed: the signature is 3 bytes long")


def test_refresh_default_url_offline_is_exit_1(capsys):
    assert main(["catalog", "refresh"]) == 1
    assert "RIGCHECK_NO_NETWORK" in capsys.readouterr().err


def test_allow_unsigned_needs_url_exit_2(capsys):
    assert main(["catalog", "refresh", "--allow-unsigned"]) == 2
    assert "--allow-unsigned applies only to a feed given with --url" in capsys.readouterr().err


def test_unsigned_with_allow_unsigned_warns(serve_feed, capsys):
    url = serve_feed(feed_bytes(make_feed(seq(6))), sign=False)
    assert main(["catalog", "refresh", "--url", url, "--allow-unsigned"]) == 0
    out, err = capsys.readouterr()
    assert "UNSIGNED" in out and "rigcheck: warning: the catalog is unsigned" in err


def test_expired_feed_is_refused_exit_1(serve_feed, capsys):
    url = serve_feed(feed_bytes(make_feed(seq(6), expires_at="2020-01-01T00:00:00Z")))
    assert main(["catalog", "refresh", "--url", url]) == 1
    err = capsys.readouterr().err
    assert "refusing the feed: the catalog expired" in err and err.count("\n") == 1


def test_sign_writes_verifiable_signature(tmp_path, key_pem, capsys):
    _, key_path = key_pem
    feed = tmp_path / "feed.json"
    feed.write_bytes(feed_bytes(make_feed(seq(6))))
    assert main(["catalog", "sign", str(feed), "--key", str(key_path)]) == 0
    sig = (tmp_path / "feed.json.sig").read_text()
    assert signing.verify(feed.read_bytes(), sig) == "test-primary"
    assert "with pinned key test-primary" in capsys.readouterr().out


def test_sign_with_unpinned_key_warns(tmp_path, capsys):
    key_path = tmp_path / "other.pem"
    key_path.write_bytes(signing.generate_private_key_pem())
    feed = tmp_path / "feed.json"
    feed.write_bytes(feed_bytes(make_feed(seq(6))))
    assert main(["catalog", "sign", str(feed), "--key", str(key_path)]) == 0
    assert "not pinned" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing-key", "cannot read the signing key"),
        ("not-a-key", "is not an unencrypted PEM private key"),
        ("invalid-feed", "is not a valid catalog, refusing to sign it"),
        ("missing-feed", "cannot read"),
    ],
)
def test_sign_bad_input_exit_2(tmp_path, key_pem, capsys, setup, expected):
    _, key_path = key_pem
    feed = tmp_path / "feed.json"
    feed.write_bytes(feed_bytes(make_feed(seq(6))))
    if setup == "missing-key":
        key_path = tmp_path / "nope.pem"
    elif setup == "not-a-key":
        key_path = tmp_path / "junk.pem"
        key_path.write_text("hello")
    elif setup == "invalid-feed":
        feed.write_text('{"schema_version": "1.0"}')
    elif setup == "missing-feed":
        feed = tmp_path / "absent.json"
    assert main(["catalog", "sign", str(feed), "--key", str(key_path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
    assert not (tmp_path / "feed.json.sig").exists()


def test_catalog_without_action_exit_2(capsys):
    assert main(["catalog"]) == 2
    assert "catalog needs an action" in capsys.readouterr().err


def test_refresh_non_http_url_exit_2(capsys):
    assert main(["catalog", "refresh", "--url", "ftp://example.com/feed.json"]) == 2
    assert "is not an http(s) URL" in capsys.readouterr().err
