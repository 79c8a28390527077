"""The detail pane for one model: every quant with its verdict and speeds, charts, hosted offers, basis."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rigcheck import units
from rigcheck.desktop.models.detail_tables import DoorsTableModel, OffersTableModel, QuantTableModel
from rigcheck.desktop.models.model_table import SORT_ROLE
from rigcheck.desktop.widgets.machine_panel import plain_label
from rigcheck.estimate.types import Estimate

if TYPE_CHECKING:
    from rigcheck.desktop.models.rows import ModelRow


def _table(model) -> tuple[QTableView, QSortFilterProxyModel]:
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return view, proxy


def basis_text(row: ModelRow, e: Estimate | None, prompt_tokens: int) -> str:
    """The estimate's basis and band in words."""
    m = row.model
    lines = [f"{row.label}  ({m.id})"]
    facts = [units.params_text(m.params_total_b, m.params_active_b) + " parameters" if m.params_total_b else None,
             f"trained context {units.tokens_text(m.max_context_tokens)}" if m.max_context_tokens else None,
             m.license, f"released {m.release_date}" if m.release_date else None]
    lines.append(", ".join(f for f in facts if f))
    if e is None:
        lines.append("")
        lines.append("No estimate: the catalog lacks architecture facts this model needs.")
        return "\n".join(lines)
    lines.append("")
    lines.append(f"{e.quant} on {e.runtime}: {units.verdict_text(e.verdict)}" + (f" — {e.placement}" if e.placement else ""))
    from rigcheck.estimate.rules import why_not_usable

    why = why_not_usable(e, row.usable_rule)
    if e.best and e.usable:
        lines.append(f"This machine's pick for {row.label}: usable ({row.usable_rule.describe()}).")
    elif why is None:
        lines.append(f"Usable ({row.usable_rule.describe()}), but not the pick: {row.shown.quant if row.shown else '—'}"
                     " is (see the Pick column's tooltip for the rule).")
    else:
        lines.append(f"Not usable here: {why} (usable = {row.usable_rule.describe()}).")
    if row.hint is not None:
        lines.append(row.hint.text)
    if row.capability is not None:
        lines.append(f"Capability {units.capability_text(row.capability.value)}: {row.capability.basis}.")
    mem = e.memory
    lines.append(f"Memory {units.bytes_text(mem.total_bytes)} = weights {units.bytes_text(mem.weights_bytes)} + KV cache "
                 f"{units.bytes_text(mem.kv_cache_bytes)} for {units.tokens_text(e.context_tokens)} tokens + overhead "
                 f"{units.bytes_text(mem.overhead_bytes)}; {units.bytes_text(mem.gpu_bytes)} on GPU, "
                 f"{units.bytes_text(mem.ram_bytes)} in RAM.")
    if e.runs_now is not None:
        lines.append("It fits in the memory free right now." if e.runs_now
                     else "It does not fit in the memory free right now (other programs are using it).")
    for label, band, f, unit in (("Decode", e.decode_tokens_per_s, units.rate_text, "tok/s"),
                                 ("Prefill", e.prefill_tokens_per_s, units.rate_text, "tok/s"),
                                 (f"Time to first token for a {units.tokens_text(prompt_tokens)}-token prompt", e.ttft_s,
                                  units.seconds_text, "")):
        if band is None:
            continue
        u = f" {unit}" if unit else ""
        lines.append(f"{label}: about {f(band.expected)}{u}, likely between {f(band.low)} and {f(band.high)}{u}.")
    if e.basis:
        lines.append("")
        lines.append("Assumptions:")
        lines.extend(f"  • {b}" for b in e.basis)
    return "\n".join(lines)


MEMORY_TAB, SPEED_TAB, COST_TAB, SERVING_TAB = 0, 1, 2, 3
RUN_TAB_NAME = "Run it"
CURVE_TABS = {SPEED_TAB: "speed", COST_TAB: "cost", SERVING_TAB: "serving"}


