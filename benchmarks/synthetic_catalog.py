"""A large synthetic catalog for the scale benchmarks: the embedded catalog's real models, varied to N models.

Every synthetic model is one of the embedded catalog's models (its architecture kind, quants, hosted offers
and scores) with a new id, a varied depth (layers and, with them, parameters and file sizes), a varied
release date and jittered prices and scores, so the estimator does the same work it does for real records.
The same seed gives the same bytes. ``write_catalog_cache`` puts the document where a refresh would (the
cache folder's ``catalog.json``), with a sequence above the embedded one so the app uses it.
"""

from __future__ import annotations

import random
from pathlib import Path

DEFAULT_MODELS = 10_000
SEED = 20_260_801
HOSTED_SHARE = 0.3
"""Share of the synthetic models that get hosted offers (copies of their original's, prices jittered)."""
SCORED_SHARE = 0.4


def _vary_model(base, new_id: str, rng: random.Random):
    import msgspec

    factor = rng.uniform(0.7, 1.3)
    layers = max(2, round(base.num_layers * factor)) if base.num_layers else None
    scale = layers / base.num_layers if layers and base.num_layers else 1.0

    def scaled(value):
        return None if value is None else round(value * scale, 3)

    quants = [
        msgspec.structs.replace(
            q, file_size_bytes=None if q.file_size_bytes is None else int(q.file_size_bytes * scale),
            repo=None if q.repo is None else f"{new_id}-{q.repo.rsplit('/', 1)[-1]}")
        for q in base.quants if rng.random() > 0.1
    ] or list(base.quants)
    changes = {}
    if base.full_attention_layers is not None and layers:
        changes["full_attention_layers"] = max(1, min(layers, round(base.full_attention_layers * scale)))
    if base.first_dense_layers is not None and layers:
        changes["first_dense_layers"] = min(layers - 1, base.first_dense_layers)
    year, month = rng.randint(2023, 2026), rng.randint(1, 12)
    return msgspec.structs.replace(
        base, id=new_id, name=new_id.rsplit("/", 1)[-1], aliases=[], num_layers=layers,
        params_total_b=scaled(base.params_total_b), params_active_b=scaled(base.params_active_b),
        release_date=f"{year}-{month:02d}-{rng.randint(1, 28):02d}", quants=quants, **changes)


def synthetic_catalog(models: int = DEFAULT_MODELS, seed: int = SEED):
    """The embedded catalog grown to ``models`` models (the real ones first), deterministic for a seed."""
    import msgspec

    from rigcheck.catalog.store import load_embedded

    base = load_embedded()
    rng = random.Random(seed)
    offers_of: dict[str, list] = {}
    for offer in base.hosted:
        offers_of.setdefault(offer.model_id, []).append(offer)
    scores_of: dict[str, list] = {}
    for score in base.scores:
        scores_of.setdefault(score.model_id, []).append(score)
    out_models = list(base.models)
    hosted, scores = list(base.hosted), list(base.scores)
    for i in range(len(base.models), models):
        original = base.models[i % len(base.models)]
        org, name = original.id.split("/", 1)
        new_id = f"{org}-community-{i % 211}/{name}-ft{i:05d}"
        out_models.append(_vary_model(original, new_id, rng))
        if rng.random() < HOSTED_SHARE:
            for offer in offers_of.get(original.id, ()):
                price = rng.uniform(0.6, 1.4)
                hosted.append(msgspec.structs.replace(
                    offer, model_id=new_id, usd_per_m_input=round(offer.usd_per_m_input * price, 4),
                    usd_per_m_output=round(offer.usd_per_m_output * price, 4)))
        if rng.random() < SCORED_SHARE:
            for score in scores_of.get(original.id, ()):
                scores.append(msgspec.structs.replace(
                    score, model_id=new_id, value=round(score.value * rng.uniform(0.8, 1.05), 2)))
    return msgspec.structs.replace(base, models=out_models, hosted=hosted, scores=scores,
                                   sequence=base.sequence + 1, source="synthetic benchmark catalog")


def synthetic_catalog_bytes(models: int = DEFAULT_MODELS, seed: int = SEED) -> bytes:
    from rigcheck.catalog.records import encode_catalog

    return encode_catalog(synthetic_catalog(models, seed))


def write_catalog_cache(cache_dir: Path, data: bytes) -> Path:
    """Install ``data`` as the refreshed catalog of the cache folder ``cache_dir`` (as RIGCHECK_CACHE_DIR)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / "catalog.json"
    path.write_bytes(data)
    return path


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "synthetic-catalog.json")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_MODELS
    body = synthetic_catalog_bytes(count)
    target.write_bytes(body)
    print(f"wrote {target}: {count:,} models, {len(body) / 1e6:.1f} MB")
