"""The three doors side by side for one model and workload: hosted, rented and owned, and where each wins.

Self-hosted doors run on the user's machine when it holds the model, otherwise on the planner's cheapest
configuration that does; the arithmetic of each door is ``rigcheck.estimate.cost``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rigcheck.catalog.devices import resolve_gpu
from rigcheck.catalog.hosted import cheapest_offer, offers_for
from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.estimate.configs import build_machine
from rigcheck.estimate.cost import (
    CostError,
    DoorCost,
    Ownership,
    hosted_door,
    owned_door,
    rented_door,
    unavailable_door,
)
from rigcheck.estimate.curves import BreakEven, break_even
from rigcheck.estimate.plan import Option, plan
from rigcheck.estimate.prices import purchase_price, rental_price
from rigcheck.estimate.rules import candidate, representative_index
from rigcheck.estimate.serving import NodeCapacity, Workload, machine_capacity
from rigcheck.estimate.target import PlanError, Target, default_evaluate, quality_bits, quants_by_quality
from rigcheck.estimate.types import Band, Estimate, Settings
from rigcheck.probe.types import Machine


@dataclass(frozen=True)
class CostComparison:
    """The three doors for one model and workload, and where each wins."""

    model_id: str
    workload: Workload
    doors: list[DoorCost]
    break_even: list[BreakEven]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        w = self.workload
        return {
            "model_id": self.model_id,
            "workload": {
                "input_tokens_per_day": w.input_tokens_per_day,
                "output_tokens_per_day": w.output_tokens_per_day,
                "cached_input_share": w.cached_input_share,
                "peak_concurrency": w.peak_concurrency,
                "utilization": w.utilization,
                "utilization_means": "the share of hours the node serves at peak_concurrency; it idles the rest",
                "output_tokens_per_request": w.output_tokens_per_request,
                "input_tokens_per_request": w.input_tokens_per_request,
            },
            **comparison_to_dict(self.doors, self.break_even),
            "notes": list(self.notes),
        }


def comparison_to_dict(doors: list[DoorCost], breaks: list[BreakEven]) -> dict[str, object]:
    """The ``doors`` and ``break_even`` members of ``cost --json``."""
    return {
        "doors": [d.to_dict() for d in doors],
        "break_even": [b.to_dict() for b in breaks],
    }


def compare_doors(
    model: Model,
    catalog: Catalog,
    workload: Workload | None = None,
    settings: Settings | None = None,
    machine: Machine | None = None,
    *,
    quant_name: str | None = None,
    ownership: Ownership | None = None,
    usd_per_gpu_hour: float | None = None,
    purchase_usd: float | None = None,
    residency: str = "anywhere",
) -> CostComparison:
    """Hosted, rented and owned costs of ``model`` for ``workload``, and the break-even between them.

    Without ``workload``, the default one for the settings' prompt (``Workload.for_prompt``).
    Self-hosted doors run on ``machine`` when it holds the model (the rules' pick, as ``fit`` names it, or
    ``quant_name``); otherwise on the planner's cheapest configuration that does (rented: one with a
    rental price; owned: one with a purchase price). Both run one quant: ``quant_name``, else the machine's
    pick when it holds the model (also on a node priced in its place), else the best quality a priced node
    holds. A node priced in place of the machine runs the machine's pick only where a priced node can (an
    MLX pick runs on Apple silicon alone, which nothing rents): else the best quality a priced node holds,
    and a note says so. The app's detail pane passes its selected quant, which starts at the pick, so it and
    ``rigcheck cost`` without ``--quant`` price the same doors. ``usd_per_gpu_hour`` and ``purchase_usd``
    override the catalog's prices. Raises CostError for a quant the model does not have.
    """
    settings = settings or Settings()
    workload = workload or Workload.for_prompt(settings.prompt_tokens)
    ownership = ownership or Ownership()
    notes: list[str] = []
    doors: list[DoorCost] = []

    offer = cheapest_offer(offers_for(catalog, model.id), workload.token_mix, residency=residency)
    if offer is None:
        reason = (
            "physical sovereignty rules out every hosted offer"
            if residency == "sovereign"
            else f"no hosted offer for {model.id} in the catalog"
            + ("" if residency == "anywhere" else f" meets residency {residency!r}")
        )
        doors.append(unavailable_door("hosted", "no offer", reason, (workload.describe(),)))
    else:
        doors.append(hosted_door(offer, workload))

    try:
        quants = quants_by_quality(model, quant_name)
    except PlanError as exc:
        raise CostError(str(exc)) from None

    own_machine = None
    if machine is not None:
        own_machine = _fitting_quant(model, quants, machine, catalog, settings)
        if own_machine is None:
            notes.append(f"{machine.label or 'this machine'} cannot hold {model.id}: the planner picks a node")
    # Both self-hosted doors run one quant: the one asked for, else the machine's pick when it holds the model
    # (a node rented because the machine's GPUs have no rental offer runs what the machine runs), else the best
    # quality a priced node holds (``planned_option``, which also falls back from a pick no priced node runs).
    node_quant = quants[0].name if quant_name else (own_machine[0].name if own_machine is not None else None)

    def capacity(m: Machine, quant: Quant) -> NodeCapacity | str:
        return machine_capacity(model, quant, m, catalog, settings, workload)

    planned: dict[str, Option | None] = {}
    by_name = {q.name: q for q in model.quants}

    def is_machines_pick(name: str) -> bool:
        """Whether ``name`` is the quant the machine runs by the rules (the app passes its selected quant, which
        starts at the pick: priced as ``cost`` without ``--quant`` prices it)."""
        if machine is None:
            return False
        if not quant_name:
            return own_machine is not None
        pick = _fitting_quant(model, quants_by_quality(model), machine, catalog, settings)
        return pick is not None and pick[0].name == name

    def cheapest_priced(mode: str, quant: str | None) -> Option | None:
        """The cheapest configuration with a price for ``mode`` running ``quant``, or with None at the best quality
        any priced one holds (8-bit and above count as one quality)."""
        key = "rental_usd_per_hour" if mode == "rent" else "purchase_usd"
        target = Target(quant=quant, context_tokens=settings.context_tokens,
                        prompt_tokens=settings.prompt_tokens, mode=mode,
                        kv_cache_type=settings.kv_cache_type)
        try:
            result = plan(model, catalog, target, limit=10_000)
        except PlanError as exc:
            notes.append(str(exc))
            return None
        priced = [o for o in result.options if getattr(o.prices, key) is not None and o.quant in by_name]
        if not priced:
            return None
        top = max(quality_bits(by_name[o.quant]) for o in priced)
        return next(o for o in priced if quality_bits(by_name[o.quant]) == top)

    def planned_option(mode: str) -> Option | None:
        """The configuration a self-hosted door prices in place of the machine (to rent or to buy): the cheapest
        priced one running ``node_quant``. Without a quant, or when the machine's pick runs on no priced
        configuration (an MLX quant: only Apple silicon runs it, and none is rented), the cheapest at the best
        quality any priced one holds: the door is compared at the quality hosted providers serve (8-bit or
        better when something holds it), not at whatever 2-bit quant is cheapest to hold. A quant asked for that
        is not the machine's pick is priced as asked, or not at all."""
        if mode in planned:
            return planned[mode]
        option = planned[mode] = cheapest_priced(mode, node_quant)
        if option is None and node_quant is not None and is_machines_pick(node_quant):
            option = planned[mode] = cheapest_priced(mode, None)
            if option is not None:
                door, price = ("rented", "rental") if mode == "rent" else ("owned", "purchase")
                notes.append(f"no configuration with a {price} price runs {node_quant} (this machine's pick): "
                             f"the {door} node runs {option.quant}, the best quality a priced one holds")
        return option

    def none_holds(price: str) -> str:
        at = f" at {node_quant}" if node_quant else ""
        return f"no configuration with a {price} price holds {model.id}{at}"

    # Rented door.
    rent_done = False
    if own_machine is not None:
        quant, _ = own_machine
        price = _machine_rental(machine, catalog, usd_per_gpu_hour)
        if price is not None:
            cap = capacity(machine, quant)
            if isinstance(cap, NodeCapacity):
                doors.append(rented_door(f"{machine.label or 'this machine'} (rented, {quant.name})",
                                         len(machine.usable_gpus),
                                         price[0], cap, workload, price[1]))
                rent_done = True
    if not rent_done:
        if own_machine is not None:
            notes.append(f"no rental offer for the GPUs of {machine.label or 'this machine'}: "
                         "the rented door uses the planner's cheapest rentable node")
        option = planned_option("rent")
        if option is None:
            doors.append(unavailable_door("rented", "no node", none_holds("rental"), (workload.describe(),)))
        else:
            quant = next(q for q in model.quants if q.name == option.quant)
            node = build_machine(option.config, catalog)
            cap = capacity(node, quant)
            per_gpu = option.prices.rental_usd_per_hour
            n = option.config.count
            price = (Band(usd_per_gpu_hour, usd_per_gpu_hour, usd_per_gpu_hour) if usd_per_gpu_hour
                     else Band(per_gpu.low / n, per_gpu.expected / n, per_gpu.high / n))
            if isinstance(cap, str):
                doors.append(unavailable_door("rented", option.config.label, cap, (workload.describe(),)))
            else:
                doors.append(rented_door(f"{option.config.label} (rented, {quant.name})", n, price, cap, workload,
                                         option.prices.rental_note))

    # Owned door.
    own_done = False
    if own_machine is not None:
        quant, _ = own_machine
        price_info = _machine_purchase(machine, catalog, purchase_usd)
        cap = capacity(machine, quant)
        if price_info is None:
            what = "this machine's GPUs" if machine.usable_gpus else "a machine without a GPU"
            doors.append(unavailable_door("owned", machine.label or "this machine",
                                          f"no purchase price in the catalog for {what} (give --purchase-usd)",
                                          (workload.describe(),)))
            own_done = True
        elif isinstance(cap, NodeCapacity):
            doors.append(owned_door(f"{machine.label or 'this machine'} ({quant.name})", price_info[0],
                                    price_info[1], cap, workload, ownership, price_info[2]))
            own_done = True
    if not own_done:
        option = planned_option("buy")
        if option is None:
            doors.append(unavailable_door("owned", "no configuration", none_holds("purchase") + " (devices "
                                          "without a price are not priced)", (workload.describe(),)))
        else:
            quant = next(q for q in model.quants if q.name == option.quant)
            node = build_machine(option.config, catalog)
            cap = capacity(node, quant)
            buy = purchase_usd if purchase_usd is not None else option.prices.purchase_usd
            if isinstance(cap, str):
                doors.append(unavailable_door("owned", option.config.label, cap, (workload.describe(),)))
            else:
                note = "the price given" if purchase_usd is not None else option.prices.purchase_note
                doors.append(owned_door(f"{option.config.label} ({quant.name})", buy, option.prices.power_w or 0.0,
                                        cap, workload, ownership, note))

    return CostComparison(model.id, workload, doors, break_even(doors), notes)


