"""The one background-work primitive of the GUI: run a function on a QThreadPool, get its result on the GUI thread.

Modelled on picard's ``run_task(func, next_func)``: ``func`` runs on a pool thread; ``next_func(result,
failure)`` runs later on the GUI thread, where ``failure`` is ``None`` or a :class:`TaskFailure`.
Tasks that share a ``key`` supersede one another: when a newer task with the same key has been started,
the older one's result is dropped (a generation counter), so a slow re-evaluation never overwrites a
newer one. A task started with ``context=True`` receives a :class:`TaskContext` for progress reports and
cancellation. The pool is injectable: tests pass :class:`SynchronousPool` and everything runs inline.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

import msgspec
import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a task (by :meth:`TaskContext.check`) when the user cancelled it."""


class TaskFailure(msgspec.Struct, frozen=True):
    """Why a task failed: the exception, and its traceback as text for a "details" box."""

    exception: BaseException
    details: str

    @property
    def cancelled(self) -> bool:
        return isinstance(self.exception, Cancelled)

    @property
    def message(self) -> str:
        text = str(self.exception).strip()
        return text or type(self.exception).__name__


class TaskContext:
    """Handed to a task started with ``context=True``: report progress, notice cancellation.

    ``progress`` and ``cancelled`` are safe to call from the pool thread; progress is delivered on the GUI
    thread through a queued signal.
    """

    def __init__(self, emit_progress: Callable[[object, object, str], None]):
        self._event = threading.Event()
        self._emit = emit_progress

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> threading.Event:
        """The underlying event, for APIs that take a ``cancel=`` threading.Event."""
        return self._event

    def check(self) -> None:
        """Raises Cancelled when the task was cancelled."""
        if self._event.is_set():
            raise Cancelled("cancelled")

    def progress(self, done: object = None, total: object = None, message: str = "") -> None:
        self._emit(done, total, message)


class TaskHandle:
    """What ``run_task`` returns: cancel it, or ask whether its result will still be delivered."""

    def __init__(self, runner: TaskRunner, task_id: int, key: str | None, generation: int,
                 context: TaskContext | None):
        self._runner = runner
        self.task_id = task_id
        self.key = key
        self.generation = generation
        self.context = context

    def cancel(self) -> None:
        """Ask the task to stop (if it takes a context) and drop its result either way."""
        if self.context is not None:
            self.context.cancel()
        self._runner._forget(self.task_id)

    @property
    def current(self) -> bool:
        """True until a newer task with the same key starts or the task is cancelled or done."""
        return self._runner._is_live(self.task_id)


class _Signals(QObject):
    finished = Signal(int, object, object)
    progress = Signal(int, object, object, str)


class _Runnable(QRunnable):
    def __init__(self, task_id: int, func: Callable[..., Any], context: TaskContext | None, signals: _Signals):
        super().__init__()
        self._task_id = task_id
        self._func = func
        self._context = context
        self._signals = signals

    def run(self) -> None:
        result: Any = None
        failure: TaskFailure | None = None
        try:
            result = self._func(self._context) if self._context is not None else self._func()
        except BaseException as exc:  # delivered to next_func, which decides how to show it
            failure = TaskFailure(exc, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        _emit(self._signals.finished, self._task_id, result, failure)


def _emit(signal, *args) -> None:
    """Emit from a pool thread; nothing when the runner is gone (the window closed while the task ran: no one is
    left to tell, and Qt's "Signal source has been deleted" would be a traceback on the way out)."""
    try:
        signal.emit(*args)
    except RuntimeError:
        pass


class SynchronousPool:
    """A stand-in for QThreadPool that runs each task at once on the calling thread (tests, screenshots)."""

    def start(self, runnable: QRunnable) -> None:
        runnable.run()

    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 - QThreadPool's name
        return True

    def activeThreadCount(self) -> int:  # noqa: N802
        return 0


class TaskRunner(QObject):
    """Runs tasks on a pool and delivers results on the thread that owns this object (the GUI thread)."""

    def __init__(self, pool: QThreadPool | SynchronousPool | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = pool if pool is not None else QThreadPool.globalInstance()
        # The signals object lives on the GUI thread; emitting from a pool thread queues the slot call here.
        self._signals = _Signals(self)
        self._signals.finished.connect(self._on_finished)
        self._signals.progress.connect(self._on_progress)
        self._ids = itertools.count(1)
        self._generations: dict[str, int] = {}
        self._live: dict[int, tuple[str | None, int, Callable, Callable | None]] = {}
        self._contexts: dict[int, TaskContext | None] = {}

    @property
    def pool(self):
        return self._pool

    def run_task(
        self,
        func: Callable[..., Any],
        next_func: Callable[[Any, TaskFailure | None], None],
        *,
        key: str | None = None,
        context: bool = False,
        on_progress: Callable[[object, object, str], None] | None = None,
    ) -> TaskHandle:
        """Run ``func`` on the pool; call ``next_func(result, failure)`` on the GUI thread when it ends.

        With ``key``, starting a task supersedes the previous one with that key: its ``next_func`` is
        never called and, if it took a context, it is asked to cancel.
        """
        task_id = next(self._ids)
        generation = 0
        if key is not None:
            generation = self._generations.get(key, 0) + 1
            self._generations[key] = generation
            for other_id, (other_key, _gen, _next, _prog) in list(self._live.items()):
                if other_key == key:
                    self._supersede(other_id)
        ctx = None
        if context:
            signals = self._signals
            ctx = TaskContext(lambda done, total, message: _emit(signals.progress, task_id, done, total, message))
        handle = TaskHandle(self, task_id, key, generation, ctx)
        self._live[task_id] = (key, generation, next_func, on_progress)
        self._contexts[task_id] = ctx
        self._pool.start(_Runnable(task_id, func, ctx, self._signals))
        return handle

    def busy(self, key: str) -> bool:
        """Whether a task with this key is running and its result will be delivered."""
        return any(k == key for k, _g, _n, _p in self._live.values())

    def wait(self, msecs: int = 5000) -> bool:
        """Block until the pool is idle (shutdown, tests). Returns False on timeout."""
        for ctx in list(self._contexts.values()):
            if ctx is not None:
                ctx.cancel()
        return self._pool.waitForDone(msecs)

    # internals -------------------------------------------------------------------------------------
    def _supersede(self, task_id: int) -> None:
        ctx = self._contexts.get(task_id)
        if ctx is not None:
            ctx.cancel()
        self._forget(task_id)

    def _forget(self, task_id: int) -> None:
        self._live.pop(task_id, None)
        self._contexts.pop(task_id, None)

    def _is_live(self, task_id: int) -> bool:
        return task_id in self._live

    @Slot(int, object, object)
    def _on_finished(self, task_id: int, result: object, failure: object) -> None:
        entry = self._live.get(task_id)
        self._forget(task_id)
        if entry is None:
            log.debug("dropping the result of superseded or cancelled task %d", task_id)
            return
        key, generation, next_func, _progress = entry
        if key is not None and self._generations.get(key) != generation:
            return
        receiver = getattr(next_func, "__self__", None)
        if isinstance(receiver, QObject) and not shiboken6.isValid(receiver):
            # The widget that asked was closed and deleted while the task ran: nobody is left to tell.
            log.debug("dropping the result of task %d: its receiver was deleted", task_id)
            return
        next_func(result, failure)

    @Slot(int, object, object, str)
    def _on_progress(self, task_id: int, done: object, total: object, message: str) -> None:
        entry = self._live.get(task_id)
        if entry is not None and entry[3] is not None:
            entry[3](done, total, message)
