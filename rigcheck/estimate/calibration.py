"""Published speed measurements (speed.csv, ``llama-bench -o json``) and the estimator's error against them.

``read_measurements(path)`` parses either format into ``Measurement`` rows, reading the specifics out of
each row: prompt-processing vs generation tests, the KV depth (``@dN``), llama-batched-bench rows
(aggregate decode over B sequences), TensorRT-LLM ``max_load`` rows, multi-GPU rows, flash attention,
ubatch size, out-of-memory reports and CAVEAT notes. ``validate(measurements, catalog)`` estimates each
row on the machine it names and reports the error per platform and the fit agreement.
``fit_constants(...)`` re-derives the efficiency constants of ``estimate/efficiency.py`` from the rows.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory

GIB = 1024**3


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


def read_speed_csv(path: Path) -> list[Measurement]:
    """Parse a file in speed.csv's format. Raises ``MeasurementError`` when columns are missing."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
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


def read_llama_bench_json(path: Path) -> list[Measurement]:
    """Parse ``llama-bench -o json`` output (a list of test objects). Raises ``MeasurementError``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MeasurementError(f"{path}: not llama-bench JSON: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise MeasurementError(f"{path}: llama-bench JSON must be a list of test objects")
    out: list[Measurement] = []
    for i, t in enumerate(data):
        try:
            n_prompt = int(t.get("n_prompt") or 0)
            n_gen = int(t.get("n_gen") or 0)
            depth = int(t.get("n_depth") or 0)
            rate = float(t["avg_ts"])
        except (KeyError, TypeError, ValueError):
            raise MeasurementError(f"{path}: test {i} lacks n_prompt/n_gen/avg_ts") from None
        backends = str(t.get("backends") or t.get("backend") or "")
        params = t.get("model_n_params")
        gpus = [g for g in str(t.get("gpu_info") or "").split(",") if g.strip()]
        ngl = t.get("n_gpu_layers")
        out.append(Measurement(
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
            flash_attention=bool(t.get("flash_attn")),
            ubatch_tokens=int(t.get("n_ubatch") or 512),
            all_layers_on_gpu=isinstance(ngl, int) and ngl >= 99 and bool(gpus),
            threads=int(t["n_threads"]) if isinstance(t.get("n_threads"), int) else None,
            source=str(path),
        ))
    return out


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
    try:
        head = p.read_bytes()[:2048].lstrip()
    except OSError as exc:
        raise MeasurementError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head.startswith(b"[") or head.startswith(b"{"):
        return read_llama_bench_json(p)
    return read_speed_csv(p)


# ---------------------------------------------------------------------------------------------------------
# Matching rows to the catalog


def resolve_device_name(name: str, devices: list[Device]) -> Device | None:
    """The device a messy published name denotes ("NVIDIA H100 SXM 80GB (DGX H100)",
    'AMD Ryzen AI Max+ 395 "Strix Halo" (Radeon 8060S iGPU ...)'), resolved as probed names are."""
    from rigcheck.catalog.devices import resolve

    candidates = [name, re.sub(r"\s*\(.*?\)", "", name).strip()]
    candidates.append(re.sub(r'"[^"]*"', "", candidates[-1]).strip())
    candidates.extend(re.findall(r'"([^"]+)"', name))
    for inner in re.findall(r"\(([^)]*)\)", name):
        candidates.extend(part.strip() for part in re.split(r"[;,]", inner))
    m = re.search(r"\((\d+)-core GPU\)", name)
    cores = int(m.group(1)) if m else None
    for candidate in candidates:
        if not candidate:
            continue
        device = resolve(candidate, gpu_cores=cores, devices=devices)
        if device is not None:
            return device
        # Drop trailing words one at a time ("Radeon 8060S iGPU gfx1151" -> "Radeon 8060S").
        words = candidate.split()
        for n in range(len(words) - 1, 1, -1):
            device = resolve(" ".join(words[:n]), gpu_cores=cores, devices=devices)
            if device is not None:
                return device
    return None


_QUANT_SUFFIX = re.compile(r"([-._](ud-)?(i?q\d\w*|f16|bf16|mxfp4|fp8)(_\w+)?)$", re.IGNORECASE)


def _norm(text: str) -> str:
    return re.sub(r"[\s_.]+", "-", text.strip().lower())


_VARIANT_SUFFIX = re.compile(r"-(instruct|chat|it|hf|base|gguf)$")


def match_model(name: str, params_b: float | None, catalog: Catalog) -> Model | None:
    """The catalog model a published model name denotes, checked against its parameter count.

    The quant suffix is dropped ("gpt-oss-20b-mxfp4", "llama-2-7b.Q4_0"); when nothing matches, so are
    variant suffixes ("-Instruct", "-chat", "-it"), which share the architecture.
    """
    base = _QUANT_SUFFIX.sub("", name.strip())
    base = _QUANT_SUFFIX.sub("", base)
    query = _norm(base)
    while query:
        found = []
        for model in catalog.models:
            names = [model.id.split("/", 1)[-1], model.id, *(model.aliases or [])]
            if any(query in _norm(n) for n in names):
                found.append(model)
        if params_b:
            # A different size of the same family is a different model; an unknown size is let through.
            found = [m for m in found
                     if not m.params_total_b or abs(m.params_total_b - params_b) <= 0.06 * params_b]
        if found:
            # Prefer the base repo over instruct/derived ones: the shortest id (same architecture).
            return min(found, key=lambda m: (len(m.id), m.id))
        shorter = _VARIANT_SUFFIX.sub("", query)
        if shorter == query:
            return None
        query = shorter
    return None


def generic_model(name: str, params_b: float, active_b: float | None) -> Model:
    """A Llama-like model of ``params_b`` billion parameters, for rows whose model is not in the catalog.

    Assumes grouped-query attention with 8 KV heads and a 128k vocabulary (the modern default); MoE when
    ``active_b`` is well below ``params_b`` (8 of 128 experts).
    """
    moe = active_b is not None and active_b < 0.8 * params_b
    return Model(
        id=f"generic/{_norm(name)}", family="generic", name=name,
        params_total_b=params_b, params_active_b=active_b or params_b,
        num_kv_heads=8, vocab_size=128_000, attention="gqa",
        moe_num_experts=128 if moe else None, moe_experts_per_token=8 if moe else None,
        notes="built from the measurement's parameter count: not in the catalog",
    )


def _clean_quant(name: str) -> str:
    q = name.split("(")[0].strip()
    return q.upper() if q.lower() in ("mxfp4", "fp8", "f16", "bf16") else q


def quant_for(measurement: Measurement, model: Model) -> Quant:
    """The quant of a row: the catalog's of that name when there is one, the row's file size when given."""
    from rigcheck.estimate.memory import BITS_PER_WEIGHT

    name = _clean_quant(measurement.quant)
    runtimes = ["llama.cpp"] if measurement.runtime == "llama.cpp" else ["vllm"]
    fmt = "gguf" if measurement.runtime == "llama.cpp" else ("fp8" if "FP8" in name.upper() else "safetensors")
    existing = next((q for q in model.quants if q.name.casefold() == name.casefold() and q.format == fmt), None)
    bits = existing.bits_per_weight if existing else BITS_PER_WEIGHT.get(name.upper().replace("UD-", ""), 4.8)
    size = measurement.file_size_bytes or (existing.file_size_bytes if existing else None)
    return Quant(name=name, format=fmt, bits_per_weight=bits, file_size_bytes=size,
                 size_is_estimate=measurement.file_size_bytes is None and (existing is None or existing.size_is_estimate),
                 runtimes=runtimes)


# ---------------------------------------------------------------------------------------------------------
# Validation


@dataclass
class RowResult:
    measurement: Measurement
    model_id: str
    quant: str
    device: str
    verdict: str
    prefill_expected: float | None
    decode_expected: float | None
    platform: str
    model_note: str | None = None
    prefill_used: bool = True
    """False when the row's prefill is excluded from the error figures (CAVEAT)."""

    def to_dict(self) -> dict[str, object]:
        m = self.measurement
        return {
            "row": m.row,
            "model_id": self.model_id,
            "quant": self.quant,
            "device": self.device,
            "device_count": m.device_count,
            "platform": self.platform,
            "verdict": self.verdict,
            "prefill_expected": _round(self.prefill_expected),
            "decode_expected": _round(self.decode_expected),
            "measured_prefill": m.prefill_tokens_per_s,
            "measured_decode": m.decode_tokens_per_s,
            "batch_size": m.batch_size,
            "prefill_error_pct": _error_pct(self.prefill_expected, m.prefill_tokens_per_s),
            "decode_error_pct": _error_pct(self.decode_expected, m.decode_tokens_per_s),
            **({"note": self.model_note} if self.model_note else {}),
            **({"caveat": m.caveat} if m.caveat else {}),
        }


