"""``rigcheck hosted [--model ID] [--json]``: hosted API offers and prices, residency, closed comparators."""

from __future__ import annotations

import argparse

from rigcheck import units
from rigcheck.cli import _pricing
from rigcheck.cli._args import number

SCHEMA = "rigcheck.hosted/1"


def register(subparsers) -> None:
    from rigcheck.catalog.hosted import RESIDENCY_LEVELS

    parser = subparsers.add_parser(
        "hosted", help="hosted API offers and prices",
        description="Hosted API offers for open models (or one model), the cheapest for a token mix, residency "
        "terms, and closed frontier models with their prices and scores.",
    )
    parser.add_argument("--model", metavar="ID", help="one model: a Hugging Face id or an unambiguous part, or "
                        "closed:VENDOR/MODEL for a closed one")
    parser.add_argument("--input-per-output", metavar="R", type=number(0.0, 1e6), default=3.0,
                        help="input tokens sent per output token, for all-in prices (default %(default)s)")
    parser.add_argument("--cached-share", metavar="S", type=_pricing.share, default=0.0,
                        help="share of input billed at the cached price where published (default %(default)s)")
    parser.add_argument("--residency", choices=[lvl for lvl in RESIDENCY_LEVELS if lvl != "sovereign"],
                        default="anywhere", help="only offers meeting this residency level (default %(default)s)")
    parser.add_argument("--region", metavar="R", help="only offers pinned to this region (EU, US, ...)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rigcheck.catalog import hosted
    from rigcheck.catalog.hosted import TokenMix

    catalog, status = _pricing.load_catalog_and_status()
    mix = TokenMix(input_per_output=args.input_per_output, cached_input_share=args.cached_share)
    if args.model:
        model_id = _closed_id(catalog, args.model) or _pricing.find_model(catalog, args.model).id
        summary = hosted.hosted_summary(catalog, model_id, mix)
        offers = [o for o in summary.offers if hosted.meets_residency(o, args.residency, args.region)]
        summary = hosted.HostedSummary(
            model_id=summary.model_id, offers=offers,
            cheapest_all_in=hosted.cheapest_offer(offers, mix, residency=args.residency, region=args.region),
            cheapest_output=hosted.cheapest_offer(offers, mix, by="output", residency=args.residency,
                                                  region=args.region),
            mix=mix, scores=summary.scores, comparators=summary.comparators,
        )
        if args.json:
            _pricing.print_json({"schema": SCHEMA, "catalog": _pricing.catalog_header(status),
                                 "residency_filter": {"level": args.residency, "region": args.region},
                                 **hosted.summary_to_dict(summary)})
        else:
            _print_model(summary, args)
        return 0

    rows = []
    for model in catalog.models:
        offers = [o for o in hosted.offers_for(catalog, model.id)
                  if hosted.meets_residency(o, args.residency, args.region)]
        if not offers:
            continue
        rows.append((model.id, offers, hosted.cheapest_offer(offers, mix),
                     hosted.cheapest_offer(offers, mix, by="output")))
    comparators = hosted.frontier_comparators(catalog, None, mix)
    if args.json:
        _pricing.print_json({
            "schema": SCHEMA,
            "catalog": _pricing.catalog_header(status),
            "token_mix": {"input_per_output": mix.input_per_output, "cached_input_share": mix.cached_input_share},
            "residency_filter": {"level": args.residency, "region": args.region},
            "models": [
                {
                    "model_id": model_id,
                    "offer_count": len(offers),
                    "cheapest_all_in": hosted.offer_to_dict(cheap, mix) if cheap else None,
                    "cheapest_output": hosted.offer_to_dict(cheap_out, mix) if cheap_out else None,
                }
                for model_id, offers, cheap, cheap_out in rows
            ],
            "closed_models": [
                {"model_id": c.model.id, "name": c.model.name, "vendor": c.model.vendor,
                 "offer": hosted.offer_to_dict(c.offer, mix) if c.offer else None,
                 "scores": {k: hosted.score_to_dict(s) for k, s in sorted(c.scores.items())}}
                for c in comparators
            ],
            "residency_levels": dict(hosted.RESIDENCY_EXPLANATIONS),
        })
        return 0
    print(f"Hosted offers (all-in $/M output tokens at {mix.input_per_output:g} input per output token, "
          f"{mix.cached_input_share:.0%} cached)")
    print(_pricing.table(
        [[model_id, str(len(offers)),
          f"{cheap.provider} {units.usd_text(hosted.all_in_usd_per_m_output(cheap, mix))}" if cheap else "-",
          f"{cheap_out.provider} {units.usd_text(cheap_out.usd_per_m_output)}" if cheap_out else "-"]
         for model_id, offers, cheap, cheap_out in rows],
        ["model", "offers", "cheapest all-in", "cheapest output"],
    ))
    print()
    print("Closed frontier models")
    print(_pricing.table(
        [[c.model.id, f"{units.usd_text(c.offer.usd_per_m_input)} / {units.usd_text(c.offer.usd_per_m_output)}" if c.offer else "-",
          _scores_text(c.scores)] for c in comparators],
        ["model", "$/M in / out", "scores"],
    ))
    print()
    _print_residency(args.residency)
    return 0


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


def _print_model(summary, args) -> None:
    from rigcheck.catalog import hosted

    mix = summary.mix
    print(f"{summary.model_id}: {len(summary.offers)} hosted offer(s)"
          + (f" meeting residency {args.residency!r}" if args.residency != "anywhere" else ""))
    if summary.offers:
        print(_pricing.table(
            [[o.provider, units.usd_text(o.usd_per_m_input), units.usd_text(o.usd_per_m_output),
              units.usd_text(o.usd_per_m_cached_input) if o.usd_per_m_cached_input is not None else "-",
              units.usd_text(hosted.all_in_usd_per_m_output(o, mix)),
              f"{o.context_tokens:,}" if o.context_tokens else "-", o.quantization or "-",
              hosted.offer_residency(o) + (f" ({o.region})" if o.region else ""),
              {True: "yes", False: "no"}.get(o.no_training, "-"), o.date_seen or "-"]
             for o in summary.offers],
            ["provider", "$/M in", "$/M out", "cached", "all-in/M out", "context", "quant", "residency",
             "no-training", "seen"],
        ))
        print(f"(all-in: {mix.input_per_output:g} input tokens per output token, {mix.cached_input_share:.0%} cached)")
    if summary.cheapest_all_in:
        print(f"Cheapest all-in: {summary.cheapest_all_in.provider}; cheapest output price: "
              f"{summary.cheapest_output.provider} (${summary.cheapest_output.usd_per_m_output:g}/M)")
    print(f"Published scores: {_scores_text(summary.scores)}")
    print()
    print("Closed frontier comparators")
    print(_pricing.table(
        [[c.model.id, f"{units.usd_text(c.offer.usd_per_m_input)} / {units.usd_text(c.offer.usd_per_m_output)}" if c.offer else "-",
          _scores_text(c.scores), ", ".join(c.shared_benchmarks) or "-"] for c in summary.comparators],
        ["model", "$/M in / out", "scores", "comparable on"],
    ))
    print()
    _print_residency(args.residency)


def _print_residency(chosen: str) -> None:
    from rigcheck.catalog.hosted import RESIDENCY_EXPLANATIONS, RESIDENCY_LEVELS

    print("Residency levels")
    for level in RESIDENCY_LEVELS:
        mark = "*" if level == chosen else " "
        print(f" {mark} {level}: {RESIDENCY_EXPLANATIONS[level]}")
