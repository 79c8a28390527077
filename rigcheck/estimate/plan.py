"""The planner: the cheapest hardware configurations that run a model to a target, to buy or to rent.

Each candidate (``rigcheck.estimate.configs``) is first checked against the memory the model needs (cheap
arithmetic, so a plan takes well under a second), and only the survivors are estimated with the
estimator (``evaluate(..., models=[model])``, once per candidate) on a hypothetical machine
(``rigcheck.catalog.devices.hypothetical_machine``). Every rejected candidate keeps its reason
("8x NVIDIA H100 SXM: 640 GiB (627 GiB usable) < 641 GiB needed (FP8)"). Devices without a price are listed as "price unknown",
after the priced ones, never dropped (prices: ``rigcheck.estimate.prices``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from rigcheck.catalog.devices import DeviceLookupError, resolve
from rigcheck.catalog.records import Catalog, Device, Model, Quant
from rigcheck.estimate.configs import (
    TENSOR_PARALLEL_SIZES,
    Config,
    MachineFn,
    build_machine,
    candidate_configs,
    default_machine,
    in_class,
    multi_node_configs,
)
from rigcheck.estimate.cost import Ownership, owned_door, rented_door
from rigcheck.estimate.prices import PriceBook, Prices, is_current
from rigcheck.estimate.rules import NOTICEABLE_LOSS_BITS, SMALL_LOSS_BITS, Thresholds, pick
from rigcheck.estimate.serving import NodeCapacity, Workload, machine_capacity
from rigcheck.estimate.target import (
    EvaluateFn,
    Mode,
    PlanError,
    Target,
    default_evaluate,
    expected_decode_tokens_per_s,
    gib_text,
    quality_bits,
    quants_by_quality,
    target_shortfall,
)
from rigcheck.estimate.types import Band, Estimate, Settings
from rigcheck.probe.types import Machine


@dataclass(frozen=True)
class Option:
    """A configuration that runs the model to the target, with its prices and estimate."""

    config: Config
    quant: str
    estimate: Estimate
    prices: Prices
    usd_per_m_output_rented: Band | None = None
    usd_per_m_output_owned: Band | None = None
    cost_basis: tuple[str, ...] = ()

    @property
    def price_known(self) -> bool:
        return self.prices.purchase_usd is not None or self.prices.rental_usd_per_hour is not None

    @property
    def split(self) -> str:
        """How the model is spread over several GPUs with the runtime the estimate chose."""
        config = self.config
        if config.kind == "unified" or config.count == 1:
            return config.split
        if config.kind == "multi-node":
            return config.split
        if self.estimate.runtime == "vllm":
            if config.count in TENSOR_PARALLEL_SIZES:
                return f"tensor parallel over {config.count} GPUs (vLLM)"
            return f"pipeline parallel over {config.count} GPUs (vLLM; tensor parallel needs 2, 4 or 8)"
        return f"layer split over {config.count} GPUs ({self.estimate.runtime})"


@dataclass(frozen=True)
class Rejection:
    """A configuration that does not meet the target, and why in one line."""

    config: Config
    reason: str
    prices: Prices
    quant: str | None = None


@dataclass(frozen=True)
class Plan:
    model_id: str
    target: Target
    options: list[Option]
    """Cheapest first under the mode; priced before "price unknown"."""
    rejected: list[Rejection]
    """The largest failing configuration per device (smaller ones of that device fail too)."""
    not_evaluated: list[str] = field(default_factory=list)
    """Devices the planner could not size (no memory figure), each with why."""
    notes: list[str] = field(default_factory=list)


def plan(
    model: Model,
    catalog: Catalog,
    target: Target | None = None,
    *,
    limit: int = 10,
    workload: Workload | None = None,
    evaluate_fn: EvaluateFn | None = None,
    machine_fn: MachineFn | None = None,
    capacity_fn: Callable[[Model, Quant, Machine, Settings, Workload], NodeCapacity | str] | None = None,
) -> Plan:
    """The cheapest configurations from the device table that run ``model`` to ``target``.

    ``limit`` options are returned (cheapest first, priced before unpriced), each with its estimate,
    prices and $/M output tokens at full utilization (rented and owned, where priced). Raises
    PlanError when the model has no quants or the quant asked for does not exist.
    """
    target = target or Target()
    evaluate_fn = evaluate_fn or default_evaluate()
    machine_fn = machine_fn or default_machine()
    if not model.quants:
        raise PlanError(f"{model.id} has no quants in the catalog")
    quants = quants_by_quality(model, target.quant)
    devices = list(catalog.devices)
    configs, not_evaluated = candidate_configs(devices)
    configs = [c for c in configs if in_class(c, target.machine_class)]
    book = PriceBook(catalog, _resolver(devices))

    # A floor on the memory each quant needs (weights + KV cache at the context), from one evaluation on
    # the largest candidate; quants whose runtime cannot run there get their weights alone. Compute
    # buffers are left out: they grow with the number of GPUs, so the probe's would overstate what a
    # single card needs. The estimator has the final word on each survivor.
    probe_config = max(configs, key=lambda c: c.memory_total_bytes, default=None)
    if probe_config is None:
        raise PlanError("the device table has no device the planner can size")
    settings = target.settings(target.quant)
    probe_rows = evaluate_fn(build_machine(probe_config, catalog, machine_fn), catalog, settings, [model])
    if not probe_rows and not model.params_total_b:
        raise PlanError(f"{model.id} has no parameter count in the catalog, so its memory and speed cannot be "
                        "estimated")
    need: dict[str, int] = {q.name: _weights_lower_bound(model, q) for q in quants}
    need.update({row.quant: row.memory.weights_bytes + row.memory.kv_cache_bytes
                 for row in probe_rows if row.quant in need})
    # Compute buffers per GPU, as the probe's fitting rows show them: used to say how much a given
    # configuration needs (the estimator reports no overhead for a configuration that does not fit).
    probe_gpus = max(1, probe_config.count)
    overheads = [row.memory.overhead_bytes / probe_gpus for row in probe_rows if row.fits]
    overhead_per_gpu = max(overheads, default=0.0)

    def needed_on(config: Config, quant_name: str, estimated: int = 0) -> float:
        return max(estimated, need[quant_name] + overhead_per_gpu * config.count)

    smallest_need = min(need.values())
    largest_node = max((c.usable_memory_bytes for c in configs), default=0)
    notes = []
    if smallest_need > largest_node and target.machine_class != "workstation":
        configs = configs + [c for c in multi_node_configs(devices, smallest_need) if in_class(c, target.machine_class)]
        at = f"at {quants[0].name}" if len(quants) == 1 else "even at its smallest quant"
        notes.append(
            f"{model.id} needs {gib_text(smallest_need)} {at}, more than any single node holds: "
            "multi-node configurations are sized on paper"
        )

    quality = {q.name: quality_bits(q) for q in quants}
    options: list[Option] = []
    failures: dict[str, Rejection] = {}
    for config in configs:
        prices = book.prices(config)
        fitting = [q for q in quants if need[q.name] <= config.usable_memory_bytes]
        if not fitting:
            q = quants[-1]
            reason = (f"{gib_text(config.memory_total_bytes)} ({gib_text(config.usable_memory_bytes)} usable) "
                      f"< {gib_text(needed_on(config, q.name))} needed ({q.name})")
            _keep_largest(failures, Rejection(config, reason, prices, q.name))
            continue
        if not _within_budget(prices, target):
            _keep_largest(failures, Rejection(config, _budget_reason(prices, target), prices))
            continue
        try:
            machine = build_machine(config, catalog, machine_fn)
        except ValueError as exc:  # a device the lookup cannot place (ambiguous name): keep the reason
            _keep_largest(failures, Rejection(config, str(exc), prices))
            continue
        chosen: Option | None = None
        last_reason = "no quant of this model runs on it (runtime not available)"
        first_quant: str | None = None
        # One quality tier at a time, best first: a small model that fits everywhere is estimated at its
        # top tier only, which keeps a plan over the whole device table fast.
        for tier in _tiers(fitting):
            rows = evaluate_fn(machine, catalog, settings, [msgspec.structs.replace(model, quants=tier)])
            rows = sorted((r for r in rows if r.quant in quality), key=lambda r: -expected_decode_tokens_per_s(r))
            meeting = [r for r in rows if target_shortfall(r, target) is None]
            if meeting:
                # Of the quants of one quality that meet the target, the one the rules would pick (headroom,
                # a calibrated runtime, then speed); every row here already meets the target's speeds.
                row = pick(meeting, _ANY_SPEED) or meeting[0]
                chosen = Option(config, row.quant, row, prices)
                break
            for row in rows:
                first_quant = first_quant or row.quant
                shortfall = target_shortfall(row, target)
                if row.verdict == "no_fit":
                    needed = needed_on(config, row.quant, row.memory.total_bytes)
                    shortfall = (f"{gib_text(config.memory_total_bytes)} "
                                 f"({gib_text(config.usable_memory_bytes)} usable) "
                                 f"< {gib_text(needed)} needed ({row.quant})")
                else:
                    shortfall = f"{row.quant}: {shortfall}"
                if last_reason.startswith("no quant") or row.quant == fitting[0].name:
                    last_reason = shortfall
            if chosen is not None:
                break
        if chosen is None:
            _keep_largest(failures, Rejection(config, last_reason, prices, first_quant))
        else:
            options.append(chosen)

    options.sort(key=lambda o: _option_key(o, target.mode, book.as_of))
    options, floor_note = _quality_floor(options)
    if floor_note:
        notes.append(floor_note)
    options = _dedupe(options)
    options = options[:limit] + _unified_left_out(options[limit:], options[:limit])
    if capacity_fn is not None or workload is not None:
        options = [_with_cost(o, model, catalog, target, workload or Workload.for_prompt(target.prompt_tokens), machine_fn, capacity_fn)
                   for o in options]
    rejected = sorted(failures.values(), key=lambda r: (_price_or_inf(r.prices, target.mode),
                                                        -r.config.memory_total_bytes))
    return Plan(model.id, target, options, rejected, not_evaluated, notes)


_ANY_SPEED = Thresholds(min_decode_tokens_per_s=1e-9, max_ttft_s=1e12)
"""Thresholds every row passes: rows handed to ``rules.pick`` here already meet the plan's target."""


