"""One row per catalog model: its estimates, its best quant, its scores and its cheapest hosted offer.

Pure data (no Qt): the table model, the detail pane and the tests all read these rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rigcheck.catalog import hosted
from rigcheck.catalog.records import Catalog, HostedOffer, Model, Score
from rigcheck.estimate.types import VERDICTS, Estimate

_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}


@dataclass(frozen=True)
class ModelRow:
    model: Model
    estimates: tuple[Estimate, ...]
    shown: Estimate | None
    """The best quant that fits, or when none fits the smallest one (to say how much it would need)."""
    scores: tuple[Score, ...] = ()
    offers: tuple[HostedOffer, ...] = ()
    best_scores: dict[str, float] = field(default_factory=dict)

    @property
    def verdict(self) -> str | None:
        return self.shown.verdict if self.shown else None

    @property
    def fits(self) -> bool:
        return self.shown is not None and self.shown.fits

    @property
    def cheapest_offer(self) -> HostedOffer | None:
        """The cheapest priced offer by output price, as `rigcheck hosted` picks it (free tiers skipped)."""
        return hosted.cheapest_offer(list(self.offers), by="output")

    @property
    def label(self) -> str:
        return self.model.name or self.model.id.split("/", 1)[-1]


def pick_shown(estimates: list[Estimate] | tuple[Estimate, ...]) -> Estimate | None:
    """The estimate a row stands for: the one marked ``best``; else the best-ranked that fits; else the
    one needing the least memory (so "does not fit" rows still say what they would need)."""
    if not estimates:
        return None
    for e in estimates:
        if e.best:
            return e
    fitting = [e for e in estimates if e.fits]
    if fitting:
        return min(fitting, key=lambda e: (_VERDICT_RANK.get(e.verdict, 99), -(e.decode_tokens_per_s.expected
                                                                                 if e.decode_tokens_per_s else 0)))
    return min(estimates, key=lambda e: e.memory.total_bytes)


def build_rows(catalog: Catalog, estimates: list[Estimate]) -> list[ModelRow]:
    """Group estimates by model, in catalog order; models without estimates still get a row."""
    by_model: dict[str, list[Estimate]] = defaultdict(list)
    for e in estimates:
        by_model[e.model_id].append(e)
    scores: dict[str, list[Score]] = defaultdict(list)
    for s in catalog.scores:
        scores[s.model_id].append(s)
    offers: dict[str, list[HostedOffer]] = defaultdict(list)
    for o in catalog.hosted:
        offers[o.model_id].append(o)
    rows = []
    for model in catalog.models:
        ests = tuple(by_model.get(model.id, ()))
        best: dict[str, float] = {}
        for s in scores.get(model.id, ()):
            if s.benchmark not in best or s.value > best[s.benchmark]:
                best[s.benchmark] = s.value
        rows.append(
            ModelRow(
                model=model,
                estimates=ests,
                shown=pick_shown(ests),
                scores=tuple(scores.get(model.id, ())),
                offers=tuple(sorted(offers.get(model.id, ()), key=lambda o: o.usd_per_m_output)),
                best_scores=best,
            )
        )
    return rows
