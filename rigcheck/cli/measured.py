"""``rigcheck measured import FILE | list | remove ID...``: the user's own runs, kept per machine.

An import reads llama-bench output (JSON, JSONL, CSV, markdown), llama-server / llama-cli logs, ``ollama
run --verbose`` statistics or vLLM bench serve JSON, names each run's model in catalog terms (the file on
disk when it is there, the installed model given with --model, else the name the run gives) and keeps it
with the machine it ran on: this one, or the profile given with --machine. A run whose GPU is not that
machine's is refused, so a correction never lands on the wrong machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rigcheck import units
from rigcheck.cli import UsageError
from rigcheck.cli._machine import add_machine_args, machine_from_args
from rigcheck.cli._output import json_text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "measured", help="your own measured runs: import, list, remove",
        description="Keep your own measurements (llama-bench, llama-server/llama-cli logs, ollama run --verbose, "
                    "vLLM bench serve) with the machine they ran on. They show beside the estimates and correct "
                    "that machine's estimates (fit, the app, reports) unless --no-measured is given.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="read a run file and keep its runs")
    imp.add_argument("file", metavar="FILE")
    add_machine_args(imp)
    imp.add_argument("--model", metavar="NAME",
                     help="the model measured: an installed model's name, Ollama tag or path, or a catalog id "
                          "(needed when the file does not name it, as ollama --verbose output does not)")
    imp.add_argument("--quant", metavar="Q", help="its quant, when neither the file nor the model says")
    imp.add_argument("--json", action="store_true", help="print the runs kept as JSON")
    imp.set_defaults(func=run_import)
    lst = sub.add_parser("list", help="the kept runs")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=run_list)
    rm = sub.add_parser("remove", help="forget runs by id (or every run with --all)")
    rm.add_argument("ids", metavar="ID", nargs="*")
    rm.add_argument("--all", action="store_true")
    rm.set_defaults(func=run_remove)


def _store():
    from rigcheck.estimate.calibration.user_runs import StoreError, load_store

    try:
        return load_store()
    except StoreError as exc:
        raise UsageError(str(exc)) from None


_VENDOR_BACKEND = {"nvidia": "cuda", "amd": "rocm", "apple": "metal", "intel": "vulkan"}


def _machine_backend(machine) -> str:
    gpus = machine.usable_gpus
    return _VENDOR_BACKEND.get(gpus[0].vendor, "cuda") if gpus else "cpu"


def _check_device(m, machine, catalog, file: str) -> None:
    """Refuse a run whose GPU is not one of the machine's (by the device table)."""
    from rigcheck.catalog.devices import resolve_gpu
    from rigcheck.estimate.calibration.matching import resolve_device_name

    if m.backend == "cpu" or m.device in ("", "CPU", "GPU"):
        return
    measured = resolve_device_name(m.device, catalog.devices)
    if measured is None:
        return
    ours = [resolve_gpu(g, catalog.devices) for g in machine.usable_gpus]
    if any(d is not None and d.name == measured.name for d in ours):
        return
    have = ", ".join(g.name for g in machine.usable_gpus) or "no GPU"
    label = machine.label or machine.hostname or "this machine"
    raise UsageError(f"{file} was measured on {m.device}, but {label} has {have}: import it with --machine "
                     "PROFILE of the machine it ran on (`rigcheck probe --json` there)")


def _resolve_model(args, m, catalog, installed_cache: list):
    """(model_id, quant, model_file, file size, params_b, name) for a measurement."""
    from rigcheck.catalog.installed.describe import quant_from_name
    from rigcheck.catalog.lookup import ModelLookupError, find_model, match_model, match_words

    def installed():
        if not installed_cache:
            from rigcheck.cli.installed import scan_installed

            given = [args.model] if args.model and Path(args.model).expanduser().is_file() else []
            installed_cache.append(scan_installed(given, catalog))
        return installed_cache[0]

    file = m.notes if m.notes.lower().endswith(".gguf") else None
    name = m.model
    if args.model:
        wanted = args.model
        hit = next((i for i in installed() if wanted in (i.name, i.tag, i.path) or
                    Path(i.path).name == Path(wanted).name), None)
        if hit is not None:
            return hit.model_id, args.quant or hit.quant or m.quant, hit.path, hit.size_bytes, hit.params_b, hit.name
        try:
            model = find_model(catalog, wanted)
        except ModelLookupError as exc:
            raise UsageError(f"--model: {exc}") from None
        return model.id, args.quant or m.quant, None, m.file_size_bytes, m.params_b, model.id
    stem = Path(file).name if file else name
    # A file name spells the quant as it is published (Q2_K_L); llama.cpp's type label ("qwen2 7B Q4_K -
    # Medium") is read by the parser instead.
    quant = args.quant or (quant_from_name(stem) if " " not in stem else None) or m.quant
    hit = next((i for i in installed() if Path(i.path).name == Path(stem).name or
                Path(i.name).stem == Path(stem).stem), None)
    if hit is not None and hit.model_id:
        return hit.model_id, quant or hit.quant, hit.path, hit.size_bytes, hit.params_b, name
    model = match_model(name, m.params_b, catalog) or match_words(name, m.params_b, catalog)
    return (model.id if model else None), quant, file, m.file_size_bytes, m.params_b, name


