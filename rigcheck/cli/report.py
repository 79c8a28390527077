"""``rigcheck report``: export a machine report, or a fleet report for several profiles, to a file."""

from __future__ import annotations

import argparse
import sys

from rigcheck.cli import UsageError
from rigcheck.cli._args import positive_number, token_count
from rigcheck.cli._machine import add_machine_args, machines_from_args

KV_TYPES = ("f16", "q8_0", "q4_0")
FORMAT_NAMES = {"pdf": "a PDF", "html": "an HTML", "md": "a Markdown", "json": "a JSON", "csv": "a CSV"}


def register(subparsers) -> None:
    from rigcheck.estimate import rules
    from rigcheck.report import FORMATS

    parser = subparsers.add_parser(
        "report",
        help="export a machine report (PDF, HTML, Markdown, JSON, CSV)",
        description="Write a report of what this machine (or a profile, or a what-if machine) runs, how fast, "
        "its inventory for procurement and the hosted alternatives. Several --machine profiles make a fleet "
        "report: which machine runs which model, and what to buy to reach --target-model.",
    )
    add_machine_args(parser, multiple_profiles=True)
    parser.add_argument("--format", choices=FORMATS, help="output format (default: from the -o file name)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="where to write the report; - writes it to standard output (give --format)")
    parser.add_argument(
        "--select", action="append", default=[], metavar="MODEL",
        help="a model to detail (repeatable; default: this machine's picks, the most capable usable models)",
    )
    parser.add_argument("--target-model", metavar="MODEL", help="plan for this model: configurations and upgrades")
    parser.add_argument("--context", type=token_count, metavar="N", help="context to reserve (default 8192)")
    parser.add_argument("--prompt", type=token_count, metavar="N", help="prompt length for TTFT (default 4096)")
    parser.add_argument("--kv-type", choices=KV_TYPES, help="KV cache type (default f16)")
    parser.add_argument("--min-decode", metavar="R", type=positive_number(float),
                        help=f"usable: decode at least R tokens/s (default {rules.DEFAULT_MIN_DECODE_TOKENS_PER_S:g})")
    parser.add_argument("--max-ttft", metavar="S", type=positive_number(float),
                        help=f"usable: first token within S seconds (default {rules.DEFAULT_MAX_TTFT_S:g})")
    parser.add_argument("--input-per-output", metavar="R", type=positive_number(float, zero=True),
                        help="input tokens per output token of the blended hosted price (default "
                             f"{rules.DEFAULT_INPUT_PER_OUTPUT:g})")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog.lookup import ModelLookupError, find_model
    from rigcheck.catalog.store import catalog_status, load_catalog
    from rigcheck.estimate.rules import Thresholds
    from rigcheck.estimate.types import Settings
    from rigcheck.report import (
        ExportError,
        ExportTargetError,
        ReportBuildError,
        build_report,
        export,
        format_for_path,
    )

    to_stdout = args.output == "-"
    implied = None if to_stdout else format_for_path(args.output)
    if args.format and implied and implied != args.format:
        raise UsageError(f"{args.output!r} names {FORMAT_NAMES[implied]} file but --format is {args.format}; "
                         "give a matching name or leave --format out")
    fmt = args.format or implied
    if fmt is None:
        where = "standard output" if to_stdout else repr(args.output)
        raise UsageError(f"cannot tell the format from {where}; give --format pdf|html|md|json|csv")
    if to_stdout and fmt == "pdf" and sys.stdout.isatty():
        raise UsageError("a PDF is not written to a terminal; give -o FILE.pdf or send standard output to a file")
    defaults = Settings()
    settings = Settings(
        context_tokens=args.context or defaults.context_tokens,
        prompt_tokens=args.prompt or defaults.prompt_tokens,
        kv_cache_type=args.kv_type or defaults.kv_cache_type,
        usable=Thresholds(args.min_decode or defaults.usable.min_decode_tokens_per_s,
                          args.max_ttft or defaults.usable.max_ttft_s),
        input_per_output=defaults.input_per_output if args.input_per_output is None else args.input_per_output,
    )
    catalog = load_catalog()
    try:
        selected = [find_model(catalog, q).id for q in args.select]
        target = find_model(catalog, args.target_model).id if args.target_model else None
    except ModelLookupError as exc:
        raise UsageError(str(exc)) from None
    machines = machines_from_args(args, catalog)
    engine = _engine()
    if engine.evaluate is None:
        print(f"rigcheck: error: {engine.unavailable.get('estimator', 'the estimator is not available')}",
              file=sys.stderr)
        return 1
    try:
        report = build_report(
            machines, catalog, settings, engine=engine, selected_model_ids=selected, target_model_id=target,
            catalog_status=catalog_status(),
        )
        if to_stdout:
            return _to_stdout(report, fmt)
        path = export(report, fmt, args.output)
    except (ReportBuildError, ExportTargetError) as exc:
        raise UsageError(str(exc)) from None
    except ExportError as exc:  # the write failed (a full disk, a name too long): not the user's input
        print(f"rigcheck: error: {exc}", file=sys.stderr)
        return 1
    kind = "fleet report" if report.is_fleet else "report"
    print(f"wrote {kind} ({fmt}) to {path}")
    return 0


def _to_stdout(report, fmt: str) -> int:
    """Write the report to standard output: the text formats as text, a PDF as its bytes (made in a temporary
    folder by the same ``export`` a file gets)."""
    import tempfile
    from pathlib import Path

    from rigcheck.report import export, render_text

    if fmt != "pdf":
        sys.stdout.write(render_text(report, fmt))
        sys.stdout.flush()
        return 0
    with tempfile.TemporaryDirectory(prefix="rigcheck-report-") as folder:
        data = export(report, "pdf", Path(folder) / "report.pdf").read_bytes()
    raw = getattr(sys.stdout, "unfiltered", sys.stdout)  # a PDF's bytes are not text to filter
    raw.flush()
    raw.buffer.write(data)
    raw.buffer.flush()
    return 0


def _engine():
    from rigcheck.report import default_engine

    return default_engine()
