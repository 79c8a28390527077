"""The first look of the last start, kept for the next one made from the same inputs.

The first-look helper (first_look.py) spends nearly all its time on the catalog and the estimator: 0.1 s for the
embedded catalog, a second for 10,000 models. What it computes (the table's cells, the spec figures of the
machine's GPUs, the catalog's status line) depends only on:

- the code that computes it (rigcheck's version and the modification time and size of each of its files);
- the catalog files it chooses from (the cached copy, the previous good copy, their meta file);
- the estimator settings;
- the machine as probed, without what moves between two probes when the settings ask what the machine can run
  (``memory_basis`` "total"): free VRAM and RAM, free disk, the probe's time;
- the time, in one sentence only: the status line says when the catalog expired ("today", "3 days ago"), so a memo is
  stale from the moment that sentence would change (``catalog.cache.expiry_warning_until``). Nothing else in it
  depends on the date (the catalog's age is worked out by the window as it shows it), so the day is not in the key:
  a large catalog's first start of the day is as quick as the next ones.

So the helper writes what it computed with a key over those inputs, and a later helper whose inputs give the same
key sends it again without loading the catalog. A CRC-32 of the payload turns a memo damaged on the disk into a
miss (which then writes a good one), not a payload the window would refuse on every start. Free memory is left out of the key, so the "fits in the memory
free now" tooltips may be those of the last start until the window's own evaluation (which every start makes)
replaces the cells; with ``memory_basis`` "free" free memory is in the key. The file is a cache: a missing,
damaged or foreign one is a miss, and a memo that cannot be written is not an error. Its payload is read only by
``first_look.loads``, whose unpickler makes no object but the first look's own records.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import msgspec

from rigcheck.catalog.code_key import code_fingerprint as _code_fingerprint
from rigcheck.catalog.code_key import file_key as _file_key

MEMO_FILE = "first_look.memo"
HEADER = b"rigcheck first look memo 2\n"
KEY_BYTES = 64
"""The file: the header, the key (a hex sha256) and a newline, a line "UNTIL CRC32" (the Unix time after which the
memo is stale, 0 for never, and the payload's CRC-32, both decimal), then the payload."""
MAX_BYTES = 1 << 30
"""A memo larger than this is not read (10,000 models make about 10 MB)."""
CATALOG_FILES = ("catalog.json", "catalog.prev.json", "catalog.meta.json")
"""The files of the cache folder the catalog in use is chosen from (``rigcheck.catalog.cache``)."""


def memo_path() -> Path:
    from rigcheck.catalog import paths

    return paths.cache_dir() / MEMO_FILE


def memo_key(settings, machine) -> bytes:
    """The key of the first look for ``settings`` (estimate.types.Settings) and ``machine`` (probe.types.Machine)."""
    from rigcheck import __version__
    from rigcheck.catalog import paths

    folder = paths.cache_dir()
    parts = [
        HEADER,
        __version__,
        _code_fingerprint(),
        [(name, _file_key(folder / name)) for name in CATALOG_FILES],
        repr(settings),
        repr(_stable(machine) if settings.memory_basis == "total" else msgspec.structs.replace(machine, probed_at=None)),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest().encode()


def read(key: bytes) -> bytes | None:
    """The payload kept under ``key``, or None (no memo, another key, a stale memo, a damaged or unreadable file)."""
    import time
    import zlib

    from rigcheck.probe.files import FileReadError, read_capped

    try:
        data = read_capped(memo_path(), MAX_BYTES, "the first-look memo")
    except (FileNotFoundError, FileReadError):
        return None
    start = len(HEADER) + KEY_BYTES + 1
    if not data.startswith(HEADER) or data[len(HEADER):start] != key + b"\n":
        return None
    end = data.find(b"\n", start, start + 64)
    try:
        until, crc = (int(field) for field in data[start:end].split(b" ")) if end > 0 else (None, None)
    except ValueError:
        return None
    payload = data[end + 1:]
    if until is None or not payload or (until and time.time() >= until) or zlib.crc32(payload) != crc:
        return None  # no line, a stale memo, or one damaged on the disk (a payload no reader would accept)
    return payload


def write(key: bytes, payload: bytes, until: float | None = None) -> None:
    """Keep ``payload`` under ``key`` for the next start, replacing the memo whole; stale from ``until`` (Unix time)
    when given. Best effort: a read-only or full disk keeps the old memo, which no longer matches, or none."""
    import zlib

    path = memo_path()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove_abandoned(path)
    line = b"%d %d\n" % (math.ceil(until) if until else 0, zlib.crc32(payload))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temporary, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(HEADER + key + b"\n" + line + payload)
        os.replace(temporary, path)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass


ABANDONED_AFTER_S = 600.0
"""A temporary memo this old was left by a helper stopped while writing it (the window stops one after 15 s)."""


def _remove_abandoned(path: Path) -> None:
    import time

    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    prefix = f".{path.name}."
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
            try:
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > ABANDONED_AFTER_S:
                    os.unlink(entry.path)
            except OSError:
                pass


def _stable(machine):
    """``machine`` without what moves between two probes of the same machine."""
    gpus = tuple(msgspec.structs.replace(g, vram_free_bytes=None, vram_used_bytes=None) for g in machine.gpus)
    memory = msgspec.structs.replace(machine.memory, available_bytes=None, swap_free_bytes=None)
    return msgspec.structs.replace(machine, gpus=gpus, memory=memory, probed_at=None, disk_free_bytes=None)
