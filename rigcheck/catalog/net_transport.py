"""The transport under ``catalog.net.Session``: network policy per hop, deadlines at the socket, retries, ETags.

``new_client(session)`` builds the ``httpx2.Client``. Its transport checks every hop (redirects included)
against the policy before connecting, retries 408/429/5xx within the request's deadline, and caps every socket
operation's timeout by the time the request has left: the deadline is enforced in the network stream itself
(``_DeadlineBackend``), so it holds while headers, TLS or a body trickle in. Every ``httpx2``/``httpcore2``
exception is turned into one of ``catalog.net``'s errors here.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import httpcore2
import httpx2
import msgspec

if TYPE_CHECKING:
    from rigcheck.catalog.net import Session

from rigcheck.catalog import net_policy as net
from rigcheck.catalog.net_ratelimit import parse_ratelimit
from rigcheck.probe.files import FileReadError, read_capped

_DEADLINE: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar("rigcheck_deadline", default=None)
_EXT = "rigcheck_deadline"
ETAG_BODY_MAX_BYTES = 16 * 1000 * 1000


class _Deadline:
    """When one request (all its hops and retries) must be done, and whether that is the session's limit."""

    def __init__(self, session: Session, url: str):
        now = time.monotonic()
        self.host = httpx2.URL(url).host or url
        self.ends_at = now + session.deadlines.request_s
        self.session_limit = False
        if session.ends_at is not None and session.ends_at < self.ends_at:
            self.ends_at, self.session_limit = session.ends_at, True
        self.request_s = session.deadlines.request_s
        self.started_at = now
        self.min_bytes_per_s = session.deadlines.min_bytes_per_s
        self.rate_grace_s = session.deadlines.rate_grace_s

    def left_s(self) -> float:
        return self.ends_at - time.monotonic()

    def error(self) -> net.RefreshError:
        if self.session_limit:
            return net.TimeLimitReached("the time limit for this refresh was reached")
        return net.NetworkError(f"{self.host} took longer than {self.request_s:g} s to answer; gave up")

    def check(self) -> None:
        if self.left_s() <= 0:
            raise self.error()

    def check_rate(self, read_bytes: int) -> None:
        """Raise ``NetworkError`` when, past the grace period, the body has come slower than the minimum rate."""
        if not self.min_bytes_per_s:
            return
        elapsed = time.monotonic() - self.started_at
        if elapsed > self.rate_grace_s and read_bytes < self.min_bytes_per_s * elapsed:
            raise net.NetworkError(f"{self.host} sent {read_bytes:,} bytes in {elapsed:.0f} s, slower than "
                                   f"{self.min_bytes_per_s / 1000:g} kB/s; gave up")


