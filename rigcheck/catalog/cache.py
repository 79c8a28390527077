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

import codecs
import hashlib
import operator
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

import msgspec

from rigcheck.catalog import decoded, paths
from rigcheck.catalog.records import (
    MAX_CATALOG_BYTES,
    Catalog,
    CatalogError,
    check_major,
    check_model,
    check_record,
    decode_catalog,
    gc_paused,
)
from rigcheck.probe.files import FileReadError, FileTooLarge, json_too_deep, read_capped

MAX_META_BYTES = 64 * 1024
CATALOG_FILE = "catalog.json"
PREVIOUS_FILE = "catalog.prev.json"
META_FILE = "catalog.meta.json"
SIGNATURE_SUFFIX = ".sig"
LOCK_FILE = "refresh.lock"
TRUST_FILE = "catalog.trust.json"
TEMP_SUFFIX = ".tmp"
UTF8_CHUNK_BYTES = 1 << 16


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
    """Of the catalog bytes this record describes; a record for other bytes is ignored."""
    kind: str = "feed"
    """"feed" (downloaded from ``source_url``) or "sources" (built here from Hugging Face and OpenRouter)."""


class TrustState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The highest sequence of a signed feed ever installed: the rollback floor for signed feeds.

    Kept apart from the meta record so that an unsigned feed or a refresh from sources never lowers it, and
    written before the catalog it admits (a failed install leaves the floor at a sequence that is re-admitted).
    """

    signed_sequence: int = 0


def trust_path() -> Path:
    return paths.cache_dir() / TRUST_FILE


def read_trust() -> TrustState:
    try:
        data = read_capped(trust_path(), MAX_META_BYTES, "the trust file")
        if json_too_deep(data):
            return TrustState()
        return msgspec.json.decode(data, type=TrustState)
    except (FileNotFoundError, FileReadError, msgspec.DecodeError):
        return TrustState()


def write_trust(state: TrustState) -> None:
    atomic_write(trust_path(), msgspec.json.encode(state) + b"\n")


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
    no models, duplicate ids, a negative or non-finite number, or an unreadable date.
    """
    try:
        # JSON is UTF-8 by definition; msgspec checks the strings it keeps, not the keys it skips, and
        # itself raises UnicodeDecodeError (not its own error) when building the message for an invalid
        # enum value holding bad bytes.
        _check_utf8(data)
        with gc_paused():
            catalog = decode_catalog(data)  # its types refuse negative numbers; JSON has no NaN or infinity
            _check_document(catalog)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"catalog is not valid UTF-8 text (byte {exc.start})") from None
    return catalog


def _check_utf8(data: bytes) -> None:
    """Raise ``UnicodeDecodeError`` (its ``start`` the offset in ``data``) when ``data`` is not UTF-8.

    ASCII text (most catalogs) is UTF-8: ``bytes.isascii`` says so without making anything. Other text is decoded
    64 kB at a time: one str the size of an 85 MB document cost a tenth of a second, and megabyte pieces each came
    from fresh memory (a page fault per 4 kB, 60 ms for 75 MB); pieces this small reuse the same memory.
    """
    if data.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), UTF8_CHUNK_BYTES):
            decoder.decode(view[start:start + UTF8_CHUNK_BYTES])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        data.decode("utf-8")  # the same error, with the offset counted from the start of the document
        raise


def check_sanity(catalog: Catalog) -> None:
    """Checks for a catalog built in Python (whose numbers no decoder has checked): what ``_check_document``
    checks, then every number against its range and each model's fields against each other
    (``records.check_record``), worded as decoding words them. Raises ``CatalogError`` naming the first
    offending record."""
    _check_document(catalog)
    check_record(catalog)


def _check_document(catalog: Catalog) -> None:
    """What no record's type says: models present, the header's values, and ids that are set and unique."""
    if not catalog.models:
        raise CatalogError("catalog has no models")
    if catalog.sequence < 0:
        raise CatalogError(f"catalog sequence {catalog.sequence} is negative")
    parse_time(catalog.generated_at, "generated_at")
    if catalog.expires_at is not None:
        parse_time(catalog.expires_at, "expires_at")
    for i, model in enumerate(catalog.models):  # a part no larger than its whole: what ranges cannot say
        check_model(model, f"$.models[{i}]")
    if _ids_look_unique(catalog):
        return
    _unique((m.id for m in catalog.models), "model id")
    _unique((d.name for d in catalog.devices), "device name")
    _unique((c.id for c in catalog.closed_models), "closed model id")
    for i, model in enumerate(catalog.models):
        if not model.id.strip():
            raise CatalogError(f"$.models[{i}].id is empty")
        _unique(((q.name, q.repo) for q in model.quants), f"quant of {model.id}")


