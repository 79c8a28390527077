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
    text = escape_controls(text)
    return redact_text(text) if "://" in text else text  # the common case, a URL-free line, without regexes


class SafeStream:
    """A text stream that writes everything through ``printable``; anything else is the wrapped stream's.

    ``unfiltered`` is the stream itself, for the one writer that means its escape sequences (the progress
    line's carriage return and erase-line)."""

    def __init__(self, stream: TextIO) -> None:
        self.unfiltered = stream

    @property
    def buffer(self) -> _SafeBuffer | None:
        """The binary stream under this one, filtered the same way (``_json_stream`` writes UTF-8 there)."""
        inner = getattr(self.unfiltered, "buffer", None)
        return None if inner is None else _SafeBuffer(inner)

    def write(self, text: str) -> int:
        self.unfiltered.write(printable(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unfiltered, name)


_C0_AND_DEL = bytes(c for c in range(256) if c not in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F))
_BIDI = (b"\xe2\x80\xaa", b"\xe2\x80\xab", b"\xe2\x80\xac", b"\xe2\x80\xad", b"\xe2\x80\xae",
         b"\xe2\x81\xa6", b"\xe2\x81\xa7", b"\xe2\x81\xa8", b"\xe2\x81\xa9")


class _SafeBuffer:
    """UTF-8 bytes filtered as ``printable`` filters text, without decoding what needs nothing: a chunk with no
    control byte, no C1 or bidi character (``\\xc2``, ``\\xe2\\x80\\xaa``...), no "@" and no query string
    goes through as it is (a 300 MB ``fit --json`` is almost all such chunks)."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def write(self, data: bytes) -> int:
        # Single bytes first (memchr): C1 characters all start with \xc2, bidi controls with \xe2.
        risky = (data.translate(None, _C0_AND_DEL) or b"\xc2" in data or b"@" in data
                 or (b"\xe2" in data and any(seq in data for seq in _BIDI)) or (b"?" in data and b"=" in data))
        if risky:
            text = data.decode("utf-8", errors="surrogateescape")
            self._inner.write(printable(text).encode("utf-8", errors="surrogateescape"))
        else:
            self._inner.write(data)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


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