def _cap(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline.left_s()
    if left <= 0:
        raise httpcore2.ReadTimeout("deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _cap(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _cap(timeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend):
        self._inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(self._inner.connect_tcp(host, port, _cap(timeout), local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _DeadlineStream(self._inner.connect_unix_socket(path, _cap(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _GuardedStream(httpx2.SyncByteStream):
    """A response body read under the request's deadline, the session's cancel and the body cap."""

    def __init__(self, inner, deadline: _Deadline, session: Session, on_done=None):
        self._inner = inner
        self._deadline = deadline
        self._session = session
        self._on_done = on_done

    def __iter__(self):
        iterator = iter(self._inner)
        read = 0
        kept: list[bytes] | None = [] if self._on_done else None
        while True:
            self._session.check_cancel()
            self._deadline.check()
            token = _DEADLINE.set(self._deadline)
            try:
                chunk = next(iterator)
            except StopIteration:
                break
            except httpx2.TransportError as exc:
                raise _translate(exc, self._deadline) from None
            finally:
                _DEADLINE.reset(token)
            read += len(chunk)
            self._deadline.check_rate(read)
            if read > self._session.max_body_bytes:
                raise net.FeedTooLarge(f"the answer from {self._deadline.host} is larger than the "
                                       f"{self._session.max_body_bytes / 1e6:.0f} MB limit")
            if kept is not None:
                kept.append(chunk)
                if read > ETAG_BODY_MAX_BYTES:
                    kept = None
            yield chunk
        if kept is not None and self._on_done is not None:
            self._on_done(b"".join(kept))

    def close(self) -> None:
        self._inner.close()


def _translate(exc: Exception, deadline: _Deadline) -> net.RefreshError:
    """One sentence for an httpx2 transport failure."""
    host = deadline.host
    if deadline.left_s() <= 0:
        return deadline.error()
    if isinstance(exc, httpx2.ConnectTimeout):
        return net.NetworkError(f"could not connect to {host} in time (is the network up?)")
    if isinstance(exc, httpx2.TimeoutException):
        return net.NetworkError(f"{host} stopped sending data")
    if isinstance(exc, httpx2.ProxyError):
        return net.NetworkError(f"the proxy refused the connection to {host}")
    if isinstance(exc, httpx2.UnsupportedProtocol):
        return net.NetworkError(f"{host}: only http and https URLs are followed")
    if isinstance(exc, httpx2.ConnectError):
        text = str(exc)
        if "Name or service not known" in text or "getaddrinfo" in text or "resolution" in text.lower():
            return net.NetworkError(f"could not resolve {host} (no DNS or no network)")
        if "refused" in text.lower():
            return net.NetworkError(f"{host} refused the connection")
        if "SSL" in text or "certificate" in text.lower():
            return net.NetworkError(f"the secure connection to {host} failed (certificate or TLS problem)")
        return net.NetworkError(f"could not reach {host}: the connection failed")
    if isinstance(exc, httpx2.RemoteProtocolError) and "complete message body" in str(exc):
        return net.NetworkError(f"the download from {host} was cut off before the end")
    if isinstance(exc, httpx2.RemoteProtocolError):
        return net.NetworkError(f"{host} closed the connection or broke the HTTP protocol")
    if isinstance(exc, httpx2.DecodingError):
        return net.NetworkError(f"{host} sent a body that could not be decompressed")
    return net.NetworkError(f"the request to {host} failed ({type(exc).__name__})")


class _PolicyTransport(httpx2.HTTPTransport):
    """HTTPTransport plus rigcheck's policy; one per proxy route."""

    def __init__(self, session: Session, **kwargs):
        super().__init__(**kwargs)
        self._session = session
        # httpx2 has no network_backend parameter; its pool (httpcore2) has one, set at construction and read
        # whenever a connection opens. tests/refresh/test_net.py fails if this stops taking effect.
        self._pool._network_backend = _DeadlineBackend(self._pool._network_backend)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        session = self._session
        url = str(request.url)
        deadline = request.extensions.get(_EXT)
        if deadline is None:
            deadline = _Deadline(session, url)
            request.extensions[_EXT] = deadline
        else:
            deadline.host = request.url.host or deadline.host
        problem = net.url_problem(url)
        if problem is not None:
            if problem.startswith("network access is disabled"):
                raise net.NetworkDisabled(problem)
            raise net.NetworkError(f"refused to follow a redirect to {net.redact(url)!r}: only http(s) is allowed"
                                   if request.extensions.get("rigcheck_hops") else problem)
        request.extensions["rigcheck_hops"] = request.extensions.get("rigcheck_hops", 0) + 1
        cached = _etag_lookup(session, request)
        attempt = 0
        while True:
            attempt += 1
            session.check_cancel()
            deadline.check()
            response = self._send_once(request, deadline)
            status = response.status_code
            host = request.url.host or deadline.host
            session.rate_limits.observe(host, response.headers)
            if status == 304 and cached is not None:
                response.close()
                return _from_cache(cached, request, response.headers)
            if status not in net.RETRY_STATUSES:
                break
            if attempt >= session.max_attempts or request.method not in ("GET", "HEAD"):
                response.close()
                raise net.HttpStatusError(net.status_message(status, url, attempt), status)
            wait_s = net.retry_after_s(response.headers.get("Retry-After"))
            if wait_s is None:
                wait_s = net.rate_limit_reset_s(response.headers)
            if wait_s is None:
                wait_s = net.BACKOFF_BASE_S * 2 ** (attempt - 1)
            response.close()
            if status == 429 and wait_s > net.MAX_RATE_LIMIT_WAIT_S:
                bucket = next(iter(parse_ratelimit(response.headers.get("RateLimit"))), None)
                name = bucket.bucket if bucket else "api"
                session.rate_limits.mark_spent(host, name, wait_s)
                raise net.RateLimited(
                    f"{deadline.host} is rate-limiting requests (HTTP 429) and asked to wait {wait_s:.0f} s",
                    reset_s=wait_s, bucket=name)
            if wait_s >= deadline.left_s():
                if deadline.session_limit:
                    raise net.TimeLimitReached(
                        f"{deadline.host} asked to wait {wait_s:.0f} s (HTTP {status}), past this refresh's "
                        f"time limit")
                raise net.HttpStatusError(
                    f"{deadline.host} asked to wait {wait_s:.0f} s (HTTP {status}), longer than rigcheck waits "
                    f"for one request; try again later", status)
            session.wait(wait_s)
        on_done = None
        if status == 200 and session.etag_cache is not None and _cacheable(request) and response.headers.get("ETag"):
            headers = list(response.headers.multi_items())
            on_done = lambda body: _etag_store(session, request, headers, body)  # noqa: E731
        response.stream = _GuardedStream(response.stream, deadline, session, on_done)
        return response

    def _send_once(self, request: httpx2.Request, deadline: _Deadline) -> httpx2.Response:
        left = deadline.left_s()
        d = self._session.deadlines
        request.extensions["timeout"] = {"connect": min(d.connect_s, left), "read": min(d.read_s, left),
                                         "write": min(d.read_s, left), "pool": min(d.connect_s, left)}
        token = _DEADLINE.set(deadline)
        try:
            return super().handle_request(request)
        except httpx2.TransportError as exc:
            raise _translate(exc, deadline) from None
        finally:
            _DEADLINE.reset(token)


def new_client(session: Session, *, headers: dict[str, str], event_hooks: dict | None = None) -> httpx2.Client:
    """The ``httpx2.Client`` of a ``Session``: redirects followed (each hop checked), env proxies only while
    the network is allowed (with RIGCHECK_NO_NETWORK a loopback URL must not go through a remote proxy)."""
    direct = _PolicyTransport(session, trust_env=not net.network_disabled())
    mounts: dict[str, httpx2.BaseTransport | None] = {}
    if not net.network_disabled():
        for pattern, proxy in _environment_proxies().items():
            mounts[pattern] = None if proxy is None else _PolicyTransport(session, proxy=proxy)
    return httpx2.Client(transport=direct, mounts=mounts, headers=headers, follow_redirects=True,
                         max_redirects=net.MAX_REDIRECTS, timeout=httpx2.Timeout(session.deadlines.read_s),
                         event_hooks=event_hooks or {}, trust_env=False)


def _environment_proxies() -> dict[str, str | None]:
    """http_proxy/https_proxy/all_proxy and no_proxy as httpx mount patterns (what httpx does with
    trust_env, which it skips when a transport is given)."""
    proxies = urllib.request.getproxies()
    out: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        url = proxies.get(scheme)
        if url and url.startswith(("http://", "https://", "socks5://", "socks5h://")):
            out[f"{scheme}://"] = url
    for host in (proxies.get("no") or "").split(","):
        host = host.strip()
        if not host:
            continue
        if host == "*":
            return {}
        if "://" in host:
            out[host] = None
        elif host.startswith("."):
            out[f"all://*{host}"] = None
        else:
            out[f"all://{host}"] = None
            out[f"all://*.{host}"] = None
    return out


# ---------------------------------------------------------------------------------------- ETag cache

class _Entry(msgspec.Struct):
    url: str
    etag: str
    headers: list[tuple[str, str]]


def _cacheable(request: httpx2.Request) -> bool:
    return request.method == "GET" and "range" not in request.headers and "authorization" not in request.headers


def _key_paths(session: Session, request: httpx2.Request) -> tuple[Path, Path]:
    key = hashlib.sha256(str(request.url).encode()).hexdigest()[:40]
    folder = Path(session.etag_cache)
    return folder / f"{key}.json", folder / f"{key}.body"


def _etag_lookup(session: Session, request: httpx2.Request):
    """The stored answer for this GET, after adding If-None-Match to the request; None when there is none."""
    if session.etag_cache is None or not _cacheable(request) or "if-none-match" in request.headers:
        return None
    meta_path, body_path = _key_paths(session, request)
    try:  # the cache folder is ours, but never hang on a FIFO or load a device left there
        entry = msgspec.json.decode(read_capped(meta_path, 64 * 1024, "cached response"), type=_Entry)
        body = read_capped(body_path, ETAG_BODY_MAX_BYTES, "cached response")
    except (OSError, FileReadError, msgspec.DecodeError):
        return None
    if entry.url != str(request.url):
        return None
    request.headers["If-None-Match"] = entry.etag
    return entry, body


_BODY_HEADERS = frozenset({"content-length", "content-encoding", "content-type", "transfer-encoding"})


def _from_cache(cached, request: httpx2.Request, fresh_headers) -> httpx2.Response:
    """The stored answer, its headers updated by the 304's (as HTTP caches do: a new ``X-Repo-Commit`` or
    ``RateLimit`` is the server's current word); the body's own headers stay as stored."""
    entry, body = cached
    headers = {k.lower(): v for k, v in entry.headers}
    headers.update((k.lower(), v) for k, v in fresh_headers.multi_items() if k.lower() not in _BODY_HEADERS)
    return httpx2.Response(200, headers=list(headers.items()), stream=httpx2.ByteStream(body), request=request,
                           extensions={"rigcheck_from_cache": True})


def _etag_store(session: Session, request: httpx2.Request, headers, body: bytes) -> None:
    from rigcheck.catalog.cache import atomic_write

    meta_path, body_path = _key_paths(session, request)
    etag = next((v for k, v in headers if k.lower() == "etag"), None)
    if etag is None:
        return
    try:
        atomic_write(body_path, body)
        atomic_write(meta_path, msgspec.json.encode(_Entry(url=str(request.url), etag=etag, headers=headers)))
    except OSError:
        pass  # conditional requests are an optimisation; the answer itself was read
