"""The QApplication: names for QSettings, the crash hook, and the GUI entry point."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from rigcheck import __version__

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication



def _log():
    """The app's logger; logging is imported when first needed, not on the start-up path."""
    import logging

    return logging.getLogger("rigcheck")


def _configure_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_redact_record)


FIRST_RESULTS_WAIT_S = 0.5
"""How long the new window waits for the first evaluation before it is shown anyway."""
FIRST_LOOK_WAIT_S = 0.25
"""How long the built window waits for the first-look helper before it is shown without it (the helper has
normally finished by the time the window is built)."""
FIRST_LOOK_LATE_S = 15.0
"""A slower helper (a slow driver, a cold disk) is waited for in the background this long; its first look is
shown if it comes before the window's own evaluation."""
FIRST_LOOK_HOLD_S = 3.0
"""How long the window's own work (catalog, probe, evaluation) waits for a helper still at work: both do the same
work on the same cores, so starting at once slows the first look down (a 10,000-model catalog: 4.6 s to the first
look with both at work) for an evaluation that comes later still."""


def load_qt() -> None:
    """Import PySide6 and spare the modules already loaded its import hook's source scan.

    After PySide6 is imported, its ``__feature__`` hook reads the source of every module the first time an
    ``import`` statement names it (to see whether it uses PySide), including stdlib modules loaded long before
    (``os``, ``typing``, ``dataclasses``, ``pathlib``...): about 10 ms at start-up. The answer only matters to
    modules that select PySide features (``from __feature__ import snake_case``), which rigcheck never does,
    so the modules loaded before Qt are marked "ignore" (-1, the hook's answer for a module without PySide);
    modules imported later are left to the hook. Best effort: a PySide without this hook is left alone.
    """
    import PySide6.QtCore  # noqa: F401 - loads the hook

    features = getattr(sys.modules.get("PySide6.support.feature"), "pyside_feature_dict", None)
    if isinstance(features, dict):
        for name in list(sys.modules):
            if not name.startswith(("PySide6", "shiboken6")):
                features.setdefault(name, -1)


OFFSCREEN_NOISE = frozenset({"This plugin does not support propagateSizeHints()"})
"""What Qt's offscreen plugin warns for every window a screenshot shows: true of the plugin, nothing to act on."""


def _drop_offscreen_noise() -> None:
    """Keep ``OFFSCREEN_NOISE`` off stderr (``gui --screenshot`` printed it once per window); every other Qt
    message is written as Qt writes it."""
    from PySide6.QtCore import qFormatLogMessage, qInstallMessageHandler

    def handler(mode, context, message: str) -> None:
        if message in OFFSCREEN_NOISE:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(qFormatLogMessage(mode, context, message) + "\n")

    previous = qInstallMessageHandler(handler)


def create_app(argv: list[str] | None = None) -> QApplication:
    """The one QApplication (reused when it exists, as under pytest-qt). HiDPI scaling is Qt 6's default."""
    load_qt()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
        if app.platformName() == "offscreen":
            _drop_offscreen_noise()
    app.setApplicationName("rigcheck")
    app.setOrganizationName("rigcheck")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("io.github.rigcheck.rigcheck")
    return app


def run_gui(machine=None, *, screenshot: str | None = None, select: str | None = None, tab: str | None = None,
            quant: str | None = None, services=None, helper=None, size: tuple[int, int] = (1600, 1000)) -> int:
    """Open the main window (and run the event loop), or render it to ``screenshot`` and return.

    With ``screenshot``, every task runs synchronously so the saved image shows the fully populated
    window at ``size`` (width, height). ``select`` (a model id or part of one with a screenshot, an id without):
    the model whose detail pane is shown, at ``quant`` and on ``tab``. ``helper``: a first-look helper already
    started (``helper_process.start_helper``) for this machine; it is used instead of starting one.
    Returns the exit code. Raises ValueError when ``select`` names no model in the catalog.
    """
    from rigcheck.desktop.services import default_services
    from rigcheck.desktop.widgets.crash_dialog import install_crash_hook  # imports no Qt

    if screenshot and not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    services = services or default_services()
    if helper is not None:
        services = services.with_(first_look=lambda: helper)
    if screenshot:
        return _screenshot(create_app(), services, machine, screenshot, select, tab, quant, size)
    install_crash_hook()
    window = open_window(services, machine)
    # Logging is set up once the window has painted (nothing it logs before then is more than information).
    window.after_first_paint(_configure_logging)
    if select:
        open_detail_when_ready(window, select, tab, quant)
    code = create_app().exec()
    window.runner.wait(3000)
    return code


