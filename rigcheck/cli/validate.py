"""`rigcheck validate FILE [--json]`: the estimator's error against published speed measurements.

FILE is in speed.csv's format (../shared/calibration/speed.csv) or ``llama-bench -o json`` output.
"""

from __future__ import annotations

import argparse
import sys

from rigcheck.cli import UsageError
from rigcheck.cli._output import json_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="the estimator's error against published measurements",
        description="Estimate every row of a measurements file (speed.csv format or llama-bench -o json) on "
        "the machine it names and report the median and 90th-percentile absolute percentage error of "
        "prefill and decode, per platform, and the fit agreement (rows measured with every layer on the GPU "
        "must be judged gpu/unified; rows reported out of memory must not be).",
    )
    parser.add_argument("file", metavar="FILE", help="measurements: speed.csv format or llama-bench JSON")
    parser.add_argument("--json", action="store_true",
                        help='print one JSON object (schema "rigcheck.validate/1") with one entry per row')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.calibration.measurements import MeasurementError, read_measurements
    from rigcheck.estimate.calibration.validation import validate

    try:
        measurements = read_measurements(args.file)
    except MeasurementError as exc:
        raise UsageError(str(exc)) from None
    if not measurements:
        raise UsageError(f"{args.file}: no measurement rows")
    report = validate(measurements, load_catalog())
    if args.json:
        sys.stdout.write(json_text(report.to_dict(), indent=1) + "\n")
    else:
        sys.stdout.write(summary(report))
    return 0


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def summary(report) -> str:
    """Error table per platform, then fit agreement and skipped rows."""
    header = ("PLATFORM", "ROWS", "PREFILL MEDIAN", "PREFILL P90", "DECODE MEDIAN", "DECODE P90")
    rows = []
    for platform in [*report.platforms(), None]:
        p, d = report.errors("prefill", platform), report.errors("decode", platform)
        rows.append((platform or "all", str(max(p.count, d.count)), _pct(p.median_pct), _pct(p.p90_pct),
                     _pct(d.median_pct), _pct(d.p90_pct)))
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["Absolute percentage error of the expected estimate against the measurement"]
    for row in (header, *rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                               enumerate(zip(row, widths, strict=True))).rstrip())
    agreement = report.fit_agreement
    if agreement is None:
        lines.append("fit agreement: no row says whether it fitted")
    else:
        lines.append(f"fit agreement: {agreement:.0%} of {report.fit_checked} rows "
                     f"({len(report.fit_disagreements)} disagree)")
        for d in report.fit_disagreements[:10]:
            lines.append(f"  row {d['row']}: {d['model_id']} {d['quant']} on {d['device']}: measured "
                         f"{d['measured']}, estimated {d['verdict']}")
    if report.skipped:
        reasons: dict[str, int] = {}
        for s in report.skipped:
            reasons[str(s["reason"])] = reasons.get(str(s["reason"]), 0) + 1
        lines.append(f"skipped {len(report.skipped)} rows:")
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            lines.append(f"  {count} x {reason}")
    return "\n".join(lines) + "\n"
