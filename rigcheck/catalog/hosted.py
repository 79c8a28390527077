"""Hosted alternatives: every API offer for a model, the cheapest, residency levels, closed comparators.

Pure functions over catalog records. Prices are USD per million tokens as the catalog lists them
(list tier, no batch discount). The price shown for an offer is its blended price
(``rigcheck.estimate.rules.blended_usd_per_m``, beside its input and output prices); what a *workload* pays per
million output tokens, counting the input it sends with them (``workload_usd_per_m_output``), is the hosted
door of ``rigcheck.estimate.cost``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from rigcheck.catalog.records import Catalog, ClosedModel, HostedOffer, Score

ResidencyLevel = Literal["anywhere", "region", "no-training", "sovereign"]

RESIDENCY_LEVELS: tuple[ResidencyLevel, ...] = ("anywhere", "region", "no-training", "sovereign")
"""From least to most control over where the data goes."""

RESIDENCY_EXPLANATIONS: dict[str, str] = {
    "anywhere": "The provider may process requests in any region it operates, with no contractual limit "
    "on where the data goes.",
    "region": "Requests are processed only in the named region (EU, US, ...); the provider still runs the "
    "hardware and, if under US jurisdiction, can be compelled to hand data over (CLOUD Act).",
    "no-training": "The provider contractually commits not to train on or keep your inputs; the data still "
    "leaves your premises.",
    "sovereign": "Physical sovereignty: the model runs on hardware you control and the data never leaves "
    "the building; only self-hosting gives this.",
    "unknown": "The catalog records no residency terms for this offer; assume it may be processed anywhere.",
}
"""One sentence per residency level, shown wherever a level is chosen or displayed."""


def explain_residency(level: str) -> str:
    """The one-line explanation of a residency level ("anywhere", "region", "no-training", "sovereign").

    Raises ValueError naming the known levels for anything else.
    """
    try:
        return RESIDENCY_EXPLANATIONS[level]
    except KeyError:
        raise ValueError(
            f"unknown residency level {level!r}; choose one of {', '.join(RESIDENCY_LEVELS)}"
        ) from None


def offer_residency(offer: HostedOffer) -> str:
    """The residency level an offer actually gives: its own field, refined by region/no-training facts."""
    if offer.no_training:
        return "no-training"
    if offer.residency == "region" or (offer.residency == "unknown" and offer.region):
        return "region"
    return offer.residency


def meets_residency(offer: HostedOffer, level: str, region: str | None = None) -> bool:
    """Whether a hosted offer satisfies a required residency level (and region, when given).

    "sovereign" is never met by a hosted offer: only self-hosting keeps data in the building.
    Raises ValueError for an unknown level.
    """
    explain_residency(level)  # validates
    if level == "sovereign":
        return False
    if region is not None and (offer.region or "").lower() != region.lower():
        return False
    if level == "anywhere":
        return True
    if level == "region":
        return bool(offer.region) or offer.residency == "region"
    if level == "no-training":
        return bool(offer.no_training) or offer.residency == "no-training"
    return False


@dataclass(frozen=True)
class TokenMix:
    """How many input tokens accompany each output token, and how many of them hit a prompt cache."""

    input_per_output: float = 3.0
    """Input tokens sent per output token generated (chat ~3; agentic coding 10-30)."""
    cached_input_share: float = 0.0
    """Share of input tokens billed at the cached-input price (0..1)."""

    def __post_init__(self) -> None:
        if not self.input_per_output >= 0:
            raise ValueError("input tokens per output token must be zero or more")
        if not 0.0 <= self.cached_input_share <= 1.0:
            raise ValueError("cached input share must be between 0 and 1")


def workload_usd_per_m_output(offer: HostedOffer, mix: TokenMix) -> float:
    """What a workload pays per million output tokens at this offer, counting the input sent with them:
    ``out + input_per_output x ((1 - cached) x in + cached x cached_in)`` (the cost doors' unit; a price to show
    is the blended price, ``rigcheck.estimate.rules``).

    Cached input is billed at the cached price where the offer publishes one, else at the full input price
    (no discount is assumed that the catalog does not record).
    """
    cached_price = offer.usd_per_m_cached_input
    if cached_price is None:
        cached_price = offer.usd_per_m_input
    input_usd_per_m = (1.0 - mix.cached_input_share) * offer.usd_per_m_input + (
        mix.cached_input_share * cached_price
    )
    return offer.usd_per_m_output + mix.input_per_output * input_usd_per_m


all_in_usd_per_m_output = workload_usd_per_m_output
"""The cost doors' former name for ``workload_usd_per_m_output``."""


def offers_for(catalog: Catalog, model_id: str) -> list[HostedOffer]:
    """Every hosted offer for one model (exact catalog id, open or ``closed:``), cheapest output first."""
    offers = [o for o in catalog.hosted if o.model_id == model_id]
    return sorted(offers, key=lambda o: (o.usd_per_m_output, o.usd_per_m_input, o.provider))


