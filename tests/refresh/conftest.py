"""Fixtures for refresh tests: a valid feed, a test signing key trusted in place of the pinned ones."""

from __future__ import annotations

import pytest

from rigcheck.catalog import signing
from rigcheck.catalog.signing import load_private_key


@pytest.fixture
def key_pem(tmp_path, monkeypatch):
    """(private key, path of its PEM); its public half is the only trusted key for the test."""
    path = tmp_path / "feed-key.pem"
    path.write_bytes(signing.generate_private_key_pem())
    key = load_private_key(path)
    monkeypatch.setattr(signing, "PINNED_PUBLIC_KEYS",
                        {"test-primary": signing.public_key_b64(key.public_key())})
    return key, path


@pytest.fixture
def serve_feed(httpserver, key_pem):
    """serve_feed(body, sign=True, sig=None, path="/catalog.json", headers=None) -> URL."""
    key, _ = key_pem

    def serve(body: bytes, *, sign: bool = True, sig: str | None = None, path: str = "/catalog.json",
              headers: dict | None = None) -> str:
        httpserver.expect_request(path).respond_with_data(body, content_type="application/json",
                                                          headers=headers or {})
        if sig is not None:
            httpserver.expect_request(path + ".sig").respond_with_data(sig)
        elif sign:
            httpserver.expect_request(path + ".sig").respond_with_data(signing.sign(body, key))
        else:
            httpserver.expect_request(path + ".sig").respond_with_data("Not Found", status=404)
        return httpserver.url_for(path)

    return serve