def _quality_floor(options: list[Option]) -> tuple[list[Option], str | None]:
    """The rules' floor: no option below NOTICEABLE_LOSS_BITS when another runs the model at SMALL_LOSS_BITS or
    more (a 1-bit quant on a cheap box is no answer when a 4-bit one runs elsewhere)."""
    def bits(o: Option) -> float:
        return o.estimate.bits_per_weight or 0.0

    if not any(bits(o) >= SMALL_LOSS_BITS for o in options):
        return options, None
    kept = [o for o in options if bits(o) >= NOTICEABLE_LOSS_BITS]
    dropped = len(options) - len(kept)
    if not dropped:
        return options, None
    return kept, (f"{dropped} configuration(s) that run it only below {NOTICEABLE_LOSS_BITS:g} bits per weight are "
                  f"left out: others run it at {SMALL_LOSS_BITS:g} bits or more")


def _unified_left_out(rest: list[Option], shown: list[Option]) -> list[Option]:
    """Unified-memory machines (a Mac, a Strix Halo box) cut by ``limit``: the smallest of each kind that meets
    the target is shown anyway. Unpriced, they sort after priced cards, yet they are often the simplest answer."""
    kinds_shown = {o.config.device.kind for o in shown if o.config.kind == "unified"}
    added = []
    for option in rest:
        kind = option.config.device.kind
        if option.config.kind == "unified" and kind not in kinds_shown:
            kinds_shown.add(kind)
            added.append(option)
    return added


