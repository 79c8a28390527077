"""The cost of each door for one model and workload: a hosted API, a rented node, owned hardware.

Everything is priced per million *output* tokens, all in: the input sent with them is counted too, so
the three doors compare on one unit.

- Hosted: list price x tokens; cached input at the cached price where the offer publishes one.
- Rented: $/GPU-hour x GPUs x 730 h/month, billed wall-clock (busy or idle), over the tokens served.
- Owned: purchase price amortized over N years (default 3), plus power (GPU TDP x a utilization-weighted
  draw x host overhead x $/kWh, default 0.15 USD/kWh) and an ops allowance per month (default 100 USD).

Self-hosted doors are priced over what one node serves of the workload (``rigcheck.estimate.serving``, built
on the serving model of ``rigcheck.estimate.serve``: continuous batching at the workload's concurrency, the
prefill of its input inside the engine steps). Each door also gives its $/M with the node saturated.

Utilization is the share of hours the node serves at the workload's concurrency (bursty traffic sits low).
Machines are sized so the average demand stays within that share of their capacity; the monthly bill counts
whole machines.

The doors side by side for one model: ``rigcheck.estimate.compare``; their curves over utilization and
break-even: ``rigcheck.estimate.curves``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from rigcheck.catalog.hosted import all_in_usd_per_m_output
from rigcheck.catalog.records import HostedOffer
from rigcheck.estimate.serving import HOURS_PER_MONTH, SECONDS_PER_DAY, NodeCapacity, Workload
from rigcheck.estimate.types import Band

DEFAULT_USD_PER_KWH = 0.15
"""A mid-range commercial electricity price (US average commercial rate 2024-2025 is ~0.13 USD/kWh;
EU rates run higher). Override for your site."""
DEFAULT_AMORTIZATION_YEARS = 3.0
"""The usual depreciation life of GPU servers."""
DEFAULT_OPS_USD_PER_MONTH = 100.0
"""About one engineer-hour a month per machine (updates, monitoring, restarts). 0 is allowed."""
IDLE_POWER_SHARE = 0.2
"""A GPU holding a loaded model but serving nothing draws roughly 15-25% of its TDP."""
HOST_POWER_FACTOR = 1.2
"""CPU, fans, memory and power-supply losses on top of the GPUs' own draw."""

DoorName = Literal["hosted", "rented", "owned"]
DOORS: tuple[DoorName, ...] = ("hosted", "rented", "owned")


class CostError(ValueError):
    """A cost that cannot be computed from the inputs given, with one sentence saying why."""


@dataclass(frozen=True)
class Ownership:
    """The terms of owning hardware: amortization, electricity, ops."""

    years: float = DEFAULT_AMORTIZATION_YEARS
    usd_per_kwh: float = DEFAULT_USD_PER_KWH
    ops_usd_per_month: float = DEFAULT_OPS_USD_PER_MONTH

    def __post_init__(self) -> None:
        if not self.years > 0:
            raise ValueError("amortization years must be above zero")
        if not self.usd_per_kwh >= 0:
            raise ValueError("electricity price must be zero or more")
        if not self.ops_usd_per_month >= 0:
            raise ValueError("ops allowance must be zero or more")


@dataclass(frozen=True)
class CostCurve:
    """USD per million output tokens as a function of utilization u (0 < u <= 1).

    ``usd_per_m(u) = flat + (fixed + power_at_full x u) / (m_tokens_at_full x u)`` — flat alone for
    hosted; the fixed monthly bill spread over the tokens served for self-hosting.
    """

    flat_usd_per_m: float = 0.0
    fixed_usd_per_month: float = 0.0
    power_usd_per_month_at_full: float = 0.0
    """Power above idle at 100% utilization; scales linearly with u."""
    m_output_tokens_per_month_at_full: float | None = None

    def usd_per_m_output_at(self, utilization: float) -> float:
        if self.m_output_tokens_per_month_at_full is None:
            return self.flat_usd_per_m
        if utilization <= 0:
            return math.inf
        served = self.m_output_tokens_per_month_at_full * utilization
        return self.flat_usd_per_m + (
            self.fixed_usd_per_month + self.power_usd_per_month_at_full * utilization
        ) / served

    # The curve as A / u + C, for exact break-even points.
    @property
    def inverse_term(self) -> float:
        if self.m_output_tokens_per_month_at_full is None:
            return 0.0
        return self.fixed_usd_per_month / self.m_output_tokens_per_month_at_full

    @property
    def constant_term(self) -> float:
        if self.m_output_tokens_per_month_at_full is None:
            return self.flat_usd_per_m
        return self.flat_usd_per_m + self.power_usd_per_month_at_full / self.m_output_tokens_per_month_at_full


