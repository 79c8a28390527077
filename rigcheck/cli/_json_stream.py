"""A JSON document ending in a long list, written a chunk at a time with the layout of ``json.dumps(indent=1)``.

``rigcheck fit --json`` over a 10,000-model catalog is over 100,000 results (300 MB). ``json.dumps`` with an
indent runs in pure Python (the C encoder serves compact output only): 6 s for that listing, and the whole
document as dicts and as one string held 1.7 GiB. Here each chunk of results is built, encoded and laid out
by msgspec, written, and dropped. The text parses to what ``json.dumps(document, indent=1,
ensure_ascii=False)`` writes, with the same layout; floats may be spelled differently (``1e-05`` is written
``0.00001``), NaN and infinity are written ``null`` (``json.dumps`` would write ``NaN``, which is not JSON).

``write_rows`` makes each item from a row as its chunk comes, the chunks shared with forked workers where that is
safe (``forked.in_order``); ``write_bodies`` writes items already encoded (``chunk_body``), in whatever order the
caller put them. The text is the same byte for byte.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

import msgspec

from rigcheck.estimate import forked

ITEMS_PER_CHUNK = 1000
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
    chunk is written (what ``to_item`` works out in a row is let go of with it). ``workers``: as ``forked.in_order``.
    Raises RuntimeError when a worker fails; the document is then cut short."""
    count = (len(rows) + ITEMS_PER_CHUNK - 1) // ITEMS_PER_CHUNK

    def make(j: int) -> bytes:
        return _body([to_item(row) for row in rows[j * ITEMS_PER_CHUNK:(j + 1) * ITEMS_PER_CHUNK]])

    def bodies() -> Iterator[bytes]:
        for j, body in enumerate(forked.in_order(count, make, workers)):
            start, end = j * ITEMS_PER_CHUNK, min((j + 1) * ITEMS_PER_CHUNK, len(rows))
            rows[start:end] = [None] * (end - start)
            yield body

    _write(out, head, key, bodies(), tail)


def write_bodies(out: TextIO, head: dict[str, object], key: str, bodies: Iterable[bytes],
                 tail: dict[str, object] | None = None) -> None:
    """``write_document`` of items already encoded, a chunk of them at a time, by ``chunk_body``."""
    _write(out, head, key, (b for b in bodies if b), tail)


def chunk_body(items: list[dict[str, object]]) -> bytes:
    """Items laid out at the document's depth, for ``write_bodies``; b"" for none."""
    return _body(items)


def item_bodies(items: list[dict[str, object]]) -> list[bytes]:
    """``[chunk_body([item]) for item in items]``, encoded and laid out in one call (a call per item cost a tenth of
    a second over 10,000 results): the laid-out chunk is cut where one item ends and the next begins."""
    body = _body(items)
    if not body:
        return []
    # Items sit at depth 2, each opening on a line of exactly two spaces and "{"; deeper lines have more spaces, and
    # no newline is ever inside a JSON string, so the text ",\n  {" is found only between two items.
    first, *rest = body.split(_BETWEEN_ITEMS)
    return [first, *(_ITEM_START + part for part in rest)]


_BETWEEN_ITEMS = b",\n  {"
_ITEM_START = b"\n  {"


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
