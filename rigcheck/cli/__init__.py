"""The command line: ``main.py`` is the entry and parser; one module per subcommand, each exposing
``register(subparsers)``; modules starting with ``_`` are helpers the subcommands share.

This package's own namespace holds only ``UsageError`` (no imports), so the GUI's start-up path, which goes
through ``rigcheck.cli.main``, loads nothing it does not need.
"""


class UsageError(Exception):
    """Bad arguments or input: printed as one line on stderr, exit code 2."""
