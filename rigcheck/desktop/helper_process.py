"""Starting the first-look helper process (first_look.py) and collecting what it wrote.

Kept apart from first_look.py and light to import (os, sys, subprocess): ``rigcheck`` starts the helper before
it imports anything else, so every millisecond here is one the helper does not have.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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


class Helper:
    """A started helper process. A thread reads its output as it comes (so the helper never waits on a full
    pipe); ``wait`` says whether it has finished, ``look`` reads what it wrote, ``result`` does both."""

    def __init__(self, process: subprocess.Popen):
        import threading

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
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window flashes up
    try:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, creationflags=flags)
    except OSError as exc:
        _log().info("first look: the helper could not be started (%s); starting without it", exc)
        return None
    return Helper(process)
