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
        description="List the devices rigcheck knows, or show the one QUERY names; a vendor (nvidia, amd, intel, "
                    "apple) or a kind (" + ", ".join(KIND_TEXT) + ") as QUERY lists those. An unknown or "
                    "ambiguous QUERY is refused with suggestions (exit code 2). The listing is sorted by kind ("
                    + ", ".join(KIND_TEXT.values()) + "), then vendor, then memory (the largest size a part is sold "
                    "with) and bandwidth, smallest first, so each kind reads from the entry part to the largest. "
                    "Memory of a unified-memory machine is the sizes it is sold with (or \"up to\" the largest); "
                    "FP16 TFLOPS is the dense tensor-core/matrix rate (\"tensor\") where a source states it, else the "
                    "shader rate (\"vector\"). --json keeps the same order.",
    )
    parser.add_argument("query", nargs="?", metavar="QUERY", help='a device name, e.g. "RTX 4090" or "M2 Ultra 76c"; '
                        "or a vendor or kind")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


KIND_TEXT = {"consumer": "desktop", "workstation": "workstation", "laptop": "laptop", "datacenter": "data centre",
             "apple": "Apple (unified)", "apu": "APU (unified)"}
"""How the listing names each device kind (the catalog's kinds, in ``catalog.devices.KIND_ORDER``)."""


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog import devices as device_table
    from rigcheck.catalog.store import EmbeddedCatalogError, load_catalog

    try:
        catalog = load_catalog()
    except EmbeddedCatalogError as exc:  # a broken installation: say so in one line, exit 1
        print(f"rigcheck: {exc}", file=sys.stderr)
        return 1
    rows = sorted(catalog.devices, key=device_table.listing_key)
    if args.query is not None:
        group = _group(args.query, rows)
        if group is not None:
            rows = group
        else:
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


def _group(query: str, devices: list[Device]) -> list[Device] | None:
    """The devices of the vendor or kind ``query`` names (``"apple"``, ``"datacenter"``, ``"data centre"``); None
    when it names neither."""
    word = query.strip().casefold()
    kinds = {kind for kind, text in KIND_TEXT.items() if word in (kind, text.casefold().split(" (")[0])}
    if word == "unified":
        return [d for d in devices if d.unified_memory] or None
    return [d for d in devices if d.vendor.casefold() == word or d.kind in kinds] or None


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
    header = ("device", "kind", "memory", "bandwidth", "FP16 TFLOPS", "launch price")
    table = [header] + [
        (d.name, KIND_TEXT.get(d.kind, d.kind), format_memory(d), units.bandwidth_text(d.bandwidth_bytes_per_s),
         units.fp16_tflops_text(d.fp16_tensor_tflops, d.fp16_vector_tflops), units.usd_text(d.launch_price_usd))
        for d in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    left = {0, 1}
    for n, row in enumerate(table):
        cells = [cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"{len(rows)} device{'s' if len(rows) != 1 else ''}, by kind, vendor, then memory and bandwidth. FP16 "
          "TFLOPS: \"tensor\" is the dense tensor-core/matrix rate; \"vector\" the shader rate, shown where no "
          "source states a matrix rate (prefill on such a part is estimated from it); — where no source states "
          "either. Memory of a unified-memory machine: the sizes it is sold with, or up to the largest.")


def format_memory(device: Device) -> str:
    return units.device_memory_text(device.memory_bytes, device.memory_options_bytes, device.unified_memory)
