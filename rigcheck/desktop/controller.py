"""The application's state and its background work: machine, catalog, settings, estimates.

The window's widgets talk to this object only through its slots and signals. Every slow step (probing, loading
and refreshing the catalog, evaluating, speed curves, cost curves, export, usage sampling) runs through the one
TaskRunner; results arrive on the GUI thread and stale ones are dropped by key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from msgspec.structs import replace
from PySide6.QtCore import QObject, QTimer, Signal

from rigcheck.desktop.evaluation import Evaluation, evaluate_rows
from rigcheck.desktop.services import Prefetch, Services
from rigcheck.desktop.workers import TaskFailure, TaskRunner
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine

if TYPE_CHECKING:  # the catalog's records (msgspec) load with the first catalog, not with the window
    from rigcheck.catalog.records import Catalog, Device, Model
    from rigcheck.desktop.models.rows import ModelRow


SPEED_CONTEXTS = (512, 2048, 8192, 16384, 32768, 65536, 131072, 262144, 1048576)
UTILIZATIONS = tuple(round(0.05 * i, 2) for i in range(1, 21))
CURVE_DELAY_MS = 200
"""How long the selection must rest on a quant before its speed and cost curves are computed."""


def _outcome(future) -> tuple[object, TaskFailure | None]:
    """A finished future as run_task's (result, failure) pair."""
    import traceback

    exc = future.exception()
    if exc is None:
        return future.result(), None
    return None, TaskFailure(exc, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


def speed_points(services: Services, model: Model, quant_name: str, machine: Machine, settings: Settings,
                 devices: list[Device]) -> list[tuple[int, Estimate]]:
    """Estimates of one quant at prompt depths up to the model's context: the speed-vs-context curve.

    Each point is the estimator's own answer for that depth (nothing is interpolated here).
    """
    if services.estimate_one is None:
        return []
    quant = next((q for q in model.quants if q.name == quant_name), None)
    if quant is None:
        return []
    limit = model.max_context_tokens or max(SPEED_CONTEXTS)
    points = []
    for ctx in SPEED_CONTEXTS:
        if ctx > limit:
            break
        s = replace(settings, prompt_tokens=ctx, context_tokens=max(ctx, settings.context_tokens), quant=quant_name)
        e = services.estimate_one(model, quant, machine, s, devices)
        if e.decode_tokens_per_s is None:
            break  # past the longest context that fits
        points.append((ctx, e))
    return points


def sentence(text: str) -> str:
    """Capitalized and ending in a full stop: messages from the catalog modules are written lower case."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class AppController(QObject):
    machine_changed = Signal(object, object)
    """(Machine, list of Device | None per GPU)."""
    evaluated = Signal(object)
    """Evaluation."""
    catalog_changed = Signal(object)
    """CatalogInfo."""
    busy = Signal(str, bool)
    """(task key, running)."""
    failed = Signal(str, str, str)
    """(what, one readable sentence, details)."""
    refresh_progress = Signal(object, object, str)
    """(done, total or None, what): bytes of a feed (what is ""), or models of a refresh from the sources."""
    refresh_done = Signal(str, object)
    """(one readable sentence, the notes: what a refresh from the sources skipped or noted, one a line)."""
    speed_ready = Signal(str, str, object, str)
    cost_ready = Signal(str, str, object, object, str)
    serving_ready = Signal(str, str, object, str)
    """(model id, quant, ServingView or None, note)."""
    export_done = Signal(str)
    installed_ready = Signal(object)
    """The models installed on this machine (list of ``catalog.installed`` records)."""

    def __init__(self, services: Services, runner: TaskRunner, settings: Settings | None = None,
                 refresh_url: str | None = None, allow_unsigned: bool = False, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.settings = settings or Settings()
        self.refresh_url = refresh_url
        self.allow_unsigned = allow_unsigned
        self.catalog: Catalog | None = None
        self.machine: Machine | None = None
        self.home_machine: Machine | None = None
        self.evaluation: Evaluation | None = None
        self._refresh_handle = None
        self._curve_jobs: dict[str, dict] = {}
        self._curve_request: tuple[ModelRow, Estimate, frozenset[str]] | None = None
        self._early_evaluation = None
        self.curve_delay_ms = CURVE_DELAY_MS
        self._curve_timer = QTimer(self)
        self._curve_timer.setSingleShot(True)
        self._curve_timer.timeout.connect(self._start_curves)
        self.installed: list | None = None
        self._installed_catalog = None

    # start-up ----------------------------------------------------------------------------------------
    def start(self, machine: Machine | None = None, prefetched: Prefetch | None = None) -> None:
        """Load the catalog and probe this machine (or show ``machine``) in parallel, then evaluate.

        With ``prefetched``, the catalog and probe already under way are awaited instead of started again, and
        its evaluation, when there is one, stands in for the first evaluation.
        Prefetched work that has already finished is taken at once, on this thread: when the window is started
        before it is shown, its first paint then has the rows (no paint of an empty table, no round trip through
        the pool for results that are already here).
        """
        self._early_evaluation = prefetched.evaluation if prefetched is not None else None
        if prefetched is None:
            self.runner.run_task(self.services.load_catalog, self._catalog_loaded, key="catalog")
        elif prefetched.catalog.done():
            self._catalog_loaded(*_outcome(prefetched.catalog))
        else:
            self.runner.run_task(prefetched.catalog.result, self._catalog_loaded, key="catalog")
        if machine is not None:
            self._machine_ready(machine, None)
        elif prefetched is not None and prefetched.machine is not None:
            if prefetched.machine.done():
                self._probed(*_outcome(prefetched.machine))
            else:
                self.busy.emit("probe", True)
                self.runner.run_task(prefetched.machine.result, self._probed, key="machine")
        else:
            self.probe()

    def probe(self) -> None:
        self.busy.emit("probe", True)
        self.runner.run_task(self.services.probe_machine, self._probed, key="machine")

    def _probed(self, machine: Machine | None, failure: TaskFailure | None) -> None:
        self.busy.emit("probe", False)
        if failure is not None:
            self.failed.emit("probe", f"Could not probe this machine: {failure.message}", failure.details)
            return
        self.home_machine = machine
        self._machine_ready(machine, None)

    def _catalog_loaded(self, catalog: Catalog | None, failure: TaskFailure | None) -> None:
        if failure is not None:
            self.failed.emit("catalog", f"Could not load the catalog: {failure.message}", failure.details)
            return
        self._set_catalog(catalog)

    def _set_catalog(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.catalog_changed.emit(self.services.catalog_info(catalog))
        if self.machine is not None:
            self._emit_machine()
            self.reevaluate()

    def _machine_ready(self, machine: Machine, _failure) -> None:
        self.machine = machine
        if self.catalog is not None:
            self._emit_machine()
            self.reevaluate()

    def _emit_machine(self) -> None:
        assert self.machine is not None and self.catalog is not None
        specs: list[Device | None] = []
        for gpu in self.machine.gpus:
            spec = None
            if self.services.resolve_gpu is not None:
                spec = self.services.resolve_gpu(gpu, self.catalog.devices)
            specs.append(spec)
        self.machine_changed.emit(self.machine, specs)

    # what-if -----------------------------------------------------------------------------------------
    def show_machine(self, machine: Machine) -> None:
        """Show another machine (a what-if or a profile); this machine's probe is kept for going back."""
        self._machine_ready(machine, None)

    def back_to_this_machine(self) -> None:
        if self.home_machine is not None:
            self._machine_ready(self.home_machine, None)
        else:
            self.probe()

    # evaluation --------------------------------------------------------------------------------------
    def set_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.reevaluate()

    def reevaluate(self) -> None:
        if self.machine is None or self.catalog is None:
            return
        machine, catalog, settings, services = self.machine, self.catalog, self.settings, self.services
        early, self._early_evaluation = self._early_evaluation, None

        def usable(future) -> Evaluation | None:
            """The prefetched evaluation when it is for exactly this machine, catalog and settings."""
            got, failure = _outcome(future)
            if failure is None and got.machine is machine and got.catalog is catalog and got.settings == settings:
                return got
            return None  # evaluated afresh, which also reports a failure the proper way

        if early is not None and early.done() and not self.runner.busy("evaluate"):
            got = usable(early)
            if got is not None:
                self._evaluated(got, None)
                return

        def work() -> Evaluation:
            if early is not None:
                early.exception()  # waits for it (on the pool)
                got = usable(early)
                if got is not None:
                    return got
            return evaluate_rows(services, machine, catalog, settings)

        self.busy.emit("evaluate", True)
        self.runner.run_task(work, self._evaluated, key="evaluate")

    def _evaluated(self, evaluation: Evaluation | None, failure: TaskFailure | None) -> None:
        self.busy.emit("evaluate", False)
        if failure is not None:
            self.failed.emit("evaluate", f"Could not estimate the models: {failure.message}", failure.details)
            return
        self.evaluation = evaluation
        self.evaluated.emit(evaluation)
        if self._installed_catalog is not evaluation.catalog:
            # After the first table, on the worker: the scan never delays the first paint.
            self.scan_installed()

    # installed models --------------------------------------------------------------------------------
    def scan_installed(self) -> bool:
        """Look for the models already on this machine in the background; False when the scan is not part of
        this build or there is no catalog yet."""
        fn, catalog = self.services.scan_installed, self.catalog
        if fn is None or catalog is None:
            return False
        self._installed_catalog = catalog
        self.busy.emit("installed", True)
        self.runner.run_task(lambda: fn(catalog), self._installed_scanned, key="installed")
        return True

    def model_folders(self) -> list[str]:
        """The folders the user added to the scan ([] when this build keeps none)."""
        return list(self.services.model_folders()) if self.services.model_folders is not None else []

    def set_model_folders(self, folders: list[str]) -> None:
        """Keep ``folders`` as the user's scan folders (shared with `rigcheck installed`) and scan again; the list
        saved before stays when the new one cannot be written."""
        if self.services.save_model_folders is None or folders == self.model_folders():
            return
        try:
            self.services.save_model_folders(folders)
        except OSError as exc:
            self.failed.emit("installed", f"Could not save the model folders: {exc}", str(exc))
            return
        self.scan_installed()

    def _installed_scanned(self, installed: list | None, failure: TaskFailure | None) -> None:
        self.busy.emit("installed", False)
        if failure is not None:
            self.failed.emit("installed", f"Could not look for installed models: {failure.message}",
                             failure.details)
            return
        self.installed = list(installed or [])
        self.installed_ready.emit(self.installed)

    # detail pane -------------------------------------------------------------------------------------
    def request_curves(self, row: ModelRow, estimate: Estimate, kinds=frozenset({"speed", "cost"})) -> None:
        """Speed against context and/or cost against utilization (``kinds``) for one quant, in the background.

        Debounced by ``curve_delay_ms``: while the user walks the table with the arrow keys nothing is
        computed (the cost planner would compete with the GUI thread for the interpreter); the row they stop
        on gets its curves. Kinds asked for the same quant while waiting are added together.
        """
        waiting = self._curve_request
        if waiting is not None and waiting[0].model.id == row.model.id and waiting[1].quant == estimate.quant:
            kinds = frozenset(kinds) | waiting[2]
        self._curve_request = (row, estimate, frozenset(kinds))
        if self.curve_delay_ms <= 0:
            self._start_curves()
        else:
            self._curve_timer.start(self.curve_delay_ms)

    def _start_curves(self) -> None:
        if self._curve_request is None:
            return
        row, estimate, kinds = self._curve_request
        self._curve_request = None
        ev = self.evaluation
        if ev is None:
            return
        model, quant = row.model, estimate.quant
        services, machine, settings, catalog = self.services, ev.machine, ev.settings, ev.catalog
        if "speed" not in kinds:
            pass
        elif services.estimate_one is None:
            self.speed_ready.emit(model.id, quant, [], "The estimator is not part of this build.")
        else:
            self._latest_only(
                "speed", lambda: speed_points(services, model, quant, machine, settings, catalog.devices),
                lambda pts, f: self._speed_done(model.id, quant, pts, f))
        if "cost" not in kinds:
            pass
        elif services.cost_curves is None:
            self.cost_ready.emit(model.id, quant, UTILIZATIONS, {}, "Cost comparison is not part of this build.")
        else:
            self._latest_only(
                "cost", lambda: services.cost_curves(model, quant, machine, catalog, UTILIZATIONS, settings),
                lambda curves, f: self._cost_done(model.id, quant, curves, f))
        if "serving" not in kinds:
            pass
        elif services.serving_view is None:
            self.serving_ready.emit(model.id, quant, None, "The serving model is not part of this build.")
        else:
            self._latest_only(
                "serving", lambda: services.serving_view(model, quant, machine, catalog, settings),
                lambda view, f: self._serving_done(model.id, quant, view, f))

    def _latest_only(self, key: str, work, done) -> None:
        """Run ``work`` unless one of this kind is running; then keep only the newest request for afterwards.

        Walking the table with the arrow keys asks for curves on every row; each cost curve runs the planner
        (a few hundred ms), so queueing them all would hold the pool's threads and delay re-evaluation.
        """
        state = self._curve_jobs.setdefault(key, {"running": False, "pending": None})
        if state["running"]:
            state["pending"] = (work, done)
            return
        state["running"] = True

        def finished(result, failure) -> None:
            state["running"] = False
            pending, state["pending"] = state["pending"], None
            if pending is not None:
                self._latest_only(key, *pending)  # a newer request came in: this result is stale
                return
            done(result, failure)

        self.runner.run_task(work, finished)

    def _speed_done(self, model_id: str, quant: str, points, failure: TaskFailure | None) -> None:
        if failure is not None:
            self.speed_ready.emit(model_id, quant, [], f"Could not compute speeds: {failure.message}")
            return
        self.speed_ready.emit(model_id, quant, points, "")

    def _cost_done(self, model_id: str, quant: str, result, failure: TaskFailure | None) -> None:
        if failure is not None:
            self.cost_ready.emit(model_id, quant, UTILIZATIONS, {}, f"Could not compute costs: {failure.message}")
            return
        curves, note = result if isinstance(result, tuple) else (result, "")
        self.cost_ready.emit(model_id, quant, UTILIZATIONS, curves, note)

    def _serving_done(self, model_id: str, quant: str, view, failure: TaskFailure | None) -> None:
        if failure is not None:
            self.serving_ready.emit(model_id, quant, None, f"Could not compute serving: {failure.message}")
            return
        self.serving_ready.emit(model_id, quant, view, "")

    # catalog refresh ---------------------------------------------------------------------------------
    @property
    def refreshing(self) -> bool:
        return self.runner.busy("refresh")

    def refresh(self) -> bool:
        """Start a refresh; False when refresh is not available in this build or one is running."""
        fn = self.services.refresh_catalog
        if fn is None or self.refreshing:
            return False
        url, allow_unsigned = self.refresh_url, self.allow_unsigned

        def work(ctx):
            kwargs = {"progress": lambda done, total, what="": ctx.progress(done, total, what or ""),
                      "cancel": ctx.event}
            if allow_unsigned:
                kwargs["allow_unsigned"] = True
            return fn(url, **kwargs)

        self.busy.emit("refresh", True)
        self._refresh_handle = self.runner.run_task(
            work, self._refreshed, key="refresh", context=True,
            on_progress=lambda done, total, what: self.refresh_progress.emit(done, total, what or ""))
        return True

    def add_model(self, ref: str) -> bool:
        """Add one Hugging Face repo (id or URL) to the catalog in the background, like a refresh (same busy
        key, progress and cancel); False when adding is not in this build or a refresh is running."""
        fn = self.services.add_model
        if fn is None or self.refreshing:
            return False

        def work(ctx):
            return fn(ref, progress=lambda done, total, what="": ctx.progress(done, total, what or ""),
                      cancel=ctx.event)

        self.busy.emit("refresh", True)
        self._refresh_handle = self.runner.run_task(
            work, self._refreshed, key="refresh", context=True,
            on_progress=lambda done, total, what: self.refresh_progress.emit(done, total, what or ""))
        return True

    def remove_model(self, ref: str) -> bool:
        """Take a model added with ``add_model`` out, in the background (same busy key as a refresh); False
        when removing is not in this build or a refresh is running."""
        fn = self.services.remove_model
        if fn is None or self.refreshing:
            return False
        self.busy.emit("refresh", True)
        self._refresh_handle = self.runner.run_task(lambda: fn(ref), self._refreshed, key="refresh")
        return True

    def cancel_refresh(self) -> None:
        """Ask the download to stop; the worker reports back as cancelled and nothing is written."""
        if self._refresh_handle is not None and self._refresh_handle.context is not None:
            self._refresh_handle.context.cancel()

    def _refreshed(self, result, failure: TaskFailure | None) -> None:
        self._refresh_handle = None
        self.busy.emit("refresh", False)
        if failure is not None:
            if failure.cancelled or type(failure.exception).__name__ == "RefreshCancelled":
                self.refresh_done.emit("Refresh cancelled; the catalog in use is unchanged.", [])
                return
            self.failed.emit("refresh", f"{sentence(failure.message)} The catalog in use is unchanged.",
                             failure.details)
            return
        message = sentence(str(getattr(result, "message", "") or "Catalog refreshed"))
        notes = [str(n) for n in getattr(result, "notes", ()) or ()]
        if notes:
            message += f" ({len(notes)} repos skipped or noted: Details… lists them.)"
        catalog = getattr(result, "catalog", None)
        from rigcheck.catalog.records import Catalog

        if getattr(result, "changed", True) and isinstance(catalog, Catalog):
            self._set_catalog(catalog)
        self.refresh_done.emit(message, notes)

    # export ------------------------------------------------------------------------------------------
    def export(self, fmt: str, path: str, selected_model_ids: tuple[str, ...] = ()) -> bool:
        """Write the report of what is on screen; False when export is unavailable or nothing is shown yet."""
        fn = self.services.export_report
        ev = self.evaluation
        if fn is None or ev is None:
            return False

        def work() -> str:
            fn(ev.machine, ev.catalog, ev.settings, list(ev.estimates), fmt, path,
               selected_model_ids=selected_model_ids)
            return path

        self.busy.emit("export", True)
        self.runner.run_task(work, self._exported, key="export")
        return True

    def _exported(self, path: str | None, failure: TaskFailure | None) -> None:
        self.busy.emit("export", False)
        if failure is not None:
            self.failed.emit("export", f"Could not export the report: {failure.message}", failure.details)
            return
        self.export_done.emit(path)

    # live usage --------------------------------------------------------------------------------------
    def sample_usage(self, callback) -> None:
        """For the sparkline: sample memory use in the background and hand the sample to ``callback``."""
        if self.runner.busy("usage"):
            return  # the previous sample is still being taken; skip rather than queue up
        with_vram = bool(self.machine and any(g.vendor == "nvidia" for g in self.machine.usable_gpus))

        def work():
            from rigcheck.desktop.widgets.usage import sample_usage

            return sample_usage(with_vram)

        def done(sample, failure):
            if failure is None and sample is not None:
                callback(sample)
            else:
                import logging

                logging.getLogger(__name__).debug("usage sample failed: %s",
                                                  failure.message if failure else "no sample")

        self.runner.run_task(work, done, key="usage")


