"""The estimator against published measurements: every row estimated on the machine it names, and the error.

``validate(measurements, catalog)`` reports the error per platform (median and 90th percentile of the
absolute percentage error, prefill and decode) and the fit agreement: rows measured with every layer on
the GPU must be judged gpu/unified, rows reported out of memory must not be.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from rigcheck.catalog.records import Catalog
from rigcheck.estimate.calibration.matching import (
    generic_model,
    machine_for,
    match_model,
    quant_for,
    resolve_device_name,
)
from rigcheck.estimate.calibration.measurements import GIB, Measurement
from rigcheck.probe.types import Cpu, Machine, Memory


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
                "fit_agreement": None if self.fit_agreement is None else round(self.fit_agreement, 4),
                "fit_checked": self.fit_checked,
                "fit_disagreements": self.fit_disagreements,
            },
            "rows": [r.to_dict() for r in self.rows],
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class SummaryRow:
    """One line of the error summary: a platform (or "all") with its prefill and decode error."""

    platform: str
    prefill: ErrorStats
    decode: ErrorStats

    @property
    def rows_text(self) -> str:
        """Rows behind the figures: "410", or "390/410" (prefill/decode) when some rows count for decode only."""
        p, d = self.prefill.count, self.decode.count
        return str(p) if p == d else f"{p}/{d}"


def summary_rows(report: ValidationReport) -> list[SummaryRow]:
    """The error summary every front end prints (``rigcheck validate``, ``make bench``; the README's and
    docs/estimator.md's accuracy tables are this table on the calibration data): one row per platform, then "all"."""
    return [SummaryRow(platform or "all", report.errors("prefill", platform), report.errors("decode", platform))
            for platform in [*report.platforms(), None]]


def pct_text(value: float | None) -> str:
    """An error figure as every summary prints it: one decimal ("10.7%"), "-" when there is none."""
    return "-" if value is None else f"{value:.1f}%"


def fit_agreement_text(report: ValidationReport) -> str:
    """"fit agreement: 100.0% of 364 rows (0 disagree)": one decimal, so 99.7% never reads as 100%."""
    if report.fit_agreement is None:
        return "fit agreement: no row says whether it fitted"
    return (f"fit agreement: {report.fit_agreement:.1%} of {report.fit_checked} rows "
            f"({len(report.fit_disagreements)} disagree)")


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) of ``sorted_values``, interpolated between neighbours."""
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
    return ErrorStats(len(signed), percentile(absolute, 0.5), percentile(absolute, 0.9),
                      percentile(sorted(signed), 0.5))


def platform_of(m: Measurement) -> str:
    name = {"cuda": "CUDA", "metal": "Metal", "rocm": "ROCm", "vulkan": "Vulkan", "cpu": "CPU"}[m.backend]
    label = f"{m.runtime} {name}"
    if (m.batch_size or 1) > 1:
        label += " batched"
    return label


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
