"""The model table: one row per catalog model, behind a filter/sort proxy that sorts on raw values."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from rigcheck.catalog.estimate.types import VERDICTS
from rigcheck.desktop import units
from rigcheck.desktop.models import format as fmt
from rigcheck.desktop.models.rows import SCORE_COLUMNS, ModelRow

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""Raw value of a cell (bytes, tokens/s, seconds, a verdict rank) for sorting."""
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
"""The whole ModelRow, for filters and the detail pane."""

(MODEL, PARAMS, QUANT, VERDICT, MEMORY, CONTEXT, PREFILL, DECODE, TTFT, SCORE_SWE, SCORE_AIDER, HOSTED) = range(12)
HEADERS = {
    MODEL: "Model",
    PARAMS: "Params",
    QUANT: "Best quant",
    VERDICT: "Verdict",
    MEMORY: "Memory",
    CONTEXT: "Max context",
    PREFILL: "Prefill tok/s",
    DECODE: "Decode tok/s",
    TTFT: "TTFT",
    SCORE_SWE: SCORE_COLUMNS[0][1],
    SCORE_AIDER: SCORE_COLUMNS[1][1],
    HOSTED: "Hosted $/M out",
}
HEADER_TIPS = {
    MODEL: "Model name; the tooltip has the Hugging Face id, license and every published score",
    PARAMS: "Parameters in billions: total / active per token (mixture-of-experts)",
    QUANT: "The best quantization that fits this machine with the current settings",
    VERDICT: "Where it runs: in VRAM, unified memory, split GPU + RAM, CPU only, or not at all",
    MEMORY: "Memory needed by the quant shown: weights + KV cache + runtime overhead",
    CONTEXT: "The longest context that still fits with this placement",
    PREFILL: "Prompt processing speed (expected; the band is in the tooltip)",
    DECODE: "Generation speed at batch 1, at the prompt depth (expected; band in the tooltip)",
    TTFT: "Time to first token for the chosen prompt length",
    SCORE_SWE: "SWE-bench Verified, % resolved (best published entry)",
    SCORE_AIDER: "Aider polyglot, % passed (best published entry)",
    HOSTED: "Cheapest hosted API price per million output tokens",
}
_NUMERIC = {PARAMS, MEMORY, CONTEXT, PREFILL, DECODE, TTFT, SCORE_SWE, SCORE_AIDER, HOSTED}
_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)
_ANSWERED = frozenset({_DISPLAY, _TOOLTIP, _DECORATION, _ALIGNMENT, _ACCESSIBLE_TEXT, int(SORT_ROLE), int(ROW_ROLE)})
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _expected(band) -> float | None:
    return band.expected if band is not None else None


class ModelTableModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[ModelRow] = []
        self.prompt_tokens: int | None = None
        self._sort_keys: dict[int, list] = {}
        """Sort values per column, computed on the first sort by that column: the proxy's comparisons then
        cost a list lookup instead of two data() calls through Qt each (a few hundred per sort)."""

    def set_prompt_tokens(self, tokens: int) -> None:
        """The prompt length the TTFT column is for; its header says so."""
        if tokens != self.prompt_tokens:
            self.prompt_tokens = tokens
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, TTFT, TTFT)

    def set_rows(self, rows: list[ModelRow]) -> None:
        """Replace the rows. When the same models come back (a re-evaluation), the cells are updated in place
        (dataChanged), so the view keeps its scroll position and selection; otherwise the model resets."""
        rows = list(rows)
        if rows and [r.model.id for r in rows] == [r.model.id for r in self._rows]:
            self._rows = rows
            self._sort_keys = {}
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(HEADERS) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self._sort_keys = {}
        self.endResetModel()

    def rows(self) -> list[ModelRow]:
        return list(self._rows)

    def sample_rows(self, n: int) -> list[ModelRow]:
        """The first ``n`` rows (column widths are fitted to a sample)."""
        return self._rows[:n]

    def display_text(self, row: ModelRow, col: int) -> str:
        """What the cell shows (DisplayRole), without going through a QModelIndex."""
        return self._display(row, col) or ""

    def row_at(self, row: int) -> ModelRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def sort_value(self, row: int, col: int):
        """What ``data(index, SORT_ROLE)`` answers, from the per-column cache."""
        keys = self._sort_keys.get(col)
        if keys is None:
            keys = self._sort_keys[col] = [self._sort_value(r, col) for r in self._rows]
        return keys[row]

    def row_for(self, model_id: str) -> int | None:
        for i, r in enumerate(self._rows):
            if r.model.id == model_id:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == TTFT and self.prompt_tokens:
                return f"TTFT @{units.tokens_text(self.prompt_tokens)}"
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[section]  # our own text
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        # Called for every visible cell and role on each paint: roles are compared as plain ints, and the roles
        # this model never answers (font, colours, check state, size hint...) return before touching the row.
        if role not in _ANSWERED or not index.isValid():
            return None
        r = index.row()
        if not 0 <= r < len(self._rows):
            return None
        row = self._rows[r]
        col = index.column()
        if role == _DISPLAY:
            return self._display(row, col)
        if role == SORT_ROLE:
            return self._sort_value(row, col)
        if role == ROW_ROLE:
            return row
        if role == _TOOLTIP:
            return fmt.tooltip(self._tooltip(row, col))
        if role == _DECORATION:
            if col == VERDICT and row.shown is not None:
                from rigcheck.desktop.widgets.verdict import verdict_icon

                return verdict_icon(row.verdict)
            return None
        if role == _ALIGNMENT:
            return _RIGHT_ALIGNED if col in _NUMERIC else None
        if role == _ACCESSIBLE_TEXT and col == VERDICT:
            return units.verdict_text(row.verdict)
        return None

    # presentation ----------------------------------------------------------------------------------
    def _display(self, row: ModelRow, col: int) -> str:
        e = row.shown
        m = row.model
        if col == MODEL:
            return row.label
        if col == PARAMS:
            return units.params_text(m.params_total_b, m.params_active_b)
        if col == SCORE_SWE:
            v = row.best_scores.get(SCORE_COLUMNS[0][0])
            return units.DASH if v is None else f"{v:.1f}"
        if col == SCORE_AIDER:
            v = row.best_scores.get(SCORE_COLUMNS[1][0])
            return units.DASH if v is None else f"{v:.1f}"
        if col == HOSTED:
            o = row.cheapest_offer
            return units.usd_text(o.usd_per_m_output) if o else units.DASH
        if e is None:
            return units.DASH
        fits = e.fits
        if col == QUANT:
            return e.quant if fits else f"({e.quant})"
        if col == VERDICT:
            return units.verdict_text(e.verdict)
        if col == MEMORY:
            return units.bytes_text(e.memory.total_bytes)
        if col == CONTEXT:
            return units.tokens_text(e.max_context_tokens) if fits else units.DASH
        if col == PREFILL:
            return units.rate_text(_expected(e.prefill_tokens_per_s))
        if col == DECODE:
            return units.rate_text(_expected(e.decode_tokens_per_s))
        if col == TTFT:
            return units.seconds_text(_expected(e.ttft_s))
        return ""

    def _sort_value(self, row: ModelRow, col: int):
        e = row.shown
        m = row.model
        if col == MODEL:
            return row.label.casefold()
        if col == PARAMS:
            return m.params_total_b
        if col == SCORE_SWE:
            return row.best_scores.get(SCORE_COLUMNS[0][0])
        if col == SCORE_AIDER:
            return row.best_scores.get(SCORE_COLUMNS[1][0])
        if col == HOSTED:
            o = row.cheapest_offer
            return o.usd_per_m_output if o else None
        if e is None:
            return None
        if col == QUANT:
            return e.quant.casefold()
        if col == VERDICT:
            return _VERDICT_RANK.get(e.verdict, len(_VERDICT_RANK))
        if col == MEMORY:
            return e.memory.total_bytes
        if col == CONTEXT:
            return e.max_context_tokens if e.fits else None
        if col == PREFILL:
            return _expected(e.prefill_tokens_per_s)
        if col == DECODE:
            return _expected(e.decode_tokens_per_s)
        if col == TTFT:
            return _expected(e.ttft_s)
        return None

    def _tooltip(self, row: ModelRow, col: int) -> str | None:
        e = row.shown
        m = row.model
        if col == MODEL:
            lines = [m.id]
            if m.license:
                lines.append(f"License: {m.license}")
            if m.max_context_tokens:
                lines.append(f"Trained context: {units.tokens_text(m.max_context_tokens)} tokens")
            for s in row.scores:
                lines.append(f"{s.benchmark}: {s.value:g}" + (f" ({s.source})" if s.source else ""))
            return "\n".join(lines)
        if col == HOSTED:
            o = row.cheapest_offer
            if o is None:
                return "No hosted offer in the catalog"
            return (f"{o.provider}: {units.usd_text(o.usd_per_m_input)} in / {units.usd_text(o.usd_per_m_output)} out "
                    f"per million tokens; {len(row.offers)} offer(s) in the catalog")
        if e is None:
            return "No estimate: the catalog lacks the facts this model needs"
        if col in (VERDICT, QUANT, MEMORY):
            mem = e.memory
            lines = [units.verdict_text(e.verdict) + (f": {e.placement}" if e.placement else ""),
                     f"Weights {units.bytes_text(mem.weights_bytes)}, KV cache {units.bytes_text(mem.kv_cache_bytes)} "
                     f"({units.tokens_text(e.context_tokens)} context), overhead {units.bytes_text(mem.overhead_bytes)}",
                     f"On GPU {units.bytes_text(mem.gpu_bytes)}, in RAM {units.bytes_text(mem.ram_bytes)}"]
            if e.runs_now is not None:
                lines.append("Fits in the memory free now" if e.runs_now else "Does not fit in the memory free now")
            return "\n".join(lines)
        if col == PREFILL:
            return units.band_text(e.prefill_tokens_per_s, unit="tok/s") + "  (expected, low–high)"
        if col == DECODE:
            return units.band_text(e.decode_tokens_per_s, unit="tok/s") + "  (expected, low–high)"
        if col == TTFT:
            return units.band_text(e.ttft_s, fmt=units.seconds_text) + "  (expected, low–high)"
        return None