def cheapest_offer(
    offers: list[HostedOffer],
    mix: TokenMix | None = None,
    *,
    by: Literal["workload", "all-in", "output"] = "workload",
    residency: str = "anywhere",
    region: str | None = None,
    price: Callable[[HostedOffer], float] | None = None,
) -> HostedOffer | None:
    """The cheapest offer meeting a residency level: by ``price`` when given (the blended price,
    ``rigcheck.estimate.rules.cheapest_hosted``), else by what a workload of ``mix`` pays per output token
    ("workload"; "all-in" is its former name) or by the output price alone.

    Offers priced at zero are skipped: a free tier is a promotion, not a price to plan on.
    Returns None when no priced offer meets the level (always for "sovereign").
    """
    mix = mix or TokenMix()
    eligible = [
        o
        for o in offers
        if meets_residency(o, residency, region) and (o.usd_per_m_output > 0 or o.usd_per_m_input > 0)
    ]
    if not eligible:
        return None
    if price is not None:
        return min(eligible, key=lambda o: (price(o), o.usd_per_m_output, o.provider))
    if by == "output":
        return min(eligible, key=lambda o: (o.usd_per_m_output, o.usd_per_m_input, o.provider))
    return min(eligible, key=lambda o: (workload_usd_per_m_output(o, mix), o.usd_per_m_output, o.provider))


def scores_for(catalog: Catalog, model_id: str) -> dict[str, Score]:
    """The best published score per benchmark for one model (several entries may exist: scaffolds differ)."""
    best: dict[str, Score] = {}
    for score in catalog.scores:
        if score.model_id != model_id:
            continue
        held = best.get(score.benchmark)
        if held is None or score.value > held.value:
            best[score.benchmark] = score
    return best


def closed_models(catalog: Catalog) -> list[ClosedModel]:
    """Closed frontier models: the catalog's list, plus any ``closed:`` id that has offers but no record."""
    known = {c.id: c for c in catalog.closed_models}
    for offer in catalog.hosted:
        if offer.model_id.startswith("closed:") and offer.model_id not in known:
            vendor, _, name = offer.model_id.removeprefix("closed:").partition("/")
            known[offer.model_id] = ClosedModel(id=offer.model_id, name=name or vendor, vendor=vendor)
    return list(known.values())


@dataclass(frozen=True)
class Comparator:
    """A closed frontier model beside an open one: its cheapest price and its published scores."""

    model: ClosedModel
    offer: HostedOffer | None
    scores: dict[str, Score] = field(default_factory=dict)
    shared_benchmarks: tuple[str, ...] = ()
    """Benchmarks both this and the open model have a score on (the only fair comparison)."""


NOT_ONE_BENCHMARK = frozenset({"other"})
"""Score kinds that name a different test on each entry: two models' "other" scores are not on one benchmark, so
they are never a benchmark two models share."""

COMPARATOR_ORDER = ("those scored on more of this model's benchmarks first, then the most capable (unscored after), "
                    "then the cheaper")
"""How ``frontier_comparators`` orders the closed models, in words for the listings that show them."""


def frontier_comparators(catalog: Catalog, model_id: str | None = None,
                         price: Callable[[HostedOffer], float] | None = None,
                         capability: Callable[[str], float | None] | None = None) -> list[Comparator]:
    """Closed frontier models with their cheapest offer by ``price`` (default: the output price) and their
    scores, in ``COMPARATOR_ORDER``: those sharing benchmarks with ``model_id`` first, then by ``capability``
    (a model id's capability, or None; ``rules.capabilities`` is above this package) from the most capable,
    unscored after, then the cheaper. Without ``capability`` every model counts as unscored: the order is then
    shared benchmarks, then price (the listings that state COMPARATOR_ORDER always pass it).

    With ``model_id``, ``shared_benchmarks`` names the benchmarks the open model also has.
    """
    price = price or (lambda o: o.usd_per_m_output)
    open_benchmarks = set(scores_for(catalog, model_id)) if model_id else set()
    result = []
    for closed in closed_models(catalog):
        if closed.id == model_id:
            continue  # a closed model is not its own comparator
        scores = scores_for(catalog, closed.id)
        shared = tuple(sorted((open_benchmarks & set(scores)) - NOT_ONE_BENCHMARK))
        result.append(
            Comparator(
                model=closed,
                offer=cheapest_offer(offers_for(catalog, closed.id), price=price),
                scores=scores,
                shared_benchmarks=shared,
            )
        )

    def key(c: Comparator):
        value = capability(c.model.id) if capability is not None else None
        return (-len(c.shared_benchmarks), value is None, -(value or 0.0),
                price(c.offer) if c.offer else float("inf"), c.model.id)

    return sorted(result, key=key)


def offer_to_dict(offer: HostedOffer, usd_per_m_blended: float | None = None) -> dict[str, object]:
    """JSON-ready view of one offer, with its residency level explained and, when given, its blended price."""
    level = offer_residency(offer)
    data: dict[str, object] = {
        "model_id": offer.model_id,
        "provider": offer.provider,
        "usd_per_m_input": offer.usd_per_m_input,
        "usd_per_m_output": offer.usd_per_m_output,
        "usd_per_m_cached_input": offer.usd_per_m_cached_input,
        "context_tokens": offer.context_tokens,
        "quantization": offer.quantization,
        "residency": level,
        "residency_explained": RESIDENCY_EXPLANATIONS[level],
        "region": offer.region,
        "no_training": offer.no_training,
        "date_seen": offer.date_seen,
        "source": offer.source,
        "notes": offer.notes,
    }
    if usd_per_m_blended is not None:
        data["usd_per_m_blended"] = round(usd_per_m_blended, 6)
    return data


def score_to_dict(score: Score) -> dict[str, object]:
    return {"benchmark": score.benchmark, "value": score.value, "date": score.date, "source": score.source}