def _error_pct(predicted: float | None, measured: float | None) -> float | None:
    """(predicted - measured) / measured in percent; None when either is missing."""
    if not predicted or not measured:
        return None
    return round((predicted - measured) / measured * 100.0, 1)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


@dataclass
class ErrorStats:
    count: int
    median_pct: float | None
    p90_pct: float | None
    median_signed_pct: float | None

    def to_dict(self) -> dict[str, object]:
        return {"count": self.count, "median_abs_pct_error": _round(self.median_pct),
                "p90_abs_pct_error": _round(self.p90_pct), "median_signed_pct_error": _round(self.median_signed_pct)}


@dataclass
class ValidationReport:
    rows: list[RowResult] = field(default_factory=list)
    skipped: list[dict[str, object]] = field(default_factory=list)
    fit_checked: int = 0
    fit_disagreements: list[dict[str, object]] = field(default_factory=list)

    def errors(self, kind: str, platform: str | None = None) -> ErrorStats:
        """Absolute percentage error of ``kind`` ("prefill" or "decode"), over all rows or one platform."""
        values = []
        for r in self.rows:
            if platform is not None and r.platform != platform:
                continue
            if kind == "prefill":
                if not r.prefill_used:
                    continue
                measured, predicted = r.measurement.prefill_tokens_per_s, r.prefill_expected
            else:
                measured, predicted = r.measurement.decode_tokens_per_s, r.decode_expected
            if measured and predicted:
                values.append((predicted - measured) / measured * 100.0)
        return _stats(values)

    def platforms(self) -> list[str]:
        return sorted({r.platform for r in self.rows})

    @property
    def fit_agreement(self) -> float | None:
        if not self.fit_checked:
            return None
        return 1.0 - len(self.fit_disagreements) / self.fit_checked

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": "rigcheck.validate/1",
            "summary": {
                "prefill": self.errors("prefill").to_dict(),
                "decode": self.errors("decode").to_dict(),
                "per_platform": {p: {"prefill": self.errors("prefill", p).to_dict(),
                                     "decode": self.errors("decode", p).to_dict()} for p in self.platforms()},
                "fit_agreement": _round(self.fit_agreement),
                "fit_checked": self.fit_checked,
                "fit_disagreements": self.fit_disagreements,
            },
            "rows": [r.to_dict() for r in self.rows],
            "skipped": self.skipped,
        }


