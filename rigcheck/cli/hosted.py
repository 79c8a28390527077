"""``rigcheck hosted [--model ID] [--json]``: hosted API offers and prices, residency, closed comparators."""

from __future__ import annotations

import argparse

from rigcheck import units
from rigcheck.cli import _pricing
from rigcheck.cli._args import number

SCHEMA = "rigcheck.hosted/1"


def register(subparsers) -> None:
    from rigcheck.catalog.hosted import RESIDENCY_LEVELS
    from rigcheck.estimate.rules import DEFAULT_INPUT_PER_OUTPUT

    parser = subparsers.add_parser(
        "hosted", help="hosted API offers and prices",
        description="Hosted API offers for open models (or one model), each with its blended price per million "
        "tokens beside its input and output prices, the cheapest, residency terms, and closed frontier models "
        "with their prices and scores.",
    )
    parser.add_argument("--model", metavar="ID", help="one model: a Hugging Face id or an unambiguous part, or "
                        "closed:VENDOR/MODEL for a closed one")
    parser.add_argument("--input-per-output", metavar="R", type=number(0.0, 1e6),
                        default=DEFAULT_INPUT_PER_OUTPUT,
                        help="input tokens per output token of the blended price: (R x input + output) / (R + 1) "
                             "(default %(default)g)")
    parser.add_argument("--residency", choices=[lvl for lvl in RESIDENCY_LEVELS if lvl != "sovereign"],
                        default="anywhere", help="only offers meeting this residency level (default %(default)s)")
    parser.add_argument("--region", metavar="R", help="only offers pinned to this region (EU, US, ...)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


class _Prices:
    """The blended price at the asked ratio, and the offers' JSON with it (rules.blended_usd_per_m); each model's
    capability as the rules make it (rules.capabilities over the catalog's scores, closed models included)."""

    def __init__(self, input_per_output: float, scores=()):
        from rigcheck.estimate.rules import capabilities

        self.input_per_output = input_per_output
        self.capability = capabilities(scores)

    def capability_dict(self, model_id: str) -> dict[str, object] | None:
        cap = self.capability.get(model_id)
        return None if cap is None else {"value": cap.value, "benchmarks": [p.benchmark for p in cap.parts],
                                         "basis": cap.basis}

    def capability_text(self, model_id: str) -> str:
        """``"89 (AA index, Aider polyglot, SWE-bench Verified)"``, or ``"-"`` without a capability score."""
        cap = self.capability.get(model_id)
        return "-" if cap is None else f"{units.capability_text(cap.value)} ({cap.short_basis})"

    def capability_value(self, model_id: str) -> float | None:
        cap = self.capability.get(model_id)
        return None if cap is None else cap.value

    def blended(self, offer) -> float:
        from rigcheck.estimate.rules import offer_blended_usd_per_m

        return offer_blended_usd_per_m(offer, self.input_per_output)

    def cheapest(self, offers, residency: str = "anywhere", region: str | None = None):
        from rigcheck.estimate.rules import cheapest_hosted

        return cheapest_hosted(offers, self.input_per_output, residency=residency, region=region)

    def cheapest_output(self, offers, residency: str = "anywhere", region: str | None = None):
        from rigcheck.catalog.hosted import cheapest_offer

        return cheapest_offer(offers, by="output", residency=residency, region=region)

    def offer(self, offer) -> dict[str, object] | None:
        from rigcheck.catalog.hosted import offer_to_dict

        return None if offer is None else offer_to_dict(offer, self.blended(offer))

    def text(self, offer) -> str:
        return units.price_triple_text(self.blended(offer), offer.usd_per_m_input, offer.usd_per_m_output)

    def header(self) -> dict[str, object]:
        from rigcheck.estimate.rules import describe_blend

        return {"input_per_output": self.input_per_output, "formula": describe_blend(self.input_per_output)}


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog import hosted

    catalog, status = _pricing.load_catalog_and_status()
    prices = _Prices(args.input_per_output, catalog.scores)
    if args.model:
        model_id = _closed_id(catalog, args.model) or _pricing.find_model(catalog, args.model).id
        offers = [o for o in hosted.offers_for(catalog, model_id)
                  if hosted.meets_residency(o, args.residency, args.region)]
        offers.sort(key=lambda o: (prices.blended(o), o.provider))
        cheapest = prices.cheapest(offers, args.residency, args.region)
        cheapest_output = prices.cheapest_output(offers, args.residency, args.region)
        scores = hosted.scores_for(catalog, model_id)
        comparators = hosted.frontier_comparators(catalog, model_id, price=prices.blended,
                                                  capability=prices.capability_value)
        if args.json:
            _pricing.print_json({
                "schema": SCHEMA, "catalog": _pricing.catalog_header(status),
                "residency_filter": {"level": args.residency, "region": args.region},
                "model_id": model_id,
                "capability": prices.capability_dict(model_id),
                "blend": prices.header(),
                "offers": [prices.offer(o) for o in offers],
                "cheapest_blended": prices.offer(cheapest),
                "cheapest_output": prices.offer(cheapest_output),
                "scores": {name: hosted.score_to_dict(s) for name, s in sorted(scores.items())},
                "comparators": [_comparator(c, prices) | {"shared_benchmarks": list(c.shared_benchmarks)}
                                for c in comparators],
                "residency_levels": {level: hosted.RESIDENCY_EXPLANATIONS[level] for level in hosted.RESIDENCY_LEVELS},
            })
        else:
            _print_model(model_id, offers, cheapest, cheapest_output, scores, comparators, prices, args)
        return 0

    rows = []
    for model in catalog.models:
        offers = [o for o in hosted.offers_for(catalog, model.id)
                  if hosted.meets_residency(o, args.residency, args.region)]
        if not offers:
            continue
        rows.append((model.id, offers, prices.cheapest(offers), prices.cheapest_output(offers)))
    comparators = hosted.frontier_comparators(catalog, None, price=prices.blended, capability=prices.capability_value)
    if args.json:
        _pricing.print_json({
            "schema": SCHEMA,
            "catalog": _pricing.catalog_header(status),
            "blend": prices.header(),
            "residency_filter": {"level": args.residency, "region": args.region},
            "models": [
                {
                    "model_id": model_id,
                    "offer_count": len(offers),
                    "cheapest_blended": prices.offer(cheap),
                    "cheapest_output": prices.offer(cheap_out),
                }
                for model_id, offers, cheap, cheap_out in rows
            ],
            "closed_models": [_comparator(c, prices) for c in comparators],
            "residency_levels": dict(hosted.RESIDENCY_EXPLANATIONS),
        })
        return 0
    from rigcheck.estimate.rules import describe_blend

    print(f"Hosted offers: the cheapest by blended price ({describe_blend(args.input_per_output)}), and the "
          "cheapest output price")
    print(_pricing.table(
        [[model_id, str(len(offers)), f"{prices.text(cheap)} {cheap.provider}" if cheap else "-",
          f"{units.usd_per_m_text(cheap_out.usd_per_m_output)} {cheap_out.provider}" if cheap_out else "-"]
         for model_id, offers, cheap, cheap_out in rows],
        ["model", "offers", "cheapest blended (in / out)", "cheapest output"],
    ))
    print()
    from rigcheck.estimate.rules import describe_capability

    print("Closed frontier models, the most capable first (unscored after), then the cheaper")
    print(_pricing.table(
        [[c.model.id, prices.text(c.offer) if c.offer else "-", prices.capability_text(c.model.id)]
         for c in comparators],
        ["model", "blended $/M (in / out)", "capability (basis)"],
    ))
    print(f"({describe_capability()}; the same figure as fit's and the GUI's)")
    print()
    _print_residency(args.residency)
    return 0


def _comparator(c, prices: _Prices) -> dict[str, object]:
    from rigcheck.catalog import hosted

    return {"model_id": c.model.id, "name": c.model.name, "vendor": c.model.vendor, "offer": prices.offer(c.offer),
            "capability": prices.capability_dict(c.model.id),
            "scores": {k: hosted.score_to_dict(s) for k, s in sorted(c.scores.items())}}


def _closed_id(catalog, query: str) -> str | None:
    """A closed model's id for a ``closed:vendor/model`` query; None for other queries.

    Raises UsageError listing the closed models when a ``closed:`` query names none of them.
    """
    from rigcheck.catalog.hosted import closed_models
    from rigcheck.cli import UsageError

    if not query.lower().startswith("closed:"):
        return None
    ids = sorted(c.id for c in closed_models(catalog))
    for model_id in ids:
        if model_id.lower() == query.lower():
            return model_id
    raise UsageError(f"unknown closed model {query!r}; the catalog has: {', '.join(ids)}")


def _scores_text(scores) -> str:
    return ", ".join(f"{name} {s.value:g}" for name, s in sorted(scores.items())) or "-"


def _print_model(model_id, offers, cheapest, cheapest_output, scores, comparators, prices: _Prices, args) -> None:
    from rigcheck.catalog import hosted
    from rigcheck.estimate.rules import describe_blend, describe_capability

    print(f"{model_id}: {len(offers)} hosted offer(s)"
          + (f" meeting residency {args.residency!r}" if args.residency != "anywhere" else ""))
    if offers:
        print(_pricing.table(
            [[o.provider, units.usd_per_m_text(prices.blended(o)), units.usd_text(o.usd_per_m_input),
              units.usd_text(o.usd_per_m_output),
              units.usd_text(o.usd_per_m_cached_input) if o.usd_per_m_cached_input is not None else "-",
              units.tokens_text(o.context_tokens) if o.context_tokens else "-", o.quantization or "-",
              hosted.offer_residency(o) + (f" ({o.region})" if o.region else ""),
              {True: "yes", False: "no"}.get(o.no_training, "-"), o.date_seen or "-"]
             for o in offers],
            ["provider", "blended", "$/M in", "$/M out", "cached in", "context", "quant", "residency",
             "no-training", "seen"],
        ))
        print(f"({describe_blend(args.input_per_output)})")
    if cheapest:
        print(f"Cheapest: {cheapest.provider}, {prices.text(cheapest)}; cheapest output price: "
              f"{cheapest_output.provider} ({units.usd_per_m_text(cheapest_output.usd_per_m_output)})")
    print(f"Capability: {prices.capability_text(model_id)}; published scores: {_scores_text(scores)}")
    print()
    print(f"Closed frontier comparators: {hosted.COMPARATOR_ORDER}")
    print(_pricing.table(
        [[c.model.id, prices.text(c.offer) if c.offer else "-", prices.capability_text(c.model.id),
          ", ".join(c.shared_benchmarks) or "-"] for c in comparators],
        ["model", "blended $/M (in / out)", "capability (basis)", "comparable on"],
    ))
    print(f"({describe_capability()})")
    print()
    _print_residency(args.residency)


def _print_residency(chosen: str) -> None:
    from rigcheck.catalog.hosted import RESIDENCY_EXPLANATIONS, RESIDENCY_LEVELS

    print("Residency levels")
    for level in RESIDENCY_LEVELS:
        mark = "*" if level == chosen else " "
        print(f" {mark} {level}: {RESIDENCY_EXPLANATIONS[level]}")
