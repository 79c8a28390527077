"""The on-disk catalog cache: validated reads, atomic writes and the last good copy.

Files in ``paths.cache_dir()``:
  catalog.json        the refreshed catalog in use (exact bytes of the feed that was verified)
  catalog.json.sig    its detached signature, when it had one
  catalog.prev.json   the previous good copy, kept when a new one replaces it
  catalog.meta.json   where it came from: URL, ETag, Last-Modified, fetched_at, sequence, signing key

Writes go to a temporary file in the same folder, are fsynced, then ``os.replace``d over the target and
the folder is fsynced, so a crash or power loss leaves either the old file or the new one, never half.
A corrupt cache never stops the app: ``read_cached`` returns no catalog and a reason, and the caller
falls back (to the previous copy here, then to the embedded catalog).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import msgspec

from rigcheck.catalog import paths
from rigcheck.catalog.records import Catalog, CatalogError, check_model, check_record, decode_catalog
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

MAX_CATALOG_BYTES = 50 * 1000 * 1000
"""A cached catalog is the bytes of a feed, which refresh caps at the same size (refresh.MAX_FEED_BYTES)."""
MAX_META_BYTES = 64 * 1024
CATALOG_FILE = "catalog.json"
PREVIOUS_FILE = "catalog.prev.json"
META_FILE = "catalog.meta.json"
SIGNATURE_SUFFIX = ".sig"


class CacheMeta(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What is known about the cached catalog's origin (for conditional requests and the status bar)."""

    source_url: str
    fetched_at: str
    """ISO 8601 UTC time of the last successful check (a 304 counts)."""
    etag: str | None = None
    last_modified: str | None = None
    sequence: int = 0
    signed: bool = False
    key_id: str | None = None
    sha256: str | None = None


class CachedCatalog(NamedTuple):
    """Result of ``read_cached``: the catalog (or None) and, when something is off, one sentence why."""

    catalog: Catalog | None
    reason: str | None
    path: Path | None = None


def catalog_path() -> Path:
    return paths.cache_dir() / CATALOG_FILE


def previous_path() -> Path:
    return paths.cache_dir() / PREVIOUS_FILE


def meta_path() -> Path:
    return paths.cache_dir() / META_FILE


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SIGNATURE_SUFFIX)


# ---------------------------------------------------------------------------------------------- validation

def validate_catalog_bytes(data: bytes) -> Catalog:
    """Decode and sanity-check a catalog document.

    Raises ``CatalogError`` with one sentence: not JSON, wrong type, missing key, newer major schema,
    nested too deep, a number out of its range, no models, duplicate ids, or an unreadable date.
    """
    try:
        # JSON is UTF-8 by definition; msgspec itself raises UnicodeDecodeError (not its own error)
        # when building the message for an invalid enum value holding bad bytes.
        data.decode("utf-8")
        catalog = decode_catalog(data)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"catalog is not valid UTF-8 text (byte {exc.start})") from None
    check_sanity(catalog)
    return catalog


def check_sanity(catalog: Catalog) -> None:
    """Checks the types cannot express. Raises ``CatalogError`` naming the first offending record."""
    if not catalog.models:
        raise CatalogError("catalog has no models")
    if catalog.sequence < 0:
        raise CatalogError(f"catalog sequence {catalog.sequence} is negative")
    parse_time(catalog.generated_at, "generated_at")
    if catalog.expires_at is not None:
        parse_time(catalog.expires_at, "expires_at")
    _unique((m.id for m in catalog.models), "model id")
    _unique((d.name for d in catalog.devices), "device name")
    _unique((c.id for c in catalog.closed_models), "closed model id")
    for i, model in enumerate(catalog.models):
        if not model.id.strip():
            raise CatalogError(f"$.models[{i}].id is empty")
        check_model(model, f"$.models[{i}]")
        _unique(((q.name, q.repo) for q in model.quants), f"quant of {model.id}")
        for j, quant in enumerate(model.quants):
            if not quant.bits_per_weight > 0:
                raise CatalogError(f"$.models[{i}].quants[{j}].bits_per_weight must be above 0")