def _percentile(sorted_values: list[float], q: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _stats(signed: list[float]) -> ErrorStats:
    if not signed:
        return ErrorStats(0, None, None, None)
    absolute = sorted(abs(v) for v in signed)
    return ErrorStats(len(signed), _percentile(absolute, 0.5), _percentile(absolute, 0.9),
                      _percentile(sorted(signed), 0.5))


def platform_of(m: Measurement) -> str:
    name = {"cuda": "CUDA", "metal": "Metal", "rocm": "ROCm", "vulkan": "Vulkan", "cpu": "CPU"}[m.backend]
    label = f"{m.runtime} {name}"
    if (m.batch_size or 1) > 1:
        label += " batched"
    return label


def machine_for(device: Device, count: int, ram_bytes: int | None) -> Machine:
    """The machine a measurement row describes: ``count`` of ``device`` from the spec table.

    RAM is the row's when it names it; else the unified part's largest configuration, or 256 GiB for a
    discrete-GPU server (the rows ran everything on the GPU, so RAM only matters for out-of-memory rows,
    where it is not used for fit agreement).
    """
    if ram_bytes is None:
        if device.unified_memory:
            ram_bytes = max([device.memory_bytes or 0, *device.memory_options_bytes]) or 64 * GIB
        else:
            ram_bytes = 256 * GIB
    vendor = device.vendor.lower()
    gpus = tuple(
        Gpu(index=i, vendor=vendor if vendor in ("nvidia", "amd", "intel", "apple") else "nvidia",  # type: ignore[arg-type]
            name=device.name, vram_total_bytes=None if device.unified_memory else device.memory_bytes,
            unified_memory=device.unified_memory, memory_bandwidth_bytes_per_s=device.bandwidth_bytes_per_s,
            gpu_cores=device.gpu_cores, pcie_gen_max=device.pcie_gen,
            sources={"vram_total_bytes": "spec table", "memory_bandwidth_bytes_per_s": "spec table"})
        for i in range(count))
    return Machine(gpus=gpus, cpu=Cpu(), memory=Memory(total_bytes=ram_bytes), origin="hypothetical",
                   label=f"{count} x {device.name}")


def validate(measurements: list[Measurement], catalog: Catalog) -> ValidationReport:
    """Estimate every measurement on the machine it names and compare. Never raises for a bad row:
    such rows are listed in ``skipped`` with the reason."""
    from rigcheck.estimate.estimator import Estimator
    from rigcheck.estimate.memory import ShapeError
    from rigcheck.estimate.speed import serving_throughput
    from rigcheck.estimate.types import Settings

    report = ValidationReport()
    for m in measurements:
        def skip(reason: str, m: Measurement = m) -> None:
            report.skipped.append({"row": m.row, "model": m.model, "device": m.device, "reason": reason})

        if m.max_load:
            skip("whole-system TensorRT-LLM throughput at maximum load (batch size not reported): not "
                 "comparable with a single-stream or fixed-batch estimate")
            continue
        if m.runtime != "llama.cpp":
            skip(f"runtime {m.runtime} is not estimated")
            continue
        device = None if m.backend == "cpu" else resolve_device_name(m.device, catalog.devices)
        if device is None and m.backend != "cpu":
            skip(f"device {m.device!r} is not in the device table")
            continue
        model = match_model(m.model, m.params_b, catalog)
        note = None
        if model is None:
            if not m.params_b:
                skip(f"model {m.model!r} is not in the catalog and the row gives no parameter count")
                continue
            model = generic_model(m.model, m.params_b, m.active_params_b)
            note = f"model {m.model!r} not in the catalog: generic {m.params_b:g}B shape assumed"
        quant = quant_for(m, model)
        if device is not None:
            machine = machine_for(device, m.device_count, m.ram_bytes)
        else:  # a CPU run: the CPU as named, with the threads it used as cores
            machine = Machine(gpus=(), cpu=Cpu(model=m.device, physical_cores=m.threads),
                              memory=Memory(total_bytes=m.ram_bytes or 256 * GIB), origin="hypothetical",
                              label=m.device)
        device_name = device.name if device is not None else m.device
        prompt = m.prompt_tokens or 512
        context = prompt + m.prompt_depth_tokens
        if (m.batch_size or 1) == 1 and not re.search(r"@\s*d|batched", m.engine + " " + m.source):
            context = max(context, int(m.decode_depth_tokens * 2))
        settings = Settings(context_tokens=context, prompt_tokens=prompt)
        estimator = Estimator(machine, catalog.devices, settings, flash_attention=m.flash_attention,
                              backend=m.backend)
        try:
            shape = estimator.shape(model)
        except ShapeError as exc:
            skip(str(exc))
            continue
        est = estimator.estimate(shape, quant, "llama.cpp", prompt_depth_tokens=m.prompt_depth_tokens,
                                 decode_depth_tokens=m.decode_depth_tokens, ubatch_tokens=m.ubatch_tokens)
        prefill = est.prefill_tokens_per_s.expected if est.prefill_tokens_per_s else None
        decode = est.decode_tokens_per_s.expected if est.decode_tokens_per_s else None
        if (m.batch_size or 1) > 1 and decode is not None and device is not None:
            # llama-batched-bench: decode is the total over B sequences.
            decode = serving_throughput(model, quant, [device] * m.device_count, m.batch_size,
                                        int(m.decode_depth_tokens)).expected
        platform = platform_of(m)
        result = RowResult(m, model.id, quant.name, device_name, est.verdict, prefill, decode, platform,
                           note, prefill_used=m.caveat is None)
        if m.oom or m.all_layers_on_gpu:
            report.fit_checked += 1
            on_gpu = est.verdict in ("gpu", "unified")
            if m.oom == on_gpu:
                report.fit_disagreements.append({
                    "row": m.row, "device": device_name, "model_id": model.id, "quant": quant.name,
                    "verdict": est.verdict,
                    "measured": "out of memory" if m.oom else "all layers on the GPU",
                })
        report.rows.append(result)  # out-of-memory rows too: no speed, but their verdict is checked
    return report


# ---------------------------------------------------------------------------------------------------------
# Fitting the efficiency constants

# Which constants are fitted on which platform: few rows (ROCm, Vulkan) fit only the two that matter
# most; the rest are shared with llama.cpp CUDA, whose rows are many.
FIT_PARAMETERS: dict[str, tuple[str, ...]] = {
    "cuda": ("decode_f16", "decode_quant", "decode_bandwidth_ceiling", "decode_overhead_s_per_layer",
             "extra_gpu_overhead_s", "prefill_f16", "prefill_quant", "prefill_overhead_s_per_layer_token",
             "score_passes", "attention_efficiency", "decode_kv_slowdown_no_fa"),
    "metal": ("decode_f16", "decode_quant", "decode_overhead_s_per_layer", "prefill_f16", "prefill_quant",
              "decode_kv_slowdown_no_fa"),
    "rocm": ("decode_quant", "decode_overhead_s_per_layer", "prefill_quant", "attention_efficiency"),
    "vulkan": ("decode_quant", "decode_overhead_s_per_layer", "prefill_quant", "attention_efficiency"),
}


def constant_value(eff, name: str) -> float:
    """One constant of an ``Efficiency`` by its ``FIT_PARAMETERS`` name."""
    if name.startswith("decode_") and name in ("decode_f16", "decode_quant"):
        return eff.decode_bandwidth[name.split("_", 1)[1]]
    if name in ("prefill_f16", "prefill_quant"):
        return eff.prefill_compute[name.split("_", 1)[1]]
    return getattr(eff, name)


def with_constant(eff, name: str, value: float):
    """A copy of ``eff`` with one constant (``FIT_PARAMETERS`` name) changed."""
    import dataclasses

    if name in ("decode_f16", "decode_quant"):
        return dataclasses.replace(eff, decode_bandwidth={**eff.decode_bandwidth, name.split("_", 1)[1]: value})
    if name in ("prefill_f16", "prefill_quant"):
        return dataclasses.replace(eff, prefill_compute={**eff.prefill_compute, name.split("_", 1)[1]: value})
    return dataclasses.replace(eff, **{name: value})


def objective(report: ValidationReport, platform_prefix: str) -> float:
    """Median plus half the 90th percentile of the absolute errors, decode and prefill, on one platform."""
    total = 0.0
    for kind in ("decode", "prefill"):
        values = []
        for p in report.platforms():
            if p.startswith(platform_prefix):
                s = report.errors(kind, p)
                if s.count:
                    values.append((s.median_pct + 0.5 * s.p90_pct, s.count))
        n = sum(c for _, c in values)
        total += sum(v * c for v, c in values) / n if n else 0.0
    return total


def fit_constants(measurements: list[Measurement], catalog: Catalog, backend: str,
                  sweeps: int = 2) -> tuple[object, float, float]:
    """Coordinate descent on the constants of llama.cpp on ``backend`` (``FIT_PARAMETERS``).

    Returns (fitted Efficiency, objective before, objective after). Slow (tens of seconds): used by the
    benchmark and when re-calibrating, not in unit tests. Leaves ``EFFICIENCY`` as it found it.
    """
    from rigcheck.estimate import efficiency as eff_mod

    key = ("llama.cpp", backend)
    rows = [m for m in measurements if m.runtime == "llama.cpp" and m.backend == backend]
    prefix = platform_of(rows[0]).removesuffix(" batched") if rows else ""
    original = eff_mod.EFFICIENCY[key]

    def score(candidate) -> float:
        eff_mod.EFFICIENCY[key] = candidate
        try:
            return objective(validate(rows, catalog), prefix)
        finally:
            eff_mod.EFFICIENCY[key] = original

    best = original
    start = best_score = score(best)
    for sweep in range(sweeps):
        step = 1.25 if sweep == 0 else 1.1
        for name in FIT_PARAMETERS.get(backend, ()):
            value = constant_value(best, name)
            if value is None or value <= 0:
                continue
            for factor in (step, 1 / step, step * step, 1 / (step * step)):
                trial_value = value * factor
                if name in ("decode_f16", "decode_quant") and trial_value > 1.0:
                    continue  # never above the roofline
                trial = with_constant(best, name, trial_value)
                s = score(trial)
                if s < best_score - 1e-9:
                    best, best_score = trial, s
                    break
    return best, start, best_score


def band_multipliers(report: ValidationReport, platform_prefix: str, kind: str,
                     minimum: float = 0.15) -> tuple[float, float] | None:
    """(low, high) multipliers of the expected value: the 10th and 90th percentiles of measured /
    predicted on the platform's rows, widened to at least +-``minimum`` (builds alone move results by
    about that much). None when the platform has fewer than 5 rows."""
    ratios = []
    for r in report.rows:
        if not r.platform.startswith(platform_prefix):
            continue
        if kind == "prefill":
            measured, predicted = (r.measurement.prefill_tokens_per_s if r.prefill_used else None), r.prefill_expected
        else:
            measured, predicted = r.measurement.decode_tokens_per_s, r.decode_expected
        if measured and predicted:
            ratios.append(measured / predicted)
    if len(ratios) < 5:
        return None
    ratios.sort()
    return (min(_percentile(ratios, 0.1), 1 - minimum), max(_percentile(ratios, 0.9), 1 + minimum))
