"""Published speed measurements: speed.csv and ``llama-bench -o json`` read into ``Measurement`` rows.

``read_measurements(path)`` parses either format, reading the specifics out of each row: prompt-processing
vs generation tests, the KV depth (``@dN``), llama-batched-bench rows (aggregate decode over B sequences),
TensorRT-LLM ``max_load`` rows, multi-GPU rows, flash attention, ubatch size, out-of-memory reports and
CAVEAT notes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

GIB = 1024**3
MAX_MEASUREMENTS_BYTES = 64 * 1024 * 1024
"""speed.csv is a few hundred KB; llama-bench JSON of a long sweep a few MB."""


class MeasurementError(ValueError):
    """A measurements file that cannot be read, with one sentence saying why."""


@dataclass(frozen=True)
class Measurement:
    """One published measurement: a device, a model, a quant, and the speeds measured."""

    row: int
    """0-based data row in the file."""
    engine: str
    runtime: str
    """"llama.cpp" or "tensorrt-llm"."""
    backend: str
    """"cuda", "metal", "rocm", "vulkan", "cpu"."""
    device: str
    device_count: int
    model: str
    params_b: float | None
    active_params_b: float | None
    quant: str
    file_size_bytes: int | None
    prompt_tokens: int | None
    prompt_depth_tokens: int
    decode_depth_tokens: float
    """Mean KV depth during the generation test (``tgN`` from empty: N/2)."""
    prefill_tokens_per_s: float | None
    decode_tokens_per_s: float | None
    batch_size: int | None
    """None for whole-system ``max_load`` rows."""
    max_load: bool = False
    flash_attention: bool = False
    ubatch_tokens: int = 512
    oom: bool = False
    all_layers_on_gpu: bool = False
    caveat: str | None = None
    ram_bytes: int | None = None
    threads: int | None = None
    """CPU threads of a CPU-backend run (llama-bench ``n_threads``)."""
    source: str = ""
    notes: str = ""


_BACKENDS = (("cuda", "cuda"), ("metal", "metal"), ("rocm", "rocm"), ("hip", "rocm"), ("vulkan", "vulkan"),
             ("sycl", "vulkan"), ("cpu", "cpu"))


def _backend(engine: str) -> str:
    low = engine.lower()
    for key, backend in _BACKENDS:
        if key in low:
            return backend
    return "cuda" if "tensorrt" in low else "cpu"


def _float(text: str | None) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _ram_from_name(device: str) -> int | None:
    m = re.search(r"(\d+)\s*GB RAM", device) or re.search(r"\)\s*(\d+)\s*GB\s*$", device)
    return int(m.group(1)) * GIB if m else None


def _depths(notes: str, prompt: int | None, batched: bool) -> tuple[int, float]:
    pp = re.search(r"pp(\d+)\s*@\s*d(\d+)", notes)
    tg = re.search(r"tg(\d+)\s*@\s*d(\d+)", notes)
    prompt_depth = int(pp.group(2)) if pp else 0
    if tg:
        return prompt_depth, int(tg.group(2)) + int(tg.group(1)) / 2
    if batched:
        m = re.search(r"TG=(\d+)", notes)
        gen = int(m.group(1)) if m else 32
        return prompt_depth, (prompt or 0) + gen / 2
    m = re.search(r"\btg(\d+)\b", notes)
    if m:
        return prompt_depth, int(m.group(1)) / 2  # tgN: mean over N tokens generated from an empty cache
    return prompt_depth, (prompt or 0) / 2


def _flash_attention(notes: str) -> bool:
    low = notes.lower()
    if re.search(r"\bfa\s*=\s*1\b|flash_attn\s*=\s*1", low):
        return True
    return False


def _file_size(notes: str) -> int | None:
    m = re.search(r"file size ([\d.]+) GiB", notes) or re.search(r"model file ([\d.]+) GiB", notes)
    return int(float(m.group(1)) * GIB) if m else None


def read_speed_csv(path: Path, data: bytes | None = None) -> list[Measurement]:
    """Parse a file in speed.csv's format (``data``: its bytes, already read). Raises ``MeasurementError``
    when columns are missing."""
    try:
        text = (data if data is not None else _read(path)).decode("utf-8")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        required = {"engine", "device", "model", "quant", "prefill_tok_s", "decode_tok_s"}
        missing = required - set(reader.fieldnames or ())
        if missing:
            raise MeasurementError(f"{path}: not a speed.csv file (missing columns: {', '.join(sorted(missing))})")
        raw = list(reader)
    except UnicodeDecodeError:
        raise MeasurementError(f"{path}: not a text file") from None
    except csv.Error as exc:
        raise MeasurementError(f"{path}: cannot read CSV: {exc}") from None
    out: list[Measurement] = []
    for i, r in enumerate(raw):
        notes = r.get("notes") or ""
        engine = r.get("engine") or ""
        batch_text = (r.get("batch_size") or "1").strip()
        max_load = batch_text == "max_load"
        batch = None if max_load else int(_float(batch_text) or 1)
        prompt_f = _float(r.get("context_or_prompt_tokens"))
        prompt = int(prompt_f) if prompt_f else None
        batched = "batched-bench" in engine or (batch or 1) > 1
        prompt_depth, decode_depth = _depths(notes, prompt, batched)
        ub = re.search(r"n_ubatch\s*=\s*(\d+)", notes)
        low = notes.lower()
        caveat = None
        if "CAVEAT" in notes:
            caveat = notes[notes.index("CAVEAT"):].split(";")[0]
        out.append(Measurement(
            row=i,
            engine=engine,
            runtime="tensorrt-llm" if "tensorrt" in engine.lower() else "llama.cpp",
            backend=_backend(engine),
            device=(r.get("device") or "").strip(),
            device_count=int(_float(r.get("device_count")) or 1),
            model=(r.get("model") or "").strip(),
            params_b=_float(r.get("params_b")),
            active_params_b=_float(r.get("active_params_b")),
            quant=(r.get("quant") or "").strip(),
            file_size_bytes=_file_size(notes),
            prompt_tokens=prompt,
            prompt_depth_tokens=prompt_depth,
            decode_depth_tokens=decode_depth,
            prefill_tokens_per_s=_float(r.get("prefill_tok_s")),
            decode_tokens_per_s=_float(r.get("decode_tok_s")),
            batch_size=batch,
            max_load=max_load,
            flash_attention=_flash_attention(notes),
            ubatch_tokens=int(ub.group(1)) if ub else 512,
            oom=bool(re.search(r"\boom\b", low)) or "out of memory" in low,
            all_layers_on_gpu=bool(re.search(r"ngl\s*=?\s*99|n_gpu_layers\s*=\s*-1|all layers offloaded", low)),
            caveat=caveat,
            ram_bytes=_ram_from_name(r.get("device") or ""),
            source=(r.get("source_url_or_repo_path") or "").strip(),
            notes=notes,
        ))
    return out


def read_llama_bench_json(path: Path, raw: bytes | None = None) -> list[Measurement]:
    """Parse ``llama-bench -o json`` output (a list of test objects; ``raw``: the file's bytes, already read).
    Raises ``MeasurementError``."""
    raw = raw if raw is not None else _read(path)
    if json_too_deep(raw):
        raise MeasurementError(f"{path}: not llama-bench JSON: it nests too deeply")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or an integer of too many digits
        raise MeasurementError(f"{path}: not llama-bench JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise MeasurementError(f"{path}: llama-bench JSON must be a list of test objects")
    return [from_llama_bench_test(t, i, str(path)) for i, t in enumerate(data)]


def from_llama_bench_test(t: dict, i: int, source: str) -> Measurement:
    """One llama-bench test object (JSON, JSONL or a CSV row with numbers converted) as a ``Measurement``.
    Raises ``MeasurementError`` when it lacks n_prompt/n_gen/avg_ts."""
    try:
        n_prompt = int(t.get("n_prompt") or 0)
        n_gen = int(t.get("n_gen") or 0)
        depth = int(t.get("n_depth") or 0)
        rate = float(t["avg_ts"])
    except (KeyError, TypeError, ValueError):
        raise MeasurementError(f"{source}: test {i} lacks n_prompt/n_gen/avg_ts") from None
    backends = str(t.get("backends") or t.get("backend") or "")
    params = t.get("model_n_params")
    gpus = [g for g in str(t.get("gpu_info") or "").split(",") if g.strip()]
    ngl = t.get("n_gpu_layers")
    flash = t.get("flash_attn")
    return Measurement(
        row=i,
        engine=f"llama.cpp ({backends})",
        runtime="llama.cpp",
        backend=_backend(backends) if backends else "cpu",
        device=(gpus[0].strip() if gpus else str(t.get("cpu_info") or "CPU")),
        device_count=max(1, len(gpus)),
        model=_model_name(t),
        params_b=float(params) / 1e9 if params else None,
        active_params_b=None,
        quant=_quant_from_type(str(t.get("model_type") or "")),
        file_size_bytes=int(t["model_size"]) if t.get("model_size") else None,
        prompt_tokens=n_prompt or None,
        prompt_depth_tokens=depth,
        decode_depth_tokens=depth + n_gen / 2,
        prefill_tokens_per_s=rate if n_prompt and not n_gen else None,
        decode_tokens_per_s=rate if n_gen and not n_prompt else None,
        batch_size=1,
        # -1 is "auto" in newer builds (on where the backend supports it), 1 "on", 0 "off".
        flash_attention=bool(flash) if not isinstance(flash, str) else flash not in ("0", "off", "false"),
        ubatch_tokens=int(t.get("n_ubatch") or 512),
        all_layers_on_gpu=isinstance(ngl, int) and (ngl >= 99 or ngl == -1) and bool(gpus),
        threads=int(t["n_threads"]) if isinstance(t.get("n_threads"), int) else None,
        source=source,
        notes=str(t.get("test_time") or ""),
    )


def _model_name(test: dict) -> str:
    """The model of a llama-bench test: its file name without folder and extension (it usually names the
    model, "Meta-Llama-3-8B-Instruct-Q4_K_M.gguf"), else llama.cpp's type label ("llama 8B Q4_K - Medium")."""
    filename = str(test.get("model_filename") or "")
    if filename:
        stem = re.split(r"[\\/]", filename)[-1]
        stem = re.sub(r"(-\d{5}-of-\d{5})?\.gguf$", "", stem, flags=re.IGNORECASE)
        if stem:
            return stem
    return str(test.get("model_type") or "unknown")


def _quant_from_type(model_type: str) -> str:
    """"llama 7B Q4_0" -> "Q4_0"; "llama 8B Q4_K - Medium" -> "Q4_K_M"."""
    m = re.search(r"\b(I?Q\d_\w+|F16|BF16|F32|MXFP4)\b(?:\s*-\s*(Small|Medium|Large))?", model_type)
    if not m:
        return model_type.split()[-1] if model_type.split() else "unknown"
    name = m.group(1)
    if m.group(2):
        name += "_" + m.group(2)[0]
    return name


def read_measurements(path: str | Path) -> list[Measurement]:
    """Read measurements from a speed.csv-format file or llama-bench JSON (by content, not extension).

    Raises ``MeasurementError`` for a missing, unreadable or unrecognised file.
    """
    p = Path(path)
    data = _read(p)
    head = data[:2048].lstrip()
    if head.startswith(b"[") or head.startswith(b"{"):
        return read_llama_bench_json(p, data)
    return read_speed_csv(p, data)


def _read(path: Path) -> bytes:
    """The file's bytes: a regular file of at most ``MAX_MEASUREMENTS_BYTES``. Raises ``MeasurementError``."""
    try:
        return read_capped(path, MAX_MEASUREMENTS_BYTES, "measurements file")
    except FileNotFoundError:
        raise MeasurementError(f"cannot read {path}: no such file") from None
    except FileReadError as exc:
        raise MeasurementError(str(exc)) from None
