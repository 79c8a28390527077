"""The rules every screen applies: what is usable, the pick per model, capability, and the blended hosted price.

One rule, one place: the GUI, the CLI (``fit``, ``hosted``, ``plan``), the reports and the planner call these
functions and keep no threshold or formula of their own.

**Usable.** A model x quant is usable on a machine when, for the chosen prompt, it decodes at
``DEFAULT_MIN_DECODE_TOKENS_PER_S`` (10 tok/s) or more and its first token comes within ``DEFAULT_MAX_TTFT_S``
(60 s). 10 tok/s is about 7 words a second, faster than people read (4-5 words/s), so a reply never makes
the reader wait; a minute is the most a person waits for an interactive answer to a long prompt. Both are
settings (``Thresholds``): the GUI's Settings dialog and ``--min-decode`` / ``--max-ttft`` change them.

**Quality** falls into tiers by bits per weight (the perplexity added on Llama-3-8B, from the table in
llama.cpp's ``tools/quantize/quantize.cpp``: Q8_0 +0.003, Q6_K +0.022, Q5_K_M +0.057, Q4_K_M +0.175,
Q4_0 +0.469; on LLaMA-1-7B Q3_K_M adds 5x what Q4_K_M adds, Q2_K 13x): near-lossless from 6 bits up
(Q6_K, Q8_0, FP8, 8-bit MLX, BF16: the gain above 6 bits is not measurable, so they count as one quality);
small loss from 4 to 6 (Q4_K_M, Q5_K_M, IQ4_XS, 4-bit AWQ/GPTQ/MLX, NVFP4, MXFP4); noticeable loss from 3 to 4
(Q3_K_M, IQ3_XXS, Q2_K); heavy loss below 3 (IQ2, IQ1, the 2-bit dynamic quants).

**The pick** of a model on a machine (``pick_index`` over ``Candidate`` rows; ``pick`` over estimates):

1. Below 3 bits only when nothing of 4 bits or more of the same model runs at all: a 2-bit 7B on a CPU is
   never the answer when its Q4_K_M runs there, even slowly.
2. Only usable rows are picks; a model with none has no pick (it is not usable here).
3. Rows held entirely in VRAM or unified memory are "resident" (on a machine without a GPU, rows in RAM
   are); GPU + RAM rows, and CPU rows on a machine with a GPU, are "spilled": every token reads the
   spilled part from RAM, 2-10x slower.
4. Among usable resident rows: the highest quality tier; within it, a row that leaves memory headroom
   (``HEADROOM_SHARE`` of the GPU memory free, for the desktop, other programs and a longer context) before
   one that does not; then the most bits (near-lossless counted as one); among rows still equal, the fastest
   on a runtime whose speed is calibrated on measurements (its estimate is better founded), unless a runtime
   that is not calibrated is faster even at the low end of its band (vLLM on an 8-GPU node).
5. A spilled row wins only when the best resident row loses noticeable quality (below 4 bits, or there is
   none) and the spilled one is a whole tier better: paying the spill to go from small loss to near-lossless
   is a bad trade, paying it to escape a 3-bit quant is not. Among spilled rows, the fastest of those with at
   most a small loss (each extra bit is read from RAM on every token); when none reaches small loss, the one
   with the most bits, then the faster.

A model without a pick still has a row that speaks for it (``representative_index``): the same rule over the
rows that decode fast enough when only the first token is late (a long prompt on a CPU), else the fastest
row of 4 bits or more, else the fastest.

**Order** (``rank_key``): models whose usable pick keeps 3 bits per weight or more come first, then models usable
only at a heavy-loss pick (below 3 bits), then models not usable; within each group the most capable first
(unscored after scored, then larger first). Capability is scored on the full-precision model, and nothing in the
catalog measures what a 1-2 bit quant keeps of it: llama.cpp's own table (``tools/quantize/quantize.cpp``,
Llama-3-8B) has Q2_K at +3.52 perplexity against Q4_K_M's +0.18 (20x) and lists the smaller IQ2 and IQ1 quants by
bits alone. So a conservative answer never puts a 1-bit 355B model above a 4-bit 32B one because the full model
scores higher: on 2x RTX 3090 with 128 GB the chat, coding and long-context picks are models that run at 3 bits or
more; GLM-4.7 UD-IQ1_M is listed, marked "heavy loss", after them. The strip, the table and ``fit`` write the tier beside the quant
(``tier_name``).

**Context for the prompt** (``run_context``). A prompt is never cut to fit: when it is longer than the context
setting, the context a model is sized for grows to hold the prompt and ``OUTPUT_RESERVE_TOKENS`` (4,096) tokens
of answer; either way it is capped at the model's maximum. A model whose maximum is below the prompt does not
fit ("prompt longer than its context"), whatever the machine. Decode is timed at the prompt's end.

**Capability** (``capabilities``) is one number from 0 to 100 per model from the catalog's published scores:
for each benchmark of ``CAPABILITY_BENCHMARKS`` the model has a score on (its best entry), the score as a
percentage of the best score any model in the catalog (open or closed) has on that benchmark; the mean of
those percentages, each benchmark weighing the same. A model with no score on any of them has no capability
(None, shown as "—"); it is never guessed from its size. Where models must still be ordered, unscored ones
come after scored ones, larger first (``rank_key``).

**Blended price** (``blended_usd_per_m``): the price per million tokens of either kind at
``input_per_output`` input tokens per output token, ``(r x input + output) / (r + 1)``; r = 3 by default,
the industry's 3:1 convention ``(3 x input + output) / 4``. It is always shown beside the input and output
prices it blends. The cheapest hosted offer (``cheapest_hosted``) is the one with the lowest blended price.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

if TYPE_CHECKING:
    from rigcheck.catalog.records import HostedOffer, Score
    from rigcheck.estimate.types import Estimate

# --------------------------------------------------------------------------------------------- usable

DEFAULT_MIN_DECODE_TOKENS_PER_S = 10.0
"""About 7 words a second: a reply streams faster than people read it (see the module docstring)."""
DEFAULT_MAX_TTFT_S = 60.0
"""A minute to the first token for the chosen prompt is the most a person waits interactively."""


class Thresholds(msgspec.Struct, frozen=True):
    """What "usable" means: decode at least this fast, first token at most this late, for the chosen prompt."""

    min_decode_tokens_per_s: float = DEFAULT_MIN_DECODE_TOKENS_PER_S
    max_ttft_s: float = DEFAULT_MAX_TTFT_S

    def __post_init__(self) -> None:
        for name in ("min_decode_tokens_per_s", "max_ttft_s"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name.replace('_', ' ')} must be a number above zero, not {value!r}")

    def describe(self) -> str:
        """``"≥ 10 tok/s decode and a first token within 60 s"``."""
        return f"≥ {self.min_decode_tokens_per_s:g} tok/s decode and a first token within {self.max_ttft_s:g} s"


DEFAULT_THRESHOLDS = Thresholds()


def is_usable(decode_tokens_per_s: float | None, ttft_s: float | None, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """Fast enough to use: decode and time to first token (expected values) both within ``thresholds``.
    A row that does not run (decode None) is not usable; an unknown TTFT does not count against it."""
    if decode_tokens_per_s is None or decode_tokens_per_s < thresholds.min_decode_tokens_per_s:
        return False
    return ttft_s is None or ttft_s <= thresholds.max_ttft_s


def estimate_usable(row: Estimate, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """``is_usable`` for an estimate: it fits, and its expected decode and TTFT are within ``thresholds``."""
    if not row.fits or row.decode_tokens_per_s is None:
        return False
    return is_usable(row.decode_tokens_per_s.expected, row.ttft_s.expected if row.ttft_s else None, thresholds)


def why_not_usable(row: Estimate, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str | None:
    """Why a row is not usable, in a phrase ("decode 3.1 tok/s < 10"); None when it is."""
    if not row.fits or row.decode_tokens_per_s is None:
        return "does not fit"
    decode = row.decode_tokens_per_s.expected
    if decode < thresholds.min_decode_tokens_per_s:
        return f"decode {decode:.3g} tok/s < {thresholds.min_decode_tokens_per_s:g}"
    if row.ttft_s is not None and row.ttft_s.expected > thresholds.max_ttft_s:
        return f"first token after {row.ttft_s.expected:.3g} s > {thresholds.max_ttft_s:g} s"
    return None


# --------------------------------------------------------------------------------------------- context

OUTPUT_RESERVE_TOKENS = 4096
"""Room for the answer when the context grows to hold a prompt longer than the setting: a long reply."""


class RunContext(NamedTuple):
    """The context one model is sized for with a given prompt (``run_context``)."""

    tokens: int
    """The context the KV cache is sized for."""
    prompt_fits: bool
    """False when the prompt is longer than the model's maximum context: the model does not fit."""
    grown: bool
    """The setting was shorter than the prompt, and the context grew to hold it."""
    capped: bool
    """The model's maximum context is shorter than the context asked for."""


