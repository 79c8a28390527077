"""`rigcheck fit`: which catalog models fit a machine, the pick of each, and how fast they would run.

Without flags the listing is one line per model, its pick (``rigcheck.estimate.rules``), usable models first
and the most capable first among them; ``--all`` lists every model x quant. ``--json`` keeps every row unless
``--best``, ``--usable``, ``--sort`` or ``--limit`` ask for the picks (and ``--all`` keeps every row with them);
the document says which in ``settings.rows`` (``rows_scope``). The listings are in ``_fit_listing``. Imports stay
lazy (no Qt, no numpy):
``rigcheck fit --json`` over the whole catalog answers in well under a second.
"""

from __future__ import annotations

import argparse
import sys

from rigcheck.cli import UsageError
from rigcheck.cli._args import positive_number, token_count
from rigcheck.cli._fit_json import FIT_SCHEMA
from rigcheck.cli._fit_listing import ModelFacts, every_row_listing, picks_listing, picks_table, table
from rigcheck.cli._machine import add_machine_args, machine_from_args

KV_TYPES = ("f16", "q8_0", "q4_0")
RUNTIMES = ("llama.cpp", "vllm", "mlx")
SORT_KEYS = ("capability", "decode", "prefill", "ttft", "size", "name")


def register(subparsers: argparse._SubParsersAction) -> None:
    from rigcheck.estimate import rules

    parser = subparsers.add_parser(
        "fit",
        help="which models fit this (or another) machine, the pick of each, and how fast they run",
        description="Estimate, for every model x quant of the catalog (or the models named), whether it fits "
        "the machine, where it is placed, and its prefill and decode speed and time to first token. The listing "
        "shows one line per model: its pick (the quant to run here; the rule is in `rigcheck.estimate.rules`), "
        "usable models first (one usable only below 3 bits after the rest), the most capable first among them. "
        "--all lists every quant, the pick marked *.",
    )
    add_machine_args(parser)
    parser.add_argument("--model", metavar="ID", action="append", default=[],
                        help="a catalog model id or an unambiguous part of one; hf:ORG/REPO fetches one "
                             "from Hugging Face (repeatable)")
    parser.add_argument("--quant", metavar="Q", help="only this quant (Q4_K_M, Q8_0, BF16, FP8, MLX-4bit, ...)")
    parser.add_argument("--context", metavar="N", type=token_count, default=8192,
                        help="context to reserve KV cache for, in tokens (default 8192; capped at the model's)")
    parser.add_argument("--prompt", metavar="N", type=token_count, default=4096,
                        help="prompt length for prefill and time to first token (default 4096)")
    parser.add_argument("--kv-type", metavar="T", choices=KV_TYPES, default="f16",
                        help="KV cache type: f16, q8_0 or q4_0 (default f16)")
    parser.add_argument("--runtime", metavar="R", choices=RUNTIMES,
                        help="only this runtime: llama.cpp, vllm or mlx")
    parser.add_argument("--now", action="store_true",
                        help="size against the memory free now rather than the total")
    parser.add_argument("--installed", action="store_true",
                        help="estimate exactly the models installed on this machine (see `rigcheck installed`), "
                             "each at its real file size (every installed file is listed)")
    parser.add_argument("--path", metavar="DIR", action="append", default=[],
                        help="with --installed: also look in this folder; repeatable")
    parser.add_argument("--no-measured", action="store_true",
                        help="leave out your own measurements of this machine (`rigcheck measured`): no "
                             "correction, no measured figures")
    group = parser.add_argument_group("what to list")
    group.add_argument("--best", action="store_true", help="one line (or JSON result) per model: its pick (the "
                       "default listing; with --json it replaces every row by one per model)")
    group.add_argument("--all", action="store_true", help="every model x quant, the pick of each model marked *")
    group.add_argument("--usable", action="store_true", help="only models with a usable pick")
    group.add_argument("--sort", metavar="KEY", choices=SORT_KEYS,
                       help=f"order: {'|'.join(SORT_KEYS)} (default capability: usable first, a heavy-loss pick "
                            "after the rest, then by capability)")
    group.add_argument("--limit", metavar="N", type=positive_number(int), help="at most N models")
    group.add_argument("--min-decode", metavar="R", type=positive_number(float),
                       default=rules.DEFAULT_MIN_DECODE_TOKENS_PER_S,
                       help="usable: decode at least R tokens/s (default %(default)g)")
    group.add_argument("--max-ttft", metavar="S", type=positive_number(float), default=rules.DEFAULT_MAX_TTFT_S,
                       help="usable: first token within S seconds at --prompt (default %(default)g)")
    group.add_argument("--input-per-output", metavar="R", type=positive_number(float, zero=True),
                       default=rules.DEFAULT_INPUT_PER_OUTPUT,
                       help="input tokens per output token of the blended hosted price (default %(default)g: "
                            "(3 x input + output) / 4)")
    parser.add_argument("--json", action="store_true", help=f'print one JSON object (schema "{FIT_SCHEMA}")')
    parser.set_defaults(func=run)


