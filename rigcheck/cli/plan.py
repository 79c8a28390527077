"""``rigcheck plan --model ID``: the cheapest hardware that runs a model to a target, and upgrade advice."""

from __future__ import annotations

import argparse

from rigcheck import units
from rigcheck.cli import UsageError, _pricing
from rigcheck.cli._args import number, token_count
from rigcheck.cli._machine import add_machine_args, machine_from_args

SCHEMA = "rigcheck.plan/1"


def register(subparsers) -> None:
    from rigcheck.estimate.configs import MACHINE_CLASSES
    from rigcheck.estimate.rules import DEFAULT_MAX_TTFT_S, DEFAULT_MIN_DECODE_TOKENS_PER_S
    from rigcheck.estimate.serving import DEFAULT_CONCURRENCY

    parser = subparsers.add_parser(
        "plan", help="what to buy or rent to run a model",
        description="The cheapest configurations from the device table that run a model to a target (single "
        "cards, several cards, unified-memory machines, datacenter nodes, several nodes on paper), with "
        "prices, power, the estimate and why cheaper options fail. With a machine (--machine/--gpu/--ram, or "
        "--upgrade for this one): the smallest change that makes it run the model.",
    )
    parser.add_argument("--model", metavar="ID", required=True, help="a Hugging Face id or an unambiguous part")
    parser.add_argument("--quant", metavar="Q", help="this quant only (default: best quality that meets the target)")
    parser.add_argument("--context", metavar="N", type=token_count, default=8192,
                        help="context to hold in tokens (default %(default)s)")
    parser.add_argument("--prompt", metavar="N", type=token_count, default=4096,
                        help="prompt length for time to first token (default %(default)s)")
    parser.add_argument("--min-decode", metavar="R", type=number(0.0, 1e7, low_open=True, unit="tokens/s"),
                        default=DEFAULT_MIN_DECODE_TOKENS_PER_S,
                        help="minimum decode speed in tokens/s (default %(default)g: usable, as everywhere)")
    parser.add_argument("--max-ttft", metavar="S", type=number(0.0, 1e6, low_open=True, unit="s"),
                        default=DEFAULT_MAX_TTFT_S,
                        help="maximum time to first token in seconds for a --prompt-token prompt (default "
                             "%(default)g)")
    parser.add_argument("--class", dest="machine_class", choices=MACHINE_CLASSES,
                        help="only workstations (up to four desktop cards, or a unified-memory machine), only "
                             "servers (datacenter parts, SXM, 8-GPU nodes), or any (default: any; with a machine, "
                             "the class of that machine)")
    parser.add_argument("--budget", metavar="USD", type=number(0.0, _pricing.MAX_USD, low_open=True, unit="USD"),
                        help="purchase ceiling (--buy), monthly rental ceiling (--rent), or either")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--buy", dest="mode", action="store_const", const="buy", help="rank by purchase price")
    mode.add_argument("--rent", dest="mode", action="store_const", const="rent", help="rank by rental price")
    parser.add_argument("--limit", metavar="N", type=number(1, 10_000, integer=True), default=10,
                        help="configurations to show (default %(default)s)")
    parser.add_argument("--concurrency", metavar="N", type=_pricing.positive_int, default=DEFAULT_CONCURRENCY,
                        help="concurrent requests for the $/M tokens figures (default %(default)s)")
    parser.add_argument("--upgrade", action="store_true", help="upgrade advice for this machine (probed)")
    add_machine_args(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run, mode="either")


def run(args: argparse.Namespace) -> int:
    from rigcheck.estimate.plan import plan
    from rigcheck.estimate.plan_json import plan_to_dict, upgrade_to_dict
    from rigcheck.estimate.serving import Workload
    from rigcheck.estimate.target import PlanError, Target
    from rigcheck.estimate.upgrade import drop_below_floor, upgrade_advice

    catalog, status = _pricing.load_catalog_and_status()
    model = _pricing.find_model(catalog, args.model)
    if args.prompt > args.context:
        raise UsageError(f"--prompt {args.prompt} is longer than --context {args.context}")
    from rigcheck.estimate.configs import machine_class

    machine = None
    if args.upgrade or args.machine or args.gpu or args.ram:
        machine = machine_from_args(args, catalog)
    wanted_class = args.machine_class or (machine_class(machine, catalog.devices) if machine is not None else "any")
    try:
        target = Target(
            quant=args.quant, context_tokens=args.context, prompt_tokens=args.prompt,
            min_decode_tokens_per_s=args.min_decode, max_ttft_s=args.max_ttft, budget_usd=args.budget,
            mode=args.mode, machine_class=wanted_class,
        )
        workload = Workload.for_prompt(args.prompt, peak_concurrency=args.concurrency, utilization=1.0)
        result = plan(model, catalog, target, limit=args.limit, workload=workload)
        upgrades = None
        dropped = 0
        if machine is not None:
            upgrades, dropped = drop_below_floor(upgrade_advice(model, machine, catalog, target),
                                                 [o.estimate.bits_per_weight or 0.0 for o in result.options])
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        _pricing.print_json({
            "schema": SCHEMA,
            "catalog": _pricing.catalog_header(status),
            **plan_to_dict(result),
            "machine": machine.label if machine else None,
            "upgrades": [upgrade_to_dict(u) for u in upgrades] if upgrades is not None else None,
            "cost_workload": {
                "description": "the $/M output token figures: all in, machines 100% busy",
                "peak_concurrency": workload.peak_concurrency,
                "input_per_output": workload.input_per_output,
                "input_tokens_per_request": workload.input_tokens_per_request,
                "output_tokens_per_request": workload.output_tokens_per_request,
                "cached_input_share": workload.cached_input_share,
            },
        })
        return 0
    from rigcheck.estimate.memory import max_context_tokens

    _print(result, machine, upgrades, workload, dropped, max_context_tokens(model))
    return 0


