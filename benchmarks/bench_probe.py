"""Probe timing: probe_machine() without the bandwidth measurement (target <= 300 ms), and with it."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

PROBE_TARGET_S = 0.300
PROBE_WITH_BANDWIDTH_TARGET_S = 1.5  # the measurement's 1 s budget plus the probe and allocation


def _first_probe_s() -> tuple[float, float]:
    """In a fresh interpreter: (import of rigcheck.probe.detect, first probe_machine() call) in seconds.

    The first call pays what the app pays when it probes: loading pynvml and trying NVML, reading
    /proc and sysfs cold. Importing psutil and rigcheck happens once at app start (beside Qt's own
    start-up) and is reported apart.
    """
    code = (
        "import time; t0 = time.perf_counter(); "
        "from rigcheck.probe.detect import probe_machine; t1 = time.perf_counter(); "
        "probe_machine(); t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    import_s, probe_s = (float(x) for x in out.split())
    return import_s, probe_s


def run() -> bool:
    from rigcheck.probe.detect import probe_machine

    probe_machine()  # warm: imports, NVML load attempt, file-system caches
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        machine = probe_machine()
        warm.append(time.perf_counter() - t0)
    warm_s = statistics.median(warm)
    import_s, first_s = _first_probe_s()
    t0 = time.perf_counter()
    measured = probe_machine(measure_bandwidth=True)
    with_bandwidth_s = time.perf_counter() - t0
    bandwidth = measured.memory.bandwidth_bytes_per_s or 0.0
    print(f"probe (warm, median of 5): {warm_s * 1000:7.1f} ms   target <= {PROBE_TARGET_S * 1000:.0f} ms")
    print(f"probe (first in a process): {first_s * 1000:6.1f} ms   target <= {PROBE_TARGET_S * 1000:.0f} ms"
          f"   (+ {import_s * 1000:.0f} ms importing psutil and rigcheck.probe, once per app start)")
    print(
        f"probe + RAM bandwidth:     {with_bandwidth_s * 1000:7.1f} ms   target <= "
        f"{PROBE_WITH_BANDWIDTH_TARGET_S * 1000:.0f} ms   ({bandwidth / 1e9:.1f} GB/s measured)"
    )
    print(f"machine: {len(machine.gpus)} GPU(s), {machine.cpu.logical_cores} CPU threads, "
          f"{machine.memory.total_bytes / 1024**3:.1f} GiB RAM")
    return (
        warm_s <= PROBE_TARGET_S
        and first_s <= PROBE_TARGET_S
        and with_bandwidth_s <= PROBE_WITH_BANDWIDTH_TARGET_S
        and bandwidth > 0
    )


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
