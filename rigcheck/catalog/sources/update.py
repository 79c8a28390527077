"""Fetching one model for a refresh: the Hub's description of it, remembered by commit so an unchanged repo
costs one request.

``ModelFetcher.fetch(repo)`` returns a fetched ``Model`` (``huggingface.describe_repo``) or raises a
``RefreshError``. Each repo's result is remembered in ``<cache>/sources/repos.json`` under its commit ``sha``:
a second refresh the same day asks the Hub for the repo's info and its list of quantized versions, and reads
a file list only for a repo whose commit changed. A gated base repo (401/403 on its files) still gets its
quantized versions from their own, usually open, repos.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from rigcheck.catalog import paths
from rigcheck.catalog.cache import atomic_write
from rigcheck.catalog.net import FeedInvalid, HttpStatusError
from rigcheck.catalog.records import Model, Quant
from rigcheck.catalog.sources import huggingface
from rigcheck.catalog.sources.huggingface import HubClient, RepoInfo
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

MEMO_VERSION = 1
MAX_MEMO_BYTES = 256 * 1000 * 1000
"""The memo holds a Model per repo fetched: a few MB for hundreds of repos; far past that it is not ours."""


class _Files(msgspec.Struct):
    sha: str
    quants: list[Quant]
    projector: int | None = None


class _Described(msgspec.Struct):
    sha: str
    model: Model


class _Memo(msgspec.Struct):
    version: int = MEMO_VERSION
    files: dict[str, _Files] = {}
    """Quants of a quantized child repo, by its id."""
    models: dict[str, _Described] = {}
    """A base repo's own description (architecture and own weights), by its id."""


def memo_path():
    return paths.cache_dir() / "sources" / "repos.json"


class ModelFetcher:
    """Describes repos for one refresh, reusing what an earlier refresh learnt of unchanged commits."""

    def __init__(self, client: HubClient, *, max_children: int = huggingface.MAX_CHILDREN,
                 log: Callable[[str], None] | None = None):
        self.client = client
        self.max_children = max_children
        self.log = log
        self.memo = _load()
        self.requests_saved = 0

    def fetch(self, repo: str, *, known: bool, info: RepoInfo | None = None) -> tuple[Model, list[str]]:
        """The fetched model and notes about what was skipped. ``known``: the catalog already has this model,
        so a gated base still gets its quantized versions. Raises ``HttpStatusError`` (missing, gated for a new
        model), ``FeedInvalid``, ``NetworkError``."""
        fetched_on = time.strftime("%Y-%m-%d", time.gmtime())
        info = info or self.client.info(repo)
        notes: list[str] = []
        remembered = self.memo.models.get(repo)
        if remembered is not None and info.sha and remembered.sha == info.sha:
            own = remembered.model
            self.requests_saved += 1
        else:
            try:
                own = huggingface.describe_repo(self.client, repo, include_children=False, info=info)
            except HttpStatusError as exc:
                if not (known and exc.status in (401, 403)):
                    raise
                notes.append(f"{repo}: {exc} — its own files were skipped, its quantized versions updated")
                own = Model(id=repo, family="unknown", quants=[])
            else:
                if info.sha:
                    self.memo.models[repo] = _Described(sha=info.sha, model=own)
        quants, projector = list(own.quants), own.vision_projector_bytes
        params_total = int(own.params_total_b * 1e9) if own.params_total_b else None
        for child in self.client.quantized_children(repo, limit=self.max_children):
            try:
                child_quants, child_projector = self._child(child, params_total, fetched_on)
            except (HttpStatusError, FeedInvalid) as exc:
                notes.append(f"{child.id} (quantized {repo}): skipped: {exc}")
                continue
            projector = projector or child_projector
            quants = huggingface.add_quants(quants, child_quants)
        quants = sorted(huggingface.unique_quant_names(quants), key=lambda q: (-q.bits_per_weight, q.name))
        model = msgspec.structs.replace(own, quants=quants, vision_projector_bytes=projector)
        return model, notes

    def _child(self, child, params_total: int | None, fetched_on: str) -> tuple[list[Quant], int | None]:
        remembered = self.memo.files.get(child.id)
        if remembered is not None and child.sha and remembered.sha == child.sha:
            self.requests_saved += 1
            return _rescale(remembered.quants, params_total), remembered.projector
        quants, projector = huggingface.child_quants_of(self.client, child.id, params_total, fetched_on)
        if child.sha:
            self.memo.files[child.id] = _Files(sha=child.sha, quants=quants, projector=projector)
        return quants, projector

    def save(self) -> None:
        """Keep what was learnt for the next refresh (an optimisation: a failure to write is ignored)."""
        try:
            atomic_write(memo_path(), msgspec.json.encode(self.memo))
        except OSError:
            pass


def _rescale(quants: list[Quant], params_total: int | None) -> list[Quant]:
    """Bits per weight of remembered quants against this refresh's parameter count (it may have changed)."""
    if not params_total:
        return quants
    return [msgspec.structs.replace(q, bits_per_weight=round(q.file_size_bytes * 8 / params_total, 3))
            if q.file_size_bytes and not q.size_is_estimate else q for q in quants]


def _load() -> _Memo:
    try:
        data = read_capped(memo_path(), MAX_MEMO_BYTES, "the refresh memo")
        memo = _Memo() if json_too_deep(data) else msgspec.json.decode(data, type=_Memo)
    except (FileNotFoundError, FileReadError, msgspec.DecodeError):
        return _Memo()
    return memo if memo.version == MEMO_VERSION else _Memo()
