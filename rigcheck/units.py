"""Human strings for numbers with units: bytes, bandwidth, TFLOPS, tokens/s, seconds, bands, prices, ages.

The single home for this formatting: the GUI tables, the report renderers and the CLI commands all call these
functions, so one figure reads the same wherever it is shown. Qt-free on purpose (the CLI and report import it).
Sizes are binary (GiB) because drivers and ``nvidia-smi`` count VRAM that way; bandwidth is decimal GB/s because
spec sheets quote it that way.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rigcheck.estimate.types import Band

if TYPE_CHECKING:
    import datetime as _dt

DASH = "—"
GIB = 1024**3

# Short labels for a verdict, as a table cell or badge shows it.
VERDICT_TEXT = {
    "gpu": "Fits in VRAM",
    "unified": "Fits (unified)",
    "gpu+ram": "GPU + RAM",
    "cpu": "CPU only",
    "no_fit": "Does not fit",
}

# Where the model runs, worded to sit inside a sentence ("Q4_K_M on GPU + RAM").
VERDICT_PLACE = {
    "gpu": "GPU",
    "unified": "unified memory",
    "gpu+ram": "GPU + RAM",
    "cpu": "CPU only",
    "no_fit": "does not fit",
}

ORIGIN_TEXT = {
    "probed": "probed on this machine",
    "profile": "read from a machine profile",
    "hypothetical": "hypothetical (what-if) machine, figures from the spec table",
}


def verdict_text(verdict: str | None) -> str:
    """Table/badge label: ``"gpu"`` -> ``"Fits in VRAM"``."""
    if verdict is None:
        return DASH
    return VERDICT_TEXT.get(verdict, verdict)


def verdict_place(verdict: str | None) -> str:
    """In-sentence wording: ``"gpu"`` -> ``"GPU"``, ``"unified"`` -> ``"unified memory"``."""
    if verdict is None:
        return DASH
    return VERDICT_PLACE.get(verdict, verdict)


def memory_limits(estimates, unified_memory: bool = False) -> list[tuple[str, int]]:
    """The lines a memory chart draws against its bars: (label, bytes), smallest first, read from the estimates'
    own budgets (``MemoryBreakdown.gpu_budget_bytes`` and ``budget_bytes``, what the placement compared against),
    so that a chart never shows a limit the verdict did not use. ``unified_memory``: the GPU's share of RAM and
    RAM itself (for the CPU) are two limits on the same memory, not one added to the other. Empty when the
    estimates carry no budget."""
    gpu = max((e.memory.gpu_budget_bytes for e in estimates), default=0)
    total = max((e.memory.budget_bytes for e in estimates), default=0)
    if not gpu:
        return [("usable RAM", total)] if total else []
    if total <= gpu:  # runtimes that keep everything on the GPU, or a unified share as large as RAM
        return [("usable GPU memory" if unified_memory else "usable VRAM", gpu)]
    if unified_memory:
        return [("GPU share", gpu), ("usable RAM (CPU)", total)]
    return [("usable VRAM", gpu), ("usable VRAM + RAM", total)]


def room_text(budget_bytes: int, vram_bytes: int, ram_bytes: int, unified: bool = False) -> str:
    """What a machine offers a model that does not fit, as its verdict counted it (the row's
    ``MemoryBreakdown.budget_bytes``, the line its memory chart draws) and what that is made of:
    ``"85.5 GiB usable of 24 GiB VRAM + 64 GiB RAM"``; without a budget, the memory in all."""
    if unified:
        made_of = f"{bytes_text(ram_bytes)} of unified memory"
    elif not vram_bytes:
        made_of = f"{bytes_text(ram_bytes)} of RAM"
    else:
        made_of = f"{bytes_text(vram_bytes)} VRAM + {bytes_text(ram_bytes)} RAM"
    return f"{bytes_text(budget_bytes)} usable of {made_of}" if budget_bytes else made_of


def placement_notes(estimates, budget: int, unified_memory: bool = False) -> list[str]:
    """Why a memory chart's bar and its verdict seem to disagree with the lines drawn (``memory_limits``;
    ``budget``: the farthest line, in bytes), one sentence each: the part a runtime keeps in RAM (a quant that fits
    in VRAM with a bar past the VRAM line), a runtime that puts no weights in RAM (a quant under the farthest line
    that does not fit: it had only the GPU's memory), whole layers (a quant a little under its own limit that does
    not fit). ``unified_memory``: the lines are the GPU's share and RAM, not VRAM and VRAM + RAM."""
    from rigcheck.estimate.runtimes import RAM_RUNTIMES

    notes = []
    in_ram = [e for e in estimates if e.verdict in ("gpu", "unified") and e.memory.ram_bytes > 0
              and e.memory.total_bytes > e.memory.gpu_budget_bytes > 0]
    for runtime in sorted({e.runtime for e in in_ram}):
        rows = [e for e in in_ram if e.runtime == runtime]
        quants = ", ".join(f"{bytes_text(e.memory.ram_bytes)} for {e.quant}" for e in rows)
        one = len(rows) == 1
        where = "outside the GPU share" if unified_memory else "in RAM"
        notes.append(f"{runtime} keeps the token embeddings {where} ({quants}): {'it fits' if one else 'they fit'} "
                     f"{'' if unified_memory else 'in VRAM '}though {'its bar passes' if one else 'their bars pass'} "
                     "the line.")
    gpu_only = [e for e in estimates if e.verdict == "no_fit" and e.runtime not in RAM_RUNTIMES
                and e.memory.total_bytes <= budget]
    for runtime in sorted({e.runtime for e in gpu_only}):
        quants = ", ".join(e.quant for e in gpu_only if e.runtime == runtime)
        where = "the GPU share" if unified_memory else "VRAM"
        notes.append(f"{quants} ({runtime}) must fit in {where}: {runtime} does not put weights in RAM.")
    if any(e.verdict == "no_fit" and e.runtime in RAM_RUNTIMES
           and e.memory.total_bytes <= min(budget, e.memory.budget_bytes) for e in estimates):
        notes.append("Whole layers are placed, so a quant a little under the limit can still not fit.")
    return notes


