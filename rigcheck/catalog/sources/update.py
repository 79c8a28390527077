"""Fetching one model for a refresh with as few Hugging Face API requests as its facts allow.

The Hub's API requests (``/api/...``) are the scarce ones: anonymously 500 per 5 minutes per IP, against 3,000
resolver requests (``/resolve/...``). ``ModelFetcher.fetch(repo)`` therefore asks, for one model:

1. nothing at all when a refresh checked it less than ``RECHECK_AFTER_S`` ago (what it learnt is kept in
   ``<cache>/sources/repos.json``, with the commit of every repo it read);
2. ``config.json`` through the resolver: the architecture, and the commit the Hub resolved (``X-Repo-Commit``);
   a repo whose commit is the one described before is not read again;
3. its own weights: for a catalog model whose curated record has license, date and size, through the resolver
   too (``model.safetensors.index.json``'s ``total_size``, or a HEAD of ``model.safetensors``); for any other
   model its info with every file size (one API request);
4. the list of its quantized versions with their file names, safetensors dtype counts and commits (one API
   request; ``huggingface.CHILD_FIELDS``), and from it only the repos that can add a quant. GGUF repos go
   greedily, the one whose file names add the most types first; one not known at its commit costs its file list
   (one API request), at most ``GGUF_LISTINGS`` of those per model per check (the next one is read at the
   model's next check). A safetensors repo (FP8, AWQ, GPTQ, MLX, NVFP4, MXFP4) of a kind not known yet costs
   no API request: its size from the listing's dtype counts, its kind from its ``config.json`` through the
   resolver. Merges, adapters, fine-tunes and gated repos are passed over; trusted publishers come first.

One ``ModelFetcher`` serves every worker thread of a refresh; what it learns is saved by ``save()``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from rigcheck.catalog import paths
from rigcheck.catalog.cache import atomic_write
from rigcheck.catalog.net import FeedInvalid, HttpStatusError, RateLimited
from rigcheck.catalog.records import Model, Quant
from rigcheck.catalog.sources import huggingface
from rigcheck.catalog.sources.hf_config import model_from_config
from rigcheck.catalog.sources.hf_files import gguf_quant_type, safetensors_quant
from rigcheck.catalog.sources.huggingface import TEXT_TASKS, ChildRepo, HubClient
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

MEMO_VERSION = 2
MAX_MEMO_BYTES = 256 * 1000 * 1000
"""The memo holds a Model per repo fetched: a few MB for hundreds of repos; far past that it is not ours."""
RECHECK_AFTER_S = 12 * 3600.0
"""A model checked this recently is taken from what that check learnt, without a request (new quants appear
over days, not minutes): a second refresh the same day costs no Hugging Face request."""
GGUF_LISTINGS = 1
"""New GGUF file lists read per model per check (an API request each; repos known at their commit are free):
the repo adding the most types now, the next one at the model's next check. This keeps a first refresh of the
whole catalog at about half of the Hub's anonymous budget; a logged-in refresh reads two."""
TRUSTED_PUBLISHERS = ("unsloth", "bartowski", "lmstudio-community", "mlx-community", "ggml-org")
"""Read before other publishers (after the model's own organisation): their quants are the ones people use."""
PASSED_OVER_TAGS = ("merge", "mergekit", "lora", "peft")
PASSED_OVER_PREFIXES = ("base_model:adapter:", "base_model:merge:", "base_model:finetune:")
DTYPE_BYTES = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
               "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1, "I8": 1, "U8": 1, "BOOL": 1}


class _Files(msgspec.Struct):
    sha: str
    quants: list[Quant]
    projector: int | None = None


class _Described(msgspec.Struct):
    sha: str
    model: Model | None
    """None: a model not added because of its task (``pipeline_tag``)."""
    pipeline_tag: str | None = None


class _Checked(msgspec.Struct):
    at: float
    """When (seconds since the epoch)."""
    model: Model | None = None
    notes: list[str] = []


class _List(msgspec.Struct):
    at: float
    repos: list[ChildRepo]


class _Memo(msgspec.Struct):
    version: int = MEMO_VERSION
    files: dict[str, _Files] = {}
    """Quants of a quantized repo, by its id, at its commit."""
    models: dict[str, _Described] = {}
    """A model's own description (architecture and own weights), by its id, at its commit."""
    checked: dict[str, _Checked] = {}
    """The last full check of a model: the model it gave and its notes."""
    lists: dict[str, _List] = {}
    """The Hub's most downloaded / trending lists, by "sort:limit"."""