def _ids_look_unique(catalog: Catalog) -> bool:
    """True when every model id is set and unique, and so are device names, closed model ids and each model's
    quants; decided with C loops (``map``, ``set``), as record-by-record Python took a 10,000-model catalog
    as long as decoding it. False only says "look closer": the walk then names the offender."""
    ids = list(map(_ID, catalog.models))
    if not (_all_distinct(ids) and all(map(str.strip, ids))):
        return False
    if not (_all_distinct(list(map(_NAME, catalog.devices)))
            and _all_distinct(list(map(_ID, catalog.closed_models)))):
        return False
    # Distinct names make distinct (name, repo) pairs; only a model listing a name twice needs the pairs.
    return all(len(set(map(_NAME, quants))) == len(quants) or len(set(map(_NAME_REPO, quants))) == len(quants)
               for quants in map(_QUANTS, catalog.models))


_ID, _NAME, _QUANTS = operator.attrgetter("id"), operator.attrgetter("name"), operator.attrgetter("quants")
_NAME_REPO = operator.attrgetter("name", "repo")


def _all_distinct(values: list) -> bool:
    return len(set(values)) == len(values)


def _unique(values, what: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            shown = value if isinstance(value, str) else "/".join(str(v) for v in value if v)
            raise CatalogError(f"catalog lists {what} {shown!r} twice")
        seen.add(value)


def check_record_numbers(record: msgspec.Struct, where: str) -> None:
    """Raise ``CatalogError`` when a number in ``record`` (or its nested records) is outside its range, or a
    model's fields disagree (``records.check_record``); the sentence starts with ``where``."""
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


def expiry_warning_until(catalog: Catalog, now: datetime | None = None) -> datetime | None:
    """When the sentence ``expiry_warning`` gives for ``catalog`` next changes (it appears at ``expires_at``, then
    counts the days since); None when it never changes (no expiry date, or one that cannot be read)."""
    if not catalog.expires_at:
        return None
    try:
        expires = parse_time(catalog.expires_at, "expires_at")
    except CatalogError:
        return None
    now = now or datetime.now(timezone.utc)
    if expires >= now:
        return expires
    return expires + timedelta(days=(now - expires).days + 1)


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


def _read_one(path: Path, *, keep_copy: bool = True) -> tuple[Catalog | None, str | None]:
    """(catalog, None), (None, reason) when unusable, (None, None) when absent. A large catalog is read from its
    decoded copy when one made from this file is beside it (``decoded``), and (``keep_copy``) such a copy is
    written after the JSON is read; the records are checked either way."""
    catalog = decoded.read(path)
    if catalog is not None:
        try:
            check_major(catalog.schema_version)
            with gc_paused():
                _check_document(catalog)
            return catalog, None
        except CatalogError:
            pass  # records that do not pass: the JSON says what is wrong with them, if anything is
    try:
        data = read_capped(path, MAX_CATALOG_BYTES, "the cached catalog")
    except FileNotFoundError:
        return None, None
    except FileTooLarge:
        return None, f"the cached catalog {path.name} is larger than the {MAX_CATALOG_BYTES // 10**6} MB limit"
    except FileReadError as exc:  # a folder, a FIFO, a device, unreadable: never hang, never load it
        return None, str(exc)
    try:
        catalog = validate_catalog_bytes(data)
    except CatalogError as exc:
        return None, f"the cached catalog {path.name} is corrupt ({exc})"
    if keep_copy:
        decoded.write(path, catalog)
    return catalog, None


def read_meta(*, check_catalog: bool = True) -> CacheMeta | None:
    """The cache's meta record; None when absent, unreadable, or (``check_catalog``) written for other bytes
    than the ``catalog.json`` in place (an install whose last step failed)."""
    try:
        data = read_capped(meta_path(), MAX_META_BYTES, "the catalog's meta file")
        if json_too_deep(data):
            return None
        meta = msgspec.json.decode(data, type=CacheMeta)
    except (FileNotFoundError, FileReadError, msgspec.DecodeError):
        return None
    if check_catalog and meta.sha256 and _catalog_sha256() != meta.sha256:
        return None
    return meta


_sha_memo: dict[tuple[int, int], str] = {}


def _catalog_sha256() -> str | None:
    """sha256 of catalog.json, computed once per (mtime, size)."""
    path = catalog_path()
    try:
        st = path.stat()
        key = (st.st_mtime_ns, st.st_size)
        if key not in _sha_memo:
            _sha_memo.clear()
            _sha_memo[key] = hashlib.sha256(read_capped(path, MAX_CATALOG_BYTES, "the cached catalog")).hexdigest()
        return _sha_memo[key]
    except (OSError, FileReadError):
        return None


# --------------------------------------------------------------------------------------------------- writing

def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a partial one.

    Raises ``OSError`` (disk full, permissions); the old file is then untouched and no temp file is left.
    """
    tmp_name = _stage(path, data)
    try:
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
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


def install_catalog(data: bytes, meta: CacheMeta, signature: str | None = None, *,
                    validated: Catalog | None = None) -> tuple[Catalog, str | None]:
    """Make ``data`` the cached catalog, keeping the current one as the previous good copy.

    Ordered so that what the caller reports is true: everything that can fail for lack of space is written to
    temporary files first (nothing in place changes if that fails: ``OSError``); then the previous copy, the
    signature and the catalog are moved into place, the catalog last. From that moment the refresh has
    happened; ``catalog.meta.json`` goes in after it, and if that one write fails the new catalog stays in use
    and the second value returned is a warning sentence (``read_meta`` ignores a meta record whose
    ``sha256`` does not match the catalog, so a stale one is never believed). Last, a large catalog's decoded copy
    is written beside it (``decoded``: best effort). Returns (catalog, warning).
    Raises ``CatalogError`` (nothing written) when ``data`` is not a valid catalog, or is larger than the cache
    would read back (``MAX_CATALOG_BYTES``).
    """
    if len(data) > MAX_CATALOG_BYTES:
        raise CatalogError(f"the catalog is {len(data) / 1e6:.0f} MB, over the {MAX_CATALOG_BYTES // 10**6} MB "
                           f"a catalog may have")
    catalog = validated if validated is not None else validate_catalog_bytes(data)
    current = catalog_path()
    meta = msgspec.structs.replace(meta, sha256=hashlib.sha256(data).hexdigest())
    moves: list[tuple[str, Path]] = []
    try:
        old_catalog, _problem = _read_one(current, keep_copy=False)  # about to be replaced: no copy of it
        if old_catalog is not None:
            # Only a good copy may become the previous one: a corrupt current file must not evict it.
            old_bytes = current.read_bytes()
            if old_bytes != data:
                moves.append((_stage(previous_path(), old_bytes), previous_path()))
                old_sig = signature_path(current)
                if old_sig.exists():
                    moves.append((_stage(signature_path(previous_path()), old_sig.read_bytes()),
                                  signature_path(previous_path())))
                else:
                    moves.append(("", signature_path(previous_path())))
        if signature is not None:
            moves.append((_stage(signature_path(current), signature.encode("ascii") + b"\n"),
                          signature_path(current)))
        else:
            moves.append(("", signature_path(current)))
        moves.append((_stage(current, data), current))
        meta_tmp = _stage(meta_path(), _meta_bytes(meta))
    except BaseException:
        for tmp, _target in moves:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, target in moves:
        if tmp:
            os.replace(tmp, target)
        else:
            target.unlink(missing_ok=True)
    _fsync_dir(current.parent)
    decoded.discard(previous_path())  # made from a file now replaced: it matches it no more (70 MB at 10,000 models)
    warning = None
    try:
        os.replace(meta_tmp, meta_path())
        _fsync_dir(current.parent)
    except OSError as exc:
        Path(meta_tmp).unlink(missing_ok=True)
        warning = (f"the catalog was updated, but the note of where it came from could not be written "
                   f"({exc.strerror or exc}); `catalog show` will not know its source")
    decoded.write(current, catalog)  # the next load, in this process or another, need not read the JSON
    return catalog, warning


def save_catalog(data: bytes, meta: CacheMeta, signature: str | None = None, *,
                 validated: Catalog | None = None) -> Catalog:
    """``install_catalog`` for callers that need no warning (tests, maintainers' tools)."""
    return install_catalog(data, meta, signature, validated=validated)[0]


def _stage(path: Path, data: bytes) -> str:
    """Write ``data`` to a fsynced temporary file beside ``path``; returns its name (moved in by the caller)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return tmp_name


def _meta_bytes(meta: CacheMeta) -> bytes:
    return msgspec.json.format(msgspec.json.encode(meta), indent=2) + b"\n"


# ------------------------------------------------------------------------------------- lock and clean-up

class RefreshBusy(OSError):
    """Another refresh holds the cache's lock."""


@contextmanager
def refresh_lock(timeout_s: float = 0.0):
    """Serialise refreshes (CLI, GUI, ``catalog add``): held from reading the state to installing the result,
    so two refreshes can never roll each other back. On entry, temporary files that a killed run left in the
    cache folder are removed (under the lock no other writer can own them).

    Raises ``RefreshBusy`` when another process holds the lock for longer than ``timeout_s``.
    """
    import filelock

    folder = paths.cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(folder / LOCK_FILE), timeout=timeout_s)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RefreshBusy("another catalog refresh is running; try again when it has finished") from None
    try:
        remove_stale_temporaries()
        yield
    finally:
        lock.release()


def remove_stale_temporaries() -> list[Path]:
    """Delete the temporary files of interrupted writes in the cache folder; returns what was removed."""
    removed = []
    folder = paths.cache_dir()
    for pattern_dir in (folder, folder / "http", folder / "sources"):
        try:
            names = list(pattern_dir.glob(f".*{TEMP_SUFFIX}"))
        except OSError:
            continue
        for path in names:
            try:
                if path.is_file():
                    path.unlink()
                    removed.append(path)
            except OSError:
                pass  # in use or not ours to remove: harmless, tried again next time
    return removed


def write_meta(meta: CacheMeta) -> None:
    atomic_write(meta_path(), _meta_bytes(meta))
