"""The session layer every request goes through: network policy per hop, deadlines, retries, caps, ETags."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from rigcheck.catalog import net
from rigcheck.catalog.net import Deadlines, Session


class DripServer:
    """A raw TCP server on 127.0.0.1 that sends ``head`` then ``body`` one byte every ``gap_s`` (bounded)."""

    def __init__(self, *, head: bytes, body: bytes = b"", drip_head: bool = False, gap_s: float = 0.2):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.head, self.body, self.drip_head, self.gap_s = head, body, drip_head, gap_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed.json"

    def _serve(self) -> None:
        self.sock.settimeout(10)
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            try:
                if self.drip_head:
                    payload = self.head + self.body
                else:
                    conn.sendall(self.head)
                    payload = self.body
                for i in range(len(payload)):
                    if self.stop.wait(self.gap_s):
                        return
                    conn.sendall(payload[i:i + 1])
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


def test_body_drip_is_cut_off_at_the_request_deadline():
    body = b"x" * 400  # 80 s at one byte per 0.2 s
    server = DripServer(head=b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n", body=body)
    try:
        start = time.monotonic()
        with Session(deadlines=Deadlines(connect_s=1, read_s=1, request_s=1.5)) as session:
            with pytest.raises(net.NetworkError, match=r"took longer than 1.5 s to answer; gave up"):
                session.get_bytes(server.url, max_bytes=10_000, what="the feed")
        assert time.monotonic() - start < 3.5
    finally:
        server.close()


def test_header_drip_is_cut_off_too():
    """The deadline holds inside the socket reads, so a status line that trickles in cannot keep it alive."""
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 400 + b"\r\nContent-Length: 2\r\n\r\n"
    server = DripServer(head=head, body=b"{}", drip_head=True)
    try:
        start = time.monotonic()
        with Session(deadlines=Deadlines(connect_s=1, read_s=1, request_s=1.5)) as session:
            with pytest.raises(net.NetworkError, match="gave up"):
                session.get_bytes(server.url, max_bytes=10_000, what="the feed")
        assert time.monotonic() - start < 3.5
    finally:
        server.close()


def test_no_network_blocks_a_remote_host_before_connecting():
    with Session() as session, pytest.raises(net.NetworkDisabled, match="RIGCHECK_NO_NETWORK"):
        session.get_bytes("https://huggingface.co/api/models", max_bytes=100, what="x")


def test_no_network_blocks_a_redirect_off_this_machine(httpserver):
    httpserver.expect_request("/feed.json").respond_with_data(
        "", status=302, headers={"Location": "http://203.0.113.9/feed.json"})
    with Session() as session, pytest.raises(net.NetworkDisabled, match="not contacting 203.0.113.9"):
        session.get_bytes(httpserver.url_for("/feed.json"), max_bytes=100, what="the feed")
    assert len(httpserver.log) == 1


def test_redirect_within_loopback_is_followed(httpserver):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data("moved")
    with Session() as session:
        assert session.get_bytes(httpserver.url_for("/old"), max_bytes=100, what="x") == b"moved"


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/feed.json"])
def test_only_http_redirects_are_followed(httpserver, location):
    httpserver.expect_request("/feed.json").respond_with_data("", status=302, headers={"Location": location})
    with Session() as session, pytest.raises(net.NetworkError, match="only http"):
        session.get_bytes(httpserver.url_for("/feed.json"), max_bytes=100, what="the feed")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.5.6.7", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert net.is_loopback(host)


@pytest.mark.parametrize("host", ["example.com", "10.0.0.1", "localhost.example.com", "0.0.0.0", ""])
def test_not_loopback(host):
    assert not net.is_loopback(host)


def test_network_allowed_when_not_disabled(monkeypatch):
    monkeypatch.setenv("RIGCHECK_NO_NETWORK", "0")
    assert net.url_problem("https://huggingface.co/x") is None


def test_429_retry_after_within_the_deadline_is_waited_for(httpserver):
    httpserver.expect_oneshot_request("/x").respond_with_data("", status=429, headers={"Retry-After": "2"})
    httpserver.expect_request("/x").respond_with_data("ok")
    waits = []
    with Session(sleep=waits.append) as session:
        assert session.get_bytes(httpserver.url_for("/x"), max_bytes=10, what="x") == b"ok"
    assert waits == [2.0]


def test_rate_limit_header_is_honoured(httpserver):
    httpserver.expect_oneshot_request("/x").respond_with_data("", status=429, headers={"RateLimit": '"api";r=0;t=5'})
    httpserver.expect_request("/x").respond_with_data("ok")
    waits = []
    with Session(sleep=waits.append) as session:
        session.get_bytes(httpserver.url_for("/x"), max_bytes=10, what="x")
    assert waits == [5.0]


def test_retry_after_beyond_the_deadline_fails_at_once(httpserver):
    httpserver.expect_request("/x").respond_with_data("", status=429, headers={"Retry-After": "3600"})
    waits = []
    with Session(sleep=waits.append) as session, pytest.raises(net.HttpStatusError, match="asked to wait 3600 s"):
        session.get_bytes(httpserver.url_for("/x"), max_bytes=10, what="x")
    assert waits == [] and len(httpserver.log) == 1


def test_5xx_is_retried_a_bounded_number_of_times(httpserver):
    httpserver.expect_request("/x").respond_with_data("", status=500)
    waits = []
    with Session(sleep=waits.append) as session, pytest.raises(net.HttpStatusError, match="after 4 attempts") as info:
        session.get_bytes(httpserver.url_for("/x"), max_bytes=10, what="x")
    assert info.value.status == 500 and waits == [1.0, 2.0, 4.0]


def test_session_time_limit(httpserver):
    httpserver.expect_request("/x").respond_with_data("", status=503, headers={"Retry-After": "1"})
    with Session(time_limit_s=0.5) as session, pytest.raises(net.TimeLimitReached):
        session.get_bytes(httpserver.url_for("/x"), max_bytes=10, what="x")


def test_body_cap_applies_to_every_request(httpserver):
    httpserver.expect_request("/x").respond_with_data(b"y" * 5000)
    with Session(max_body_bytes=1000) as session, pytest.raises(net.FeedTooLarge):
        session.client.get(httpserver.url_for("/x"))  # as huggingface_hub calls it


def test_cancel_stops_before_the_request():
    stop = threading.Event()
    stop.set()
    with Session(cancel=stop) as session, pytest.raises(net.RefreshCancelled):
        session.get_bytes("http://127.0.0.1:9/x", max_bytes=10, what="x")


def test_no_httpx_exception_escapes():
    with Session() as session, pytest.raises(net.NetworkError, match="refused the connection|could not reach"):
        session.client.get("http://127.0.0.1:9/x")


def test_etag_cache_answers_a_304_from_the_stored_body(httpserver, tmp_path):
    httpserver.expect_oneshot_request("/x").respond_with_data("big answer", headers={"ETag": '"v1"'})
    httpserver.expect_request("/x", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    with Session(etag_cache=tmp_path / "http") as session:
        assert session.get_bytes(httpserver.url_for("/x"), max_bytes=100, what="x") == b"big answer"
        assert session.get_bytes(httpserver.url_for("/x"), max_bytes=100, what="x") == b"big answer"
    assert httpserver.log[-1][1].status_code == 304


def test_range_read(httpserver):
    def ranged(request):
        from werkzeug import Response

        start, end = request.headers["Range"].removeprefix("bytes=").split("-")
        data = bytes(range(256))[int(start):int(end) + 1]
        return Response(data, status=206)

    httpserver.expect_request("/f.gguf").respond_with_handler(ranged)
    with Session() as session:
        assert session.get_range(httpserver.url_for("/f.gguf"), 10, 4, what="x") == bytes([10, 11, 12, 13])


def test_redact_hides_credentials():
    assert net.redact("https://user:secret@host.example/feed") == "https://***@host.example/feed"
    assert net.redact("https://host.example/feed") == "https://host.example/feed"
