"""Item models of the detail pane: every quant of one model, the hosted offers for it, and the cost doors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from rigcheck import units
from rigcheck.desktop.models import format as fmt
from rigcheck.desktop.models.model_table import SORT_ROLE
from rigcheck.estimate.types import VERDICTS, Estimate

if TYPE_CHECKING:
    from rigcheck.catalog.records import HostedOffer
    from rigcheck.desktop.serving_bridge import DoorRow

_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ANSWERED = frozenset({_DISPLAY, _TOOLTIP, _ALIGNMENT, _DECORATION, _FONT, int(SORT_ROLE)})
"""The roles these tables answer. The views ask every cell for a dozen roles on each paint and each column
fit (the columns fit their contents); the others return before any work."""
_BOLD = None


class _ListTable(QAbstractTableModel):
    """A read-only table of records; subclasses give headers and per-cell (text, raw value, tooltip)."""

    headers: tuple[str, ...] = ()
    numeric: frozenset[int] = frozenset()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._items: list = []

    def set_rows(self, items) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def item(self, row: int):
        return self._items[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.headers)

    header_tips: dict[int, str] = {}
    """Tooltips of headers shortened to keep the table narrow."""

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.headers):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.headers[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.header_tips.get(section)
        return None

    def data(self, index, role=_DISPLAY) -> Any:
        role = int(role)
        if role not in _ANSWERED or not index.isValid():
            return None
        r = index.row()
        if not 0 <= r < len(self._items):
            return None
        item = self._items[r]
        col = index.column()
        if role == _DISPLAY:
            return self.cell(item, col)[0]
        if role == SORT_ROLE:
            return self.cell(item, col)[1]
        if role == _TOOLTIP:
            return fmt.tooltip(self.cell(item, col)[2])
        if role == _ALIGNMENT:
            return _RIGHT if col in self.numeric else None
        return self.extra(item, col, role)

    def cell(self, item, col: int) -> tuple[str, Any, str | None]:
        raise NotImplementedError

    def extra(self, item, col: int, role: int) -> Any:
        return None


class QuantTableModel(_ListTable):
    """Every quant of the selected model, with its verdict, memory and speeds."""

    headers = ("Quant", "Runtime", "Verdict", "Memory", "Max ctx", "Prefill tok/s", "Decode tok/s", "TTFT",
               "Usable")
    header_tips = {4: "Max context: the longest context that fits with this quant"}
    numeric = frozenset({3, 4, 5, 6, 7})

    def cell(self, e: Estimate, col: int):
        if col == 0:
            pick = e.best and e.usable
            mark = "  ★" if pick else "  ☆" if e.best else ""
            tip = ("This machine's pick (★)" if pick else
                   "The quant closest to usable (☆); none is usable here" if e.best else None)
            return e.quant + mark, e.quant, tip
        if col == 8:
            return ("Yes" if e.usable else "No") if e.fits else units.DASH, 1 if e.usable else 0, None
        if col == 1:
            return e.runtime, e.runtime, None
        if col == 2:
            return units.verdict_text(e.verdict), _VERDICT_RANK.get(e.verdict, 99), e.placement or None
        if col == 3:
            m = e.memory
            tip = (f"weights {units.bytes_text(m.weights_bytes)} + KV {units.bytes_text(m.kv_cache_bytes)} + overhead "
                   f"{units.bytes_text(m.overhead_bytes)}; GPU {units.bytes_text(m.gpu_bytes)}, RAM {units.bytes_text(m.ram_bytes)}")
            return units.bytes_text(m.total_bytes), m.total_bytes, tip
        if col == 4:
            return units.tokens_text(e.max_context_tokens), e.max_context_tokens, None
        if col == 5:
            b = e.prefill_tokens_per_s
            return units.band_text(b), b.expected if b else None, None
        if col == 6:
            b = e.decode_tokens_per_s
            return units.band_text(b), b.expected if b else None, None
        if col == 7:
            b = e.ttft_s
            return units.band_text(b, fmt=units.seconds_text), b.expected if b else None, None
        return "", None, None

    def extra(self, e: Estimate, col: int, role: int):
        if role == _DECORATION and col == 2:
            from rigcheck.desktop.widgets.verdict import verdict_icon

            return verdict_icon(e.verdict)
        if role == _FONT and e.best:
            global _BOLD
            if _BOLD is None:
                from PySide6.QtGui import QFont

                _BOLD = QFont()
                _BOLD.setBold(True)
            return _BOLD
        return None


def residency_text(o: HostedOffer) -> tuple[str, str | None]:
    """(short text, one-sentence explanation) of where an offer keeps the data."""
    try:
        from rigcheck.catalog.hosted import explain_residency, offer_residency
    except ImportError:  # pragma: no cover - the hosted module is part of the catalog package
        level = o.residency
        explain = None
    else:
        level = offer_residency(o)
        try:
            explain = explain_residency(level)
        except ValueError:
            explain = None
    text = {"no-training": "no training on prompts", "anywhere": "anywhere", "unknown": "not stated"}.get(level, level)
    if level == "region" or (level == "no-training" and o.region):
        text = f"{text}: {o.region}" if o.region else text
    return text, explain


class OffersTableModel(_ListTable):
    """Hosted API offers for one model: the blended price (``rules.blended_usd_per_m``) beside input and output."""

    headers = ("Provider", "Blended", "Input", "Output", "Context", "Quantization", "Residency", "Seen")
    numeric = frozenset({1, 2, 3, 4})

    def __init__(self, parent=None):
        super().__init__(parent)
        self.input_per_output = 3.0

    def set_rows(self, items, input_per_output: float | None = None) -> None:
        if input_per_output is not None:
            self.input_per_output = input_per_output
        super().set_rows(items)

    def cell(self, o: HostedOffer, col: int):
        if col == 0:
            return o.provider, o.provider.casefold(), o.source
        if col == 1:
            from rigcheck.estimate.rules import describe_blend, offer_blended_usd_per_m

            blended = offer_blended_usd_per_m(o, self.input_per_output)
            return units.usd_per_m_text(blended), blended, describe_blend(self.input_per_output)
        if col == 2:
            return units.usd_per_m_text(o.usd_per_m_input), o.usd_per_m_input, None
        if col == 3:
            return units.usd_per_m_text(o.usd_per_m_output), o.usd_per_m_output, None
        if col == 4:
            return units.tokens_text(o.context_tokens), o.context_tokens, None
        if col == 5:
            return o.quantization or units.DASH, o.quantization, None
        if col == 6:
            text, tip = residency_text(o)
            return text, text, "\n".join(t for t in (tip, o.notes) if t)
        if col == 7:
            return o.date_seen or units.DASH, o.date_seen, None
        return "", None, None


class DoorsTableModel(_ListTable):
    """The three doors for the default workload: $/M output at the workload's concurrency and saturated."""

    headers = ("Door", "Workload", "Saturated")
    numeric = frozenset({1, 2})

    def cell(self, d: DoorRow, col: int):
        if col == 0:
            return d.door, d.door, "\n".join(x for x in (d.label, d.why) if x)
        if col == 1:
            text = units.usd_text(d.usd_per_m_workload) if d.usd_per_m_workload is not None else "unavailable"
            return text, d.usd_per_m_workload, d.why or None
        if col == 2:
            text = units.usd_text(d.usd_per_m_saturated) if d.usd_per_m_saturated is not None else units.DASH
            return text, d.usd_per_m_saturated, None
        return "", None, None
