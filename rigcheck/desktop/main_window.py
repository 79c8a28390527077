"""The main window: assembles the machine panel, settings bar, the "Best for this machine" strip, the model table and
the detail pane, and wires them to the AppController. It holds no numbers and makes no decisions of its own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from rigcheck import units
from rigcheck.desktop import state
from rigcheck.desktop.catalog_actions import BUSY_TEXT, CatalogActions
from rigcheck.desktop.catalog_info import CatalogInfo
from rigcheck.desktop.controller import AppController
from rigcheck.desktop.evaluation import Evaluation
from rigcheck.desktop.models import format as fmt
from rigcheck.desktop.pages.models_page import ModelsPage
from rigcheck.desktop.services import Services
from rigcheck.desktop.widgets.machine_panel import MachinePanel, plain_label
from rigcheck.desktop.widgets.picks_strip import PicksStrip, rule_text
from rigcheck.desktop.widgets.settings_bar import SettingsBar
from rigcheck.desktop.window_actions import WindowActions
from rigcheck.desktop.workers import TaskRunner
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine

RESOURCES = Path(__file__).parent / "resources"
PLOTTING_DELAY_MS = 250
"""After the first results: time for the table to paint before pyqtgraph's import competes for the CPU."""


FIRST_PAINT_FALLBACK_MS = 1000
"""after_first_paint runs its callback by then even when the window is not painted (minimised, covered)."""


def _import_plotting() -> None:
    import pyqtgraph  # noqa: F401 - imported for its side effect of being loaded


class _Arrival(QObject):
    """Carries "the helper has finished" from the thread that waits for it to the GUI thread."""

    arrived = Signal()