def _band(b, fmt=units.rate_text) -> str:
    return "-" if b is None else units.band_text(b, fmt)


def _price(usd: float | None) -> str:
    return "price unknown" if usd is None else units.usd_text(usd)


def _print(result, machine, upgrades, workload, dropped: int = 0, model_max_tokens: int | None = None) -> None:
    from rigcheck.estimate.cost import Ownership
    from rigcheck.estimate.plan import ranking_price

    target = result.target
    print(f"{result.model_id}: {target.describe(model_max_tokens)}"
          + (f", quant {target.quant}" if target.quant else ", best quality that meets it")
          + {"buy": ", ranked by purchase price", "rent": ", ranked by rental price"}.get(target.mode, ""))
    for note in result.notes:
        print(f"note: {note}")
    if not result.options:
        print("No configuration in the device table meets this target.")
    else:
        rows = []
        for i, o in enumerate(result.options, 1):
            rent = o.prices.rental_usd_per_hour
            rented = o.usd_per_m_output_rented
            ranked = ranking_price(o.prices, target.mode)
            rows.append([
                str(i), o.config.label, o.quant, o.estimate.verdict,
                _band(o.estimate.decode_tokens_per_s), _band(o.estimate.ttft_s, units.seconds_text),
                *([(f"{units.usd_text(ranked[0], 0)}/mo " + ("rent" if "rent" in ranked[1] else "buy"))
                   if ranked else "price unknown"] if target.mode == "either" else []),
                _price(o.prices.purchase_usd),
                f"{units.usd_text(rent.expected)}/h" if rent else "no rental offer",
                units.usd_text(rented.expected) if rented else "-",
                units.watts_text(o.prices.power_w) if o.prices.power_w else "-",
            ])
        print(_pricing.table(rows, ["#", "configuration", "quant", "verdict", "decode tok/s", "TTFT",
                                    *(["ranked by"] if target.mode == "either" else []), "buy",
                                    "rent", "$/M out rented", "power"]))
        if target.mode == "either":
            print(f"Ranked by the lower of renting per month and buying over {Ownership().years:g} years "
                  "(cheapest first; configurations with neither price after, parts still sold new first).")
        w = workload
        print("Purchase prices are GPUs only (host not included), except unified-memory machines. "
              f"$/M out rented: all in, at 100% utilization, {w.peak_concurrency} concurrent requests of "
              f"{w.input_tokens_per_request:,} uncached input + {w.output_tokens_per_request:,} output tokens "
              "(the default request for the --prompt length, as `cost`, `serve` and the app assume).")
        splits = sorted({o.split for o in result.options if o.config.count > 1})
        for split in splits:
            print(f"  several GPUs: {split}")
    failing = sorted(result.rejected, key=lambda r: -r.config.memory_total_bytes)
    if failing:
        print()
        print("Why other configurations fail (largest tried per device, largest first):")
        for r in failing[:12]:
            print(f"  - {r.config.label}: {r.reason}")
        if len(failing) > 12:
            print(f"  ... and {len(failing) - 12} more (see --json)")
    if result.not_evaluated:
        print(f"\n{len(result.not_evaluated)} device(s) not sized: memory size not in the device table "
              "(see --json)")
    if upgrades is not None:
        print()
        print(f"Upgrade advice for {machine.label or 'this machine'}:")
        if not upgrades:
            print("  no single change from the device table gets there")
        if dropped:
            print(f"  ({dropped} change(s) that would run it only below 3 bits per weight are left out: the "
                  "configurations above run it at 4 bits or more)")
        for u in upgrades:
            est = u.estimate
            speed = f"decode {_band(est.decode_tokens_per_s)} tok/s" if est and est.decode_tokens_per_s else ""
            cost = f", {_price(u.cost_usd)}" if u.kind != "none" else ""
            print(f"  - {u.change}{cost}: {est.quant if est else ''} {est.verdict if est else ''} {speed}".rstrip())
