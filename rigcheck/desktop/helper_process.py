"""Starting the first-look helper process (first_look.py) and collecting what it wrote.

Kept apart from first_look.py and light to import: ``rigcheck`` starts the helper before it imports anything
else, so every millisecond here is one the helper does not have. Where the OS has posix_spawn the helper is
started with it (subprocess, with selectors and signal, costs ~7 ms to import); elsewhere with subprocess.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

    from rigcheck.desktop.first_look import FirstLook

ENV_CHILD = "RIGCHECK_FIRST_LOOK_CHILD"
"""Set in the helper's environment; a frozen build's entry point runs ``first_look.main`` when it is set."""
ENV_DISABLE = "RIGCHECK_NO_FIRST_LOOK"
"""Set to 1 to start without the helper (the window then evaluates in its own process from the start)."""


def _log():
    import logging

    return logging.getLogger("rigcheck.desktop.first_look")


def helper_command() -> tuple[list[str], dict[str, str]]:
    """How to run the helper with this interpreter (or this frozen app) and the environment it needs."""
    env = dict(os.environ)
    env[ENV_CHILD] = "1"
    if getattr(sys, "frozen", False):  # a PyInstaller app: its entry point runs main() when ENV_CHILD is set
        return [sys.executable], env
    # -S: no site module. It costs a new interpreter ~30 ms (site-packages scan, .pth files, an editable
    # install's finder), and this process's own search path, handed over whole, finds the same packages: the
    # rigcheck this process runs first (even from a source tree that is not installed), then its sys.path.
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in (source, *sys.path) if p))
    return [sys.executable, "-S", "-m", "rigcheck.desktop.first_look"], env


class _Spawned:
    """What Helper uses of a ``subprocess.Popen``, for a child started with ``os.posix_spawn``.

    The reader thread calls ``wait`` (after the helper's output ended), the GUI thread may call ``poll`` and
    ``kill``; whichever reaps the child first records its exit code."""

    def __init__(self, pid: int, stdout):
        self.pid = pid
        self.stdout = stdout
        self.returncode: int | None = None
        self._lock = threading.Lock()

    def _reaped(self, flags: int) -> int | None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:  # the other thread reaped it
            return self.returncode
        if pid:
            with self._lock:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode if self.returncode is not None else self._reaped(os.WNOHANG)

    def wait(self) -> int | None:
        while self.returncode is None:
            if self._reaped(0) is None:  # reaped by poll() meanwhile; its code is being recorded
                time.sleep(0.001)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _posix_spawn(command: list[str], env: dict[str, str]) -> _Spawned:
    """The helper with stdin and stderr on the null device and stdout on a pipe to this process."""
    read_end, write_end = os.pipe()  # both close on exec; dup2 makes the child's stdout inheritable
    null = os.open(os.devnull, os.O_RDWR)
    try:
        pid = os.posix_spawn(command[0], command, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, write_end, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
        os.close(null)
    return _Spawned(pid, os.fdopen(read_end, "rb"))


class Helper:
    """A started helper process. A thread reads its output as it comes (so the helper never waits on a full
    pipe); ``wait`` says whether it has finished, ``look`` reads what it wrote, ``result`` does both."""

    def __init__(self, process: subprocess.Popen | _Spawned):
        self.process = process
        self.started = time.perf_counter()
        self._output = b""
        self._finished = threading.Event()
        threading.Thread(target=self._read, name="rigcheck-first-look-reader", daemon=True).start()

    def _read(self) -> None:
        try:
            self._output = self.process.stdout.read() if self.process.stdout else b""
            self.process.wait()
        except (OSError, ValueError):  # closed by cancel()
            self._output = b""
        finally:
            self._finished.set()

    def wait(self, timeout_s: float) -> bool:
        """Whether the helper has finished (written everything and exited), waiting up to ``timeout_s``."""
        return self._finished.wait(max(0.0, timeout_s))

    def done(self) -> bool:
        return self._finished.is_set()

    def look(self) -> FirstLook | None:
        """What the finished helper wrote: its first look, or None (logged) when it failed."""
        if not self._finished.is_set():
            raise RuntimeError("the first-look helper has not finished")
        if self.process.returncode != 0:
            _log().info("first look: the helper exited with code %s; starting without it", self.process.returncode)
            return None
        from rigcheck.desktop.first_look import loads

        try:
            look = loads(self._output)
        except ValueError as exc:
            _log().info("first look: %s; starting without it", exc)
            return None
        _log().debug("first look ready after %.3f s (helper worked %.3f s)", time.perf_counter() - self.started,
                     look.seconds)
        return look

    def result(self, timeout_s: float) -> FirstLook | None:
        """The first look, or None (logged) when the helper failed or did not finish within ``timeout_s`` (it is
        then stopped)."""
        if not self.wait(timeout_s):
            self.cancel()
            _log().info("first look: the helper took longer than %.1f s; starting without it", timeout_s)
            return None
        return self.look()

    def cancel(self) -> None:
        """Stop the helper if it still runs (its result is no longer wanted)."""
        if self.process.poll() is None:
            try:
                self.process.kill()
            except OSError:
                pass
        self._finished.wait(5)


def start_helper() -> Helper | None:
    """Start the helper (None when it is disabled or cannot be started; the window then starts without it)."""
    if os.environ.get(ENV_DISABLE) or os.environ.get(ENV_CHILD):
        return None
    command, env = helper_command()
    try:
        if hasattr(os, "posix_spawn"):
            process: subprocess.Popen | _Spawned = _posix_spawn(command, env)
        else:
            import subprocess

            process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL,
                                       creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))  # no console flash
    except OSError as exc:
        _log().info("first look: the helper could not be started (%s); starting without it", exc)
        return None
    return Helper(process)
