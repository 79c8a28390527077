"""The rules (estimate.rules) as tables: usable, the pick, capability, the blended price; each case says why."""

from __future__ import annotations

import pytest

from rigcheck.catalog.records import HostedOffer, Score
from rigcheck.estimate.rules import (
    Candidate,
    Thresholds,
    blended_usd_per_m,
    capabilities,
    cheapest_hosted,
    describe_pick,
    heavy_loss,
    is_usable,
    pick_index,
    quality_tier,
    rank_key,
    representative_index,
    tier_name,
)


def c(bits: float, verdict: str, decode: float | None, ttft: float | None = 1.0, *, calibrated: bool = True,
      share: float | None = None, low: float | None = None) -> Candidate:
    return Candidate(bits, verdict, decode, None if decode is None else ttft, calibrated, share,
                     low if low is not None or decode is None else 0.8 * decode)


# Bits per weight of the usual quants (estimate.memory.BITS_PER_WEIGHT).
Q2_K, IQ2_XXS, IQ3_XXS, Q3_K_M, IQ4_XS, Q4_K_M, Q5_K_M, Q6_K, Q8_0, BF16, FP8 = (
    3.35, 2.06, 3.06, 3.91, 4.25, 4.84, 5.68, 6.56, 8.5, 16.0, 8.0)

PICKS = [
    # (candidates, expected pick index or None, reason)
    ([c(Q8_0, "gpu+ram", 35.1, 3.1), c(Q6_K, "gpu+ram", 76.0, 0.7), c(Q5_K_M, "gpu", 92.5, 0.4),
      c(Q4_K_M, "gpu", 96.0, 0.4), c(Q3_K_M, "gpu", 100.0, 0.4)], 2,
     "Qwen3-30B-A3B on a 4090: Q5_K_M in VRAM beats Q8_0/Q6_K spilled (small loss to near-lossless is "
     "not worth the spill)"),
    ([c(Q8_0, "gpu", 60.0), c(Q6_K, "gpu", 75.0), c(Q4_K_M, "gpu", 95.0), c(BF16, "gpu", 32.0)], 1,
     "everything in VRAM: near-lossless quants tie on quality, the fastest of them (Q6_K) wins"),
    ([c(Q5_K_M, "gpu", 90.0), c(Q4_K_M, "gpu", 96.0), c(IQ4_XS, "gpu", 99.0)], 0,
     "in VRAM below near-lossless the higher quality wins: speed falls only with the bits"),
    ([c(Q6_K, "gpu+ram", 7.3), c(Q5_K_M, "gpu+ram", 10.5), c(Q4_K_M, "gpu+ram", 18.1),
      c(IQ4_XS, "gpu+ram", 38.6), c(Q3_K_M, "gpu", 73.9), c(IQ2_XXS, "gpu", 101.0)], 3,
     "Mixtral on a 4090: escaping Q3_K_M is worth a spill, to the fastest small-loss quant, not to Q6_K "
     "at a fifth of its speed"),
    ([c(Q3_K_M, "gpu+ram", 11.0), c(IQ3_XXS, "gpu+ram", 14.5), c(Q2_K, "gpu+ram", 13.7),
      c(IQ2_XXS, "gpu", 33.1)], 0,
     "nothing of 4 bits runs: spilling to a 3-bit quant is a whole tier above IQ2_XXS in VRAM, and down there "
     "the most bits (Q3_K_M) win"),
    ([c(Q4_K_M, "gpu+ram", 1.5), c(IQ3_XXS, "gpu+ram", 5.5), c(IQ2_XXS, "gpu", 33.1)], None,
     "a 70B on a 4090: its Q4_K_M runs (slowly), so IQ2_XXS is never the pick; nothing else is usable"),
    ([c(IQ3_XXS, "gpu+ram", 4.0), c(IQ2_XXS, "gpu", 33.1)], 1,
     "no 4-bit runs and the better spilled quant is below 10 tok/s: the resident 2-bit one stays"),
    ([c(IQ3_XXS, "gpu+ram", 20.0, 70.0), c(IQ2_XXS, "gpu", 33.1)], 1,
     "usable covers time to first token too: over a minute for the prompt is not usable"),
    ([c(Q8_0, "cpu", 2.0), c(Q4_K_M, "cpu", 3.5), c(IQ2_XXS, "cpu", 12.0)], None,
     "a 7B on a CPU: IQ2_XXS is fast enough but Q4_K_M runs, so 2 bits is no answer: no pick"),
    ([c(Q4_K_M, "cpu", 12.0), c(Q6_K, "cpu", 10.5), c(Q8_0, "cpu", 8.0)], 1,
     "no GPU: RAM is the device, nothing spills, so the highest usable quality wins"),
    ([c(Q4_K_M, "cpu", 12.0), c(Q3_K_M, "gpu", 40.0)], 0,
     "with a GPU a CPU-only row is spilled, worth it to escape Q3_K_M"),
    ([c(Q2_K, "gpu+ram", 11.0), c(IQ2_XXS, "gpu+ram", 14.0), c(1.58, "gpu+ram", 20.0)], 0,
     "nothing reaches 4 bits: the most bits wins, since down there every bit counts"),
    ([c(Q4_K_M, "no_fit", None), c(Q8_0, "no_fit", None)], None, "nothing runs: no pick"),
    ([c(Q8_0, "unified", 20.0), c(Q4_K_M, "unified", 35.0), c(BF16, "no_fit", None)], 0,
     "unified memory is resident: Q8_0 at a usable speed beats Q4_K_M"),
    ([c(Q6_K, "gpu", 12.0), c(Q4_K_M, "gpu", 18.0), c(Q8_0, "gpu", 8.0)], 0,
     "Q8_0 is too slow to count; of the usable ones the higher quality wins"),
    ([c(FP8, "gpu", 60.0, calibrated=False, share=0.975), c(Q6_K, "gpu", 55.0, share=0.85)], 1,
     "a 32B on an RTX 5090: vLLM FP8 at 31.2 of 32 GiB, uncalibrated, loses to a calibrated Q6_K with room"),
    ([c(FP8, "gpu", 60.0, calibrated=False, share=0.7, low=36.0), c(Q8_0, "gpu", 50.0, share=0.75)], 1,
     "equal quality and both with room: the calibrated runtime first, even when its estimate is slower"),
    ([c(FP8, "gpu", 135.0, calibrated=False, share=0.7, low=81.0), c(Q6_K, "gpu", 23.0, share=0.6)], 0,
     "R1 on 8x H200: vLLM FP8 is faster than llama.cpp Q6_K even at the low end of its wide band"),
    ([c(Q5_K_M, "gpu", 40.0, share=0.97), c(Q4_K_M, "gpu", 45.0, share=0.85)], 1,
     "within a tier a quant that leaves headroom beats one that fills the card"),
    ([c(Q6_K, "gpu", 40.0, share=0.97), c(Q4_K_M, "gpu", 45.0, share=0.85)], 0,
     "headroom does not buy a lower tier: near-lossless stays ahead of small loss"),
    ([], None, "no rows"),
]


