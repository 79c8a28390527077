"""What each cell of the model table shows, as plain picklable data computed by pure, Qt-free functions.

Start-up computes the first table in a helper process that never loads Qt, the catalog records or the hosted
pricing module, and sends these rows to the GUI process to paint. So this module imports only the stdlib,
:mod:`rigcheck.units` and the estimator's light types; everything else is for type checking only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec

from rigcheck import units
from rigcheck.estimate import rules
from rigcheck.estimate.types import VERDICTS

if TYPE_CHECKING:
    from rigcheck.catalog.records import HostedOffer
    from rigcheck.desktop.models.rows import ModelRow
    from rigcheck.estimate.types import Band

(MODEL, PARAMS, QUANT, VERDICT, USABLE, MEMORY, CONTEXT, PREFILL, DECODE, TTFT, CAPABILITY, HOSTED) = range(12)
COLUMN_COUNT = 12
HEADERS = {
    MODEL: "Model",
    PARAMS: "Params",
    QUANT: "Pick",
    VERDICT: "Runs on",
    USABLE: "Usable",
    MEMORY: "Memory",
    CONTEXT: "Max context",
    PREFILL: "Prefill tok/s",
    DECODE: "Decode tok/s",
    TTFT: "TTFT",
    CAPABILITY: "Capability",
    HOSTED: "Hosted $/M blended",
}
HEADER_TIPS = {
    MODEL: "Model name; the tooltip has the Hugging Face id, license and every published score",
    PARAMS: "Parameters in billions: total / active per token (mixture-of-experts)",
    QUANT: "The quant to run on this machine (the pick) and its quality tier: " + rules.describe_pick(),
    VERDICT: "Where it runs: in VRAM, unified memory, split GPU + RAM, CPU only, or not at all",
    USABLE: "Usable: decode and time to first token within the thresholds in Settings",
    MEMORY: "Memory needed by the quant shown: weights + KV cache + runtime overhead",
    CONTEXT: "The longest context that still fits with this placement",
    PREFILL: "Prompt processing speed (expected; the band is in the tooltip)",
    DECODE: "Generation speed at batch 1, at the prompt depth (expected; band in the tooltip)",
    TTFT: "Time to first token for the chosen prompt length",
    CAPABILITY: rules.describe_capability()[0].upper() + rules.describe_capability()[1:],
    HOSTED: "Cheapest hosted API price per million tokens, blended (3 input tokens per output token unless set "
            "otherwise in Settings), with the input and output prices it blends",
}
NUMERIC_COLUMNS = frozenset({PARAMS, MEMORY, CONTEXT, PREFILL, DECODE, TTFT, CAPABILITY, HOSTED})
"""Columns of figures: right-aligned so their digits line up."""

_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
_NO_ESTIMATE = "No estimate: the catalog lacks the facts this model needs"

SortValue = str | float | int | tuple | None
"""A raw value to sort a column on (text casefolded, bytes, tokens/s, seconds, a verdict rank, the rules' rank);
None is unknown."""


class TableRow(msgspec.Struct, frozen=True):
    """Everything the model table shows and filters on for one model, with no catalog records behind it."""

    model_id: str
    display: tuple[str, ...]
    """The text of each of the 12 cells, by column."""
    sort: tuple[SortValue, ...]
    """The raw value each column sorts on."""
    tooltip: tuple[str | None, ...]
    """Plain-text tooltip of each cell (the table model escapes it for Qt when asked)."""
    verdict: str | None
    """The shown estimate's verdict (the verdict filter and icon), None without an estimate."""
    search_text: str
    """Id, name, family and aliases, casefolded: what the search box matches every word against."""
    use_cases: tuple[str, ...] = ()
    license: str | None = None
    fit_context: int | None = None
    """The longest context that fits when the shown estimate fits, else None (the minimum-context filter)."""
    usable: bool = False
    """The model runs usably here (its pick is the row shown): the "usable only" filter and the picks strip."""
    capability: float | None = None
    hint: str | None = None
    """On a Mac: the sysctl that would put a better quant on the GPU, in a sentence."""
    hint_limit_mb: int | None = None
    marks: tuple[str, ...] = ()
    """The marks its speed figures carry (``units.measured_mark``: measured, corrected by the user's runs); the
    page's legend names those shown."""


def table_row(row: ModelRow) -> TableRow:
    """The cells of one model's row."""
    m = row.model
    e = row.shown
    offer = row.cheapest_offer  # once per row: it filters and ranks the offers
    return TableRow(
        model_id=m.id,
        display=_display(row, offer),
        sort=_sort(row, offer),
        tooltip=_tooltips(row, offer),
        verdict=e.verdict if e is not None else None,
        search_text=" ".join([m.id, m.name or "", m.family, *m.aliases]).casefold(),
        use_cases=tuple(m.use_cases),
        license=m.license,
        fit_context=e.max_context_tokens if e is not None and e.fits else None,
        usable=row.usable,
        capability=row.capability.value if row.capability else None,
        hint=row.hint.text if row.hint else None,
        hint_limit_mb=row.hint.limit_mb if row.hint else None,
        marks=tuple(sorted({mark for kind in ("decode", "prefill")
                            if e is not None and (mark := units.measured_mark(e.extra, kind))})),
    )


def table_rows(rows: Iterable[ModelRow]) -> list[TableRow]:
    """The cells of every row, in order."""
    return [table_row(r) for r in rows]


def _expected(band: Band | None) -> float | None:
    return band.expected if band is not None else None


def _hosted_text(row: ModelRow, offer: HostedOffer | None) -> str:
    if offer is None:
        return units.DASH
    return units.price_triple_text(row.blended(offer), offer.usd_per_m_input, offer.usd_per_m_output)


def _usable_text(row: ModelRow) -> str:
    e = row.shown
    if e is None:
        return units.DASH
    return "Yes" if row.usable else "No"


def _display(row: ModelRow, offer: HostedOffer | None) -> tuple[str, ...]:
    m = row.model
    e = row.shown
    params = units.params_text(m.params_total_b, m.params_active_b)
    capability = units.capability_text(row.capability.value if row.capability else None)
    hosted = _hosted_text(row, offer)
    if e is None:
        dash = units.DASH
        return (row.label, params, dash, dash, dash, dash, dash, dash, dash, dash, capability, hosted)
    fits = e.fits
    return (
        row.label,
        params,
        units.quant_text(e.quant, e.bits_per_weight) if fits else f"({e.quant})",
        units.verdict_text(e.verdict),
        _usable_text(row),
        units.bytes_text(e.memory.total_bytes),
        units.tokens_text(e.max_context_tokens) if fits else units.DASH,
        _marked(units.rate_text(_expected(e.prefill_tokens_per_s)), e, "prefill"),
        _marked(units.rate_text(_expected(e.decode_tokens_per_s)), e, "decode"),
        _marked(units.seconds_text(_expected(e.ttft_s)), e, "prefill"),
        capability,
        hosted,
    )


def _marked(text: str, e, kind: str) -> str:
    """A speed figure with its mark when it rests on the user's runs (``units.measured_mark``): ``"115 m"``."""
    mark = units.measured_mark(e.extra, kind) if text != units.DASH else ""
    return f"{text} {mark}" if mark else text


def _sort(row: ModelRow, offer: HostedOffer | None) -> tuple[SortValue, ...]:
    m = row.model
    e = row.shown
    label = row.label.casefold()
    hosted = row.blended(offer) if offer else None
    capability = row.capability.value if row.capability else None
    # Sorted on the rules' rank, descending: usable at 3 bits or more first, then usable only at a heavy-loss quant,
    # then by capability (unscored after, larger first).
    rank = tuple(-v for v in rules.rank_key(row.usable, capability, m.params_total_b,
                                            e.bits_per_weight if e is not None else None))
    if e is None:
        return (label, m.params_total_b, None, None, None, None, None, None, None, None, rank, hosted)
    return (
        label,
        m.params_total_b,
        e.quant.casefold(),
        _VERDICT_RANK.get(e.verdict, len(_VERDICT_RANK)),
        1 if row.usable else 0,
        e.memory.total_bytes,
        e.max_context_tokens if e.fits else None,
        _expected(e.prefill_tokens_per_s),
        _expected(e.decode_tokens_per_s),
        _expected(e.ttft_s),
        rank,
        hosted,
    )


def _tooltips(row: ModelRow, offer: HostedOffer | None) -> tuple[str | None, ...]:
    m = row.model
    e = row.shown
    lines = [m.id]
    if m.license:
        lines.append(f"License: {m.license}")
    if m.max_context_tokens:
        lines.append(f"Trained context: {units.tokens_text(m.max_context_tokens)} tokens")
    for s in row.scores:
        lines.append(f"{s.benchmark}: {s.value:g}" + (f" ({s.source})" if s.source else ""))
    model_tip = "\n".join(lines)
    capability_tip = ("No published score on " + ", ".join(rules.CAPABILITY_BENCHMARKS.values())
                      + " in the catalog" if row.capability is None else
                      f"Capability {units.capability_text(row.capability.value)}: {row.capability.basis}")
    if offer is None:
        hosted_tip = "No hosted offer in the catalog"
    else:
        hosted_tip = (f"{offer.provider}: {units.usd_text(offer.usd_per_m_input)} in / "
                      f"{units.usd_text(offer.usd_per_m_output)} out per million tokens, "
                      f"{rules.describe_blend(row.input_per_output)} = {units.usd_per_m_text(row.blended(offer))}; "
                      f"{len(row.offers)} offer(s) in the catalog")
    if e is None:
        # Every column between the model and the capability says why it is empty.
        return (model_tip, *([_NO_ESTIMATE] * (CAPABILITY - MODEL - 1)), capability_tip, hosted_tip)
    mem = e.memory
    where = [units.verdict_text(e.verdict) + (f": {e.placement}" if e.placement else ""),
             f"Weights {units.bytes_text(mem.weights_bytes)}, KV cache {units.bytes_text(mem.kv_cache_bytes)} "
             f"({units.tokens_text(e.context_tokens)} context), overhead {units.bytes_text(mem.overhead_bytes)}",
             f"On GPU {units.bytes_text(mem.gpu_bytes)}, in RAM {units.bytes_text(mem.ram_bytes)}"]
    if e.runs_now is not None:
        where.append("Fits in the memory free now" if e.runs_now else "Does not fit in the memory free now")
    if row.hint is not None:
        where.append(row.hint.text)
    where_tip = "\n".join(where)
    why = rules.why_not_usable(e, row.usable_rule)
    usable_tip = (f"Usable: {row.usable_rule.describe()}" if row.usable else
                  f"Not usable here: {why or 'no quant of it is, within the quality floor'} "
                  f"(usable = {row.usable_rule.describe()})")
    prefill_tip = units.band_text(e.prefill_tokens_per_s, unit="tok/s") + "  (expected, low–high)"
    decode_tip = units.band_text(e.decode_tokens_per_s, unit="tok/s") + "  (expected, low–high)"
    measured = e.extra.get("measured") or ()
    prefill_tip += "".join("\n" + line for line in _measured_lines(measured, "prefill"))
    decode_tip += "".join("\n" + line for line in _measured_lines(measured, "decode"))
    correction = e.extra.get("correction") or {}
    for kind, fix in correction.items():
        line = f"\nCorrected by your {fix['measurements']} measurement(s) on this machine: ×{fix['factor']:.2f}"
        if kind == "prefill":
            prefill_tip += line
        else:
            decode_tip += line
    bits = f", {e.bits_per_weight:.2f} bits per weight" if e.bits_per_weight else ""
    quant_tip = f"{units.quant_text(e.quant, e.bits_per_weight)}{bits}\n{where_tip}"  # the cell may be cut
    return (
        model_tip,
        None,
        quant_tip,
        where_tip,
        usable_tip,
        where_tip,
        None,
        prefill_tip,
        decode_tip,
        units.band_text(e.ttft_s, fmt=units.seconds_text) + "  (expected, low–high)",
        capability_tip,
        hosted_tip,
    )


def _measured_lines(measured, kind: str) -> list[str]:
    """"Measured here: 119 tok/s (llama-bench), ×1.17 of its estimate" for each run of this quant."""
    lines = []
    for m in measured:
        value = m.get(f"{kind}_tokens_per_s")
        if value is None:
            continue
        ratio = m.get(f"{kind}_ratio")
        text = f"Measured here: {units.rate_text(value)} tok/s ({m.get('engine')})"
        if ratio:
            text += f", ×{ratio:.2f} of the estimate for that run"
        lines.append(text)
    return lines
