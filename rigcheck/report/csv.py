"""The fit table as CSV: one row per machine x model x quant, base units, for spreadsheets and scripts.

A text cell that a spreadsheet would evaluate (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return, as a model name from a feed might) is written with a leading apostrophe, so it stays text.
"""

from __future__ import annotations

import csv as _csv
import io

from rigcheck.estimate.types import Band
from rigcheck.report.records import FitRow, ReportData

COLUMNS = (
    "machine",
    "model_id",
    "model_name",
    "params_total_b",
    "params_active_b",
    "quant",
    "runtime",
    "best",
    "verdict",
    "runs_now",
    "weights_bytes",
    "kv_cache_bytes",
    "overhead_bytes",
    "total_bytes",
    "gpu_bytes",
    "ram_bytes",
    "context_tokens",
    "max_context_tokens",
    "prefill_tokens_per_s_low",
    "prefill_tokens_per_s",
    "prefill_tokens_per_s_high",
    "decode_tokens_per_s_low",
    "decode_tokens_per_s",
    "decode_tokens_per_s_high",
    "ttft_s_low",
    "ttft_s",
    "ttft_s_high",
    "usable",
    "capability",
    "capability_basis",
    "hosted_provider",
    "hosted_usd_per_m_input",
    "hosted_usd_per_m_output",
    "hosted_usd_per_m_blended",
    "placement",
)


def rows(report: ReportData) -> list[dict[str, object]]:
    """The CSV rows as dicts (None for empty cells), machines in order, models in the rules' order, quants by size."""
    out: list[dict[str, object]] = []
    for mr in report.machines:
        order = {r.model_id: i for i, r in enumerate(mr.model_rows)}
        ranked = sorted(mr.rows, key=lambda r: (order.get(r.model_id, 1 << 30), -r.estimate.memory.weights_bytes))
        out.extend(_row(mr.machine.label, r) for r in ranked)
    return out


def render(report: ReportData) -> str:
    buffer = io.StringIO()
    writer = _csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows(report):
        writer.writerow({k: "" if v is None else _cell(v) for k, v in row.items()})
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        # A spreadsheet evaluates a cell that starts like a formula (=HYPERLINK(...), +cmd|...): a leading
        # apostrophe makes it text (OWASP's advice for CSV injection); numbers are written as numbers above.
        return "'" + value
    return value


def _band(prefix: str, band: Band | None) -> dict[str, object]:
    if band is None:
        return {f"{prefix}_low": None, prefix: None, f"{prefix}_high": None}
    return {f"{prefix}_low": band.low, prefix: band.expected, f"{prefix}_high": band.high}


def _row(machine: str, r: FitRow) -> dict[str, object]:
    e, m = r.estimate, r.estimate.memory
    h = r.cheapest_hosted
    return {
        "machine": machine,
        "model_id": r.model_id,
        "model_name": r.model_name,
        "params_total_b": r.params_total_b,
        "params_active_b": r.params_active_b,
        "quant": e.quant,
        "runtime": e.runtime,
        "best": e.best,
        "verdict": e.verdict,
        "runs_now": e.runs_now,
        "weights_bytes": m.weights_bytes,
        "kv_cache_bytes": m.kv_cache_bytes,
        "overhead_bytes": m.overhead_bytes,
        "total_bytes": m.total_bytes,
        "gpu_bytes": m.gpu_bytes,
        "ram_bytes": m.ram_bytes,
        "context_tokens": e.context_tokens,
        "max_context_tokens": e.max_context_tokens,
        **_band("prefill_tokens_per_s", e.prefill_tokens_per_s),
        **_band("decode_tokens_per_s", e.decode_tokens_per_s),
        **_band("ttft_s", e.ttft_s),
        "usable": e.usable,
        "capability": r.capability.value if r.capability else None,
        "capability_basis": r.capability.basis if r.capability else None,
        "hosted_provider": h.provider if h else None,
        "hosted_usd_per_m_input": h.usd_per_m_input if h else None,
        "hosted_usd_per_m_output": h.usd_per_m_output if h else None,
        "hosted_usd_per_m_blended": h.usd_per_m_blended if h else None,
        "placement": e.placement or None,
    }