@dataclass(frozen=True)
class DoorCost:
    """One door's cost for the workload, with its curve over utilization and every assumption made."""

    door: DoorName
    label: str
    """"openrouter", "8x NVIDIA H200 SXM (rented)", "this machine"."""
    usd_per_m_output_tokens: Band | None
    """Monthly bill over the workload's output tokens (all in). None when the door is unavailable."""
    monthly_usd: Band | None
    units: int = 1
    """Machines (or nodes) needed; 0 for hosted."""
    utilization_actual: float | None = None
    """The utilization the machines really run at for this workload (at most the workload's)."""
    output_tokens_per_day_at_full: float | None = None
    """Output tokens/day one machine serves at 100% utilization (expected)."""
    curve: CostCurve | None = None
    curve_low: CostCurve | None = None
    curve_high: CostCurve | None = None
    assumptions: tuple[str, ...] = ()
    unavailable_reason: str | None = None
    details: dict[str, object] = field(default_factory=dict)
    saturated: Band | None = None
    """$/M output tokens with the node saturated (the engine's own batch limit) every hour: the best case, shown
    beside the workload's figure. None for hosted and for machines that serve one request at a time."""

    @property
    def available(self) -> bool:
        return self.usd_per_m_output_tokens is not None

    def usd_per_m_output_at(self, utilization: float) -> float | None:
        return self.curve.usd_per_m_output_at(utilization) if self.curve else None

    @property
    def usd_per_m_output_at_full(self) -> Band | None:
        """$/M output tokens with the machines kept 100% busy (the curve at u = 1), as a band."""
        if self.curve is None or self.curve_low is None or self.curve_high is None:
            return None
        return Band(self.curve_low.usd_per_m_output_at(1.0), self.curve.usd_per_m_output_at(1.0),
                    self.curve_high.usd_per_m_output_at(1.0))

    def to_dict(self) -> dict[str, object]:
        def band(b: Band | None) -> dict[str, float] | None:
            return None if b is None else {k: round(v, 6) for k, v in b.to_dict().items()}

        return {
            "door": self.door,
            "label": self.label,
            "usd_per_m_output_tokens": (
                round(self.usd_per_m_output_tokens.expected, 6) if self.usd_per_m_output_tokens else None
            ),
            "usd_per_m_output_tokens_band": band(self.usd_per_m_output_tokens),
            "usd_per_m_output_tokens_at_full_utilization": band(self.usd_per_m_output_at_full),
            "usd_per_m_output_tokens_saturated": band(self.saturated),
            "monthly_usd": round(self.monthly_usd.expected, 2) if self.monthly_usd else None,
            "monthly_usd_band": band(self.monthly_usd),
            "units": self.units,
            "utilization_actual": (
                round(self.utilization_actual, 6) if self.utilization_actual is not None else None
            ),
            "output_tokens_per_day_at_full": (
                round(self.output_tokens_per_day_at_full) if self.output_tokens_per_day_at_full else None
            ),
            "unavailable_reason": self.unavailable_reason,
            "assumptions": list(self.assumptions),
            **self.details,
        }


def unavailable_door(door: DoorName, label: str, reason: str, assumptions: tuple[str, ...] = ()) -> DoorCost:
    """A door that cannot be priced, and why (no offer, no price, the model does not fit)."""
    return DoorCost(
        door=door,
        label=label,
        usd_per_m_output_tokens=None,
        monthly_usd=None,
        units=0,
        assumptions=assumptions,
        unavailable_reason=reason,
    )


# --- the hosted door -------------------------------------------------------------------------------


def hosted_door(offer: HostedOffer, workload: Workload) -> DoorCost:
    """The hosted API door: list price x tokens, cached input at the cached price where published."""
    mix = workload.token_mix
    usd_per_m = all_in_usd_per_m_output(offer, mix)
    monthly = usd_per_m * workload.m_output_tokens_per_month
    cached_note = (
        f"cached input at ${offer.usd_per_m_cached_input:g}/M"
        if offer.usd_per_m_cached_input is not None
        else "no cached-input price published: cached input billed at the full input price"
    )
    assumptions = (
        workload.describe(),
        f"{offer.provider} list price ${offer.usd_per_m_input:g}/M input, ${offer.usd_per_m_output:g}/M output"
        + (f" (seen {offer.date_seen})" if offer.date_seen else ""),
        cached_note,
        f"{workload.input_per_output:.3g} input tokens per output token are included in the $/M output figure",
        "no batch or volume discount assumed; hosted price does not depend on utilization",
    )
    curve = CostCurve(flat_usd_per_m=usd_per_m)
    return DoorCost(
        door="hosted",
        label=offer.provider,
        usd_per_m_output_tokens=Band(usd_per_m, usd_per_m, usd_per_m),
        monthly_usd=Band(monthly, monthly, monthly),
        units=0,
        curve=curve,
        curve_low=curve,
        curve_high=curve,
        assumptions=assumptions,
        details={"offer": {"provider": offer.provider, "usd_per_m_input": offer.usd_per_m_input,
                           "usd_per_m_output": offer.usd_per_m_output,
                           "usd_per_m_cached_input": offer.usd_per_m_cached_input,
                           "source": offer.source}},
    )


