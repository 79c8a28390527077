"""Shared pieces of the hosted, cost and plan commands: parsing workload options, formatting money."""

from __future__ import annotations

import argparse
import json
import math
import sys

from rigcheck.cli import UsageError


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


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number above zero")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more")
    return value


def share(text: str) -> float:
    """A share 0..1, also accepted as a percentage ("40%")."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share (0-1 or a percentage)") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1 (or 0% and 100%)")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


_SUFFIXES = {"k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9}


def token_count(text: str) -> float:
    """A token count: 5000000, 5e6, 5M, 200k."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    factor = 1.0
    if raw and raw[-1] in _SUFFIXES:
        factor, raw = _SUFFIXES[raw[-1]], raw[:-1]
    try:
        value = float(raw) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a token count (e.g. 5000000, 5M, 200k)") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or more tokens")
    return value


def tokens_per_day(text: str) -> tuple[float, float]:
    """"IN,OUT" tokens per day, e.g. "20M,2M"."""
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r}: give input and output tokens per day as IN,OUT (e.g. 20M,2M)")
    inp, out = (token_count(p) for p in parts)
    if out <= 0:
        raise argparse.ArgumentTypeError("output tokens per day must be above zero")
    return inp, out


def add_workload_args(parser: argparse.ArgumentParser) -> None:
    from rigcheck.estimate.serving import Workload

    default = Workload()
    group = parser.add_argument_group("workload")
    group.add_argument(
        "--tokens-per-day", metavar="IN,OUT", type=tokens_per_day,
        help=f"input and output tokens per day (default {default.input_tokens_per_day / 1e6:g}M,"
        f"{default.output_tokens_per_day / 1e6:g}M; suffixes k, M, G allowed)",
    )
    group.add_argument("--cached-share", metavar="S", type=share, default=default.cached_input_share,
                       help="share of input tokens served from a prompt cache (0-1; default %(default)s)")
    group.add_argument("--concurrency", metavar="N", type=positive_int, default=default.peak_concurrency,
                       help="requests in flight while the node serves (default %(default)s)")
    group.add_argument("--output-len", metavar="N", type=positive_int, default=default.output_tokens_per_request,
                       help="output tokens per request; its input follows from --tokens-per-day "
                       "(default %(default)s)")
    group.add_argument("--utilization", metavar="U", type=share, default=default.utilization,
                       help="share of hours the node serves at that concurrency (0-1 or %%; default %(default)s)")


def workload_from_args(args: argparse.Namespace):
    from rigcheck.estimate.serving import Workload

    default = Workload()
    inp, out = args.tokens_per_day or (default.input_tokens_per_day, default.output_tokens_per_day)
    try:
        return Workload(input_tokens_per_day=inp, output_tokens_per_day=out, cached_input_share=args.cached_share,
                        peak_concurrency=args.concurrency, utilization=args.utilization,
                        output_tokens_per_request=args.output_len)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def print_json(data: object) -> None:
    json.dump(_finite(data), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _finite(value: object) -> object:
    """JSON has no infinity: a non-finite float is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_finite(v) for v in value]
    return value


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain left-aligned text table (numbers are already formatted)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
