"""The feed builder: fresh facts from Hugging Face and OpenRouter merged over the embedded catalog.

Merging follows ``catalog.sources.merge`` (curated values kept, fetched ones fill gaps; quants and offers
matched by identity). The result carries a new ``sequence`` (above the base's), ``generated_at`` and ``expires_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import msgspec

from rigcheck.catalog.cache import check_record_numbers, check_sanity
from rigcheck.catalog.net import RefreshError, Session
from rigcheck.catalog.records import Catalog, CatalogError, HostedOffer, Model, encode_catalog
from rigcheck.catalog.sources import huggingface, openrouter
from rigcheck.catalog.sources.merge import merge_hosted, merge_model

DEFAULT_EXPIRES_DAYS = 30


@dataclass
class BuildReport:
    """What a build did, for the command's output."""

    catalog: Catalog
    models_updated: list[str] = field(default_factory=list)
    models_added: list[str] = field(default_factory=list)
    offers: int = 0
    problems: list[str] = field(default_factory=list)


def build_feed(base: Catalog, *, models: Iterable[Model] = (), offers: Iterable[HostedOffer] = (),
               sequence: int | None = None, now: datetime | None = None,
               expires_days: int = DEFAULT_EXPIRES_DAYS) -> BuildReport:
    """Merge fetched records over ``base`` into a new, validated feed catalog.

    ``sequence`` defaults to the UTC time as YYYYMMDDHHMM (monotonic across builds) and is always above
    the base's. Raises ``CatalogError`` when the result fails validation, or when ``sequence`` is not
    above the base's.
    """
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    if sequence is None:
        sequence = max(int(now.strftime("%Y%m%d%H%M")), base.sequence + 1)
    elif sequence <= base.sequence:
        raise CatalogError(f"sequence {sequence} must be above the base catalog's {base.sequence}")
    index = {m.id: i for i, m in enumerate(base.models)}
    merged_models = list(base.models)
    report = BuildReport(catalog=base)
    for model in models:
        if model.id in index:
            merged_models[index[model.id]] = merge_model(merged_models[index[model.id]], model)
            report.models_updated.append(model.id)
        else:
            index[model.id] = len(merged_models)
            merged_models.append(model)
            report.models_added.append(model.id)
    offers = list(offers)
    report.offers = len(offers)
    catalog = msgspec.structs.replace(
        base, models=merged_models, hosted=merge_hosted(base.hosted, offers), sequence=sequence,
        generated_at=_iso(now), expires_at=_iso(now + timedelta(days=expires_days)), source=None,
    )
    check_sanity(catalog)
    check_record_numbers(catalog, "the built feed")  # merged records were built in code, not decoded
    report.catalog = catalog
    return report


def build_from_sources(base: Catalog, model_ids: Iterable[str], *,
                       hf_base_url: str = huggingface.HF_BASE_URL,
                       openrouter_base_url: str | None = openrouter.OPENROUTER_BASE_URL,
                       session: Session | None = None, sequence: int | None = None,
                       expires_days: int = DEFAULT_EXPIRES_DAYS, now: datetime | None = None,
                       hf_token: str | None = None, min_interval_s: float = 0.0,
                       log: Callable[[str], None] | None = None) -> BuildReport:
    """Query the Hub for each model id and OpenRouter for prices, then ``build_feed``.

    A model that cannot be fetched is reported in ``problems`` and left as it was in ``base``;
    OpenRouter failing is a problem too (the base's prices stay). Raises ``NetworkDisabled`` when the
    default (internet) URLs are used with RIGCHECK_NO_NETWORK set, ``CatalogError`` for an invalid result.
    """
    session = session or Session()
    client = huggingface.HubClient(base_url=hf_base_url, session=session, token=hf_token,
                                   min_interval_s=min_interval_s)
    fetched: list[Model] = []
    problems: list[str] = []
    for model_id in model_ids:
        if log:
            log(f"fetching {model_id}")
        try:
            model = huggingface.describe_repo(client, huggingface.parse_model_ref(model_id), log=log)
            check_record_numbers(model, model.id)
        except (RefreshError, huggingface.InvalidRepoId, CatalogError) as exc:
            problems.append(f"{model_id}: {exc}")  # one bad repo must not sink the whole feed
        else:
            fetched.append(model)
    offers: list[HostedOffer] = []
    if openrouter_base_url:
        if log:
            log("fetching OpenRouter prices")
        try:
            listing = openrouter.fetch_models(session, openrouter_base_url)
        except RefreshError as exc:
            problems.append(f"OpenRouter: {exc}")
        else:
            # Join against the merged model list so newly added models get prices too.
            joined = msgspec.structs.replace(base, models=[*base.models, *fetched])
            offers, skipped = openrouter.hosted_offers(listing, joined,
                                                       date_seen=(now or datetime.now(timezone.utc)).date().isoformat())
            problems.extend(f"OpenRouter {line}" for line in skipped)
    report = build_feed(base, models=fetched, offers=offers, sequence=sequence, now=now,
                        expires_days=expires_days)
    report.problems = problems
    return report


def feed_bytes(catalog: Catalog) -> bytes:
    """The exact bytes to publish (and sign)."""
    return encode_catalog(catalog)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
