"""``rigcheck catalog add ORG/REPO`` and ``rigcheck catalog remove ORG/REPO``: one Hugging Face repo in or out.

``add`` fetches the repo (architecture, files, quantized versions, hosted offers) and keeps it in every later
refresh; a gated repo says how to get access and exits 1, a malformed id exits 2; nothing changes then.
``remove`` takes out a model that ``add`` put in (exit 2 for any other).
"""

from __future__ import annotations

import argparse
import sys


def register(actions) -> None:
    add = actions.add_parser(
        "add", help="add a Hugging Face repo (and its quantized versions) to the catalog",
        description="Fetch one Hugging Face model repo — its architecture, files and quantized versions, and its "
                    "hosted offers on OpenRouter — and keep it in the catalog from now on. A gated repo needs "
                    "HF_TOKEN (or `hf auth login`).",
    )
    add.add_argument("repo", help="ORG/REPO or https://huggingface.co/ORG/REPO")
    add.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    add.set_defaults(func=run_add)
    remove = actions.add_parser(
        "remove", help="take out a repo added with `catalog add`",
        description="Take a model added with `rigcheck catalog add` out of the catalog and of later refreshes.",
    )
    remove.add_argument("repo", help="ORG/REPO as it was added")
    remove.add_argument("--json", action="store_true", help="print the outcome as JSON")
    remove.set_defaults(func=run_remove)


def run_add(args: argparse.Namespace) -> int:
    from rigcheck.catalog import live
    from rigcheck.catalog.net import RefreshError
    from rigcheck.catalog.sources.huggingface import InvalidRepoId
    from rigcheck.cli import UsageError
    from rigcheck.cli._catalog_feed import print_result, progress_line

    progress = progress_line(args)
    try:
        result = live.add_model(args.repo, progress=progress)
    except InvalidRepoId as exc:
        raise UsageError(str(exc)) from None
    except RefreshError as exc:
        if progress:
            progress.clear()
        print(f"rigcheck: catalog add failed: {exc}; the catalog is unchanged", file=sys.stderr)
        return 1
    if progress:
        progress.clear()
    return print_result(args, result)


def run_remove(args: argparse.Namespace) -> int:
    from rigcheck.catalog import live
    from rigcheck.catalog.net import RefreshError
    from rigcheck.catalog.sources.huggingface import InvalidRepoId
    from rigcheck.cli import UsageError
    from rigcheck.cli._catalog_feed import print_result

    try:
        result = live.remove_model(args.repo)
    except (InvalidRepoId, live.UnknownAddedModel) as exc:
        raise UsageError(str(exc)) from None
    except RefreshError as exc:
        print(f"rigcheck: catalog remove failed: {exc}; the catalog is unchanged", file=sys.stderr)
        return 1
    return print_result(args, result)