def _models(args: argparse.Namespace, catalog) -> list | None:
    if not args.model:
        return None
    from rigcheck.catalog.lookup import ModelLookupError, find_model

    models = []
    for query in args.model:
        if query.lower().startswith("hf:"):
            models.append(_fetch(query))
            continue
        try:
            models.append(find_model(catalog, query))
        except ModelLookupError as exc:
            raise UsageError(str(exc)) from None
    return models


def _fetch(query: str):
    try:
        from rigcheck.catalog.sources.huggingface import fetch_model
    except ImportError:
        raise UsageError("fetching models from Hugging Face is not available in this build") from None
    try:
        return fetch_model(query)
    except ValueError as exc:  # InvalidRepoId, RefreshError subclasses
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot fetch {query}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog.records import gc_paused

    # A 10,000-model catalog is a million records, and estimating it makes a million rows, bands and breakdowns,
    # none in a reference cycle: a cyclic collection over them (40 ms each, the first as soon as the catalog is
    # loaded) frees nothing. What the command makes is let go of by reference counting; nothing it makes needs a
    # collection before it ends.
    with gc_paused(freeze=True):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.picks import evaluate_picks
    from rigcheck.estimate.rules import Thresholds
    from rigcheck.estimate.types import Settings

    if args.all and args.best:
        raise UsageError("--all lists every quant and --best one pick per model: choose one")
    catalog = load_catalog()
    machine = machine_from_args(args, catalog)
    models = _models(args, catalog)
    settings = Settings(
        context_tokens=args.context,
        prompt_tokens=args.prompt,
        kv_cache_type=args.kv_type,
        runtime=args.runtime,
        memory_basis="free" if args.now else "total",
        quant=args.quant,
        usable=Thresholds(args.min_decode, args.max_ttft),
        input_per_output=args.input_per_output,
    )
    if args.quant and not any(q.name.casefold() == args.quant.casefold()
                              for m in (models or catalog.models) for q in m.quants):
        known = sorted({q.name for m in (models or catalog.models) for q in m.quants})
        raise UsageError(f"no model has quant {args.quant!r}; known quants: {', '.join(known)}")
    if args.path and not args.installed:
        raise UsageError("--path goes with --installed")
    one_per_model = rows_scope(args) == "picks"
    skipped: list = []
    inputs = None
    measured = None if args.no_measured else _measured(machine, catalog)
    corrected = measured is not None and measured.active
    facts = ModelFacts(catalog, models, settings.input_per_output)
    if args.json and _chunked(args, models, corrected, one_per_model):
        # Estimated and written a chunk of models at a time, the chunks shared with forked workers.
        from rigcheck.cli._fit_json import write_catalog_document
        from rigcheck.cli._fit_listing import sort_key

        named = frozenset(m.id for m in models or ())
        write_catalog_document(
            machine, catalog, settings, list(catalog.models if models is None else models), facts,
            _catalog_launcher(catalog, settings), rows="picks" if one_per_model else "all",
            picks=(lambda rows: picks_listing(rows, facts, usable_only=args.usable, sort=args.sort or "capability",
                                              limit=None, named=named, machine=machine).rows)
            if one_per_model else None,
            sort_key=sort_key(args.sort or "capability", facts), limit=args.limit)
        return 0
    if args.installed:
        results, skipped, inputs = _installed_results(args, machine, catalog, settings, models)
        launch = _installed_launcher(inputs, settings)
    else:
        # The picks alone need far fewer rows estimated (estimate/picks.py); corrected speeds can move a pick
        # to any row, so then every row is.
        results = (evaluate if corrected or not one_per_model else evaluate_picks)(
            machine, catalog, settings, models=models)
        launch = _catalog_launcher(catalog, settings)
    if corrected:
        # Corrected speeds can change what is usable and which quant is the pick: the rules mark them again.
        from rigcheck.estimate.engine import mark_best

        results = mark_best(measured.apply(results), settings.usable)
    listing = None
    if one_per_model:
        listing = picks_listing(results, facts, usable_only=args.usable, sort=args.sort or "capability",
                                limit=args.limit, named=frozenset(m.id for m in models or ()), machine=machine,
                                looked_at=() if args.installed else (models or catalog.models))
        results = listing.rows
    elif args.sort or args.limit or args.usable:
        results = every_row_listing(results, facts, sort=args.sort or "capability", limit=args.limit,
                                    usable_only=args.usable)
    if args.json:
        from rigcheck.cli._fit_json import write_rows_document

        write_rows_document(machine, catalog, settings, results, facts, launch, skipped, measured,
                            rows="picks" if one_per_model else "all")
    elif args.installed and not results and not skipped:
        sys.stdout.write("no installed model found in Ollama's, LM Studio's, the Hugging Face cache's or "
                         "llama.cpp's folders; add a folder with --path DIR (`rigcheck installed` lists them)\n")
    elif listing is not None:
        sys.stdout.write(picks_table(machine, listing, settings, facts, usable_only=args.usable,
                                     measured_runs=len(measured.checks) if corrected else None))
    else:
        sys.stdout.write(table(machine, results, settings, len(measured.checks) if corrected else None))
        for s in skipped:
            sys.stdout.write(f"not estimated: {s['name']} ({s['path']}): {s['reason']}\n")
    del results
    return 0