def origin_text(origin: str | None) -> str:
    if origin is None:
        return DASH
    return ORIGIN_TEXT.get(origin, origin)


def bytes_text(n: float | None, *, digits: int = 1) -> str:
    """Binary units: ``7.2 * 2**30`` -> ``"7.2 GiB"``; a whole number of units and anything from 100 up without
    decimals (``25769803776`` -> ``"24 GiB"``, ``"128 GiB"``): a machine's 64 GiB of RAM reads "64 GiB" everywhere."""
    if n is None:
        return DASH
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(value)} B"
            # Past 100 a decimal is noise and widens narrow table columns; a whole size (24 GiB of VRAM) has none.
            return (f"{value:,.0f} {unit}" if abs(value) >= 100 or value == int(value)
                    else f"{value:.{digits}f} {unit}")
        value /= 1024
    return f"{value:.{digits}f} TiB"  # pragma: no cover - loop always returns


def bandwidth_text(bytes_per_s: float | None) -> str:
    """Memory bandwidth in decimal GB/s: ``"1,008 GB/s"``, ``"51.2 GB/s"`` (RAM needs the decimal)."""
    if bytes_per_s is None:
        return DASH
    gb = bytes_per_s / 1e9
    return f"{gb:,.0f} GB/s" if gb >= 100 else f"{gb:.1f} GB/s"


def tflops_text(tflops: float | None, unit: str = " TFLOPS") -> str:
    if tflops is None:
        return DASH
    return f"{tflops:,.0f}{unit}" if tflops >= 100 else f"{tflops:.1f}{unit}"


def fp16_tflops_text(tensor_tflops: float | None, vector_tflops: float | None) -> str:
    """A device's FP16 throughput, labelled which: ``"165 tensor"`` (dense tensor-core / matrix-engine rate) where a
    source states it, else ``"122.8 vector"`` (the shader rate), else a dash."""
    if tensor_tflops is not None:
        return tflops_text(tensor_tflops, " tensor")
    if vector_tflops is not None:
        return tflops_text(vector_tflops, " vector")
    return DASH


MEASURED_MARK = "m"
CORRECTED_MARK = "c"


