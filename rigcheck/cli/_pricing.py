"""Shared pieces of the hosted, cost and plan commands: parsing workload options, formatting money."""

from __future__ import annotations

import argparse
import math
import sys

from rigcheck.cli import UsageError
from rigcheck.cli._args import number, shown
from rigcheck.cli._output import json_text
from rigcheck.estimate.serving import MAX_TOKENS_PER_DAY


def load_catalog_and_status():
    """The catalog in use and its status (for the JSON header)."""
    from rigcheck.catalog.store import catalog_status, load_catalog

    return load_catalog(), catalog_status()


def catalog_header(status) -> dict[str, object]:
    return {
        "source": status.source,
        "sequence": status.sequence,
        "generated_at": status.generated_at,
        "schema_version": status.schema_version,
    }


def find_model(catalog, query: str):
    """The catalog model a query names; UsageError with suggestions when it names none or several."""
    from rigcheck.catalog.lookup import ModelLookupError
    from rigcheck.catalog.lookup import find_model as lookup

    try:
        return lookup(catalog, query)
    except ModelLookupError as exc:
        raise UsageError(str(exc)) from None


MAX_USD = 1e12
"""Above any price or budget a person would type: a larger figure is a typo."""


def positive_float(text: str) -> float:
    """A number above zero and at most 10^12 (prices, budgets, rates, years)."""
    return number(0.0, MAX_USD, low_open=True)(text)


def non_negative_float(text: str) -> float:
    """A number from zero to 10^12."""
    return number(0.0, MAX_USD)(text)


def share(text: str) -> float:
    """A share 0..1, also accepted as a percentage ("40%")."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a share (0-1 or a percentage)") from None
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"{shown(text)} must be between 0 and 1 (or 0% and 100%)")
    return value


def utilization(text: str) -> float:
    """A share above 0 and at most 1: a node that is never used has no cost per token."""
    value = share(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError(f"{shown(text)} must be above 0 (a node that never runs serves nothing)")
    return value


def positive_int(text: str) -> int:
    """A whole number from 1 to a million (limits, concurrency)."""
    return int(number(1, 1_000_000, integer=True)(text))


_SUFFIXES = {"k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9}


def token_count(text: str) -> float:
    """A token count: 5000000, 5e6, 5M, 200k; at most 10^15."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    factor = 1.0
    if raw and raw[-1] in _SUFFIXES:
        factor, raw = _SUFFIXES[raw[-1]], raw[:-1]
    try:
        value = float(raw) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a token count (e.g. 5000000, 5M, 200k)") from None
    if not value >= 0 or (math.isinf(value) and "inf" in raw):  # NaN, negative, "inf"
        raise argparse.ArgumentTypeError(f"{shown(text)} must be zero or more tokens")
    if value > MAX_TOKENS_PER_DAY:  # an infinity from too many digits too
        raise argparse.ArgumentTypeError(f"{shown(text)} is more tokens than any service handles (at most 10^15)")
    return value


def tokens_per_day(text: str) -> tuple[float, float]:
    """"IN,OUT" tokens per day, e.g. "20M,2M"; at least one output token a day."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{shown(text)}: give input and output tokens per day as IN,OUT (e.g. 20M,2M)")
    inp, out = (token_count(p) for p in parts)
    if out < 1:
        raise argparse.ArgumentTypeError("output tokens per day must be at least 1")
    return inp, out


def add_workload_args(parser: argparse.ArgumentParser) -> None:
    from rigcheck.estimate.serving import Workload

    default = Workload()
    group = parser.add_argument_group("workload")
    group.add_argument(
        "--tokens-per-day", metavar="IN,OUT", type=tokens_per_day,
        help=f"input and output tokens per day (default: one --prompt of input per --output-len of output, "
        f"{default.output_tokens_per_day / 1e6:g}M output tokens a day: {default.input_tokens_per_day / 1e6:g}M,"
        f"{default.output_tokens_per_day / 1e6:g}M at the defaults; suffixes k, M, G allowed)",
    )
    group.add_argument("--cached-share", metavar="S", type=share, default=default.cached_input_share,
                       help="share of input tokens served from a prompt cache (0-1; default %(default)s)")
    group.add_argument("--concurrency", metavar="N", type=positive_int, default=default.peak_concurrency,
                       help="requests in flight while the node serves (default %(default)s)")
    group.add_argument("--output-len", metavar="N", type=positive_int, default=default.output_tokens_per_request,
                       help="output tokens per request; its input follows from --tokens-per-day "
                       "(default %(default)s)")
    group.add_argument("--utilization", metavar="U", type=utilization, default=default.utilization,
                       help="share of hours the node serves at that concurrency (0-1 or %%; default %(default)s)")


def workload_from_args(args: argparse.Namespace):
    """The workload of --tokens-per-day and the rest; without --tokens-per-day, the default traffic for requests
    of --prompt input tokens (``Workload.for_prompt``), the request shape every view assumes."""
    from rigcheck.estimate.serving import Workload

    fields = {"cached_input_share": args.cached_share, "peak_concurrency": args.concurrency,
              "utilization": args.utilization, "output_tokens_per_request": args.output_len}
    try:
        if args.tokens_per_day is None:
            return Workload.for_prompt(args.prompt, **fields)
        inp, out = args.tokens_per_day
        return Workload(input_tokens_per_day=inp, output_tokens_per_day=out, **fields)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def print_json(data: object) -> None:
    """``data`` as JSON on stdout; a non-finite number is written as null (JSON has no NaN or infinity)."""
    sys.stdout.write(json_text(data, indent=2) + "\n")


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain left-aligned text table (numbers are already formatted)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