def _tiers(quants: list[Quant]) -> list[list[Quant]]:
    """Quants (best first) grouped into tiers of equal quality."""
    tiers: list[list[Quant]] = []
    for quant in quants:
        if tiers and quality_bits(tiers[-1][0]) == quality_bits(quant):
            tiers[-1].append(quant)
        else:
            tiers.append([quant])
    return tiers


def _weights_lower_bound(model: Model, quant: Quant) -> int:
    """The weights alone: the real file size, else parameters x bits per weight (a floor on the need)."""
    if quant.file_size_bytes:
        return quant.file_size_bytes
    if model.params_total_b:
        return int(model.params_total_b * 1e9 * quant.bits_per_weight / 8)
    return 0


def _resolver(devices: list[Device]) -> Callable[[str], Device | None]:
    known: dict[str, Device | None] = {}

    def lookup(name: str) -> Device | None:
        # Each rental offer's GPU name is resolved once per plan, not once per device it is compared to.
        if name not in known:
            try:
                known[name] = resolve(name, devices=devices)
            except DeviceLookupError:
                known[name] = None
        return known[name]

    return lookup


def _sort_price(prices: Prices, mode: Mode) -> float | None:
    """The figure options are ranked by: purchase (buy), monthly rent (rent), or the lower monthly view."""
    if mode == "buy":
        return prices.purchase_usd
    if mode == "rent":
        return prices.rental_usd_per_month
    monthly = []
    if prices.purchase_usd is not None:
        monthly.append(prices.purchase_usd / (Ownership().years * 12.0))
    if prices.rental_usd_per_month is not None:
        monthly.append(prices.rental_usd_per_month)
    return min(monthly) if monthly else None


def _within_budget(prices: Prices, target: Target) -> bool:
    if target.budget_usd is None:
        return True
    buy_ok = prices.purchase_usd is not None and prices.purchase_usd <= target.budget_usd
    rent_ok = prices.rental_usd_per_month is not None and prices.rental_usd_per_month <= target.budget_usd
    if target.mode == "buy":
        return buy_ok
    if target.mode == "rent":
        return rent_ok
    return buy_ok or rent_ok


