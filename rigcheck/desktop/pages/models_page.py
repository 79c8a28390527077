"""The model list page: filter bar over the sortable model table, sorted by default as the rules rank models
(usable first, a heavy-loss pick after the rest, then by capability)."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from rigcheck import units
from rigcheck.desktop.models.cells import TableRow
from rigcheck.desktop.models.model_table import (
    CAPABILITY,
    HOSTED,
    MODEL,
    QUANT,
    ROW_ROLE,
    VERDICT,
    VERDICT_FILTERS,
    ModelFilterProxy,
    ModelTableModel,
)

if TYPE_CHECKING:
    from rigcheck.desktop.models.rows import ModelRow

MIN_CONTEXT_CHOICES = (0, 8192, 32768, 131072, 262144, 1048576)
MODEL_MIN_PX = 200
"""The model column keeps this much before other columns shrink: a model's name is what a row is read by."""
MEASURED_TEXTS = 6
"""Per column, how many of its longest texts (in characters) are measured in pixels to size it."""
SHRINKABLE = {QUANT: 110, HOSTED: 120}
"""Columns cut (their text elided, the whole of it in the tooltip) when the table is narrower than its columns,
down to these widths: the quant's tier words and the input/output prices beside the blend."""


def shrink_to_fit(natural: dict[int, int], available_px: int, header_px: dict[int, int] | None = None) -> dict[int, int]:
    """Column widths for a table ``available_px`` wide: ``natural`` (column -> width its contents need, without
    the model column) unless that leaves the model column less than ``MODEL_MIN_PX``; then the ``SHRINKABLE``
    columns give up the difference in proportion to what they can spare, never below their floors nor their
    header's width (``header_px``: a header is never cut)."""
    header_px = header_px or {}
    excess = sum(natural.values()) + MODEL_MIN_PX - available_px
    spare = {col: max(0, natural[col] - max(floor, header_px.get(col, 0)))
             for col, floor in SHRINKABLE.items() if col in natural}
    total_spare = sum(spare.values())
    if excess <= 0 or not total_spare:
        return dict(natural)
    cut = min(excess, total_spare)
    widths = dict(natural)
    for col, room in spare.items():
        widths[col] = natural[col] - round(cut * room / total_spare)
    return widths


class ModelsTable(QTableView):
    """The model table. ``painted`` is emitted after each paint of its rows: ``MainWindow.after_first_paint`` waits
    for it. Each paint pays one Python call for it (microseconds beside the paint's milliseconds). An event filter
    on the viewport would cost more at start-up: PySide wraps each event a filter sees in its Python class, and
    the first one makes a class for every kind of event Qt has, 51 of them."""

    painted = Signal()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        self.painted.emit()


