"""The main window: assembles the machine panel, settings bar, model table and detail pane, and wires them
to the AppController. It holds no numbers and makes no decisions of its own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer, Signal
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
from rigcheck.desktop.catalog_info import CatalogInfo
from rigcheck.desktop.controller import AppController, memory_limits, sentence
from rigcheck.desktop.evaluation import Evaluation
from rigcheck.desktop.models import format as fmt
from rigcheck.desktop.pages.detail_page import DetailPage
from rigcheck.desktop.pages.models_page import ModelsPage
from rigcheck.desktop.services import Services
from rigcheck.desktop.widgets.machine_panel import MachinePanel, plain_label
from rigcheck.desktop.widgets.settings_bar import SettingsBar
from rigcheck.desktop.workers import TaskRunner
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine

EXPORT_FORMATS = (
    ("pdf", "PDF report (*.pdf)"),
    ("html", "HTML report (*.html)"),
    ("md", "Markdown (*.md)"),
    ("json", "JSON (*.json)"),
    ("csv", "CSV table (*.csv)"),
)
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


class _FirstPaint(QObject):
    """Calls ``then`` (through the event loop) after the first paint of the widget it filters, then stops
    filtering (no Python call on the widget's later events)."""

    def __init__(self, then, parent: QObject):
        super().__init__(parent)
        self.then = then

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint and self.then is not None:
            then, self.then = self.then, None
            QTimer.singleShot(0, then)
            watched.removeEventFilter(self)
            self.deleteLater()
        return False


class MainWindow(QMainWindow):
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
        self.models_page = ModelsPage()
        self.detail_page = DetailPage()
        # Table above, detail below: the table has a dozen columns and needs the full width.
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.models_page)
        self.split.addWidget(self.detail_page)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.machine_panel)
        layout.addWidget(self.settings_bar)
        layout.addWidget(self.split, 1)
        self.setCentralWidget(central)

        self.act_search = QAction("Search", self, shortcut=QKeySequence.StandardKey.Find)
        self.act_refresh = QAction("Refresh catalog", self, shortcut=QKeySequence("Ctrl+R"))
        self.act_refresh.setToolTip("Ask Hugging Face and OpenRouter for new models, quants and prices (or the "
                                    "feed set in Catalog source…) (Ctrl+R)")
        self.act_add = QAction("Add model…", self)
        self.act_add.setToolTip("Add a Hugging Face model by its id or URL, with its quantized versions")
        self.act_feed = QAction("Catalog source…", self)
        self.act_feed.setToolTip("Where Refresh catalog fetches from: Hugging Face and OpenRouter, or a signed feed")
        self.act_export = QAction("Export report…", self, shortcut=QKeySequence("Ctrl+E"))
        self.act_whatif = QAction("What if…", self, shortcut=QKeySequence("Ctrl+H"))
        self.act_whatif.setToolTip("Estimate for another machine: GPUs and RAM from the device table, or a profile (Ctrl+H)")
        self.act_back = QAction("This machine", self)
        self.act_quit = QAction("Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        for act in (self.act_whatif, self.act_back, self.act_refresh, self.act_add, self.act_feed, self.act_export):
            toolbar.addAction(act)
        self.addToolBar(toolbar)
        for act in (self.act_search, self.act_quit):
            self.addAction(act)
        self.act_refresh.setEnabled(self.services.refresh_catalog is not None)
        if self.services.refresh_catalog is None:
            self.act_refresh.setToolTip("Catalog refresh is not part of this build")
        self.act_add.setEnabled(self.services.add_model is not None)
        self.act_export.setEnabled(False)
        if self.services.export_report is None:
            self.act_export.setToolTip("Report export is not part of this build")
        self.act_back.setEnabled(False)

        sb = self.statusBar()
        self.busy_label = QLabel()
        self.error_label = plain_label("")
        self.details_button = QPushButton("Details…")
        self.details_button.setFlat(True)
        self.details_button.hide()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setMaximumHeight(16)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setFlat(True)
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
        c.refresh_progress.connect(self._show_progress)
        c.refresh_done.connect(self._refresh_finished)
        c.speed_ready.connect(self.detail_page.set_speed_points)
        c.cost_ready.connect(self.detail_page.set_cost_curves)
        c.export_done.connect(lambda path: self._say(f"Report saved to {path}"))
        self.settings_bar.changed.connect(c.set_settings)
        self.models_page.selected.connect(
            lambda row: self.detail_page.show_row(row, c.settings.prompt_tokens))
        self.detail_page.curves_wanted.connect(c.request_curves)
        self.act_search.triggered.connect(self.models_page.focus_search)
        self.act_refresh.triggered.connect(self.refresh_catalog)
        self.act_feed.triggered.connect(self.feed_dialog)
        self.act_add.triggered.connect(self.add_model_dialog)
        self.cancel_button.clicked.connect(c.cancel_refresh)
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

    def first_look_later(self, helper, timeout_s: float) -> None:
        """Show the first look of ``helper`` (helper_process.Helper) when it finishes, unless this window's own
        probe or evaluation came first (or the settings changed meanwhile); a helper still running after
        ``timeout_s`` is stopped. The waiting is done on a thread; the window never blocks on it."""
        import threading

        bridge = _Arrival(self)
        bridge.arrived.connect(lambda: self._late_first_look(helper))

        def wait() -> None:
            if not helper.wait(timeout_s):
                helper.cancel()
            try:
                bridge.arrived.emit()  # queued to the GUI thread
            except RuntimeError:  # the window (and the bridge with it) is gone
                pass

        threading.Thread(target=wait, name="rigcheck-first-look-wait", daemon=True).start()

    def _late_first_look(self, helper) -> None:
        look = helper.look()
        c = self.controller
        if look is None or c.evaluation is not None or look.settings != c.settings:
            return
        if c.machine is not None and c.machine is not c.home_machine:
            return  # a what-if or profile machine is shown
        # When this process has probed already, its own machine stays on the panel; the table takes the cells.
        self.show_first_look(look, machine=c.machine is None)

    def after_first_paint(self, callback) -> None:
        """Run ``callback`` once, just after the table's first paint (or after FIRST_PAINT_FALLBACK_MS)."""
        pending = [callback]

        def run() -> None:
            if pending:
                pending.pop()()

        viewport = self.models_page.table.viewport()
        viewport.installEventFilter(_FirstPaint(run, viewport))
        QTimer.singleShot(FIRST_PAINT_FALLBACK_MS, self, run)

    def _show_machine(self, machine: Machine, specs) -> None:
        self.machine_panel.set_machine(machine, specs)
        self.setWindowTitle(f"rigcheck — {machine.label or machine.hostname or 'this machine'}")
        self.detail_page.set_memory_limits(*memory_limits(machine))
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
        # The table first, the detail pane on the next turn of the event loop: the table paints and input is
        # handled in between, instead of both updates and paints in one stall.
        self.models_page.blockSignals(True)
        try:
            self.models_page.set_rows(list(ev.rows), list(ev.cells) or None)
        finally:
            self.models_page.blockSignals(False)
        QTimer.singleShot(0, self, self._refresh_detail)
        if self.machine_panel.sparkline.plot is None and not self._plotting_scheduled:
            # pyqtgraph is the slowest import of all: load it on a worker once the table has painted, then
            # build the sparkline (and later the charts) on the GUI thread without a freeze.
            self._plotting_scheduled = True
            QTimer.singleShot(0, self.machine_panel.sparkline.tick)  # after this paint: no wait for the caption
            QTimer.singleShot(PLOTTING_DELAY_MS, self._load_plotting)
        self.act_export.setEnabled(self.services.export_report is not None)

    def _refresh_detail(self) -> None:
        self.detail_page.show_row(self.models_page.current_row(), self.controller.settings.prompt_tokens)

    def _show_catalog(self, info: CatalogInfo) -> None:
        source = "built in" if info.source == "embedded" else info.source
        counts = f", {info.models:,} models" if info.models else ""
        text = f"Catalog: {source}, {units.age_text(info.generated_at)}{counts}"
        self.catalog_label.setText(text)
        tip = [f"Generated {info.generated_at or 'at an unknown time'}", *info.warnings]
        self.catalog_label.setToolTip(fmt.tooltip("\n".join(tip)))

    def _show_busy(self, key: str, running: bool) -> None:
        words = {"probe": "Probing this machine…", "evaluate": "Estimating…", "refresh": "Refreshing catalog…",
                 "export": "Exporting report…"}
        if key == "refresh":
            self.progress.setVisible(running)
            self.cancel_button.setVisible(running)
            self.act_refresh.setEnabled(not running and self.services.refresh_catalog is not None)
            self.act_add.setEnabled(not running and self.services.add_model is not None)
            if running:
                self.progress.setRange(0, 0)
        if running:
            self.busy_label.setText(words.get(key, ""))
        elif self.busy_label.text() == words.get(key):
            self.busy_label.setText("")

    def _show_progress(self, done, total, what: str = "") -> None:
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(1.0, (done or 0) / total)))
            if what:  # a refresh from the sources: models done of total, and the one being fetched
                self.progress.setFormat(f"{done} / {total} models")
                self.progress.setToolTip(fmt.tooltip(f"Fetching {what}"))
            else:
                self.progress.setFormat(f"{units.bytes_text(done)} / {units.bytes_text(total)}")
        else:
            self.progress.setRange(0, 0)

    def _refresh_finished(self, message: str) -> None:
        self._say(message)

    def show_failure(self, what: str, message: str, details: str) -> None:
        """One readable sentence in the status bar; the details one click away (credentials in URLs redacted)."""
        from rigcheck.catalog.redact import redact_text

        message = redact_text(message)
        self.error_label.setText(message)
        self.error_label.setToolTip(fmt.tooltip(message))
        self._error_details = redact_text(details)
        self.details_button.setVisible(bool(details))

    def _show_details(self) -> None:
        from rigcheck.desktop.widgets.crash_dialog import show_error  # QMessageBox: loaded when first needed

        show_error(self, self.error_label.text(), self._error_details)

    def _say(self, message: str) -> None:
        from rigcheck.catalog.redact import redact_text

        message = redact_text(message)
        self.error_label.setText(message)
        self.error_label.setToolTip(fmt.tooltip(message))
        self._error_details = ""
        self.details_button.hide()

    # actions -----------------------------------------------------------------------------------------
    def refresh_catalog(self) -> None:
        if not self.controller.refresh():
            self._say("A refresh is already running." if self.controller.refreshing
                      else "Catalog refresh is not part of this build.")

    def feed_dialog(self) -> None:
        """Set where Refresh catalog fetches from; remembered in rigcheck.ini."""
        from rigcheck.desktop.widgets.feed_dialog import FeedDialog

        c = self.controller
        dialog = FeedDialog(c.refresh_url, c.allow_unsigned, self)

        def accepted() -> None:
            c.refresh_url, c.allow_unsigned = dialog.url, dialog.allow_unsigned
            state.save_refresh_url(self.store, dialog.url, dialog.allow_unsigned)
            where = "Hugging Face and OpenRouter" if dialog.url is None else dialog.url
            unsigned = " (an unsigned feed is accepted from it)" if dialog.allow_unsigned else ""
            self._say(f"Refresh catalog will fetch {where}{unsigned}.")

        dialog.accepted.connect(accepted)
        dialog.open()
        self.feed_dialog_window = dialog

    def add_model_dialog(self) -> None:
        """Ask for a Hugging Face repo id or URL and add it (in the background, with progress and cancel)."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        dialog = QInputDialog(self)
        dialog.setWindowTitle("Add model")
        dialog.setLabelText("Hugging Face model (ORG/REPO or its URL), with its quantized versions:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue("")

        def accepted() -> None:
            ref = dialog.textValue().strip()
            if not ref:
                return
            from rigcheck.catalog.sources.huggingface import InvalidRepoId, parse_model_ref

            try:
                parse_model_ref(ref)
            except InvalidRepoId as exc:
                self._say(sentence(str(exc)))
                return
            if not self.controller.add_model(ref):
                self._say("A refresh is already running." if self.controller.refreshing
                          else "Adding models is not part of this build.")

        dialog.accepted.connect(accepted)
        dialog.open()
        self.add_dialog_window = dialog

    def export_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # first use only: its Python enums cost ~10 ms to set up

        start = str(Path(self.store.value("export/dir", str(Path.cwd())) or "") / "rigcheck-report.pdf")
        filters = ";;".join(f for _, f in EXPORT_FORMATS)
        path, chosen = QFileDialog.getSaveFileName(self, "Export report", start, filters)
        if not path:
            return
        fmt_name = next((k for k, f in EXPORT_FORMATS if f == chosen), None)
        suffix = Path(path).suffix.lower().lstrip(".")
        if suffix in {k for k, _ in EXPORT_FORMATS}:
            fmt_name = suffix  # the extension typed wins over the filter left selected
        elif fmt_name:
            path = f"{path}.{fmt_name}"
        self.store.setValue("export/dir", str(Path(path).parent))
        self.export_to(fmt_name or "pdf", path)

    def export_to(self, fmt_name: str, path: str) -> bool:
        selected = self.models_page.selected_model_id()
        ok = self.controller.export(fmt_name, path, (selected,) if selected else ())
        if not ok:
            self._say("Nothing to export yet." if self.services.export_report else
                      "Report export is not part of this build.")
        return ok

    def what_if(self) -> None:
        from rigcheck.desktop.widgets.hardware_dialog import HardwareDialog

        if self.controller.catalog is None:
            self._say("The catalog is still loading; What if… needs its device table.")
            return
        dialog = HardwareDialog(self.services, self.controller.catalog, self)
        dialog.accepted.connect(lambda: dialog.machine and self.controller.show_machine(dialog.machine))
        dialog.open()
        self.hardware_dialog = dialog

    # state -------------------------------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.store.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        for key, widget in (("window/state", self), ("window/split", self.split)):
            value = self.store.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                widget.restoreState(value)
        header = self.store.value("window/table_header")
        if isinstance(header, QByteArray) and not header.isEmpty():
            self.models_page.table.horizontalHeader().restoreState(header)
            self.models_page.columns_sized = True

    def save_state(self) -> None:
        self.store.setValue("window/geometry", self.saveGeometry())
        self.store.setValue("window/state", self.saveState())
        self.store.setValue("window/split", self.split.saveState())
        self.store.setValue("window/table_header", self.models_page.table.horizontalHeader().saveState())
        state.save_estimator_settings(self.store, self.controller.settings)
        self.store.sync()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.save_state()
        self.machine_panel.sparkline.timer.stop()
        self.controller.cancel_refresh()
        self.runner.wait(3000)
        super().closeEvent(event)
