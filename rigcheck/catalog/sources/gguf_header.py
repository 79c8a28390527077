"""The header of a remote GGUF file, read with HTTP Range requests and parsed by the ``gguf`` package.

For a repo that ships only GGUF files (no ``config.json``), the architecture comes from the first file's
key-value metadata (``{arch}.block_count``, ``{arch}.attention.head_count``, ...) and the parameter count from
its tensor infos. Only the header is read: 2 MB first, more (up to ``MAX_HEADER_BYTES``) while the tokenizer's
arrays run past what was read; the tensor data is never downloaded.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from rigcheck.catalog.net import FeedInvalid, Session

FIRST_READ_BYTES = 2 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024 * 1024


@dataclass
class GgufHeader:
    """What the header says: key-value metadata (scalars and short lists; long arrays by length only) and
    the tensors' element count."""

    metadata: dict[str, object] = field(default_factory=dict)
    array_lengths: dict[str, int] = field(default_factory=dict)
    params_total: int = 0
    tensor_count: int = 0


def parse_header(data: bytes) -> GgufHeader:
    """Parse a GGUF header from its first bytes. Raises ``EOFError`` when more bytes are needed and
    ``FeedInvalid`` when it is not GGUF."""
    import gguf

    class _HeaderOnly(gguf.GGUFReader):
        # The tensor data is not there: keep the tensor infos, build no arrays over the data.
        def _build_tensors(self, start_offs, fields):
            self.tensor_infos = [(int(np.prod(f.parts[3])), bytes(f.parts[1]).decode("utf-8", "replace"))
                                 for f in fields]

    if data[:4] != b"GGUF":
        raise FeedInvalid("the file is not GGUF (no GGUF magic)")
    fd, name = tempfile.mkstemp(suffix=".gguf")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            reader = _HeaderOnly(name)
        except (IndexError, ValueError, KeyError, OverflowError, TypeError) as exc:
            if "magic" in str(exc) or "version" in str(exc):
                raise FeedInvalid(f"the GGUF header is not readable: {exc}") from None
            raise EOFError(str(exc)) from None
        header = GgufHeader(tensor_count=len(reader.tensor_infos),
                            params_total=sum(n for n, _ in reader.tensor_infos))
        for key, fld in reader.fields.items():
            if key.startswith("GGUF."):
                continue
            if fld.types and fld.types[0] == gguf.GGUFValueType.ARRAY:
                header.array_lengths[key] = len(fld.data)
                if len(fld.data) <= 512:
                    header.metadata[key] = fld.contents()
            else:
                header.metadata[key] = fld.contents()
        del reader
        return header
    finally:
        os.unlink(name)


def read_remote_header(session: Session, url: str, *, headers: dict[str, str] | None = None,
                       what: str = "the GGUF file") -> GgufHeader:
    """Read and parse the header of the GGUF file at ``url`` with Range requests.

    Raises ``FeedInvalid`` when it is not GGUF or the header is larger than ``MAX_HEADER_BYTES``, and the
    session's network errors.
    """
    size = FIRST_READ_BYTES
    data = b""
    while True:
        more = session.get_range(url, len(data), size - len(data), what=what, headers=headers)
        data += more
        try:
            return parse_header(data)
        except EOFError:
            if len(data) < size:  # the file ended: it is truncated, not just long
                raise FeedInvalid(f"{what} ends inside its header") from None
            if size >= MAX_HEADER_BYTES:
                raise FeedInvalid(f"the header of {what} is larger than {MAX_HEADER_BYTES // 2**20} MB") from None
            size = min(size * 4, MAX_HEADER_BYTES)
