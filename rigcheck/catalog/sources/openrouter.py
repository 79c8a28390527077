"""OpenRouter as a catalog source: hosted prices per model from /api/v1/models.

Each entry of ``data[]`` carries ``pricing.prompt`` / ``pricing.completion`` (and ``input_cache_read``)
as USD-per-token decimal strings; rigcheck stores USD per million tokens, so they are multiplied by 1e6.
``hugging_face_id`` joins an entry to an open model of the catalog; closed models join by
``closed:<openrouter id>``. Entries that are malformed, free promotions (``:free``) or router
pseudo-models (negative prices) are skipped and counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import msgspec
import requests

from rigcheck.catalog.net import FeedInvalid, check_network_allowed, get_bytes, new_session
from rigcheck.catalog.records import Catalog, HostedOffer

OPENROUTER_BASE_URL = "https://openrouter.ai"
MODELS_PATH = "/api/v1/models"
MAX_JSON_BYTES = 32 * 1000 * 1000
PROVIDER = "OpenRouter"


class Pricing(msgspec.Struct):
    prompt: str
    completion: str
    input_cache_read: str | None = None


class OpenRouterModel(msgspec.Struct):
    """The fields of one ``data[]`` entry that rigcheck uses; the rest is ignored."""

    id: str
    pricing: Pricing
    name: str | None = None
    hugging_face_id: str | None = None
    context_length: int | None = None


class _Envelope(msgspec.Struct):
    data: list[msgspec.Raw]


@dataclass
class OpenRouterListing:
    models: list[OpenRouterModel]
    skipped: list[str] = field(default_factory=list)
    """One line per entry that could not be read."""
    source: str = ""


def parse_models(body: bytes, source: str = "") -> OpenRouterListing:
    """Decode the /api/v1/models payload. Raises ``FeedInvalid`` when it has no ``data`` list at all;
    single malformed entries are skipped and listed in ``skipped``."""
    try:
        envelope = msgspec.json.decode(body, type=_Envelope)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise FeedInvalid(f"the OpenRouter model list is not what its API sends: {exc}") from None
    models, skipped = [], []
    for index, raw in enumerate(envelope.data):
        try:
            models.append(msgspec.json.decode(raw, type=OpenRouterModel))
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            skipped.append(f"data[{index}]: {exc}")
    return OpenRouterListing(models=models, skipped=skipped, source=source)


def fetch_models(session: requests.Session | None = None, base_url: str = OPENROUTER_BASE_URL, *,
                 sleep: Callable[[float], None] = time.sleep) -> OpenRouterListing:
    """GET /api/v1/models (no key needed). Raises ``RefreshError`` subclasses."""
    base_url = base_url.rstrip("/")
    check_network_allowed(base_url, "querying OpenRouter")
    url = base_url + MODELS_PATH
    body = get_bytes(session or new_session(), url, max_bytes=MAX_JSON_BYTES, what="the OpenRouter model list",
                     sleep=sleep)
    return parse_models(body, source=url)


def usd_per_million(per_token: str | None) -> float | None:
    """"0.0000006" USD/token -> 0.6 USD per million tokens; None when absent, unparseable or negative."""
    if per_token is None:
        return None
    try:
        value = float(per_token)
    except ValueError:
        return None
    if value < 0 or value != value or value == float("inf"):
        return None
    return round(value * 1e6, 6)


def hosted_offers(listing: OpenRouterListing, catalog: Catalog, *, date_seen: str | None = None
                  ) -> tuple[list[HostedOffer], list[str]]:
    """Offers for the catalog's open models (joined on ``hugging_face_id``, case-insensitive, aliases too)
    and closed comparators (``closed:<id>``). Returns (offers, skipped lines)."""
    by_hf: dict[str, str] = {}
    for model in catalog.models:
        by_hf[model.id.lower()] = model.id
        for alias in model.aliases:
            by_hf.setdefault(alias.lower(), model.id)
    closed = {c.id.lower(): c.id for c in catalog.closed_models}
    seen_on = date_seen or date.today().isoformat()
    offers: list[HostedOffer] = []
    skipped = list(listing.skipped)
    taken: set[str] = set()
    for entry in listing.models:
        if entry.id.endswith(":free"):
            continue
        model_id = by_hf.get((entry.hugging_face_id or "").lower()) or closed.get(f"closed:{entry.id}".lower())
        if model_id is None or model_id in taken:
            continue
        usd_in = usd_per_million(entry.pricing.prompt)
        usd_out = usd_per_million(entry.pricing.completion)
        if usd_in is None or usd_out is None:
            skipped.append(f"{entry.id}: prices {entry.pricing.prompt!r}/{entry.pricing.completion!r} are not usable")
            continue
        taken.add(model_id)
        offers.append(HostedOffer(
            model_id=model_id, provider=PROVIDER, usd_per_m_input=usd_in, usd_per_m_output=usd_out,
            usd_per_m_cached_input=usd_per_million(entry.pricing.input_cache_read) or None,
            context_tokens=entry.context_length if entry.context_length and entry.context_length > 0 else None,
            notes=f"OpenRouter {entry.id}: lowest price across its providers",
            date_seen=seen_on, source=listing.source or f"{OPENROUTER_BASE_URL}{MODELS_PATH}",
        ))
    return offers, skipped
