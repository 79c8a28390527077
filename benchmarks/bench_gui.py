"""GUI benchmarks: cold start to a populated window, event-loop stalls during work, resident memory.

Targets (issue 6, issue 16): cold start <= 1.5 s and <= 1.5x a bare PySide6 window started the same way in the same
run (the window with its picks strip and table on screen);
no GUI-thread stall over 100 ms while re-evaluating and refreshing the catalog; RSS <= 300 MB.
Each start-up figure is the median of several runs in fresh processes (the box is shared and noisy); the window's
start ends when its model table has drawn its rows (``ModelsTable.painted``), the bare window's when its paint is
done. Beside them, two floors for reference (informative): a window of PySide6 alone, making the same PySide6 types
as rigcheck's and showing labels, a toolbar and a table, with none of rigcheck's code (``FLOOR``), and the same with
msgspec imported first, as rigcheck's start-up records need (``FLOOR_RECORDS``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COLD_START_TARGET_S = 1.5
BARE_RATIO_TARGET = 1.5
STALL_TARGET_MS = 100.0
RSS_TARGET_MB = 300.0
RUNS = 7
SELECTED_MODEL = "Qwen/Qwen3-30B-A3B"

BARE = textwrap.dedent("""
    import os, time
    from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
    app = QApplication([])
    w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1600, 1000); w.show()
    app.processEvents()
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"ready elapsed={time.time() - float(os.environ['BENCH_T0'])} cpu={usage.ru_utime + usage.ru_stime}",
          flush=True)
""")

FULL = textwrap.dedent("""
    import os, time
    # What `rigcheck` with no arguments does (cli.main's first branch, then run_gui), minus app.exec():
    import rigcheck.__main__, rigcheck.cli.main
    import gc
    gc.disable()
    from rigcheck.desktop.helper_process import start_helper
    helper = start_helper()
    from rigcheck.desktop.app import open_window
    from rigcheck.desktop.services import default_services
    from rigcheck.desktop.widgets.crash_dialog import install_crash_hook
    install_crash_hook()
    window = open_window(default_services().with_(first_look=lambda: helper))
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance()
    table = window.models_page.table
    marks = {}
    expected = int(os.environ["BENCH_MODELS"])

    def finish_when_done():
        if "painted" in marks and "interactive" in marks:
            QTimer.singleShot(0, app.quit)

    def painted():
        # Ready = the table has just painted (ModelsTable.painted: after its paintEvent, so the rows are drawn) a row
        # for every model, with its figures, and the machine panel shows the machine (from the first-look helper or
        # from this process's own evaluation).
        if ("painted" not in marks and window.models_page.model.rowCount() == expected
                and window.machine_panel.machine is not None and window.picks.shown):
            marks["painted"] = time.time()
            import resource
            usage = resource.getrusage(resource.RUSAGE_SELF)
            marks["cpu"] = usage.ru_utime + usage.ru_stime
            finish_when_done()

    def evaluated(_evaluation):
        # Interactive = this process has its own evaluation (detail pane, what-if, export work).
        marks.setdefault("interactive", time.time())
        finish_when_done()

    table.painted.connect(painted)
    window.controller.evaluated.connect(evaluated)
    if window.controller.evaluation is not None:
        evaluated(window.controller.evaluation)
    window.controller.failed.connect(lambda what, message, details: (print(message), app.exit(3)))
    if app.exec() == 3:
        raise SystemExit(3)
    elapsed = marks["painted"] - float(os.environ["BENCH_T0"])
    interactive = marks["interactive"] - float(os.environ["BENCH_T0"])
    rows = window.models_page.model.rowCount()
    import psutil  # the benchmark's own instrument: imported after the measurement
    rss = psutil.Process().memory_info().rss
    try:
        import resource  # the first-look helper's peak (KiB on Linux), once it has exited
        helper_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    except ImportError:
        helper_rss = 0
    window.machine_panel.sparkline.timer.stop()
    window.runner.wait(5000)
    print(f"ready elapsed={elapsed} interactive={interactive} rows={rows} rss={rss} helper_rss={helper_rss} "
          f"cpu={marks['cpu']}", flush=True)
""")


TYPES_MADE = textwrap.dedent("""
    # The PySide6 types (each with its Python enums, created at first use) the window has made by its first paint.
    import enum, json, PySide6.QtCore, PySide6.QtGui, PySide6.QtWidgets
    names = [f"{m.__name__.rsplit('.', 1)[1]}.{n}" for m in (PySide6.QtCore, PySide6.QtGui, PySide6.QtWidgets)
             for n, v in list(vars(m).items()) if isinstance(v, type)]
    open(os.environ["BENCH_TYPES_OUT"], "w").write(json.dumps(names))
