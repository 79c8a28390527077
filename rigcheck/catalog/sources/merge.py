"""Merging fetched facts over the curated catalog: what wins, how quants and offers are matched, provenance.

Rules (the embedded catalog is curated, the APIs are current):
- a model already in the catalog keeps every curated value; fetched values only fill fields it lacks, and the
  fetched sources (URL and date) are added to its ``sources``;
- a quant's identity is (name, format): a fetched quant with a real file size replaces the catalog's quant of
  the same identity whose size was an estimate or unknown; quants the catalog lacks are added (a GGUF BF16 beside
  a safetensors BF16 is kept, named ``BF16-GGUF``);
- a hosted offer's identity is (model, provider slug, endpoint): fetched offers for a model replace the
  catalog's offers from the same providers and OpenRouter's aggregate price for it (curated residency,
  region and no-training terms carry over); offers for that model that are no longer listed go away.
"""

from __future__ import annotations

import msgspec

from rigcheck.catalog.records import HostedOffer, Model, Quant
from rigcheck.catalog.sources.huggingface import unique_quant_names
from rigcheck.catalog.sources.openrouter import provider_slug


def merge_model(base: Model, fetched: Model) -> Model:
    """``base`` with gaps filled from ``fetched`` and quants updated (see module docstring)."""
    updates = {}
    for name in Model.__struct_fields__:
        if name in ("id", "quants", "sources", "aliases", "use_cases", "notes"):
            continue
        if getattr(base, name) is None and getattr(fetched, name) is not None:
            updates[name] = getattr(fetched, name)
    updates["quants"] = merge_quants(base.quants, fetched.quants)
    updates["sources"] = _union(base.sources, fetched.sources)
    updates["use_cases"] = _union(base.use_cases, fetched.use_cases)
    return msgspec.structs.replace(base, **updates)


def merge_quants(base: list[Quant], fetched: list[Quant]) -> list[Quant]:
    by_key = {(q.name, q.format): q for q in fetched}
    merged = []
    for quant in base:
        new = by_key.pop((quant.name, quant.format), None)
        if new is not None and (quant.file_size_bytes is None or quant.size_is_estimate):
            merged.append(msgspec.structs.replace(
                new, runtimes=new.runtimes or quant.runtimes, sources=_union(new.sources, quant.sources[:1])))
        else:
            merged.append(quant)
    merged.extend(q for q in fetched if (q.name, q.format) in by_key)
    return unique_quant_names(merged)


def merge_hosted(base: list[HostedOffer], offers: list[HostedOffer]) -> list[HostedOffer]:
    """``base`` with the fetched ``offers`` in place of the base's offers they supersede (module docstring)."""
    fresh_models = {o.model_id for o in offers}
    fresh_slugs = {(o.model_id, provider_slug(o.provider)) for o in offers}
    kept: list[HostedOffer] = []
    curated: dict[tuple[str, str], HostedOffer] = {}
    for offer in base:
        slug = provider_slug(offer.provider)
        if offer.model_id in fresh_models and (slug == "openrouter" or (offer.model_id, slug) in fresh_slugs):
            curated.setdefault((offer.model_id, slug), offer)
            continue
        kept.append(offer)
    fresh = []
    for offer in offers:
        old = curated.get((offer.model_id, provider_slug(offer.provider)))
        if old is not None:
            offer = msgspec.structs.replace(
                offer, residency=old.residency if old.residency != "unknown" else offer.residency,
                region=old.region or offer.region,
                no_training=old.no_training if old.no_training is not None else offer.no_training)
        fresh.append(offer)
    return kept + fresh


def _union(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))
