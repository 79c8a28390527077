"""Feed documents for the refresh tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

import json

# Feeds are numbered by build time as YYYYMMDDHHMM, and so is the embedded catalog (2026-11-29 00:00 ->
# 202611290000). Test feeds count up from 2026-12-01 00:00, so seq(n) is newer than the embedded catalog and
# seq(a) < seq(b) keeps the order the tests mean; rollback below the embedded catalog uses EMBEDDED_SEQUENCE.
EMBEDDED_SEQUENCE = 202611290000
FEED_BASE_SEQUENCE = 202612010000


def seq(n: int) -> int:
    """The n-th test feed's sequence: newer than the embedded catalog, in the order of n."""
    return FEED_BASE_SEQUENCE + n


def make_feed(sequence: int = FEED_BASE_SEQUENCE + 5, *, expires_at: str | None = "2099-01-01T00:00:00Z", models: int = 2,
              **extra) -> dict:
    doc = {
        "schema_version": "1.0",
        "generated_at": "2026-11-01T00:00:00Z",
        "sequence": sequence,
        "models": [
            {
                "id": f"org/model-{i}",
                "family": "test",
                "params_total_b": 7.0 + i,
                "num_layers": 32,
                "quants": [{"name": "Q4_K_M", "format": "gguf", "bits_per_weight": 4.85,
                            "file_size_bytes": 4_000_000_000 + i}],
            }
            for i in range(models)
        ],
        "devices": [{"name": "RTX 4090", "vendor": "NVIDIA", "kind": "consumer",
                     "memory_bytes": 24 * 2**30, "bandwidth_bytes_per_s": 1.008e12}],
        "hosted": [{"model_id": "org/model-0", "provider": "x", "usd_per_m_input": 0.1,
                    "usd_per_m_output": 0.3}],
    }
    if expires_at is not None:
        doc["expires_at"] = expires_at
    doc.update(extra)
    return doc


def feed_bytes(doc: dict) -> bytes:
    return json.dumps(doc, indent=1).encode()
