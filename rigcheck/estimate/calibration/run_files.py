"""A user's own run files, whatever tool wrote them, read into ``Measurement`` rows.

``read_run_file(path)`` recognises, by content: llama-bench output as JSON, JSONL, CSV and its markdown
table (``-o md``, the default); llama-server and llama-cli logs (the "prompt eval time ... tokens per
second" and "eval time ..." lines, with the model file, quant, parameter count and GPU the log names);
``ollama run --verbose`` statistics; vLLM ``bench serve`` result JSON; and speed.csv. Raises
``MeasurementError`` with one sentence for a file it cannot read or that holds no run.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from rigcheck.estimate.calibration.measurements import (
    GIB,
    Measurement,
    MeasurementError,
    _backend,
    _quant_from_type,
    from_llama_bench_test,
    read_speed_csv,
)
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

MAX_RUN_FILE_BYTES = 64 * 1024 * 1024
"""A run file larger than this is not a benchmark output or a log excerpt: refused rather than read into memory."""
_BENCH_NUMBERS = ("n_prompt", "n_gen", "n_depth", "n_ubatch", "n_threads", "n_gpu_layers", "model_size",
                  "model_n_params", "build_number")


def read_run_file(path: str | Path) -> list[Measurement]:
    """Every run in the file at ``path``. Raises ``MeasurementError``."""
    p = Path(path)
    try:
        text = read_capped(p, MAX_RUN_FILE_BYTES, "run file").decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise MeasurementError(f"{path}: not a text file") from None
    except FileReadError as exc:  # a FIFO, a device, a folder, or larger than a run file is
        if "larger than" in str(exc):
            raise MeasurementError(f"{path}: too large for a run file (at most {MAX_RUN_FILE_BYTES // 2**20} MiB: "
                                   "cut the log to the runs)") from None
        raise MeasurementError(str(exc)) from None
    except OSError as exc:
        raise MeasurementError(f"cannot read {path}: {exc.strerror or exc}") from None
    source = str(p)
    stripped = text.lstrip()
    if not stripped:
        raise MeasurementError(f"{path}: the file is empty")
    if json_too_deep(stripped.encode("utf-8")):  # before any JSON parser recurses into it
        raise MeasurementError(f"{path}: nests too deeply to be a run file")
    if stripped.startswith("["):
        return _json_tests(_load_json(stripped, source), source)
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError:
            return _jsonl(stripped, source)  # one object per line
        if isinstance(document, dict) and ("mean_tpot_ms" in document or "mean_ttft_ms" in document):
            return _vllm_bench(document, source)
        return _json_tests([document], source)
    first = stripped.splitlines()[0]
    if first.startswith("build_commit,") or ("avg_ts" in first and "," in first):
        return _bench_csv(stripped, source)
    if first.startswith("engine,") or "decode_tok_s" in first:
        return read_speed_csv(p)
    if re.search(r"^\|\s*model\s*\|", text, re.MULTILINE):
        return _bench_markdown(text, source)
    if re.search(r"eval rate:\s+[\d.]+\s+tokens/s", text):
        return _ollama_verbose(text, source)
    if re.search(r"eval time\s*=.*tokens per second", text):
        return _timings_log(text, source)
    raise MeasurementError(f"{path}: not a run rigcheck can read (llama-bench output, a llama-server or "
                           "llama-cli log, `ollama run --verbose` statistics, vLLM bench serve JSON, speed.csv)")


def _load_json(text: str, source: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MeasurementError(f"{source}: not valid JSON: {exc}") from None


def _json_tests(data, source: str) -> list[Measurement]:
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise MeasurementError(f"{source}: llama-bench JSON must be a list of test objects")
    return [from_llama_bench_test(t, i, source) for i, t in enumerate(data)]


def _jsonl(text: str, source: str) -> list[Measurement]:
    tests = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                tests.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise MeasurementError(f"{source}: line {n} is not JSON: {exc.msg}") from None
    return _json_tests(tests, source)


def _number(value: str):
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _bench_csv(text: str, source: str) -> list[Measurement]:
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "avg_ts" not in rows[0]:
        raise MeasurementError(f"{source}: llama-bench CSV without an avg_ts column")
    tests = []
    for r in rows:
        t: dict[str, object] = dict(r)
        for key in (*_BENCH_NUMBERS, "avg_ts", "flash_attn"):
            if isinstance(t.get(key), str) and t[key] != "":
                t[key] = _number(str(t[key]))
        tests.append(t)
    return [from_llama_bench_test(t, i, source) for i, t in enumerate(tests)]


_SIZE = re.compile(r"([\d.]+)\s*(GiB|MiB|GB|MB)", re.IGNORECASE)
_TEST = re.compile(r"^(pp|tg)\s*(\d+)(?:\s*@\s*d(\d+))?$")


def _bench_markdown(text: str, source: str) -> list[Measurement]:
    """llama-bench's default table: | model | size | params | backend | ngl | ... | test | t/s |."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    header = [c.strip().lower() for c in lines[0].strip("|").split("|")]
    tests = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != len(header) or set(cells[0]) <= {"-", ":"}:
            continue
        row = dict(zip(header, cells, strict=True))
        m = _TEST.match(row.get("test", "").strip())
        rate = re.match(r"([\d.]+)", row.get("t/s", ""))
        if not m or not rate:
            continue
        kind, count, depth = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        size = _SIZE.search(row.get("size", ""))
        size_bytes = None
        if size:
            unit = size.group(2).lower()
            size_bytes = int(float(size.group(1)) * {"gib": GIB, "mib": 1024**2, "gb": 1e9, "mb": 1e6}[unit])
        params = re.match(r"([\d.]+)\s*B", row.get("params", ""))
        test = {"model_type": row.get("model", ""), "model_size": size_bytes,
                "model_n_params": float(params.group(1)) * 1e9 if params else None,
                "backends": row.get("backend", ""), "n_prompt": count if kind == "pp" else 0,
                "n_gen": count if kind == "tg" else 0, "n_depth": depth, "avg_ts": float(rate.group(1))}
        if row.get("ngl", "").lstrip("-").isdigit():
            test["n_gpu_layers"] = int(row["ngl"])
        if row.get("fa") in ("0", "1"):
            test["flash_attn"] = int(row["fa"])
        if row.get("threads", "").isdigit():
            test["n_threads"] = int(row["threads"])
        tests.append(test)
    if not tests:
        raise MeasurementError(f"{source}: a markdown table without llama-bench pp/tg rows")
    return [from_llama_bench_test(t, i, source) for i, t in enumerate(tests)]