@dataclass
class Fetched:
    """One model fetched for a refresh: ``model`` None when it is not to be added (``notes`` say why)."""

    model: Model | None
    notes: list[str]
    cached: bool = False
    """Taken from a check younger than ``RECHECK_AFTER_S``, without a request."""
    deferred: int = 0
    """GGUF repos that would add quant types, left for a later check (``ModelFetcher.gguf_listings``)."""


def memo_path():
    return paths.cache_dir() / "sources" / "repos.json"


class ModelFetcher:
    """Describes repos for one refresh (from any number of threads), reusing what earlier refreshes learnt."""

    def __init__(self, client: HubClient, *, max_children: int = huggingface.MAX_CHILDREN,
                 log: Callable[[str], None] | None = None, now_s: float | None = None,
                 recheck_after_s: float = RECHECK_AFTER_S, gguf_listings: int = GGUF_LISTINGS):
        self.client = client
        self.max_children = max_children
        self.gguf_listings = gguf_listings
        self.log = log
        self.now_s = time.time() if now_s is None else now_s
        self.recheck_after_s = recheck_after_s
        self.memo = _load()
        self._lock = threading.Lock()

    # one model -------------------------------------------------------------------------------------
    def fetch(self, repo: str, *, known: bool = False, discovered: bool = False, curated: Model | None = None,
              info: huggingface.RepoInfo | None = None) -> tuple[Model, list[str]]:
        """The fetched model and notes about what was skipped (``fetch_target`` without the memo of checks).
        Raises what ``fetch_target`` raises; a model left out for its task raises ``FeedInvalid``."""
        fetched = self._fetch(repo, known=known, discovered=discovered, curated=curated, info=info)
        if fetched.model is None:
            raise FeedInvalid(fetched.notes[0] if fetched.notes else f"{repo} is not a text-generation model")
        return fetched.model, fetched.notes

    def fetch_target(self, repo: str, *, kind: str, curated: Model | None = None) -> Fetched:
        """One model of a refresh; ``kind`` is "known" (in the catalog), "added" or "discovered" (only a
        text-generation or image-text-to-text model is kept). Raises ``HttpStatusError`` (missing, gated for a
        model not in the catalog), ``RateLimited`` (the Hub's API requests are spent: nothing was kept of this
        model), ``FeedInvalid``, ``NetworkError``."""
        checked = self.memo.checked.get(repo)
        if checked is not None and 0 <= self.now_s - checked.at < self.recheck_after_s:
            return Fetched(checked.model, list(checked.notes), cached=True)
        fetched = self._fetch(repo, known=kind == "known", discovered=kind == "discovered", curated=curated)
        with self._lock:
            self.memo.checked[repo] = _Checked(at=self.now_s, model=fetched.model, notes=list(fetched.notes))
        return fetched

    def _fetch(self, repo: str, *, known: bool, discovered: bool, curated: Model | None,
               info: huggingface.RepoInfo | None = None) -> Fetched:
        self.client.check_api_budget()  # every model needs at least the list of its quantized versions
        own, pipeline_tag, notes = self._own(repo, known=known, discovered=discovered, curated=curated, info=info)
        if own is None:
            return Fetched(None, [f"{repo}: not added: a {pipeline_tag or 'untagged'} model, not text generation"])
        quants, projector = list(own.quants), own.vision_projector_bytes
        params_total = int(own.params_total_b * 1e9) if own.params_total_b else None
        children = self.client.quantized_children(repo, limit=huggingface.CHILDREN_ASKED)
        chosen, deferred = self._choose(repo, children, quants)
        for child in chosen:
            try:
                child_quants, child_projector = self._child(child, params_total)
            except RateLimited:
                raise
            except (HttpStatusError, FeedInvalid) as exc:
                notes.append(f"{child.id} (quantized {repo}): skipped: {exc}")
                continue
            projector = projector or child_projector
            quants = huggingface.add_quants(quants, child_quants)
        quants = sorted(huggingface.unique_quant_names(quants), key=lambda q: (-q.bits_per_weight, q.name))
        return Fetched(msgspec.structs.replace(own, quants=quants, vision_projector_bytes=projector), notes,
                       deferred=deferred)

    def _choose(self, repo: str, children: list[ChildRepo], quants: list[Quant]) -> tuple[list[ChildRepo], int]:
        """The quantized versions to read, in order, and how many GGUF repos that would add types were left
        for a later check. GGUF repos go greedily, the one adding the most types first, and at most
        ``gguf_listings`` of them not known at their commit; then safetensors repos of kinds not known yet."""
        ordered = [c for c in order_children(repo, children) if not passed_over(c)]
        gguf = [c for c in ordered if gguf_types(c.files)]
        have = {q.name for q in quants if q.format == "gguf"}
        chosen: list[ChildRepo] = []
        listings_left, deferred = self.gguf_listings, 0
        while gguf and len(chosen) < self.max_children:
            best = max(gguf, key=lambda c: len(gguf_types(c.files) - have))  # ties: the first in trust order
            if not gguf_types(best.files) - have:
                break
            gguf.remove(best)
            if not self._remembered(best) and not best.gated:
                if listings_left <= 0:
                    deferred += 1
                    continue
                listings_left -= 1
            have |= gguf_types(best.files)
            chosen.append(best)
        kinds = {(q.name, q.format) for q in quants}
        for child in ordered:
            if len(chosen) >= self.max_children:
                break
            if gguf_types(child.files):
                continue
            guess = predicted_identity(child)
            if guess is None or guess not in kinds:
                if guess is not None:
                    kinds.add(guess)
                chosen.append(child)
        return chosen, deferred

    def _remembered(self, child: ChildRepo) -> bool:
        remembered = self.memo.files.get(child.id)
        return remembered is not None and bool(child.sha) and remembered.sha == child.sha

    # its own weights -------------------------------------------------------------------------------
    def _own(self, repo: str, *, known: bool, discovered: bool, curated: Model | None,
             info: huggingface.RepoInfo | None) -> tuple[Model | None, str | None, list[str]]:
        """(its own description, its task, notes); the description is None for a discovered repo whose task
        is not text generation."""
        try:
            config, commit = self.client.config_and_commit(repo)
        except HttpStatusError as exc:
            if not (known and exc.status in (401, 403)):
                raise
            note = f"{repo}: {exc} — its own files were skipped, its quantized versions updated"
            return Model(id=repo, family="unknown", quants=[]), None, [note]
        remembered = self.memo.models.get(repo)
        if commit and remembered is not None and remembered.sha == commit:
            return remembered.model, remembered.pipeline_tag, []
        own = None
        if known and info is None and config is not None and _curated_enough(curated):
            own = self._own_from_resolvers(repo, config, curated)
        pipeline_tag = "text-generation" if own is not None else None
        if own is None:
            info = info if info is not None and info.files is not None else self.client.info(repo, files=True)
            pipeline_tag, commit = info.pipeline_tag, commit or info.sha
            if not discovered or pipeline_tag in TEXT_TASKS:
                own = huggingface.describe_repo(self.client, repo, include_children=False, info=info, config=config)
        if commit:
            with self._lock:
                self.memo.models[repo] = _Described(sha=commit, model=own, pipeline_tag=pipeline_tag)
        return own, pipeline_tag, []

    def _own_from_resolvers(self, repo: str, config: dict, curated: Model) -> Model | None:
        """A catalog model's own weights from resolver requests only: the size its safetensors index states
        (or its one ``model.safetensors`` file's); None when the repo is laid out otherwise or the size is not
        plausible (the caller then reads the file list)."""
        params_total = int(curated.params_total_b * 1e9)
        fetched_on = time.strftime("%Y-%m-%d", time.gmtime())
        try:
            index = self.client.json_file(repo, "model.safetensors.index.json")
            url = self.client.file_url(repo, "model.safetensors.index.json")
            size = index.get("metadata", {}).get("total_size") if isinstance(index.get("metadata"), dict) else None
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
            url = self.client.file_url(repo, "model.safetensors")
            size = self.client.file_size(repo, "model.safetensors")
        except FeedInvalid:
            return None
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size * 8 / params_total <= 40:
            return None
        source = f"{url} (fetched {fetched_on})"
        try:
            model = model_from_config(repo, config, params_total=params_total,
                                      source=f"{self.client.base_url}/{repo} (fetched {fetched_on})")
        except FeedInvalid:
            return None
        quant = safetensors_quant(repo, size, params_total, config, [source])
        return msgspec.structs.replace(model, quants=[quant] if quant is not None else [])

    # its quantized versions ------------------------------------------------------------------------
    def _child(self, child: ChildRepo, params_total: int | None) -> tuple[list[Quant], int | None]:
        remembered = self.memo.files.get(child.id)
        if remembered is not None and child.sha and remembered.sha == child.sha:
            return _rescale(remembered.quants, params_total), remembered.projector
        if child.gated:
            raise HttpStatusError(f"{child.id} is gated on Hugging Face; set HF_TOKEN (or log in with "
                                  f"`hf auth login`) after accepting its license to include it", 403)
        fetched_on = time.strftime("%Y-%m-%d", time.gmtime())
        size = tensor_bytes(child.parameters) if not gguf_types(child.files) and child.files else None
        if size:
            config = self.client.config(child.id)
            source = (f"{self.client.base_url}/api/models/{child.id} (safetensors metadata: tensor bytes, file "
                      f"headers aside; fetched {fetched_on})")
            quant = safetensors_quant(child.id, size, params_total, config, [source])
            quants, projector = ([quant] if quant is not None else []), None
        else:
            quants, projector = huggingface.child_quants_of(self.client, child.id, params_total, fetched_on)
        if child.sha:
            with self._lock:
                self.memo.files[child.id] = _Files(sha=child.sha, quants=quants, projector=projector)
        return quants, projector

    # the Hub's lists -------------------------------------------------------------------------------
    def text_models(self, sort: str, limit: int) -> list[ChildRepo]:
        """``HubClient.text_models``, remembered for ``RECHECK_AFTER_S``."""
        key = f"{sort}:{limit}"
        kept = self.memo.lists.get(key)
        if kept is not None and 0 <= self.now_s - kept.at < self.recheck_after_s:
            return list(kept.repos)
        repos = self.client.text_models(sort, limit)
        with self._lock:
            self.memo.lists[key] = _List(at=self.now_s, repos=repos)
        return repos

    def save(self) -> None:
        """Keep what was learnt for the next refresh (an optimisation: a failure to write is ignored)."""
        with self._lock:
            data = msgspec.json.encode(self.memo)
        try:
            atomic_write(memo_path(), data)
        except OSError:
            pass


