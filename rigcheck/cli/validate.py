"""`rigcheck validate [--serving] FILE [--json]`: the estimator's error against published measurements.

FILE is in speed.csv's format (../shared/calibration/speed.csv) or ``llama-bench -o json`` output; with
``--serving``, in serving.csv's format (multi-user throughput of a node, ../shared/calibration/serving.csv).
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
    parser.add_argument("file", metavar="FILE", nargs="?",
                        help="measurements: speed.csv format, llama-bench output (JSON, JSONL, CSV, markdown), a "
                             "llama-server/llama-cli log, ollama --verbose statistics or vLLM bench serve JSON")
    parser.add_argument("--measured", action="store_true",
                        help="the runs you imported (`rigcheck measured`), each estimated on the machine it ran "
                             "on: the estimator's error on your own machines")
    parser.add_argument("--serving", action="store_true",
                        help="FILE holds serving measurements (serving.csv's columns): score `rigcheck serve`'s "
                        "output and per-user tokens/s; a row that cannot be estimated counts as a miss")
    parser.add_argument("--json", action="store_true",
                        help='print one JSON object (schema "rigcheck.validate/1", or "rigcheck.validate-serving/1" '
                        "with --serving) with one entry per row")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.serving:
        if args.measured or not args.file:
            raise UsageError("--serving scores a serving CSV FILE (serving.csv's columns); give it, without --measured")
        return run_serving(args)
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.calibration.measurements import MeasurementError
    from rigcheck.estimate.calibration.run_files import read_run_file
    from rigcheck.estimate.calibration.validation import validate

    if args.measured == bool(args.file):
        raise UsageError("give a measurements FILE or --measured (your imported runs), one of the two")
    if args.measured:
        report = _measured_report(load_catalog())
    else:
        try:
            measurements = read_run_file(args.file)
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


def _measured_report(catalog):
    """The imported runs, each estimated on the machine profile it was kept with."""
    from rigcheck.estimate.calibration.correction import validation_report
    from rigcheck.estimate.calibration.user_runs import StoreError, load_store

    try:
        store = load_store()
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    if not store.runs:
        raise UsageError("no measurements kept: import some with `rigcheck measured import FILE`")
    return validation_report(store, catalog)


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


def run_serving(args: argparse.Namespace) -> int:
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.calibration.measurements import MeasurementError
    from rigcheck.estimate.calibration.serving_rows import read_serving_csv, validate_serving

    try:
        measurements = read_serving_csv(args.file)
    except MeasurementError as exc:
        raise UsageError(str(exc)) from None
    if not measurements:
        raise UsageError(f"{args.file}: no measurement rows")
    report = validate_serving(measurements, load_catalog())
    if args.json:
        sys.stdout.write(json_text(report.to_dict(), indent=1) + "\n")
    else:
        sys.stdout.write(serving_summary(report))
    return 0


def serving_summary(report) -> str:
    """Median and p90 of |estimate / published - 1| for output and per-user tokens/s, then each row."""
    out, user = report.summary("output"), report.summary("per_user")
    lines = ["|estimate / published - 1| of the serving model (rigcheck serve)",
             f"  output tokens/s:   {out['count']} rows, median {_pct(out['median_abs_error_pct'])}, "
             f"p90 {_pct(out['p90_abs_error_pct'])}",
             f"  per-user tokens/s: {user['count']} rows, median {_pct(user['median_abs_error_pct'])}, "
             f"p90 {_pct(user['p90_abs_error_pct'])}",
             f"  {len(report.refused)} of {len(report.rows)} rows could not be estimated (each counts as a miss)", ""]
    header = ("ROW", "ENGINE", "NODE", "MODEL", "QUANT", "IN/OUT", "CONC", "OUTPUT PUB", "EST", "ERR",
              "PER-USER PUB", "EST", "ERR")
    rows = []
    for r in report.rows:
        m = r.measurement
        conc = "max" if m.concurrency is None else f"{m.concurrency}{'s' if m.static else ''}"

        def err(kind: str, r=r) -> str:
            e = r.error(kind)
            return "-" if e is None else ("miss" if e == float("inf") else f"{e * 100:.0f}%")

        rows.append((str(m.row), r.engine, f"{m.gpu_count}x {m.gpu}", (r.model_id or m.model).split("/")[-1],
                     r.quant or "-", f"{m.input_tokens}/{m.output_tokens}", conc, f"{m.output_tokens_per_s:,.0f}",
                     "-" if r.output_expected is None else f"{r.output_expected:,.0f}", err("output"),
                     "-" if m.per_user_tokens_per_s is None else f"{m.per_user_tokens_per_s:,.1f}",
                     "-" if r.per_user_expected is None else f"{r.per_user_expected:,.1f}", err("per_user")))
    widths = [max(len(x[i]) for x in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for r in report.refused:
        lines.append(f"row {r.measurement.row}: not estimated: {r.refused}")
    return "\n".join(lines) + "\n"