def measured_mark(extra: dict, kind: str) -> str:
    """Which a speed figure of an estimate is (``kind``: "decode", or "prefill" for prefill and TTFT):
    ``MEASURED_MARK`` when the user's runs measured this model and quant on this machine (``extra["measured"]``,
    the figure is the estimate corrected by them), ``CORRECTED_MARK`` when only runs of other models corrected it
    (``extra["correction"]``), "" when it is estimated alone."""
    if any(run.get(f"{kind}_tokens_per_s") for run in extra.get("measured") or ()):
        return MEASURED_MARK
    if kind in (extra.get("correction") or {}):
        return CORRECTED_MARK
    return ""


def measured_legend(runs: int | None = None, marks: frozenset[str] | set[str] = frozenset({"m", "c"})) -> str:
    """The footer that says what the ``marks`` shown mean, and that other figures are estimated (a sentence that
    starts with a mark, so in lower case, without a final stop). ``runs``: the user's runs kept for this machine,
    when known."""
    kept = f" ({runs:,} kept)" if runs else ""
    parts = []
    if MEASURED_MARK in marks:
        parts.append(f"{MEASURED_MARK} = measured on this machine: your runs of this model and quant{kept}, the "
                     "estimate corrected by them at these settings")
        kept = ""
    if CORRECTED_MARK in marks:
        parts.append(f"{CORRECTED_MARK} = corrected by your runs of other models or quants on this machine{kept}, "
                     "same runtime and placement")
    return "; ".join([*parts, "other figures estimated"])


def device_memory_text(memory_bytes: int | None, options_bytes: list[int] | tuple[int, ...] = (),
                       unified: bool = False) -> str:
    """A device's memory as a listing shows it: ``"24 GiB"``; the sizes it is sold with, ``"128/256/512 GiB"``; the
    largest size of a unified-memory machine when that is all that is known, ``"up to 128 GiB"``; a dash when no
    source states it."""
    if options_bytes:
        return "/".join(f"{b / GIB:g}" for b in sorted(options_bytes)) + " GiB"
    if memory_bytes is None:
        return DASH
    return ("up to " if unified else "") + f"{memory_bytes / GIB:g} GiB"


def capability_text(capability: float | None) -> str:
    """A capability (``rules.capabilities``: 0-100, one decimal) as every text view writes it: whole points,
    ``"48"`` for 47.5 (half to even, as Python rounds); the JSON outputs keep the rules' figure."""
    return DASH if capability is None else f"{capability:.0f}"


def rate_text(tokens_per_s: float | None) -> str:
    """A tokens/s figure with sensible precision: 0.84, 8.4, 84, 1,840, 18.4k."""
    if tokens_per_s is None:
        return DASH
    value = tokens_per_s
    if value >= 100_000:
        return f"{value / 1000:,.0f}k"
    if value >= 10_000:
        return f"{value / 1000:.1f}k"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.0f}"
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.2f}"


def seconds_text(seconds: float | None) -> str:
    """``0.25`` -> ``"250 ms"``, ``4.6`` -> ``"4.6 s"``, ``42`` -> ``"42 s"``, ``600`` -> ``"10 min"``."""
    if seconds is None:
        return DASH
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    if seconds >= 9.95:  # what would round to "10.0 s" reads better as "10 s"
        return f"{seconds:.0f} s"
    if seconds >= 0.995:
        return f"{seconds:.1f} s"
    return f"{seconds * 1000:.0f} ms"


def eta_text(elapsed_s: float, done: int, total: int | None) -> str:
    """Time left at the pace so far, ``done`` of ``total`` in ``elapsed_s``: ``"about 40 s left"``,
    ``"about 3 min left"``; "" before the first is done, at the end, or when the total is unknown."""
    if not total or done <= 0 or done >= total or elapsed_s <= 0:
        return ""
    left_s = elapsed_s / done * (total - done)
    if left_s >= 90:
        return f"about {math.ceil(left_s / 60)} min left"
    return f"about {max(5, round(left_s / 5) * 5)} s left"


def _kilo(value: float) -> str:
    if value < 1000:
        return rate_text(value)
    return f"{value / 1000:.1f}k" if value < 10_000 else f"{value / 1000:.0f}k"