@pytest.mark.parametrize(("candidates", "expected", "reason"), PICKS, ids=[case[2][:60] for case in PICKS])
def test_pick(candidates, expected, reason):
    assert pick_index(candidates) == expected, reason
    if expected is not None:
        assert representative_index(candidates) == expected, "a model's pick speaks for it"


REPRESENTATIVES = [
    ([c(Q6_K, "cpu", 11.0, 600.0), c(Q4_K_M, "cpu", 13.0, 590.0), c(Q8_0, "cpu", 8.0, 600.0)], 0,
     "a long prompt on a CPU: every first token is late, so the rows that decode fast enough are ranked"),
    ([c(Q8_0, "cpu", 2.0), c(Q4_K_M, "cpu", 3.5), c(IQ2_XXS, "cpu", 12.0)], 1,
     "not usable: the fastest row of 4 bits or more speaks for the model, never the 2-bit one"),
    ([c(Q3_K_M, "gpu+ram", 2.0), c(IQ2_XXS, "gpu+ram", 4.5)], 1, "nothing of 4 bits runs: the fastest"),
    ([c(Q4_K_M, "no_fit", None)], None, "nothing runs"),
]


@pytest.mark.parametrize(("candidates", "expected", "reason"), REPRESENTATIVES,
                         ids=[case[2][:60] for case in REPRESENTATIVES])
def test_representative(candidates, expected, reason):
    assert pick_index(candidates) is None
    assert representative_index(candidates) == expected, reason


@pytest.mark.parametrize(("bits", "tier"), [
    (16.0, 3), (8.5, 3), (6.56, 3), (6.0, 3), (5.68, 2), (4.84, 2), (4.25, 2), (4.0, 2), (3.91, 1), (3.06, 1),
    (3.0, 1), (2.99, 0), (2.06, 0), (1.58, 0)])
def test_quality_tiers(bits, tier):
    assert quality_tier(bits) == tier


@pytest.mark.parametrize(("decode", "ttft", "thresholds", "usable"), [
    (10.0, 60.0, Thresholds(), True),
    (9.99, 1.0, Thresholds(), False),
    (50.0, 60.1, Thresholds(), False),
    (50.0, None, Thresholds(), True),
    (None, 1.0, Thresholds(), False),
    (6.0, 100.0, Thresholds(5.0, 120.0), True),
])
def test_usable(decode, ttft, thresholds, usable):
    assert is_usable(decode, ttft, thresholds) is usable


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_thresholds_must_be_positive_numbers(bad):
    with pytest.raises(ValueError, match="above zero"):
        Thresholds(min_decode_tokens_per_s=bad)


def test_thresholds_change_the_pick():
    rows = [c(Q8_0, "gpu", 8.0), c(Q4_K_M, "gpu", 15.0)]
    assert pick_index(rows) == 1, "Q8_0 is below 10 tok/s"
    assert pick_index(rows, Thresholds(min_decode_tokens_per_s=5.0)) == 0, "at 5 tok/s Q8_0 counts"


def test_pick_rule_text_names_the_limits():
    text = describe_pick()
    assert "3 bits" in text and "4 bits" in text and "6 bits" in text and "5%" in text


