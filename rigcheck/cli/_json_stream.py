"""A JSON document ending in a long list, written a chunk at a time with the layout of ``json.dumps(indent=1)``.

``rigcheck fit --json`` over a 10,000-model catalog is over 100,000 results (300 MB). ``json.dumps`` with an
indent runs in pure Python (the C encoder serves compact output only): 6 s for that listing, and the whole
document as dicts and as one string held 1.7 GiB. Here each chunk of results is built, encoded and laid out
by msgspec, written, and dropped. The text parses to what ``json.dumps(document, indent=1,
ensure_ascii=False)`` writes, with the same layout; floats may be spelled differently (``1e-05`` is written
``0.00001``), NaN and infinity are written ``null`` (``json.dumps`` would write ``NaN``, which is not JSON).

``write_rows`` makes each item from a row as its chunk comes and, where the OS can fork and more than one core is
free, hands alternate chunks to forked copies of this process (``_Workers``): making the items (the estimator's
lazy parts, launch commands) and encoding them is most of ``fit --json``'s time, and chunks are independent. This
process writes every chunk in order, so the text is the same byte for byte.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

import msgspec

ITEMS_PER_CHUNK = 1000
MAX_WORKERS = 3
"""Forked workers beside this process at most: the parent writes every chunk, so more would wait on it."""
_encoder = msgspec.json.Encoder()


def write_document(out: TextIO, head: dict[str, object], key: str, items: Iterable[dict[str, object]],
                   tail: dict[str, object] | None = None) -> None:
    """Write ``{**head, key: list(items), **tail}`` and a newline to ``out``; ``items`` is consumed one chunk at a
    time. When ``out`` has a binary ``buffer`` (the standard output does) the UTF-8 goes there directly."""
    items = iter(items)
    _write(out, head, key, iter(lambda: _body(list(itertools.islice(items, ITEMS_PER_CHUNK))), b""), tail)


def write_rows(out: TextIO, head: dict[str, object], key: str, rows: list, to_item: Callable[[object], dict],
               tail: dict[str, object] | None = None, *, workers: int | None = None) -> None:
    """``write_document`` of ``to_item(row)`` for each of ``rows``; a row's place in ``rows`` is set to None once its
    chunk is made (what ``to_item`` works out in a row is let go of with it). ``workers``: forked processes making
    chunks beside this one (default: one per free core beyond this one, at most MAX_WORKERS, none where the OS
    cannot fork safely). Raises RuntimeError when a worker fails; the document is then cut short."""
    count = (len(rows) + ITEMS_PER_CHUNK - 1) // ITEMS_PER_CHUNK
    helpers = _Workers.start(rows, to_item, count, _default_workers(count) if workers is None else workers)

    def bodies() -> Iterator[bytes]:
        try:
            for j in range(count):
                start = j * ITEMS_PER_CHUNK
                end = min(start + ITEMS_PER_CHUNK, len(rows))
                if helpers is not None and j % helpers.stride:
                    body = helpers.receive(j)
                else:
                    body = _body([to_item(row) for row in rows[start:end]])
                rows[start:end] = [None] * (end - start)
                yield body
        finally:
            if helpers is not None:
                helpers.close()

    _write(out, head, key, bodies(), tail)


def _write(out: TextIO, head: dict[str, object], key: str, bodies: Iterator[bytes],
           tail: dict[str, object] | None) -> None:
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        write = buffer.write
    else:
        def write(data: bytes) -> None:
            out.write(data.decode())
    document = _format(_encoder.encode({**head, key: [], **(tail or {})}))
    # The list's place: a top-level key sits on its own line after one space, and no newline is ever inside a
    # JSON string, so this is found only where the key itself is.
    marker = b"\n " + _encoder.encode(key) + b": []"
    at = document.index(marker) + len(marker) - 2
    write(document[:at])
    first = True
    for body in bodies:
        write((b"[" if first else b",") + body)
        first = False
    write((b"[]" if first else b"\n ]") + document[at + 2:] + b"\n")
    if buffer is not None:
        buffer.flush()


def _body(chunk: list) -> bytes:
    """A chunk of items laid out at the document's depth, without the brackets; b"" for no items."""
    if not chunk:
        return b""
    # Laid out as the value of a top-level key, the items sit at the document's depth:
    # '{\n "": [\n  {\n   ...\n  },\n  {...}\n ]\n}' -> everything between '[' and '\n ]'.
    return _format(b'{"":' + _encoder.encode(chunk) + b"}")[8:-5]


