"""The status bar's line about the catalog in use: the window's services and the first-look helper both make it.

Qt-free and cheap to import (the helper process imports it, and so does the GUI process before its first paint).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from rigcheck.catalog.records import Catalog


class CatalogInfo(msgspec.Struct, frozen=True):
    """What the status bar shows about the catalog in use."""

    source: str
    sequence: int
    generated_at: str | None
    warnings: tuple[str, ...] = ()
    models: int = 0
    quants: int = 0
    hosted: int = 0


def _optional(module: str, attr: str) -> Any | None:
    """The attribute, or None when its module is not part of this build (still being written)."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    return getattr(mod, attr, None)


def catalog_info(catalog: Catalog) -> CatalogInfo:
    """The status bar's line about ``catalog`` (the real services' ``catalog_info``; the first-look helper too)."""
    status_fn = _optional("rigcheck.catalog.store", "catalog_status")
    warnings: tuple[str, ...] = ()
    source = catalog.source or "embedded"
    if status_fn is not None:
        st = status_fn()
        source = str(getattr(st, "description", "") or getattr(st, "source", source) or source)
        if getattr(st, "source", None) == "embedded":
            source = "embedded"
        warnings = tuple(getattr(st, "warnings", ()) or ())
    return CatalogInfo(source=source, sequence=catalog.sequence, generated_at=catalog.generated_at,
                       warnings=warnings, models=len(catalog.models),
                       quants=sum(len(m.quants) for m in catalog.models), hosted=len(catalog.hosted))
