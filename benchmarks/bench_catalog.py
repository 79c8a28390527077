"""Embedded catalog: load (read + decode + validate) time, and device-resolution time. Target: load <= 100 ms."""

from __future__ import annotations

import statistics
import time

LOAD_TARGET_MS = 100.0
RESOLVE_TARGET_US = 200.0


def run() -> bool:
    from rigcheck.catalog import devices
    from rigcheck.catalog.records import decode_catalog
    from rigcheck.catalog.store import embedded_catalog_path

    path = embedded_catalog_path()
    load_ms = []
    for _ in range(15):
        t0 = time.perf_counter()
        catalog = decode_catalog(path.read_bytes())  # what load_catalog does on first use, no memo
        load_ms.append((time.perf_counter() - t0) * 1e3)
    size_mb = path.stat().st_size / 1e6
    median_ms, worst_ms = statistics.median(load_ms), max(load_ms)
    print(f"embedded catalog {size_mb:.2f} MB, {len(catalog.models)} models, {len(catalog.devices)} devices: "
          f"load median {median_ms:.1f} ms, worst {worst_ms:.1f} ms (target <= {LOAD_TARGET_MS:.0f} ms)")

    names = [d.name for d in catalog.devices] + ["NVIDIA GeForce RTX 4090 D", "Apple M2 Ultra", "A100"]
    devices.resolve("warm up the index", devices=catalog.devices)
    t0 = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for name in names:
            devices.resolve(name, devices=catalog.devices)
    per_us = (time.perf_counter() - t0) / (rounds * len(names)) * 1e6
    print(f"device resolution: {per_us:.0f} us per name (target <= {RESOLVE_TARGET_US:.0f} us)")
    return median_ms <= LOAD_TARGET_MS and per_us <= RESOLVE_TARGET_US


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
