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
    results = evaluate(machine, catalog, settings, models=models)
    if args.json:
        sys.stdout.write(_json(machine, catalog, settings, results))
    else:
        sys.stdout.write(table(machine, results, settings))
    return 0


def _json(machine, catalog, settings, results) -> str:
    import dataclasses

    from rigcheck.cli._output import json_text
    from rigcheck.probe.profile import machine_to_dict

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
        "results": [r.to_dict() for r in results],
    }
    return json_text(document, indent=1) + "\n"


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
        rows.append((
            "*" if r.best else "",
            r.model_id,
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
