"""HTTP for the catalog: one requests Session, bounded retries, a size cap, and a small error tree.

Every request has (connect, read) timeouts. Retries happen only on 408, 429 and 5xx, honouring
``Retry-After`` (capped, so a server cannot park the app for an hour). Each ``requests`` exception is
mapped to one human sentence (as httpie does), so callers show ``str(error)`` and nothing else.
Bodies are streamed with a size cap, a progress callback and cancellation between chunks.
"""

from __future__ import annotations

import email.utils
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import requests

from rigcheck import __version__

USER_AGENT = f"rigcheck/{__version__} (+https://github.com/rigcheck/rigcheck)"
TIMEOUT_S = (5.0, 30.0)
"""(connect, read) seconds; read is the longest silence between bytes, not the whole download."""
MAX_ATTEMPTS = 4
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_CAP_S = 60.0
BACKOFF_BASE_S = 1.0
CHUNK_BYTES = 64 * 1024

Progress = Callable[[int, int | None], None]
"""Called with (bytes read so far, total bytes or None when the server did not say)."""
Cancel = threading.Event | Callable[[], bool] | None
"""Set (Event) or returning True (callable) to stop a download between chunks."""


class RefreshError(ValueError):
    """Base of every network or feed failure; ``str(error)`` is one sentence fit to show a user.

    A ValueError like the project's other one-sentence errors (ProfileError, DeviceLookupError), so a
    caller that shows ``str(error)`` for bad input shows these the same way instead of a traceback.
    """


class NetworkError(RefreshError):
    """The server could not be reached or stopped answering."""


class HttpStatusError(RefreshError):
    """The server answered with an error status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class FeedTooLarge(RefreshError):
    """The body is larger than the size cap."""


class FeedInvalid(RefreshError):
    """The body is not a usable catalog (not JSON, wrong types, missing keys, insane values)."""


class SignatureInvalid(RefreshError):
    """The feed's signature is missing, malformed or not from a trusted key."""


class RollbackRefused(RefreshError):
    """The feed is older (lower sequence) than the catalog already in use."""


class RefreshCancelled(RefreshError):
    """The user cancelled the download."""


class NetworkDisabled(RefreshError):
    """RIGCHECK_NO_NETWORK is set and the request would have gone to the internet."""


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def network_disabled() -> bool:
    return os.environ.get("RIGCHECK_NO_NETWORK", "").strip() not in ("", "0", "false", "no")


def check_network_allowed(url: str, what: str) -> None:
    """Raise ``NetworkDisabled`` when RIGCHECK_NO_NETWORK is set and ``url`` is not on this machine."""
    if network_disabled() and (requests.utils.urlparse(url).hostname or "") not in LOOPBACK_HOSTS:
        raise NetworkDisabled(f"network access is disabled (RIGCHECK_NO_NETWORK is set); not {what}")


