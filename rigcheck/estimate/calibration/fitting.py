"""Fitting the estimator to the measurements: the efficiency constants and the bands, re-derived from the rows.

``fit_constants`` runs coordinate descent on the llama.cpp constants of one backend (``FIT_PARAMETERS``)
against ``objective``; ``band_multipliers`` reads the low/high band multipliers off a validation report.
"""

from __future__ import annotations

import dataclasses

from rigcheck.catalog.records import Catalog
from rigcheck.estimate.calibration.measurements import Measurement
from rigcheck.estimate.calibration.validation import ValidationReport, percentile, platform_of, validate

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
    return (min(percentile(ratios, 0.1), 1 - minimum), max(percentile(ratios, 0.9), 1 + minimum))