# ------------------------------------------------------------------------------------------ choosing

def order_children(base: str, children: list[ChildRepo]) -> list[ChildRepo]:
    """The base's own organisation and ``TRUSTED_PUBLISHERS`` first, then the rest; most downloaded first in
    each (and by id, so the order never depends on how the Hub listed equal counts)."""
    own = base.split("/", 1)[0].lower()

    def rank(child: ChildRepo) -> tuple:
        org = child.id.split("/", 1)[0].lower()
        return (0 if org == own or org in TRUSTED_PUBLISHERS else 1, -child.downloads, child.id)

    return sorted(children, key=rank)


def passed_over(child: ChildRepo) -> bool:
    """A merge, adapter or fine-tune (by its tags): not the base model's weights, whatever its files."""
    tags = [t.lower() for t in child.tags]
    return any(t in PASSED_OVER_TAGS or t.startswith(PASSED_OVER_PREFIXES) for t in tags)


def gguf_types(files: list[str]) -> set[str]:
    """The GGUF quant types a repo's file names hold (projectors aside)."""
    out = set()
    for path in files:
        if path.lower().endswith(".gguf") and "mmproj" not in path.lower():
            qtype = gguf_quant_type(path)
            if qtype:
                out.add(qtype)
    return out


def predicted_identity(child: ChildRepo) -> tuple[str, str] | None:
    """(quant name, format) a safetensors repo will turn out to hold, when its name and tags leave no doubt;
    None otherwise (it is then read)."""
    name = child.id.split("/", 1)[-1].lower()
    words = set(re.split(r"[-_.]", name)) | {t.lower() for t in child.tags}
    bits = re.search(r"(?:^|[-_])(\d)[-_]?bits?(?:$|[-_])", name)
    if child.library_name == "mlx" or "mlx" in words:
        return (f"MLX-{bits.group(1)}bit", "mlx") if bits else None
    for word, identity in (("nvfp4", ("NVFP4", "nvfp4")), ("mxfp4", ("MXFP4", "mxfp4")), ("fp8", ("FP8", "fp8"))):
        if word in words:
            return identity
    int_bits = re.search(r"int(\d)", name)
    if "awq" in words:
        return (f"AWQ-INT{int_bits.group(1) if int_bits else 4}", "awq")
    if "gptq" in words and int_bits:
        return (f"GPTQ-INT{int_bits.group(1)}", "gptq")
    return None


def tensor_bytes(parameters: dict[str, int] | None) -> int | None:
    """Bytes of a repo's tensors from the Hub's safetensors metadata (element counts by dtype); None when a
    dtype is one rigcheck does not know."""
    if not parameters:
        return None
    total = 0
    for dtype, count in parameters.items():
        width = DTYPE_BYTES.get(dtype.upper())
        if width is None or not isinstance(count, int) or count < 0:
            return None
        total += width * count
    return total or None


def _curated_enough(curated: Model | None) -> bool:
    """A catalog record that the model's info could add nothing to (license, date and size all known)."""
    return curated is not None and bool(curated.license and curated.release_date and curated.params_total_b)


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
