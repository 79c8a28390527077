"""``rigcheck catalog ACTION``: the catalog's actions, each registered by its own small module.

Actions live in ``rigcheck.cli._catalog_<group>`` modules exposing
``register(actions) -> None`` (adding parsers to the ``catalog`` subparsers), so the engineers owning
``show``/``path`` and ``refresh``/``build``/``sign`` edit separate files. A group not built yet is skipped.
"""

from __future__ import annotations

import argparse
import importlib

ACTION_GROUPS = (
    "show",  # show, path (reading side)
    "feed",  # refresh, build, sign (network and signing side)
    "edit",  # add, remove (one repo in or out)
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "catalog", help="show, refresh, add to or build the catalog",
        description="The catalog of models, quants, devices and prices that rigcheck uses.",
    )
    actions = parser.add_subparsers(dest="catalog_action", metavar="ACTION", parser_class=type(parser))
    for group in ACTION_GROUPS:
        try:
            module = importlib.import_module(f"rigcheck.cli._catalog_{group}")
        except ModuleNotFoundError as exc:
            if exc.name == f"rigcheck.cli._catalog_{group}":
                continue  # not built yet
            raise
        module.register(actions)
    parser.set_defaults(func=lambda _args: _missing_action(actions))


def _missing_action(actions: argparse._SubParsersAction) -> int:
    from rigcheck.cli import UsageError

    raise UsageError(f"catalog needs an action: {', '.join(actions.choices)}")