def run_context(context_tokens: int, prompt_tokens: int, model_max_tokens: int | None) -> RunContext:
    """The context a model is sized for (the module's rule): the setting, or the prompt plus
    ``OUTPUT_RESERVE_TOKENS`` when the prompt is longer than it; capped at ``model_max_tokens`` (None: no cap)."""
    wanted = max(1, context_tokens)
    grown = prompt_tokens > wanted
    if grown:
        wanted = prompt_tokens + OUTPUT_RESERVE_TOKENS
    capped = bool(model_max_tokens) and wanted > model_max_tokens  # type: ignore[operator]
    tokens = min(wanted, model_max_tokens) if capped else wanted  # type: ignore[type-var]
    return RunContext(max(1, tokens), not model_max_tokens or prompt_tokens <= model_max_tokens, grown, capped)


def describe_run_context(ctx: RunContext, context_tokens: int, prompt_tokens: int,
                         model_max_tokens: int | None) -> str | None:
    """A basis line when the context is not simply the setting: ``"context 104,096 tokens: the 100,000-token
    prompt + 4,096 for the answer (the setting, 8,192, is shorter than the prompt)"``; None when it is."""
    if not ctx.prompt_fits:
        return prompt_too_long_text(prompt_tokens, model_max_tokens or 0)
    text = f"context {ctx.tokens:,} tokens"
    if ctx.grown and not ctx.capped:
        return (f"{text}: the {prompt_tokens:,}-token prompt + {OUTPUT_RESERVE_TOKENS:,} for the answer (the "
                f"setting, {context_tokens:,}, is shorter than the prompt)")
    if ctx.capped:
        asked = prompt_tokens + OUTPUT_RESERVE_TOKENS if ctx.grown else context_tokens
        room = ctx.tokens - prompt_tokens
        return (f"{text}: the model's maximum (asked: {asked:,}); {room:,} left for the answer after the "
                f"{prompt_tokens:,}-token prompt")
    return None


