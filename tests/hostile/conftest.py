"""What every hostile case asserts, in one place: the exit code, one clear line on stderr, no traceback, no hang,
and the safety property (the catalog in use unchanged, a file untouched, a secret absent).

Cases run the real command line: in this process through ``main`` (``cli``), or as a child process
(``run``) where the case is about the process itself (a closed pipe, a full disk, a hang). Feeds are served
by a real local HTTP server (pytest-httpserver) and signed with a test key trusted in place of the pinned
ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rigcheck.catalog import cache, signing
from rigcheck.catalog.signing import load_private_key
from rigcheck.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
GOOD_SEQUENCE = 202612010005
"""Newer than the embedded catalog (202611290000), shaped like the build time YYYYMMDDHHMM."""
CHILD_TIMEOUT_S = 60


def assert_one_clear_line(err: str, *fragments: str) -> str:
    """stderr is exactly one line, starts with "rigcheck", carries no traceback, and holds each fragment."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    line = lines[0]
    assert line.startswith("rigcheck"), line
    assert "Traceback" not in err and "Error:" not in line.split(":", 1)[0], err
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


@pytest.fixture
def cli(capsys):
    """cli(*argv) -> (exit code, stdout, stderr): the command line in this process, argparse exits included."""

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


def run(*argv: str, stdout=subprocess.PIPE, timeout: float = CHILD_TIMEOUT_S, env: dict | None = None,
        **kwargs) -> subprocess.CompletedProcess:
    """``python -m rigcheck ARGV`` as a child process with this test's folders; fails the test on a hang."""
    child_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "RIGCHECK_NO_NETWORK": "1", **(env or {})}
    try:
        return subprocess.run([sys.executable, "-m", "rigcheck", *argv], stdout=stdout, stderr=subprocess.PIPE,
                              text=True, timeout=timeout, env=child_env, cwd=ROOT, **kwargs)
    except subprocess.TimeoutExpired:
        pytest.fail(f"rigcheck {' '.join(argv)[:200]} hung for {timeout} s")


def digest(path: Path) -> str | None:
    """A file's SHA-256, or None when it does not exist: "file untouched" compares these."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def cache_state() -> dict[str, str | None]:
    """Every file of the catalog cache folder and its digest: "catalog unchanged" compares these."""
    folder = cache.catalog_path().parent
    return {p.name: digest(p) for p in sorted(folder.iterdir())} if folder.exists() else {}


@pytest.fixture
def feed_key(tmp_path, monkeypatch):
    """A signing key trusted in place of the pinned ones."""
    path = tmp_path / "feed-key.pem"
    path.write_bytes(signing.generate_private_key_pem())
    key = load_private_key(path)
    monkeypatch.setattr(signing, "PINNED_PUBLIC_KEYS", {"test-primary": signing.public_key_b64(key.public_key())})
    return key


@pytest.fixture
def serve_feed(httpserver, feed_key):
    """serve_feed(body, path="/feed.json", sign=True) -> URL of a signed feed on a local HTTP server."""

    def serve(body: bytes, *, path: str = "/feed.json", sign: bool = True) -> str:
        httpserver.expect_request(path).respond_with_data(body, content_type="application/json")
        if sign:
            httpserver.expect_request(path + ".sig").respond_with_data(signing.sign(body, feed_key))
        else:
            httpserver.expect_request(path + ".sig").respond_with_data("Not Found", status=404)
        return httpserver.url_for(path)

    return serve


def good_feed(sequence: int = GOOD_SEQUENCE, **changes) -> dict:
    """A small valid catalog document: two models with a quant each, a device, an offer."""
    doc = {
        "schema_version": "1.0",
        "generated_at": "2026-12-01T00:05:00Z",
        "expires_at": "2099-01-01T00:00:00Z",
        "sequence": sequence,
        "models": [
            {"id": f"org/model-{i}", "family": "test", "name": f"Model {i}", "params_total_b": 7.0 + i,
             "num_layers": 32, "hidden_size": 4096, "num_attention_heads": 32, "num_kv_heads": 8,
             "quants": [{"name": "Q4_K_M", "format": "gguf", "bits_per_weight": 4.85,
                         "file_size_bytes": 4_000_000_000 + i}]}
            for i in range(2)
        ],
        "devices": [{"name": "RTX 4090", "vendor": "NVIDIA", "kind": "consumer", "memory_bytes": 24 * 2**30,
                     "bandwidth_bytes_per_s": 1.008e12, "fp16_tensor_tflops": 165.2}],
        "hosted": [{"model_id": "org/model-0", "provider": "x", "usd_per_m_input": 0.1, "usd_per_m_output": 0.3}],
    }
    doc.update(changes)
    return doc


def feed_bytes(doc: dict) -> bytes:
    return json.dumps(doc, indent=1).encode()


@pytest.fixture
def installed(serve_feed, cli):
    """A good signed feed refreshed into the cache; returns the cache state every later case must keep."""
    code, _, err = cli("catalog", "refresh", "--url", serve_feed(feed_bytes(good_feed()), path="/good.json"))
    assert code == 0, err
    return cache_state()
