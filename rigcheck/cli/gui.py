"""``rigcheck gui``: open the desktop app, or render it to a PNG (``--screenshot``) and exit."""

from __future__ import annotations

import argparse
import sys

from rigcheck.cli import UsageError
from rigcheck.cli._args import shown
from rigcheck.cli._machine import add_machine_args, machines_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "gui",
        help="open the desktop app (the default command)",
        description="Open the desktop app. With --screenshot, render the fully populated window to a PNG and exit.",
    )
    add_machine_args(parser)
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window to this PNG file and exit")
    parser.add_argument("--select", metavar="MODEL",
                        help="open the detail pane of this model (id or part of it)")
    parser.add_argument("--quant", metavar="Q", help="with --select: show this quant in the detail pane")
    parser.add_argument("--tab", metavar="NAME", help='with --select: show this detail tab (e.g. "Run it")')
    parser.add_argument("--size", metavar="WxH", type=_size, default=(1600, 1000),
                        help="window size of the screenshot in pixels (default 1600x1000)")
    parser.set_defaults(func=run)


def _size(text: str) -> tuple[int, int]:
    """"1366x768" -> (1366, 768)."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or len(width) > 5 or len(height) > 5 \
            or not (320 <= int(width) <= 8192) or not (240 <= int(height) <= 8192):
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a window size such as 1366x768")
    return int(width), int(height)


def run(args: argparse.Namespace) -> int:
    from rigcheck.desktop.app import run_gui

    if args.screenshot and not args.screenshot.lower().endswith(".png"):
        raise UsageError(f"--screenshot must name a .png file, not {args.screenshot!r}")
    for flag, value in (("--quant", args.quant), ("--tab", args.tab)):
        if value and not args.select:
            raise UsageError(f"{flag} goes with --select (the model whose detail pane to show)")
    select = args.select
    if select and not args.screenshot:
        # The window opens on this model once its own evaluation is in: the name is checked before it opens.
        from rigcheck.catalog.store import load_catalog
        from rigcheck.cli._pricing import find_model

        select = find_model(load_catalog(), select).id
    if not args.screenshot:
        from rigcheck.desktop.display import settle_platform

        why = settle_platform()
        if why is not None:  # Qt would abort (exit 134) with a message only Qt developers read
            print(f"rigcheck: cannot open the window: {why}", file=sys.stderr)
            return 1
    machine = None
    if args.machine or args.gpu or args.ram:
        from rigcheck.catalog.store import load_catalog

        machine = machines_from_args(args, load_catalog())[0]
    from rigcheck.report.files import ExportError, ExportTargetError

    try:
        return run_gui(machine, screenshot=args.screenshot, select=select, tab=args.tab, quant=args.quant,
                       size=args.size)
    except ExportTargetError as exc:  # a folder that does not exist, a device: bad input, as for `report -o`
        raise UsageError(str(exc)) from None
    except ExportError as exc:  # the write failed (no permission, a full disk): exit 1 with the reason, as report's
        print(f"rigcheck: error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # --select naming no model, --tab naming no tab
        if args.screenshot:
            raise UsageError(str(exc)) from None
        raise
    except RuntimeError as exc:  # the window could not be populated (estimator or catalog failure)
        if not args.screenshot:
            raise
        print(f"rigcheck: error: {exc}", file=sys.stderr)
        return 1
