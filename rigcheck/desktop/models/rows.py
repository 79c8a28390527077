"""One row per catalog model: its estimates, its pick, its capability and its cheapest hosted offer.

Pure data (no Qt): the table model, the detail pane and the tests all read these rows. What is usable, the pick,
capability and the cheapest (blended) price are the rules' (``rigcheck.estimate.rules``), with the settings the
evaluation used.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rigcheck.catalog.records import Catalog, HostedOffer, Model, Score
from rigcheck.estimate import rules
from rigcheck.estimate.types import VERDICTS, Estimate, Settings

if TYPE_CHECKING:
    from rigcheck.estimate.unified import WiredLimitHint

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
    capability: rules.Capability | None = None
    input_per_output: float = rules.DEFAULT_INPUT_PER_OUTPUT
    """The blend of the hosted prices shown (``rules.blended_usd_per_m``)."""
    usable_rule: rules.Thresholds = rules.DEFAULT_THRESHOLDS
    """The thresholds the estimates were marked usable with (for saying why a row is not)."""
    hint: WiredLimitHint | None = None
    """On a Mac: the sysctl that would put a better quant of this model on the GPU (``unified.wired_limit_hints``)."""

    @property
    def verdict(self) -> str | None:
        return self.shown.verdict if self.shown else None

    @property
    def fits(self) -> bool:
        return self.shown is not None and self.shown.fits

    @property
    def usable(self) -> bool:
        """The model runs usably here: the row that speaks for it is its pick (``rules``)."""
        return self.shown is not None and self.shown.usable

    @property
    def cheapest_offer(self) -> HostedOffer | None:
        """The cheapest priced offer by blended price (``rules.cheapest_hosted``; free tiers skipped)."""
        return rules.cheapest_hosted(self.offers, self.input_per_output)

    def blended(self, offer: HostedOffer) -> float:
        return rules.offer_blended_usd_per_m(offer, self.input_per_output)

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


def build_rows(catalog: Catalog, estimates: list[Estimate], settings: Settings | None = None,
               hints: dict[str, WiredLimitHint] | None = None, models: Sequence[Model] | None = None) -> list[ModelRow]:
    """Group estimates by model, in catalog order; models without estimates still get a row. ``settings``: those
    of the evaluation (the blend and the usable thresholds); ``hints``: ``unified.wired_limit_hints``'s;
    ``models``: the rows of these of the catalog's models only (default: all)."""
    settings = settings or Settings()
    capability = rules.capabilities(catalog.scores)
    hints = hints or {}
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
    for model in catalog.models if models is None else models:
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
                offers=tuple(sorted(offers.get(model.id, ()),
                                    key=lambda o: rules.offer_blended_usd_per_m(o, settings.input_per_output))),
                best_scores=best,
                capability=capability.get(model.id),
                input_per_output=settings.input_per_output,
                usable_rule=settings.usable,
                hint=hints.get(model.id),
            )
        )
    return rows


def needs_mac_hints(machine) -> bool:
    """Whether ``mac_hints`` has anything to say about ``machine`` (a Mac's unified memory)."""
    return any(g.unified_memory and g.vendor == "apple" for g in machine.usable_gpus)


def mac_hints(machine, catalog: Catalog, settings: Settings, estimates: list[Estimate],
              evaluate_fn) -> dict[str, WiredLimitHint]:
    """``unified.wired_limit_hints`` on a Mac (one more evaluation, with the wired limit raised); {} elsewhere."""
    if not needs_mac_hints(machine):
        return {}
    from rigcheck.estimate.unified import wired_limit_hints

    return wired_limit_hints(machine, catalog, settings, estimates, evaluate_fn)
