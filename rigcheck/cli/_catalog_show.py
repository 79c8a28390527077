"""``rigcheck catalog show [--json]`` and ``rigcheck catalog path [--json]``: the catalog in use and where it lives."""

from __future__ import annotations

import argparse
import sys

from rigcheck import units
from rigcheck.cli._output import json_text


def register(actions) -> None:
    show = actions.add_parser(
        "show", help="version, sequence, age, source and record counts of the catalog in use",
        description="Show the catalog in use: where it came from, its version, sequence, age and record counts.",
    )
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run_show)
    path = actions.add_parser(
        "path", help="where the refreshed catalog is kept",
        description="Print the file `catalog refresh` writes (folder overridable with RIGCHECK_CACHE_DIR).",
    )
    path.add_argument("--json", action="store_true", help="print the cache, embedded and in-use paths as JSON")
    path.set_defaults(func=run_path)


def run_show(args: argparse.Namespace) -> int:
    from rigcheck.catalog.store import EmbeddedCatalogError, catalog_status

    try:
        status = catalog_status()
    except EmbeddedCatalogError as exc:  # a broken installation: say so in one line, exit 1
        print(f"rigcheck: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json_text(status.to_dict(), indent=2))
        return 0
    source = "embedded (shipped with rigcheck)" if status.is_embedded else (status.description or status.source)
    rows = [
        ("source", source),
        ("file", status.path),
        ("schema", status.schema_version),
        ("sequence", str(status.sequence)),
        ("generated", f"{status.generated_at} ({units.age_seconds_text(status.age_s)})"),
    ]
    if status.fetched_at:
        rows.append(("fetched", status.fetched_at))
    if status.expires_at:
        rows.append(("expires", status.expires_at))
    counts = status.counts
    rows += [
        ("models", f"{counts['models']} ({counts['quants']} quants)"),
        ("devices", str(counts["devices"])),
        ("hosted offers", str(counts["hosted"])),
        ("GPU rentals", str(counts["rentals"])),
        ("scores", str(counts["scores"])),
        ("closed models", str(counts["closed_models"])),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    for warning in status.warnings:
        print(f"warning: {warning}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    from rigcheck.catalog.store import cached_catalog_path, catalog_status, embedded_catalog_path

    cache = cached_catalog_path()
    if args.json:
        print(json_text({
            "cache": str(cache),
            "cache_exists": cache.is_file(),
            "embedded": str(embedded_catalog_path()),
            "in_use": catalog_status().path,
        }, indent=2))
        return 0
    print(cache)
    return 0