def _budget_reason(prices: Prices, target: Target) -> str:
    parts = []
    if prices.purchase_usd is not None:
        parts.append(f"${prices.purchase_usd:,.0f} to buy")
    if prices.rental_usd_per_month is not None:
        parts.append(f"${prices.rental_usd_per_month:,.0f}/month to rent")
    if not parts:
        return f"price unknown: cannot be checked against the ${target.budget_usd:,.0f} budget"
    return f"over budget: {' and '.join(parts)} > ${target.budget_usd:,.0f}"


def _keep_largest(failures: dict[str, Rejection], rejection: Rejection) -> None:
    """Keep, per device, the largest configuration that fails: the smaller ones fail for the same reason."""
    key = rejection.config.device.name
    held = failures.get(key)
    if held is None or rejection.config.memory_total_bytes > held.config.memory_total_bytes:
        failures[key] = rejection


def _price_or_inf(prices: Prices, mode: Mode) -> float:
    value = _sort_price(prices, mode)
    return math.inf if value is None else value


def _option_key(option: Option, mode: Mode, as_of: str | None = None):
    """Priced first, cheapest first (``ranking_price``); then the unpriced, parts still sold new before older ones,
    the smallest first. A ranking figure of one kind for every row, so priced rows never interleave with
    unpriced ones."""
    price = _sort_price(option.prices, mode)
    decode = option.estimate.decode_tokens_per_s
    return (
        price is None,
        price if price is not None else (not is_current(option.config.device, as_of)),
        price if price is not None else option.config.memory_total_bytes,
        -(decode.expected if decode else 0.0),
    )


def ranking_price(prices: Prices, mode: Mode) -> tuple[float, str] | None:
    """The figure a plan ranks an option by, with what it is: ($, "to buy") under --buy, ($/month, "rent per month")
    under --rent, else the lower of renting per month and buying spread over the ownership years; None when the
    option has no price of that kind (it ranks after every priced one)."""
    value = _sort_price(prices, mode)
    if value is None:
        return None
    if mode == "buy":
        return value, "to buy"
    if mode == "rent" or (prices.rental_usd_per_month is not None and value == prices.rental_usd_per_month):
        return value, "per month renting"
    return value, f"per month buying (price over {Ownership().years:g} years)"


def _dedupe(options: list[Option]) -> list[Option]:
    """Keep one option per device among unpriced ones (the smallest count), so the list stays useful."""
    seen: set[str] = set()
    result = []
    for option in options:
        key = option.config.device.name
        if not option.price_known:
            if key in seen:
                continue
            seen.add(key)
        result.append(option)
    return result


def _with_cost(
    option: Option,
    model: Model,
    catalog: Catalog,
    target: Target,
    workload: Workload,
    machine_fn: MachineFn,
    capacity_fn,
) -> Option:
    """Add $/M output tokens at full utilization for renting and owning, where prices are known."""
    if option.prices.rental_usd_per_hour is None and option.prices.purchase_usd is None:
        return option
    capacity_fn = capacity_fn or _default_capacity(catalog)
    quant = next(q for q in model.quants if q.name == option.quant)
    machine = build_machine(option.config, catalog, machine_fn)
    capacity = capacity_fn(model, quant, machine, target.settings(quant.name), workload)
    if isinstance(capacity, str):
        return dataclasses.replace(option, cost_basis=(capacity,))
    full = dataclasses.replace(workload, utilization=1.0)
    rented = owned = None
    basis: list[str] = []
    if option.prices.rental_usd_per_hour is not None:
        per_gpu = option.prices.rental_usd_per_hour
        n = option.config.count
        door = rented_door(option.config.label, n, Band(per_gpu.low / n, per_gpu.expected / n, per_gpu.high / n),
                           capacity, full)
        rented = _band_at_full(door)
        basis.extend(door.assumptions[1:])
    if option.prices.purchase_usd is not None:
        door = owned_door(option.config.label, option.prices.purchase_usd, option.prices.power_w or 0.0,
                          capacity, full)
        owned = _band_at_full(door)
        basis.extend(a for a in door.assumptions[1:] if a not in basis)
    return dataclasses.replace(option, usd_per_m_output_rented=rented, usd_per_m_output_owned=owned,
                               cost_basis=tuple(basis))


def _band_at_full(door) -> Band:
    return Band(
        door.curve_low.usd_per_m_output_at(1.0),
        door.curve.usd_per_m_output_at(1.0),
        door.curve_high.usd_per_m_output_at(1.0),
    )


def _default_capacity(catalog: Catalog):
    return lambda model, quant, machine, settings, workload: machine_capacity(
        model, quant, machine, catalog, settings, workload
    )