def prompt_too_long_text(prompt_tokens: int, model_max_tokens: int) -> str:
    """``"does not fit: prompt longer than its context (150,000 > 40,960 tokens)"``."""
    return f"does not fit: prompt longer than its context ({prompt_tokens:,} > {model_max_tokens:,} tokens)"


# --------------------------------------------------------------------------------------------- quality

NEAR_LOSSLESS_BITS = 6.0
"""From here up (Q6_K, 6.56 bits) the added perplexity is within measurement noise."""
SMALL_LOSS_BITS = 4.0
"""From here up to NEAR_LOSSLESS_BITS (IQ4_XS at 4.25 to Q5_K_M at 5.69) the loss is small."""
NOTICEABLE_LOSS_BITS = 3.0
"""From here up to SMALL_LOSS_BITS (IQ3_XXS, Q2_K, Q3_K_M) the loss is noticeable; below it, heavy."""
TIER_NAMES = ("heavy loss", "noticeable loss", "small loss", "near-lossless")
"""Indexed by ``quality_tier``."""
SMALL_LOSS_TIER = 2


def quality_tier(bits_per_weight: float) -> int:
    """0 heavy loss, 1 noticeable loss, 2 small loss, 3 near-lossless (see the module docstring)."""
    if bits_per_weight >= NEAR_LOSSLESS_BITS:
        return 3
    if bits_per_weight >= SMALL_LOSS_BITS:
        return 2
    if bits_per_weight >= NOTICEABLE_LOSS_BITS:
        return 1
    return 0


