"""The command line: ``rigcheck`` (the GUI) and its subcommands.

Each subcommand lives in ``rigcheck.cli.<name>`` and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` to a callable
``(args) -> int``. Exit codes: 0 ok, 2 bad arguments or input (one clear line on stderr), 1 anything else.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

from rigcheck import __version__
from rigcheck.cli import UsageError

COMMANDS = (
    "gui",
    "probe",
    "devices",
    "fit",
    "validate",
    "installed",
    "measured",
    "bench",
    "plan",
    "serve",
    "hosted",
    "cost",
    "catalog",
    "report",
)


if TYPE_CHECKING:
    import argparse


def _parser_class() -> type[argparse.ArgumentParser]:
    """argparse is imported when a parser is built: plain `rigcheck` (the GUI's start-up) builds none."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # argparse's own errors: one line, exit 2
            self.exit(2, f"{self.prog}: error: {message}\n")

    return _Parser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with just ``only`` (start-up of the GUI and of one command
    then imports one command module instead of all of them)."""
    parser_class = _parser_class()
    parser = parser_class(
        prog="rigcheck",
        description="Which open-weight LLMs can this machine run, how fast, and what would hosting cost?",
    )
    parser.add_argument("--version", action="version", version=f"rigcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    for name in (only,) if only else COMMANDS:
        try:
            module = importlib.import_module(f"rigcheck.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"rigcheck.cli.{name}":
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str]) -> int:
    if not argv:  # plain `rigcheck`: the GUI, without building a parser first (this is the start-up path)
        import gc

        # No cyclic collection while start-up allocates its long-lived modules, classes and Qt enums:
        # open_window freezes what start-up made and turns collection back on once the window is up.
        gc.disable()
        from rigcheck.desktop.display import settle_platform

        why = settle_platform()
        if why is not None:  # Qt would abort (exit 134) with a message only Qt developers read
            print(f"rigcheck: cannot open the window: {why}", file=sys.stderr)
            return 1
        from rigcheck.desktop.helper_process import start_helper

        helper = start_helper()  # first thing: it works on another core while this process loads Qt
        from rigcheck.desktop.app import run_gui

        try:
            return run_gui(helper=helper)
        except KeyboardInterrupt:
            return 130
    if argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["gui", *argv]  # no command: the GUI, with any options given
    from rigcheck.cli._output import SafeStream

    # Everything a command (or argparse) writes goes through SafeStream: control characters from feeds and
    # profiles are shown escaped, credentials in URLs redacted.
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        return _run(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _run(argv: list[str]) -> int:
    parser = build_parser(only=argv[0] if argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, not at exit: a full disk or a closed pipe must be reported, not ignored
        return code
    except UsageError as exc:
        print(f"rigcheck: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        return _output_failed(exc)


def _output_failed(exc: OSError) -> int:
    """One line for an error writing the output (a closed pipe, a full disk), or any other OS error; exit 1.

    Standard output is pointed at /dev/null afterwards, so the interpreter's own flush at exit does not
    fail a second time and print a traceback of its own.
    """
    import errno
    import os

    output_errors = {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
    if exc.filename is None and exc.errno in output_errors:
        why = "the reader closed the pipe" if exc.errno == errno.EPIPE else (exc.strerror or str(exc)).lower()
        message = f"cannot write the output: {why}"
    else:
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{where}{(exc.strerror or str(exc) or type(exc).__name__).lower()}"
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing to redirect
        pass
    try:
        print(f"rigcheck: error: {message}", file=sys.stderr)
    except OSError:
        pass
    return 1
