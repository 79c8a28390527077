"""Published serving measurements (serving.csv's columns) and the serving model's error against them.

Each row names an engine, a node (GPU and count), a layout, a model and precision, input and output lengths
and a concurrency ("max (offline)", "N (static batch)" or a number), and the measured output tokens/s, with
per-user tokens/s and time to first token where published. ``validate_serving`` estimates every row with
``rigcheck.estimate.serve`` on the node it names and reports median and 90th-percentile |estimate /
published - 1|; a row that cannot be estimated counts as a miss (an infinite error).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from rigcheck.catalog.records import Catalog, Model, Quant
from rigcheck.estimate.calibration.matching import machine_for, match_model, resolve_device_name
from rigcheck.estimate.calibration.measurements import MAX_MEASUREMENTS_BYTES, MeasurementError
from rigcheck.estimate.calibration.validation import percentile
from rigcheck.estimate.engines import (
    CURRENT_SINCE,
    ENGINES,
    TRTLLM,
    ServingEngine,
    engine_as_of,
    engine_for_text,
)
from rigcheck.probe.files import FileReadError, read_capped

REQUIRED_COLUMNS = ("engine", "gpu", "gpu_count", "model", "precision", "input_len", "output_len", "concurrency",
                    "output_tok_s_total")


@dataclass(frozen=True)
class ServingMeasurement:
    """One published node-level measurement."""

    row: int
    engine: str
    gpu: str
    gpu_count: int
    parallelism: str
    model: str
    precision: str
    input_tokens: int
    output_tokens: int
    concurrency: int | None
    """None for "max (offline)"."""
    static: bool
    output_tokens_per_s: float
    input_tokens_per_s: float | None = None
    per_user_tokens_per_s: float | None = None
    ttft_s: float | None = None
    date: str | None = None
    """When the measurement was published (YYYY-MM-DD or YYYY-MM): the ``date`` column, else the first date
    the row's notes give; None when neither does (the engines' current releases are assumed)."""
    source: str = ""


def _number(text: str | None) -> float | None:
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _concurrency(text: str) -> tuple[int | None, bool]:
    low = text.strip().lower()
    if low.startswith("max"):
        return None, False
    m = re.match(r"(\d+)", low)
    if not m:
        raise ValueError(f"concurrency {text!r} is neither a number, 'max (offline)' nor 'N (static batch)'")
    return int(m.group(1)), "static" in low


_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}


def date_of(*texts: str) -> str | None:
    """The first date in ``texts``: ISO (2025-03-18, 2025-03) or "Oct 10 2024" / "October 10, 2024"."""
    for text in texts:
        if not text:
            continue
        m = re.search(r"\b(20\d\d)-(\d\d)(?:-(\d\d))?\b", text)
        if m:
            return "-".join(x for x in m.groups() if x)
        m = re.search(r"\b([A-Z][a-z]{2})[a-z]*\.? (\d{1,2}),? (20\d\d)\b", text)
        if m and m.group(1).lower() in _MONTHS:
            return f"{m.group(3)}-{_MONTHS[m.group(1).lower()]:02d}-{int(m.group(2)):02d}"
    return None


def read_serving_csv(path: str | Path) -> list[ServingMeasurement]:
    """The rows of a serving CSV. Raises MeasurementError for a missing file, a missing column or a bad row."""
    path = Path(path)
    try:
        text = read_capped(path, MAX_MEASUREMENTS_BYTES, "measurements file").decode("utf-8")
    except FileNotFoundError:
        raise MeasurementError(f"{path}: no such file") from None
    except FileReadError as exc:  # a device, a FIFO, a folder, too large: never hang on it
        raise MeasurementError(str(exc)) from None
    except UnicodeDecodeError:
        raise MeasurementError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise MeasurementError(f"{path}: not a serving CSV (missing columns: {', '.join(missing)})")
    rows = []
    for i, r in enumerate(reader):
        try:
            concurrency, static = _concurrency(r["concurrency"])
            count = int(_number(r["gpu_count"]) or 0)
            isl, osl = int(_number(r["input_len"]) or 0), int(_number(r["output_len"]) or 0)
            output = _number(r["output_tok_s_total"])
            if count < 1 or isl < 1 or osl < 1 or not output:
                raise ValueError("gpu_count, input_len, output_len and output_tok_s_total must be positive numbers")
        except ValueError as exc:
            raise MeasurementError(f"{path}: row {i + 1}: {exc}") from None
        rows.append(ServingMeasurement(
            row=i, engine=r["engine"], gpu=r["gpu"], gpu_count=count, parallelism=r.get("parallelism") or "",
            model=r["model"], precision=r["precision"], input_tokens=isl, output_tokens=osl,
            concurrency=concurrency, static=static, output_tokens_per_s=output,
            input_tokens_per_s=_number(r.get("input_tok_s_total")),
            per_user_tokens_per_s=_number(r.get("per_user_tok_s")), ttft_s=_number(r.get("ttft_s")),
            date=date_of(r.get("date") or "", r.get("notes") or ""), source=r.get("source") or ""))
    return rows


def engine_of(m: ServingMeasurement) -> ServingEngine:
    """The row's engine; NVIDIA NIM's optimized LLM profiles run TensorRT-LLM."""
    engine = engine_for_text(m.engine)
    if engine is None and "nim" in m.engine.lower():
        engine = TRTLLM
    return engine_as_of(engine or TRTLLM, m.date)


def layout_of(m: ServingMeasurement) -> tuple[int, bool]:
    """(GPUs per replica, expert parallel) from the row's parallelism: "TP8", "TP8 EP8", "DEP4" (attention
    data parallel + expert parallel: one GPU per replica), "TP4 EP1"; all GPUs tensor-parallel when unstated."""
    text = m.parallelism.upper()
    if re.search(r"\bDEP\d+", text):
        return 1, True
    tp = re.search(r"\bTP(\d+)", text)
    ep = re.search(r"\bEP(\d+)", text)
    size = int(tp.group(1)) if tp else m.gpu_count
    return min(size, m.gpu_count), bool(ep and int(ep.group(1)) > 1)


def quant_of(m: ServingMeasurement, model: Model, vendor: str) -> Quant | None:
    """The catalog quant the row's precision denotes: FP8; NVFP4 ("FP4" on NVIDIA) or MXFP4 ("FP4" on AMD,
    or a checkpoint the row says ships MXFP4); BF16."""
    text = m.precision.upper()
    by_format = {q.format: q for q in model.quants}
    if "MXFP4" in text or ("FP4" in text and vendor == "amd"):
        return by_format.get("mxfp4")
    if "FP4" in text:
        return by_format.get("nvfp4")
    if "FP8" in text:
        return by_format.get("fp8") or by_format.get("mxfp4")
    if "BF16" in text or "FP16" in text:
        return by_format.get("safetensors")
    return by_format.get("fp8") or by_format.get("safetensors")


@dataclass
class ServingRowResult:
    measurement: ServingMeasurement
    model_id: str | None
    quant: str | None
    engine: str
    layout: str | None
    output_expected: float | None
    per_user_expected: float | None
    ttft_expected: float | None
    input_expected: float | None
    max_concurrency: int | None
    refused: str | None = None

    def error(self, kind: str) -> float | None:
        """|estimate / published - 1| for "output" or "per_user"; inf for a refused row; None when unpublished."""
        m = self.measurement
        published = m.output_tokens_per_s if kind == "output" else m.per_user_tokens_per_s
        if published is None:
            return None
        estimate = self.output_expected if kind == "output" else self.per_user_expected
        if self.refused is not None or not estimate:
            return math.inf
        return abs(estimate / published - 1.0)

    def to_dict(self) -> dict[str, object]:
        m = self.measurement

        def ratio(kind: str) -> float | None:
            e = self.error(kind)
            return None if e is None or math.isinf(e) else round(e * 100.0, 1)

        return {
            "row": m.row, "engine": self.engine, "date": m.date, "gpu": m.gpu, "gpu_count": m.gpu_count, "layout": self.layout,
            "model_id": self.model_id, "quant": self.quant, "input_len": m.input_tokens, "output_len": m.output_tokens,
            "concurrency": "max" if m.concurrency is None else m.concurrency, "static": m.static,
            "published_output_tokens_per_s": m.output_tokens_per_s,
            "estimated_output_tokens_per_s": _round(self.output_expected),
            "output_abs_error_pct": ratio("output"),
            "published_per_user_tokens_per_s": m.per_user_tokens_per_s,
            "estimated_per_user_tokens_per_s": _round(self.per_user_expected),
            "per_user_abs_error_pct": ratio("per_user"),
            "published_ttft_s": m.ttft_s, "estimated_ttft_s": _round(self.ttft_expected),
            "max_concurrency": self.max_concurrency, "refused": self.refused,
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


@dataclass
class ServingReport:
    rows: list[ServingRowResult] = field(default_factory=list)

    def errors(self, kind: str) -> list[float]:
        return [e for r in self.rows if (e := r.error(kind)) is not None]

    def summary(self, kind: str) -> dict[str, object]:
        values = sorted(self.errors(kind))
        if not values:
            return {"count": 0, "median_abs_error_pct": None, "p90_abs_error_pct": None}

        def pct(q: float) -> float | None:
            v = percentile(values, q) if not any(math.isinf(x) for x in values) else _inf_percentile(values, q)
            return None if math.isinf(v) else round(v * 100.0, 1)

        return {"count": len(values), "median_abs_error_pct": pct(0.5), "p90_abs_error_pct": pct(0.9)}

    @property
    def refused(self) -> list[ServingRowResult]:
        return [r for r in self.rows if r.refused is not None]

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": "rigcheck.validate-serving/1",
            "summary": {"output_tokens_per_s": self.summary("output"),
                        "per_user_tokens_per_s": self.summary("per_user"),
                        "rows": len(self.rows), "refused": len(self.refused)},
            "rows": [r.to_dict() for r in self.rows],
        }


def _inf_percentile(values: list[float], q: float) -> float:
    """``percentile`` over values that may hold infinities (refused rows sort last)."""
    pos = q * (len(values) - 1)
    lo, hi = int(math.floor(pos)), min(int(math.floor(pos)) + 1, len(values) - 1)
    if math.isinf(values[hi]) and pos > lo:
        return math.inf
    if math.isinf(values[lo]):
        return math.inf
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def validate_serving(measurements: list[ServingMeasurement], catalog: Catalog) -> ServingReport:
    """Estimate every row on the node it names. Never raises for a bad row: it is kept, refused, with why."""
    from rigcheck.estimate.serve import ServeError, ServeRequest, point_for, setup_serving

    report = ServingReport()
    devices = list(catalog.devices)
    for m in measurements:
        engine = engine_of(m)
        tp, ep = layout_of(m)
        engine_text = engine.name if engine is ENGINES.get(engine.name) else f"{engine.name} (<{CURRENT_SINCE})"

        def refuse(reason: str, model_id: str | None = None, quant: str | None = None,
                   m: ServingMeasurement = m, engine_text: str = engine_text) -> None:
            report.rows.append(ServingRowResult(m, model_id, quant, engine_text, None, None, None, None, None, None,
                                                refused=reason))

        device = resolve_device_name(m.gpu, devices)
        if device is None:
            refuse(f"GPU {m.gpu!r} is not in the device table")
            continue
        model = match_model(m.model, None, catalog)
        if model is None:
            refuse(f"model {m.model!r} is not in the catalog")
            continue
        quant = quant_of(m, model, device.vendor.lower())
        if quant is None:
            refuse(f"{model.id} has no {m.precision} quant in the catalog", model.id)
            continue
        release = f"@{m.date[:7]}" if m.date else ""
        request = ServeRequest(input_tokens=m.input_tokens, output_tokens=m.output_tokens,
                               concurrency=m.concurrency, static=m.static, engine=engine.name + release, tp=tp,
                               expert_parallel=ep and model.is_moe)
        machine = machine_for(device, m.gpu_count, None)
        try:
            setup = setup_serving(model, quant, machine, devices, request)
            point = point_for(setup, m.concurrency)
        except ServeError as exc:
            refuse(str(exc), model.id, quant.name)
            continue
        report.rows.append(ServingRowResult(
            m, model.id, quant.name, engine_text, setup.parallelism.label(), point.output_tokens_per_s,
            point.per_user_tokens_per_s, point.ttft_s, point.input_tokens_per_s, setup.max_concurrency))
    return report
