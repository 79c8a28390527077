"""OpenRouter as a catalog source: the model list, and each open model's endpoints with their prices.

``/api/v1/models`` lists every model; ``data[].pricing.prompt`` / ``completion`` / ``input_cache_read`` are USD
per token as decimal strings (stored here per million tokens) and ``hugging_face_id`` joins an entry to an
open model (discovery uses it too). ``/api/v1/models/{author}/{slug}/endpoints`` lists who serves a model:
each endpoint's provider, ``tag`` (provider slug and variant, e.g. ``deepinfra/fp8``), prices, context and
served ``quantization`` become one ``HostedOffer`` whose identity is (model, provider slug, endpoint tag).
Entries that are malformed, free promotions (``:free``) or router pseudo-models (negative prices) are skipped.
``RIGCHECK_OPENROUTER_URL`` overrides the base URL (mirrors, tests).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

import msgspec

from rigcheck.catalog.net import FeedInvalid, Session, check_network_allowed
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


class Endpoint(msgspec.Struct):
    """One provider serving a model (``data.endpoints[]`` of the endpoints API)."""

    provider_name: str
    pricing: Pricing  # the same fields as a model's
    name: str | None = None
    tag: str | None = None
    context_length: int | float | None = None
    quantization: str | None = None
    status: int | str | None = None


class _EndpointsData(msgspec.Struct):
    endpoints: list[msgspec.Raw] = []


class _EndpointsEnvelope(msgspec.Struct):
    data: _EndpointsData


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


def default_base_url() -> str:
    """``RIGCHECK_OPENROUTER_URL`` or openrouter.ai."""
    return (os.environ.get("RIGCHECK_OPENROUTER_URL") or OPENROUTER_BASE_URL).rstrip("/")


def fetch_models(session: Session | None = None, base_url: str | None = None) -> OpenRouterListing:
    """GET /api/v1/models (no key needed) on ``session`` (a new one when None). Raises ``RefreshError``s."""
    base_url = (base_url or default_base_url()).rstrip("/")
    check_network_allowed(base_url, "querying OpenRouter")
    url = base_url + MODELS_PATH
    if session is None:
        with Session() as own:
            body = own.get_bytes(url, max_bytes=MAX_JSON_BYTES, what="the OpenRouter model list")
    else:
        body = session.get_bytes(url, max_bytes=MAX_JSON_BYTES, what="the OpenRouter model list")
    return parse_models(body, source=url)


def fetch_endpoints(session: Session, openrouter_id: str, base_url: str | None = None
                    ) -> tuple[list[Endpoint], list[str], str]:
    """The endpoints serving one model: (endpoints, skipped lines, source URL). Raises ``RefreshError``."""
    base_url = (base_url or default_base_url()).rstrip("/")
    author, _, slug = openrouter_id.partition("/")
    url = f"{base_url}{MODELS_PATH}/{quote(author, safe='')}/{quote(slug, safe='')}/endpoints"
    body = session.get_bytes(url, max_bytes=MAX_JSON_BYTES, what=f"the OpenRouter endpoints of {openrouter_id}")
    try:
        envelope = msgspec.json.decode(body, type=_EndpointsEnvelope)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise FeedInvalid(f"the OpenRouter endpoints of {openrouter_id} are not what its API sends: {exc}") from None
    endpoints, skipped = [], []
    for index, raw in enumerate(envelope.data.endpoints):
        try:
            endpoints.append(msgspec.json.decode(raw, type=Endpoint))
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            skipped.append(f"{openrouter_id} endpoint {index}: {exc}")
    return endpoints, skipped, url


_SLUG_ALIASES = {"togetherai": "together", "fireworksai": "fireworks", "googlevertexai": "googlevertex",
                 "vertexai": "googlevertex", "amazonbedrock": "bedrock", "awsbedrock": "bedrock",
                 "mistralai": "mistral", "zai": "zai", "zhipuai": "zai", "moonshotai": "moonshot",
                 "deepseekai": "deepseek", "novitaai": "novita"}


def provider_slug(provider: str) -> str:
    """A provider's stable key: "DeepInfra", "deepinfra" and "deepinfra/fp8" are all "deepinfra";
    LiteLLM's "together_ai" and OpenRouter's "Together" are both "together"."""
    base = provider.split("/", 1)[0].lower()
    slug = re.sub(r"[^a-z0-9]", "", base)
    return _SLUG_ALIASES.get(slug, slug)


def offer_key(offer: HostedOffer) -> tuple[str, str, str]:
    """The identity of an offer: (model, provider slug, endpoint tag or "")."""
    return offer.model_id, provider_slug(offer.provider), (offer.endpoint or "").lower()


def offers_from_endpoints(model_id: str, openrouter_id: str, endpoints: list[Endpoint], *, source: str,
                          date_seen: str | None = None) -> tuple[list[HostedOffer], list[str]]:
    """One offer per usable endpoint; (offers, skipped lines). The same (provider, tag) twice keeps the first."""
    seen_on = date_seen or date.today().isoformat()
    offers, skipped, taken = [], [], set()
    for endpoint in endpoints:
        usd_in = usd_per_million(endpoint.pricing.prompt)
        usd_out = usd_per_million(endpoint.pricing.completion)
        if usd_in is None or usd_out is None:
            skipped.append(f"{openrouter_id} at {endpoint.provider_name}: prices are not usable")
            continue
        tag = endpoint.tag or provider_slug(endpoint.provider_name)
        offer = HostedOffer(
            model_id=model_id, provider=endpoint.provider_name, endpoint=tag, usd_per_m_input=usd_in,
            usd_per_m_output=usd_out,
            usd_per_m_cached_input=usd_per_million(endpoint.pricing.input_cache_read) or None,
            context_tokens=int(endpoint.context_length) if endpoint.context_length and 0 < endpoint.context_length < 1e9
            else None,
            quantization=(endpoint.quantization or None) if endpoint.quantization != "unknown" else None,
            notes=f"via OpenRouter ({openrouter_id})", date_seen=seen_on, source=source,
        )
        if offer_key(offer) in taken:
            continue
        taken.add(offer_key(offer))
        offers.append(offer)
    return offers, skipped


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
            model_id=model_id, provider=PROVIDER, endpoint=None, usd_per_m_input=usd_in, usd_per_m_output=usd_out,
            usd_per_m_cached_input=usd_per_million(entry.pricing.input_cache_read) or None,
            context_tokens=entry.context_length if entry.context_length and entry.context_length > 0 else None,
            notes=f"OpenRouter {entry.id}: lowest price across its providers",
            date_seen=seen_on, source=listing.source or f"{OPENROUTER_BASE_URL}{MODELS_PATH}",
        ))
    return offers, skipped
