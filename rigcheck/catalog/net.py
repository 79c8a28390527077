"""HTTP for the catalog: one session layer for every request (feeds, Hugging Face, OpenRouter), and its errors.

Every request rigcheck makes goes through a ``Session`` (an ``httpx2.Client`` with rigcheck's transport; the
same client is handed to ``huggingface_hub``). The transport (``catalog/net_transport.py``) enforces, on every
hop of every request, redirects included:

- ``RIGCHECK_NO_NETWORK=1``: nothing leaves this machine. A request or redirect to a host that is not loopback
  (``localhost``, 127.0.0.0/8, ``::1``) raises ``NetworkDisabled`` before any connection is made; proxies from
  the environment are not used then.
- only ``http`` and ``https`` URLs, at most ``MAX_REDIRECTS`` redirects;
- deadlines: ``connect_s`` to connect, ``read_s`` of silence, and ``request_s`` for the whole request (every
  retry, redirect, header and body byte): a server that drips one byte a second is cut off at ``request_s``,
  whatever it sends. A session may also carry an overall ``time_limit_s`` (a whole refresh), after which every
  request raises ``TimeLimitReached``;
- retries of 408/429/5xx, honouring ``Retry-After`` (seconds or HTTP date) and the ``RateLimit`` header, only
  while the wait fits in the request's deadline; otherwise ``HttpStatusError`` at once. A 429 asking for more
  than ``MAX_RATE_LIMIT_WAIT_S`` fails at once as ``RateLimited`` (never minutes of silent sleep), and every
  response's ``RateLimit`` header is recorded in ``session.rate_limits`` (``catalog/net_ratelimit.py``);
- a size cap on every body (``FeedTooLarge``) and cancellation between chunks (``RefreshCancelled``);
- optionally (``etag_cache=``) conditional requests: a GET whose earlier answer carried an ``ETag`` is sent
  with ``If-None-Match``, and a ``304`` is answered from the stored body.

Every failure is one ``RefreshError`` subclass whose ``str()`` is one sentence fit to show a user; no
``httpx2`` exception reaches a caller.

The small API: ``Session(...)``, ``session.get_bytes(url, max_bytes=..., what=...)``, ``session.get_json``,
``session.get_range``, ``session.head``, ``session.stream(url)`` (a context manager yielding the open response, for feeds with
progress), ``session.client`` (the ``httpx2.Client``), ``network_disabled()``, ``check_network_allowed()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from rigcheck.catalog.net_policy import *  # noqa: F403 - catalog.net is the one place callers import from
from rigcheck.catalog.net_policy import (
    CHUNK_BYTES,
    DEFAULT_DEADLINES,
    DEFAULT_MAX_BODY_BYTES,
    MAX_ATTEMPTS,
    USER_AGENT,
    Deadlines,
    FeedInvalid,
    FeedTooLarge,
    HttpStatusError,
    NetworkError,
    Progress,
    RefreshCancelled,
    _content_length,
    check_network_allowed,
    is_cancelled,
    status_message,
)
from rigcheck.catalog.net_ratelimit import RateLimits
from rigcheck.catalog.net_transport import new_client

# ---------------------------------------------------------------------------------------------- session

class Session:
    """One HTTP client with rigcheck's policy (see the module docstring); use it as a context manager.

    ``deadlines`` bound each request; ``time_limit_s`` bounds the session's life (a whole refresh);
    ``cancel`` stops it; ``sleep`` is what waits before a retry (tests inject one); ``etag_cache`` is a
    folder for conditional requests; ``max_body_bytes`` caps every body; ``headers`` are sent with every
    request (never an Authorization header: tokens are added per request, for their own host).
    """

    def __init__(self, *, deadlines: Deadlines = DEFAULT_DEADLINES, time_limit_s: float | None = None,
                 cancel=None, sleep: Callable[[float], None] = time.sleep, max_attempts: int = MAX_ATTEMPTS,
                 etag_cache: Path | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 headers: dict[str, str] | None = None, event_hooks: dict | None = None):
        self.deadlines = deadlines
        self.cancel = cancel
        self.sleep = sleep
        self.max_attempts = max(1, max_attempts)
        self.max_body_bytes = max_body_bytes
        self.etag_cache = etag_cache
        self.time_limit_s = time_limit_s
        self.ends_at = None if time_limit_s is None else time.monotonic() + time_limit_s
        self.rate_limits = RateLimits()
        """What each host announced of its rate limits (``RateLimit`` headers), updated on every response."""
        self.client = new_client(self, headers={"User-Agent": USER_AGENT, **(headers or {})},
                                 event_hooks=event_hooks)

    # the transport calls these ---------------------------------------------------------------------
    def wait(self, seconds: float) -> None:
        """Sleep before a retry; returns early (and the next check raises) when cancelled."""
        if self.sleep is not time.sleep:
            self.sleep(seconds)
        elif isinstance(self.cancel, threading.Event):
            self.cancel.wait(seconds)
        else:
            ends_at = time.monotonic() + seconds
            while not is_cancelled(self.cancel) and (left_s := ends_at - time.monotonic()) > 0:
                time.sleep(min(0.1, left_s))

    def check_cancel(self) -> None:
        if is_cancelled(self.cancel):
            raise RefreshCancelled("cancelled; nothing was changed")

    def time_left_s(self) -> float | None:
        return None if self.ends_at is None else self.ends_at - time.monotonic()

    # the API ---------------------------------------------------------------------------------------
    @contextmanager
    def stream(self, url: str, *, headers: dict[str, str] | None = None, params: dict | None = None,
               ok_statuses: frozenset[int] = frozenset({200}), what: str = "") -> Iterator:
        """GET ``url`` and yield the open ``httpx2.Response`` (status in ``ok_statuses``); closed on exit.

        Raises ``NetworkDisabled``, ``NetworkError``, ``HttpStatusError`` (any other status),
        ``TimeLimitReached`` or ``RefreshCancelled``.
        """
        check_network_allowed(url, what)
        request = self.client.build_request("GET", url, headers=headers, params=params)
        response = self.client.send(request, stream=True)
        try:
            if response.status_code not in ok_statuses:
                raise HttpStatusError(status_message(response.status_code, str(response.url), 1),
                                      response.status_code)
            yield response
        finally:
            response.close()

    def read_body(self, response, *, max_bytes: int, what: str, progress: Progress | None = None) -> bytes:
        """The rest of a streamed response's body, refused as soon as it passes ``max_bytes``.

        Raises ``FeedTooLarge`` (Content-Length first, then the bytes read), ``NetworkError`` when it is cut
        off, ``RefreshCancelled``, ``TimeLimitReached``.
        """
        total = _content_length(response)
        if total is not None and total > max_bytes:
            raise FeedTooLarge(f"{what} is {total / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
        if response.headers.get("Content-Encoding"):
            total = None  # the decoded size cannot be compared with the encoded length
        chunks: list[bytes] = []
        read = 0
        if progress:
            progress(0, total)
        for chunk in response.iter_bytes(CHUNK_BYTES):
            read += len(chunk)
            if read > max_bytes:
                raise FeedTooLarge(f"{what} is larger than the {max_bytes / 1e6:.0f} MB limit")
            chunks.append(chunk)
            if progress:
                progress(read, total)
        self.check_cancel()
        if total is not None and read < total:
            raise NetworkError(f"the download of {what} was cut off ({read} of {total} bytes)")
        return b"".join(chunks)

    def get_bytes(self, url: str, *, max_bytes: int, what: str, headers: dict[str, str] | None = None,
                  params: dict | None = None, progress: Progress | None = None) -> bytes:
        """GET a document whole (see ``stream`` and ``read_body`` for what it raises)."""
        with self.stream(url, headers=headers, params=params, what=what) as response:
            return self.read_body(response, max_bytes=max_bytes, what=what, progress=progress)

    def get_json(self, url: str, *, max_bytes: int, what: str, type_=object, **kwargs):
        """GET and decode JSON into ``type_`` (msgspec). Raises ``FeedInvalid`` for a body that is not it."""
        body = self.get_bytes(url, max_bytes=max_bytes, what=what, **kwargs)
        try:
            return msgspec.json.decode(body, type=type_)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise FeedInvalid(f"{what} is not what the server should send: {exc}") from None

    def head(self, url: str, *, headers: dict[str, str] | None = None, what: str = "") -> tuple[int, dict]:
        """HEAD ``url`` without following a redirect: (status, headers with lower-case names). The Hub answers
        a ``/resolve/`` HEAD of a large file with a redirect whose ``X-Linked-Size`` is the file's size.

        Raises ``HttpStatusError`` for 4xx/5xx (after the retries), and the other errors ``stream`` raises.
        """
        check_network_allowed(url, what)
        request = self.client.build_request("HEAD", url, headers=headers)
        response = self.client.send(request, follow_redirects=False)
        response.close()
        if response.status_code >= 400:
            raise HttpStatusError(status_message(response.status_code, str(response.url), 1), response.status_code)
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}

    def get_range(self, url: str, start: int, length: int, *, what: str,
                  headers: dict[str, str] | None = None) -> bytes:
        """Bytes ``start .. start+length-1`` of ``url`` (HTTP Range); a server that ignores Range is read
        only up to ``length`` bytes. Returns fewer bytes at the end of the file."""
        wanted = {"Range": f"bytes={start}-{start + length - 1}", **(headers or {})}
        with self.stream(url, headers=wanted, ok_statuses=frozenset({200, 206}), what=what) as response:
            if response.status_code == 200 and start:
                raise NetworkError(f"{urlsplit(url).hostname} does not serve byte ranges of {what}")
            out = bytearray()
            for chunk in response.iter_bytes(CHUNK_BYTES):
                out += chunk
                if len(out) >= length:
                    break
            return bytes(out[:length])

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


