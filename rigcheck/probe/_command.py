"""Running a system tool (sysctl, system_profiler, powershell, lspci) for the probe, with a timeout.

Backends take a ``runner`` parameter of this shape so tests feed recorded outputs instead.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence

Runner = Callable[[Sequence[str]], "str | None"]
"""Runs a command; returns its standard output, or None when it is missing, fails or times out."""


def run_command(argv: Sequence[str], timeout_s: float = 5.0) -> str | None:
    """Stdout of ``argv`` when it exits 0 within ``timeout_s``; None when missing, failing or slow."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout_s, check=False, errors="replace"
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None
