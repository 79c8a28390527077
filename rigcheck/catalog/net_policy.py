"""The session layer's rules and words: errors, deadlines, which hosts may be contacted, retry waits, messages.

Shared by ``catalog.net`` (the ``Session``) and ``catalog.net_transport`` (which enforces them); import them
from ``catalog.net``.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from rigcheck import __version__
from rigcheck.catalog.redact import redact_url

USER_AGENT = f"rigcheck/{__version__} (+https://github.com/rigcheck/rigcheck)"
MAX_ATTEMPTS = 4
MAX_REDIRECTS = 10
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE_S = 1.0
MAX_RATE_LIMIT_WAIT_S = 30.0
"""A 429 (or a spent bucket) whose window resets within this is waited for; a longer wait fails at once
(``RateLimited``): a refresh then stops starting requests of that kind and says when to run again, rather than
sleeping for minutes in silence."""
CHUNK_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 64 * 1000 * 1000
"""Any body larger than this is refused, whoever asked for it (Hugging Face trees of 1T-parameter GGUF repos
run to a few MB; the largest feed allowed is smaller)."""

Progress = Callable[[int, "int | None"], None]
"""Called with (bytes read so far, total bytes or None when the server did not say)."""
Cancel = "threading.Event | Callable[[], bool] | None"
"""Set (Event) or returning True (callable) to stop between chunks and while waiting to retry."""


@dataclass(frozen=True)
class Deadlines:
    """How long a request may take. ``read_s`` is the longest silence; ``request_s`` bounds everything."""

    connect_s: float = 10.0
    read_s: float = 15.0
    request_s: float = 45.0
    """One request with its retries, redirects and whole body: with ``read_s`` the worst case is ~1 minute."""
    min_bytes_per_s: float = 0.0
    """Past ``rate_grace_s``, a body arriving slower than this on average is given up (0: no such limit): a
    request allowed minutes for a large body is not held that long by a server that drips it."""
    rate_grace_s: float = 45.0


DEFAULT_DEADLINES = Deadlines()


# ----------------------------------------------------------------------------------------------- errors

class RefreshError(ValueError):
    """Base of every network or feed failure; ``str(error)`` is one sentence fit to show a user.

    A ValueError like the project's other one-sentence errors (ProfileError, DeviceLookupError), so a
    caller that shows ``str(error)`` for bad input shows these the same way instead of a traceback.
    """


class NetworkError(RefreshError):
    """The server could not be reached, stopped answering, or took longer than the deadline."""


class HttpStatusError(RefreshError):
    """The server answered with an error status (after the retries, for 408/429/5xx)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class RateLimited(HttpStatusError):
    """HTTP 429 (or a bucket the server announced as spent) with a wait longer than rigcheck sleeps for:
    ``reset_s`` seconds until the server's window resets, ``bucket`` the server's name for the kind of request
    ("api", "resolvers"), when it said."""

    def __init__(self, message: str, *, reset_s: float | None = None, bucket: str | None = None):
        super().__init__(message, 429)
        self.reset_s = reset_s
        self.bucket = bucket


class FeedTooLarge(RefreshError):
    """The body is larger than the size cap."""


class FeedInvalid(RefreshError):
    """The body is not usable (not JSON, wrong types, missing keys, insane values)."""


class SignatureInvalid(RefreshError):
    """The feed's signature is missing, malformed or not from a trusted key."""


class RollbackRefused(RefreshError):
    """The feed is older (lower sequence) than the catalog already in use."""


class FeedExpired(RefreshError):
    """The feed's ``expires_at`` has passed: a frozen or replayed feed is refused."""


class RefreshCancelled(RefreshError):
    """The user cancelled."""


class NetworkDisabled(RefreshError):
    """RIGCHECK_NO_NETWORK is set and the request would have left this machine."""


class TimeLimitReached(RefreshError):
    """The session's overall time limit (``time_limit_s``) has passed."""


# ------------------------------------------------------------------------------------------------ policy

def network_disabled() -> bool:
    """Whether ``RIGCHECK_NO_NETWORK`` asks that nothing leave this machine."""
    return os.environ.get("RIGCHECK_NO_NETWORK", "").strip().lower() not in ("", "0", "false", "no")


def is_loopback(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1`` (brackets allowed); a name that merely resolves there is not."""
    host = (host or "").strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be requested now (one sentence), or None: not http(s), no host, or off this
    machine while RIGCHECK_NO_NETWORK is set. ``check_network_allowed`` raises the matching error."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{redact(url)!r} is not a usable http(s) URL"
    if parts.scheme not in ("http", "https") or not host:
        return f"{redact(url)!r} is not a usable http(s) URL"
    if network_disabled() and not is_loopback(host):
        return f"network access is disabled (RIGCHECK_NO_NETWORK is set); not contacting {host}"
    return None


def check_network_allowed(url: str, what: str = "") -> None:
    """Raise ``NetworkDisabled`` (off-machine with RIGCHECK_NO_NETWORK) or ``NetworkError`` (not http(s))."""
    problem = url_problem(url)
    if problem is None:
        return
    if problem.startswith("network access is disabled"):
        raise NetworkDisabled(problem + (f" ({what})" if what else ""))
    raise NetworkError(problem)


def redact(url: str) -> str:
    """``url`` without credentials (``https://***@host/``, secret query values too), for messages: the one
    rule is ``rigcheck.catalog.redact.redact_url``."""
    return redact_url(url) or ""


def is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


# ------------------------------------------------------------------------------------------ messages

def retry_after_s(value: str | None, *, now=None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent or garbled."""
    import email.utils
    from datetime import datetime, timezone

    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value[:12])
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def rate_limit_reset_s(headers) -> float | None:
    """Seconds until the rate-limit window resets, from the IETF ``RateLimit`` header (``"api";r=0;t=55``,
    which the Hugging Face Hub sends) or ``RateLimit-Reset``; None when neither says."""
    import re

    combined = headers.get("RateLimit")
    if combined:
        match = re.search(r"(?:^|[;,\s])t=(\d{1,9})", combined)
        if match:
            return float(match.group(1))
    reset = (headers.get("RateLimit-Reset") or "").strip()
    if reset.isdigit() and len(reset) < 10:
        return float(reset)
    return None


def status_message(status: int, url: str, attempts: int) -> str:
    url = redact(url)
    host = urlsplit(url).netloc or url
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


def _content_length(response) -> int | None:
    value = (response.headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() and len(value) < 19 else None