class DetailPage(QWidget):
    closed = Signal()
    """The close button: the window deselects the model and closes the pane."""
    curves_wanted = Signal(object, object, object)
    """(ModelRow, Estimate, kinds): the curves ("speed", "cost", "serving") the chart tab now showing needs for the quant
    picked (or the model's best quant). Only the tab in view asks: the cost planner takes a few hundred ms of
    the interpreter, which the GUI thread would otherwise share after every change of model or setting."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.row: ModelRow | None = None
        self._pending_draws: dict[int, Callable[[], None]] = {}
        """Chart drawing for tabs not in view, done when the tab is shown (pyqtgraph draws on the GUI thread)."""
        self._curve_target: tuple[ModelRow, Estimate] | None = None
        self._curves_asked: set[str] = set()
        self.prompt_tokens = 4096
        self._unified_memory = False
        self.title = plain_label("Select a model", bold=True, wrap=True)
        self.subtitle = plain_label("", wrap=True)
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.quants = QuantTableModel(self)
        self.quant_view, self.quant_proxy = _table(self.quants)
        self.quant_view.selectionModel().currentRowChanged.connect(self._quant_changed)
        self.offers = OffersTableModel(self)
        self.offer_view, self.offer_proxy = _table(self.offers)

        # The charts (pyqtgraph, slow to import) are built when the first model is shown.
        self.memory_chart = self.speed_chart = self.cost_chart = self.serving_chart = None
        self._chart_pages = [QWidget(), QWidget(), QWidget(), QWidget()]
        for page in self._chart_pages:
            QVBoxLayout(page).setContentsMargins(0, 0, 0, 0)
        # The Serving tab: the chart, and the cost doors beside it (the chart keeps the tab's full height, which
        # at 1366x768 is all it has).
        self.doors = DoorsTableModel(self)
        self.door_view, self.door_proxy = _table(self.doors)
        self.door_view.setAccessibleName("Cost of each door for the default workload")
        self.door_view.setSortingEnabled(False)  # rows come cheapest first; no sort arrow to crowd the headers
        self.door_proxy.sort(-1)
        self.serving_caption = plain_label("", wrap=True)
        self.serving_caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.serving_split = QSplitter(Qt.Orientation.Horizontal)
        self.serving_split.setChildrenCollapsible(False)
        doors_box = QWidget()
        doors_layout = QVBoxLayout(doors_box)
        doors_layout.setContentsMargins(0, 0, 0, 0)
        doors_layout.addWidget(self.serving_caption)
        doors_layout.addWidget(self.door_view, 1)
        self.serving_split.addWidget(doors_box)
        self.serving_split.setStretchFactor(0, 2)
        self._chart_pages[SERVING_TAB].layout().addWidget(self.serving_split)
        self.basis = QPlainTextEdit()
        self.basis.setReadOnly(True)  # plain text: catalog strings can never become markup here
        self.basis.setAccessibleName("Basis of the estimate")
        self.quant_view.setAccessibleName("Quantizations of the selected model")
        self.offer_view.setAccessibleName("Hosted offers")

        self.tabs = QTabWidget()
        self.tabs.setUsesScrollButtons(True)  # on a narrow window the quant table comes first; the tab bar scrolls
        # Short names, so the tab bar fits beside the quant table at 1366 px; the tooltips say more.
        for page, name, tip in (
            (self._chart_pages[MEMORY_TAB], "Memory", "Memory needed per quant against the usable memory"),
            (self._chart_pages[SPEED_TAB], "Speed", "Prefill and decode speed against context length"),
            (self._chart_pages[COST_TAB], "Cost", "$/M output tokens of the hosted, rented and owned doors"),
            (self._chart_pages[SERVING_TAB], "Serving", "Per-user and node speed as concurrency grows"),
            (self.offer_view, "Hosted", "Hosted offers of this model, cheapest blended price first"),
            (self.basis, "Basis", "What the estimate rests on"),
            (self._build_run_tab(), RUN_TAB_NAME, "The command that runs the quant shown, and your measurements"),
        ):
            self.tabs.setTabToolTip(self.tabs.addTab(page, name), tip)
        self.tabs.currentChanged.connect(self._tab_changed)

        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Close the detail pane (Esc)")
        self.close_button.setShortcut("Esc")
        self.close_button.clicked.connect(self.closed)
        title_row = QHBoxLayout()
        title_row.setContentsMargins(0, 0, 0, 0)
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(title_row)
        left_layout.addWidget(self.subtitle)
        left_layout.addWidget(self.quant_view, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(self.tabs)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([950, 650])  # until _fit_split knows the columns' widths
        self.split.setChildrenCollapsible(False)
        self._split_moved = False
        self.split.splitterMoved.connect(self._user_moved_split)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split, 1)

    def _build_run_tab(self) -> QWidget:
        """The command that runs the quant shown as estimated (per runtime, with a copy button), and the
        user's own measurements of it beside the estimate."""
        self.kv_cache_type = "f16"
        self.installed: list = []
        self._commands: list = []
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.runtime_box = QComboBox()
        self.runtime_box.setAccessibleName("Runtime of the launch command")
        self.runtime_box.currentIndexChanged.connect(self._show_command)
        self.copy_button = QPushButton("Copy command")
        self.copy_button.clicked.connect(self.copy_command)
        top.addWidget(self.runtime_box, 1)
        top.addWidget(self.copy_button)
        self.command = QPlainTextEdit()
        self.command.setReadOnly(True)
        self.command.setAccessibleName("Launch command")
        self.measured = QPlainTextEdit()
        self.measured.setReadOnly(True)
        self.measured.setAccessibleName("Your measurements")
        layout.addLayout(top)
        layout.addWidget(self.command, 3)
        layout.addWidget(self.measured, 2)
        return page

    def set_run_settings(self, kv_cache_type: str) -> None:
        self.kv_cache_type = kv_cache_type

    def set_installed(self, installed: list) -> None:
        """The models on this machine: a command for an installed quant uses its real path or Ollama tag."""
        self.installed = list(installed)
        if self.row is not None:
            self._show_run(self.selected_estimate())

    def copy_command(self) -> None:
        text = self.command.toPlainText()
        if text:
            QApplication.clipboard().setText(text)

    def _show_run(self, e: Estimate | None) -> None:
        from rigcheck.desktop.models import run_info

        self._commands = []
        self.runtime_box.blockSignals(True)
        self.runtime_box.clear()
        if self.row is None or e is None:
            self.command.setPlainText("")
            self.measured.setPlainText("")
        elif not e.fits:
            self.command.setPlainText(f"{e.quant} does not fit this machine: there is no command to run it here.")
            self.measured.setPlainText("")
        else:
            self._commands = run_info.commands(self.row, e, self.kv_cache_type, self.installed)
            for cmd in self._commands:
                self.runtime_box.addItem(run_info.RUNTIME_LABELS.get(cmd.runtime, cmd.runtime), cmd.runtime)
            on_disk = run_info.installed_file(self.row.model.id, e.quant, self.installed)
            self.measured.setPlainText(run_info.measured_text(e, on_disk.tag or on_disk.path if on_disk else None))
        self.runtime_box.blockSignals(False)
        self.copy_button.setEnabled(bool(self._commands))
        self._show_command()

    def _show_command(self, *_args) -> None:
        from rigcheck.desktop.models.run_info import command_text

        i = self.runtime_box.currentIndex()
        if 0 <= i < len(self._commands):
            self.command.setPlainText(command_text(self._commands[i]))

    def ensure_charts(self) -> None:
        if self.memory_chart is not None:
            return
        from rigcheck.desktop.widgets.charts import CostChart, MemoryChart, ServingChart, SpeedChart

        self.memory_chart, self.speed_chart, self.cost_chart = MemoryChart(), SpeedChart(), CostChart()
        for page, chart in zip(self._chart_pages, (self.memory_chart, self.speed_chart, self.cost_chart), strict=False):
            page.layout().addWidget(chart)
        self.serving_chart = ServingChart()
        self.serving_chart.setMinimumWidth(220)  # the splitter may give it less than pyqtgraph's size hint
        self.serving_split.insertWidget(0, self.serving_chart)
        self.serving_split.setStretchFactor(0, 3)
        self.serving_split.setSizes([470, 290])

    TABS_MIN_WIDTH = 400
    """The charts' side keeps at least this much (and room for the whole tab bar) when the table wants more."""

    def _user_moved_split(self, *_args) -> None:
        self._split_moved = True  # from now on the user's widths stand

    def _fit_split(self) -> None:
        """The quant table as wide as its columns (every column in view, no sideways scrolling) and the tabs the
        rest, unless the user has moved the splitter; a window too narrow for both leaves the tabs their minimum."""
        if self._split_moved:
            return
        view = self.quant_view
        total = self.split.width() - self.split.handleWidth()
        if total <= 0 or not self.quants.rowCount():
            return
        need = (view.horizontalHeader().length() + view.verticalScrollBar().sizeHint().width()
                + 2 * view.frameWidth() + 2)
        # The whole tab bar when there is room for it beside the table, else the charts' minimum (the bar scrolls).
        tabs_min = max(self.TABS_MIN_WIDTH, min(self.tabs.tabBar().sizeHint().width() + 8, total - need))
        left = max(min(need, total - tabs_min), total // 3)
        if self.split.sizes()[0] != left:
            self.split.setSizes([left, total - left])

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_split()

    def set_unified_memory(self, unified: bool) -> None:
        """Whether the machine's GPU shares RAM (the memory chart's lines are then the GPU share and RAM)."""
        self._unified_memory = unified

    def show_row(self, row: ModelRow | None, prompt_tokens: int | None = None) -> None:
        if prompt_tokens is not None:
            self.prompt_tokens = prompt_tokens
        self.row = row
        if row is None:
            self.title.setText("Select a model")
            self.subtitle.setText("")
            self.quants.set_rows([])
            self.offers.set_rows([])
            self._curve_target = None
            if self.memory_chart is not None:
                for tab, chart in enumerate((self.memory_chart, self.speed_chart, self.cost_chart)):
                    self._draw(tab, partial(chart.clear, ""))
                self._draw(SERVING_TAB, partial(self._show_serving, None, ""))
            self.basis.setPlainText("")
            self._show_run(None)
            return
        self.ensure_charts()
        m = row.model
        params = units.params_text(m.params_total_b, m.params_active_b)
        self.title.setText(f"{row.label} — {params} parameters" if m.params_total_b else row.label)
        bits = [m.id]
        if m.license:
            bits.append(m.license)
        if m.max_context_tokens:
            bits.append(f"{units.tokens_text(m.max_context_tokens)} context")
        if row.capability is not None:
            bits.append(f"capability {units.capability_text(row.capability.value)} ({row.capability.short_basis})")
        self.subtitle.setText(" · ".join(bits))
        ests = sorted(row.estimates, key=lambda e: -e.memory.total_bytes)
        self.quants.set_rows(ests)
        self.quant_view.sortByColumn(3, Qt.SortOrder.DescendingOrder)  # biggest (best quality) first
        QTimer.singleShot(0, self._fit_split)  # once the columns have been sized to the new rows
        self.offers.set_rows(row.offers, row.input_per_output)
        self.offer_view.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # cheapest blended price first
        self._draw(MEMORY_TAB, partial(self.memory_chart.set_data, list(reversed(ests)), self._unified_memory))
        shown = row.shown
        if shown is not None and shown in ests:
            src = self.quants.index(ests.index(shown), 0)
            idx = self.quant_proxy.mapFromSource(src)
            self.quant_view.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.quant_view.scrollTo(idx)  # the selection change shows the quant
        else:
            self._show_quant(shown)

    def selected_estimate(self) -> Estimate | None:
        idx = self.quant_view.selectionModel().currentIndex()
        if not idx.isValid():
            return self.row.shown if self.row else None
        return self.quants.item(self.quant_proxy.mapToSource(idx).row())

    def set_speed_points(self, model_id: str, quant: str, points, note: str = "") -> None:
        e = self.selected_estimate()
        if self.row is None or self.row.model.id != model_id or e is None or e.quant != quant:
            return  # the user has moved on
        self._draw(SPEED_TAB, partial(self.speed_chart.set_data, points, note))

    def set_cost_curves(self, model_id: str, quant: str, utilizations, curves, note: str = "") -> None:
        e = self.selected_estimate()
        if self.row is None or self.row.model.id != model_id or e is None or e.quant != quant:
            return
        self._draw(COST_TAB, partial(self.cost_chart.set_data, utilizations, curves, note))

    def set_serving(self, model_id: str, quant: str, view, note: str = "") -> None:
        """The Serving tab: ``view`` is a ``serving_bridge.ServingView`` (None with a ``note`` when it failed)."""
        e = self.selected_estimate()
        if self.row is None or self.row.model.id != model_id or e is None or e.quant != quant:
            return
        self._draw(SERVING_TAB, partial(self._show_serving, view, note))

    def _show_serving(self, view, note: str) -> None:
        if view is None:
            self.serving_chart.clear(note)
            self.doors.set_rows([])
            self.serving_caption.setText("")
            return
        self.serving_chart.set_data(view.points, view.ttft_limit_s, view.note, title=view.title)
        self.doors.set_rows(sorted(view.doors, key=lambda d: (d.usd_per_m_workload is None, d.usd_per_m_workload or 0)))
        self.serving_caption.setText("$/M output tokens, all in, at the default workload and saturated (hover for the terms)")
        self.serving_caption.setToolTip(view.workload)
        self.door_view.setToolTip(view.workload)

    def _draw(self, tab: int, draw: Callable[[], None]) -> None:
        """Draw a chart now when its tab is in view, else when the tab is next shown (the latest drawing wins)."""
        if self.tabs.currentIndex() == tab:
            self._pending_draws.pop(tab, None)
            draw()
        else:
            self._pending_draws[tab] = draw

    def _tab_changed(self, index: int) -> None:
        draw = self._pending_draws.pop(index, None)
        if draw is not None:
            draw()
        self._ask_curves()

    def _ask_curves(self) -> None:
        """Ask for the curves the tab in view shows, once per quant shown."""
        kind = CURVE_TABS.get(self.tabs.currentIndex())
        if kind is None or self._curve_target is None or kind in self._curves_asked:
            return
        self._curves_asked.add(kind)
        row, estimate = self._curve_target
        self.curves_wanted.emit(row, estimate, frozenset({kind}))

    def _quant_changed(self, current, _previous) -> None:
        if not current.isValid() or self.row is None:
            return
        e = self.quants.item(self.quant_proxy.mapToSource(current).row())
        self._show_quant(e)

    def _show_quant(self, e: Estimate | None) -> None:
        assert self.row is not None
        self.basis.setPlainText(basis_text(self.row, e, self.prompt_tokens))
        self._show_run(e)
        if e is not None:
            old = self._curve_target
            if old is not None and old[0] is self.row and old[1].quant == e.quant:
                return  # the same quant again (the quant table's reset and re-sort both report it)
            self._curves_asked = set()
            self._curve_target = (self.row, e)
            for tab, chart in ((SPEED_TAB, self.speed_chart), (COST_TAB, self.cost_chart)):
                self._draw(tab, partial(chart.clear, "Working…"))
            self._draw(SERVING_TAB, partial(self._show_serving, None, "Working…"))
            self._ask_curves()
        else:
            self._curve_target = None
            self._curves_asked = set()
            for tab, chart in ((SPEED_TAB, self.speed_chart), (COST_TAB, self.cost_chart)):
                self._draw(tab, partial(chart.clear, "No estimate for this model."))
            self._draw(SERVING_TAB, partial(self._show_serving, None, "No estimate for this model."))
