"""A decoded copy of a large cached catalog, kept beside it so that the next load skips the JSON.

A catalog refreshed from the sources can hold thousands of models: 10,000 make 75 MB of JSON, which every command
and every start of the app read, check (UTF-8, nesting depth) and decode in about 0.3 s. Once a cached catalog has
been decoded and validated, its records are written beside it in msgpack (``catalog.json.msgpack``), which msgspec
decodes into the same records in about half the time, read through a memory map (no 75 MB copy).

The copy is a cache and never the source: it is used only when it was made from the very file beside it (device,
inode, size and modification time) by the very code reading it (``code_key.code_fingerprint``), and a CRC-32 of
its payload turns a copy damaged on the disk into a miss. The records it gives are checked as the JSON's are
(``cache.check_decoded``: numbers, ids, dates). Anything else (no copy, another key, a damaged, foreign, special or
unreadable file, a decode error) is a miss: the caller reads the JSON as before and writes a fresh copy. Writing
is best effort: a read-only or full disk leaves no copy, or an old one that no longer matches.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import stat
import zlib
from pathlib import Path

import msgspec

from rigcheck.catalog.code_key import code_fingerprint
from rigcheck.catalog.records import Catalog, gc_paused

SUFFIX = ".msgpack"
HEADER = b"rigcheck decoded catalog 1\n"
KEY_BYTES = 64
"""The file: the header, the key (a hex sha256) and a newline, the payload's CRC-32 (decimal) and a newline, then
the payload (the catalog, msgpack)."""
MIN_SOURCE_BYTES = 4 * 10**6
"""A catalog smaller than this (the embedded one is 1 MB) decodes from JSON in a few tens of ms: no copy."""
MAX_BYTES = 1 << 31
"""A copy larger than this is not read (10,000 models make 71 MB)."""

_decoder: msgspec.msgpack.Decoder | None = None


def copy_path(source: Path) -> Path:
    return source.with_name(source.name + SUFFIX)


def read(source: Path) -> Catalog | None:
    """The catalog decoded from ``source`` when a copy made from this very file by this code is beside it; None
    otherwise. Never raises for a bad copy. Not checked here: the caller checks the records (``cache``)."""
    global _decoder
    key = _key(source)
    if key is None:
        return None
    try:
        # Non-blocking: a FIFO put in the copy's place would otherwise hold the open until a writer came.
        fd = os.open(copy_path(source), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not len(HEADER) + KEY_BYTES + 2 < st.st_size <= MAX_BYTES:
            return None
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as view:
            start = len(HEADER) + KEY_BYTES + 1
            if bytes(view[:start]) != HEADER + key + b"\n":
                return None
            end = mapped.find(b"\n", start, start + 12)
            crc = bytes(view[start:end]) if end > start else b""
            with view[end + 1:] as payload:
                if not crc.isdigit() or zlib.crc32(payload) != int(crc):
                    return None  # damaged on the disk
                if _decoder is None:
                    _decoder = msgspec.msgpack.Decoder(Catalog)
                with gc_paused():
                    return _decoder.decode(payload)
    except (OSError, ValueError, msgspec.DecodeError, RecursionError):
        return None  # unreadable, unmappable, damaged past the CRC's reach, or nested too deep to decode
    finally:
        os.close(fd)


def write(source: Path, catalog: Catalog) -> None:
    """Keep ``catalog`` (decoded and validated from ``source``) beside it, replacing any copy whole. Best effort."""
    key = _key(source)
    if key is None:
        return
    path = copy_path(source)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return  # a folder, a FIFO, a link someone put there: not ours to replace
    except OSError:
        pass  # none yet
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # removed by cache.remove_stale_temporaries
    created = False
    try:
        payload = msgspec.msgpack.encode(catalog)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temporary, flags, 0o600)  # exists: another thread of this process is writing the copy
        created = True
        with os.fdopen(fd, "wb") as handle:
            handle.write(HEADER + key + b"\n" + b"%d\n" % zlib.crc32(payload))
            handle.write(payload)
        if _key(source) != key:
            raise FileExistsError("the catalog changed while its copy was written")
        os.replace(temporary, path)
    except (OSError, MemoryError):
        if created:  # never another thread's file
            try:
                temporary.unlink(missing_ok=True)
            except OSError:
                pass


def discard(source: Path) -> None:
    """Remove the copy beside ``source`` (it was made from a file now replaced). Best effort."""
    try:
        copy_path(source).unlink(missing_ok=True)
    except OSError:
        pass


def _key(source: Path) -> bytes | None:
    """The key of a copy of ``source`` as it is now, by this code; None when no copy is kept for it (missing,
    special or small)."""
    from rigcheck import __version__

    try:
        st = os.stat(source)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size < MIN_SOURCE_BYTES:
        return None
    parts = [HEADER, __version__, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns), code_fingerprint()]
    return hashlib.sha256(repr(parts).encode()).hexdigest().encode()
