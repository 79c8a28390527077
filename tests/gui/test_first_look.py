"""The first-look helper process: what it computes, how its payload travels, and how the window uses it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from msgspec.structs import replace
from PySide6.QtCore import QItemSelectionModel

from rigcheck.desktop import first_look, helper_process, state
from rigcheck.desktop.app import open_window
from rigcheck.desktop.evaluation import evaluate_rows
from rigcheck.desktop.first_look import FirstLook, GpuSpec
from rigcheck.desktop.helper_process import Helper
from rigcheck.desktop.models.cells import table_rows
from rigcheck.desktop.models.model_table import ROW_ROLE
from rigcheck.estimate.types import Settings

from .fakes import make_services


# settings file -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("settings", [
    Settings(),
    Settings(context_tokens=65536, prompt_tokens=4096, kv_cache_type="q8_0", runtime="vllm", memory_basis="free"),
    Settings(context_tokens=8192, prompt_tokens=512, kv_cache_type="q4_0", runtime="llama.cpp"),
])
def test_helper_reads_the_settings_qsettings_wrote(settings, tmp_path):
    from PySide6.QtCore import QSettings

    path = tmp_path / "rigcheck.ini"
    store = QSettings(str(path), QSettings.Format.IniFormat)
    store.setValue("catalog/feed_url", "https://example.org/feed.json")
    state.save_estimator_settings(store, settings)
    store.sync()
    assert state.load_estimator_settings(state.IniValues(path)) == state.load_estimator_settings(store) == settings


def test_unreadable_settings_file_reads_as_defaults(tmp_path):
    bad = tmp_path / "rigcheck.ini"
    bad.write_bytes(b"\xff\xfe[estimate\ncontext_tokens=banana\n")
    assert state.load_estimator_settings(state.IniValues(bad)) == Settings()
    assert state.load_estimator_settings(state.IniValues(tmp_path / "missing.ini")) == Settings()


# what the helper computes ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_look(tmp_path_factory) -> FirstLook:
    return first_look.compute(tmp_path_factory.mktemp("cfg") / "rigcheck.ini")


def test_first_look_is_what_the_window_would_show_for_that_machine(real_look):
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop.services import default_services

    catalog = load_catalog()
    own = evaluate_rows(default_services(), real_look.machine, catalog, real_look.settings)
    assert real_look.cells == tuple(table_rows(list(own.rows)))
    assert len(real_look.cells) == len(catalog.models) > 100
    assert len(real_look.specs) == len(real_look.machine.gpus)
    assert real_look.catalog.sequence == catalog.sequence


@pytest.mark.parametrize("workers", [1, 2])
def test_a_large_catalog_shared_with_forked_workers_gives_the_same_cells(monkeypatch, tmp_path, real_look, workers):
    from rigcheck.estimate import forked
    from rigcheck.probe import detect

    monkeypatch.setattr(detect, "probe_machine", lambda: real_look.machine)  # free memory moves between probes
    monkeypatch.setattr(first_look, "MODELS_PER_CHUNK", 25)  # the embedded catalog in 4 chunks
    asked = []
    monkeypatch.setattr(forked, "default_workers", lambda chunks: asked.append(chunks) or workers)
    chunked = first_look.compute(tmp_path / "rigcheck.ini")
    assert asked == [4]
    monkeypatch.setattr(forked, "default_workers", lambda chunks: 0)
    assert chunked.cells == first_look.compute(tmp_path / "rigcheck.ini").cells
    assert len(chunked.cells) == len(real_look.cells)


def test_payload_round_trips(real_look):
    assert first_look.loads(first_look.dumps(real_look)) == real_look


@pytest.mark.parametrize("data, reason", [
    (b"", "it wrote nothing"),
    (b"Traceback (most recent call last):\n", "its output is not a first look"),
    (first_look.MAGIC + b"\x80\x05trunc", "its output could not be read"),
    (first_look.dumps(first_look._Failed("OSError: disk on fire")), "OSError: disk on fire"),
    (first_look.dumps({"not": "a look"}), "its output is a dict, not a first look"),
])
def test_bad_payloads_are_refused_with_a_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        first_look.loads(data)


def test_gpu_spec_keeps_what_the_machine_panel_reads():
    from rigcheck.catalog.records import Device

    d = Device(name="X", vendor="NVIDIA", kind="consumer", bandwidth_bytes_per_s=1e12, fp16_tensor_tflops=100.0,
               bf16_tensor_tflops=100.0, fp16_vector_tflops=50.0)
    assert GpuSpec.of(d) == GpuSpec("X", 1e12, 100.0, 100.0, 50.0)
    assert GpuSpec.of(None) is None


# the helper process ----------------------------------------------------------------------------------------
def test_helper_process_delivers_a_first_look():
    helper = helper_process.start_helper()
    assert helper is not None
    look = helper.result(timeout_s=120)
    assert isinstance(look, FirstLook) and len(look.cells) > 100
    assert look.settings == Settings()  # the test's config folder holds no settings file


def test_helper_is_not_started_when_disabled(monkeypatch):
    monkeypatch.setenv(helper_process.ENV_DISABLE, "1")
    assert helper_process.start_helper() is None


SPAWNERS = ["subprocess"] + (["posix_spawn"] if hasattr(__import__("os"), "posix_spawn") else [])


def _helper(code: str, spawner: str) -> Helper:
    command = [sys.executable, "-c", code]
    if spawner == "posix_spawn":
        import os

        return Helper(helper_process._posix_spawn(command, dict(os.environ)))
    return Helper(subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL))


@pytest.mark.parametrize("spawner", SPAWNERS)
@pytest.mark.parametrize("code", [
    "import sys; sys.stdout.write('garbage')",
    "import sys; sys.exit(3)",
    "import os; os.abort()",
])
def test_a_failing_helper_gives_no_first_look(code, spawner):
    assert _helper(code, spawner).result(timeout_s=60) is None


@pytest.mark.parametrize("spawner", SPAWNERS)
def test_a_slow_helper_is_stopped(spawner):
    helper = _helper("import time; time.sleep(60)", spawner)
    assert helper.result(timeout_s=0.3) is None
    assert helper.process.poll() is not None  # killed, not left behind


@pytest.mark.parametrize("spawner", SPAWNERS)
def test_a_helper_writing_more_than_a_pipe_holds_is_read_whole(spawner):
    code = ("import sys; from rigcheck.desktop import first_look; "
            "sys.stdout.buffer.write(first_look.dumps(first_look._Failed('x' * 300000)))")
    helper = _helper(code, spawner)
    assert helper.wait(60) and helper.process.returncode == 0
    with pytest.raises(ValueError, match="x" * 1000):
        first_look.loads(helper._output)


# the window ------------------------------------------------------------------------------------------------
class _Ready:
    """A stand-in helper (helper_process.Helper's interface) that finishes after ``delay_s`` with ``look``."""

    def __init__(self, look, delay_s: float = 0.0):
        import threading

        self._look = look
        self.finished = threading.Event()
        self.cancelled = False
        if delay_s:
            threading.Timer(delay_s, self.finished.set).start()
        else:
            self.finished.set()

    def wait(self, timeout_s):
        return self.finished.wait(timeout_s)

    def done(self):
        return self.finished.is_set()

    def look(self):
        return self._look if not self.cancelled else None

    def cancel(self):
        self.cancelled = True
        self.finished.set()


def _look_for(services, settings: Settings) -> FirstLook:
    """The first look a helper would compute with these (fake) services."""
    machine, catalog = services.probe_machine(), services.load_catalog()
    rows = evaluate_rows(services, machine, catalog, settings).rows
    return FirstLook(settings, machine, (None,) * len(machine.gpus), services.catalog_info(catalog),
                     tuple(table_rows(list(rows))), 0.1)


def test_window_paints_the_first_look_then_its_own_evaluation_replaces_it_in_place(qtbot):
    look = _look_for(make_services(), Settings())
    services = make_services(first_look=lambda: _Ready(look))
    window = open_window(services)
    qtbot.addWidget(window)
    model = window.models_page.model
    # Before any event is processed: the table, the machine panel and the catalog line come from the first look.
    assert model.rowCount() == 4 and window.controller.evaluation is None
    assert window.machine_panel.machine is look.machine
    assert window.catalog_label.text().startswith("Catalog: built in, ")
    assert services._calls == []  # nothing evaluated in this process before the first paint
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    view = window.models_page.table
    index = window.models_page.proxy.index(0, 0)
    picked = model.cell_at(window.models_page.proxy.mapToSource(index).row()).model_id  # in the sorted order
    view.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    assert window.models_page.current_row() is None  # no records behind a first look yet

    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    assert resets == []  # updated in place: selection and scroll position kept
    assert window.models_page.selected_model_id() == picked
    assert view.currentIndex().data(ROW_ROLE).model.id == picked
    qtbot.waitUntil(lambda: window.detail_page.row is not None, timeout=3000)  # the next turn of the loop
    assert window.detail_page.row.model.id == picked
    assert len(services._calls) == 1
    window.machine_panel.sparkline.timer.stop()
    window.runner.wait(3000)


def test_first_look_made_with_other_settings_is_not_shown(qtbot):
    look = _look_for(make_services(), replace(Settings(), context_tokens=1024))
    window = open_window(make_services(first_look=lambda: _Ready(look)))
    qtbot.addWidget(window)
    assert window.controller.evaluation is None or window.controller.evaluation.settings == Settings()
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    assert window.models_page.model.has_rows() and window.models_page.model.rowCount() == 4
    window.machine_panel.sparkline.timer.stop()
    window.runner.wait(3000)


def test_window_starts_without_a_first_look_when_the_helper_fails(qtbot):
    window = open_window(make_services(first_look=lambda: _Ready(None)))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    assert window.models_page.model.rowCount() == 4
    window.machine_panel.sparkline.timer.stop()
    window.runner.wait(3000)


# start-up path ---------------------------------------------------------------------------------------------
def test_window_modules_load_none_of_the_catalog_machinery():
    # What the GUI process imports before its first paint: the catalog records, the estimator engine, psutil and the
    # probe are the first-look helper's work, and load in this process only after the paint (msgspec itself loads
    # before it: the records the window is made of are msgspec Structs).
    code = ("import sys\n"
            "import rigcheck.cli.main, rigcheck.desktop.helper_process, rigcheck.desktop.app\n"
            "import rigcheck.desktop.main_window, rigcheck.desktop.first_look, rigcheck.desktop.services\n"
            "heavy = ('psutil', 'platformdirs', 'rigcheck.catalog.records', 'rigcheck.catalog.store',\n"
            "         'rigcheck.estimate.engine', 'rigcheck.estimate.estimator', 'rigcheck.probe.detect',\n"
            "         'rigcheck.desktop.models.rows',\n"
            "         'subprocess' if hasattr(__import__('os'), 'posix_spawn') else 'psutil')\n"
            "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_app_entry_point_runs_the_helper_when_asked():
    # A frozen app starts itself as the helper (helper_command); its entry point is rigcheck.__main__.
    import os

    env = {**os.environ, helper_process.ENV_CHILD: "1"}
    out = subprocess.run([sys.executable, "-m", "rigcheck"], env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(first_look.loads(out.stdout).cells) > 100


def test_plain_rigcheck_starts_the_helper_before_anything_else(monkeypatch):
    import gc

    from rigcheck.cli import main as cli
    from rigcheck.desktop import app

    started, ran = [], []
    monkeypatch.setattr(helper_process, "start_helper", lambda: started.append(1) or "helper")
    monkeypatch.setattr(app, "run_gui", lambda **kw: ran.append(kw) or 0)
    try:
        assert cli.main([]) == 0
    finally:
        gc.enable()
    assert started == [1] and ran == [{"helper": "helper"}]


def _slow(services, seconds: float):
    """``services`` whose evaluation takes ``seconds`` (the window's own work finishing late)."""
    import time

    slow = services.evaluate

    def evaluate(m, c, s):
        time.sleep(seconds)
        return slow(m, c, s)

    return services.with_(evaluate=evaluate)


def _close(window):
    window.machine_panel.sparkline.timer.stop()
    window.runner.wait(5000)


def test_a_slow_helper_does_not_hold_the_window_and_its_late_first_look_is_shown(qtbot):
    look = _look_for(make_services(), Settings())
    helper = _Ready(look, delay_s=0.6)
    window = open_window(_slow(make_services(first_look=lambda: helper), 2.0))
    qtbot.addWidget(window)
    assert window.isVisible() and window.models_page.model.rowCount() == 0  # shown at once, not waiting
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 4, timeout=5000)
    assert window.controller.evaluation is None  # the first look came before the window's own evaluation
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    assert window.models_page.model.has_rows()
    _close(window)


def test_the_own_work_waits_for_a_helper_still_at_work(qtbot):
    look = _look_for(make_services(), Settings())
    helpers = []
    probed = []
    services = make_services(first_look=lambda: helpers.append(_Ready(look, delay_s=1.5)) or helpers[0])
    services = services.with_(probe_machine=lambda probe=services.probe_machine: probed.append(1) or probe())
    window = open_window(services)
    qtbot.addWidget(window)
    qtbot.wait(500)
    assert not helpers[0].done(), "the helper is still at work"
    assert not probed and window.controller.evaluation is None, "both would compete for the same cores"
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 4, timeout=5000)
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    assert probed, "then the window's own work starts"
    _close(window)


def test_the_own_work_starts_when_the_helper_fails(qtbot):
    helper = _Ready(None, delay_s=0.4)
    window = open_window(make_services(first_look=lambda: helper))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    _close(window)


def test_the_own_work_waits_for_a_slow_helper_only_a_while(qtbot, monkeypatch):
    from rigcheck.desktop import app

    monkeypatch.setattr(app, "FIRST_LOOK_HOLD_S", 0.2)
    helper = _Ready(_look_for(make_services(), Settings()), delay_s=8.0)
    window = open_window(make_services(first_look=lambda: helper))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=5000)
    assert not helper.done()
    _close(window)