def _format(data: bytes) -> bytes:
    return msgspec.json.format(data, indent=1)


def _default_workers(chunks: int) -> int:
    """Workers worth forking for ``chunks`` chunks: none for a short document, where fork is unsafe (another thread
    could hold a lock the child needs) or unavailable, or on a single free core."""
    if chunks < 4 or not sys.platform.startswith("linux"):  # macOS: fork is unsafe once system frameworks load
        return 0
    import threading

    if threading.active_count() > 1:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(0, min(MAX_WORKERS, cores - 1, chunks - 1))


class _Workers:
    """Forked copies of this process, worker k making chunks k, k + stride, ... (this process makes chunk 0 and
    every stride-th one) and sending each, in order, as a length-prefixed frame over its own pipe."""

    def __init__(self, pids: list[int], pipes: list):
        self.pids = pids
        self.pipes = pipes
        self.stride = len(pids) + 1

    @classmethod
    def start(cls, rows: list, to_item: Callable[[object], dict], count: int, workers: int) -> _Workers | None:
        if workers <= 0 or count < 2:
            return None
        sys.stdout.flush()  # nothing buffered here is written twice by a child
        sys.stderr.flush()
        pids, pipes = [], []
        stride = workers + 1
        for k in range(1, workers + 1):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the worker: make its chunks, send them, leave without running anything of the parent's
                os.close(read_end)
                for other in pipes:
                    other.close()
                _work(rows, to_item, range(k, count, stride), write_end)
            os.close(write_end)
            pids.append(pid)
            pipes.append(os.fdopen(read_end, "rb"))
        return cls(pids, pipes)

    def receive(self, j: int) -> bytes:
        """Chunk ``j``'s body from the worker that made it. Raises RuntimeError when the worker failed."""
        pipe = self.pipes[j % self.stride - 1]
        header = pipe.read(9)
        if len(header) != 9:
            raise RuntimeError("a worker writing the JSON ended without its output")
        ok, size = header[0], int.from_bytes(header[1:], "little")
        data = pipe.read(size)
        if not ok:
            raise RuntimeError(f"a worker writing the JSON failed: {data.decode(errors='replace')}")
        return data

    def close(self) -> None:
        import signal

        for pipe in self.pipes:
            pipe.close()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)  # finished already, or no longer wanted (the document is cut short)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


def _work(rows: list, to_item: Callable[[object], dict], chunks: range, fd: int) -> None:
    """A worker's life: each chunk's body as a frame (1 byte ok, 8 bytes length, the body), or the reason it failed;
    then ``os._exit`` (the parent's exit handlers and buffers are not the worker's to run or flush)."""
    code = 0
    try:
        with os.fdopen(fd, "wb") as pipe:
            for j in chunks:
                start = j * ITEMS_PER_CHUNK
                try:
                    body = _body([to_item(row) for row in rows[start:start + ITEMS_PER_CHUNK]])
                except Exception as exc:  # reported to the parent, which raises it there
                    message = f"{type(exc).__name__}: {exc}".encode()
                    pipe.write(b"\0" + len(message).to_bytes(8, "little") + message)
                    code = 1
                    break
                pipe.write(b"\1" + len(body).to_bytes(8, "little") + body)
    except BaseException:  # the parent stopped reading (a closed pipe): nothing more to do
        code = 1
    finally:
        os._exit(code)