def band_range(band: Band | None, fmt=rate_text) -> str:
    """The band's low–high as one string, e.g. ``"35–50"``, ``"4.6–7.8 s"`` (a shared unit said once)."""
    if band is None:
        return DASH
    if fmt is rate_text and band.high >= 1000:
        # Bands sit in narrow table cells: thousands as "2.2k".
        return f"{_kilo(band.low)}–{_kilo(band.high)}"
    if fmt is seconds_text and band.low < 1 <= band.high < 120:
        low_s = f"{band.low:.2f}".rstrip("0").rstrip(".")
        return f"{low_s}–{seconds_text(band.high)}"
    low, high = fmt(band.low), fmt(band.high)
    low_num, _, low_unit = low.partition(" ")
    high_num, _, high_unit = high.partition(" ")
    if low_unit and low_unit == high_unit:
        return f"{low_num}–{high_num} {high_unit}"
    return f"{low}–{high}"


def band_text(band: Band | None, fmt=rate_text, unit: str = "") -> str:
    """``"42 (35–50)"``, or ``"42 (35–50) tok/s"`` with ``unit``: the expected value and its band."""
    if band is None:
        return DASH
    suffix = f" {unit}" if unit else ""
    return f"{fmt(band.expected)} ({band_range(band, fmt)}){suffix}"


def tokens_text(count: int | None) -> str:
    """Token counts: ``131072`` -> ``"128k"``, ``4096`` -> ``"4k"``, ``1048576`` -> ``"1M"``, ``1500`` -> ``"1.5k"``."""
    if count is None:
        return DASH
    if count >= 1024 and count % 1024 == 0:
        k = count // 1024
        if k >= 1024 and k % 1024 == 0:
            return f"{k // 1024}M"
        if k < 1024:
            return f"{k}k"
    if count >= 1_000_000:
        return f"{count / 1e6:.1f}M".replace(".0M", "M")
    if count >= 10_000:
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return f"{count:,}"


def count_text(count: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: ``count_text(1, "model")`` -> ``"1 model"``, ``2`` -> ``"2 models"``,
    ``count_text(3, "quant", "quants")``; thousands separated (``"1,360 rows"``)."""
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def context_setting_text(context_tokens: int, prompt_tokens: int, longest_sized_tokens: int | None = None) -> str:
    """The context and prompt settings for a header, with the rule (``rules.run_context``) when it applies:
    ``"context 8k, prompt 4k"``, or ``"prompt 100k; context grown to hold it + 4k for the answer (the setting,
    8k, is shorter), up to each model's maximum: a model whose maximum is below the prompt does not fit"``.

    ``longest_sized_tokens``: the longest context any listed row was sized for (``Estimate.context_tokens``); when
    it is shorter than the setting, every model was capped at its own maximum and the header says so instead of
    naming a context no row has: ``"context capped at each model's maximum (10,485,760 tokens asked; the longest
    model holds 10,000,000), prompt 4k"``."""
    from rigcheck.estimate.rules import OUTPUT_RESERVE_TOKENS

    if prompt_tokens <= context_tokens:
        if longest_sized_tokens is not None and longest_sized_tokens < context_tokens:
            return (f"context capped at each model's maximum ({context_tokens:,} tokens asked; the longest model "
                    f"holds {longest_sized_tokens:,}), prompt {tokens_text(prompt_tokens)}")
        return f"context {tokens_text(context_tokens)}, prompt {tokens_text(prompt_tokens)}"
    return (f"prompt {tokens_text(prompt_tokens)}; context grown to hold it + {tokens_text(OUTPUT_RESERVE_TOKENS)} "
            f"for the answer (the setting, {tokens_text(context_tokens)}, is shorter), up to each model's maximum: "
            "a model whose maximum is below the prompt does not fit")


def _params_one(b: float) -> str:
    if b >= 100:
        return f"{b:.0f}B"
    if abs(b - round(b)) < 0.05:
        return f"{b:.0f}B"
    return f"{b:.1f}B"


def params_text(total_b: float | None, active_b: float | None = None) -> str:
    """Parameters in billions: ``"8B"``, ``"0.6B"``, ``"30.5B"``, ``"235B / 22B"`` (total / active for MoE)."""
    if total_b is None:
        return DASH
    if active_b is not None and active_b < total_b * 0.98:
        return f"{_params_one(total_b)} / {_params_one(active_b)}"
    return _params_one(total_b)


