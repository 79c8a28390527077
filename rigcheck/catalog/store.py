"""Where the catalog in use comes from: the refreshed copy in the cache folder when it is valid, else the embedded one.

Reading side (this module's ``load_catalog`` and ``catalog_status``): never raises for a bad cache file. A
cached copy that is unreadable, invalid, of a newer major schema, or older (lower ``sequence``) than the
embedded catalog is skipped with one warning, and the embedded catalog is used. An expired cached copy is
still used, with a warning. The write side (refresh, atomic replace, last good copy) lives beside this and
is ``rigcheck.catalog.cache`` (validated reads with the previous-copy fallback, atomic writes) and
``rigcheck.catalog.refresh``; this module only chooses between the cached copy and the embedded one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rigcheck.catalog import cache
from rigcheck.catalog.records import Catalog, CatalogError, decode_catalog
from rigcheck.catalog.redact import redact_text, redact_url


class EmbeddedCatalogError(RuntimeError):
    """The catalog shipped inside the app is missing or broken: an installation problem, not a user error."""


@dataclass(frozen=True)
class CatalogStatus:
    """What the app is using now, for ``catalog show`` and the status bar."""

    source: str
    """"embedded", or where the cached copy came from (its feed URL), or "cache" when it does not say."""
    path: str
    """The file the catalog was read from."""
    schema_version: str
    sequence: int
    generated_at: str
    expires_at: str | None
    age_s: float | None
    """Seconds since ``generated_at``; None when the timestamp cannot be read."""
    fetched_at: str | None = None
    """When a refresh last fetched or confirmed the cached copy (None for the embedded catalog)."""
    counts: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    description: str = ""
    """Where it came from, for people: "built into rigcheck", "refreshed from Hugging Face and OpenRouter on
    DATE", "feed URL" (credentials redacted)."""

    @property
    def is_embedded(self) -> bool:
        return self.source == "embedded"

    def to_dict(self) -> dict[str, object]:
        return {
            "schema": "rigcheck.catalog-status/1",
            "source": self.source,
            "source_description": self.description,
            "path": self.path,
            "schema_version": self.schema_version,
            "sequence": self.sequence,
            "generated_at": self.generated_at,
            "expires_at": self.expires_at,
            "age_s": self.age_s,
            "fetched_at": self.fetched_at,
            "counts": dict(self.counts),
            "warnings": list(self.warnings),
        }


def embedded_catalog_path() -> Path:
    """The catalog shipped in the package (``rigcheck/catalog/data/catalog.json``)."""
    # Next to this module: installed wheels and the PyInstaller bundle both keep package data on disk, and
    # importlib.resources would add its own import to every start-up.
    return Path(__file__).resolve().parent / "data" / "catalog.json"


def cached_catalog_path() -> Path:
    """The refreshed copy written by ``catalog refresh`` (it may not exist)."""
    return cache.catalog_path()


def load_embedded() -> Catalog:
    """The embedded catalog. Raises EmbeddedCatalogError when the installation lacks or breaks it."""
    path = embedded_catalog_path()
    key = _file_key(path)
    if key is None:
        raise EmbeddedCatalogError(f"the embedded catalog {path} is missing; reinstall rigcheck")
    try:
        return _decode_cached(path, key)
    except CatalogError as exc:
        raise EmbeddedCatalogError(f"the embedded catalog {path} is broken ({exc}); reinstall rigcheck") from None


def load_catalog() -> Catalog:
    """The catalog to use: the cached refreshed copy when it is valid, else the embedded one."""
    return _select()[0]


def catalog_status() -> CatalogStatus:
    """Which catalog is in use, how old it is, its record counts, and any warning about the cached copy."""
    catalog, path, warnings = _select()
    embedded = path == embedded_catalog_path()
    meta = None if embedded else cache.read_meta()
    return CatalogStatus(
        # A feed URL's credentials stay in the meta file (to fetch from it again), never in what is shown.
        source="embedded" if embedded else redact_url(meta.source_url if meta else catalog.source or "cache"),
        description="built into rigcheck" if embedded else describe_source(meta, catalog),
        fetched_at=meta.fetched_at if meta else None,
        path=str(path),
        schema_version=catalog.schema_version,
        sequence=catalog.sequence,
        generated_at=catalog.generated_at,
        expires_at=catalog.expires_at,
        age_s=_age_s(catalog.generated_at),
        counts=catalog_counts(catalog),
        warnings=tuple(redact_text(w) for w in warnings),
    )


def describe_source(meta: cache.CacheMeta | None, catalog: Catalog) -> str:
    """Where a cached catalog came from, as the status bar and ``catalog show`` say it."""
    if meta is None:
        return catalog.source or "cache"
    if meta.kind == "sources":
        return f"refreshed from Hugging Face and OpenRouter on {meta.fetched_at[:10]}"
    from rigcheck.catalog.net import redact

    return f"feed {redact(meta.source_url)}" + ("" if meta.signed else " (unsigned)")


def catalog_counts(catalog: Catalog) -> dict[str, int]:
    """Records per type, as ``catalog show`` reports them."""
    return {
        "models": len(catalog.models),
        "quants": sum(len(m.quants) for m in catalog.models),
        "devices": len(catalog.devices),
        "hosted": len(catalog.hosted),
        "rentals": len(catalog.rentals),
        "scores": len(catalog.scores),
        "closed_models": len(catalog.closed_models),
    }


# -------------------------------------------------------------------------------------------------------


def _select() -> tuple[Catalog, Path, list[str]]:
    embedded = load_embedded()
    embedded_path = embedded_catalog_path()
    key = (_file_key(cache.catalog_path()), _file_key(cache.previous_path()))
    if key == (None, None):
        return embedded, embedded_path, []
    with _lock:
        hit = _cached_memo.get("last")
    if hit is not None and hit[0] == key:
        cached, path, reason = hit[1]
    else:
        # cache.read_cached never raises: a corrupt catalog.json falls back to catalog.prev.json, and a
        # reason says so; we decode once per version of those two files.
        result = cache.read_cached()
        cached, path, reason = result.catalog, result.path, result.reason
        with _lock:
            _cached_memo["last"] = (key, (cached, path, reason))
    if cached is None or path is None:
        note = f"{reason}; using the embedded catalog" if reason else None
        return embedded, embedded_path, [note] if note else []
    warnings = [reason] if reason else []
    if cached.sequence < embedded.sequence:
        # An app update can ship a newer embedded catalog than an old refresh left in the cache.
        return embedded, embedded_path, warnings + [
            f"the cached catalog (sequence {cached.sequence}) is older than the embedded one "
            f"(sequence {embedded.sequence}); using the embedded catalog"
        ]
    expired = cache.expiry_warning(cached)
    if expired:
        warnings.append(expired)
    return cached, path, warnings


_lock = threading.Lock()
_memo: dict[Path, tuple[tuple[int, int], Catalog]] = {}
_cached_memo: dict[str, tuple[object, tuple[Catalog | None, Path | None, str | None]]] = {}


def _decode_cached(path: Path, key: tuple[int, int]) -> Catalog:
    """Decode a catalog file once per (modification time, size)."""
    with _lock:
        hit = _memo.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
    catalog = decode_catalog(path.read_bytes())
    with _lock:
        _memo[path] = (key, catalog)
    return catalog


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _age_s(generated_at: str) -> float | None:
    when = _parse_time(generated_at)
    if when is None:
        return None
    return max(0.0, (datetime.now(timezone.utc) - when).total_seconds())