def run_import(args: argparse.Namespace) -> int:
    from rigcheck.catalog.store import load_catalog
    from rigcheck.estimate.calibration.correction import check_run
    from rigcheck.estimate.calibration.measurements import MeasurementError
    from rigcheck.estimate.calibration.run_files import read_run_file
    from rigcheck.estimate.calibration.user_runs import machine_key, run_from_measurement

    catalog = load_catalog()
    try:
        measurements = read_run_file(args.file)
    except MeasurementError as exc:
        raise UsageError(str(exc)) from None
    machine = machine_from_args(args, catalog)
    key = machine_key(machine)
    if key is None:
        raise UsageError("measurements are kept for a real machine: this one (no --gpu), or its profile "
                         "(--machine FILE from `rigcheck probe --json`)")
    store = _store()
    installed_cache: list = []
    runs = []
    for m in measurements:
        if m.prefill_tokens_per_s is None and m.decode_tokens_per_s is None:
            continue
        _check_device(m, machine, catalog, args.file)
        model_id, quant, file, size, params_b, name = _resolve_model(args, m, catalog, installed_cache)
        engine = _engine(m)
        backend = m.backend if m.backend != "cpu" or not machine.usable_gpus or engine != "ollama" \
            else _machine_backend(machine)
        if m.device in ("", "CPU", "GPU") and machine.usable_gpus and backend != "cpu":
            device = machine.usable_gpus[0].name
        else:
            device = m.device
        runs.append(run_from_measurement(m, machine, key, model_id=model_id, quant=quant or "", model_name=name,
                                         model_file=file, file_size_bytes=size, params_b=params_b,
                                         backend=backend, device=device, engine=engine))
    if not runs:
        raise UsageError(f"{args.file}: no run with a prefill or decode speed")
    added = store.add(machine, key, runs)
    try:
        store.save()
    except OSError as exc:
        print(f"rigcheck: cannot write {store.path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    checks = [check_run(r, machine, catalog) for r in runs]
    if args.json:
        sys.stdout.write(json_text({"schema": "rigcheck.measured/1", "added": len(added),
                                     "runs": [{**r.to_dict(), **_estimates(c)} for r, c in zip(runs, checks, strict=True)]},
                                    indent=1) + "\n")
        return 0
    label = machine.label or machine.hostname or "this machine"
    print(f"kept {len(added)} new run(s) of {len(runs)} for {label} in {store.path}")
    for c in checks:
        print("  " + _line(c))
    return 0


def _estimates(check) -> dict[str, object]:
    d = check.to_dict()
    return {k: d[k] for k in ("estimated_prefill_tokens_per_s", "estimated_decode_tokens_per_s", "prefill_ratio",
                              "decode_ratio")}


def _engine(m) -> str:
    engine = m.engine.split(" (")[0]
    return {"llama.cpp": "llama-bench", "llama.cpp log": "llama.cpp log"}.get(engine, engine)


def _line(check) -> str:
    r = check.run
    model = r.model_id or f"{r.model_name} (not in the catalog)"
    parts = [f"{r.id}  {model} {r.quant} [{r.engine}, {r.describe()}]"]
    for kind, measured, estimated in (("prefill", r.prefill_tokens_per_s, check.estimated_prefill_tokens_per_s),
                                      ("decode", r.decode_tokens_per_s, check.estimated_decode_tokens_per_s)):
        if measured is None:
            continue
        text = f"{kind} {units.rate_text(measured)} tok/s measured"
        if estimated:
            text += f", {units.rate_text(estimated)} estimated (×{measured / estimated:.2f})"
        parts.append(text)
    if check.note:
        parts.append(f"not estimated: {check.note}")
    return "; ".join(parts)


def run_list(args: argparse.Namespace) -> int:
    store = _store()
    if args.json:
        sys.stdout.write(json_text({"schema": "rigcheck.measured/1", "runs": [r.to_dict() for r in store.runs]},
                                    indent=1) + "\n")
        return 0
    if not store.runs:
        print("no measurements kept; add some with `rigcheck measured import FILE` or `rigcheck bench MODEL`")
        return 0
    header = ("ID", "MACHINE", "MODEL", "QUANT", "ENGINE", "TEST", "PREFILL t/s", "DECODE t/s", "MEASURED")
    rows = [(r.id, r.machine_label, r.model_id or r.model_name, r.quant, r.engine, r.describe(),
             units.rate_text(r.prefill_tokens_per_s) if r.prefill_tokens_per_s else "-",
             units.rate_text(r.decode_tokens_per_s) if r.decode_tokens_per_s else "-",
             (r.measured_at or r.imported_at or "")[:10]) for r in store.runs]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def run_remove(args: argparse.Namespace) -> int:
    if not args.ids and not args.all:
        raise UsageError("say which runs to remove (their ids from `rigcheck measured list`) or --all")
    store = _store()
    gone = store.remove([r.id for r in store.runs] if args.all else args.ids)
    if not gone:
        raise UsageError(f"no kept run has the id {', '.join(args.ids)}")
    try:
        store.save()
    except OSError as exc:
        print(f"rigcheck: cannot write {store.path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"removed {len(gone)} run(s)")
    return 0