def _half_up(value: float, digits: int) -> float:
    """``value`` rounded half away from zero at ``digits`` decimals, as prices are rounded on paper.

    Binary floats hold 0.0875 as 0.08749999... and (3 x 0.07 + 0.14) / 4 as 0.08750000...1, so Python's own
    rounding shows one price as $0.087 in one place and $0.088 in another; a relative nudge far below a cent's
    thousandth settles such halves the same way whatever arithmetic produced them."""
    scaled = abs(value) * 10.0**digits
    rounded = math.floor(scaled + 0.5 + 1e-9 * max(1.0, scaled))
    return math.copysign(rounded / 10.0**digits, value)


def usd_text(usd: float | None, digits: int | None = None) -> str:
    """Dollars: ``"$1,599"``, ``"$0.60"``, ``"$0.035"``; ``digits`` fixes the decimals (``usd_text(x, 0)``).
    Halves round up ($0.0875 reads $0.088, $0.525 reads $0.53) however the figure was computed."""
    if usd is None:
        return DASH
    if digits is None:
        digits = 0 if abs(usd) >= 100 else 2 if abs(usd) >= 0.1 or usd == 0 else 3
        text = f"{_half_up(usd, digits):,.{digits}f}"
        if digits == 3 and text.endswith("0"):
            text = text[:-1]  # $0.08, but $0.035
        return "$" + text
    return f"${_half_up(usd, digits):,.{digits}f}"


def quant_text(quant: str, bits_per_weight: float | None) -> str:
    """A quant with its quality tier (``rules.tier_name``): ``"Q4_K_M (small loss)"``, ``"UD-IQ1_M (heavy loss)"``;
    the quant alone when its bits are unknown."""
    if not bits_per_weight:
        return quant
    from rigcheck.estimate.rules import tier_name

    return f"{quant} ({tier_name(bits_per_weight)})"


def usd_per_m_text(usd: float | None) -> str:
    """A price per million tokens: ``"$0.13/M"``; the one way prices per token read everywhere."""
    return DASH if usd is None else f"{usd_text(usd)}/M"


def price_triple_text(blended: float | None, usd_per_m_input: float | None, usd_per_m_output: float | None) -> str:
    """A blended price beside the two it blends: ``"$0.13/M ($0.10 in / $0.22 out)"``."""
    if blended is None:
        return DASH
    return f"{usd_per_m_text(blended)} ({usd_text(usd_per_m_input)} in / {usd_text(usd_per_m_output)} out)"


def watts_text(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f} W"


def mhz_text(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f} MHz"


def age_seconds_text(age_s: float | None) -> str:
    """How long ago, from an age in seconds: ``"12 min ago"``, ``"5 h ago"``, ``"3 days ago"``. The one way an age
    reads (``catalog show``, the status bar, the reports): whole units, rounded down, so 4.7 days is "4 days ago"
    everywhere."""
    if age_s is None:
        return "age unknown"
    if age_s < 0:
        return "just now"  # a clock slightly behind the catalog's: not worth alarming anyone
    if age_s < 3600:
        return f"{max(1, int(age_s // 60))} min ago"
    if age_s < 86400:
        return f"{int(age_s // 3600)} h ago"
    days = int(age_s // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


def age_days_text(age_days: float | None) -> str:
    """``age_seconds_text`` of an age in days (a report's ``age_days``)."""
    return age_seconds_text(None if age_days is None else round(age_days * 86400, 3))


def age_text(iso_timestamp: str | None, now: _dt.datetime | None = None) -> str:
    """``"3 days ago"`` for an ISO 8601 timestamp; the raw string when it cannot be parsed."""
    if not iso_timestamp:
        return "age unknown"
    import datetime as _dt  # not at the top: start-up imports this module, and the window's first paint needs no dates

    try:
        then = _dt.datetime.fromisoformat(iso_timestamp.replace("Z", "+00:00"))
    except ValueError:
        return iso_timestamp
    if then.tzinfo is None:
        then = then.replace(tzinfo=_dt.timezone.utc)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return age_seconds_text((now - then).total_seconds())
