"""``rigcheck catalog refresh/build/sign``: refresh from the sources or a signed feed; (maintainers) build and sign.

Exit codes: 0 done (an unsigned catalog is still 0, with the warning on stderr; repos skipped during a refresh
are listed, not failures); 1 a network, feed or disk failure (one line on stderr, the catalog in use
unchanged); 2 bad arguments or input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rigcheck import units
from rigcheck.catalog import signing
from rigcheck.cli._args import http_url, number
from rigcheck.cli._output import json_text, printable


def register(actions) -> None:
    _register_refresh(actions)
    _register_build(actions)
    _register_sign(actions)


# -------------------------------------------------------------------------------------------- refresh

def _register_refresh(actions) -> None:
    parser = actions.add_parser(
        "refresh", help="update the catalog from Hugging Face and OpenRouter (or from a signed feed)",
        description="Without --url: ask Hugging Face and OpenRouter, from this machine, for new quants, file "
                    "sizes, licenses, hosted prices and new open models, and use the merged catalog from now on. "
                    "With --url: download a signed catalog feed (a mirror or an air-gapped site's). On any failure "
                    "the catalog in use stays as it was.",
    )
    parser.add_argument("--url", help="a signed feed to use instead of querying the sources")
    parser.add_argument("--allow-unsigned", action="store_true",
                        help="accept a feed from --url that has no valid signature (you must trust its source)")
    parser.add_argument("--discover", type=number(0, 1000, integer=True), default=None, metavar="N",
                        help="consider the N most downloaded and N trending text-generation models on Hugging "
                             "Face as new models (default 15; 0: none)")
    parser.add_argument("--time-limit", type=number(0, 24 * 60, low_open=True, unit="minutes"), default=None,
                        metavar="MIN",
                        help="stop fetching after MIN minutes and keep what was fetched (default 20)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(func=run_refresh)


def run_refresh(args: argparse.Namespace) -> int:
    from rigcheck.catalog.refresh import RefreshError, refresh_catalog
    from rigcheck.cli import UsageError

    if args.allow_unsigned and not args.url:
        raise UsageError("--allow-unsigned applies only to a feed given with --url")
    if args.url is not None:
        try:
            args.url = http_url(args.url)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--url {exc}") from None
    if args.url and (args.discover is not None or args.time_limit is not None):
        raise UsageError("--discover and --time-limit apply to a refresh from the sources, not to --url")
    options = {}
    if args.discover is not None:
        if not 0 <= args.discover <= 1000:
            raise UsageError("--discover must be between 0 and 1000")
        options["discover_top"] = args.discover
    if args.time_limit is not None:
        if not 0 < args.time_limit <= 24 * 60:
            raise UsageError("--time-limit must be above 0 and at most 1440 minutes")
        options["time_limit_s"] = args.time_limit * 60
    progress = progress_line(args)
    try:
        result = refresh_catalog(args.url, allow_unsigned=args.allow_unsigned, progress=progress, **options)
    except RefreshError as exc:
        if progress:
            progress.clear()
        print(f"rigcheck: catalog refresh failed: {exc}", file=sys.stderr)
        return 1
    if progress:
        progress.clear()
    return print_result(args, result)


def print_result(args: argparse.Namespace, result) -> int:
    """The outcome of a refresh, add or remove: one line (and the notes) or one JSON object."""
    if args.json:
        print(json_text({
            "schema": "rigcheck.catalog-refresh/1", "status": result.status, "changed": result.changed,
            "url": result.url, "sequence": result.catalog.sequence, "signed": result.signed,
            "key_id": result.key_id, "message": result.message, "warnings": list(result.warnings),
            "notes": list(result.notes), "models": len(result.catalog.models),
        }, indent=2))
    else:
        print(result.message)
        for note in result.notes:
            print(f"  - {note}")
    for warning in result.warnings:
        print(f"rigcheck: warning: {warning}", file=sys.stderr)
    return 0


def progress_line(args: argparse.Namespace):
    """The stderr progress line, or None (quiet, JSON, or not a terminal)."""
    if getattr(args, "quiet", False) or args.json or not sys.stderr.isatty():
        return None
    return _ProgressLine()


class _ProgressLine:
    """Progress on one stderr line (only on a terminal): bytes of a feed, or models done with an ETA."""

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()

    def __call__(self, done: int, total: int | None, what: str | None = None) -> None:
        if what is None:
            shown = f"downloading catalog: {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
        else:
            eta = units.eta_text(self._clock() - self._start, done, total or 0)
            shown = f"refreshing: {done} of {total} models{', ' + eta if eta else ''} — {what[:60]}"
        # The one writer whose control characters are meant: past the escaping of cli._output.SafeStream.
        terminal = getattr(sys.stderr, "unfiltered", sys.stderr)
        print(f"\r\033[K{printable(shown)}", end="", file=terminal, flush=True)

    def clear(self) -> None:
        print("\r\033[K", end="", file=getattr(sys.stderr, "unfiltered", sys.stderr), flush=True)


# ---------------------------------------------------------------------------------------------- build

def _register_build(actions) -> None:
    parser = actions.add_parser(
        "build", help="build a feed from Hugging Face and OpenRouter (maintainers)",
        description="Query Hugging Face (architecture, quants, file sizes) and OpenRouter (prices), merge "
                    "over the embedded catalog, validate, and write a feed. Sign it with `catalog sign`, "
                    "or here with --key. HF_TOKEN in the environment is sent to Hugging Face (gated repos).",
    )
    parser.add_argument("-o", "--output", required=True, type=Path, help="feed file to write")
    parser.add_argument("--models", nargs="+", metavar="ID", default=None,
                        help="Hugging Face repo ids to fetch (default: every model of the embedded catalog)")
    parser.add_argument("--base-url-hf", type=http_url, default=None,
                        help="Hugging Face base URL (default $HF_ENDPOINT or huggingface.co)")
    parser.add_argument("--base-url-openrouter", type=http_url, default=None,
                        help="OpenRouter base URL (default openrouter.ai)")
    parser.add_argument("--no-prices", action="store_true", help="skip OpenRouter")
    parser.add_argument("--sequence", type=number(0, 2**63 - 1, integer=True), default=None,
                        help="feed sequence (default: UTC time as YYYYMMDDHHMM)")
    parser.add_argument("--expires-days", type=number(1, 3650, integer=True, unit="days"), default=30,
                        help="days until the feed expires (default 30)")
    parser.add_argument("--key", type=Path, default=None, help="also sign with this Ed25519 PEM key")
    parser.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from rigcheck.catalog.net import NetworkDisabled
    from rigcheck.catalog.records import CatalogError
    from rigcheck.catalog.sources import feed, huggingface, openrouter
    from rigcheck.catalog.store import load_embedded
    from rigcheck.cli import UsageError

    if args.expires_days < 1:
        raise UsageError("--expires-days must be at least 1")
    key = _load_key(args.key) if args.key else None
    base = load_embedded()
    model_ids = args.models if args.models is not None else [m.id for m in base.models]
    for model_id in model_ids:
        try:
            huggingface.parse_model_ref(model_id)
        except huggingface.InvalidRepoId as exc:
            raise UsageError(str(exc)) from None
    try:
        report = feed.build_from_sources(
            base, model_ids,
            hf_base_url=args.base_url_hf or huggingface.default_base_url(),
            openrouter_base_url=None if args.no_prices else (args.base_url_openrouter
                                                            or openrouter.OPENROUTER_BASE_URL),
            sequence=args.sequence, expires_days=args.expires_days,
            hf_token=os.environ.get("HF_TOKEN") or None,
            # The Hub allows anonymous clients a few hundred API calls per 5 minutes; a full build makes
            # about ten per model, so pace them rather than lean on 429s.
            min_interval_s=0.0 if args.base_url_hf else 0.3,
            log=lambda line: print(line, file=sys.stderr),
        )
    except NetworkDisabled as exc:
        print(f"rigcheck: catalog build failed: {exc}", file=sys.stderr)
        return 1
    except CatalogError as exc:
        print(f"rigcheck: catalog build failed: the merged catalog is not valid: {exc}", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"rigcheck: warning: {problem}", file=sys.stderr)
    if model_ids and not report.models_updated and not report.models_added:
        print("rigcheck: catalog build failed: no model could be fetched", file=sys.stderr)
        return 1
    data = feed.feed_bytes(report.catalog)
    try:
        _write(args.output, data)
        if key is not None:
            _write(_sig_path(args.output), (signing.sign(data, key) + "\n").encode())
    except OSError as exc:
        print(f"rigcheck: catalog build failed: cannot write {args.output}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    catalog = report.catalog
    print(f"wrote {args.output}: sequence {catalog.sequence}, {len(catalog.models)} models "
          f"({len(report.models_updated)} updated, {len(report.models_added)} added), "
          f"{report.offers} OpenRouter offers, expires {catalog.expires_at}"
          + (f"; signed {_sig_path(args.output)}" if key is not None else ""))
    return 0


# ----------------------------------------------------------------------------------------------- sign

def _register_sign(actions) -> None:
    parser = actions.add_parser(
        "sign", help="sign a feed file with an Ed25519 key (maintainers)",
        description="Validate a feed file and write its detached base64 Ed25519 signature to FILE.sig.",
    )
    parser.add_argument("file", type=Path, help="the feed (catalog JSON) to sign")
    parser.add_argument("--key", type=Path, required=True, help="Ed25519 private key, PEM (PKCS#8)")
    parser.add_argument("-o", "--output", type=Path, default=None, help="signature file (default FILE.sig)")
    parser.set_defaults(func=run_sign)


def run_sign(args: argparse.Namespace) -> int:
    from rigcheck.catalog.cache import validate_catalog_bytes
    from rigcheck.catalog.records import CatalogError
    from rigcheck.cli import UsageError

    key = _load_key(args.key)
    from rigcheck.catalog.cache import MAX_CATALOG_BYTES
    from rigcheck.probe.files import FileReadError, read_capped

    try:
        data = read_capped(args.file, MAX_CATALOG_BYTES, "the feed")
    except FileNotFoundError:
        raise UsageError(f"cannot read {args.file}: no such file") from None
    except FileReadError as exc:
        raise UsageError(str(exc)) from None
    try:
        catalog = validate_catalog_bytes(data)
    except CatalogError as exc:
        raise UsageError(f"{args.file} is not a valid catalog, refusing to sign it: {exc}") from None
    out = args.output or _sig_path(args.file)
    try:
        _write(out, (signing.sign(data, key) + "\n").encode())
    except OSError as exc:
        print(f"rigcheck: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    key_id = signing.key_id_for(key)
    print(f"signed {args.file} (sequence {catalog.sequence}) -> {out}"
          + (f" with pinned key {key_id}" if key_id else ""))
    if key_id is None:
        print("rigcheck: warning: this key is not pinned in this rigcheck; it will refuse the feed "
              "unless --allow-unsigned is used", file=sys.stderr)
    return 0


def _load_key(path: Path):
    from rigcheck.cli import UsageError

    try:
        return signing.load_private_key(path)
    except signing.SigningKeyError as exc:
        raise UsageError(str(exc)) from None


def _sig_path(path: Path) -> Path:
    return path.with_name(path.name + ".sig")


def _write(path: Path, data: bytes) -> None:
    from rigcheck.catalog.cache import atomic_write

    atomic_write(path, data)
