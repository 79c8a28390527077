"""The scan: every model in the known folders, read from its header and matched to the catalog.

``scan(catalog, roots)`` walks the roots (``roots.default_roots()`` unless given), reads each model's header
once (a summary is cached per file in the cache folder, keyed by path, size and modification time, so a
second scan reads no header), and returns ``InstalledModel`` records, broken files included with their
problem. The same file reached twice (a symlink, a shared blob) is listed once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from rigcheck.catalog.installed.describe import SUMMARY_VERSION, gguf_summary, safetensors_summary
from rigcheck.catalog.installed.finders import Found, find_all
from rigcheck.catalog.installed.matching import InstalledModel, display_name, find_catalog_model, quant_name
from rigcheck.catalog.installed.roots import Roots, default_roots
from rigcheck.catalog.records import Catalog
from rigcheck.probe.files import read_json

HEADER_CACHE_NAME = "installed-headers.json"


class HeaderCache:
    """Summaries of files already read, keyed by (path, size, mtime); stale entries are dropped on save."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict] = {}
        self.used: dict[str, dict] = {}
        self.changed = False
        if path is not None:
            try:
                data = read_json(path, 256 * 1024 * 1024, "installed-model cache")
                if isinstance(data, dict) and data.get("version") == SUMMARY_VERSION:
                    self.entries = {k: v for k, v in data.get("files", {}).items() if isinstance(v, dict)}
            except (OSError, UnicodeDecodeError, ValueError):
                self.entries = {}

    def summary(self, files: list[Path], sizes: list[int], read: Callable[[], dict]) -> dict:
        stamps = []
        for f in files:
            try:
                st = os.stat(f)
                stamps.append(f"{f}|{st.st_size}|{st.st_mtime_ns}")
            except OSError:
                return read()  # a file that cannot be stat'ed is read, and reports its own problem
        key = "\n".join(stamps)
        cached = self.entries.get(key)
        if cached is None:
            cached = read()
            self.changed = True
        self.used[key] = cached
        return cached

    def save(self) -> None:
        if self.path is None or not (self.changed or len(self.used) != len(self.entries)):
            return
        from rigcheck.catalog.cache import atomic_write

        data = json.dumps({"version": SUMMARY_VERSION, "files": self.used}, separators=(",", ":"))
        try:
            atomic_write(self.path, data.encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written only costs the next scan its speed


def default_cache() -> HeaderCache:
    from rigcheck.catalog.paths import cache_dir

    return HeaderCache(cache_dir() / HEADER_CACHE_NAME)


def _sizes(found: Found) -> list[int]:
    if found.file_sizes:
        return list(found.file_sizes)
    sizes = []
    for f in found.files:
        try:
            sizes.append(os.stat(f).st_size)
        except OSError:
            sizes.append(0)
    return sizes


def describe(found: Found, catalog: Catalog, cache: HeaderCache | None = None) -> InstalledModel:
    """One ``Found`` as an ``InstalledModel``: its summary read (or taken from ``cache``) and matched."""
    name = display_name(found)
    if found.problem and not found.files:
        return InstalledModel(path=str(found.path), source=found.source, name=name, model_id=None, quant=None,
                              size_bytes=0, architecture=None, repo=found.repo, tag=found.tag,
                              problem=found.problem)
    files = list(found.files)
    sizes = _sizes(found)
    if found.kind == "gguf":
        def read() -> dict:
            return gguf_summary(files, sizes)
    else:
        def read() -> dict:
            return safetensors_summary(found.path, files, sizes)
    summary = cache.summary(files, sizes, read) if cache is not None else read()
    problems = [p for p in (found.problem, summary.get("problem")) if p]
    params = summary.get("params") or 0
    params_b = params / 1e9 if params else None
    model, how = (None, None)
    if summary.get("architecture") or summary.get("name") or params_b:
        model, how = find_catalog_model(catalog, found, summary, params_b, name)
    mmproj_bytes = 0
    if found.mmproj is not None:
        try:
            mmproj_bytes = os.stat(found.mmproj).st_size
        except OSError:
            problems.append(f"its projector {found.mmproj.name} cannot be read")
    expert = summary.get("expert_params") or 0
    return InstalledModel(
        path=str(found.path), source=found.source, name=name, model_id=model.id if model else None,
        quant=quant_name(found, summary), size_bytes=sum(sizes),
        architecture=summary.get("architecture"), format=str(summary.get("format") or found.kind),  # type: ignore[arg-type]
        params_b=params_b, files=tuple(str(f) for f in files),
        mmproj=str(found.mmproj) if found.mmproj else None, mmproj_bytes=mmproj_bytes, repo=found.repo,
        tag=found.tag, problem="; ".join(problems) or None, matched_by=how,
        facts=dict(summary.get("facts") or {}), expert_params_b=expert / 1e9 if expert else None)


def scan(catalog: Catalog, roots: Roots | None = None, folders: Iterable[str | os.PathLike[str]] = (),
         cache: HeaderCache | None = None) -> list[InstalledModel]:
    """Every model in ``roots`` (the defaults of this machine when None) and ``folders``, sorted by source
    and name. Never raises for a broken file or folder: those are listed with their problem."""
    roots = (roots or default_roots()).with_folders(folders)
    seen: set[str] = set()
    out: list[InstalledModel] = []
    for found in find_all(roots):
        key = os.path.realpath(found.path)
        if key in seen:
            continue
        seen.add(key)
        installed = describe(found, catalog, cache)
        if installed.architecture == "clip":
            continue  # a projector the finders could not tell by its name: it belongs to a model
        out.append(installed)
    if cache is not None:
        cache.save()
    order = {s: i for i, s in enumerate(("ollama", "lmstudio", "huggingface", "llama.cpp", "folder"))}
    return sorted(out, key=lambda m: (order.get(m.source, 9), m.name.lower(), m.path))
