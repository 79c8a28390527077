"""`rigcheck fit`: which catalog models fit a machine, the pick of each, and how fast they would run.

Without flags the listing is one line per model, its pick (``rigcheck.estimate.rules``), usable models first
and the most capable first among them; ``--all`` lists every model x quant. ``--json`` keeps every row unless
``--best``, ``--usable``, ``--sort`` or ``--limit`` ask for the picks. Imports stay lazy (no Qt, no numpy):
``rigcheck fit --json`` over the whole catalog answers in well under a second.
"""

from __future__ import annotations

import argparse
import sys

from rigcheck import units
from rigcheck.cli import UsageError
from rigcheck.cli._args import positive_number, token_count
from rigcheck.cli._fit_json import FIT_SCHEMA
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
        "usable models first, the most capable first among them. --all lists every quant, the pick marked *.",
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
                       help=f"order: {'|'.join(SORT_KEYS)} (default capability: usable first, then by capability)")
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
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.picks import evaluate_picks
    from rigcheck.estimate.rules import Thresholds
    from rigcheck.estimate.types import Settings

    if args.all and (args.best or args.usable):
        raise UsageError("--all lists every quant; --best and --usable list one pick per model: choose one")
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
    # A 10,000-model catalog makes a million rows, bands and breakdowns and no reference cycle: a cyclic collection
    # over them (each costs a third of a second, and they come while they pile up) frees nothing. They are let go
    # of by reference counting before collection resumes.
    listed_all = args.all or (args.installed and not (args.best or args.usable))
    one_per_model = not listed_all and (args.best or args.usable or not args.json or args.sort is not None
                                        or args.limit is not None)
    with gc_paused():
        skipped: list = []
        inputs = None
        measured = None if args.no_measured else _measured(machine, catalog)
        corrected = measured is not None and measured.active
        facts = ModelFacts(catalog, models, settings.input_per_output)
        if args.json and not args.installed and not corrected and (one_per_model or not (args.sort or args.limit)):
            # Estimated and written a chunk of models at a time, the chunks shared with forked workers.
            from rigcheck.cli._fit_json import write_catalog_document

            write_catalog_document(
                machine, catalog, settings, list(catalog.models if models is None else models), facts,
                _catalog_launcher(catalog, settings), picks=_kept(args.usable) if one_per_model else None,
                sort_key=_sort_key(args.sort or "capability", facts), limit=args.limit)
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
        if one_per_model:
            results = picks_listing(results, facts, usable_only=args.usable, sort=args.sort or "capability",
                                    limit=args.limit)
        elif args.sort or args.limit:
            results = every_row_listing(results, facts, sort=args.sort or "capability", limit=args.limit)
        if args.json:
            from rigcheck.cli._fit_json import write_rows_document

            write_rows_document(machine, catalog, settings, results, facts, launch, skipped, measured)
        elif args.installed and not results and not skipped:
            sys.stdout.write("no installed model found in Ollama's, LM Studio's, the Hugging Face cache's or "
                             "llama.cpp's folders; add a folder with --path DIR (`rigcheck installed` lists them)\n")
        elif one_per_model:
            sys.stdout.write(picks_table(machine, results, settings, facts))
        else:
            sys.stdout.write(table(machine, results, settings))
            for s in skipped:
                sys.stdout.write(f"not estimated: {s['name']} ({s['path']}): {s['reason']}\n")
        del results
    return 0


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


class ModelFacts:
    """What the listing shows beside each estimate, from the catalog: name, size, capability, cheapest offer."""

    def __init__(self, catalog, models, input_per_output: float):
        from rigcheck.estimate import rules

        self.models = {m.id: m for m in (*catalog.models, *(models or ()))}
        self.capability = rules.capabilities(catalog.scores)
        offers: dict[str, list] = {}
        for o in catalog.hosted:
            offers.setdefault(o.model_id, []).append(o)
        self.input_per_output = input_per_output
        self.cheapest = {mid: rules.cheapest_hosted(os, input_per_output) for mid, os in offers.items()}
        self._cheapest_dicts: dict[str, dict[str, object] | None] = {}

    def capability_value(self, model_id: str) -> float | None:
        cap = self.capability.get(model_id)
        return cap.value if cap else None

    def params_b(self, model_id: str) -> float | None:
        model = self.models.get(model_id)
        return model.params_total_b if model else None

    def cheapest_hosted(self, model_id: str) -> dict[str, object] | None:
        """The cheapest offer as the JSON shows it (one dict per model, shared by its rows: do not change it)."""
        from rigcheck.estimate.rules import offer_blended_usd_per_m

        try:
            return self._cheapest_dicts[model_id]
        except KeyError:
            pass
        offer = self.cheapest.get(model_id)
        shown = None if offer is None else {
            "provider": offer.provider, "usd_per_m_input": offer.usd_per_m_input,
            "usd_per_m_output": offer.usd_per_m_output,
            "usd_per_m_blended": round(offer_blended_usd_per_m(offer, self.input_per_output), 6)}
        self._cheapest_dicts[model_id] = shown
        return shown


def _sort_key(sort: str, facts: ModelFacts):
    from rigcheck.estimate.rules import rank_key

    def expected(band, missing: float) -> float:
        return band.expected if band is not None else missing

    keys = {
        "capability": lambda r: rank_key(r.usable, facts.capability_value(r.model_id), facts.params_b(r.model_id)),
        "decode": lambda r: -expected(r.decode_tokens_per_s, -1.0),
        "prefill": lambda r: -expected(r.prefill_tokens_per_s, -1.0),
        "ttft": lambda r: expected(r.ttft_s, float("inf")),
        "size": lambda r: -(facts.params_b(r.model_id) or 0.0),
        "name": lambda r: r.model_id.casefold(),
    }
    return lambda r: (keys[sort](r), r.model_id)


