"""A GGUF file's header: its key/value metadata and tensor table, read without touching the tensor data.

The layout and the type codes are the ``gguf`` package's (``GGUFValueType``, ``GGMLQuantizationType``,
``GGML_QUANT_SIZES``, ``LlamaFileType``). Its ``GGUFReader`` is not used: it maps the whole file and
builds a numpy view per array element, which takes seconds for a real tokenizer (Llama 3's 128k tokens
and 280k merges: 11.7 s here); this reader keeps scalars and short arrays, skips long arrays by their
lengths (~50 ms for the same header) and never reads past the tensor table.

``read_header(path)`` raises ``GgufError`` with one sentence for a file that is not GGUF, is cut short
(an interrupted download: the tensor table promises more bytes than the file has) or is corrupt.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from gguf.constants import (
    GGML_QUANT_SIZES,
    GGUF_DEFAULT_ALIGNMENT,
    GGUF_MAGIC,
    GGMLQuantizationType,
    GGUFValueType,
    LlamaFileType,
)

_SCALARS: dict[int, struct.Struct] = {
    GGUFValueType.UINT8: struct.Struct("<B"), GGUFValueType.INT8: struct.Struct("<b"),
    GGUFValueType.UINT16: struct.Struct("<H"), GGUFValueType.INT16: struct.Struct("<h"),
    GGUFValueType.UINT32: struct.Struct("<I"), GGUFValueType.INT32: struct.Struct("<i"),
    GGUFValueType.FLOAT32: struct.Struct("<f"), GGUFValueType.BOOL: struct.Struct("<?"),
    GGUFValueType.UINT64: struct.Struct("<Q"), GGUFValueType.INT64: struct.Struct("<q"),
    GGUFValueType.FLOAT64: struct.Struct("<d"),
}
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")

SHORT_ARRAY_ITEMS = 1024
"""Number arrays up to this long are kept (per-layer head counts); longer ones (token scores) are skipped."""
SHORT_STRING_ARRAY_ITEMS = 64
"""String arrays up to this long are kept (tags, languages); longer ones (vocabularies, merges) are skipped."""
_MAX_KEYS = 100_000
_MAX_TENSORS = 1_000_000
_MAX_STRING_BYTES = 1 << 24
_FIRST_READ_BYTES = 1 << 16


class GgufError(ValueError):
    """A file that cannot be read as GGUF, with one sentence saying why."""


@dataclass(frozen=True)
class SkippedArray:
    """A long array left unread: its element type and length (a vocabulary's size is its length)."""

    item_type: int
    length: int


@dataclass(frozen=True)
class GgufHeader:
    """What a GGUF file says about itself. Sizes in bytes; ``params`` counts tensor elements."""

    path: str
    version: int
    metadata: dict[str, object]
    tensor_count: int
    params: int
    """Elements over all tensors of this file (one shard of a split model holds part of them)."""
    tensor_bytes: int
    """Bytes the tensor table says the data takes."""
    data_end_bytes: int
    """Where the last tensor's data ends: a file shorter than this is cut short."""
    file_size_bytes: int
    elements_by_type: dict[str, int] = field(default_factory=dict)
    """Elements per GGML type name ("Q4_K", "F32", ...): the dominant matrix type names the quant."""
    expert_params: int = 0
    """Elements of the routed experts' tensors (``*_exps.*``): a mixture of experts reads k of E of them."""

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    def get(self, key: str) -> object:
        """A metadata value; ``{arch}`` in ``key`` is the file's architecture ("{arch}.block_count")."""
        if "{arch}" in key:
            key = key.replace("{arch}", self.architecture or "")
        return self.metadata.get(key)

    def get_int(self, key: str) -> int | None:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return int(value)

    def get_str(self, key: str) -> str | None:
        value = self.get(key)
        return value.strip() or None if isinstance(value, str) else None

    @property
    def file_type(self) -> str | None:
        """The quant the file says it is ("Q4_K_M", "F16"), from ``general.file_type``; None if absent."""
        code = self.get_int("general.file_type")
        if code is None:
            return None
        try:
            name = LlamaFileType(code).name
        except ValueError:
            return None
        if name == "GUESSED":
            return None
        return name.removeprefix("MOSTLY_").removeprefix("ALL_").removesuffix("_MOE")

    @property
    def truncated(self) -> bool:
        return self.file_size_bytes < self.data_end_bytes


class _Buffer:
    """The head of a file read in growing chunks; ``need(end)`` makes ``data[:end]`` available."""

    def __init__(self, handle, path: str) -> None:
        self.handle = handle
        self.path = path
        self.data = handle.read(_FIRST_READ_BYTES)

    def need(self, end: int, what: str) -> bytes:
        data = self.data
        while end > len(data):
            chunk = self.handle.read(max(end - len(data), len(data)))
            if not chunk:
                raise GgufError(f"cut short: the file ends at byte {len(data):,} while reading {what}")
            data = self.data = data + chunk
        return data


def read_header(path: str | os.PathLike[str]) -> GgufHeader:
    """The header of the GGUF file at ``path``. Raises ``GgufError`` (not GGUF, cut short, corrupt) or
    ``OSError`` (cannot be opened)."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        return _parse(handle, os.fstat(handle.fileno()).st_size, path)


def read_header_bytes(data: bytes, path: str = "") -> GgufHeader:
    """The header in the first bytes of a GGUF file (a remote file read with Range requests). Raises
    ``GgufError``; one starting "cut short" means more bytes are needed."""
    import io

    return _parse(io.BytesIO(data), len(data), path)


def _parse(handle, size: int, path: str) -> GgufHeader:
    buf = _Buffer(handle, path)
    data = buf.data
    if len(data) >= 4 and _U32.unpack_from(data, 0)[0] != GGUF_MAGIC:
        raise GgufError("not a GGUF file (no GGUF magic number at the start)")
    data = buf.need(24, "the header")
    version = _U32.unpack_from(data, 4)[0]
    if version not in (2, 3):
        raise GgufError(f"GGUF version {version} is not supported (2 and 3 are)")
    tensor_count, kv_count = _U64.unpack_from(data, 8)[0], _U64.unpack_from(data, 16)[0]
    if kv_count > _MAX_KEYS or tensor_count > _MAX_TENSORS:
        raise GgufError(f"corrupt header: {kv_count:,} keys and {tensor_count:,} tensors")
    off = 24
    metadata: dict[str, object] = {}
    for _ in range(kv_count):
        key, off = _string(buf, off, "a metadata key")
        data = buf.need(off + 4, f"the type of {key}")
        value_type = _U32.unpack_from(data, off)[0]
        value, off = _value(buf, off + 4, value_type, key)
        metadata[key] = value
    alignment = metadata.get("general.alignment", GGUF_DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise GgufError(f"corrupt header: general.alignment is {alignment!r}")
    by_type: dict[str, int] = {}
    params, tensor_bytes, last_end, expert_params, off = _tensor_table(buf, off, tensor_count, by_type)
    data_start = -(-off // alignment) * alignment
    return GgufHeader(path=path, version=version, metadata=metadata, tensor_count=tensor_count, params=params,
                      tensor_bytes=tensor_bytes, data_end_bytes=data_start + last_end if tensor_count else off,
                      file_size_bytes=size, elements_by_type=by_type, expert_params=expert_params)


_TYPES: dict[int, tuple[str, int, int]] = {
    int(t): (t.name, *GGML_QUANT_SIZES[t]) for t in GGMLQuantizationType if t in GGML_QUANT_SIZES}
"""GGML type code -> (name, elements per block, bytes per block)."""
_TENSOR_TAIL = struct.Struct("<IQ")


def _tensor_table(buf: _Buffer, off: int, count: int, by_type: dict[str, int]) -> tuple[int, int, int, int, int]:
    """Walk ``count`` tensor infos from ``off``: (elements, data bytes, end of the last tensor's data, routed
    experts' elements, offset after the table); elements per type name into ``by_type``. The hot loop of a
    scan (hundreds of tensors per file): plain struct reads, no per-tensor objects."""
    params = tensor_bytes = last_end = expert_params = 0
    u64, u32, tail = _U64.unpack_from, _U32.unpack_from, _TENSOR_TAIL.unpack_from
    types = _TYPES
    data = buf.data
    for i in range(count):
        if off + 8 > len(data):
            data = buf.need(off + 8, f"the name of tensor {i}")
        name_len = u64(data, off)[0]
        if name_len > _MAX_STRING_BYTES:
            raise GgufError(f"corrupt tensor table: the name of tensor {i} claims {name_len:,} bytes")
        name_end = off + 8 + name_len
        if name_end + 4 > len(data):
            data = buf.need(name_end + 4, f"tensor {i}")
        n_dims = u32(data, name_end)[0]
        if n_dims > 8:
            raise GgufError(f"corrupt tensor table: tensor {i} has {n_dims} dimensions")
        dims_at = name_end + 4
        end = dims_at + 8 * n_dims + 12
        if end > len(data):
            data = buf.need(end, f"tensor {i}")
        elements = 1
        for d in range(n_dims):
            elements *= u64(data, dims_at + 8 * d)[0]
        type_code, offset = tail(data, dims_at + 8 * n_dims)
        known = types.get(type_code)
        if known is None:
            name = data[off + 8:name_end].decode("utf-8", errors="replace")
            raise GgufError(f"tensor {name} has a tensor type ({type_code}) this version of gguf does not know")
        type_name, block, type_size = known
        nbytes = elements * type_size // block
        params += elements
        tensor_bytes += nbytes
        by_type[type_name] = by_type.get(type_name, 0) + elements
        if offset + nbytes > last_end:
            last_end = offset + nbytes
        if data.find(b"_exps.", off + 8, name_end) >= 0:
            expert_params += elements
        off = end
    return params, tensor_bytes, last_end, expert_params, off


def _string(buf: _Buffer, off: int, what: str) -> tuple[str, int]:
    data = buf.need(off + 8, what)
    length = _U64.unpack_from(data, off)[0]
    if length > _MAX_STRING_BYTES:
        raise GgufError(f"corrupt header: {what} claims {length:,} bytes")
    data = buf.need(off + 8 + length, what)
    return data[off + 8:off + 8 + length].decode("utf-8", errors="replace"), off + 8 + length


def _value(buf: _Buffer, off: int, value_type: int, key: str) -> tuple[object, int]:
    scalar = _SCALARS.get(value_type)
    if scalar is not None:
        data = buf.need(off + scalar.size, key)
        return scalar.unpack_from(data, off)[0], off + scalar.size
    if value_type == GGUFValueType.STRING:
        return _string(buf, off, key)
    if value_type != GGUFValueType.ARRAY:
        raise GgufError(f"corrupt header: {key} has an unknown value type {value_type}")
    data = buf.need(off + 12, key)
    item_type, length = _U32.unpack_from(data, off)[0], _U64.unpack_from(data, off + 4)[0]
    off += 12
    item = _SCALARS.get(item_type)
    if item is not None:
        end = off + item.size * length
        if length <= SHORT_ARRAY_ITEMS:
            data = buf.need(end, key)
            return list(struct.unpack_from(f"<{length}{item.format[-1]}", data, off)), end
        buf.need(end, key)
        return SkippedArray(item_type, length), end
    if item_type == GGUFValueType.STRING:
        if length <= SHORT_STRING_ARRAY_ITEMS:
            items = []
            for _ in range(length):
                text, off = _string(buf, off, key)
                items.append(text)
            return items, off
        return SkippedArray(item_type, length), _skip_strings(buf, off, length, key)
    raise GgufError(f"corrupt header: {key} is an array of unsupported type {item_type}")


def _skip_strings(buf: _Buffer, off: int, count: int, key: str) -> int:
    """The offset after ``count`` length-prefixed strings starting at ``off`` (a vocabulary: the hot loop)."""
    unpack = _U64.unpack_from
    done = 0
    while done < count:
        data = buf.data
        limit = len(data) - 8
        while done < count and off <= limit:
            length = unpack(data, off)[0]
            if length > _MAX_STRING_BYTES:
                raise GgufError(f"corrupt header: an entry of {key} claims {length:,} bytes")
            off += 8 + length
            done += 1
        if done < count:
            buf.need(off + 8, key)
    buf.need(off, key)
    return off


def describe_problem(header: GgufHeader) -> str | None:
    """One sentence when a readable header shows a broken file (cut short), else None."""
    if header.truncated:
        have, want = header.file_size_bytes, header.data_end_bytes
        return (f"cut short: {have / 1024**3:.2f} GiB of the {want / 1024**3:.2f} GiB its tensor table promises "
                "(an interrupted download?)")
    return None


def is_gguf(path: Path) -> bool:
    """True when the file starts with the GGUF magic number (False when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return len(head) == 4 and _U32.unpack_from(head, 0)[0] == GGUF_MAGIC
