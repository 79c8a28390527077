"""The worker primitive: results on the GUI thread, errors delivered, stale results dropped, cancel, progress."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread, QThreadPool

from rigcheck.desktop.workers import Cancelled, SynchronousPool, TaskRunner


def test_result_arrives_on_gui_thread(qtbot):
    runner = TaskRunner(QThreadPool())
    seen = {}
    gui_thread = QThread.currentThread()

    def work():
        seen["worker_thread"] = threading.current_thread() is not threading.main_thread()
        return 42

    def done(result, failure):
        seen["result"] = (result, failure)
        seen["on_gui"] = QThread.currentThread() is gui_thread

    runner.run_task(work, done)
    qtbot.waitUntil(lambda: "result" in seen, timeout=5000)
    assert seen == {"worker_thread": True, "result": (42, None), "on_gui": True}


def test_error_is_delivered_with_details(qtbot):
    runner = TaskRunner(QThreadPool())
    got = []

    def boom():
        raise ValueError("bad catalog")

    runner.run_task(boom, lambda r, f: got.append((r, f)))
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    result, failure = got[0]
    assert result is None
    assert failure.message == "bad catalog"
    assert "ValueError: bad catalog" in failure.details
    assert not failure.cancelled


def test_superseded_result_is_dropped(qtbot):
    runner = TaskRunner(QThreadPool())
    release = threading.Event()
    got = []

    def slow():
        release.wait(5)
        return "old"

    runner.run_task(slow, lambda r, f: got.append(r), key="evaluate")
    runner.run_task(lambda: "new", lambda r, f: got.append(r), key="evaluate")
    qtbot.waitUntil(lambda: got == ["new"], timeout=5000)
    release.set()
    assert runner.wait(5000)
    qtbot.wait(50)  # let the old task's queued signal arrive and be dropped
    assert got == ["new"]


def test_cancel_and_progress(qtbot):
    runner = TaskRunner(QThreadPool())
    progress = []
    got = []
    started = threading.Event()

    def download(ctx):
        for i in range(1000):
            ctx.progress(i, 1000, "")
            started.set()
            ctx.check()
            time.sleep(0.005)
        return "finished"

    handle = runner.run_task(download, lambda r, f: got.append(f), key="refresh", context=True,
                             on_progress=lambda d, t, m: progress.append((d, t)))
    assert started.wait(5)
    qtbot.waitUntil(lambda: bool(progress), timeout=5000)
    assert runner.busy("refresh")
    handle.context.cancel()
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert isinstance(got[0].exception, Cancelled) and got[0].cancelled
    assert progress[0] == (0, 1000)
    assert not runner.busy("refresh")


def test_synchronous_pool_runs_inline():
    runner = TaskRunner(SynchronousPool())
    got = []
    runner.run_task(lambda: 7, lambda r, f: got.append(r))
    assert got == [7]


class ManualPool:
    """Holds runnables until the test runs them: the order of events is then the test's to choose."""

    def __init__(self):
        self.queued = []

    def start(self, runnable):
        self.queued.append(runnable)

    def run_next(self):
        self.queued.pop(0).run()

    def waitForDone(self, msecs=-1):  # noqa: N802
        return True


def test_curve_requests_keep_only_the_latest(qtbot):
    from rigcheck.desktop.controller import AppController
    from rigcheck.desktop.evaluation import Evaluation
    from rigcheck.desktop.models.rows import build_rows
    from rigcheck.estimate.types import Settings

    from .fakes import fake_evaluate, gpu_machine, make_catalog, make_services

    asked = []

    def cost(model, quant, machine, catalog, utilizations, settings):
        asked.append(model.id)
        return {"hosted": [1.0] * len(utilizations)}, ""

    pool = ManualPool()
    controller = AppController(make_services(cost_curves=cost, estimate_one=None), TaskRunner(pool))
    controller.curve_delay_ms = 0  # each request goes straight to the latest-only queue
    catalog, machine = make_catalog(), gpu_machine()
    estimates = fake_evaluate(machine, catalog, Settings())
    rows = build_rows(catalog, estimates)
    controller.evaluation = Evaluation(machine, catalog, Settings(), tuple(estimates), tuple(rows))
    delivered = []
    controller.cost_ready.connect(lambda model_id, quant, u, curves, note: delivered.append(model_id))
    for row in rows[:3]:  # three rows in quick succession
        controller.request_curves(row, row.estimates[0])
    assert len(pool.queued) == 1  # one running; the others wait, and only the newest of them survives
    pool.run_next()
    assert delivered == [] and len(pool.queued) == 1  # the stale result is dropped, the newest starts
    pool.run_next()
    assert asked == [rows[0].model.id, rows[2].model.id]
    assert delivered == [rows[2].model.id]


def test_result_for_a_deleted_receiver_is_dropped(qtbot):
    """A window closed while its task runs must not be called back (its C++ side is gone)."""
    from PySide6.QtWidgets import QWidget

    runner = TaskRunner(QThreadPool())
    release = threading.Event()
    calls = []

    class Receiver(QWidget):
        def done(self, result, failure):
            calls.append((result, failure))

    receiver = Receiver()
    runner.run_task(lambda: release.wait(5) and "late", receiver.done)
    control = Receiver()
    runner.run_task(lambda: "kept", control.done)
    import shiboken6

    shiboken6.delete(receiver)
    release.set()
    qtbot.waitUntil(lambda: calls == [("kept", None)], timeout=3000)
    assert runner.wait(3000)
    qtbot.wait(50)
    assert calls == [("kept", None)]


def test_a_task_that_ends_after_its_runner_is_gone_ends_quietly(qtbot, capfd):
    # Closing the window while a scan runs: the runner (and its signals) are deleted before the task ends. That
    # printed "RuntimeError: Signal source has been deleted" twice on the way out.
    import shiboken6

    pool = QThreadPool()
    runner = TaskRunner(pool)
    release = threading.Event()
    ended = threading.Event()

    def work(ctx):
        release.wait(5)
        ctx.progress(1, 1, "done")  # progress after the runner is gone too
        ended.set()
        return 1

    runner.run_task(work, lambda result, failure: None, context=True)
    shiboken6.delete(runner)
    release.set()
    assert ended.wait(5) and pool.waitForDone(5000)
    _, err = capfd.readouterr()
    assert "Signal source has been deleted" not in err and "Traceback" not in err
