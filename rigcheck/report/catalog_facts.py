"""What the report takes from the catalog beside the estimates: capabilities, hosted prices, names, version."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from rigcheck.catalog.records import Catalog, HostedOffer, Model, Score
from rigcheck.catalog.redact import redact_text, redact_url
from rigcheck.estimate import rules
from rigcheck.report.records import Capability, CatalogInfo, HostedRow


def capability_by_model(scores: Iterable[Score]) -> dict[str, Capability]:
    """Each scored model's capability (``rules.capabilities``, its figure unrounded: the one ``fit --json`` and
    ``hosted --json`` give), with its basis."""
    return {model_id: Capability(cap.value, cap.basis, tuple(p.label for p in cap.parts))
            for model_id, cap in rules.capabilities(scores).items()}


def hosted_by_model(offers: Iterable[HostedOffer],
                    input_per_output: float = rules.DEFAULT_INPUT_PER_OUTPUT) -> dict[str, tuple[HostedRow, ...]]:
    """Hosted offers per model id, the cheapest first as ``rules.cheapest_hosted`` ranks them (free tiers last)."""
    out: dict[str, list[HostedOffer]] = {}
    for o in offers:
        out.setdefault(o.model_id, []).append(o)
    result = {}
    for model_id, group in out.items():
        cheapest = rules.cheapest_hosted(group, input_per_output)
        ordered = sorted(group, key=lambda o: (o is not cheapest, not (o.usd_per_m_input or o.usd_per_m_output),
                                               rules.offer_blended_usd_per_m(o, input_per_output), o.provider))
        result[model_id] = tuple(hosted_row(o, input_per_output) for o in ordered)
    return result


def hosted_row(o: HostedOffer, input_per_output: float = rules.DEFAULT_INPUT_PER_OUTPUT) -> HostedRow:
    return HostedRow(
        model_id=o.model_id,
        provider=o.provider,
        usd_per_m_input=o.usd_per_m_input,
        usd_per_m_output=o.usd_per_m_output,
        usd_per_m_blended=round(rules.offer_blended_usd_per_m(o, input_per_output), 6),
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
        # Not rounded: every view writes it as units.age_days_text does (whole days, rounded down: 4.998 days is
        # "4 days ago"), and a figure rounded here to 5.0 would read "5 days" in one place and "4" in another.
        age_days=None if age_days is None else max(age_days, 0.0),
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
