"""A JSON document ending in a long list, written a chunk at a time with the layout of ``json.dumps(indent=1)``.

``rigcheck fit --json`` over a 10,000-model catalog is over 100,000 results (200 MB). ``json.dumps`` with an
indent runs in pure Python (the C encoder serves compact output only): 6 s for that listing, and the whole
document as dicts and as one string held 1.7 GiB. Here each chunk of results is built, encoded and laid out
by msgspec, written, and dropped. The text parses to what ``json.dumps(document, indent=1,
ensure_ascii=False)`` writes, with the same layout; floats may be spelled differently (``1e-05`` is written
``0.00001``), NaN and infinity are written ``null`` (``json.dumps`` would write ``NaN``, which is not JSON).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TextIO

import msgspec

ITEMS_PER_CHUNK = 1000
_encoder = msgspec.json.Encoder()


def write_document(out: TextIO, head: dict[str, object], key: str, items: Iterable[dict[str, object]],
                   tail: dict[str, object] | None = None) -> None:
    """Write ``{**head, key: list(items), **tail}`` and a newline to ``out``; ``items`` is consumed one chunk at a
    time. When ``out`` has a binary ``buffer`` (the standard output does) the UTF-8 goes there directly."""
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
    items = iter(items)
    first = True
    while chunk := list(itertools.islice(items, ITEMS_PER_CHUNK)):
        # Laid out as the value of a top-level key, the items sit at the document's depth:
        # '{\n "": [\n  {\n   ...\n  },\n  {...}\n ]\n}' -> everything between '[' and '\n ]'.
        body = _format(b'{"":' + _encoder.encode(chunk) + b"}")[8:-5]
        write((b"[" if first else b",") + body)
        first = False
    write((b"[]" if first else b"\n ]") + document[at + 2:] + b"\n")
    if buffer is not None:
        buffer.flush()


def _format(data: bytes) -> bytes:
    return msgspec.json.format(data, indent=1)