VERDICT_FILTERS: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("all", "All models", None),
    ("runs", "Runs at all", frozenset({"gpu", "unified", "gpu+ram", "cpu"})),
    ("gpu", "Fits in GPU memory", frozenset({"gpu", "unified"})),
    ("gpu+ram", "Needs RAM (GPU + RAM or CPU)", frozenset({"gpu+ram", "cpu"})),
    ("no_fit", "Does not fit", frozenset({"no_fit"})),
)


class ModelFilterProxy(QSortFilterProxyModel):
    """Filters rows by search text, verdict group, use case, license and minimum context; sorts on SORT_ROLE."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._search = ""
        self._verdicts: frozenset[str] | None = None
        self._use_case: str | None = None
        self._license: str | None = None
        self._min_context = 0
        self._descending = False
        """The sort order as a plain bool: asking Qt for sortOrder() converts an enum on every comparison."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._descending = order == Qt.SortOrder.DescendingOrder
        super().sort(column, order)

    def _refilter(self, **changes) -> None:
        """Apply filter changes the way this Qt wants (begin/endFilterChange from 6.10; invalidateFilter before)."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            for name, value in changes.items():
                setattr(self, name, value)
            self.endFilterChange()
        else:  # pragma: no cover - Qt < 6.10
            for name, value in changes.items():
                setattr(self, name, value)
            self.invalidateFilter()

    def set_search(self, text: str) -> None:
        self._refilter(_search=text.strip().casefold())

    def set_verdict_filter(self, key: str) -> None:
        for k, _label, verdicts in VERDICT_FILTERS:
            if k == key:
                self._refilter(_verdicts=verdicts)
                return
        raise ValueError(f"unknown verdict filter {key!r}")

    def set_use_case(self, use_case: str | None) -> None:
        self._refilter(_use_case=use_case or None)

    def set_license(self, license_name: str | None) -> None:
        self._refilter(_license=license_name or None)

    def set_min_context(self, tokens: int) -> None:
        self._refilter(_min_context=max(0, int(tokens)))

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        source = self.sourceModel()
        if isinstance(source, ModelTableModel):
            row: ModelRow | None = source.row_at(source_row)
        else:
            row = source.index(source_row, 0, source_parent).data(ROW_ROLE)
        if row is None:
            return False
        m = row.model
        if self._search:
            hay = " ".join([m.id, m.name or "", m.family, *m.aliases]).casefold()
            if not all(word in hay for word in self._search.split()):
                return False
        if self._verdicts is not None and (row.verdict is None or row.verdict not in self._verdicts):
            return False
        if self._use_case and self._use_case not in m.use_cases:
            return False
        if self._license and (m.license or "") != self._license:
            return False
        if self._min_context:
            ctx = row.shown.max_context_tokens if row.fits else None
            if ctx is None or ctx < self._min_context:
                return False
        return True

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        source = self.sourceModel()
        if isinstance(source, ModelTableModel):
            a = source.sort_value(left.row(), left.column())
            b = source.sort_value(right.row(), right.column())
        else:
            a = left.data(SORT_ROLE)
            b = right.data(SORT_ROLE)
        # Unknown values ("—") sort after the known ones in either order, so they never hide real figures.
        if a is None or b is None:
            if self._descending:
                return a is None and b is not None
            return a is not None and b is None
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)
