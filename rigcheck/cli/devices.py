"""``rigcheck devices [QUERY] [--json]``: the device spec table, whose names ``--gpu`` accepts."""

from __future__ import annotations

import argparse
import re
import sys

import msgspec

from rigcheck import units
from rigcheck.catalog.records import Device
from rigcheck.cli import UsageError
from rigcheck.cli._output import json_text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "devices", help="the GPU and accelerator spec table (names usable with --gpu)",
        description="List the devices rigcheck knows, or show the one QUERY names. An unknown or ambiguous "
                    "QUERY is refused with suggestions (exit code 2).",
    )
    parser.add_argument("query", nargs="?", metavar="QUERY", help='a device name, e.g. "RTX 4090" or "M2 Ultra 76c"')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog import devices as device_table
    from rigcheck.catalog.store import EmbeddedCatalogError, load_catalog

    try:
        catalog = load_catalog()
    except EmbeddedCatalogError as exc:  # a broken installation: say so in one line, exit 1
        print(f"rigcheck: {exc}", file=sys.stderr)
        return 1
    rows = catalog.devices
    if args.query is not None:
        device = device_table.resolve(args.query, devices=catalog.devices)
        if device is None:
            raise UsageError(_refusal(args.query, catalog.devices))
        rows = [device]
    if args.json:
        print(json_text({
            "schema": "rigcheck.devices/1",
            "query": args.query,
            "devices": msgspec.to_builtins(rows),
        }, indent=2))
        return 0
    print_table(rows)
    return 0


def _refusal(query: str, devices: list[Device]) -> str:
    """One line: which devices the query could mean, or the nearest names."""
    from rigcheck.catalog import devices as device_table

    words = [w for w in re.split(r"[^a-z0-9]+", query.lower()) if w]
    matches = [d for d in devices
               if words and all(any(w in label.lower() for label in (d.name, *d.aliases, d.vendor)) for w in words)]
    if matches:
        names = ", ".join(d.name for d in matches[:12])
        more = f" and {len(matches) - 12} more" if len(matches) > 12 else ""
        return f"{query!r} matches {len(matches)} devices; say which: {names}{more}"
    try:
        device_table.lookup(query, devices)
    except device_table.DeviceLookupError as exc:
        return str(exc)
    return f"{query!r} names no single device"  # lookup found one, resolve did not: cannot happen


def print_table(rows: list[Device]) -> None:
    header = ("device", "memory", "bandwidth", "FP16 tensor", "launch price")
    table = [header] + [
        (d.name, format_memory(d), units.bandwidth_text(d.bandwidth_bytes_per_s), units.tflops_text(d.fp16_tensor_tflops),
         units.usd_text(d.launch_price_usd))
        for d in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(widths[i]) for i, cell in enumerate(row) if i]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"{len(rows)} device{'s' if len(rows) != 1 else ''}; FP16 tensor is dense tensor-core/matrix throughput "
          "(— where no source states it)")


def format_memory(device: Device) -> str:
    if device.memory_options_bytes:
        sizes = "/".join(f"{b / units.GIB:g}" for b in sorted(device.memory_options_bytes))
        return f"{sizes} GiB"
    if device.memory_bytes is None:
        return "—"
    prefix = "up to " if device.unified_memory else ""
    return f"{prefix}{device.memory_bytes / units.GIB:g} GiB"