def rows_scope(args: argparse.Namespace) -> str:
    """Which rows a listing holds: "all" (every model x quant) or "picks" (one row per model, its pick).

    --all gives every row and --best one per model, always. Otherwise the text listing is the picks; --json is every
    row (the contract scripts rely on) unless a flag defined over the picks is given (--usable, --sort, --limit),
    and --installed every installed file unless --usable. The JSON document says which (``settings.rows``).
    """
    if args.all:
        return "all"
    if args.best:
        return "picks"
    if args.installed:
        return "picks" if args.usable else "all"
    if args.json:
        return "picks" if args.usable or args.sort is not None or args.limit is not None else "all"
    return "picks"


def _chunked(args: argparse.Namespace, models: list | None, corrected: bool, one_per_model: bool) -> bool:
    """Whether ``fit --json`` can estimate and write the catalog's models a chunk at a time (``_fit_json``): the
    listing of each model is its own (not installed files, no correction from measured runs, no model named twice),
    and every row is written in the catalog's order unless the listing is the picks."""
    if args.installed or corrected:
        return False
    if models is not None and len({m.id for m in models}) != len(models):
        return False
    return one_per_model or not (args.sort or args.limit or args.usable)


def _measured(machine, catalog):
    """The user's runs on this machine (None for a what-if machine); a damaged store is said, not fatal."""
    if machine.is_hypothetical:
        return None
    from rigcheck.estimate.calibration.correction import Measured
    from rigcheck.estimate.calibration.user_runs import StoreError

    try:
        return Measured(machine, catalog)
    except StoreError as exc:
        print(f"rigcheck: your measurements are not used: {exc}", file=sys.stderr)
        return None


def _installed_results(args, machine, catalog, settings, models):
    from rigcheck.cli.installed import scan_installed
    from rigcheck.estimate.installed_rows import evaluate_installed

    installed = scan_installed(args.path, catalog)
    if models is not None:
        wanted = {m.id for m in models}
        installed = [m for m in installed if m.model_id in wanted]
    if args.quant:
        installed = [m for m in installed if (m.quant or "").casefold() == args.quant.casefold()]
    return evaluate_installed(machine, catalog, settings, installed)


def _installed_launcher(inputs, settings):
    from rigcheck.estimate.installed_rows import launch_for_row

    return lambda row: launch_for_row(row, inputs, settings)


def _catalog_launcher(catalog, settings):
    """Launch commands for catalog rows: each model's quant records looked up once, when a row of it comes."""
    from rigcheck.estimate.launch import launch_commands

    models = {}
    for m in catalog.models:
        models.setdefault(m.id, m)
    quants: dict[str, dict] = {}

    def launch(row):
        of_model = quants.get(row.model_id)
        if of_model is None:
            model = models.get(row.model_id)
            of_model = quants[row.model_id] = {}
            for q in model.quants if model is not None else ():
                of_model.setdefault(q.name, (model, q))
        pair = of_model.get(row.quant)
        return launch_commands(row, *pair, kv_cache_type=settings.kv_cache_type) if pair else []

    return launch