class ModelsPage(QWidget):
    selected = Signal(object)
    """The selected ModelRow, or None."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = ModelTableModel(self)
        self.proxy = ModelFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.columns_sized = False
        """The column widths are fitted to the rows shown (again with each new set of rows), or the user's."""
        self._natural_widths: dict[int, int] = {}
        """Per column, the width its header and its longest texts need (``_fit_columns``)."""
        self._header_widths: dict[int, int] = {}
        self._fitting = False
        """True while this page sets widths itself; a section resized otherwise is the user's doing."""
        self._user_sized = False
        """The user has dragged a column: from then on their widths stand, whatever the window's size."""

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search models (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.verdict = QComboBox()
        for key, label, _ in VERDICT_FILTERS:
            self.verdict.addItem(label, key)
        self.verdict.currentIndexChanged.connect(lambda: self.proxy.set_verdict_filter(self.verdict.currentData()))
        self.use_case = QComboBox()
        self.use_case.currentIndexChanged.connect(lambda: self.proxy.set_use_case(self.use_case.currentData()))
        self.license = QComboBox()
        self.license.currentIndexChanged.connect(lambda: self.proxy.set_license(self.license.currentData()))
        self.min_context = QComboBox()
        for n in MIN_CONTEXT_CHOICES:
            self.min_context.addItem("Any context" if n == 0 else f"≥ {units.tokens_text(n)} context", n)
        self.min_context.setToolTip("Only models whose longest context that fits here is at least this")
        self.min_context.currentIndexChanged.connect(lambda: self.proxy.set_min_context(self.min_context.currentData()))
        self.usable_only = QCheckBox("Usable only")
        self.usable_only.setToolTip("Only the models that run usably here (the thresholds are in Settings)")
        self.usable_only.toggled.connect(self.proxy.set_usable_only)
        self.installed = QCheckBox("Installed")
        self.installed.setEnabled(False)
        self.installed.setToolTip("Looking for the models already on this machine…")
        self.installed.toggled.connect(self._installed_toggled)
        self._installed_ids: frozenset[str] = frozenset()
        self.count = QLabel()
        for box in (self.verdict, self.use_case, self.license, self.min_context):
            # Never narrower than its longest item: a squeezed combo clips its text ("Any licer").
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._fill_choices()

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 2)
        for w in (self.verdict, self.use_case, self.license, self.min_context, self.usable_only, self.installed):
            bar.addWidget(w)
        bar.addWidget(self.count)

        self.table = ModelsTable()
        # A viewport made here rather than by Qt: the first viewport() call from Python (the ready check of the
        # start-up benchmark, tests) then finds its wrapper instead of having PySide load every QtWidgets
        # class, with its enums, to type a C++-made QWidget (about 15 ms).
        self.table.setViewport(QWidget())
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Models")
        self.search.setAccessibleName("Search models")
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(MODEL, QHeaderView.ResizeMode.Stretch)  # the table fills its width
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setResizeContentsPrecision(40)  # fit columns to a sample of rows: fast with hundreds of models
        header.sectionResized.connect(self._section_resized)
        # The rules' order (rules.rank_key): usable at 3 bits or more, then usable only at a heavy-loss quant, then
        # the rest; the most capable first within each.
        self.table.sortByColumn(CAPABILITY, Qt.SortOrder.DescendingOrder)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)

        # Which speed figures rest on the user's own runs ("m", "c" beside them): shown only when some do.
        self.marks_legend = QLabel()
        self.marks_legend.setTextFormat(Qt.TextFormat.PlainText)
        self.marks_legend.setWordWrap(True)
        self.marks_legend.setAccessibleName("Measured figures")
        self.marks_legend.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        layout.addWidget(self.marks_legend)

    # API ---------------------------------------------------------------------------------------------
    def set_rows(self, rows: list[ModelRow], cells: list[TableRow] | None = None) -> None:
        """Replace the rows, keeping the selected model selected when it is still there. ``cells``: the rows'
        cells when they were made already (on a worker)."""
        keep = self.selected_model_id()
        self.model.set_rows(rows, cells)
        self._fill_choices()
        if rows and not self._user_sized:  # new rows may hold longer texts (another machine, setting, catalog)
            self.columns_sized = True
            self._fit_columns()
        if keep is None or not self.select_model(keep):
            self.selected.emit(self.current_row())
        self._update_count()
        self._update_marks()

    def set_cells(self, cells: list[TableRow]) -> None:
        """Show a first look: precomputed cells with no ModelRows behind them. The filters, column widths and count
        work from the cells; a selection made now says None until ``set_rows`` brings the same models in place."""
        self.model.set_cells(cells)
        self._fill_choices()
        if cells and not self._user_sized:
            self.columns_sized = True
            self._fit_columns()
        self._update_count()
        self._update_marks()

    def set_installed(self, installed) -> None:
        """The models found on this machine (``catalog.installed`` records): marked in the table, and the
        "Installed" filter shows only them."""
        names: dict[str, list[str]] = {}
        for m in installed:
            if m.model_id:
                names.setdefault(m.model_id, []).append(m.tag or m.name)
        self._installed_ids = frozenset(names)
        self.model.set_installed({k: tuple(v) for k, v in names.items()})
        files = len(installed)
        self.installed.setText(f"Installed ({len(names)})")
        self.installed.setEnabled(True)
        self.installed.setToolTip(
            f"Only the models installed on this machine: {files} file(s) found in Ollama, LM Studio, the Hugging "
            f"Face and llama.cpp caches and your folders; {len(names)} model(s) of the catalog among them")
        if self.installed.isChecked():
            self.proxy.set_installed_only(self._installed_ids)

    def _installed_toggled(self, on: bool) -> None:
        self.proxy.set_installed_only(self._installed_ids if on else None)

    def select_model(self, model_id: str) -> bool:
        src = self.model.row_for(model_id)
        if src is None:
            return False
        idx = self.proxy.mapFromSource(self.model.index(src, 0))
        if not idx.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(idx)
        self.selected.emit(self.current_row())
        return True

    def current_row(self) -> ModelRow | None:
        idx = self.table.selectionModel().currentIndex()
        return idx.data(ROW_ROLE) if idx.isValid() else None

    def selected_model_id(self) -> str | None:
        row = self.current_row()
        return row.model.id if row else None

    def clear_selection(self) -> None:
        """No model selected (the detail pane closes)."""
        self.table.selectionModel().clear()
        self.selected.emit(None)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # internals ---------------------------------------------------------------------------------------
    def _fit_columns(self) -> None:
        """Size each column to its header and its widest texts: the ``MEASURED_TEXTS`` longest (in characters) of
        all its cells, measured in the table's font (resizeColumnsToContents asks every cell through the model:
        slow with thousands; the first rows alone missed a long pick further down, cut at any window width)."""
        metrics = self.table.fontMetrics()
        header = self.table.horizontalHeader()
        bold = header.font()
        bold.setBold(True)
        header_metrics = type(metrics)(bold)
        pad = 24
        cells = self.model.cells()
        for col in range(self.model.columnCount()):
            title = self.model.headerData(col, Qt.Orientation.Horizontal) or ""
            width = header_metrics.horizontalAdvance(title) + pad
            self._header_widths[col] = width
            texts = {cell.display[col] for cell in cells}
            # Every text as long (in characters) as the MEASURED_TEXTS-th longest: ties measured too, so the widths
            # do not depend on the set's order.
            floor = min(heapq.nlargest(MEASURED_TEXTS, map(len, texts)), default=0)
            for text in (t for t in texts if len(t) >= floor):
                width = max(width, metrics.horizontalAdvance(text) + pad + (20 if col == VERDICT else 0))
            if col == MODEL:
                width = min(max(width, 160), 320)
            self._natural_widths[col] = width
        self._apply_widths()

    def _apply_widths(self) -> None:
        """The columns at their natural widths, cut to leave the model column its minimum in the table's width;
        nothing once the user has sized a column."""
        natural = {col: w for col, w in self._natural_widths.items() if col != MODEL}
        if not natural or self._user_sized:
            return
        self._fitting = True
        try:
            for col, width in shrink_to_fit(natural, self.table.viewport().width(), self._header_widths).items():
                if self.table.columnWidth(col) != width:
                    self.table.setColumnWidth(col, width)
        finally:
            self._fitting = False

    @property
    def user_sized(self) -> bool:
        """The user has sized a column (the widths to keep across starts)."""
        return self._user_sized

    def restore_header(self, state, user_sized: bool) -> None:
        """The header as it was saved (sort order, widths); the widths stand only when the user had sized them,
        else they are fitted to the rows again."""
        self._fitting = True
        try:
            self.table.horizontalHeader().restoreState(state)
        finally:
            self._fitting = False
        self._user_sized = self.columns_sized = user_sized

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if not self._fitting and column != MODEL:  # the model column stretches with the table: not the user
            self._user_sized = True

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._apply_widths()

    def _current_changed(self, current, _previous) -> None:
        self.selected.emit(current.data(ROW_ROLE) if current.isValid() else None)

    def _fill_choices(self) -> None:
        """Offer the use cases and licenses of the models shown, read from the cells so a first look has them."""
        cells = self.model.cells()
        use_cases = sorted({u for c in cells for u in c.use_cases})
        licenses = sorted({c.license for c in cells if c.license})
        for box, items, all_text in ((self.use_case, use_cases, "Any use case"), (self.license, licenses, "Any license")):
            if [box.itemData(i) for i in range(1, box.count())] == items:
                continue  # unchanged (a re-evaluation): refilling would resize the box and relayout the window
            current = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(all_text, None)
            for item in items:
                box.addItem(item, item)
            idx = box.findData(current)
            box.setCurrentIndex(idx if idx >= 0 else 0)
            box.blockSignals(False)
            if idx < 0 and current is not None:
                box.currentIndexChanged.emit(0)
        for box in (self.verdict, self.use_case, self.license, self.min_context):
            box.setMinimumWidth(box.sizeHint().width())

    def _update_count(self, *_args) -> None:
        self.count.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} models")

    def _update_marks(self) -> None:
        """The legend of the marks the rows' speed figures carry, shown while any row has one."""
        marks = {m for cell in self.model.cells() for m in cell.marks}
        self.marks_legend.setText(units.measured_legend(None, marks) + "." if marks else "")
        self.marks_legend.setVisible(bool(marks))