class MainWindow(WindowActions, CatalogActions, QMainWindow):
    def __init__(self, services: Services, runner: TaskRunner | None = None, *, store=None,
                 settings: Settings | None = None, parent: QWidget | None = None):
        """``settings``: the estimator settings already read from ``store`` (read from it when None)."""
        super().__init__(parent)
        self.setWindowTitle("rigcheck")
        icon = RESOURCES / "rigcheck.svg"
        if icon.exists():
            self.setWindowIcon(QIcon(str(icon)))
        self.store = store if store is not None else state.open_settings()
        self.runner = runner or TaskRunner(parent=self)
        url, unsigned = state.refresh_url(self.store)
        self.controller = AppController(services, self.runner, settings if settings is not None else state.load_estimator_settings(self.store),
                                        refresh_url=url, allow_unsigned=unsigned, parent=self)
        self.services = services
        self._error_details = ""
        self._details_are_notes = False
        self._plotting_scheduled = False
        self.freeze_long_lived = False
        """Set by the app (open_window): after a new catalog's first evaluation, gc.freeze() what is in memory.
        Off in tests, where many windows come and go and garbage frozen with them would never be collected."""
        self._frozen_catalog = None
        self._build()
        self._connect()
        self._restore()

    # assembly ----------------------------------------------------------------------------------------
    def _build(self) -> None:
        c = self.controller
        self.banner = QFrame()
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner.setAutoFillBackground(True)
        self.banner.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(8, 4, 8, 4)
        self.banner_label = plain_label("", bold=True, wrap=True)
        self.back_button = QPushButton("Back to this machine")
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.back_button)
        self.banner.hide()

        self.machine_panel = MachinePanel(sampler=c.sample_usage)
        self.machine_panel.sparkline.sample_on_show = False  # first sample once the table is up (_show_evaluation)
        self.settings_bar = SettingsBar(c.settings)
        self.picks = PicksStrip()
        self.picks.set_rule(rule_text(c.settings))
        self.models_page = ModelsPage()
        # Table above, detail below: the table has a dozen columns and needs the full width. The detail pane is
        # closed until a model is selected (and built then: start-up does not pay for its tabs, tables and charts);
        # the splitter's handle resizes it.
        self._detail_page = None
        self._detail_state: dict[str, object] = {}
        """What the detail pane is told before it exists (memory limits, installed models, run settings)."""
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.models_page)
        self.split.setStretchFactor(0, 1)
        self.split.setChildrenCollapsible(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.machine_panel)
        layout.addWidget(self.settings_bar)
        layout.addWidget(self.picks)
        layout.addWidget(self.split, 1)
        self.setCentralWidget(central)

        self.act_search = QAction("Search", self, shortcut=QKeySequence.StandardKey.Find)
        self._make_catalog_actions()
        self.act_export = QAction("Export report…", self, shortcut=QKeySequence("Ctrl+E"))
        self.act_whatif = QAction("What if…", self, shortcut=QKeySequence("Ctrl+H"))
        self.act_whatif.setToolTip("Estimate for another machine: GPUs and RAM from the device table, or a profile (Ctrl+H)")
        self.act_back = QAction("This machine", self)
        self.act_folders = QAction("Model folders…", self)
        self.act_folders.setToolTip("Add or remove folders to look for installed models in (besides Ollama, LM Studio "
                                    "and the Hugging Face and llama.cpp caches)")
        self.act_settings = QAction("Settings…", self, shortcut=QKeySequence.StandardKey.Preferences)
        self.act_settings.setToolTip("What counts as usable, and how hosted prices are blended")
        self.act_quit = QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        for act in (self.act_whatif, self.act_back, self.act_refresh, self.act_add, self.act_feed, self.act_export,
                    self.act_folders, self.act_settings):
            toolbar.addAction(act)
        self.addToolBar(toolbar)
        for act in (self.act_search, self.act_quit):
            self.addAction(act)
        self._make_menus()
        self.act_export.setEnabled(False)
        if self.services.export_report is None:
            self.act_export.setToolTip("Report export is not part of this build")
        self.act_back.setEnabled(False)
        self.act_folders.setEnabled(self.services.save_model_folders is not None)

        sb = self.statusBar()
        self.busy_label = QLabel()
        self.error_label = plain_label("")
        self.details_button = QPushButton("Details…")
        self.details_button.setFlat(True)
        self.details_button.hide()
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(170)  # "113 / 119 models" fits on one line
        self.progress.setMaximumWidth(200)
        self.progress.setMaximumHeight(16)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the refresh; the catalog in use stays as it is")
        self.cancel_button.hide()
        self.catalog_label = plain_label("Catalog: loading…")
        sb.addWidget(self.busy_label)
        sb.addWidget(self.error_label, 1)
        sb.addWidget(self.details_button)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        sb.addPermanentWidget(self.catalog_label)

    def _connect(self) -> None:
        c = self.controller
        c.machine_changed.connect(self._show_machine)
        c.evaluated.connect(self._show_evaluation)
        c.catalog_changed.connect(self._show_catalog)
        c.busy.connect(self._show_busy)
        c.failed.connect(self.show_failure)
        self._connect_catalog_actions()
        c.speed_ready.connect(lambda *a: self._detail_page and self._detail_page.set_speed_points(*a))
        c.cost_ready.connect(lambda *a: self._detail_page and self._detail_page.set_cost_curves(*a))
        c.serving_ready.connect(lambda *a: self._detail_page and self._detail_page.set_serving(*a))
        c.export_done.connect(lambda path: self._say(f"Report saved to {path}"))
        c.installed_ready.connect(self.models_page.set_installed)
        c.installed_ready.connect(lambda installed: self._tell_detail("set_installed", installed))
        self.act_folders.triggered.connect(self.model_folder_dialog)
        self.settings_bar.changed.connect(self._settings_changed)
        self.models_page.selected.connect(self._selected)
        self.picks.picked.connect(self.show_model)
        self.picks.settings_wanted.connect(self.settings_dialog)
        self.act_settings.triggered.connect(self.settings_dialog)
        self.act_search.triggered.connect(self.models_page.focus_search)
        self.act_export.triggered.connect(self.export_dialog)
        self.act_whatif.triggered.connect(self.what_if)
        self.act_back.triggered.connect(c.back_to_this_machine)
        self.back_button.clicked.connect(c.back_to_this_machine)
        self.act_quit.triggered.connect(self.close)
        self.details_button.clicked.connect(self._show_details)

    def _load_plotting(self) -> None:
        # A bound method, not a lambda: the runner drops the result if this window is gone by then.
        self.runner.run_task(_import_plotting, self._plotting_loaded, key="plotting")

    def _plotting_loaded(self, _result: object, failure: object) -> None:
        if failure is None:  # without pyqtgraph the sparkline keeps its text-only placeholder
            self.machine_panel.sparkline.enable_plot()

    # slots -------------------------------------------------------------------------------------------
    def start(self, machine: Machine | None = None, prefetched=None) -> None:
        self.controller.start(machine, prefetched)

    def show_first_look(self, look, *, machine: bool = True) -> None:
        """Show the first-look helper's results (first_look.FirstLook: machine, catalog line, table cells) until
        this process's own probe, catalog and evaluation replace them; rows selected meanwhile stay selected."""
        if machine:
            self._show_machine(look.machine, list(look.specs))
        if self.controller.catalog is None:
            self._show_catalog(look.catalog)
        self.models_page.model.set_prompt_tokens(look.settings.prompt_tokens)
        self.models_page.set_cells(list(look.cells))
        self.picks.set_cells(look.cells)

    def first_look_later(self, helper, timeout_s: float, then=None, hold_s: float | None = None) -> None:
        """Show the first look of ``helper`` (helper_process.Helper) when it finishes, unless this window's own
        probe or evaluation came first (or the settings changed meanwhile); a helper still running after
        ``timeout_s`` is stopped. The waiting is done on a thread; the window never blocks on it.

        ``then`` (the window's own work) runs once: after the late first look is painted, at once when the helper
        brought none, or after ``hold_s`` when the helper is still at work then."""
        import threading

        pending = [then] if then is not None else []

        def run_then() -> None:
            if pending:
                pending.pop()()

        bridge = _Arrival(self)
        bridge.arrived.connect(lambda: self._late_first_look(helper, run_then))
        if pending and hold_s is not None:
            QTimer.singleShot(int(hold_s * 1000), self, run_then)

        def wait() -> None:
            if not helper.wait(timeout_s):
                helper.cancel()
            try:
                bridge.arrived.emit()  # queued to the GUI thread
            except RuntimeError:  # the window (and the bridge with it) is gone
                pass

        threading.Thread(target=wait, name="rigcheck-first-look-wait", daemon=True).start()

    def _late_first_look(self, helper, then) -> None:
        look = helper.look()
        c = self.controller
        if (look is None or c.evaluation is not None or look.settings != c.settings
                or (c.machine is not None and c.machine is not c.home_machine)):  # a what-if or profile machine
            then()
            return
        # When this process has probed already, its own machine stays on the panel; the table takes the cells.
        self.show_first_look(look, machine=c.machine is None)
        self.after_first_paint(then)

    def after_first_paint(self, callback) -> None:
        """Run ``callback`` once, just after the table's first paint (or after FIRST_PAINT_FALLBACK_MS)."""
        pending = [callback]
        table = self.models_page.table

        def run() -> None:
            if pending:
                pending.pop()()

        def painted() -> None:
            table.painted.disconnect(painted)  # once: later paints only emit the signal
            QTimer.singleShot(0, self, run)  # through the event loop: the paint is on screen first

        table.painted.connect(painted)
        QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self, run)

    def _show_machine(self, machine: Machine, specs) -> None:
        self.machine_panel.set_machine(machine, specs)
        self.setWindowTitle(f"rigcheck — {machine.label or machine.hostname or 'this machine'}")
        # The memory chart names its limit lines after the kind of memory (its values come with the estimates).
        self._tell_detail("set_unified_memory", any(g.unified_memory for g in machine.usable_gpus))
        other = machine.origin != "probed"
        if other:
            name = machine.label or "unnamed"
            if machine.is_hypothetical:
                text = (f"Showing a hypothetical machine: {name}. Its figures come from the device table; "
                        "nothing here was measured on this computer.")
            else:
                text = f"Showing a machine from a profile: {name}. Its figures come from the file, not from this computer."
            self.banner_label.setText(text)
        self.banner.setVisible(other)
        self.act_back.setEnabled(other)

    def _show_evaluation(self, ev: Evaluation) -> None:
        if self.freeze_long_lived and ev.catalog is not self._frozen_catalog:
            # A new catalog and its first evaluation stay for a long while: keep them (and start-up's objects)
            # out of every later full garbage collection, which scans all it tracks with the interpreter held
            # (80 ms measured with a catalog and an evaluation in memory) on whichever thread triggers it.
            import gc

            gc.freeze()
            self._frozen_catalog = ev.catalog
        self.models_page.model.set_prompt_tokens(ev.settings.prompt_tokens)
        self._tell_detail("set_run_settings", ev.settings.kv_cache_type)
        # The table first, the detail pane on the next turn of the event loop: the table paints and input is
        # handled in between, instead of both updates and paints in one stall.
        self.models_page.blockSignals(True)
        try:
            self.models_page.set_rows(list(ev.rows), list(ev.cells) or None)
        finally:
            self.models_page.blockSignals(False)
        self.picks.set_rule(rule_text(ev.settings))
        self.picks.set_cells(self.models_page.model.cells())
        QTimer.singleShot(0, self, self._refresh_detail)
        if self.machine_panel.sparkline.plot is None and not self._plotting_scheduled:
            # pyqtgraph is the slowest import of all: load it on a worker once the table has painted, then
            # build the sparkline (and later the charts) on the GUI thread without a freeze.
            self._plotting_scheduled = True
            QTimer.singleShot(0, self.machine_panel.sparkline.tick)  # after this paint: no wait for the caption
            QTimer.singleShot(PLOTTING_DELAY_MS, self._load_plotting)
        self.act_export.setEnabled(self.services.export_report is not None)

    def _refresh_detail(self) -> None:
        self._selected(self.models_page.current_row())

    @property
    def detail_page(self):
        """The detail pane (``pages.detail_page.DetailPage``), built on first use and kept."""
        if self._detail_page is None:
            from rigcheck.desktop.pages.detail_page import DetailPage

            page = DetailPage()
            page.hide()
            for method, args in self._detail_state.items():
                getattr(page, method)(*args)
            page.closed.connect(self.models_page.clear_selection)
            page.curves_wanted.connect(self.controller.request_curves)
            self.split.addWidget(page)
            self.split.setStretchFactor(1, 1)
            self._detail_page = page
            saved = self.store.value("window/split")
            if isinstance(saved, QByteArray) and not saved.isEmpty():
                self.split.restoreState(saved)
        return self._detail_page

    def _tell_detail(self, method: str, *args) -> None:
        """Call a setter of the detail pane now, or when it is built."""
        self._detail_state[method] = args
        if self._detail_page is not None:
            getattr(self._detail_page, method)(*args)

    def _selected(self, row) -> None:
        """The detail pane shows the selected model, and is closed while none is selected."""
        if row is None and self._detail_page is None:
            return  # nothing to close
        opening = row is not None and self.detail_page.isHidden()
        self.detail_page.setVisible(row is not None)
        if opening:
            total = sum(self.split.sizes()) or self.split.height()
            self.split.setSizes([total - total * 9 // 20, total * 9 // 20])
        self.detail_page.show_row(row, self.controller.settings.prompt_tokens)

    def show_model(self, model_id: str) -> bool:
        """Select ``model_id`` in the table (its detail pane opens), clearing the filters that hide it (a pick card,
        ``gui --select``). False when the table has no row for it."""
        if self.models_page.select_model(model_id):
            return True
        self.models_page.search.clear()
        self.models_page.usable_only.setChecked(False)
        for box in (self.models_page.verdict, self.models_page.use_case, self.models_page.license,
                    self.models_page.min_context):
            box.setCurrentIndex(0)
        return self.models_page.select_model(model_id)

    def _settings_changed(self, settings: Settings) -> None:
        self.picks.set_rule(rule_text(settings))
        self.controller.set_settings(settings)

    def _show_catalog(self, info: CatalogInfo) -> None:
        source = "built in" if info.source == "embedded" else info.source
        counts = f", {info.models:,} models" if info.models else ""
        text = f"Catalog: {source}, {units.age_text(info.generated_at)}{counts}"
        self.catalog_label.setText(text)
        tip = [f"Generated {info.generated_at or 'at an unknown time'}", *info.warnings]
        self.catalog_label.setToolTip(fmt.tooltip("\n".join(tip)))

    def _show_busy(self, key: str, running: bool) -> None:
        words = {"probe": "Probing this machine…", "evaluate": "Estimating…", "refresh": BUSY_TEXT,
                 "export": "Exporting report…", "installed": "Looking for installed models…"}
        if key == "refresh":
            self._show_refresh_busy(running)
        if running:
            self.busy_label.setText(words.get(key, ""))
        elif key in words and self.busy_label.text().startswith(words[key]):  # a refresh adds its ETA
            self.busy_label.setText("")

    def show_failure(self, what: str, message: str, details: str) -> None:
        """One readable sentence in the status bar; the details one click away (credentials in URLs redacted)."""
        from rigcheck.catalog.redact import redact_text

        message = redact_text(message)
        self.error_label.setText(message)
        self.error_label.setToolTip(fmt.tooltip(message))
        self._error_details = redact_text(details)
        self._details_are_notes = False
        self.details_button.setVisible(bool(details))

    def _show_details(self) -> None:
        if self._details_are_notes:  # after a refresh: what it skipped or noted
            self.show_refresh_details()
            return
        from rigcheck.desktop.widgets.crash_dialog import show_error  # QMessageBox: loaded when first needed

        show_error(self, self.error_label.text(), self._error_details)

    def _say(self, message: str) -> None:
        from rigcheck.catalog.redact import redact_text

        message = redact_text(message)
        self.error_label.setText(message)
        self.error_label.setToolTip(fmt.tooltip(message))
        self._error_details = ""
        self._details_are_notes = False
        self.details_button.hide()

    # state -------------------------------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.store.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        for key, widget in (("window/state", self),):
            value = self.store.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                widget.restoreState(value)
        header = self.store.value("window/table_header")
        if isinstance(header, QByteArray) and not header.isEmpty():
            user_sized = str(self.store.value("window/table_user_sized", "false")).lower() in ("1", "true")
            self.models_page.restore_header(header, user_sized)

    def save_state(self) -> None:
        self.store.setValue("window/geometry", self.saveGeometry())
        self.store.setValue("window/state", self.saveState())
        if self._detail_page is not None:
            self.store.setValue("window/split", self.split.saveState())
        self.store.setValue("window/table_header", self.models_page.table.horizontalHeader().saveState())
        self.store.setValue("window/table_user_sized", "true" if self.models_page.user_sized else "false")
        state.save_estimator_settings(self.store, self.controller.settings)
        self.store.sync()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.save_state()
        self.machine_panel.sparkline.timer.stop()
        self.controller.cancel_refresh()
        self.runner.wait(3000)
        super().closeEvent(event)
