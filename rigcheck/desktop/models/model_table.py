"""The model table: one row per catalog model, behind a filter/sort proxy that sorts on raw values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from rigcheck import units
from rigcheck.desktop.models import format as fmt
from rigcheck.desktop.models.cells import (  # noqa: F401 - the column constants are re-exported for the pages
    CAPABILITY,
    CONTEXT,
    DECODE,
    HEADER_TIPS,
    HEADERS,
    HOSTED,
    MEMORY,
    MODEL,
    NUMERIC_COLUMNS,
    PARAMS,
    PREFILL,
    QUANT,
    TTFT,
    USABLE,
    VERDICT,
    TableRow,
    table_row,
    table_rows,
)

if TYPE_CHECKING:  # the records (msgspec) load with the first catalog, not with the window
    from rigcheck.desktop.models.rows import ModelRow

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""Raw value of a cell (bytes, tokens/s, seconds, a verdict rank) for sorting."""
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
"""The whole ModelRow, for filters and the detail pane; None while the table shows precomputed cells only."""

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)
_SORT = int(SORT_ROLE)
_ROW = int(ROW_ROLE)
_ANSWERED = frozenset({_DISPLAY, _TOOLTIP, _DECORATION, _ALIGNMENT, _ACCESSIBLE_TEXT, _SORT, _ROW})
_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class ModelTableModel(QAbstractTableModel):
    """One row per model, served from precomputed cells (:class:`TableRow`).

    The cells come either with their ModelRows (``set_rows``) or alone (``set_cells``: a first look computed
    elsewhere before the catalog is loaded here); the ModelRows that follow for the same models then fill in
    the rows in place, so the selection and scroll position survive.

    The model keeps its rows in the sort order (``sort``); the proxy above it only filters."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._given_rows: list[ModelRow] = []
        """In the order given; empty while only cells are shown."""
        self._given_cells: list[TableRow] = []
        self._rows: list[ModelRow] = []
        """In the sort order, as the rows are shown (so are ``_cells``)."""
        self._cells: list[TableRow] = []
        self._sort: tuple[int, bool] | None = None
        """(column, descending) the rows are kept in; None: as given."""
        self.prompt_tokens: int | None = None
        self._installed: dict[str, tuple[str, ...]] = {}
        """Model id -> how each installed file of it is named (Ollama tag, file name): the rows marked installed."""

    def set_installed(self, installed: dict[str, tuple[str, ...]]) -> None:
        """Mark the models installed on this machine (their Model cell gets an icon and a tooltip line)."""
        self._installed = dict(installed)
        if self._cells:
            self.dataChanged.emit(self.index(0, MODEL), self.index(len(self._cells) - 1, MODEL))

    def is_installed(self, model_id: str) -> bool:
        return model_id in self._installed

    def set_prompt_tokens(self, tokens: int) -> None:
        """The prompt length the TTFT column is for; its header says so."""
        if tokens != self.prompt_tokens:
            self.prompt_tokens = tokens
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, TTFT, TTFT)

    def set_rows(self, rows: list[ModelRow], cells: list[TableRow] | None = None) -> None:
        """Replace the rows (and their cells). When the same models come back (a re-evaluation, or the rows behind
        a first look), the cells are updated in place (dataChanged), so the view keeps its scroll position and
        selection; otherwise the model resets.

        ``cells`` are the rows' ``table_rows`` when a worker thread has computed them already (a few ms for a
        hundred models, otherwise spent here on the GUI thread). Raises ValueError when they are not the rows'."""
        rows = list(rows)
        if cells is None:
            cells = table_rows(rows)
        elif [c.model_id for c in cells] != [r.model.id for r in rows]:
            raise ValueError("the cells are not for these rows")
        self._replace(rows, list(cells))

    def set_cells(self, cells: list[TableRow]) -> None:
        """Show precomputed cells with no ModelRows behind them: ``rows()`` is then empty and ROW_ROLE None."""
        self._replace([], list(cells))

    def _replace(self, rows: list[ModelRow], cells: list[TableRow]) -> None:
        same_models = bool(cells) and [c.model_id for c in cells] == [c.model_id for c in self._given_cells]
        self._given_rows, self._given_cells = rows, cells
        if same_models:  # new figures for the same models: moved to their sorted places, then repainted
            self._reorder()
            self.dataChanged.emit(self.index(0, 0), self.index(len(cells) - 1, len(HEADERS) - 1))
            return
        self.beginResetModel()
        self._rows, self._cells = self._in_order()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Keep the rows sorted by ``column``: one Python sort on the cells' raw values, instead of the proxy's
        sort (several hundred lessThan calls through Qt, at start-up and after every re-evaluation). Unknown
        values ("—") go last in either order, so they never hide real figures; ties keep the given order."""
        self._sort = (column, order == Qt.SortOrder.DescendingOrder) if 0 <= column < len(HEADERS) else None
        self._reorder()

    def _in_order(self) -> tuple[list[ModelRow], list[TableRow]]:
        """The given rows and cells in the sort order."""
        cells = self._given_cells
        order = list(range(len(cells)))
        if self._sort is not None:
            col, descending = self._sort
            known = [i for i in order if cells[i].sort[col] is not None]
            unknown = [i for i in order if cells[i].sort[col] is None]
            try:
                known.sort(key=lambda i: cells[i].sort[col], reverse=descending)  # stable, reversed too
            except TypeError:  # mixed kinds in one column: compare as text, as the proxy did
                known.sort(key=lambda i: str(cells[i].sort[col]), reverse=descending)
            order = known + unknown
        rows = [self._given_rows[i] for i in order] if self._given_rows else []
        return rows, [cells[i] for i in order]

    def _reorder(self) -> None:
        """Put the rows in the sort order, moving persistent indexes (selection, current row) with their model."""
        rows, cells = self._in_order()
        if [c.model_id for c in cells] == [c.model_id for c in self._cells]:
            self._rows, self._cells = rows, cells
            return
        self.layoutAboutToBeChanged.emit()
        old_ids = [c.model_id for c in self._cells]
        new_row = {c.model_id: i for i, c in enumerate(cells)}
        self._rows, self._cells = rows, cells
        before = self.persistentIndexList()
        after = [self.index(new_row[old_ids[i.row()]], i.column()) if 0 <= i.row() < len(old_ids)
                 and old_ids[i.row()] in new_row else QModelIndex() for i in before]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def has_rows(self) -> bool:
        """Whether ModelRows are behind the cells (False while a first look is shown)."""
        return bool(self._rows)

    def rows(self) -> list[ModelRow]:
        """The ModelRows in the order they were given."""
        return list(self._given_rows)

    def cells(self) -> list[TableRow]:
        """The cells in the order they were given."""
        return list(self._given_cells)

    def row_at(self, row: int) -> ModelRow | None:
        """The ModelRow at ``row``; None out of range or while only cells are shown."""
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def cell_at(self, row: int) -> TableRow | None:
        return self._cells[row] if 0 <= row < len(self._cells) else None

    def row_for(self, model_id: str) -> int | None:
        for i, c in enumerate(self._cells):
            if c.model_id == model_id:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._cells)

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
        if not 0 <= r < len(self._cells):
            return None
        cell = self._cells[r]
        col = index.column()
        if role == _DISPLAY:
            return cell.display[col]
        if role == _SORT:
            return cell.sort[col]
        if role == _ROW:
            return self._rows[r] if self._rows else None
        if role == _TOOLTIP:
            if col == MODEL and cell.model_id in self._installed:
                names = ", ".join(self._installed[cell.model_id])
                return fmt.tooltip(f"{cell.tooltip[col]}\nInstalled on this machine: {names}")
            return fmt.tooltip(cell.tooltip[col])
        if role == _DECORATION:
            if col == MODEL and cell.model_id in self._installed:
                from rigcheck.desktop.widgets.verdict import installed_icon

                return installed_icon()
            if col == VERDICT and cell.verdict is not None:
                from rigcheck.desktop.widgets.verdict import verdict_icon

                return verdict_icon(cell.verdict)
            return None
        if role == _ALIGNMENT:
            return _RIGHT_ALIGNED if col in NUMERIC_COLUMNS else None
        if role == _ACCESSIBLE_TEXT and col == VERDICT:
            return units.verdict_text(cell.verdict)
        if role == _ACCESSIBLE_TEXT and col == USABLE:
            return "usable" if cell.usable else "not usable"
        if role == _ACCESSIBLE_TEXT and col == MODEL and cell.model_id in self._installed:
            return f"{cell.display[col]}, installed"
        return None


VERDICT_FILTERS: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("all", "All models", None),
    ("runs", "Runs at all", frozenset({"gpu", "unified", "gpu+ram", "cpu"})),
    ("gpu", "Fits in GPU memory", frozenset({"gpu", "unified"})),
    ("gpu+ram", "Needs RAM (GPU + RAM or CPU)", frozenset({"gpu+ram", "cpu"})),
    ("no_fit", "Does not fit", frozenset({"no_fit"})),
)


class ModelFilterProxy(QSortFilterProxyModel):
    """Filters rows by search text, verdict group, use case, license, minimum context and "usable only"; sorts on
    SORT_ROLE."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._search = ""
        self._verdicts: frozenset[str] | None = None
        self._use_case: str | None = None
        self._license: str | None = None
        self._min_context = 0
        self._usable_only = False
        self._installed_only: frozenset[str] | None = None
        self._descending = False
        """The sort order as a plain bool: asking Qt for sortOrder() converts an enum on every comparison."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._descending = order == Qt.SortOrder.DescendingOrder
        source = self.sourceModel()
        if isinstance(source, ModelTableModel):
            source.sort(column, order)  # the source keeps its rows sorted; this proxy only filters
            return
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

    def set_usable_only(self, on: bool) -> None:
        self._refilter(_usable_only=bool(on))
    def set_installed_only(self, model_ids: frozenset[str] | None) -> None:
        """Only these models (the ones installed on this machine), or every model for None."""
        self._refilter(_installed_only=model_ids)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        source = self.sourceModel()
        if isinstance(source, ModelTableModel):
            cell = source.cell_at(source_row)
        else:  # another model serving ModelRows: compute the cells (slow, but only for such a source)
            row = source.index(source_row, 0, source_parent).data(ROW_ROLE)
            cell = table_row(row) if row is not None else None
        if cell is None:
            return False
        if self._search and not all(word in cell.search_text for word in self._search.split()):
            return False
        if self._verdicts is not None and (cell.verdict is None or cell.verdict not in self._verdicts):
            return False
        if self._use_case and self._use_case not in cell.use_cases:
            return False
        if self._license and (cell.license or "") != self._license:
            return False
        if self._min_context and (cell.fit_context is None or cell.fit_context < self._min_context):
            return False
        if self._usable_only and not cell.usable:
            return False
        if self._installed_only is not None and cell.model_id not in self._installed_only:
            return False
        return True

    def lessThan(self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        # Only for a source other than ModelTableModel, which keeps its rows sorted itself (see sort()).
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
