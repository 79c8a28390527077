"""What servers say of their rate limits (the IETF ``RateLimit`` header the Hugging Face Hub sends), per host.

The Hub answers every request with ``RateLimit: "api";r=489;t=189`` (489 requests left in the bucket "api" for
the next 189 s) and ``RateLimit-Policy: "fixed window";"api";q=500;w=300``; buckets are "api" (``/api/...``),
"resolvers" (``/resolve/`` URLs) and "pages". The session's transport records every response here
(``RateLimits.observe``), so a caller can stop starting requests of a bucket that is nearly spent instead of
running into 429s (``RateLimits.spent``), and say when it resets.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

_ITEM_RE = re.compile(r'"?([A-Za-z0-9_\-]+)"?\s*((?:;\s*[a-z]+=\d{1,12}\s*)+)')
_PARAM_RE = re.compile(r";\s*([a-z]+)=(\d{1,12})")


@dataclass(frozen=True)
class Announced:
    """One bucket's state as a server announced it."""

    bucket: str
    remaining: int
    reset_s: int
    quota: int | None = None


def parse_ratelimit(value: str | None) -> list[Announced]:
    """The buckets of a ``RateLimit`` header (``"api";r=489;t=189``, several separated by commas); a garbled
    item is left out."""
    out = []
    for item in (value or "").split(","):
        match = _ITEM_RE.search(item.strip())
        if not match:
            continue
        params = dict(_PARAM_RE.findall(match.group(2)))
        if "r" in params and "t" in params:
            out.append(Announced(match.group(1), int(params["r"]), int(params["t"])))
    return out


def parse_policy(value: str | None) -> dict[str, int]:
    """Bucket -> quota from ``RateLimit-Policy`` (``"fixed window";"api";q=500;w=300``)."""
    out = {}
    for item in (value or "").split(","):
        names = re.findall(r'"([^"]+)"', item)
        quota = re.search(r";\s*q=(\d{1,12})", item)
        if names and quota:
            out[names[-1]] = int(quota.group(1))
    return out


class RateLimits:
    """The last announced state of every (host, bucket) a session has talked to; safe to share between threads."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], tuple[int, float, int | None]] = {}

    def observe(self, host: str, headers) -> None:
        """Record the ``RateLimit``/``RateLimit-Policy`` headers of one response from ``host``."""
        announced = parse_ratelimit(headers.get("RateLimit"))
        if not announced:
            return
        quotas = parse_policy(headers.get("RateLimit-Policy"))
        now = self._clock()
        with self._lock:
            for item in announced:
                self._state[(host, item.bucket)] = (item.remaining, now + item.reset_s, quotas.get(item.bucket))

    def mark_spent(self, host: str, bucket: str, reset_s: float) -> None:
        """A 429 said so: nothing left in ``bucket`` for ``reset_s`` seconds."""
        with self._lock:
            quota = self._state.get((host, bucket), (0, 0.0, None))[2]
            self._state[(host, bucket)] = (0, self._clock() + reset_s, quota)

    def spent(self, host: str, bucket: str, reserve: int = 0) -> float | None:
        """Seconds until ``bucket`` of ``host`` resets when at most ``reserve`` requests are left in it now;
        None while requests remain (or nothing was announced, or the window has reset since)."""
        with self._lock:
            state = self._state.get((host, bucket))
        if state is None:
            return None
        remaining, reset_at, _quota = state
        left_s = reset_at - self._clock()
        if left_s <= 0 or remaining > reserve:
            return None
        return left_s

    def remaining(self, host: str, bucket: str) -> int | None:
        with self._lock:
            state = self._state.get((host, bucket))
        if state is None or state[1] <= self._clock():
            return None
        return state[0]
