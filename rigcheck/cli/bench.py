"""``rigcheck bench MODEL``: run llama-bench on an installed model, placed as the estimate places it, and keep the run.

MODEL is an installed model's name, Ollama tag or path, or a catalog id with an installed file. llama-bench
is run with the estimate's ``-ngl`` (and ``--n-cpu-moe``) on this machine, prompt 512 and 128 generated
tokens, JSON out; the result is imported as ``rigcheck measured import`` would. Without llama-bench on
PATH the command says so in one line on stderr and exits 1 (nothing was measured).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rigcheck.cli import UsageError
from rigcheck.cli._args import token_count
from rigcheck.cli._machine import add_machine_args, machine_from_args

BENCH_TIMEOUT_S = 1800


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="measure an installed model with llama-bench and keep the run",
        description="Run llama-bench (when it is on PATH) on an installed GGUF model with the placement rigcheck "
                    "estimates for this machine, and keep the result as `rigcheck measured import` does.")
    parser.add_argument("model", metavar="MODEL", help="an installed model's name, Ollama tag or path, or a catalog id")
    add_machine_args(parser)
    parser.add_argument("--prompt", metavar="N", type=token_count, default=512, help="prompt tokens (llama-bench -p)")
    parser.add_argument("--gen", metavar="N", type=token_count, default=128, help="generated tokens (llama-bench -n)")
    parser.add_argument("--json", action="store_true", help="print the runs kept as JSON")
    parser.set_defaults(func=run)


def find_installed(query: str, installed, catalog):
    """The installed GGUF model ``query`` names (name, tag, path or catalog id), or None."""
    for m in installed:
        if query in (m.name, m.tag, m.path) or Path(m.path).name == Path(query).name:
            return m
    from rigcheck.catalog.lookup import ModelLookupError, find_model

    try:
        model = find_model(catalog, query)
    except ModelLookupError:
        return None
    return next((m for m in installed if m.model_id == model.id and m.format == "gguf" and not m.problem), None)


def _fa_value(exe: str) -> str:
    """llama-bench's flash-attention value: "on" since the 2025 change (-fa on|off|auto), "1" before."""
    try:
        help_text = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "1"
    return "on" if "on|off" in help_text else "1"


def run(args: argparse.Namespace) -> int:
    exe = shutil.which("llama-bench")
    if exe is None:
        print("rigcheck bench: llama-bench is not on PATH: skipped (install llama.cpp, or run llama-bench "
              "elsewhere and `rigcheck measured import` its output)", file=sys.stderr)
        return 1  # nothing was measured: a script's `rigcheck bench && ...` must not go on as if it had been
    from rigcheck.catalog.store import load_catalog
    from rigcheck.cli.installed import scan_installed
    from rigcheck.estimate.installed_rows import evaluate_installed, launch_for_row
    from rigcheck.estimate.types import Settings

    catalog = load_catalog()
    path_arg = [args.model] if args.model.lower().endswith(".gguf") and Path(args.model).exists() else []
    installed = scan_installed(path_arg, catalog)
    target = find_installed(args.model, installed, catalog)
    if target is None or target.format != "gguf":
        raise UsageError(f"no installed GGUF model {args.model!r}; `rigcheck installed` lists them")
    if target.problem:
        raise UsageError(f"{target.name}: {target.problem}")
    machine = machine_from_args(args, catalog)
    settings = Settings(context_tokens=args.prompt + args.gen, prompt_tokens=args.prompt)
    rows, skipped, inputs = evaluate_installed(machine, catalog, settings, [target])
    if not rows or rows[0].verdict == "no_fit":
        reason = skipped[0]["reason"] if skipped else "it does not fit this machine"
        raise UsageError(f"{target.name} cannot be benchmarked here: {reason}")
    llama = next(c for c in launch_for_row(rows[0], inputs, settings) if c.runtime == "llama.cpp")
    argv = list(llama.argv)
    command = [exe, "-m", target.path, "-p", str(args.prompt), "-n", str(args.gen),
               "-ngl", argv[argv.index("-ngl") + 1], "-fa", _fa_value(exe), "-o", "json"]
    if "--n-cpu-moe" in argv:
        command += ["-ncmoe", argv[argv.index("--n-cpu-moe") + 1]]
    print(f"running: {' '.join(command)}", file=sys.stderr)
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"rigcheck bench: llama-bench ran past {BENCH_TIMEOUT_S} s and was stopped", file=sys.stderr)
        return 1
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"rigcheck bench: llama-bench failed (exit {proc.returncode}): {' / '.join(tail)}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="rigcheck-bench-") as tmp:
        out = Path(tmp) / "llama-bench.json"
        out.write_text(proc.stdout, encoding="utf-8")
        from rigcheck.cli.measured import run_import

        return run_import(argparse.Namespace(file=str(out), model=target.path, quant=target.quant, json=args.json,
                                             machine=args.machine, gpu=args.gpu, ram=args.ram))
