"""The three doors' arithmetic, the curves and break-even, and the property tests of issue 5."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigcheck.catalog.records import Catalog, Device, HostedOffer, RentalOffer
from rigcheck.estimate import cost, curves, serving
from rigcheck.estimate.cost import Ownership
from rigcheck.estimate.prices import purchase_price, rental_price
from rigcheck.estimate.serving import NodeCapacity, Workload
from rigcheck.estimate.types import Band


def flat(x: float) -> Band:
    return Band(x, x, x)


def capacity(output=1000.0, concurrency=32, saturated=None) -> NodeCapacity:
    return NodeCapacity("node", 8, flat(output), concurrency,
                        None if saturated is None else flat(saturated), max_concurrency=256)


OFFER = HostedOffer(model_id="m", provider="p", usd_per_m_input=1.0, usd_per_m_output=2.0)


def test_hosted_door_is_price_times_tokens():
    w = Workload(input_tokens_per_day=3_000_000, output_tokens_per_day=1_000_000, utilization=0.5)
    door = cost.hosted_door(OFFER, w)
    assert door.usd_per_m_output_tokens.expected == pytest.approx(5.0)  # 2 + 3 x 1
    assert door.monthly_usd.expected == pytest.approx(5.0 * serving.DAYS_PER_MONTH)
    assert door.usd_per_m_output_at(0.1) == door.usd_per_m_output_at(1.0) == pytest.approx(5.0)
    assert any("list price" in a for a in door.assumptions)


def test_rented_door_at_full_utilization_is_node_hour_over_tokens_per_hour():
    # 8 GPUs x $2/h = $16/h; 1000 tok/s = 3.6 M tokens/h -> $4.444/M.
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=1000 * 86_400, utilization=1.0)
    door = cost.rented_door("8x X", 8, flat(2.0), capacity(1000.0), w)
    assert door.units == 1
    assert door.usd_per_m_output_tokens.expected == pytest.approx(16 / 3.6)
    assert door.usd_per_m_output_at(1.0) == pytest.approx(16 / 3.6)
    assert door.usd_per_m_output_at(0.5) == pytest.approx(2 * 16 / 3.6)
    assert door.monthly_usd.expected == pytest.approx(16 * serving.HOURS_PER_MONTH)


def test_rented_node_is_billed_wall_clock_when_traffic_is_small():
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=1_000_000, utilization=0.5)
    door = cost.rented_door("8x X", 8, flat(2.0), capacity(1000.0), w)
    assert door.units == 1
    assert door.monthly_usd.expected == pytest.approx(16 * serving.HOURS_PER_MONTH)
    assert door.utilization_actual == pytest.approx(1_000_000 / (1000 * 86_400))
    assert door.usd_per_m_output_tokens.expected == pytest.approx(16 * 730 / (serving.DAYS_PER_MONTH))


def test_more_traffic_than_one_node_takes_whole_nodes():
    # 1000 tok/s node at 50% average utilization serves 43.2 M/day; 100 M/day needs 3 nodes.
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=100_000_000, utilization=0.5)
    assert cost.rented_door("n", 1, flat(1.0), capacity(1000.0), w).units == 3


def test_a_workload_request_carries_its_uncached_input():
    # 10 input tokens per output token, 512 output tokens a request; a prefix cache serves 40% of the input.
    w = Workload(input_tokens_per_day=10e6, output_tokens_per_day=1e6, cached_input_share=0.4)
    assert w.input_tokens_per_request == 3072
    assert Workload(input_tokens_per_day=0, output_tokens_per_day=1e6).input_tokens_per_request == 1
    assert "3,072 uncached input + 512 output tokens" in w.describe()


@pytest.mark.parametrize("prompt", [1, 512, 4096, 8192, 131072])
def test_the_default_workload_is_requests_of_the_settings_prompt(prompt):
    from rigcheck.estimate.types import Settings

    assert Workload() == Workload.for_prompt(Settings().prompt_tokens)
    w = Workload.for_prompt(prompt)
    assert (w.input_tokens_per_request, w.output_tokens_per_request, w.output_tokens_per_day) == (prompt, 512, 1e6)
    cached = Workload.for_prompt(prompt, cached_input_share=0.5, output_tokens_per_request=256, peak_concurrency=4)
    assert cached.input_tokens_per_request == max(1, round(prompt / 2)) and cached.peak_concurrency == 4
    with pytest.raises(ValueError):
        Workload.for_prompt(0)


def test_saturated_cost_sits_beside_the_workload_figure():
    # 8 GPUs x $2/h = $16/h: 1000 tok/s at the workload's concurrency, 4000 tok/s saturated.
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=1000 * 86_400, utilization=1.0)
    door = cost.rented_door("8x X", 8, flat(2.0), capacity(1000.0, saturated=4000.0), w)
    assert door.usd_per_m_output_at(1.0) == pytest.approx(16 / 3.6)
    assert door.saturated.expected == pytest.approx(16 / 3.6 / 4)
    assert door.to_dict()["usd_per_m_output_tokens_saturated"]["expected"] == pytest.approx(16 / 14.4, rel=1e-5)
    assert cost.rented_door("8x X", 8, flat(2.0), capacity(1000.0), w).saturated is None


def test_owned_door_amortization_power_and_ops():
    own = Ownership(years=3, usd_per_kwh=0.15, ops_usd_per_month=100)
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=500 * 86_400, utilization=1.0)
    door = cost.owned_door("box", 36_000.0, 1000.0, capacity(1000.0), w, own)
    kw = 1.0 * cost.HOST_POWER_FACTOR
    power = kw * serving.HOURS_PER_MONTH * 0.15 * (cost.IDLE_POWER_SHARE + (1 - cost.IDLE_POWER_SHARE) * 0.5)
    expected_month = 1000.0 + 100.0 + power
    assert door.monthly_usd.expected == pytest.approx(expected_month)
    assert door.utilization_actual == pytest.approx(0.5)
    assert door.usd_per_m_output_tokens.expected == pytest.approx(
        expected_month / (500 * 86_400 * serving.DAYS_PER_MONTH / 1e6))


def test_zero_ops_and_free_power_leave_only_amortization():
    own = Ownership(years=2, usd_per_kwh=0.0, ops_usd_per_month=0.0)
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=86_400_000, utilization=1.0)
    door = cost.owned_door("box", 24_000.0, 500.0, capacity(1000.0), w, own)
    assert door.monthly_usd.expected == pytest.approx(1000.0)


def test_break_even_rented_against_hosted():
    # rented: $16/h over 3.6 M tok/h at u=1 -> 4.44/u; hosted flat 5.0 -> rented wins from u = 0.889
    w = Workload(input_tokens_per_day=3e6, output_tokens_per_day=1e6, utilization=0.5)
    hosted_door = cost.hosted_door(OFFER, w)  # all-in 5.0
    rented = cost.rented_door("8x X", 8, flat(2.0), capacity(1000.0), Workload(
        input_tokens_per_day=0, output_tokens_per_day=1e6, utilization=0.5))
    result = {b.door: b for b in curves.break_even([hosted_door, rented])}
    u = (16 / 3.6) / 5.0
    assert result["rented"].wins_from_utilization == pytest.approx(u)
    assert result["rented"].output_tokens_per_day_from == pytest.approx(u * 1000 * 86_400)
    assert result["hosted"].wins_from_utilization == 0.0
    assert result["hosted"].wins_up_to_utilization == pytest.approx(u)


def test_break_even_never_when_even_full_utilization_loses():
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=1e6)
    cheap = cost.hosted_door(HostedOffer(model_id="m", provider="p", usd_per_m_input=0, usd_per_m_output=1.0), w)
    rented = cost.rented_door("8x X", 8, flat(2.0), capacity(1000.0), w)
    result = {b.door: b for b in curves.break_even([cheap, rented])}
    assert result["rented"].wins_from_utilization is None
    assert result["rented"].sentence.startswith("never")
    assert "100% utilization" in result["rented"].sentence
    assert result["hosted"].sentence.endswith("at every utilization")


def test_break_even_skips_unavailable_doors():
    w = Workload()
    doors = [cost.hosted_door(OFFER, w), cost.unavailable_door("owned", "x", "no price")]
    assert [b.door for b in curves.break_even(doors)] == ["hosted"]


def test_cost_curves_for_charts():
    w = Workload(input_tokens_per_day=0, output_tokens_per_day=1e6)
    doors = [cost.hosted_door(OFFER, w), cost.rented_door("8x X", 8, flat(2.0), capacity(), w)]
    by_label = curves.cost_curves(doors, [0.25, 0.5, 1.0])
    assert set(by_label) == {"hosted: p", "rented: 8x X"}
    rented = [y for _, y in by_label["rented: 8x X"]]
    assert rented[0] == pytest.approx(2 * rented[1]) and rented[1] == pytest.approx(2 * rented[2])


def test_rental_price_band_and_unknown_device():
    h200 = Device(name="NVIDIA H200 SXM", vendor="NVIDIA", kind="datacenter", aliases=["H200"])
    cat = Catalog(schema_version="1.0", generated_at="x", rentals=[
        RentalOffer(gpu="NVIDIA H200 SXM", usd_per_gpu_hour=2.25, provider="a"),
        RentalOffer(gpu="H200", usd_per_gpu_hour=3.5, usd_per_gpu_hour_high=4.5, provider="b"),
        RentalOffer(gpu="NVIDIA H200 SXM", usd_per_gpu_hour=8.0, usd_per_gpu_hour_high=14.24, provider="c"),
        RentalOffer(gpu="NVIDIA B200", usd_per_gpu_hour=3.75),
    ])
    band, line = rental_price(cat, h200)
    assert (band.low, band.high) == (2.25, 14.24)
    assert band.expected == pytest.approx(4.0)  # median of midpoints 2.25, 4.0, 11.12
    assert "3 rental offer(s)" in line
    other = Device(name="NVIDIA L4", vendor="NVIDIA", kind="datacenter")
    assert rental_price(cat, other) is None


def test_purchase_price_prefers_street_price():
    d = Device(name="x", vendor="NVIDIA", kind="consumer", launch_price_usd=1599.0)
    assert purchase_price(d) == (1599.0, "launch price")
    d2 = Device(name="x", vendor="NVIDIA", kind="consumer", launch_price_usd=1599.0, street_price_usd=1999.0)
    assert purchase_price(d2) == (1999.0, "street price")
    assert purchase_price(Device(name="y", vendor="AMD", kind="consumer")) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"output_tokens_per_day": 0},
        {"input_tokens_per_day": -1},
        {"cached_input_share": 1.5},
        {"peak_concurrency": 0},
        {"utilization": 0},
        {"utilization": 1.2},
        {"output_tokens_per_day": math.inf},
    ],
)
def test_workload_rejects_nonsense(kwargs):
    with pytest.raises(ValueError):
        Workload(**kwargs)


def test_json_shape_of_a_door():
    data = cost.hosted_door(OFFER, Workload()).to_dict()
    assert data["door"] == "hosted"
    assert set(data) >= {"door", "usd_per_m_output_tokens", "monthly_usd", "assumptions"}
    assert isinstance(data["usd_per_m_output_tokens"], float) and isinstance(data["assumptions"], list)


# --- properties ---------------------------------------------------------------------------------------

tokens = st.floats(min_value=1e3, max_value=1e10, allow_nan=False)
prices = st.floats(min_value=0.0, max_value=100.0, allow_nan=False, allow_subnormal=False)
utils = st.floats(min_value=0.01, max_value=1.0, allow_nan=False)
rates = st.floats(min_value=1.0, max_value=1e5, allow_nan=False)


def _doors(inp, out, util, price_in, price_out, gpu_hour, decode, prefill, purchase):
    w = Workload(input_tokens_per_day=inp, output_tokens_per_day=out, utilization=util, cached_input_share=0.25)
    served = 1.0 / (1.0 / decode + 1.0 / prefill)  # one prompt token per output token, back to back
    cap = NodeCapacity("n", 4, Band(served * 0.8, served, served * 1.2), 16, Band(decode, decode * 1.5, decode * 2))
    offer = HostedOffer(model_id="m", provider="p", usd_per_m_input=price_in, usd_per_m_output=price_out)
    return [
        cost.hosted_door(offer, w),
        cost.rented_door("r", 4, flat(gpu_hour), cap, w),
        cost.owned_door("o", purchase, 1400.0, cap, w),
    ]


@settings(max_examples=150, deadline=None)
@given(tokens, tokens, utils, prices, prices, prices, rates, rates, st.floats(min_value=0, max_value=1e6))
def test_cost_is_never_negative(inp, out, util, price_in, price_out, gpu_hour, decode, prefill, purchase):
    for door in _doors(inp, out, util, price_in, price_out, gpu_hour, decode, prefill, purchase):
        for b in (door.usd_per_m_output_tokens, door.monthly_usd):
            assert b.low >= 0 and b.expected >= 0 and b.high >= 0
            assert b.low <= b.expected * (1 + 1e-9) and b.expected <= b.high * (1 + 1e-9)


@settings(max_examples=150, deadline=None)
@given(tokens, tokens, utils, prices, prices, prices, rates, rates, st.floats(min_value=1.01, max_value=10))
def test_monthly_cost_is_monotone_in_tokens_and_prices(inp, out, util, price_in, price_out, gpu_hour, decode,
                                                       prefill, factor):
    base = _doors(inp, out, util, price_in, price_out, gpu_hour, decode, prefill, 10_000.0)
    more_tokens = _doors(inp * factor, out * factor, util, price_in, price_out, gpu_hour, decode, prefill, 10_000.0)
    dearer = _doors(inp, out, util, price_in * factor, price_out * factor, gpu_hour * factor, decode, prefill,
                    10_000.0 * factor)
    for a, b, c in zip(base, more_tokens, dearer, strict=True):
        assert b.monthly_usd.expected >= a.monthly_usd.expected * (1 - 1e-9), a.door
        assert c.monthly_usd.expected >= a.monthly_usd.expected * (1 - 1e-9), a.door


@settings(max_examples=150, deadline=None)
@given(tokens, tokens, prices, rates, rates, utils, utils)
def test_rented_cost_per_m_falls_as_utilization_rises(inp, out, gpu_hour, decode, prefill, u1, u2):
    lo, hi = sorted((u1, u2))
    cap = NodeCapacity("n", 8, flat(1.0 / (1.0 / decode + 1.0 / prefill)), 16)

    def door(u):
        w = Workload(input_tokens_per_day=inp, output_tokens_per_day=out, utilization=u)
        return cost.rented_door("r", 8, flat(gpu_hour), cap, w)

    at_lo, at_hi = door(lo), door(hi)
    # the bill for a workload never rises with a higher reachable utilization (whole nodes: steps) ...
    assert at_hi.usd_per_m_output_tokens.expected <= at_lo.usd_per_m_output_tokens.expected * (1 + 1e-9)
    # ... and the curve a chart draws falls strictly when the price is not zero
    if gpu_hour > 1e-9 and hi > lo * (1 + 1e-6):
        assert at_lo.usd_per_m_output_at(hi) < at_lo.usd_per_m_output_at(lo)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=0.01, max_value=50),  # hosted flat $/M
    st.floats(min_value=0.01, max_value=50),  # rented: $/M when saturated
    st.floats(min_value=0.0, max_value=50),  # owned: fixed part when saturated
    st.floats(min_value=0.0, max_value=10),  # owned: power part per M
    st.lists(st.floats(min_value=0.01, max_value=1.0), min_size=1, max_size=8),
)
def test_break_even_ranges_name_the_cheapest_door_at_every_utilization(hosted_usd, rented_usd, owned_fixed,
                                                                      owned_power, probes):
    tokens_at_full = 100.0  # M output tokens/month per machine
    doors = [
        cost.DoorCost("hosted", "h", flat(1), flat(1), curve=cost.CostCurve(flat_usd_per_m=hosted_usd)),
        cost.DoorCost("rented", "r", flat(1), flat(1), curve=cost.CostCurve(
            fixed_usd_per_month=rented_usd * tokens_at_full, m_output_tokens_per_month_at_full=tokens_at_full),
            output_tokens_per_day_at_full=1e6),
        cost.DoorCost("owned", "o", flat(1), flat(1), curve=cost.CostCurve(
            fixed_usd_per_month=owned_fixed * tokens_at_full, power_usd_per_month_at_full=owned_power * tokens_at_full,
            m_output_tokens_per_month_at_full=tokens_at_full), output_tokens_per_day_at_full=1e6),
    ]
    ranges = curves.break_even(doors)
    assert [b.door for b in ranges] == ["hosted", "rented", "owned"]
    for u in probes:
        values = {d.door: d.curve.usd_per_m_output_at(u) for d in doors}
        best = min(values.values())
        for b in ranges:
            inside = b.wins_from_utilization is not None and b.wins_from_utilization - 1e-9 <= u <= (
                b.wins_up_to_utilization + 1e-9)
            if inside:
                assert values[b.door] <= best * (1 + 1e-6) + 1e-9, (u, b, values)
        # and some door claims every utilization
        assert any(b.wins_from_utilization is not None and b.wins_from_utilization - 1e-9 <= u
                   <= b.wins_up_to_utilization + 1e-9 for b in ranges), (u, ranges, values)