def test_a_first_look_that_comes_after_the_own_evaluation_is_not_shown(qtbot, monkeypatch):
    from rigcheck.desktop import app

    monkeypatch.setattr(app, "FIRST_LOOK_HOLD_S", 0.05)  # the window's own work starts while the helper works
    other = replace(Settings(), context_tokens=1024)  # would show different figures if it were used
    helper = _Ready(_look_for(make_services(), other), delay_s=1.0)
    window = open_window(make_services(first_look=lambda: helper))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    shown = window.models_page.model.cells()
    qtbot.waitUntil(helper.done, timeout=5000)
    qtbot.wait(100)
    assert window.models_page.model.cells() == shown and window.models_page.model.has_rows()
    _close(window)


def test_a_helper_that_never_finishes_is_stopped(qtbot, monkeypatch):
    from rigcheck.desktop import app

    monkeypatch.setattr(app, "FIRST_LOOK_LATE_S", 0.3)
    helper = _Ready(None, delay_s=60)
    window = open_window(make_services(first_look=lambda: helper))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: helper.cancelled, timeout=5000)
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    _close(window)


def test_after_first_paint_runs_once_after_the_paint_or_the_fallback(make_window, services, qtbot, monkeypatch):
    from rigcheck.desktop import main_window

    monkeypatch.setattr(main_window, "FIRST_PAINT_FALLBACK_MS", 300)
    window = make_window(services)
    painted = []
    window.after_first_paint(lambda: painted.append(1))
    window.models_page.table.viewport().update()
    qtbot.waitUntil(lambda: painted == [1], timeout=3000)
    qtbot.wait(500)  # the fallback timer has fired by now: no second call
    assert painted == [1]

    hidden = make_window(services)
    hidden.hide()
    late = []
    hidden.after_first_paint(lambda: late.append(1))
    qtbot.waitUntil(lambda: late == [1], timeout=3000)  # never painted: the fallback runs it
