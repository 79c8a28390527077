"""Catalog refresh: fetch a signed feed over HTTP, verify and validate it, then replace the cached copy.

``refresh_catalog()`` is the one entry point (the CLI's ``catalog refresh`` and the GUI's refresh button
both call it). A failure raises one ``RefreshError`` subclass whose ``str()`` is a sentence fit for the
user, and leaves the catalog in use untouched: nothing is written until the feed's signature, schema,
sanity and sequence have all been checked.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import urlparse

import msgspec
import requests

from rigcheck.catalog import cache, signing
from rigcheck.catalog.net import (
    TIMEOUT_S,
    Cancel,
    FeedInvalid,
    FeedTooLarge,
    HttpStatusError,
    NetworkDisabled,
    NetworkError,
    Progress,
    RefreshCancelled,
    RefreshError,
    RollbackRefused,
    SignatureInvalid,
    check_network_allowed,
    is_cancelled,
    network_disabled,
    new_session,
    read_body,
    request,
)
from rigcheck.catalog.records import MAX_CATALOG_BYTES, Catalog, CatalogError

__all__ = [
    "DEFAULT_FEED_URL",
    "MAX_FEED_BYTES",
    "CacheWriteError",
    "FeedInvalid",
    "FeedTooLarge",
    "HttpStatusError",
    "NetworkDisabled",
    "NetworkError",
    "RefreshCancelled",
    "RefreshError",
    "RefreshResult",
    "RollbackRefused",
    "SignatureInvalid",
    "refresh_catalog",
]

DEFAULT_FEED_URL = "https://rigcheck.github.io/catalog/v1/catalog.json"
MAX_FEED_BYTES = MAX_CATALOG_BYTES


class CacheWriteError(RefreshError):
    """The feed was good but the cache folder refused the write (disk full, permissions)."""


@dataclass(frozen=True)
class RefreshResult:
    """Outcome of a refresh that did not fail."""

    status: Literal["updated", "unchanged", "expired-warning"]
    """``expired-warning``: the catalog now in use has passed its ``expires_at`` (it is still used)."""
    catalog: Catalog
    message: str
    """One or two sentences for the user, warnings included."""
    url: str
    signed: bool
    key_id: str | None = None
    changed: bool = False
    """True when a new copy was written (``status`` alone cannot say so for an expired feed)."""
    warnings: tuple[str, ...] = field(default=())


def refresh_catalog(
    url: str | None = None,
    *,
    allow_unsigned: bool = False,
    progress: Progress | None = None,
    cancel: Cancel = None,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: tuple[float, float] = TIMEOUT_S,
    max_bytes: int = MAX_FEED_BYTES,
    trusted_keys: dict[str, str] | None = None,
    now: datetime | None = None,
) -> RefreshResult:
    """Fetch the catalog feed at ``url`` (default: the project's feed) and make it the cached catalog.

    The feed must carry a valid detached signature at ``url + ".sig"`` from a pinned key, except that a
    custom ``url`` may be unsigned when ``allow_unsigned`` is true (the result then says it is unsigned).
    ``progress(bytes_read, total_or_None)`` is called while downloading; ``cancel`` (an Event or a
    callable) is checked between chunks. ``sleep`` and ``now`` are injectable for tests.

    Raises ``NetworkDisabled``, ``NetworkError``, ``HttpStatusError``, ``FeedTooLarge``,
    ``SignatureInvalid``, ``FeedInvalid``, ``RollbackRefused``, ``RefreshCancelled`` or
    ``CacheWriteError`` — all ``RefreshError`` — and then writes nothing.
    """
    is_default = url is None
    url = DEFAULT_FEED_URL if is_default else url.strip()
    _check_url(url, is_default)
    may_be_unsigned = allow_unsigned and not is_default
    own_session = session is None
    session = session or new_session()
    try:
        return _refresh(url, session, may_be_unsigned=may_be_unsigned, progress=progress, cancel=cancel,
                        sleep=sleep, timeout_s=timeout_s, max_bytes=max_bytes, trusted_keys=trusted_keys,
                        now=now)
    finally:
        if own_session:
            session.close()


def _check_url(url: str, is_default: bool) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise NetworkError(f"{url!r} is not an http(s) URL")
    if is_default and network_disabled():
        raise NetworkDisabled(f"network access is disabled (RIGCHECK_NO_NETWORK is set); not fetching {url}")
    check_network_allowed(url, f"fetching {url}")


def _refresh(url, session, *, may_be_unsigned, progress, cancel, sleep, timeout_s, max_bytes,
             trusted_keys, now) -> RefreshResult:
    in_use = cache.read_cached()
    meta = cache.read_meta()
    headers: dict[str, str] = {}
    # Conditional requests only when the copy they describe is the one in use and came from this URL.
    if meta and meta.source_url == url and in_use.catalog is not None and in_use.path == cache.catalog_path():
        if meta.etag:
            headers["If-None-Match"] = meta.etag
        if meta.last_modified:
            headers["If-Modified-Since"] = meta.last_modified

    response = request(session, url, headers=headers, sleep=sleep, timeout_s=timeout_s, cancel=cancel,
                       ok_statuses=frozenset({200, 304}))
    if response.status_code == 304:
        response.close()
        return _unchanged(url, in_use.catalog, meta, now)
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    body = read_body(response, max_bytes=max_bytes, progress=progress, cancel=cancel, what="the catalog feed")

    signature_text, key_id, unsigned_why = _check_signature(
        url, body, session, may_be_unsigned=may_be_unsigned, sleep=sleep, timeout_s=timeout_s,
        cancel=cancel, trusted_keys=trusted_keys)

    try:
        feed = cache.validate_catalog_bytes(body)
    except CatalogError as exc:
        raise FeedInvalid(f"the feed is not a usable catalog: {exc}") from None

    if in_use.catalog is not None and feed.sequence < in_use.catalog.sequence:
        raise RollbackRefused(
            f"the feed (sequence {feed.sequence}) is older than the catalog in use "
            f"(sequence {in_use.catalog.sequence}); kept the current catalog"
        )
    embedded_sequence = _embedded_sequence()
    if embedded_sequence is not None and feed.sequence < embedded_sequence:
        # store.load_catalog would ignore such a copy in favour of the embedded one anyway.
        raise RollbackRefused(
            f"the feed (sequence {feed.sequence}) is older than the catalog built into this app "
            f"(sequence {embedded_sequence}); kept the current catalog"
        )
    if is_cancelled(cancel):
        raise RefreshCancelled("the download was cancelled")

    new_meta = cache.CacheMeta(
        source_url=url, fetched_at=cache.utc_now_iso(), etag=etag, last_modified=last_modified,
        sequence=feed.sequence, signed=key_id is not None, key_id=key_id,
        sha256=hashlib.sha256(body).hexdigest(),
    )
    if (meta is not None and meta.sha256 == new_meta.sha256 and in_use.path == cache.catalog_path()
            and meta.signed == new_meta.signed):
        # A server without ETag/Last-Modified sent the same bytes again: nothing to replace.
        return _unchanged(url, in_use.catalog, new_meta, now)
    try:
        cache.save_catalog(body, new_meta, signature=signature_text if key_id else None, validated=feed)
    except OSError as exc:
        raise CacheWriteError(
            f"could not write the catalog cache in {cache.catalog_path().parent}: {exc.strerror or exc}"
        ) from None

    feed = msgspec.structs.replace(feed, source=url)
    warnings = []
    expired = cache.expiry_warning(feed, now)
    if expired:
        warnings.append(expired)
    if unsigned_why:
        warnings.append(unsigned_why)
    counts = f"{len(feed.models)} models, {len(feed.devices)} devices"
    signed_by = f"signed by {key_id}" if key_id else "UNSIGNED"
    message = f"catalog updated to sequence {feed.sequence} ({counts}; {signed_by})"
    if warnings:
        message += ". " + "; ".join(_capitalize(w) for w in warnings)
    return RefreshResult(
        status="expired-warning" if expired else "updated", catalog=feed, message=message, url=url,
        signed=key_id is not None, key_id=key_id, changed=True, warnings=tuple(warnings),
    )


def _embedded_sequence() -> int | None:
    from rigcheck.catalog.store import EmbeddedCatalogError, load_embedded

    try:
        return load_embedded().sequence
    except EmbeddedCatalogError:
        return None  # a broken installation is reported by load_catalog; it must not block a refresh


def _unchanged(url: str, catalog: Catalog | None, meta: cache.CacheMeta | None, now) -> RefreshResult:
    if catalog is None or meta is None:  # cannot happen: 304 needs the validators we only send with a cache
        raise HttpStatusError(f"{url} answered 304 Not Modified to an unconditional request", 304)
    try:
        cache.write_meta(msgspec.structs.replace(meta, fetched_at=cache.utc_now_iso()))
    except OSError:
        pass  # only the "last checked" time is lost; the catalog in use is unaffected
    catalog = msgspec.structs.replace(catalog, source=url)
    expired = cache.expiry_warning(catalog, now)
    message = f"catalog is up to date (sequence {catalog.sequence})"
    if expired:
        message += ". " + _capitalize(expired)
    return RefreshResult(
        status="expired-warning" if expired else "unchanged", catalog=catalog, message=message, url=url,
        signed=meta.signed, key_id=meta.key_id, changed=False, warnings=(expired,) if expired else (),
    )


def _check_signature(url, body, session, *, may_be_unsigned, sleep, timeout_s, cancel, trusted_keys):
    """Return (signature text, key id or None, why-unsigned sentence or None). Raises SignatureInvalid."""
    sig_url = url + ".sig"
    try:
        response = request(session, sig_url, sleep=sleep, timeout_s=timeout_s, cancel=cancel,
                           ok_statuses=frozenset({200, 404, 410}))
    except HttpStatusError as exc:
        if may_be_unsigned:
            return None, None, f"the catalog is unsigned: its signature could not be fetched ({exc})"
        raise SignatureInvalid(f"could not fetch the feed's signature: {exc}") from None
    if response.status_code != 200:
        response.close()
        if may_be_unsigned:
            return None, None, f"the catalog is unsigned (no signature at {sig_url}); use it only if you trust its source"
        raise SignatureInvalid(
            f"the feed has no signature at {sig_url}; refusing it (a custom feed may be used unsigned "
            f"with --allow-unsigned)"
        )
    try:
        sig_text = read_body(response, max_bytes=signing.SIGNATURE_MAX_BYTES, cancel=cancel,
                             what="the signature")
    except FeedTooLarge:
        sig_text = None
        problem = "the signature file is far too large to be a signature"
    else:
        problem = None
    if sig_text is not None:
        try:
            key_id = signing.verify(body, sig_text, trusted_keys)
            return sig_text.decode("ascii").strip(), key_id, None
        except signing.SignatureError as exc:
            problem = str(exc)
    if may_be_unsigned:
        return None, None, f"the catalog is unsigned: {problem}"
    raise SignatureInvalid(f"refusing the feed: {problem}")


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]