""")

FLOOR = textwrap.dedent("""
    import os, time, json
    # The floor under the full start: a bare window that also makes every PySide6 type the full one makes by its
    # first paint (TYPES_MADE), and shows 12 plain-text labels, a toolbar of 8 actions and a 113 x 12 table of
    # strings from a Python model. None of rigcheck's code: what PySide6 itself costs for such a window.
    import PySide6.QtCore as C, PySide6.QtGui as G, PySide6.QtWidgets as W
    app = W.QApplication([])
    modules = {"QtCore": C, "QtGui": G, "QtWidgets": W}
    for name in json.loads(open(os.environ["BENCH_TYPES_OUT"]).read()):
        module, _, attr = name.partition(".")
        getattr(modules[module], attr, None)
    class Model(C.QAbstractTableModel):
        def rowCount(self, parent=None): return 113
        def columnCount(self, parent=None): return 12
        def data(self, index, role=0): return f"r{index.row()} c{index.column()}" if role == 0 else None
        def headerData(self, section, orientation, role=0): return f"column {section}" if role == 0 else None
    w = W.QMainWindow(); central = W.QWidget(); layout = W.QVBoxLayout(central)
    for i in range(12):
        label = W.QLabel(f"label {i}"); label.setTextFormat(C.Qt.TextFormat.PlainText); layout.addWidget(label)
    table = W.QTableView(); table.setModel(Model()); layout.addWidget(table, 1)
    bar = W.QToolBar("Main")
    for i in range(8):
        bar.addAction(G.QAction(f"action {i}", w))
    w.addToolBar(bar); w.setCentralWidget(central); w.resize(1600, 1000); w.show()
    app.processEvents()
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"ready elapsed={time.time() - float(os.environ['BENCH_T0'])} cpu={usage.ru_utime + usage.ru_stime}",
          flush=True)
