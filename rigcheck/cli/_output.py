"""What the command line writes: control characters shown escaped, credentials in URLs redacted, JSON always valid.

Strings from feeds, caches and profiles (model names, providers, host names, notes) reach the terminal in
``devices``, ``fit``, ``hosted``, ``catalog show``, ``probe``... A raw escape sequence there could recolour,
retitle or rewrite the user's terminal, a bell ring it, a carriage return overwrite a line, a bidi override
reorder it. ``main`` wraps stdout and stderr in ``SafeStream``, which writes every such character as a visible
``\\uXXXX`` (also valid inside a JSON string, so JSON output stays JSON and keeps its data) and redacts the
credentials of any URL (``https://***@host/``). Newlines and tabs pass.
"""

from __future__ import annotations

import json
import math
from typing import Any, TextIO

from rigcheck.catalog.redact import escape_controls, redact_text


def printable(text: str) -> str:
    """``text`` with control characters (C0 but newline and tab, DEL, C1) and bidi overrides written as
    ``\\uXXXX``, and URL credentials redacted: safe to write to a terminal."""
    return redact_text(escape_controls(text))


class SafeStream:
    """A text stream that writes everything through ``printable``; anything else is the wrapped stream's.

    ``unfiltered`` is the stream itself, for the one writer that means its escape sequences (the progress
    line's carriage return and erase-line)."""

    def __init__(self, stream: TextIO) -> None:
        self.unfiltered = stream

    def write(self, text: str) -> int:
        self.unfiltered.write(printable(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unfiltered, name)


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [finite(v) for v in value]
    return value


def json_text(data: Any, indent: int | None = 2) -> str:
    """``data`` as JSON text: non-finite numbers as null, and ``allow_nan=False`` so nothing else slips by."""
    return json.dumps(finite(data), indent=indent, ensure_ascii=False, allow_nan=False)


def write_output(path: str, text: str) -> int:
    """Write ``text`` to ``path`` atomically (readers see the old file or the new one, never half: what
    node_exporter's textfile collector asks). Never replaces what is not a regular file.

    Returns 0, or 1 after one line on stderr when the write fails. Raises UsageError (exit 2) when ``path``
    is a folder, a device, a FIFO or a socket, or its folder does not exist.
    """
    import os
    import stat
    import sys
    from pathlib import Path

    from rigcheck.catalog.cache import atomic_write
    from rigcheck.cli import UsageError

    target = Path(path).expanduser()
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        print(f"rigcheck: error: cannot write {path}: {(exc.strerror or str(exc)).lower()}", file=sys.stderr)
        return 1
    if mode is not None and not stat.S_ISREG(mode):
        raise UsageError(f"cannot write {path}: it is not a regular file, and rigcheck never replaces one")
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {path}: folder {target.parent} does not exist")
    try:
        atomic_write(target, text.encode("utf-8"))
        # Not mkstemp's 0600: the old file's mode, or what a plain open() would give (the collector may be
        # another user).
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(target, stat.S_IMODE(mode))
    except OSError as exc:
        print(f"rigcheck: error: cannot write {path}: {(exc.strerror or str(exc)).lower()}", file=sys.stderr)
        return 1
    return 0
