"""What a refresh returns (``RefreshResult``) and the refresh lock as a ``RefreshError``: shared by the feed path
(``catalog.refresh``) and the sources path (``catalog.live``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rigcheck.catalog import cache
from rigcheck.catalog.net import RefreshError
from rigcheck.catalog.records import Catalog


class CacheWriteError(RefreshError):
    """The new catalog was good but the cache folder refused the write (disk full, permissions)."""


class RefreshBusy(RefreshError):
    """Another refresh is running (the cache's lock is held)."""


@dataclass(frozen=True)
class RefreshResult:
    """Outcome of a refresh that did not fail."""

    status: Literal["updated", "unchanged"]
    catalog: Catalog
    message: str
    """One or two sentences for the user, warnings included."""
    url: str
    signed: bool
    key_id: str | None = None
    changed: bool = False
    """True when a new copy was installed."""
    warnings: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    """What a refresh from sources skipped (gated, missing, malformed repos), one line each."""


class locked:
    """``cache.refresh_lock`` with its errors as ``RefreshError`` (a context manager)."""

    def __enter__(self):
        self._cm = cache.refresh_lock()
        try:
            return self._cm.__enter__()
        except cache.RefreshBusy as exc:
            raise RefreshBusy(str(exc)) from None
        except OSError as exc:
            raise CacheWriteError(f"could not lock the catalog cache in {cache.catalog_path().parent}: "
                                  f"{exc.strerror or exc}") from None

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