def _redact_record(record) -> bool:
    """A log filter: credentials in URLs never reach the log (a feed URL may carry them)."""
    import logging

    from rigcheck.catalog.redact import redact_text

    record.msg, record.args = redact_text(record.getMessage()), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
    return True


def open_window(services, machine=None):
    """Create the QApplication (when there is none yet), build the main window, populate it and show it.

    For this machine, with the real services, a helper process computes the first look (first_look.py) while
    this process starts Qt; the window paints it, then loads and evaluates in this process after its first
    paint. Otherwise (a given machine, test services, or no helper) see ``_open_window_here``.
    Returns the window; results not ready by then arrive through the event loop.
    """
    helper = services.first_look() if machine is None and services.first_look is not None else None
    if helper is None:
        return _open_window_here(services, machine)
    from rigcheck.desktop import first_look  # noqa: F401 - to read the helper's payload, imported before Qt
    from rigcheck.desktop.services import prefetch, with_evaluation

    store, settings = _saved_settings()
    window = _app_window(services, store, settings)

    def start_here():
        _collect_garbage_again()
        window.start(None, with_evaluation(prefetch(services), services, settings))

    if helper.wait(FIRST_LOOK_WAIT_S):
        look = helper.look()
        if look is not None and look.settings != settings:
            _log().info("first look: made with other settings than the window's; not shown")
            look = None
        if look is None:
            start_here()
        else:
            window.show_first_look(look)
            # This process's own work starts once the first look is on screen: until then it would only
            # compete with the first paint for the interpreter.
            window.after_first_paint(start_here)
    else:
        # The window does not wait for a slow helper, and its own work waits for the helper only a while: until the
        # helper's first look is painted, or the helper failed, or FIRST_LOOK_HOLD_S. A late first look is still
        # shown if it comes before the window's own evaluation.
        window.first_look_later(helper, FIRST_LOOK_LATE_S, then=start_here, hold_s=FIRST_LOOK_HOLD_S)
    window.show()
    return window


def _saved_settings():
    """Load Qt (sparing the modules loaded so far its import hook) and read the settings store once: the first
    evaluation starts with its estimator settings, and the window keeps the store. Returns (store, settings)."""
    from rigcheck.desktop import state

    load_qt()
    store = state.open_settings()
    return store, state.load_estimator_settings(store)


def _app_window(services, store, settings):
    """The QApplication (made when there is none) and the app's main window, not yet started or shown."""
    from rigcheck.desktop.main_window import MainWindow
    from rigcheck.desktop.workers import TaskRunner

    create_app()
    window = MainWindow(services, TaskRunner(), store=store, settings=settings)
    window.freeze_long_lived = True
    return window


def _collect_garbage_again() -> None:
    """Start-up's objects (modules, classes, Qt enums) live as long as the app: keep them out of every future
    collection (gc.freeze), then turn cyclic collection back on if start-up turned it off."""
    import gc

    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _open_window_here(services, machine=None):
    """Start the catalog load, (for this machine) the probe and the first evaluation on threads of this process,
    then build the main window and show it (the first paint has the rows when they are ready in time)."""
    from rigcheck.desktop.services import prefetch, with_evaluation

    if services.preload is not None:
        # Before Qt: once PySide6.QtCore is imported, every later import pays for its import hook.
        services.preload()
    early = prefetch(services, probe=machine is None)
    store, settings = _saved_settings()
    early = with_evaluation(early, services, settings, machine)
    window = _app_window(services, store, settings)
    if early.evaluation is not None:
        # The window opens with its rows rather than empty and then filled (one paint instead of two, and no
        # flash of an empty table). A slow probe (a hung driver) delays the window by this much at most; its
        # results then arrive through the event loop.
        from concurrent.futures import wait

        wait([early.evaluation], timeout=FIRST_RESULTS_WAIT_S)
    # Started before it is shown: whatever the prefetch has finished is in the window's first paint.
    window.start(machine, early)
    window.show()
    _collect_garbage_again()
    return window


def _screenshot(app, services, machine, path: str, select: str | None, tab: str | None = None,
                quant: str | None = None, size: tuple[int, int] = (1600, 1000)) -> int:
    store = _scratch_store()
    window = populated_window(app, services, machine, size, select, store=store)
    try:
        if quant:  # after the detail pane's deferred refresh, which shows the model's pick
            _select_quant(window.detail_page, quant)
        if tab:
            _select_tab(window.detail_page, tab)
        app.processEvents()
        image = window.grab()
        from rigcheck.report.files import write_file

        def save(tmp) -> None:
            if not image.save(str(tmp), "PNG"):
                raise OSError("Qt could not encode the window as a PNG")

        write_file(path, save)  # as a report is written: atomically, a bad destination refused with the reason
    finally:
        window.machine_panel.sparkline.timer.stop()
        window.close()
        os.unlink(store.fileName())
    return 0


