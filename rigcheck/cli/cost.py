"""``rigcheck cost --model ID [MACHINE]``: what a workload costs through each door — hosted, rented, owned."""

from __future__ import annotations

import argparse

from rigcheck import units
from rigcheck.cli import UsageError, _pricing
from rigcheck.cli._args import number, token_count
from rigcheck.cli._machine import add_machine_args, machine_from_args

SCHEMA = "rigcheck.cost/1"


def register(subparsers) -> None:
    from rigcheck.estimate import cost

    parser = subparsers.add_parser(
        "cost", help="monthly cost and $/M tokens: hosted API vs rented node vs owned hardware",
        description="Each door's monthly cost and $/M output tokens for a workload, with every assumption, and "
        "the utilization at which each door wins. Self-hosted doors use MACHINE when it holds the model, "
        "otherwise the planner's cheapest configuration that does.",
    )
    parser.add_argument("--model", metavar="ID", required=True, help="a Hugging Face id or an unambiguous part")
    parser.add_argument("--quant", metavar="Q", help="quant both self-hosted doors run (default: MACHINE's pick, as fit names it, "
                        "where a priced node can run it; else the best quality a priced node holds)")
    parser.add_argument("--context", metavar="N", type=token_count, default=8192,
                        help="context reserved per request in tokens (default %(default)s)")
    parser.add_argument("--prompt", metavar="N", type=token_count, default=4096,
                        help="typical prompt length in tokens (default %(default)s)")
    _pricing.add_workload_args(parser)
    own = parser.add_argument_group("prices and ownership")
    own.add_argument("--usd-per-gpu-hour", metavar="X", type=number(0.0, 1e5, low_open=True, unit="USD"),
                     help="rental price per GPU-hour (default: the catalog's rental offers)")
    own.add_argument("--purchase-usd", metavar="X", type=number(0.0, _pricing.MAX_USD, unit="USD"),
                     help="purchase price of the owned machine (default: the device table's prices)")
    own.add_argument("--years", metavar="N", type=number(0.1, 100, unit="years"), default=cost.DEFAULT_AMORTIZATION_YEARS,
                     help="amortization period in years (default %(default)s)")
    own.add_argument("--usd-per-kwh", metavar="X", type=number(0.0, 100, unit="USD"),
                     default=cost.DEFAULT_USD_PER_KWH, help="electricity price (default %(default)s)")
    own.add_argument("--ops-usd-per-month", metavar="X", type=number(0.0, 1e9, unit="USD"),
                     default=cost.DEFAULT_OPS_USD_PER_MONTH,
                     help="ops allowance per machine per month; 0 allowed (default %(default)s)")
    parser.add_argument("--residency", choices=["anywhere", "region", "no-training", "sovereign"],
                        default="anywhere", help="hosted offers must meet this level (default %(default)s)")
    add_machine_args(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rigcheck.estimate import compare, cost
    from rigcheck.estimate.types import Settings

    catalog, status = _pricing.load_catalog_and_status()
    model = _pricing.find_model(catalog, args.model)
    workload = _pricing.workload_from_args(args)
    if args.prompt > args.context:
        raise UsageError(f"--prompt {args.prompt} is longer than --context {args.context}")
    machine = machine_from_args(args, catalog)
    try:
        ownership = cost.Ownership(years=args.years, usd_per_kwh=args.usd_per_kwh,
                                   ops_usd_per_month=args.ops_usd_per_month)
        settings = Settings(context_tokens=args.context, prompt_tokens=args.prompt, quant=args.quant)
        result = compare.compare_doors(
            model, catalog, workload, settings, machine, quant_name=args.quant, ownership=ownership,
            usd_per_gpu_hour=args.usd_per_gpu_hour, purchase_usd=args.purchase_usd, residency=args.residency,
        )
    except cost.CostError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        from rigcheck.catalog.hosted import RESIDENCY_EXPLANATIONS

        _pricing.print_json({
            "schema": SCHEMA,
            "catalog": _pricing.catalog_header(status),
            "machine": machine.label,
            "settings": {"context_tokens": args.context, "prompt_tokens": args.prompt, "quant": args.quant},
            "residency": {"level": args.residency, "explained": RESIDENCY_EXPLANATIONS[args.residency]},
            **result.to_dict(),
        })
        return 0
    _print(result, machine, args)
    return 0


def _print(result, machine, args) -> None:
    from rigcheck.catalog.hosted import RESIDENCY_EXPLANATIONS

    print(f"{result.model_id}: cost of each door")
    print(result.workload.describe())
    if args.residency != "anywhere":
        print(f"residency {args.residency}: {RESIDENCY_EXPLANATIONS[args.residency]}")
    for note in result.notes:
        print(f"note: {note}")
    print()
    rows = []
    for door in result.doors:
        if door.available:
            b = door.usd_per_m_output_tokens
            m = door.monthly_usd
            rows.append([door.door, door.label, units.band_text(b, units.usd_text),
                         units.usd_text(m.expected, 0), str(door.units) if door.door != "hosted" else "-",
                         units.usd_text(door.usd_per_m_output_at(1.0)),
                         units.usd_text(door.saturated.expected) if door.saturated else "-"])
        else:
            rows.append([door.door, door.label, "unavailable", "-", "-", "-", "-"])
    print(_pricing.table(rows, ["door", "what", "$/M output (all in)", "per month", "machines", "$/M at 100%",
                                "$/M saturated"]))
    print("$/M at 100%: the node busy every hour at the workload's concurrency; saturated: at the engine's own "
          "batch limit (the best a node does)")
    for door in result.doors:
        print()
        print(f"{door.door} — {door.label}")
        if not door.available:
            print(f"  unavailable: {door.unavailable_reason}")
            continue
        for line in door.assumptions[1:]:
            print(f"  - {line}")
    print()
    print("Break-even")
    for entry in result.break_even:
        print(f"  - {entry.sentence}")
