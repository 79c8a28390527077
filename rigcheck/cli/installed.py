"""``rigcheck installed [--path DIR]... [--json]``: the models already on this machine, and what they are."""

from __future__ import annotations

import argparse
import sys

from rigcheck import units
from rigcheck.cli._output import json_text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "installed", help="models already on this machine (Ollama, LM Studio, Hugging Face, llama.cpp)",
        description="List the models in Ollama's, LM Studio's, the Hugging Face cache's and llama.cpp's "
                    "folders (and in the folders given with --path or added in the app's Settings), each "
                    "matched to a catalog model and quant from its header, or described from the header when "
                    "the catalog does not have it. Broken or incomplete files are listed with the problem.",
    )
    parser.add_argument("--path", metavar="DIR", action="append", default=[],
                        help="also look in this folder (or at this .gguf file); repeatable")
    parser.add_argument("--json", action="store_true",
                        help='print one JSON object (schema "rigcheck.installed/1")')
    parser.set_defaults(func=run)


def user_folders(extra: list[str]) -> list[str]:
    """The folders to scan besides the tools' own: the app's Settings, then ``--path``."""
    from rigcheck.catalog.installed.settings import saved_folders

    return [*saved_folders(), *extra]


def scan_installed(extra: list[str], catalog):
    """Scan this machine's folders (and ``extra``) with the header cache; ``UsageError`` for a --path that
    does not exist."""
    from pathlib import Path

    from rigcheck.catalog.installed.scan import default_cache, scan
    from rigcheck.cli import UsageError

    for p in extra:
        if not Path(p).expanduser().exists():
            raise UsageError(f"--path {p}: no such file or folder")
    return scan(catalog, folders=user_folders(extra), cache=default_cache())


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog.installed.matching import INSTALLED_SCHEMA
    from rigcheck.catalog.store import load_catalog

    catalog = load_catalog()
    models = scan_installed(args.path, catalog)
    if args.json:
        sys.stdout.write(json_text({"schema": INSTALLED_SCHEMA, "models": [m.to_dict() for m in models]},
                                    indent=1) + "\n")
        return 0
    sys.stdout.write(table(models))
    return 0


def table(models) -> str:
    if not models:
        return ("no models found in Ollama's, LM Studio's, the Hugging Face cache's or llama.cpp's folders; "
                "add one with --path DIR\n")
    header = ("SOURCE", "NAME", "CATALOG MODEL", "QUANT", "SIZE", "ARCH")
    rows = [(m.source, m.name, m.model_id or "(not in catalog)", m.quant or "-",
             units.bytes_text(m.size_bytes) if m.size_bytes else "-", m.architecture or "-") for m in models]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    problems = [m for m in models if m.problem]
    for m in problems:
        lines.append(f"problem: {m.name} ({m.path}): {m.problem}")
    usable = len(models) - len(problems)
    lines.append(f"{usable} of {len(models)} models readable; `rigcheck fit --installed` estimates them at their "
                 "real sizes")
    return "\n".join(lines) + "\n"
