"""Hostile feeds and servers against the session layer and feed sequencing (catalog/net*.py, catalog/refresh.py):
a server that drips bytes or asks to retry tomorrow, redirects that leave the machine or the web, a feed claiming
sequence 2^63 - 1, rollback, expiry, an endless body. Each case: exit 1, one clear line, no hang, the catalog in
use unchanged."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rigcheck.catalog import cache
from rigcheck.catalog import refresh as refresh_module
from rigcheck.catalog.net_policy import Deadlines
from tests.hostile.conftest import (
    GOOD_SEQUENCE,
    assert_one_clear_line,
    cache_state,
    feed_bytes,
    good_feed,
    run,
)

pytestmark = pytest.mark.timeout(120)
SHORT = Deadlines(connect_s=2.0, read_s=2.0, request_s=20.0, min_bytes_per_s=1000.0, rate_grace_s=3.0)
"""A feed's real deadlines (10 s to connect, 15 s of silence, a minimum average of 16 kB/s after 45 s, 10 minutes
for a large body that keeps coming) scaled down so the suite stays quick."""


class _Hostile(BaseHTTPRequestHandler):
    """/drip: one byte every 0.3 s, for ever; /slow-headers: nothing at all; /retry-tomorrow: 503 Retry-After a day;
    /endless: chunked body that never ends; /to-*: redirects."""

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 -- the http.server API
        path = self.path.split("?")[0]
        if path.startswith("/drip"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                while not self.server.stopping.is_set():
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                return
        elif path.startswith("/slow-headers"):
            self.server.stopping.wait(30)
        elif path.startswith("/retry-tomorrow"):
            self.send_response(503)
            self.send_header("Retry-After", "86400")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/endless"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"[" * 65536
            try:
                while not self.server.stopping.is_set():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        elif path.startswith("/to-"):
            target = {"/to-offhost": "http://203.0.113.7/feed.json", "/to-file": "file:///etc/passwd",
                      "/to-ftp": "ftp://example.com/feed.json",
                      "/to-offhost-by-name": "http://mirror.example.com/feed.json"}[path]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture
def hostile_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    server.stopping = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.stopping.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def short_deadlines(monkeypatch):
    monkeypatch.setattr(refresh_module, "FEED_DEADLINES", SHORT)


def _refresh(cli, url: str, *extra: str) -> tuple[int, str, float]:
    start = time.monotonic()
    code, out, err = cli("catalog", "refresh", "--url", url, *extra)
    return code, err, time.monotonic() - start


@pytest.mark.parametrize(("path", "fragment"), [
    ("/drip.json", "slower than 1 kB/s"),  # past the grace period, whatever trickles in
    ("/slow-headers.json", "stopped sending data"),  # silence: the read deadline
    ("/retry-tomorrow.json", "asked to wait 86400 s"),  # a retry it cannot wait for within the deadline
])
def test_a_slow_or_stalling_server_is_given_up_within_the_deadline(installed, short_deadlines, hostile_server, cli,
                                                                    path, fragment):
    code, err, took = _refresh(cli, hostile_server + path)
    assert code == 1
    assert_one_clear_line(err, "catalog refresh failed", fragment)
    assert took < SHORT.rate_grace_s + SHORT.read_s + 3, f"took {took:.1f} s"
    assert cache_state() == installed


def test_an_endless_body_is_cut_at_the_cap(installed, hostile_server, cli):
    code, err, took = _refresh(cli, hostile_server + "/endless.json")
    assert code == 1
    assert_one_clear_line(err, "catalog refresh failed")
    assert "MB" in err or "deadline" in err or "longer than" in err
    assert cache_state() == installed


@pytest.mark.parametrize("path", ["/to-offhost", "/to-offhost-by-name"])
def test_no_network_holds_on_every_redirect(installed, hostile_server, cli, path):
    """RIGCHECK_NO_NETWORK=1 (set for every test): loopback is allowed, a redirect off the machine is not, and it
    is refused before a connection is tried (203.0.113.7 is TEST-NET-3: a connection would hang, not fail)."""
    code, err, took = _refresh(cli, hostile_server + path)
    assert code == 1
    assert_one_clear_line(err, "network access is disabled")
    assert took < 5
    assert cache_state() == installed


@pytest.mark.parametrize("path", ["/to-file", "/to-ftp"])
def test_only_http_redirects_are_followed(installed, hostile_server, cli, path):
    code, err, _ = _refresh(cli, hostile_server + path)
    assert code == 1
    assert_one_clear_line(err, "http(s)")
    assert "passwd" not in cache_state() and cache_state() == installed


def test_no_network_refuses_an_off_machine_url_in_a_child_process(installed):
    proc = run("catalog", "refresh", "--url", "http://203.0.113.7/feed.json", timeout=30,
               env={"RIGCHECK_NO_NETWORK": "1"})
    assert proc.returncode == 1
    assert_one_clear_line(proc.stderr, "network access is disabled")
    assert cache_state() == installed


def test_an_unsigned_feed_claiming_sequence_2_63_cannot_freeze_updates(installed, serve_feed, cli):
    code, _, err = cli("catalog", "refresh", "--allow-unsigned",
                       "--url", serve_feed(feed_bytes(good_feed(sequence=2**63 - 1)), path="/max.json", sign=False))
    assert code == 1
    assert_one_clear_line(err, "not a build time")
    assert cache_state() == installed
    # An unsigned feed with a sane but later sequence is used while asked for, and never blocks a signed one.
    code, _, err = cli("catalog", "refresh", "--allow-unsigned", "--url",
                       serve_feed(feed_bytes(good_feed(sequence=GOOD_SEQUENCE + 50)), path="/unsigned.json",
                                  sign=False))
    assert code == 0, err
    code, out, err = cli("catalog", "refresh", "--url",
                         serve_feed(feed_bytes(good_feed(sequence=GOOD_SEQUENCE + 1)), path="/next.json"))
    assert code == 0, err
    assert cache.read_cached().catalog.sequence == GOOD_SEQUENCE + 1


@pytest.mark.parametrize(("sequence", "fragment"), [
    (GOOD_SEQUENCE - 1, "older than a signed catalog"),  # rollback below what is installed
    (202011290000, "older than"),  # below the embedded catalog
    (209912312359, "in the future"),  # a build time far ahead
    (-1, "negative"),
    (12, "not a build time"),
])
def test_rollback_and_insane_sequences_are_refused(installed, serve_feed, cli, sequence, fragment):
    code, _, err = cli("catalog", "refresh", "--url", serve_feed(feed_bytes(good_feed(sequence=sequence)),
                                                                 path=f"/s{abs(sequence)}.json"))
    assert code == 1
    assert_one_clear_line(err, fragment)
    assert cache_state() == installed


def test_an_expired_feed_is_refused(installed, serve_feed, cli):
    doc = good_feed(sequence=GOOD_SEQUENCE + 2, expires_at="2026-01-01T00:00:00Z")
    code, _, err = cli("catalog", "refresh", "--url", serve_feed(feed_bytes(doc), path="/expired.json"))
    assert code == 1
    assert_one_clear_line(err, "expired")
    assert cache_state() == installed


def test_a_feed_that_drips_is_given_up_within_about_a_minute():
    """The real feed deadlines: a large feed may take minutes while it keeps coming, but a server dripping
    bytes (below 16 kB/s on average) is given up once the first 45 s are past, and silence after 15 s."""
    feed = refresh_module.FEED_DEADLINES
    assert feed.min_bytes_per_s >= 1000 and feed.rate_grace_s + feed.read_s <= 60
    assert feed.connect_s + feed.rate_grace_s <= 60
