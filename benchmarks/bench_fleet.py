"""Fleet report timings: 1,000 machine profiles to JSON, CSV and Markdown, and 100 to PDF, each as `rigcheck report`
does it (read the profiles, estimate every machine, build, write).

Targets (docs/fleet.md): each of JSON, CSV and Markdown for 1,000 profiles within 60 s, the PDF of 100 within 30 s,
and both linear in machines: the time per machine at 1,000 within twice that at 100 (a quadratic step would make
it ten times). The profiles are what-if machines from the device table, written to files and read back, with a
dozen hardware configurations, as a real fleet has.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time

TARGET_TEXT_S = 60.0
TARGET_PDF_S = 30.0
MACHINES_TEXT = 1000
MACHINES_PDF = 100
MAX_SLOWDOWN_PER_MACHINE = 2.0
CONFIGS = ["RTX 4090", "2 x RTX 4090", "RTX 3090", "2 x RTX 3090", "RTX 5090", "H100 SXM", "2 x H100 SXM",
           "A100 80GB", "L40S", "RTX 4060 Ti 16GB", "RTX A6000", "4 x RTX 4090"]


def _profiles(folder: str, count: int, catalog) -> list[str]:
    import msgspec

    from rigcheck.catalog import devices
    from rigcheck.probe.profile import dump_profile

    paths = []
    for i in range(count):
        machine = devices.hypothetical_machine([CONFIGS[i % len(CONFIGS)]], (64 + 64 * (i % 4)) * 2**30,
                                               catalog=catalog)
        path = os.path.join(folder, f"node-{i:04d}.json")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(dump_profile(msgspec.structs.replace(machine, label=None, hostname=f"node-{i:04d}")))
        paths.append(path)
    return paths


def _build(paths: list[str], catalog):
    from rigcheck.estimate.types import Settings
    from rigcheck.probe.profile import load_profile
    from rigcheck.report import build_report

    start = time.perf_counter()
    report = build_report([load_profile(p) for p in paths], catalog, Settings())
    return report, time.perf_counter() - start


def _export(report, fmt: str, folder: str) -> tuple[float, int]:
    from rigcheck.report import export

    start = time.perf_counter()
    path = export(report, fmt, os.path.join(folder, f"fleet.{fmt}"))
    return time.perf_counter() - start, path.stat().st_size


def run() -> bool:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from rigcheck.catalog.store import load_catalog
    from rigcheck.report.pdf import ensure_gui_application

    ensure_gui_application()
    catalog = load_catalog()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        paths = _profiles(folder, MACHINES_TEXT, catalog)
        small, small_s = _build(paths[:MACHINES_PDF], catalog)
        pdf_s, pdf_bytes = _export(small, "pdf", folder)
        took = small_s + pdf_s
        ok &= took <= TARGET_PDF_S
        print(f"{MACHINES_PDF} profiles to PDF: {took:.1f} s (build {small_s:.1f} s), {pdf_bytes / 1e6:.1f} MB "
              f"(target <= {TARGET_PDF_S:.0f} s)")
        before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        report, build_s = _build(paths, catalog)
        per_machine_small, per_machine = small_s / MACHINES_PDF, build_s / MACHINES_TEXT
        linear = per_machine <= MAX_SLOWDOWN_PER_MACHINE * per_machine_small
        ok &= linear
        print(f"build {MACHINES_TEXT} machines: {build_s:.1f} s, {per_machine * 1e3:.0f} ms per machine "
              f"({per_machine_small * 1e3:.0f} ms at {MACHINES_PDF}; target within {MAX_SLOWDOWN_PER_MACHINE:g}x)")
        for fmt in ("json", "csv", "md"):
            export_s, size = _export(report, fmt, folder)
            took = build_s + export_s
            ok &= took <= TARGET_TEXT_S
            print(f"{MACHINES_TEXT} profiles to {fmt:4}: {took:.1f} s (write {export_s:.1f} s), {size / 1e6:.1f} MB "
                  f"(target <= {TARGET_TEXT_S:.0f} s)")
        peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, before_kb) / 1024
        print(f"peak memory of the process: {peak_mb:,.0f} MiB")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
