"""The best-quant rule (estimate.best.pick_best) as a table: each case says why its answer is right."""

from __future__ import annotations

import pytest

from rigcheck.estimate.best import Candidate, describe_rule, pick_best, quality_tier


def c(bits: float, verdict: str, decode: float | None, ttft: float | None = 1.0) -> Candidate:
    return Candidate(bits, verdict, decode, None if decode is None else ttft)


# Bits per weight of the usual quants (estimate.memory.BITS_PER_WEIGHT).
Q2_K, IQ2_XXS, IQ3_XXS, Q3_K_M, IQ4_XS, Q4_K_M, Q5_K_M, Q6_K, Q8_0, BF16 = (
    3.35, 2.06, 3.06, 3.91, 4.25, 4.84, 5.68, 6.56, 8.5, 16.0)

CASES = [
    # (candidates, expected index or None, reason)
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
    ([c(Q4_K_M, "gpu+ram", 1.5), c(Q3_K_M, "gpu+ram", 2.4), c(IQ3_XXS, "gpu+ram", 5.5),
      c(Q2_K, "gpu+ram", 3.7), c(IQ2_XXS, "gpu", 33.1)], 2,
     "a 70B on a 4090: IQ3_XXS spilled is a whole tier above IQ2_XXS and still usable"),
    ([c(IQ3_XXS, "gpu+ram", 4.0), c(IQ2_XXS, "gpu", 33.1)], 1,
     "the better spilled quant is below 5 tok/s: not usable, so the resident one stays"),
    ([c(IQ3_XXS, "gpu+ram", 20.0, 130.0), c(IQ2_XXS, "gpu", 33.1)], 1,
     "usable covers time to first token too: over two minutes for the prompt is not usable"),
    ([c(Q8_0, "gpu+ram", 2.0), c(Q4_K_M, "gpu+ram", 3.5), c(IQ2_XXS, "gpu+ram", 4.5)], 2,
     "nothing is usable: the fastest is the closest to usable"),
    ([c(Q6_K, "cpu", 8.0, 600.0), c(Q4_K_M, "cpu", 11.0, 590.0), c(IQ2_XXS, "cpu", 20.0, 580.0),
      c(Q8_0, "cpu", 4.0, 600.0)], 0,
     "a long prompt on a CPU: every first token is late, so the rows that decode fast enough stand in"),
    ([c(Q4_K_M, "cpu", 8.0), c(Q6_K, "cpu", 6.0), c(Q8_0, "cpu", 4.5)], 1,
     "no GPU: RAM is the device, nothing spills, so the highest usable quality wins"),
    ([c(Q4_K_M, "cpu", 8.0), c(Q3_K_M, "gpu", 40.0)], 0,
     "with a GPU a CPU-only row is spilled, worth it to escape Q3_K_M"),
    ([c(Q2_K, "gpu+ram", 9.0), c(IQ2_XXS, "gpu+ram", 14.0), c(1.58, "gpu+ram", 20.0)], 0,
     "nothing reaches 4 bits: the most bits wins, since down there every bit counts"),
    ([c(Q4_K_M, "no_fit", None), c(Q8_0, "no_fit", None)], None, "nothing runs: no best"),
    ([c(Q8_0, "unified", 20.0), c(Q4_K_M, "unified", 35.0), c(BF16, "no_fit", None)], 0,
     "unified memory is resident: Q8_0 at a usable speed beats Q4_K_M"),
    ([c(Q6_K, "gpu", 6.0), c(Q4_K_M, "gpu", 9.0), c(Q8_0, "gpu", 4.0)], 0,
     "Q8_0 is too slow to count; of the usable ones the higher quality wins"),
    ([], None, "no rows"),
]


@pytest.mark.parametrize(("candidates", "expected", "reason"), CASES, ids=[case[2][:60] for case in CASES])
def test_pick_best(candidates, expected, reason):
    assert pick_best(candidates) == expected, reason


@pytest.mark.parametrize(("bits", "tier"), [
    (16.0, 3), (8.5, 3), (6.56, 3), (6.0, 3), (5.68, 2), (4.84, 2), (4.25, 2), (4.0, 2), (3.91, 1), (3.06, 1),
    (3.0, 1), (2.99, 0), (2.06, 0), (1.58, 0)])
def test_quality_tiers(bits, tier):
    assert quality_tier(bits) == tier


def test_rule_text_names_the_limits():
    text = describe_rule()
    assert "5 tok/s" in text and "120 s" in text and "4 bits" in text and "6 bits" in text