def quality_bits(bits_per_weight: float) -> float:
    """The quality a quant is ranked by: its bits per weight, every near-lossless quant counted as one."""
    return min(bits_per_weight, NEAR_LOSSLESS_BITS)


# --------------------------------------------------------------------------------------------- the pick

HEADROOM_SHARE = 0.05
"""A pick leaves a twentieth of the GPU memory budget (what is left after the driver's 2 %; on unified memory, of
the GPU-usable share) free when it can: room for the desktop, other programs and a somewhat longer context than
the setting. A row using more is "tight": a 32B in FP8 at 31.2 of a 32 GiB card is, a Q5_K_M 30B at 21.5 of 24
GiB is not."""
RESIDENT_VERDICTS = frozenset({"gpu", "unified"})
CPU_ONLY_RESIDENT_VERDICTS = frozenset({"cpu"})
"""On a machine without a GPU (no row of the model uses one) nothing spills: RAM is the device."""


class Candidate(NamedTuple):
    """One row as the rule sees it. ``decode_tokens_per_s`` is None when the row does not run."""

    bits_per_weight: float
    verdict: str
    decode_tokens_per_s: float | None
    ttft_s: float | None
    calibrated: bool = True
    """The runtime's speed constants are fitted on measurements (``efficiency.Efficiency.calibrated``)."""
    gpu_memory_share: float | None = None
    """Share of the GPU memory budget a resident row uses (None: unknown or not resident)."""
    decode_low_tokens_per_s: float | None = None
    """The low end of the decode band (None: unknown, no evidence that the row is faster than another)."""

    @property
    def roomy(self) -> bool:
        share = self.gpu_memory_share
        return share is None or share <= 1.0 - HEADROOM_SHARE