def test_blended_price_is_three_to_one_by_default():
    assert blended_usd_per_m(0.10, 0.22) == pytest.approx((3 * 0.10 + 0.22) / 4)
    assert blended_usd_per_m(0.10, 0.22, 1.0) == pytest.approx(0.16)
    assert blended_usd_per_m(0.10, 0.22, 0.0) == pytest.approx(0.22), "no input: the output price"
    with pytest.raises(ValueError):
        blended_usd_per_m(0.1, 0.2, -1.0)


def offer(provider: str, inp: float, out: float, **kw) -> HostedOffer:
    return HostedOffer(model_id="m", provider=provider, usd_per_m_input=inp, usd_per_m_output=out, **kw)


def test_cheapest_hosted_is_the_lowest_blended_price():
    offers = [offer("cheap-output", 0.50, 0.30), offer("cheap-blend", 0.10, 0.90), offer("free", 0.0, 0.0)]
    assert cheapest_hosted(offers).provider == "cheap-blend", "(0.3+0.9)/4 < (1.5+0.3)/4; the free tier is skipped"
    assert cheapest_hosted(offers, input_per_output=0.0).provider == "cheap-output", "no input: output price decides"
    assert cheapest_hosted(offers, residency="sovereign") is None


def score(model: str, bench: str, value: float) -> Score:
    return Score(model_id=model, benchmark=bench, value=value, source="test")


def test_capability_is_the_mean_share_of_the_best_score():
    caps = capabilities([
        score("closed:x/frontier", "aider_polyglot", 80.0), score("closed:x/frontier", "swe_bench_verified", 70.0),
        score("a/open", "aider_polyglot", 40.0), score("a/open", "aider_polyglot", 60.0),
        score("a/open", "swe_bench_verified", 35.0),
        score("b/coder", "swe_bench_verified", 70.0),
        score("c/other-only", "other", 99.0),
    ])
    assert caps["a/open"].value == pytest.approx((75.0 + 50.0) / 2), "best aider entry 60/80, swe 35/70"
    assert caps["b/coder"].value == 100.0, "ties the best on its only benchmark"
    assert "c/other-only" not in caps, "'other' scores are not part of capability: no score, no capability"
    assert [p.benchmark for p in caps["a/open"].parts] == ["swe_bench_verified", "aider_polyglot"]
    assert "Aider polyglot 60 (75 % of the best, 80)" in caps["a/open"].basis


def test_rank_key_puts_usable_then_capable_then_large_first():
    rows = [("slow genius", False, 90.0, 700), ("usable unscored big", True, None, 70),
            ("usable scored", True, 40.0, 8), ("usable unscored small", True, None, 1)]
    ordered = [name for name, *key in sorted(rows, key=lambda r: rank_key(*r[1:]))]
    assert ordered == ["usable scored", "usable unscored big", "usable unscored small", "slow genius"]


# (name, usable, capability, params_b, bits per weight of the pick), listed in the order rank_key must give.
RANKED = [
    ("4-bit 32B, scored 52", True, 52.0, 32.0, 4.8),
    ("6-bit 27B, scored 6", True, 6.0, 27.0, 6.56),
    ("3-bit 120B, unscored", True, None, 120.0, 3.06),  # exactly the floor and above: the first group
    ("bits unknown 8B, unscored", True, None, 8.0, None),  # not known: counted as 3 bits or more
    ("1-bit 355B, scored 98", True, 98.0, 355.0, 1.75),  # usable only at a heavy-loss quant: after all of those
    ("2-bit 480B, unscored", True, None, 480.0, 2.06),
    ("1-bit 671B not usable, scored 81", False, 81.0, 671.0, 1.66),  # not usable: last, whatever its bits
    ("4-bit 70B not usable, unscored", False, None, 70.0, 4.8),
]


def test_rank_key_groups_picks_of_three_bits_or_more_then_heavy_loss_then_not_usable():
    shuffled = RANKED[::-1][3:] + RANKED[::-1][:3]
    ordered = [row[0] for row in sorted(shuffled, key=lambda r: rank_key(*r[1:]))]
    assert ordered == [row[0] for row in RANKED]
    assert [rank_key(*row[1:])[0] for row in RANKED] == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
    assert rank_key(True, 40.0, 8.0) == rank_key(True, 40.0, 8.0, 8.5), "without bits, as a pick of 3 or more"


@pytest.mark.parametrize(("bits", "tier", "heavy"), [
    (16.0, "near-lossless", False), (6.56, "near-lossless", False), (6.0, "near-lossless", False),
    (5.69, "small loss", False), (4.25, "small loss", False), (4.0, "small loss", False),
    (3.91, "noticeable loss", False), (3.06, "noticeable loss", False), (3.0, "noticeable loss", False),
    (2.99, "heavy loss", True), (2.06, "heavy loss", True), (1.56, "heavy loss", True),
])
def test_tier_name_and_heavy_loss_at_the_tier_edges(bits, tier, heavy):
    assert tier_name(bits) == tier
    assert heavy_loss(bits) is heavy
    assert heavy_loss(None) is False, "bits not known: not counted as heavy loss"