_PROMPT_EVAL = re.compile(r"prompt eval time\s*=\s*([\d.]+)\s*ms\s*/\s*(\d+)\s*tokens.*?([\d.]+)\s*tokens per second")
_EVAL = re.compile(r"(?<!prompt )(?<!generation )\beval time\s*=\s*([\d.]+)\s*ms\s*/\s*(\d+)\s*(?:runs|tokens).*?"
                   r"([\d.]+)\s*tokens per second")
_GEN_EVAL = re.compile(r"generation eval time\s*=\s*([\d.]+)\s*ms\s*/\s*(\d+)\s*runs.*?([\d.]+)\s*tokens per second")


def _log_facts(text: str) -> dict[str, object]:
    """What a llama.cpp log says about the run: model file, quant, parameters, size, GPU, backend, layers."""
    facts: dict[str, object] = {}
    m = re.search(r"(?:loaded meta data with .*? from|loading model from|loading model)\s*'?(\S+?\.gguf)", text,
                  re.IGNORECASE)
    if m:
        facts["model_file"] = m.group(1)
    m = re.search(r"file type\s*=\s*(.+)", text)
    if m:
        facts["model_type"] = m.group(1).strip()
    m = re.search(r"model params\s*=\s*([\d.]+)\s*B", text)
    if m:
        facts["params"] = float(m.group(1)) * 1e9
    m = re.search(r"file size\s*=\s*([\d.]+)\s*GiB", text)
    if m:
        facts["size"] = int(float(m.group(1)) * GIB)
    m = re.search(r"Device \d+:\s*([^,\n]+?)(?:,|\n)", text)
    if m:
        facts["gpu"] = m.group(1).strip()
    for key, backend in (("ggml_cuda_init", "CUDA"), ("CUDA0", "CUDA"), ("ggml_metal", "Metal"), ("MTL0", "Metal"),
                         ("ROCm", "ROCm"), ("ggml_vulkan", "Vulkan"), ("Vulkan0", "Vulkan")):
        if key in text:
            facts["backend"] = backend
            break
    m = re.search(r"offloaded (\d+)/(\d+) layers to GPU", text)
    if m:
        facts["ngl"] = int(m.group(1))
        facts["all_layers"] = m.group(1) == m.group(2)
    m = re.search(r"n_ubatch\s*=\s*(\d+)", text)
    if m:
        facts["ubatch"] = int(m.group(1))
    m = re.search(r"flash_attn\s*=\s*(\w+)", text)
    if m:
        facts["flash_attn"] = m.group(1) not in ("0", "false", "disabled", "off")
    return facts