# --- self-hosted doors ------------------------------------------------------------------------------


def _units_needed(workload: Workload, output_tokens_per_s_at_full: float) -> int:
    """Machines needed so the average demand stays within the workload's utilization of their capacity."""
    demand_per_s = workload.output_tokens_per_day / SECONDS_PER_DAY
    # A tiny epsilon keeps an exact fit (demand == capacity x u) from rounding up to one more machine.
    return max(1, math.ceil(demand_per_s / (output_tokens_per_s_at_full * workload.utilization) - 1e-9))


def _rate(x: float) -> str:
    """A tokens/s figure: whole numbers when large, three significant digits when small."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _capacity_lines(capacity: NodeCapacity) -> tuple[str, ...]:
    served = capacity.output_tokens_per_s
    lines = [
        f"{capacity.label}: {_rate(served.expected)} output tokens/s ({_rate(served.low)}-{_rate(served.high)}) at "
        f"{capacity.concurrency} concurrent requests, prefill of their input included"
        + (f"; {capacity.layout}" if capacity.layout else ""),
    ]
    sat = capacity.saturated_output_tokens_per_s
    if sat is not None:
        lines.append(f"saturated (the engine's limit, {capacity.max_concurrency:,} requests at once): "
                     f"{_rate(sat.expected)} output tokens/s")
    return tuple(lines) + capacity.basis


def _saturated_usd_per_m(month_usd: Band, capacity: NodeCapacity, power_month_at_full: float = 0.0) -> Band | None:
    """$/M output tokens with the node kept saturated every hour (the best a node can do), as a band."""
    sat = capacity.saturated_output_tokens_per_s
    if sat is None:
        return None
    tokens = [x * HOURS_PER_MONTH * 3600.0 / 1e6 for x in (sat.high, sat.expected, sat.low)]
    costs = [month_usd.low, month_usd.expected, month_usd.high]
    return Band(*((c + power_month_at_full) / t for c, t in zip(costs, tokens, strict=True)))


def rented_door(
    label: str,
    gpu_count: int,
    usd_per_gpu_hour: Band,
    capacity: NodeCapacity,
    workload: Workload,
    price_source: str | None = None,
) -> DoorCost:
    """The rented door: a dedicated node billed wall-clock, over the tokens it serves for the workload."""
    if gpu_count < 1:
        raise CostError("a rented node needs at least one GPU")
    served = capacity.output_tokens_per_s
    node_month = Band(*(p * gpu_count * HOURS_PER_MONTH for p in (
        usd_per_gpu_hour.low, usd_per_gpu_hour.expected, usd_per_gpu_hour.high)))
    units = _units_needed(workload, served.expected)
    monthly = Band(node_month.low * units, node_month.expected * units, node_month.high * units)
    m_tokens = workload.m_output_tokens_per_month

    def curve(month_usd: float, tokens_per_s: float) -> CostCurve:
        return CostCurve(
            fixed_usd_per_month=month_usd,
            m_output_tokens_per_month_at_full=tokens_per_s * HOURS_PER_MONTH * 3600.0 / 1e6,
        )

    assumptions = (
        workload.describe(),
        f"{gpu_count} GPU(s) at ${usd_per_gpu_hour.expected:.2f}/GPU-hour "
        f"(${usd_per_gpu_hour.low:.2f}-${usd_per_gpu_hour.high:.2f} across offers)"
        + (f" from {price_source}" if price_source else ""),
        f"billed {HOURS_PER_MONTH:.0f} h/month wall-clock, busy or idle: "
        f"${node_month.expected:,.0f} per node per month",
        f"{units} node(s) so average demand stays within {workload.utilization:.0%} of capacity",
        *_capacity_lines(capacity),
        "no ops staff, storage or egress counted",
    )
    return DoorCost(
        door="rented",
        label=label,
        usd_per_m_output_tokens=Band(monthly.low / m_tokens, monthly.expected / m_tokens, monthly.high / m_tokens),
        monthly_usd=monthly,
        units=units,
        utilization_actual=_actual_utilization(workload, served.expected, units),
        output_tokens_per_day_at_full=served.expected * SECONDS_PER_DAY,
        curve=curve(node_month.expected, served.expected),
        curve_low=curve(node_month.low, served.high),
        curve_high=curve(node_month.high, served.low),
        assumptions=assumptions,
        details={"gpu_count": gpu_count, "concurrency": capacity.concurrency,
                 "max_concurrency": capacity.max_concurrency, "layout": capacity.layout,
                 "usd_per_gpu_hour": usd_per_gpu_hour.to_dict()},
        saturated=_saturated_usd_per_m(node_month, capacity),
    )


def _actual_utilization(workload: Workload, tokens_per_s_at_full: float, units: int) -> float:
    demand_per_s = workload.output_tokens_per_day / SECONDS_PER_DAY
    return min(1.0, demand_per_s / (tokens_per_s_at_full * units))


def owned_door(
    label: str,
    purchase_usd: float,
    gpu_tdp_w_total: float,
    capacity: NodeCapacity,
    workload: Workload,
    ownership: Ownership | None = None,
    price_note: str | None = None,
) -> DoorCost:
    """The owned door: amortized purchase + utilization-weighted power + ops allowance, per machine."""
    ownership = ownership or Ownership()
    if not purchase_usd >= 0:
        raise CostError("purchase price must be zero or more")
    if not gpu_tdp_w_total >= 0:
        raise CostError("power draw must be zero or more")
    served = capacity.output_tokens_per_s
    amortization = purchase_usd / (ownership.years * 12.0)
    full_kw = gpu_tdp_w_total * HOST_POWER_FACTOR / 1000.0
    idle_power_month = full_kw * IDLE_POWER_SHARE * HOURS_PER_MONTH * ownership.usd_per_kwh
    busy_power_month = full_kw * (1.0 - IDLE_POWER_SHARE) * HOURS_PER_MONTH * ownership.usd_per_kwh
    fixed_month = amortization + ownership.ops_usd_per_month + idle_power_month
    units = _units_needed(workload, served.expected)
    m_tokens = workload.m_output_tokens_per_month

    def monthly_at(tokens_per_s: float) -> float:
        n = _units_needed(workload, tokens_per_s)
        util = _actual_utilization(workload, tokens_per_s, n)
        return n * (fixed_month + busy_power_month * util)

    # Lower capacity means more machines or busier ones: the high cost end.
    monthly = Band(monthly_at(served.high), monthly_at(served.expected), monthly_at(served.low))

    def curve(tokens_per_s: float) -> CostCurve:
        return CostCurve(
            fixed_usd_per_month=fixed_month,
            power_usd_per_month_at_full=busy_power_month,
            m_output_tokens_per_month_at_full=tokens_per_s * HOURS_PER_MONTH * 3600.0 / 1e6,
        )

    power_line = (
        f"power: {gpu_tdp_w_total:,.0f} W GPU TDP x {HOST_POWER_FACTOR:g} host overhead, drawing "
        f"{IDLE_POWER_SHARE:.0%} of that idle and the rest in proportion to utilization, "
        f"at ${ownership.usd_per_kwh:g}/kWh"
        if gpu_tdp_w_total > 0
        else "power: no GPU TDP known, electricity not counted"
    )
    assumptions = (
        workload.describe(),
        f"purchase ${purchase_usd:,.0f}" + (f" ({price_note})" if price_note else "")
        + f" amortized over {ownership.years:g} years: ${amortization:,.0f}/month per machine",
        power_line,
        f"ops allowance ${ownership.ops_usd_per_month:,.0f}/month per machine",
        f"{units} machine(s) so average demand stays within {workload.utilization:.0%} of capacity",
        *_capacity_lines(capacity),
        "no financing cost, rack space or resale value counted",
    )
    return DoorCost(
        door="owned",
        label=label,
        usd_per_m_output_tokens=Band(monthly.low / m_tokens, monthly.expected / m_tokens, monthly.high / m_tokens),
        monthly_usd=monthly,
        units=units,
        utilization_actual=_actual_utilization(workload, served.expected, units),
        output_tokens_per_day_at_full=served.expected * SECONDS_PER_DAY,
        curve=curve(served.expected),
        curve_low=curve(served.high),
        curve_high=curve(served.low),
        assumptions=assumptions,
        saturated=_saturated_usd_per_m(Band(fixed_month, fixed_month, fixed_month), capacity, busy_power_month),
        details={"purchase_usd": purchase_usd, "gpu_tdp_w_total": gpu_tdp_w_total,
                 "concurrency": capacity.concurrency, "max_concurrency": capacity.max_concurrency,
                 "layout": capacity.layout,
                 "amortization_years": ownership.years, "usd_per_kwh": ownership.usd_per_kwh,
                 "ops_usd_per_month": ownership.ops_usd_per_month},
    )
