"""Live refresh of the whole embedded catalog from a fake Hugging Face Hub and OpenRouter with real latency.

tests/refresh/catalog_hub.py serves every catalog model the way the Hub lays it out (configs, sharded weights,
GGUF/MLX/FP8/... quantized versions from the usual publishers, gated repos) on a threaded local server that
answers each request after ``LATENCY_S`` (a typical round trip to huggingface.co). Reported: wall time and
requests by the Hub's rate-limit buckets for a first refresh (empty cache), a second one the same day, and
rechecks the next day and the day after (nothing changed), with the Hub's anonymous limits (500 API and 3,000 resolver requests per 5-minute window,
announced in ``RateLimit`` headers). Targets: first <= 2 min, at most 300 API requests and never rate-limited;
second <= 15 s with no Hub request. Caches live in a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

LATENCY_S = 0.12
FIRST_TARGET_S = 120.0
SECOND_TARGET_S = 15.0
FIRST_API_TARGET = 300
ENV = ("RIGCHECK_CACHE_DIR", "RIGCHECK_DATA_DIR", "RIGCHECK_CONFIG_DIR", "HF_ENDPOINT", "RIGCHECK_OPENROUTER_URL",
       "RIGCHECK_NO_NETWORK")


def run() -> bool:
    sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "refresh"))  # the fake Hub the tests use
    from catalog_hub import CatalogHub, serve

    from rigcheck.catalog import live
    from rigcheck.catalog.store import load_embedded

    hub = CatalogHub(load_embedded(), latency_s=LATENCY_S, api_quota=500, resolver_quota=3000)  # anonymous
    server, url = serve(hub)
    saved = {k: os.environ.get(k) for k in ENV}
    now = datetime.now(timezone.utc)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in ENV[:3]:
                os.environ[name] = str(Path(tmp) / name.lower())
            os.environ["HF_ENDPOINT"] = os.environ["RIGCHECK_OPENROUTER_URL"] = url
            os.environ.pop("RIGCHECK_NO_NETWORK", None)
            for label, when in (("first", now), ("same day", now + timedelta(hours=1)),
                                ("next day", now + timedelta(hours=13)), ("2 days", now + timedelta(hours=26))):
                hub.reset_counts()
                hub.new_window()  # hours apart
                t0 = time.perf_counter()
                result = live.refresh_from_sources(now=when)
                rows.append((label, time.perf_counter() - t0, dict(hub.counts), result))
    finally:
        server.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    for label, seconds, counts, result in rows:
        print(f"{label:>8} refresh of {len(result.catalog.models)} models at {LATENCY_S * 1e3:.0f} ms per request: "
              f"{seconds:5.1f} s; Hub API {counts['api']}, resolvers {counts['resolvers']}, OpenRouter "
              f"{counts['openrouter']}")
    (_, first_s, first, _), (_, second_s, second, _) = rows[0], rows[1]
    print(f"targets: first <= {FIRST_TARGET_S:.0f} s and <= {FIRST_API_TARGET} API requests; same day <= "
          f"{SECOND_TARGET_S:.0f} s and no Hub request")
    limited = [label for label, _, _, result in rows if any(n.startswith("Hub rate limit") for n in result.notes)]
    if limited:
        print(f"rate-limited: {', '.join(limited)}")
    return (first_s <= FIRST_TARGET_S and first["api"] <= FIRST_API_TARGET and second_s <= SECOND_TARGET_S
            and second["api"] == second["resolvers"] == 0 and not limited)


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