def _timings_log(text: str, source: str) -> list[Measurement]:
    """llama-server (one block per request) and llama-cli (one at exit) timing lines."""
    facts = _log_facts(text)
    prompts = [(m.start(), int(m.group(2)), float(m.group(3))) for m in _PROMPT_EVAL.finditer(text)]
    evals = [(m.start(), int(m.group(2)), float(m.group(3))) for m in _EVAL.finditer(text)]
    evals += [(m.start(), int(m.group(2)), float(m.group(3))) for m in _GEN_EVAL.finditer(text)]
    evals.sort()
    out: list[Measurement] = []
    for i, (at, n_prompt, prefill) in enumerate(prompts):
        nxt = prompts[i + 1][0] if i + 1 < len(prompts) else len(text)
        decode = next(((n, r) for pos, n, r in evals if at < pos < nxt), None)
        out.append(_log_measurement(len(out), facts, source, "llama.cpp log", n_prompt, prefill,
                                    decode[0] if decode else 0, decode[1] if decode else None))
    if not out:
        raise MeasurementError(f"{source}: no prompt eval timing line")
    return out


def _log_measurement(row: int, facts: dict, source: str, engine: str, n_prompt: int, prefill: float | None,
                     n_gen: int, decode: float | None) -> Measurement:
    model_file = str(facts.get("model_file") or "")
    model = re.sub(r"(-\d{5}-of-\d{5})?\.gguf$", "", re.split(r"[\\/]", model_file)[-1]) if model_file else ""
    backend = str(facts.get("backend") or ("CUDA" if facts.get("gpu") else "CPU"))
    return Measurement(
        row=row, engine=f"{engine} ({backend})", runtime="llama.cpp", backend=_backend(backend),
        device=str(facts.get("gpu") or "CPU"), device_count=1, model=model or str(facts.get("model_type") or ""),
        params_b=float(facts["params"]) / 1e9 if facts.get("params") else None, active_params_b=None,
        quant=_quant_from_type(str(facts.get("model_type") or "")) if facts.get("model_type") else "",
        file_size_bytes=facts.get("size"),  # type: ignore[arg-type]
        prompt_tokens=n_prompt or None, prompt_depth_tokens=0, decode_depth_tokens=n_prompt + n_gen / 2,
        prefill_tokens_per_s=prefill if n_prompt else None, decode_tokens_per_s=decode, batch_size=1,
        flash_attention=bool(facts.get("flash_attn", True)), ubatch_tokens=int(facts.get("ubatch") or 512),  # type: ignore[call-overload]
        all_layers_on_gpu=bool(facts.get("all_layers")), source=source, notes=model_file)


def _ollama_verbose(text: str, source: str) -> list[Measurement]:
    """`ollama run --verbose`: one statistics block per answer (prompt eval count/rate, eval count/rate)."""
    out: list[Measurement] = []
    blocks = re.split(r"(?=total duration:)", text)
    for block in blocks:
        rate = re.search(r"(?<!prompt )eval rate:\s+([\d.]+)\s+tokens/s", block)
        if not rate:
            continue
        prompt_count = re.search(r"prompt eval count:\s+(\d+)", block)
        prompt_rate = re.search(r"prompt eval rate:\s+([\d.]+)\s+tokens/s", block)
        gen = re.search(r"(?<!prompt )eval count:\s+(\d+)", block)
        n_prompt = int(prompt_count.group(1)) if prompt_count else 0
        out.append(_log_measurement(len(out), {"backend": ""}, source, "ollama", n_prompt,
                                    float(prompt_rate.group(1)) if prompt_rate else None,
                                    int(gen.group(1)) if gen else 0, float(rate.group(1))))
    if not out:
        raise MeasurementError(f"{source}: no `eval rate` line of `ollama run --verbose`")
    return out


def _vllm_bench(d: dict, source: str) -> list[Measurement]:
    """vLLM ``bench serve`` result JSON: decode from the mean time per output token, prefill from the mean
    time to first token over the mean prompt; ``max_concurrency`` is the batch (None: a request rate)."""
    completed = d.get("completed") or 0
    if not completed:
        raise MeasurementError(f"{source}: vLLM bench result without completed requests")
    n_prompt = int(round((d.get("total_input_tokens") or 0) / completed))
    n_gen = int(round((d.get("total_output_tokens") or 0) / completed))
    tpot, ttft = d.get("mean_tpot_ms"), d.get("mean_ttft_ms")
    concurrency = d.get("max_concurrency")
    model = str(d.get("model_id") or d.get("tokenizer_id") or "")
    return [Measurement(
        row=0, engine="vLLM bench serve", runtime="vllm", backend="cuda", device=str(d.get("gpu") or "GPU"),
        device_count=int(d.get("num_gpus") or d.get("tensor_parallel_size") or 1), model=model.split("/")[-1],
        params_b=None, active_params_b=None, quant="", file_size_bytes=None, prompt_tokens=n_prompt or None,
        prompt_depth_tokens=0, decode_depth_tokens=n_prompt + n_gen / 2,
        prefill_tokens_per_s=n_prompt / (ttft / 1000.0) if ttft and n_prompt else None,
        decode_tokens_per_s=1000.0 / tpot if tpot else None,
        batch_size=int(concurrency) if isinstance(concurrency, int) else None, flash_attention=True,
        source=source, notes=f"{model}; {d.get('date') or ''}".strip("; "))]