def pick_index(candidates: Sequence[Candidate], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> int | None:
    """The index of one model's pick among its rows (the module's rule); None when no row is usable."""
    _allowed, usable, _fast = _pools(candidates, thresholds)
    return _choose(candidates, usable, _on_gpu(candidates)) if usable else None


def representative_index(candidates: Sequence[Candidate], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> int | None:
    """The row that speaks for a model: its pick, else the closest to one (see the module docstring); None when
    no row runs."""
    allowed, usable, fast = _pools(candidates, thresholds)
    if not allowed:
        return None
    if usable:
        return _choose(candidates, usable, _on_gpu(candidates))
    # Prefill hardly depends on the quant: when every row waits too long for the first token (a long prompt
    # on a CPU), the rule still ranks the rows that decode fast enough.
    if fast:
        return _choose(candidates, fast, _on_gpu(candidates))
    return max(allowed, key=lambda i: (candidates[i].bits_per_weight >= SMALL_LOSS_BITS,
                                       candidates[i].decode_tokens_per_s, candidates[i].bits_per_weight))


def _pools(candidates: Sequence[Candidate], thresholds: Thresholds) -> tuple[list[int], list[int], list[int]]:
    """(allowed, usable, fast) indices. Allowed: rows that run, less those below NOTICEABLE_LOSS_BITS when a row of
    SMALL_LOSS_BITS or more runs (step 1); usable: allowed and within the thresholds; fast: allowed and decoding
    fast enough, whatever their first token. One pass: ``evaluate`` calls this for every model."""
    min_decode, max_ttft = thresholds.min_decode_tokens_per_s, thresholds.max_ttft_s
    running = []
    four_bits = False
    for i, c in enumerate(candidates):
        if c[2] is not None:  # decode_tokens_per_s
            running.append(i)
            if c[0] >= SMALL_LOSS_BITS:
                four_bits = True
    allowed = [i for i in running if candidates[i][0] >= NOTICEABLE_LOSS_BITS] if four_bits else running
    fast = [i for i in allowed if candidates[i][2] >= min_decode]
    usable = [i for i in fast if candidates[i][3] is None or candidates[i][3] <= max_ttft]
    return allowed, usable, fast


def _on_gpu(candidates: Sequence[Candidate]) -> bool:
    return any(c.decode_tokens_per_s is not None and c.verdict != "cpu" for c in candidates)


def _choose(candidates: Sequence[Candidate], pool: list[int], on_gpu: bool) -> int | None:
    """Steps 3-5 of the rule over a pool of rows."""
    resident_verdicts = RESIDENT_VERDICTS if on_gpu else CPU_ONLY_RESIDENT_VERDICTS
    resident = _best_resident(candidates, [i for i in pool if candidates[i].verdict in resident_verdicts])
    resident_tier = -1 if resident is None else quality_tier(candidates[resident].bits_per_weight)
    if resident_tier >= SMALL_LOSS_TIER:
        return resident
    spilled = _best_spilled(candidates, [i for i in pool if candidates[i].verdict not in resident_verdicts])
    if spilled is not None and quality_tier(candidates[spilled].bits_per_weight) > resident_tier:
        return spilled
    return resident


_ROOMY_SHARE = 1.0 - HEADROOM_SHARE


def _best_resident(candidates: Sequence[Candidate], indices: list[int]) -> int | None:
    """Highest tier, then headroom, then quality; among those equal, a calibrated runtime (``_calibrated_first``);
    None for no indices."""
    best_key = None
    group: list[int] = []
    for i in indices:
        c = candidates[i]
        bits, share = c[0], c[5]
        key = (quality_tier(bits), share is None or share <= _ROOMY_SHARE,
               bits if bits < NEAR_LOSSLESS_BITS else NEAR_LOSSLESS_BITS)
        if best_key is None or key > best_key:
            best_key, group = key, [i]
        elif key == best_key:
            group.append(i)
    return _calibrated_first(candidates, group) if group else None


def _calibrated_first(candidates: Sequence[Candidate], group: list[int]) -> int:
    """Of rows of equal quality, the fastest on a calibrated runtime, unless the fastest on an uncalibrated one is
    faster even at the low end of its (wide) band: then the evidence for it holds without the calibration (vLLM
    on an 8-GPU node at 5x llama.cpp's speed), while within the band a calibrated estimate is the safer answer."""
    def speed(i: int) -> float:
        return candidates[i].decode_tokens_per_s or 0.0

    calibrated = max((i for i in group if candidates[i].calibrated), key=speed, default=None)
    other = max((i for i in group if not candidates[i].calibrated), key=speed, default=None)
    if calibrated is None or other is None:
        return other if calibrated is None else calibrated
    low = candidates[other].decode_low_tokens_per_s or 0.0
    return other if low > speed(calibrated) else calibrated


def _best_spilled(candidates: Sequence[Candidate], indices: list[int]) -> int | None:
    """The fastest row of at least small loss, else the one with the most bits (then the faster); None for
    none. Below 4 bits quality falls fast with every bit lost; above, speed is what is left to gain."""
    best, best_key = None, None
    for i in indices:
        c = candidates[i]
        tier = quality_tier(c.bits_per_weight)
        key = (min(tier, SMALL_LOSS_TIER), c.bits_per_weight if tier < SMALL_LOSS_TIER else 0.0, c.calibrated,
               c.decode_tokens_per_s)
        if best_key is None or key > best_key:
            best, best_key = i, key
    return best


def candidate(row: Estimate) -> Candidate:
    """An estimate as the rule sees it (the estimator records bits, calibration and memory share on each row)."""
    decode, ttft = row.decode_tokens_per_s, row.ttft_s
    return Candidate(row.bits_per_weight or 0.0, row.verdict, decode.expected if decode is not None else None,
                     ttft.expected if ttft is not None else None, row.calibrated, row.gpu_memory_share,
                     decode.low if decode is not None else None)


def pick(rows: Sequence[Estimate], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Estimate | None:
    """The pick among the rows of ONE model (as ``evaluate`` returns them): the quant to run on this machine, or
    None when no row is usable. The rows' own ``best``/``usable`` marks are not read, so any thresholds apply.

    >>> pick([r for r in evaluate(machine, catalog, settings) if r.model_id == model_id], settings.usable)
    """
    i = pick_index([candidate(r) for r in rows], thresholds)
    return None if i is None else rows[i]


def picks(rows: Iterable[Estimate], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[str, Estimate]:
    """``pick`` for every model among ``rows``: model id -> its pick (models without one are left out)."""
    by_model: dict[str, list[Estimate]] = {}
    for r in rows:
        by_model.setdefault(r.model_id, []).append(r)
    out = {}
    for model_id, group in by_model.items():
        chosen = pick(group, thresholds)
        if chosen is not None:
            out[model_id] = chosen
    return out


def describe_pick() -> str:
    """The pick rule in one sentence, for footers and reports (kept with the code it describes)."""
    return (f"the pick = the quant you would run: usable; never below {NOTICEABLE_LOSS_BITS:g} bits per weight when "
            f"a {SMALL_LOSS_BITS:g}-bit quant of the model runs; all in VRAM/unified memory at the highest quality "
            f"(≥ {NEAR_LOSSLESS_BITS:g} bits per weight counts as one: near-lossless), leaving "
            f"{HEADROOM_SHARE:.0%} of the memory free where a quant of that quality can, calibrated runtimes "
            f"first unless another is faster even at the low end of its band; GPU+RAM only to escape a quant below {SMALL_LOSS_BITS:g} bits")


# --------------------------------------------------------------------------------------------- capability

CAPABILITY_BENCHMARKS: dict[str, str] = {
    "aa_index": "AA index",
    "swe_bench_verified": "SWE-bench Verified",
    "aider_polyglot": "Aider polyglot",
    "terminal_bench_2": "Terminal-Bench 2",
}
"""The benchmarks capability is made of (catalog name -> label): broad, published for open and closed models,
and scored on the same scale by everyone who reports them. "other" entries are left out (each means something
else)."""


class CapabilityPart(msgspec.Struct, frozen=True):
    benchmark: str
    label: str
    score: float
    """The model's best published entry."""
    best: float
    """The best entry of any model in the catalog on this benchmark (the 100 % mark)."""

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.best if self.best > 0 else 0.0


class Capability(msgspec.Struct, frozen=True):
    """A model's capability (0-100) and the scores it is made of."""

    value: float
    parts: tuple[CapabilityPart, ...]

    @property
    def basis(self) -> str:
        """``"Aider polyglot 71.6 (81 % of the best, 88.0); SWE-bench Verified ..."``."""
        return "; ".join(f"{p.label} {p.score:g} ({p.percent:.0f} % of the best, {p.best:g})" for p in self.parts)

    @property
    def short_basis(self) -> str:
        """``"Aider polyglot, SWE-bench Verified"``: which benchmarks it rests on."""
        return ", ".join(p.label for p in self.parts)


def capabilities(scores: Iterable[Score]) -> dict[str, Capability]:
    """Capability per model id for every model with a score on a capability benchmark (see the module doc)."""
    best_of: dict[str, dict[str, float]] = {}
    for s in scores:
        if s.benchmark not in CAPABILITY_BENCHMARKS or not math.isfinite(s.value) or s.value <= 0:
            continue
        by_model = best_of.setdefault(s.benchmark, {})
        if s.value > by_model.get(s.model_id, -math.inf):
            by_model[s.model_id] = s.value
    top = {b: max(v.values()) for b, v in best_of.items()}
    parts: dict[str, list[CapabilityPart]] = {}
    for bench in CAPABILITY_BENCHMARKS:  # a fixed order, so the basis always reads the same way
        for model_id, value in best_of.get(bench, {}).items():
            parts.setdefault(model_id, []).append(
                CapabilityPart(bench, CAPABILITY_BENCHMARKS[bench], value, top[bench]))
    return {model_id: Capability(round(sum(p.percent for p in ps) / len(ps), 1), tuple(ps))
            for model_id, ps in parts.items()}


def describe_capability() -> str:
    """How capability is made, in one sentence, for legends, footers and reports. What it is, not how a listing is
    ordered by it: each listing says its own order (``describe_order``; ``hosted``'s comparators theirs)."""
    return ("capability = the mean, over " + ", ".join(CAPABILITY_BENCHMARKS.values()) + " (those the model has a "
            "published score on), of its best score as a percentage of the best score in the catalog; no score: "
            "no capability (—)")


def rank_key(usable: bool, capability: float | None, params_b: float | None,
             pick_bits_per_weight: float | None = None) -> tuple[float, float, float]:
    """Sort key, ascending = best first: models whose usable pick keeps 3 bits per weight or more first, then those
    whose usable pick is a heavy-loss quant (below ``NOTICEABLE_LOSS_BITS``), then those not usable; within each,
    by capability (unscored after scored), then larger first. The order of the GUI's table and strip, ``fit`` and
    the reports (see the module docstring, **Order**). ``pick_bits_per_weight`` None: not known, counted as 3 bits
    or more."""
    group = 2.0 if not usable else 1.0 if heavy_loss(pick_bits_per_weight) else 0.0
    return (group, -(capability if capability is not None else -1.0), -(params_b or 0.0))


def heavy_loss(bits_per_weight: float | None) -> bool:
    """A quant below ``NOTICEABLE_LOSS_BITS`` (IQ1, IQ2, the 1-2 bit dynamic quants): the rules rank a model whose
    pick is one after every model with a usable pick of 3 bits or more."""
    return bits_per_weight is not None and bits_per_weight < NOTICEABLE_LOSS_BITS


def tier_name(bits_per_weight: float) -> str:
    """``"small loss"``: the quality tier of a quant, as the strip, the table and ``fit`` write it beside the quant."""
    return TIER_NAMES[quality_tier(bits_per_weight)]


def describe_order() -> str:
    """The order of models in one sentence, for footers and reports (kept with the code it describes)."""
    return (f"order: models with a usable pick of {NOTICEABLE_LOSS_BITS:g} bits per weight or more first, then those "
            f"usable only at a heavy-loss quant (below {NOTICEABLE_LOSS_BITS:g} bits: capability is scored at full "
            "precision, and such a quant loses an unmeasured share of it), then those not usable; within each, the "
            "most capable first, then those without a capability, larger first")


# --------------------------------------------------------------------------------------------- hosted price

DEFAULT_INPUT_PER_OUTPUT = 3.0
"""Input tokens per output token of the blended price: the industry's 3:1 convention."""


def blended_usd_per_m(usd_per_m_input: float, usd_per_m_output: float,
                      input_per_output: float = DEFAULT_INPUT_PER_OUTPUT) -> float:
    """Price per million tokens of either kind: ``(r x input + output) / (r + 1)``; r = 3 gives (3 x in + out) / 4.

    Raises ValueError for a negative or non-finite ratio."""
    if not (math.isfinite(input_per_output) and input_per_output >= 0):
        raise ValueError(f"input tokens per output token must be zero or more, not {input_per_output!r}")
    return (input_per_output * usd_per_m_input + usd_per_m_output) / (input_per_output + 1.0)


def offer_blended_usd_per_m(offer: HostedOffer, input_per_output: float = DEFAULT_INPUT_PER_OUTPUT) -> float:
    return blended_usd_per_m(offer.usd_per_m_input, offer.usd_per_m_output, input_per_output)


def cheapest_hosted(offers: Iterable[HostedOffer], input_per_output: float = DEFAULT_INPUT_PER_OUTPUT, *,
                    residency: str = "anywhere", region: str | None = None) -> HostedOffer | None:
    """The offer with the lowest blended price meeting a residency level (``catalog.hosted.meets_residency``).

    Offers priced at zero are skipped: a free tier is a promotion, not a price to plan on. Returns None when no
    priced offer meets the level (always for "sovereign"). Raises ValueError for an unknown level."""
    from rigcheck.catalog.hosted import meets_residency

    eligible = [o for o in offers if (o.usd_per_m_output > 0 or o.usd_per_m_input > 0)
                and meets_residency(o, residency, region)]
    if not eligible:
        return None
    return min(eligible, key=lambda o: (offer_blended_usd_per_m(o, input_per_output), o.usd_per_m_output, o.provider))


def describe_blend(input_per_output: float = DEFAULT_INPUT_PER_OUTPUT) -> str:
    """``"blended = (3 × input + output) / 4"``."""
    r = f"{input_per_output:g}"
    return f"blended = ({r} × input + output) / {input_per_output + 1:g}"
