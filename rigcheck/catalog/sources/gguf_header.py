"""The header of a remote GGUF file, read with HTTP Range requests and parsed by the installed-model reader.

For a repo that ships only GGUF files (no ``config.json``), the architecture comes from the first file's
key-value metadata (``{arch}.block_count``, ``{arch}.attention.head_count``, ...) and the parameter count from
its tensor infos. Only the header is read: 2 MB first, more (up to ``MAX_HEADER_BYTES``) while the tokenizer's
arrays run past what was read; the tensor data is never downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    """Parse a GGUF header from its first bytes (``catalog.installed.gguf_header``: the one GGUF reader, which
    skips a tokenizer's long arrays by their lengths). Raises ``EOFError`` when more bytes are needed and
    ``FeedInvalid`` when it is not GGUF."""
    from rigcheck.catalog.installed.gguf_header import GgufError, SkippedArray, read_header_bytes

    if data[:4] != b"GGUF":
        raise FeedInvalid("the file is not GGUF (no GGUF magic)")
    try:
        parsed = read_header_bytes(data)
    except GgufError as exc:
        if str(exc).startswith("cut short"):
            raise EOFError(str(exc)) from None
        raise FeedInvalid(f"the GGUF header is not readable: {exc}") from None
    header = GgufHeader(tensor_count=parsed.tensor_count, params_total=parsed.params)
    for key, value in parsed.metadata.items():
        if isinstance(value, SkippedArray):
            header.array_lengths[key] = value.length
        elif isinstance(value, list):
            header.array_lengths[key] = len(value)
            header.metadata[key] = value
        else:
            header.metadata[key] = value
    return header


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
