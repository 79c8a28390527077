"""Report timings for a what-if 1x RTX 4090 + 64 GB machine on the embedded catalog: build, then each format.

Targets: building the report data (every model x quant, detail curves, plans) within 5 s; the PDF
(layout, charts, keeping table rows whole) within 10 s; each text format within 2 s (JSON carries every estimate with its basis lines: a few MB). The GUI runs
these in a worker, so the targets are about not keeping the user waiting, not about frame times.
"""

from __future__ import annotations

import os
import tempfile
import time

TARGET_BUILD_S = 5.0
TARGET_PDF_S = 10.0
TARGET_TEXT_S = 2.0


def run() -> bool:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from rigcheck.catalog import devices
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.types import Settings
    from rigcheck.report import build_report, export
    from rigcheck.report.pdf import ensure_gui_application

    ensure_gui_application()
    catalog = load_catalog()
    machine = devices.hypothetical_machine(["RTX 4090"], devices.parse_size("64GB"), catalog=catalog)
    start = time.perf_counter()
    report = build_report([machine], catalog, Settings())
    build_s = time.perf_counter() - start
    ok = build_s <= TARGET_BUILD_S
    print(f"build report data: {build_s:.2f} s (target <= {TARGET_BUILD_S:.0f} s)")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("pdf", "html", "md", "json", "csv"):
            start = time.perf_counter()
            path = export(report, fmt, os.path.join(folder, f"r.{fmt}"))
            took = time.perf_counter() - start
            target = TARGET_PDF_S if fmt == "pdf" else TARGET_TEXT_S
            ok &= took <= target
            print(f"export {fmt:4}: {took:.2f} s, {path.stat().st_size / 1024:,.0f} KiB (target <= {target:.0f} s)")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
