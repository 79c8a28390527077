"""A short RAM bandwidth measurement: numpy copies of a buffer larger than the last-level cache.

Each pass copies N bytes (N read + N written, counted as 2N: glibc's memcpy uses non-temporal stores
for buffers this large, so there is no extra read for write-allocate). Copies run on one thread per
physical core (numpy releases the GIL while copying), because one core alone cannot saturate a
multi-channel memory system; the best pass within the time budget is reported. The figure is what
a streaming program achieves, typically 60-85% of the DIMMs' theoretical peak, which is the figure
CPU inference (also a streaming read) sees. Run it off the GUI thread: it takes up to ``budget_s``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

MiB = 1024**2
_MIN_BUFFER_BYTES = 64 * MiB
_MAX_BUFFER_BYTES = 256 * MiB
_MAX_THREADS = 16


@dataclass(frozen=True)
class BandwidthMeasurement:
    bandwidth_bytes_per_s: float
    buffer_bytes: int
    threads: int
    passes: int
    elapsed_s: float


def last_level_cache_bytes(sys_root: str | Path = "/sys") -> int | None:
    """The largest CPU cache Linux reports (per cluster), or None when unknown (macOS, Windows)."""
    base = Path(sys_root) / "devices/system/cpu/cpu0/cache"
    largest = None
    for index in sorted(base.glob("index*")):
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        units = {"K": 1024, "M": MiB, "G": 1024 * MiB}
        if text and text[-1] in units and text[:-1].isdigit():
            size = int(text[:-1]) * units[text[-1]]
            largest = max(largest or 0, size)
    return largest


def _buffer_bytes(available_bytes: int, llc_bytes: int | None) -> int:
    # Source and target together are 4x the LLC, so the cache holds little of either; bounded because
    # faulting the pages in (the kernel zeroes each one) costs more than the copies themselves.
    wanted = max(_MIN_BUFFER_BYTES, 2 * (llc_bytes or 32 * MiB))
    return int(min(wanted, _MAX_BUFFER_BYTES, max(available_bytes // 8, 16 * MiB)))


def measure_ram_bandwidth(*, budget_s: float = 1.0, threads: int | None = None) -> BandwidthMeasurement:
    """Best multi-threaded copy bandwidth over a buffer larger than the LLC, within ``budget_s``.

    Raises MemoryError when the buffer cannot be allocated.
    """
    started = time.perf_counter()
    size = _buffer_bytes(psutil.virtual_memory().available, last_level_cache_bytes())
    workers = threads or max(1, min(psutil.cpu_count(logical=False) or 1, _MAX_THREADS))
    source = np.ones(size, dtype=np.uint8)  # ones, not empty: pages must be faulted in before timing
    target = np.zeros(size, dtype=np.uint8)
    bounds = np.linspace(0, size, workers + 1, dtype=np.int64)
    chunks = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def copy(chunk: tuple[int, int]) -> None:
        a, b = chunk
        np.copyto(target[a:b], source[a:b])

    best_s = float("inf")
    passes = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(copy, chunks))  # warm-up: first touch of the target's pages
        while True:
            t0 = time.perf_counter()
            list(pool.map(copy, chunks))
            best_s = min(best_s, time.perf_counter() - t0)
            passes += 1
            elapsed = time.perf_counter() - started
            if elapsed + best_s > budget_s:  # another pass would overrun the budget
                break
    return BandwidthMeasurement(
        bandwidth_bytes_per_s=2 * size / best_s,
        buffer_bytes=size,
        threads=workers,
        passes=passes,
        elapsed_s=time.perf_counter() - started,
    )
