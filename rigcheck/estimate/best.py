"""The "best quant" rule: which of a model's rows a user would actually run on this machine.

Quality by bits per weight falls into tiers (the perplexity added on Llama-3-8B, from the table in
llama.cpp's ``tools/quantize/quantize.cpp``: Q8_0 +0.003, Q6_K +0.022, Q5_K_M +0.057, Q4_K_M +0.175,
Q4_0 +0.469; on LLaMA-1-7B Q3_K_M adds 5x what Q4_K_M adds, Q2_K 13x):

- near-lossless: 6 bits per weight and up (Q6_K, Q8_0, FP8, 8-bit MLX, BF16);
- small loss: 4 to 6 (Q4_K_M, Q5_K_M, IQ4_XS, 4-bit AWQ/GPTQ/MLX, NVFP4, MXFP4);
- noticeable loss: 3 to 4 (Q3_K_M, IQ3_XXS, Q2_K);
- heavy loss: below 3 (IQ2, IQ1 and the 2-bit dynamic quants).

The rule, in order:

1. Only rows that run count. A row is usable when it decodes at ``USABLE_DECODE_TOKENS_PER_S`` or
   more and its first token comes within ``USABLE_TTFT_S`` at the chosen prompt. When no row is
   usable, the rows that decode fast enough stand in (prefill hardly depends on the quant, so a long
   prompt on a CPU makes every row wait); when none does, the fastest is best (the one closest to
   usable), quality breaking ties.
2. Rows held entirely in VRAM or unified memory are "resident" (on a machine without a GPU, rows in
   RAM are); GPU + RAM rows, and CPU rows on a machine with a GPU, are "spilled": they decode 2-10x
   slower and prefill slower still, because every token reads the spilled part from RAM.
3. Among usable resident rows the highest quality wins, every near-lossless quant counting as one
   quality (above 6 bits the gain is not measurable, so Q6_K, Q8_0 and BF16 tie); then the faster.
   Resident speeds fall only in proportion to the bits, so the better quant is worth it there.
4. A spilled row wins only when the best resident row loses noticeable quality (below 4 bits per
   weight, or there is none) and the spilled one is a whole tier better and usable: paying the spill
   to go from small loss to near-lossless is a bad trade, paying it to escape a 2- or 3-bit quant is
   not. Among spilled rows, the fastest of those with at most a small loss is taken (each extra bit
   is read from RAM on every token, so Q6_K spilled can be 5x slower than IQ4_XS spilled for a loss
   nobody notices); when none reaches small loss, the one with the most bits per weight (down there
   every bit counts), then the faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

USABLE_DECODE_TOKENS_PER_S = 5.0
"""Below this, reading along with the output is painful: a quant this slow is not "best"."""
USABLE_TTFT_S = 120.0
"""Nor is one that makes the user wait more than two minutes for the first token of the prompt."""

NEAR_LOSSLESS_BITS = 6.0
"""From here up (Q6_K, 6.56 bits) the added perplexity is within measurement noise."""
SMALL_LOSS_BITS = 4.0
"""From here up to NEAR_LOSSLESS_BITS (IQ4_XS at 4.25 to Q5_K_M at 5.69) the loss is small."""
NOTICEABLE_LOSS_BITS = 3.0
"""From here up to SMALL_LOSS_BITS (IQ3_XXS, Q2_K, Q3_K_M) the loss is noticeable; below it, heavy."""

TIER_NAMES = ("heavy loss", "noticeable loss", "small loss", "near-lossless")
"""Indexed by ``quality_tier``."""

SMALL_LOSS_TIER = 2
RESIDENT_VERDICTS = frozenset({"gpu", "unified"})
CPU_ONLY_RESIDENT_VERDICTS = frozenset({"cpu"})
"""On a machine without a GPU (no row of the model uses one) nothing spills: RAM is the device."""


class Candidate(NamedTuple):
    """One row as the rule sees it. ``decode_tokens_per_s`` is None when the row does not run."""

    bits_per_weight: float
    verdict: str
    decode_tokens_per_s: float | None
    ttft_s: float | None


def quality_tier(bits_per_weight: float) -> int:
    """0 heavy loss, 1 noticeable loss, 2 small loss, 3 near-lossless (see the module docstring)."""
    if bits_per_weight >= NEAR_LOSSLESS_BITS:
        return 3
    if bits_per_weight >= SMALL_LOSS_BITS:
        return 2
    if bits_per_weight >= NOTICEABLE_LOSS_BITS:
        return 1
    return 0


def is_usable(decode_tokens_per_s: float, ttft_s: float | None) -> bool:
    """Fast enough to use: decode and time to first token both within the limits above."""
    return decode_tokens_per_s >= USABLE_DECODE_TOKENS_PER_S and (ttft_s is None or ttft_s <= USABLE_TTFT_S)


def pick_best(candidates: Sequence[Candidate]) -> int | None:
    """The index of the best of one model's rows by the module's rule; None when none runs."""
    usable: list[int] = []
    decode_usable: list[int] = []
    fastest = -1
    fastest_key: tuple[float, float] | None = None
    on_gpu = False
    for i, c in enumerate(candidates):
        decode = c.decode_tokens_per_s
        if decode is None:
            continue
        on_gpu = on_gpu or c.verdict != "cpu"
        if decode >= USABLE_DECODE_TOKENS_PER_S:
            decode_usable.append(i)
            if c.ttft_s is None or c.ttft_s <= USABLE_TTFT_S:
                usable.append(i)
        key = (decode, c.bits_per_weight)
        if fastest_key is None or key > fastest_key:
            fastest, fastest_key = i, key
    # Prefill hardly depends on the quant: when every row waits too long for the first token (a long
    # prompt on a CPU), the rule still applies to the rows that decode fast enough.
    pool = usable or decode_usable
    if not pool:
        return fastest if fastest_key is not None else None
    return _choose(candidates, pool, on_gpu)


def _choose(candidates: Sequence[Candidate], usable: list[int], on_gpu: bool) -> int | None:
    """Steps 2-4 of the rule over the usable rows."""
    resident_verdicts = RESIDENT_VERDICTS if on_gpu else CPU_ONLY_RESIDENT_VERDICTS
    resident = _best_resident(candidates, [i for i in usable if candidates[i].verdict in resident_verdicts])
    resident_tier = -1 if resident is None else quality_tier(candidates[resident].bits_per_weight)
    if resident_tier >= SMALL_LOSS_TIER:
        return resident
    spilled = _best_spilled(candidates, [i for i in usable if candidates[i].verdict not in resident_verdicts])
    if spilled is not None and quality_tier(candidates[spilled].bits_per_weight) > resident_tier:
        return spilled
    return resident


def _best_resident(candidates: Sequence[Candidate], indices: list[int]) -> int | None:
    """Highest quality (near-lossless counted as one), then fastest; None for no indices."""
    best, best_key = None, None
    for i in indices:
        c = candidates[i]
        key = (min(c.bits_per_weight, NEAR_LOSSLESS_BITS), c.decode_tokens_per_s)
        if best_key is None or key > best_key:
            best, best_key = i, key
    return best


def _best_spilled(candidates: Sequence[Candidate], indices: list[int]) -> int | None:
    """The fastest row of at least small loss, else the one with the most bits (then the faster); None for
    none. Below 4 bits quality falls fast with every bit lost; above, speed is what is left to gain."""
    best, best_key = None, None
    for i in indices:
        c = candidates[i]
        tier = quality_tier(c.bits_per_weight)
        key = (min(tier, SMALL_LOSS_TIER), c.bits_per_weight if tier < SMALL_LOSS_TIER else 0.0,
               c.decode_tokens_per_s)
        if best_key is None or key > best_key:
            best, best_key = i, key
    return best


def describe_rule() -> str:
    """The rule in one sentence, for footers and reports (kept with the code it describes)."""
    return (f"best = the quant you would run: at least {USABLE_DECODE_TOKENS_PER_S:g} tok/s decode and a first "
            f"token within {USABLE_TTFT_S:g} s; all in VRAM/unified memory at the highest quality "
            f"(>= {NEAR_LOSSLESS_BITS:g} bits per weight counts as one: near-lossless), then the faster; "
            f"GPU+RAM only to escape a quant below {SMALL_LOSS_BITS:g} bits per weight, and then the fastest "
            f"that reaches {SMALL_LOSS_BITS:g} (else the most bits)")