def populated_window(app, services, machine, size: tuple[int, int], select: str | None = None, *, store=None):
    """A main window at ``size``, every task run synchronously, fully populated and laid out (what a screenshot
    shows; the render tests inspect it). ``select``: a model id or part of one, whose detail pane is opened.
    The caller closes the window. Raises RuntimeError when it could not be populated, ValueError for ``select``
    naming no model."""
    from rigcheck.desktop.main_window import MainWindow
    from rigcheck.desktop.workers import SynchronousPool, TaskRunner
    from rigcheck.estimate.types import Settings

    window = MainWindow(services, TaskRunner(SynchronousPool()), store=store if store is not None else _scratch_store())
    window.controller.curve_delay_ms = 0  # a screenshot shows the curves of the selected model at once
    window.controller.settings = Settings()
    window.resize(*size)
    window.show()
    window.start(machine)
    if window.controller.catalog is None or window.controller.evaluation is None:
        window.close()
        raise RuntimeError(window.error_label.text() or "the window could not be populated")
    if window.machine_panel.sparkline.isVisible():
        window.machine_panel.sparkline.enable_plot()  # no waiting for the deferred load in a screenshot
    if select:
        if services.find_model is None:
            raise ValueError("--select needs the catalog's model lookup, which is not part of this build")
        model = services.find_model(window.controller.catalog, select)
        if not window.models_page.select_model(model.id):
            raise ValueError(f"model {model.id} has no row in the table")
    for _ in range(5):
        app.processEvents()
    current = window.models_page.table.currentIndex()
    if current.isValid():  # the layout has settled: now the selected row can be brought into view
        window.models_page.table.scrollTo(current, window.models_page.table.ScrollHint.PositionAtCenter)
        app.processEvents()
    return window


def open_detail_when_ready(window, model_id: str, tab: str | None = None, quant: str | None = None) -> None:
    """``gui --select`` without ``--screenshot``: open ``model_id``'s detail pane, at ``quant`` and on ``tab``, once
    the window has its own evaluation (a first look's cells have no rows behind them to show), unless the user has
    selected a model by then or that evaluation failed. A quant or tab the pane does not have is said in the status
    bar; the window stays as it is otherwise."""
    from PySide6.QtCore import QTimer

    def then_quant_and_tab() -> None:  # the pane is filled on the loop turn after the selection (_refresh_detail)
        try:
            if quant:
                _select_quant(window.detail_page, quant)
            if tab:
                _select_tab(window.detail_page, tab)
        except ValueError as exc:
            window.show_failure("select", str(exc), "")

    def stop() -> None:
        window.controller.evaluated.disconnect(show)
        window.controller.failed.disconnect(failed)

    def show(_evaluation=None) -> None:
        stop()
        if window.models_page.selected_model_id() is not None:  # the user chose a model meanwhile: theirs stands
            return
        if not window.show_model(model_id):
            window.show_failure("select", f"{model_id} has no row in the table", "")
            return
        if quant or tab:
            QTimer.singleShot(0, window, then_quant_and_tab)

    def failed(what: str, _message: str, _details: str) -> None:
        if what in ("probe", "catalog", "evaluate"):  # no evaluation to open it in (the failure is on screen)
            stop()

    window.controller.evaluated.connect(show)
    window.controller.failed.connect(failed)
    if window.controller.evaluation is not None:
        show()


def _select_quant(page, quant: str) -> None:
    """Show ``quant`` in the detail pane (the screenshot's --quant). Raises ValueError when it has no row."""
    from PySide6.QtCore import QItemSelectionModel

    for r in range(page.quant_proxy.rowCount()):
        idx = page.quant_proxy.index(r, 0)
        item = page.quants.item(page.quant_proxy.mapToSource(idx).row())
        if item is not None and item.quant.casefold() == quant.casefold():
            page.quant_view.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            return
    raise ValueError(f"the selected model has no quant {quant!r}")


def _select_tab(page, name: str) -> None:
    """Show the detail tab named ``name`` (the screenshot's --tab). Raises ValueError for an unknown name."""
    names = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    for i, text in enumerate(names):
        if text.casefold() == name.casefold():
            page.tabs.setCurrentIndex(i)
            return
    raise ValueError(f"no detail tab {name!r}; the tabs are: {', '.join(names)}")


def _scratch_store():
    """Screenshots must not depend on (or change) the user's remembered window layout."""
    import tempfile

    from PySide6.QtCore import QSettings

    handle = tempfile.NamedTemporaryFile(prefix="rigcheck-shot-", suffix=".ini", delete=False)
    handle.close()
    return QSettings(handle.name, QSettings.Format.IniFormat)
