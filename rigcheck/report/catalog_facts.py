"""What the report takes from the catalog beside the estimates: quality ranks, hosted prices, names, version."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from rigcheck.catalog.records import Catalog, HostedOffer, Model, Score
from rigcheck.catalog.redact import redact_text, redact_url
from rigcheck.report.records import CatalogInfo, HostedRow, Quality

INPUT_SHARE = 0.75
"""Blended hosted price assumes 3 input tokens per output token (chat with context; OpenRouter-style mix)."""

# Which benchmarks speak for "quality", in order of preference for display.
_BENCH_LABELS = {
    "aa_index": "AA index",
    "artificial_analysis_intelligence_index": "AA index",
    "swe_bench_verified": "SWE-bench",
    "aider_polyglot": "Aider",
    "terminal_bench_2": "T-Bench 2",
}
_BENCH_ORDER = tuple(_BENCH_LABELS)


def quality_by_model(scores: Iterable[Score], models: Iterable[Model]) -> dict[str, Quality]:
    """Each scored model's representative score and rank.

    A model's rank is the mean of its percentiles over the benchmarks it has scores on (best score
    per benchmark), so models scored on different benchmarks can still be ordered; the displayed
    score is the one from the most widely comparable benchmark (AA index, then SWE-bench, ...).
    """
    best: dict[str, dict[str, Score]] = {}
    for s in scores:
        bench = best.setdefault(s.benchmark, {})
        if s.model_id not in bench or s.value > bench[s.model_id].value:
            bench[s.model_id] = s
    percentiles: dict[str, list[float]] = {}
    for bench_name, by_model in best.items():
        if bench_name not in _BENCH_LABELS:
            continue
        ordered = sorted(by_model.values(), key=lambda s: s.value)
        n = len(ordered)
        for i, s in enumerate(ordered):
            percentiles.setdefault(s.model_id, []).append((i + 1) / n if n > 1 else 1.0)
    out: dict[str, Quality] = {}
    known = {m.id for m in models}
    for model_id, ps in percentiles.items():
        if model_id not in known:
            continue
        shown = next(best[b][model_id] for b in _BENCH_ORDER if b in best and model_id in best[b])
        out[model_id] = Quality(
            benchmark=shown.benchmark,
            label=_BENCH_LABELS[shown.benchmark],
            value=shown.value,
            rank=sum(ps) / len(ps),
            source=shown.source,
        )
    return out


def hosted_by_model(offers: Iterable[HostedOffer]) -> dict[str, tuple[HostedRow, ...]]:
    """Hosted offers per model id, cheapest blended price first."""
    out: dict[str, list[HostedRow]] = {}
    for o in offers:
        out.setdefault(o.model_id, []).append(hosted_row(o))
    return {k: tuple(sorted(v, key=lambda r: (r.blended_usd_per_m, r.provider))) for k, v in out.items()}


def hosted_row(o: HostedOffer) -> HostedRow:
    blended = INPUT_SHARE * o.usd_per_m_input + (1 - INPUT_SHARE) * o.usd_per_m_output
    return HostedRow(
        model_id=o.model_id,
        provider=o.provider,
        usd_per_m_input=o.usd_per_m_input,
        usd_per_m_output=o.usd_per_m_output,
        blended_usd_per_m=blended,
        context_tokens=o.context_tokens,
        quantization=o.quantization,
        residency=o.residency,
        region=o.region,
        no_training=o.no_training,
        date_seen=o.date_seen,
        source=o.source,
    )


def catalog_info(catalog: Catalog, status: Any = None, now: _dt.datetime | None = None) -> CatalogInfo:
    """Catalog version facts; ``status`` is store.catalog_status()'s answer when the caller has it."""
    age_days = None
    warnings: tuple[str, ...] = ()
    source = catalog.source
    if status is not None:
        source = getattr(status, "source", None) or source
        age = getattr(status, "age", None)
        if age is None:
            age = getattr(status, "age_s", None)  # store.CatalogStatus names it with its unit
        if isinstance(age, _dt.timedelta):
            age_days = age.total_seconds() / 86400
        elif isinstance(age, (int, float)):
            age_days = float(age) / 86400  # seconds, as time.time() differences are
        warnings = tuple(redact_text(str(w)) for w in (getattr(status, "warnings", None) or ()))
    if age_days is None:
        generated = _parse_time(catalog.generated_at)
        if generated is not None:
            age_days = ((now or _dt.datetime.now(_dt.timezone.utc)) - generated).total_seconds() / 86400
    return CatalogInfo(
        schema_version=catalog.schema_version,
        sequence=catalog.sequence,
        generated_at=catalog.generated_at,
        source=redact_url(source),  # a feed URL's credentials never reach a report
        age_days=None if age_days is None else round(max(age_days, 0.0), 2),
        models=len(catalog.models),
        devices=len(catalog.devices),
        hosted_offers=len(catalog.hosted),
        warnings=warnings,
    )


def _parse_time(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def model_name(model: Model) -> str:
    """The name a report shows: the catalog's, else the id without its organisation."""
    return model.name or model.id.split("/", 1)[-1]