def new_session() -> requests.Session:
    """A Session with rigcheck's User-Agent. Retries are done here, not by urllib3, so they can be tested."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = "gzip, deflate"
    return session


def is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


_RATELIMIT_T_RE = re.compile(r"(?:^|[;,\s])t=(\d+)")


def rate_limit_reset_s(headers) -> float | None:
    """Seconds until the rate-limit window resets, from the IETF ``RateLimit`` header (``"api";r=0;t=55``,
    which the Hugging Face Hub sends) or ``RateLimit-Reset``; None when neither says."""
    combined = headers.get("RateLimit")
    if combined:
        match = _RATELIMIT_T_RE.search(combined)
        if match:
            return float(match.group(1))
    reset = headers.get("RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return float(reset.strip())
    return None


def describe_exception(exc: requests.RequestException, url: str) -> str:
    """One human sentence for a requests exception (the httpie mapping)."""
    host = requests.utils.urlparse(url).netloc or url
    if isinstance(exc, requests.ConnectTimeout):
        return f"could not connect to {host} within {TIMEOUT_S[0]:g} s (is the network up?)"
    if isinstance(exc, requests.ReadTimeout):
        return f"{host} stopped sending data (no bytes for {TIMEOUT_S[1]:g} s)"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"the secure connection to {host} failed (certificate or TLS problem)"
    if isinstance(exc, requests.exceptions.ProxyError):
        return f"the proxy refused the connection to {host}"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        if "Name or service not known" in text or "getaddrinfo" in text or "NameResolution" in text:
            return f"could not resolve {host} (no DNS or no network)"
        if "Connection refused" in text:
            return f"{host} refused the connection"
        return f"could not reach {host}: the connection failed"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the download from {host} was cut off before the end"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return f"{host} sent a body that could not be decompressed"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return f"{url!r} is not a usable http(s) URL"
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"{host} redirected too many times"
    return f"the request to {host} failed ({type(exc).__name__})"


def status_message(status: int, url: str, attempts: int) -> str:
    host = requests.utils.urlparse(url).netloc or url
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status == 404:
        return f"{url} was not found (HTTP 404)"
    if status in (401, 403):
        return f"{host} refused access to {url} (HTTP {status})"
    if status == 429:
        return f"{host} is rate-limiting requests (HTTP 429){tries}; try again later"
    if status >= 500:
        return f"{host} had a server error (HTTP {status}){tries}; try again later"
    return f"{host} answered HTTP {status} for {url}{tries}"


@dataclass
class Fetched:
    """A fully read response body."""

    status: int
    body: bytes
    headers: dict[str, str]
    url: str


def request(
    session: requests.Session,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    timeout_s: tuple[float, float] = TIMEOUT_S,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    retry_after_cap_s: float = RETRY_AFTER_CAP_S,
    cancel: Cancel = None,
    ok_statuses: frozenset[int] = frozenset({200}),
) -> requests.Response:
    """GET ``url`` (streamed), retrying 408/429/5xx up to ``max_attempts`` times in all.

    Returns the open response whose status is in ``ok_statuses`` (the caller reads and closes it).
    Raises ``NetworkError`` for connection problems and timeouts, ``HttpStatusError`` for other statuses
    or when the retries are used up, ``RefreshCancelled`` when cancelled while waiting.
    """
    attempt = 0
    while True:
        attempt += 1
        if is_cancelled(cancel):
            raise RefreshCancelled("the download was cancelled")
        try:
            response = session.get(url, headers=headers, params=params, timeout=timeout_s, stream=True)
        except requests.RequestException as exc:
            raise NetworkError(describe_exception(exc, url)) from exc
        if response.status_code in ok_statuses:
            return response
        status = response.status_code
        wait_header = response.headers.get("Retry-After")
        reset_s = rate_limit_reset_s(response.headers)
        response.close()
        if status not in RETRY_STATUSES or attempt >= max_attempts:
            raise HttpStatusError(status_message(status, url, attempt), status)
        wait_s = retry_after_s(wait_header)
        if wait_s is None:
            wait_s = reset_s
        if wait_s is None:
            wait_s = BACKOFF_BASE_S * 2 ** (attempt - 1)
        sleep(min(wait_s, retry_after_cap_s))


def read_body(
    response: requests.Response,
    *,
    max_bytes: int,
    progress: Progress | None = None,
    cancel: Cancel = None,
    what: str = "the feed",
) -> bytes:
    """Read a streamed body, stopping as soon as it passes ``max_bytes``.

    Raises ``FeedTooLarge`` (Content-Length is checked first, then the bytes actually read),
    ``RefreshCancelled`` when cancelled between chunks, ``NetworkError`` when the body is cut off.
    Always closes the response.
    """
    url = response.url
    try:
        total = _content_length(response)
        # Content-Length is of the encoded body; with gzip the decoded body is larger and is capped below.
        if total is not None and total > max_bytes:
            raise FeedTooLarge(f"{what} is {total / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
        if response.headers.get("Content-Encoding"):
            total = None  # the decoded byte count cannot be compared with the encoded length
        chunks: list[bytes] = []
        read = 0
        if progress:
            progress(0, total)
        try:
            for chunk in response.iter_content(CHUNK_BYTES):
                if is_cancelled(cancel):
                    raise RefreshCancelled("the download was cancelled")
                read += len(chunk)
                if read > max_bytes:
                    raise FeedTooLarge(f"{what} is larger than the {max_bytes / 1e6:.0f} MB limit")
                chunks.append(chunk)
                if progress:
                    progress(read, total)
        except requests.RequestException as exc:
            raise NetworkError(describe_exception(exc, url)) from exc
        if is_cancelled(cancel):
            raise RefreshCancelled("the download was cancelled")
        if total is not None and read < total:
            raise NetworkError(f"the download of {what} was cut off ({read} of {total} bytes)")
        return b"".join(chunks)
    finally:
        response.close()


def get_bytes(
    session: requests.Session,
    url: str,
    *,
    max_bytes: int,
    what: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: tuple[float, float] = TIMEOUT_S,
    cancel: Cancel = None,
) -> bytes:
    """GET a small document with retries and a size cap; the building block of the API sources."""
    response = request(session, url, headers=headers, params=params, sleep=sleep, timeout_s=timeout_s,
                       cancel=cancel)
    return read_body(response, max_bytes=max_bytes, what=what, cancel=cancel)


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)