def picks_listing(results, facts: ModelFacts, *, usable_only: bool, sort: str, limit: int | None) -> list:
    """One row per model (its pick, else the row that speaks for it), filtered, sorted and cut."""
    rows = list(filter(_kept(usable_only), results))
    rows.sort(key=_sort_key(sort, facts))
    return rows[:limit] if limit else rows


def _kept(usable_only: bool):
    """Which rows the picks listing keeps: each model's row that speaks for it (only usable ones when asked)."""
    return lambda r: r.best and (r.usable or not usable_only)


def every_row_listing(results, facts: ModelFacts, *, sort: str, limit: int | None) -> list:
    """Every row, models in the order of their picks (rows of one model together, largest first), cut at
    ``limit`` models."""
    by_model: dict[str, list] = {}
    for r in results:
        by_model.setdefault(r.model_id, []).append(r)
    heads = picks_listing(results, facts, usable_only=False, sort=sort, limit=limit)
    return [r for head in heads for r in sorted(by_model[head.model_id], key=lambda r: -r.memory.weights_bytes)]


def _rate(band) -> str:
    return "-" if band is None else units.rate_text(band.expected)


def _seconds(band) -> str:
    return "-" if band is None else units.seconds_text(band.expected)


def _header_line(machine, settings) -> str:
    label = machine.label or machine.hostname or "this machine"
    basis = ""
    if settings.memory_basis == "free":
        free_known = machine.memory.available_bytes is not None and all(
            g.vram_free_bytes is not None or g.unified_memory for g in machine.usable_gpus)
        basis = (", sized against free memory" if free_known
                 else "; free memory unknown for this machine, sized against the total")
    return (f"{label}: context {units.tokens_text(settings.context_tokens)}, prompt "
            f"{units.tokens_text(settings.prompt_tokens)}, KV cache {settings.kv_cache_type}{basis}; usable = "
            f"{settings.usable.describe()}")


def _format(header: tuple[str, ...], rows: list[tuple], right: set[int]) -> list[str]:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]

    def fmt(row) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    return [fmt(header), *(fmt(row) for row in rows)]


def picks_table(machine, results, settings, facts: ModelFacts) -> str:
    """The readable listing of picks: one line per model."""
    from rigcheck.estimate.rules import describe_blend, describe_capability, describe_pick

    lines = [_header_line(machine, settings)]
    if not results:
        lines.append("no model is usable on this machine with these settings")
        return "\n".join(lines) + "\n"
    header = ("MODEL", "PICK", "RUNTIME", "WHERE", "MEMORY", "MAX CTX", "DECODE t/s", "TTFT", "USABLE",
              "CAPABILITY", "HOSTED $/M BLENDED (IN / OUT)")
    rows = []
    for r in results:
        cap = facts.capability_value(r.model_id)
        hosted = facts.cheapest_hosted(r.model_id)
        rows.append((
            r.model_id,
            r.quant if r.fits else f"({r.quant})",
            r.runtime,
            units.verdict_place(r.verdict),
            units.bytes_text(r.memory.total_bytes),
            units.tokens_text(r.max_context_tokens) if r.max_context_tokens else "-",
            _rate(r.decode_tokens_per_s),
            _seconds(r.ttft_s),
            "yes" if r.usable else "no",
            "-" if cap is None else f"{cap:.0f}",
            "-" if hosted is None else units.price_triple_text(hosted["usd_per_m_blended"], hosted["usd_per_m_input"],
                                                               hosted["usd_per_m_output"]) + f" {hosted['provider']}",
        ))
    lines.extend(_format(header, rows, {4, 5, 6, 7, 9}))
    usable = sum(1 for r in results if r.usable)
    lines.append("")
    lines.append(f"{usable} of {len(results)} models listed are usable here. --all lists every quant; --json gives "
                 "the low-high bands and the basis of each estimate.")
    lines.extend(f"  {text[0].upper()}{text[1:]}." for text in (
        describe_pick(), describe_capability(), f"hosted: the cheapest offer, {describe_blend(settings.input_per_output)}"))
    return "\n".join(lines) + "\n"


def table(machine, results, settings) -> str:
    """The listing of every model x quant, the pick of each model marked with *."""
    lines = [_header_line(machine, settings)]
    if not results:
        lines.append("no model x quant can run on this machine with these settings")
        return "\n".join(lines) + "\n"
    header = ("", "MODEL", "QUANT", "RUNTIME", "VERDICT", "MEMORY", "MAX CTX", "PREFILL t/s", "DECODE t/s", "TTFT",
              "USABLE")
    rows = []
    for r in results:
        installed = r.extra.get("installed")
        rows.append((
            "*" if r.best and r.usable else "",
            f"{r.model_id} ({installed['name']})" if isinstance(installed, dict) else r.model_id,
            r.quant,
            r.runtime,
            r.verdict + ("" if r.runs_now in (None, True) or r.verdict == "no_fit" else " (not now)"),
            units.bytes_text(r.memory.total_bytes),
            units.tokens_text(r.max_context_tokens) if r.max_context_tokens else "-",
            _rate(r.prefill_tokens_per_s),
            _rate(r.decode_tokens_per_s),
            _seconds(r.ttft_s),
            "yes" if r.usable else "no",
        ))
    lines.extend(_format(header, rows, {5, 6, 7, 8, 9}))
    fitting = sum(1 for r in results if r.verdict != "no_fit")
    lines.append(f"{fitting} of {len(results)} model x quant rows fit; * marks the pick of each model that has one. "
                 "Speeds are expected values; --json gives the low-high bands and the basis of each estimate.")
    return "\n".join(lines) + "\n"