""")

FLOOR_RECORDS = "import msgspec  # rigcheck's records before the first paint are msgspec Structs\n" + FLOOR
"""The floor plus what rigcheck's records cost before any of its code runs: msgspec's import, as rigcheck does it
(before PySide6's)."""


def _env(tmp: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # An installed app has its bytecode compiled (pip compiles wheels on install); measure that, not a
    # first import that compiles every module because this shell sets PYTHONDONTWRITEBYTECODE.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("CACHE", "CONFIG", "DATA"):
        env[f"RIGCHECK_{name}_DIR"] = str(Path(tmp) / name.lower())
    # Qt and fontconfig keep caches under the home folder: give them a scratch one.
    env["HOME"] = str(Path(tmp) / "home")
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_CACHE_HOME", ".cache"), ("XDG_DATA_HOME", ".local/share")):
        env[name] = str(Path(tmp) / "home" / sub)
    return env


def _timed(code: str, env: dict[str, str]) -> dict[str, str]:
    """Run ``code`` in a fresh interpreter; it reports the seconds from just before its launch to "ready"
    (so interpreter tear-down, which no user waits for, is not counted)."""
    env = {**env, "BENCH_T0": repr(time.time())}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("ready")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child failed: {(done.stdout + done.stderr).strip()[-500:]}")
    return dict(kv.split("=") for kv in lines[-1].split()[1:])


def cold_start(env) -> dict[str, float]:
    """Medians over RUNS fresh processes each, bare and full runs interleaved (the box's speed drifts)."""
    from rigcheck.catalog.store import load_catalog

    env = {**env, "BENCH_MODELS": str(len(load_catalog().models)),
           "BENCH_TYPES_OUT": str(Path(env["HOME"]).parent / "types-made.json")}
    _timed(BARE, env)  # warm-up: writes the bytecode caches, as installing does
    painted = '        marks["painted"] = time.time()\n'
    full_made = FULL.replace(painted, painted + textwrap.indent(TYPES_MADE, " " * 8))
    assert full_made != FULL
    _timed(full_made, env)
    _timed(FLOOR, env)
    _timed(FLOOR_RECORDS, env)
    bare_runs, full_runs, floor_runs, records_runs = [], [], [], []
    for _ in range(RUNS):
        bare_runs.append(_timed(BARE, env))
        full_runs.append(_timed(FULL, env))
        floor_runs.append(_timed(FLOOR, env))
        records_runs.append(_timed(FLOOR_RECORDS, env))
    def median(runs, key):
        return statistics.median(float(r[key]) for r in runs)
    return {"bare": median(bare_runs, "elapsed"), "full": median(full_runs, "elapsed"),
            "bare_cpu": median(bare_runs, "cpu"), "full_cpu": median(full_runs, "cpu"),
            "floor": median(floor_runs, "elapsed"), "floor_cpu": median(floor_runs, "cpu"),
            "floor_records": median(records_runs, "elapsed"), "floor_records_cpu": median(records_runs, "cpu"),
            "interactive": median(full_runs, "interactive"), "rows": int(full_runs[-1]["rows"]),
            "rss_mb": max(int(r["rss"]) for r in full_runs) / 2**20,
            "helper_rss_mb": max(int(r["helper_rss"]) for r in full_runs) / 2**10}


class _FeedHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802
        if self.path.endswith(".sig"):
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        for i in range(0, len(self.body), 65536):  # a real download: in chunks, over a little time
            self.wfile.write(self.body[i:i + 65536])
            time.sleep(0.01)

    def log_message(self, *args):
        pass


class _GapMeter:
    """Largest gap between the ticks of a 10 ms QTimer: how long the GUI thread could not run its loop."""

    def __init__(self):
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.clock = QElapsedTimer()
        self.gaps: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self._last = 0.0
        self.debug = bool(os.environ.get("RIGCHECK_BENCH_DEBUG"))

    def start(self):
        self.gaps.clear()
        self.clock.start()
        self._last = 0.0
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return max(self.gaps[1:], default=0.0)  # the first tick only measures the timer's own start

    def _tick(self):
        now = self.clock.nsecsElapsed() / 1e6
        self.gaps.append(now - self._last)
        if self.debug and now - self._last > 40:
            print(f"  gap of {now - self._last:.0f} ms ending at {now:.0f} ms", flush=True)
        self._last = now


def _pump(app, until, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not until() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.001)


def stalls(tmp: str, select: str | None = None) -> tuple[float, float, int, str]:
    """(worst stall while pyqtgraph loads after the first results, worst stall during 4 re-evaluations and a
    catalog refresh from a local server, evaluations seen, the refresh's message)."""
    os.environ.update(_env(tmp))
    import msgspec
    from PySide6.QtCore import QTimer

    from rigcheck.catalog.records import encode_catalog
    from rigcheck.catalog.store import load_catalog
    from rigcheck.desktop import state
    from rigcheck.desktop.app import create_app
    from rigcheck.desktop.main_window import MainWindow
    from rigcheck.desktop.services import default_services
    from rigcheck.desktop.workers import TaskRunner

    app = create_app()
    catalog = load_catalog()
    _FeedHandler.body = encode_catalog(msgspec.structs.replace(catalog, sequence=catalog.sequence + 1))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = state.open_settings()
    store.setValue("catalog/feed_url", f"http://127.0.0.1:{server.server_port}/catalog.json")
    store.setValue("catalog/allow_unsigned", "true")
    store.sync()
    window = MainWindow(default_services(), TaskRunner())
    window.freeze_long_lived = True  # as open_window sets it for the app
    window.resize(1600, 1000)
    window.show()
    meter = _GapMeter()
    window.controller.evaluated.connect(lambda _ev: meter.timer.isActive() or meter.start())
    window.start()
    _pump(app, lambda: window.machine_panel.sparkline.plot is not None, 60)
    _pump(app, lambda: False, 0.3)
    plotting_load = meter.stop()

    finished = {"evaluations": 0, "refresh": ""}
    window.controller.evaluated.connect(lambda _ev: finished.__setitem__("evaluations", finished["evaluations"] + 1))
    window.controller.refresh_done.connect(lambda m: finished.__setitem__("refresh", m))
    window.controller.failed.connect(lambda what, m, d: finished.__setitem__("refresh", "failed: " + m))
    bar = window.settings_bar
    if select:
        # As a user tuning the settings often has: a model selected, its detail pane and memory chart live
        # (each evaluation then also refreshes the detail pane).
        window.models_page.select_model(select)
        _pump(app, lambda: False, 1.0)
    meter.start()
    for i, ctx in enumerate((16384, 32768, 65536, 8192)):
        QTimer.singleShot(500 * i, lambda ctx=ctx: bar.context.setCurrentIndex(bar.context.findData(ctx)))
    QTimer.singleShot(700, window.refresh_catalog)
    def settled():
        # Done when the refresh has finished and the table shows the last context with the refreshed catalog.
        # An evaluation overtaken by a newer one (a context change during the refresh) is dropped, not shown,
        # so four or five evaluations arrive depending on timing.
        ev = window.controller.evaluation
        return (bool(finished["refresh"]) and ev is not None and ev.settings.context_tokens == 8192
                and ev.catalog.sequence == catalog.sequence + 1 and not window.runner.busy("evaluate"))

    _pump(app, settled, 90)
    _pump(app, lambda: False, 0.5)
    worst = meter.stop()
    window.close()
    server.shutdown()
    return plotting_load, worst, finished["evaluations"], finished["refresh"]


def run() -> bool:
    with tempfile.TemporaryDirectory(prefix="rigcheck-bench-") as tmp:
        env = _env(tmp)
        cs = cold_start(env)
        bare, full, interactive, rss_mb = cs["bare"], cs["full"], cs["interactive"], cs["rss_mb"]
        ratio = full / bare if bare else float("inf")
        print(f"cold start, bare PySide6 window: {bare:.2f} s (median of {RUNS})")
        print(f"cold start to populated window ({cs['rows']} models): {full:.2f} s "
              f"(target <= {COLD_START_TARGET_S} s) -> {'ok' if full <= COLD_START_TARGET_S else 'MISSED'}")
        print(f"  ratio to bare window: {ratio:.2f}x (target <= {BARE_RATIO_TARGET}x) -> "
              f"{'ok' if ratio <= BARE_RATIO_TARGET else 'MISSED'}")
        print(f"  the same in CPU time of the GUI process (less sensitive to a busy box): "
              f"{cs['full_cpu'] * 1000:.0f} ms against {cs['bare_cpu'] * 1000:.0f} ms, "
              f"{cs['full_cpu'] / cs['bare_cpu']:.2f}x (informative)")
        print(f"  floor: a bare window making the same PySide6 types and showing 12 labels, 8 actions and a "
              f"113-row table, none of rigcheck's code: {cs['floor']:.2f} s, {cs['floor'] / cs['bare']:.2f}x "
              f"(CPU {cs['floor_cpu'] / cs['bare_cpu']:.2f}x; informative)")
        print(f"  the floor with msgspec imported first, as rigcheck's records need: {cs['floor_records']:.2f} s, "
              f"{cs['floor_records'] / cs['bare']:.2f}x (CPU {cs['floor_records_cpu'] / cs['bare_cpu']:.2f}x; informative)")
        print(f"  until this process has its own evaluation (detail pane, what-if, export): {interactive:.2f} s "
              f"(target <= {COLD_START_TARGET_S} s) -> {'ok' if interactive <= COLD_START_TARGET_S else 'MISSED'}")
        print(f"resident memory when populated: {rss_mb:.0f} MB (target <= {RSS_TARGET_MB:.0f} MB) -> "
              f"{'ok' if rss_mb <= RSS_TARGET_MB else 'MISSED'}; first-look helper peak {cs['helper_rss_mb']:.0f} MB")
        plotting_load, worst, evaluations, refresh = stalls(tmp)
        print(f"worst GUI-thread stall during {evaluations} evaluations and a catalog refresh: {worst:.0f} ms "
              f"(target <= {STALL_TARGET_MS:.0f} ms) -> {'ok' if worst <= STALL_TARGET_MS else 'MISSED'}")
        print(f"  (once, while pyqtgraph loads after the first results: worst stall {plotting_load:.0f} ms)")
        print(f"  refresh: {refresh}")
    with tempfile.TemporaryDirectory(prefix="rigcheck-bench-") as tmp:
        _, worst_selected, evaluations_selected, refresh_selected = stalls(tmp, select=SELECTED_MODEL)
        print(f"  the same with {SELECTED_MODEL} selected (detail pane refreshed by each evaluation): "
              f"{worst_selected:.0f} ms (target <= {STALL_TARGET_MS:.0f} ms) -> "
              f"{'ok' if worst_selected <= STALL_TARGET_MS else 'MISSED'}")
    return (full <= COLD_START_TARGET_S and ratio <= BARE_RATIO_TARGET and rss_mb <= RSS_TARGET_MB
            and interactive <= COLD_START_TARGET_S
            and worst <= STALL_TARGET_MS and evaluations >= 4 and refresh.startswith("Catalog updated")
            and worst_selected <= STALL_TARGET_MS and evaluations_selected >= 4
            and refresh_selected.startswith("Catalog updated"))


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
