"""An ordered map over chunks of work, the chunks shared with forked copies of this process where that is safe.

``fit --json`` over a 10,000-model catalog, and the GUI's first look (``desktop/first_look.py``) over one, spend
their time in Python (estimating, making each result's dict, launch commands or table cells, encoding): work that
splits into independent chunks of models. ``in_order(count, make)`` yields
``make(0)``, ``make(1)``, ... in order; where the OS can fork safely and more than one core is free, worker k of
W makes chunks k, k + W + 1, ... beside this process (which makes chunk 0 and every (W + 1)-th one) and sends each
result back pickled, in order, over its own pipe. A worker is a copy of this process made by ``os.fork`` once the
inputs are in memory, so nothing is sent to it; it leaves with ``os._exit``, running none of the parent's exit
handlers and flushing none of its buffers.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

MAX_WORKERS = 3
"""Workers beside this process at most (the parent also writes the output, which the workers' results wait on)."""


def in_order(count: int, make: Callable[[int], T], workers: int | None = None) -> Iterator[T]:
    """``make(j)`` for j in 0..count-1, in order. ``workers``: forked workers making chunks beside this process
    (default ``default_workers(count)``; 0 for none). ``make``'s results travel pickled. Raises RuntimeError when a
    worker fails (its exception type and message in the text), after the results before its chunk."""
    helpers = _Workers.start(make, count, default_workers(count) if workers is None else workers)
    try:
        for j in range(count):
            yield helpers.receive(j) if helpers is not None and j % helpers.stride else make(j)
    finally:
        if helpers is not None:
            helpers.close()


def default_workers(count: int) -> int:
    """Workers worth forking for ``count`` chunks: none for a few chunks, where fork is unsafe (another thread could
    hold a lock the child needs; macOS once system frameworks are loaded) or unavailable, or on one free core."""
    if count < 4 or not sys.platform.startswith("linux"):
        return 0
    import threading

    if threading.active_count() > 1:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(0, min(MAX_WORKERS, cores - 1, count - 1))


class _Workers:
    def __init__(self, pids: list[int], pipes: list):
        self.pids = pids
        self.pipes = pipes
        self.stride = len(pids) + 1

    @classmethod
    def start(cls, make: Callable[[int], object], count: int, workers: int) -> _Workers | None:
        if workers <= 0 or count < 2:
            return None
        for stream in (sys.stdout, sys.stderr):  # nothing buffered now is written twice
            if stream is not None:
                stream.flush()
        pids: list[int] = []
        pipes: list = []
        stride = workers + 1
        for k in range(1, workers + 1):
            read_end, write_end = os.pipe()
            _widen(write_end)
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                for other in pipes:
                    other.close()
                _work(make, range(k, count, stride), write_end)  # never returns
            os.close(write_end)
            pids.append(pid)
            pipes.append(os.fdopen(read_end, "rb"))
        return cls(pids, pipes)

    def receive(self, j: int) -> object:
        """Chunk ``j``'s result from the worker that made it. Raises RuntimeError when that worker failed."""
        pipe = self.pipes[j % self.stride - 1]
        header = pipe.read(9)
        if len(header) != 9:
            raise RuntimeError("a worker ended without sending its results")
        ok, size = header[0], int.from_bytes(header[1:], "little")
        data = pipe.read(size)
        if not ok:
            raise RuntimeError(f"a worker failed: {data.decode(errors='replace')}")
        return pickle.loads(data)  # noqa: S301 - written by our own forked child, over its own pipe

    def close(self) -> None:
        import signal

        for pipe in self.pipes:
            pipe.close()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)  # finished already, or no longer wanted (the output was cut short)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


PIPE_BYTES = 1 << 20
"""A worker's pipe holds this much (Linux's default 64 kB is a tenth of a chunk of ``fit --json``'s results): a
worker that finishes a chunk before the parent reads it goes on to its next one instead of waiting."""


def _widen(fd: int) -> None:
    """Grow the pipe's buffer to ``PIPE_BYTES`` where the OS allows it (Linux ``F_SETPIPE_SZ``); else as it is."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass


def _work(make: Callable[[int], object], chunks: range, fd: int) -> None:
    """A worker's life: each chunk's result as a frame (1 byte ok, 8 bytes length, the pickle), or the reason it
    failed; then ``os._exit``."""
    code = 0
    try:
        with os.fdopen(fd, "wb") as pipe:
            for j in chunks:
                try:
                    data = pickle.dumps(make(j), protocol=pickle.HIGHEST_PROTOCOL)
                except Exception as exc:  # reported to the parent, which raises it there
                    message = f"{type(exc).__name__}: {exc}".encode()
                    pipe.write(b"\0" + len(message).to_bytes(8, "little") + message)
                    code = 1
                    break
                pipe.write(b"\1" + len(data).to_bytes(8, "little") + data)
    except BaseException:  # the parent stopped reading (the pipe closed): nothing more to do
        code = 1
    finally:
        os._exit(code)
