"""Catalog refresh from a signed feed (mirrors, air-gapped sites): fetch, verify, sequence-check, install.

``refresh_catalog(url)`` is the feed path (``catalog refresh --url`` and the GUI with a feed URL set); without a
URL, a refresh queries Hugging Face and OpenRouter directly (``catalog.live``). A failure raises one
``RefreshError`` subclass whose ``str()`` is a sentence fit for the user, and leaves the catalog in use untouched:
nothing is written until the feed's signature, schema, sanity, expiry and sequence have all been checked.

Sequencing follows TUF's rules against rollback and freeze attacks:
- a sequence is a build time, ``YYYYMMDDHHMM`` (UTC), no later than a day ahead of this machine's clock: a
  feed cannot claim a sequence so high that it blocks every later one;
- a signed feed must not be older than the highest signed sequence ever installed here (``catalog.trust.json``)
  nor than the embedded catalog: rollback is refused with a message naming both sequences;
- an unsigned feed (``allow_unsigned``) is never compared with, and never raises, that floor: it can neither
  outrank nor block a signed one, and it stays in use only until the next refresh that does not allow it;
- a feed whose ``expires_at`` has passed is refused (a frozen or replayed feed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import msgspec

from rigcheck.catalog import cache, signing
from rigcheck.catalog.net import (
    Deadlines,
    FeedExpired,
    FeedInvalid,
    FeedTooLarge,
    HttpStatusError,
    NetworkDisabled,
    NetworkError,
    Progress,
    RefreshCancelled,
    RefreshError,
    RollbackRefused,
    Session,
    SignatureInvalid,
    check_network_allowed,
    is_cancelled,
    redact,
)
from rigcheck.catalog.outcome import CacheWriteError, RefreshBusy, RefreshResult, locked
from rigcheck.catalog.records import MAX_CATALOG_BYTES, Catalog, CatalogError

__all__ = [
    "locked",
    "MAX_FEED_BYTES",
    "CacheWriteError",
    "FeedExpired",
    "FeedInvalid",
    "FeedTooLarge",
    "HttpStatusError",
    "NetworkDisabled",
    "NetworkError",
    "RefreshBusy",
    "RefreshCancelled",
    "RefreshError",
    "RefreshResult",
    "RollbackRefused",
    "SignatureInvalid",
    "check_sequence_shape",
    "refresh_catalog",
]

MAX_FEED_BYTES = MAX_CATALOG_BYTES
FEED_DEADLINES = Deadlines(request_s=600.0, min_bytes_per_s=16_000.0)
"""A feed is one large body: 10,000 models are 75 MB, a minute at 10 Mbit/s, past the 45 s that bounds an API
request. The silence limit (``read_s``) still cuts off a server that stalls, a server that drips bytes is given
up after 45 s (below 16 kB/s, 128 kbit/s, on average), and a refresh can be cancelled."""
SEQUENCE_FORMAT = "%Y%m%d%H%M"
SEQUENCE_CLOCK_SKEW = timedelta(days=1)


def refresh_catalog(
    url: str | None = None,
    *,
    allow_unsigned: bool = False,
    progress: Progress | None = None,
    cancel=None,
    session: Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    deadlines: Deadlines | None = None,
    max_bytes: int = MAX_FEED_BYTES,
    trusted_keys: dict[str, str] | None = None,
    now: datetime | None = None,
    **live_options,
) -> RefreshResult:
    """Refresh the catalog: from the feed at ``url``, or (no ``url``) from Hugging Face and OpenRouter.

    The feed must carry a valid detached signature at ``url + ".sig"`` from a pinned key, unless
    ``allow_unsigned`` (the result then says it is unsigned). ``progress(bytes_read, total_or_None)`` is
    called while downloading; ``cancel`` (an Event or a callable) is checked between chunks. ``sleep``, ``now``
    and ``deadlines`` are injectable for tests. ``live_options`` go to ``catalog.live.refresh_from_sources``
    when there is no ``url``.

    Raises ``NetworkDisabled``, ``NetworkError``, ``HttpStatusError``, ``FeedTooLarge``, ``SignatureInvalid``,
    ``FeedInvalid``, ``FeedExpired``, ``RollbackRefused``, ``RefreshCancelled``, ``RefreshBusy`` or
    ``CacheWriteError`` — all ``RefreshError`` — and then the catalog in use is unchanged.
    """
    if url is None or not url.strip():
        from rigcheck.catalog import live

        if allow_unsigned:
            raise NetworkError("--allow-unsigned applies only to a feed URL")
        return live.refresh_from_sources(progress=progress, cancel=cancel, sleep=sleep, now=now,
                                         **live_options)
    url = url.strip()
    check_network_allowed(url, f"fetching {redact(url)}")
    own_session = session is None
    if session is None:
        session = Session(deadlines=deadlines or FEED_DEADLINES, cancel=cancel, sleep=sleep,
                          max_body_bytes=max_bytes + 1)
    try:
        with locked():
            return _refresh(url, session, may_be_unsigned=allow_unsigned, progress=progress, cancel=cancel,
                            max_bytes=max_bytes, trusted_keys=trusted_keys, now=now)
    finally:
        if own_session:
            session.close()


def check_sequence_shape(sequence: int, now: datetime | None = None) -> None:
    """Raise ``FeedInvalid`` unless ``sequence`` is a build time ``YYYYMMDDHHMM`` no later than a day from now."""
    text = str(sequence)
    try:
        when = datetime.strptime(text, SEQUENCE_FORMAT).replace(tzinfo=timezone.utc) if len(text) == 12 else None
    except ValueError:
        when = None
    if when is None:
        raise FeedInvalid(f"the feed's sequence {sequence} is not a build time (YYYYMMDDHHMM, UTC); refusing it")
    now = now or datetime.now(timezone.utc)
    if when > now + SEQUENCE_CLOCK_SKEW:
        raise FeedInvalid(f"the feed's sequence {sequence} is a build time in the future "
                          f"({when:%Y-%m-%d %H:%M} UTC); refusing it (check this machine's clock)")


def _refresh(url, session: Session, *, may_be_unsigned, progress, cancel, max_bytes, trusted_keys,
             now) -> RefreshResult:
    in_use = cache.read_cached()
    meta = cache.read_meta()
    headers: dict[str, str] = {}
    # Conditional requests only when the copy they describe is the one in use and came from this URL.
    if meta and meta.source_url == url and in_use.catalog is not None and in_use.path == cache.catalog_path():
        if meta.etag:
            headers["If-None-Match"] = meta.etag
        if meta.last_modified:
            headers["If-Modified-Since"] = meta.last_modified

    with session.stream(url, headers=headers, ok_statuses=frozenset({200, 304}), what="the catalog feed") as resp:
        if resp.status_code == 304:
            return _unchanged(url, in_use.catalog, meta, may_be_unsigned)
        etag = resp.headers.get("ETag")
        last_modified = resp.headers.get("Last-Modified")
        body = session.read_body(resp, max_bytes=max_bytes, progress=progress, what="the catalog feed")

    signature_text, key_id, unsigned_why = _check_signature(url, body, session, may_be_unsigned=may_be_unsigned,
                                                            trusted_keys=trusted_keys)
    try:
        feed = cache.validate_catalog_bytes(body)
    except CatalogError as exc:
        raise FeedInvalid(f"the feed is not a usable catalog: {exc}") from None
    check_sequence_shape(feed.sequence, now)
    expired = cache.expiry_warning(feed, now)
    if expired:
        raise FeedExpired(f"refusing the feed: {expired.split(';')[0]}; kept the current catalog")
    trust = cache.read_trust()
    if key_id is not None:
        if feed.sequence < trust.signed_sequence:
            raise RollbackRefused(
                f"the feed (sequence {feed.sequence}) is older than a signed catalog already installed here "
                f"(sequence {trust.signed_sequence}); kept the current catalog")
        embedded_sequence = _embedded_sequence()
        if embedded_sequence is not None and feed.sequence < embedded_sequence:
            raise RollbackRefused(
                f"the feed (sequence {feed.sequence}) is older than the catalog built into this app "
                f"(sequence {embedded_sequence}); kept the current catalog")
    if is_cancelled(cancel):
        raise RefreshCancelled("cancelled; nothing was changed")

    new_meta = cache.CacheMeta(
        source_url=url, fetched_at=cache.utc_now_iso(), etag=etag, last_modified=last_modified,
        sequence=feed.sequence, signed=key_id is not None, key_id=key_id, kind="feed",
    )
    same_bytes = (meta is not None and meta.sha256 == _sha256(body) and in_use.path == cache.catalog_path()
                  and meta.signed == new_meta.signed)
    warnings = [unsigned_why] if unsigned_why else []
    if same_bytes:
        # A server without ETag/Last-Modified sent the same bytes again: nothing to replace.
        return _unchanged(url, in_use.catalog, msgspec.structs.replace(new_meta, sha256=meta.sha256),
                          may_be_unsigned)
    try:
        if key_id is not None and feed.sequence > trust.signed_sequence:
            cache.write_trust(cache.TrustState(signed_sequence=feed.sequence))
        _installed, meta_warning = cache.install_catalog(
            body, new_meta, signature=signature_text if key_id else None, validated=feed)
    except OSError as exc:
        raise CacheWriteError(
            f"could not write the catalog cache in {cache.catalog_path().parent}: {exc.strerror or exc}; "
            f"the catalog in use is unchanged") from None
    if meta_warning:
        warnings.append(meta_warning)
    feed = msgspec.structs.replace(feed, source=url)
    counts = f"{len(feed.models)} models, {len(feed.devices)} devices"
    signed_by = f"signed by {key_id}" if key_id else "UNSIGNED"
    message = f"catalog updated to sequence {feed.sequence} ({counts}; {signed_by})"
    if warnings:
        message += ". " + "; ".join(_capitalize(w) for w in warnings)
    return RefreshResult(status="updated", catalog=feed, message=message, url=url, signed=key_id is not None,
                         key_id=key_id, changed=True, warnings=tuple(warnings))


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _embedded_sequence() -> int | None:
    from rigcheck.catalog.store import EmbeddedCatalogError, load_embedded

    try:
        return load_embedded().sequence
    except EmbeddedCatalogError:
        return None  # a broken installation is reported by load_catalog; it must not block a refresh


def _unchanged(url: str, catalog: Catalog | None, meta: cache.CacheMeta | None, may_be_unsigned: bool
               ) -> RefreshResult:
    if catalog is None or meta is None:  # cannot happen: 304 needs the validators we only send with a cache
        raise HttpStatusError(f"{redact(url)} answered 304 Not Modified to an unconditional request", 304)
    if not meta.signed and not may_be_unsigned:
        raise SignatureInvalid("the feed in use is unsigned and this refresh does not allow unsigned feeds "
                               "(--allow-unsigned)")
    try:
        cache.write_meta(msgspec.structs.replace(meta, fetched_at=cache.utc_now_iso()))
    except OSError:
        pass  # only the "last checked" time is lost; the catalog in use is unaffected
    catalog = msgspec.structs.replace(catalog, source=url)
    return RefreshResult(status="unchanged", catalog=catalog, url=url, signed=meta.signed, key_id=meta.key_id,
                         changed=False, message=f"catalog is up to date (sequence {catalog.sequence})")


def _check_signature(url, body, session: Session, *, may_be_unsigned, trusted_keys):
    """Return (signature text, key id or None, why-unsigned sentence or None). Raises SignatureInvalid."""
    sig_url = url + ".sig"
    try:
        with session.stream(sig_url, ok_statuses=frozenset({200, 404, 410}), what="the signature") as response:
            if response.status_code != 200:
                if may_be_unsigned:
                    return None, None, (f"the catalog is unsigned (no signature at {redact(sig_url)}); use it only "
                                        f"if you trust its source")
                raise SignatureInvalid(
                    f"the feed has no signature at {redact(sig_url)}; refusing it (a custom feed may be used "
                    f"unsigned with --allow-unsigned)")
            try:
                sig_text = session.read_body(response, max_bytes=signing.SIGNATURE_MAX_BYTES, what="the signature")
                problem = None
            except FeedTooLarge:
                sig_text, problem = None, "the signature file is far too large to be a signature"
    except HttpStatusError as exc:
        if may_be_unsigned:
            return None, None, f"the catalog is unsigned: its signature could not be fetched ({exc})"
        raise SignatureInvalid(f"could not fetch the feed's signature: {exc}") from None
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
