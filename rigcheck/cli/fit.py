"""`rigcheck fit`: which catalog models fit a machine, with which quant, and how fast they would run.

Imports stay lazy (no Qt, no numpy): ``rigcheck fit --json`` over the whole catalog answers in well
under a second.
"""

from __future__ import annotations

import argparse
import sys

from rigcheck import units
from rigcheck.cli import UsageError
from rigcheck.cli._args import token_count
from rigcheck.cli._machine import add_machine_args, machine_from_args
from rigcheck.estimate.best import describe_rule

FIT_SCHEMA = "rigcheck.fit/1"
KV_TYPES = ("f16", "q8_0", "q4_0")
RUNTIMES = ("llama.cpp", "vllm", "mlx")




def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="which models fit this (or another) machine, and how fast they run",
        description="Estimate, for every model x quant of the catalog (or the models named), whether it fits "
        "the machine, where it is placed, and its prefill and decode speed and time to first token. "
        "Without --quant every quant is listed and the best one of each model is marked with *.",
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
                             "each at its real file size")
    parser.add_argument("--path", metavar="DIR", action="append", default=[],
                        help="with --installed: also look in this folder; repeatable")
    parser.add_argument("--no-measured", action="store_true",
                        help="leave out your own measurements of this machine (`rigcheck measured`): no "
                             "correction, no measured figures")
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
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings

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
    )
    if args.quant and not any(q.name.casefold() == args.quant.casefold()
                              for m in (models or catalog.models) for q in m.quants):
        known = sorted({q.name for m in (models or catalog.models) for q in m.quants})
        raise UsageError(f"no model has quant {args.quant!r}; known quants: {', '.join(known)}")
    if args.path and not args.installed:
        raise UsageError("--path goes with --installed")
    skipped: list = []
    inputs = None
    if args.installed:
        results, skipped, inputs = _installed_results(args, machine, catalog, settings, models)
        launch = _installed_launcher(inputs, settings)
    else:
        results = evaluate(machine, catalog, settings, models=models)
        launch = _catalog_launcher(catalog, settings)
    measured = None if args.no_measured else _measured(machine, catalog)
    if measured is not None and measured.active:
        results = _remark_best(measured.apply(results), catalog, inputs)
    if args.json:
        sys.stdout.write(_json(machine, catalog, settings, results, launch, skipped, measured))
    elif args.installed and not results and not skipped:
        sys.stdout.write("no installed model found in Ollama's, LM Studio's, the Hugging Face cache's or "
                         "llama.cpp's folders; add a folder with --path DIR (`rigcheck installed` lists them)\n")
    else:
        sys.stdout.write(table(machine, results, settings))
        for s in skipped:
            sys.stdout.write(f"not estimated: {s['name']} ({s['path']}): {s['reason']}\n")
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


def _remark_best(rows, catalog, inputs):
    """Corrected speeds can change which quant is usable: the best of each model is picked again."""
    from rigcheck.estimate.engine import mark_best

    if inputs is not None:
        quants = {(k[0], k[1]): v[1] for k, v in inputs.items()}
    else:
        quants = {(m.id, q.name): q for m in catalog.models for q in m.quants}
    return mark_best(rows, quants)


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
    """Launch commands for catalog rows: the model and quant records looked up once."""
    from rigcheck.estimate.launch import launch_commands

    quants = {}
    for m in catalog.models:
        for q in m.quants:
            quants.setdefault((m.id, q.name), (m, q))

    def launch(row):
        pair = quants.get((row.model_id, row.quant))
        return launch_commands(row, *pair, kv_cache_type=settings.kv_cache_type) if pair else []

    return launch


def _json(machine, catalog, settings, results, launch=None, skipped=(), measured=None) -> str:
    import dataclasses
    import json

    from rigcheck.probe.profile import machine_to_dict

    def result(row) -> dict:
        out = row.to_dict()
        if launch is not None:
            out["launch"] = [c.to_dict() for c in launch(row)]
        out.setdefault("measured", [])
        return out

    document = {
        "schema": FIT_SCHEMA,
        "machine": machine_to_dict(machine),
        "catalog": {
            "schema_version": catalog.schema_version,
            "generated_at": catalog.generated_at,
            "sequence": catalog.sequence,
            "source": catalog.source,
            "models": len(catalog.models),
        },
        "settings": dataclasses.asdict(settings),
        "results": [result(r) for r in results],
    }
    if skipped:
        document["installed_not_estimated"] = list(skipped)
    if measured is not None and measured.active:
        document["measurements"] = {
            "runs": len(measured.checks),
            "corrections": [{"runtime": c.runtime, "backend": c.backend, "placement": c.placement, "kind": c.kind,
                             "factor": round(c.factor, 3), "measurements": c.count, "capped": c.capped}
                            for c in measured.corrections.values()]}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _rate(band) -> str:
    return "-" if band is None else units.rate_text(band.expected)


def _seconds(band) -> str:
    return "-" if band is None else units.seconds_text(band.expected)


def table(machine, results, settings) -> str:
    """The readable listing: one line per model x quant, best quant of each model marked with *."""
    label = machine.label or machine.hostname or "this machine"
    basis = ""
    if settings.memory_basis == "free":
        free_known = machine.memory.available_bytes is not None and all(
            g.vram_free_bytes is not None or g.unified_memory for g in machine.usable_gpus)
        basis = (", sized against free memory" if free_known
                 else "; free memory unknown for this machine, sized against the total")
    lines = [f"{label}: context {settings.context_tokens:,} tokens, prompt {settings.prompt_tokens:,} tokens, "
             f"KV cache {settings.kv_cache_type}{basis}"]
    if not results:
        lines.append("no model x quant can run on this machine with these settings")
        return "\n".join(lines) + "\n"
    header = ("", "MODEL", "QUANT", "RUNTIME", "VERDICT", "MEMORY", "MAX CTX", "PREFILL t/s", "DECODE t/s", "TTFT")
    rows = []
    for r in results:
        installed = r.extra.get("installed")
        rows.append((
            "*" if r.best else "",
            f"{r.model_id} ({installed['name']})" if isinstance(installed, dict) else r.model_id,
            r.quant,
            r.runtime,
            r.verdict + ("" if r.runs_now in (None, True) or r.verdict == "no_fit" else " (not now)"),
            units.bytes_text(r.memory.total_bytes),
            f"{r.max_context_tokens:,}" if r.max_context_tokens else "-",
            _rate(r.prefill_tokens_per_s),
            _rate(r.decode_tokens_per_s),
            _seconds(r.ttft_s),
        ))
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    right = {5, 6, 7, 8, 9}

    def fmt(row) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    lines.append(fmt(header))
    lines.extend(fmt(row) for row in rows)
    fitting = sum(1 for r in results if r.verdict != "no_fit")
    lines.append(f"{fitting} of {len(results)} model x quant rows fit; * marks the best quant of each model "
                 f"({describe_rule()}). Speeds are expected values; "
                 "--json gives the low-high bands and the basis of each estimate.")
    return "\n".join(lines) + "\n"
