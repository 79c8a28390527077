"""Reading a file someone else wrote: regular files only, at most a cap of bytes, JSON nested no deeper than a limit.

Profiles (``--machine FILE``) and the catalog cache are read through here. ``read_capped`` opens without
blocking (a FIFO with no writer would otherwise hang the open), refuses anything that is not a regular
file (``/dev/zero``, a FIFO, a socket, a folder), and reads at most ``max_bytes + 1`` bytes whatever
``st_size`` says (``/proc`` files and devices report 0 or lie). ``json_too_deep`` answers, without
recursion, whether a JSON text nests deeper than a limit: the C parsers recurse once per level and a
deep enough document exhausts the stack of a thread (a segfault, not an exception) or the interpreter's
recursion limit, so the depth is checked before parsing.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

MAX_JSON_DEPTH = 64
"""Catalogs nest 5 levels and profiles 4; nothing rigcheck reads needs more."""


class FileReadError(ValueError):
    """A file that cannot be read as asked; one sentence naming it and why."""


class FileTooLarge(FileReadError):
    """A file with more bytes than the cap (counted as read, never taken from ``st_size``)."""


def read_capped(path: str | os.PathLike[str], max_bytes: int, what: str = "file") -> bytes:
    """The bytes of the regular file at ``path``, at most ``max_bytes`` of them.

    Raises ``FileNotFoundError`` when it does not exist (callers often treat that as "none yet"), and
    ``FileReadError`` (one sentence starting with ``what`` and the path) when it is a folder, a device, a
    FIFO or a socket, is larger than ``max_bytes``, or cannot be read.
    """
    name = f"{what} {path}"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise FileReadError(f"{name} is a folder, not a file") from None
    except OSError as exc:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):  # a socket cannot even be opened (ENXIO): say what it is instead
            raise FileReadError(f"{name} is not a regular file (it is {_kind(mode)})") from None
        raise FileReadError(f"{name} could not be read: {_reason(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise FileReadError(f"{name} is a folder, not a file")
        if not stat.S_ISREG(mode):
            raise FileReadError(f"{name} is not a regular file (it is {_kind(mode)})")
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 30))  # a regular file: usually all of it in one read
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise FileTooLarge(f"{name} is larger than {_size(max_bytes)}, too large to be one")
        return b"".join(chunks)
    except OSError as exc:
        raise FileReadError(f"{name} could not be read: {_reason(exc)}") from None
    finally:
        os.close(fd)


def read_json(path: str | os.PathLike[str], max_bytes: int, what: str = "file") -> object:
    """The JSON document in the regular file at ``path`` (``read_capped``), checked for depth before parsing.

    Raises ``FileNotFoundError``; ``FileReadError`` (not a regular file, too large, unreadable, nested too deep);
    and ``ValueError`` for text that is not UTF-8 JSON (``UnicodeDecodeError``, ``json.JSONDecodeError`` and
    ``FileReadError`` are all ValueErrors, so ``except (OSError, ValueError)`` covers every failure).
    """
    data = read_capped(path, max_bytes, what)
    if json_too_deep(data):
        raise FileReadError(f"{what} {path} nests deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(data.decode("utf-8"))


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def json_too_deep(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text ``data`` has arrays or objects nested more than ``max_depth`` levels deep.

    Linear in the size and never recursive. Brackets inside strings do not count. Malformed text that is
    not too deep answers False, and the parser then says what is wrong with it.
    """
    # Drop escaped backslashes, then escaped quotes, so every remaining quote opens or closes a string;
    # keep only quotes and brackets, then drop what lies between quotes.
    if b"\\" in data:  # most documents hold no escape at all: the search alone is cheaper than the replaces
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    kept = data.translate(None, _NOT_STRUCTURE)
    # Most strings hold no bracket and are now '""': dropping every '""' (an empty string, or two adjacent
    # quotes with no structure between them) keeps each bracket inside or outside its string, in C; the few
    # strings left are dropped by splitting on their quotes.
    kept = kept.replace(b'""', b"")
    brackets = b"".join(kept.split(b'"')[::2]) if b'"' in kept else kept
    # Each pass removes the innermost pairs: a pass that still removes one after max_depth passes found
    # a pair nested deeper than the limit.
    for _ in range(max_depth + 1):
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return False
        brackets = shorter
    return True


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc) or type(exc).__name__).lower()


def is_special(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` exists and is neither a regular file nor a folder (a device, FIFO or socket)."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))