def _unique(values, what: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            shown = value if isinstance(value, str) else "/".join(str(v) for v in value if v)
            raise CatalogError(f"catalog lists {what} {shown!r} twice")
        seen.add(value)


def check_record_numbers(record: msgspec.Struct, where: str) -> None:
    """Raise ``CatalogError`` when a number in ``record`` (or its nested records) is outside its range
    (``rigcheck.catalog.records``: finite, positive where it must be, below a sane ceiling)."""
    check_record(record, where)


def parse_time(text: str, field: str = "time") -> datetime:
    """Parse an ISO 8601 date or date-time (``Z`` allowed); naive times are UTC.

    Raises ``CatalogError`` when it is not one.
    """
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise CatalogError(f"catalog {field} {text!r} is not an ISO 8601 date") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def expiry_warning(catalog: Catalog, now: datetime | None = None) -> str | None:
    """One sentence when the catalog's ``expires_at`` has passed; None when it is current or never expires."""
    if not catalog.expires_at:
        return None
    try:
        expires = parse_time(catalog.expires_at, "expires_at")
    except CatalogError:
        return "the catalog's expiry date is unreadable; its prices may be out of date"
    now = now or datetime.now(timezone.utc)
    if expires >= now:
        return None
    days = (now - expires).days
    ago = f"{days} day{'s' if days != 1 else ''} ago" if days else "today"
    return (f"the catalog expired {ago} ({expires:%Y-%m-%d}); its prices and models may be out of date "
            f"— refresh it")


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------------- reading

def read_cached() -> CachedCatalog:
    """The cached refreshed catalog, or None with the reason it cannot be used.

    Never raises for a bad cache. When ``catalog.json`` is corrupt but ``catalog.prev.json`` is good,
    returns the previous copy and a reason saying so. Returns ``(None, None)`` when there is no cache at all.
    """
    current = catalog_path()
    catalog, problem = _read_one(current)
    if catalog is not None:
        return CachedCatalog(catalog, None, current)
    previous = previous_path()
    prev_catalog, prev_problem = _read_one(previous)
    if problem is None:  # no current file
        if prev_catalog is not None:
            return CachedCatalog(prev_catalog, "using the previous cached catalog", previous)
        return CachedCatalog(None, None if prev_problem is None else prev_problem, None)
    if prev_catalog is not None:
        return CachedCatalog(prev_catalog, f"{problem}; using the previous good copy", previous)
    return CachedCatalog(None, problem, None)


def _read_one(path: Path) -> tuple[Catalog | None, str | None]:
    """(catalog, None), (None, reason) when unusable, (None, None) when absent."""
    try:
        data = read_capped(path, MAX_CATALOG_BYTES, "the cached catalog")
    except FileNotFoundError:
        return None, None
    except FileReadError as exc:  # a folder, a FIFO, a device, too large, unreadable: never hang, never load it
        return None, str(exc)
    try:
        return validate_catalog_bytes(data), None
    except CatalogError as exc:
        return None, f"the cached catalog {path.name} is corrupt ({exc})"


def read_meta() -> CacheMeta | None:
    """The cache's meta record; None when absent or unreadable (it only enables conditional requests)."""
    try:
        data = read_capped(meta_path(), MAX_META_BYTES, "the catalog's meta file")
    except (FileNotFoundError, FileReadError):
        return None
    if json_too_deep(data):
        return None
    try:
        return msgspec.json.decode(data, type=CacheMeta)
    except msgspec.DecodeError:
        return None


# --------------------------------------------------------------------------------------------------- writing

def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a partial one.

    Raises ``OSError`` (disk full, permissions); the old file is then untouched and no temp file is left.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on Windows, where os.open on a folder fails.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_catalog(data: bytes, meta: CacheMeta, signature: str | None = None, *,
                 validated: Catalog | None = None) -> Catalog:
    """Validate ``data`` and make it the cached catalog, keeping the current one as the previous good copy.

    ``validated`` is the catalog the caller already decoded and checked from these exact bytes (saves a
    second pass). Returns the decoded catalog. Raises ``CatalogError`` (nothing written) when ``data`` is
    not a valid catalog, ``OSError`` when the disk refuses (the current copy then stays in place).
    """
    catalog = validated if validated is not None else validate_catalog_bytes(data)
    current = catalog_path()
    old_catalog, _problem = _read_one(current)
    if old_catalog is not None:
        # Only a good copy may become the previous one: a corrupt current file must not evict it.
        old_bytes = current.read_bytes()
        if old_bytes != data:
            atomic_write(previous_path(), old_bytes)
            old_sig = signature_path(current)
            if old_sig.exists():
                atomic_write(signature_path(previous_path()), old_sig.read_bytes())
            else:
                signature_path(previous_path()).unlink(missing_ok=True)
    atomic_write(current, data)
    if signature is not None:
        atomic_write(signature_path(current), signature.encode("ascii") + b"\n")
    else:
        signature_path(current).unlink(missing_ok=True)
    write_meta(meta)
    return catalog


def write_meta(meta: CacheMeta) -> None:
    atomic_write(meta_path(), msgspec.json.format(msgspec.json.encode(meta), indent=2) + b"\n")