def _fitting_quant(
    model: Model, quants: list[Quant], machine: Machine, catalog: Catalog, settings: Settings
) -> tuple[Quant, Estimate] | None:
    """The quant to self-host on the machine: the rules' pick (``rules.representative_index``: usable, never below
    3 bits when a 4-bit quant runs, resident before spilled, headroom, calibrated runtimes first), the quant
    ``fit``, the app and the report name for it; when none is usable, the row closest to one by the same rule.
    None when no quant runs."""
    by_name = {q.name: q for q in quants}
    rows = [r for r in default_evaluate()(machine, catalog, settings, [model]) if r.fits and r.quant in by_name]
    i = representative_index([candidate(r) for r in rows], settings.usable)
    return None if i is None else (by_name[rows[i].quant], rows[i])


def _machine_devices(machine: Machine, catalog: Catalog) -> list[Device] | None:
    found = [resolve_gpu(g, list(catalog.devices)) for g in machine.usable_gpus]
    if not found or any(d is None for d in found):
        return None
    return found  # type: ignore[return-value]


def _machine_rental(machine: Machine, catalog: Catalog, override: float | None) -> tuple[Band, str] | None:
    """$/GPU-hour to rent this machine's GPUs: the override, or the catalog's when every GPU has one kind."""
    if override is not None:
        return Band(override, override, override), "the price given"
    found = _machine_devices(machine, catalog)
    if not found or len({d.name for d in found}) != 1:
        return None
    return rental_price(catalog, found[0])


def _machine_purchase(machine: Machine, catalog: Catalog, override: float | None) -> tuple[float, float, str] | None:
    """(purchase USD, GPU TDP W total, note) for a machine; None when a price is unknown."""
    found = _machine_devices(machine, catalog)
    tdp = sum(d.tdp_w or 0.0 for d in found) if found else 0.0
    if override is not None:
        return override, tdp, "the price given"
    if not found:
        return None
    total = 0.0
    for device in found:
        price = purchase_price(device)
        if price is None:
            return None
        total += price[0]
    return total, tdp, "GPU prices from the device table; host not included"
