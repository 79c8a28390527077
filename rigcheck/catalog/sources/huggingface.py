"""Hugging Face Hub as a catalog source, through ``huggingface_hub.HfApi`` on rigcheck's session layer.

``HfApi`` (model info, file trees with LFS sizes and pagination, model search) honours ``HF_ENDPOINT``,
``HF_TOKEN`` and the saved login; its HTTP client is rigcheck's ``Session`` (``set_client_factory``), so the
network policy, deadlines and retries are the same as for every other request. ``config.json``, the safetensors
index and GGUF headers are read with the same session. ``HF_HUB_OFFLINE`` stops every request here.

``describe_repo`` turns one repo into a ``Model``: architecture (``hf_config``), its own weights and the quants
of its quantized children (``hf_files``), GGUF-only repos from the GGUF header (``gguf_header``), and an
architecture rigcheck does not understand kept with size-only estimates and a note. ``fetch_model("hf:ORG/REPO")``
is what ``rigcheck fit --model hf:...`` uses for a model not in the catalog.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import msgspec

from rigcheck import __version__
from rigcheck.catalog import paths
from rigcheck.catalog.cache import atomic_write
from rigcheck.catalog.net import (
    MAX_RATE_LIMIT_WAIT_S,
    FeedInvalid,
    HttpStatusError,
    NetworkDisabled,
    RateLimited,
    RefreshError,
    Session,
    check_network_allowed,
)
from rigcheck.catalog.records import CatalogError, Model, Quant, check_record
from rigcheck.catalog.sources import gguf_header
from rigcheck.catalog.sources.hf_config import HF_BASE_URL, model_from_config, model_from_gguf
from rigcheck.catalog.sources.hf_files import TreeEntry, gguf_quant_type, quants_from_tree
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

__all__ = ["HF_BASE_URL", "HubClient", "InvalidRepoId", "RepoInfo", "TreeEntry", "describe_repo", "fetch_model",
           "gguf_quant_type", "model_from_config", "quants_from_tree",
           "parse_model_ref", "default_base_url"]

MAX_JSON_BYTES = 32 * 1000 * 1000
MAX_CHILDREN = 8
"""Quantized versions read per model (most trusted and most downloaded first)."""
CHILDREN_ASKED = 20
"""Quantized versions listed per model (one request): more than are read, so duplicates can be passed over."""
CHILD_FIELDS = ["downloads", "library_name", "sha", "tags", "gated", "siblings", "safetensors"]
"""What the list of a model's quantized versions carries of each (``expand``): enough to know, without another
API request, which GGUF types a repo holds (its file names) and how large a safetensors repo is (its tensors'
dtypes and counts); ``sha`` says whether what an earlier refresh read of it still holds."""
REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")
INFO_FIELDS = ["cardData", "createdAt", "safetensors", "gguf", "gated", "pipeline_tag", "sha", "tags",
               "library_name", "downloads"]
TEXT_TASKS = ("text-generation", "image-text-to-text")


class InvalidRepoId(ValueError):
    """A model reference that is not ``hf:ORG/REPO`` (or ``ORG/REPO``, or a huggingface.co URL)."""


class _Safetensors(msgspec.Struct):
    total: int | None = None


class _CardData(msgspec.Struct):
    license: str | list[str] | None = None


class RepoInfo(msgspec.Struct, kw_only=True):
    """What rigcheck uses of a repo's model info (wire names kept where ``model_from_config`` reads them)."""

    id: str
    createdAt: str | None = None  # noqa: N815 - wire name
    safetensors: _Safetensors | None = None
    cardData: _CardData | None = None  # noqa: N815 - wire name
    library_name: str | None = None
    gated: bool | str = False
    pipeline_tag: str | None = None
    tags: list[str] = []
    sha: str | None = None
    downloads: int = 0
    gguf_total: int | None = None
    files: list[TreeEntry] | None = None
    """Every file with its size, when asked for (``info(repo, files=True)``); None otherwise."""


class ChildRepo(msgspec.Struct):
    id: str
    downloads: int = 0
    library_name: str | None = None
    sha: str | None = None
    tags: list[str] = []
    pipeline_tag: str | None = None
    gated: bool | str = False
    files: list[str] = []
    """File names (no sizes), when the listing carried them."""
    parameters: dict[str, int] | None = None
    """Tensor element counts by safetensors dtype (the Hub reads them from the files' headers)."""


def _hf():
    import huggingface_hub
    from huggingface_hub import constants

    # huggingface_hub asks /api/agent-harnesses about once a day for its user-agent string: a request the user
    # did not ask for, charged to their API budget. Off unless they set HF_HUB_DISABLE_TELEMETRY themselves
    # (set on the module, not the environment: the constant is read when huggingface_hub is first imported,
    # which the installed-models scan may already have done).
    if "HF_HUB_DISABLE_TELEMETRY" not in os.environ:
        constants.HF_HUB_DISABLE_TELEMETRY = True

    return huggingface_hub


@dataclass
class HubClient:
    """The Hub at one base URL, on one ``Session``. Every method raises ``RefreshError`` subclasses only:
    ``HttpStatusError`` (404 missing, 401/403 gated with a sentence about HF_TOKEN, ...), ``FeedInvalid``
    (a payload that is not what the Hub sends), ``NetworkDisabled`` (RIGCHECK_NO_NETWORK, HF_HUB_OFFLINE)."""

    base_url: str = HF_BASE_URL
    session: Session | None = None
    sleep: Callable[[float], None] = time.sleep
    token: str | None = None
    """A token for gated repos; None uses HF_TOKEN or the saved Hugging Face login (as huggingface_hub does)."""
    min_interval_s: float = 0.0
    """Politeness gap between requests (the maintainers' builder stays under the anonymous rate limit)."""
    api_reserve: int | None = None
    """When the Hub says at most this many API requests are left in its window, no more are started: they
    raise ``RateLimited`` at once (None: ask until a 429 says no)."""
    _last_request_s: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        check_network_allowed(self.base_url, "querying Hugging Face")
        if self.session is None:
            self.session = Session(sleep=self.sleep)
        hf = _hf()
        self.api = hf.HfApi(endpoint=self.base_url, token=self.token, library_name="rigcheck",
                            library_version=__version__)

    # plumbing --------------------------------------------------------------------------------------
    def _prepare(self, *, api: bool = False) -> None:
        hf = _hf()
        if hf.constants.is_offline_mode():
            raise NetworkDisabled("HF_HUB_OFFLINE is set; not querying Hugging Face")
        if api:
            self.check_api_budget()
        client = self.session.client
        with _CLIENT_LOCK:  # set_client_factory closes the client it replaces: never one another thread uses
            if hf.get_session() is not client:
                hf.set_client_factory(lambda: client)
        if self.min_interval_s > 0:
            wait_s = self._last_request_s + self.min_interval_s - time.monotonic()
            if wait_s > 0:
                self.sleep(wait_s)
            self._last_request_s = time.monotonic()

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or self.base_url

    def api_spent_s(self) -> float | None:
        """Seconds until the Hub's API rate-limit window resets when it is (nearly) spent; None otherwise."""
        if self.api_reserve is None:
            return None
        return self.session.rate_limits.spent(self.host, "api", reserve=self.api_reserve)

    def check_api_budget(self) -> None:
        """When the Hub's API requests are (nearly) spent for this window: wait for a window that resets within
        ``MAX_RATE_LIMIT_WAIT_S``, else raise ``RateLimited`` at once."""
        left_s = self.api_spent_s()
        if left_s is None:
            return
        if left_s > MAX_RATE_LIMIT_WAIT_S:
            raise RateLimited(f"the Hugging Face API rate limit is reached for {left_s:.0f} s", reset_s=left_s,
                              bucket="api")
        self.session.wait(left_s)
        self.session.check_cancel()

    def _headers(self) -> dict[str, str]:
        return {k: v for k, v in _hf().utils.build_hf_headers(token=self.token, library_name="rigcheck",
                                                              library_version=__version__).items()
                if k.lower() == "authorization"}

    def _call(self, what: str, repo: str, fn):
        self._prepare(api=True)
        hf = _hf()
        try:
            return fn()
        except RefreshError:
            raise
        except hf.errors.GatedRepoError as exc:
            raise _gated(repo, _status(exc) or 401) from None
        except hf.errors.RepositoryNotFoundError:
            raise HttpStatusError(f"{repo} was not found on Hugging Face (or is private)", 404) from None
        except hf.errors.HfHubHTTPError as exc:
            status = _status(exc) or 0
            if status == 404:
                raise HttpStatusError(f"{repo} was not found on Hugging Face (or is private)", 404) from None
            if status in (401, 403):
                raise _gated(repo, status) from None
            raise HttpStatusError(f"Hugging Face answered HTTP {status} for {what} of {repo}", status) from None
        except hf.errors.OfflineModeIsEnabled:
            raise NetworkDisabled("HF_HUB_OFFLINE is set; not querying Hugging Face") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise FeedInvalid(f"the {what} of {repo} is not what the Hugging Face API sends "
                              f"({type(exc).__name__}: {str(exc)[:120]})") from None

    def file_url(self, repo: str, filename: str) -> str:
        return f"{self.base_url}/{quote(repo, safe='/')}/resolve/main/{quote(filename, safe='/')}"

    # the API ---------------------------------------------------------------------------------------
    def json_file(self, repo: str, filename: str) -> dict:
        """A JSON file of the repo (``config.json``, the safetensors index) as a dict."""
        self._prepare()
        try:
            value = self.session.get_json(self.file_url(repo, filename), max_bytes=MAX_JSON_BYTES,
                                          what=f"{filename} of {repo}", headers=self._headers())
        except HttpStatusError as exc:
            if exc.status in (401, 403):
                raise _gated(repo, exc.status) from None
            raise
        if not isinstance(value, dict):
            raise FeedInvalid(f"{filename} of {repo} is not a JSON object")
        return value

    def config(self, repo: str) -> dict:
        return self.json_file(repo, "config.json")

    def config_and_commit(self, repo: str) -> tuple[dict | None, str | None]:
        """``config.json`` (None when the repo has none) and the repo's commit, from one resolver request: the
        Hub names the commit it resolved in ``X-Repo-Commit``. Raises ``HttpStatusError`` (gated, with how
        to get access; a missing repo is 404 too, and its commit then unknown), ``FeedInvalid``."""
        self._prepare()
        url = self.file_url(repo, "config.json")
        what = f"config.json of {repo}"
        try:
            with self.session.stream(url, headers=self._headers(), what=what) as response:
                commit = repo_commit(response)
                body = self.session.read_body(response, max_bytes=MAX_JSON_BYTES, what=what)
        except HttpStatusError as exc:
            if exc.status in (401, 403):
                raise _gated(repo, exc.status) from None
            if exc.status == 404:
                return None, None
            raise
        try:
            value = msgspec.json.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise FeedInvalid(f"{what} is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise FeedInvalid(f"{what} is not a JSON object")
        return value, commit

    def file_size(self, repo: str, filename: str) -> int | None:
        """The size of one file from a resolver HEAD (``X-Linked-Size`` of the redirect, or the length of a
        small file); None when the repo has no such file or the Hub does not say."""
        self._prepare()
        try:
            status, headers = self.session.head(self.file_url(repo, filename), headers=self._headers(),
                                                what=f"{filename} of {repo}")
        except HttpStatusError as exc:
            if exc.status in (401, 403):
                raise _gated(repo, exc.status) from None
            if exc.status == 404:
                return None
            raise
        value = headers.get("x-linked-size") or (headers.get("content-length") if status == 200 else None)
        return int(value) if value and value.isdigit() and len(value) < 19 else None

    def info(self, repo: str, *, files: bool = False) -> RepoInfo:
        """The repo's model info; ``files``: with every file and its size (the same one request)."""
        if files:
            raw = self._call("model info", repo, lambda: self.api.model_info(repo, files_metadata=True))
        else:
            raw = self._call("model info", repo, lambda: self.api.model_info(repo, expand=INFO_FIELDS))
        card = raw.card_data
        license_ = card.get("license") if card is not None else None
        st = raw.safetensors
        return RepoInfo(
            id=raw.id, createdAt=raw.created_at.isoformat() if raw.created_at else None,
            safetensors=_Safetensors(total=st.total) if st is not None and st.total else None,
            cardData=_CardData(license=license_) if license_ else None, library_name=raw.library_name,
            gated=raw.gated or False, pipeline_tag=raw.pipeline_tag, tags=list(raw.tags or []), sha=raw.sha,
            downloads=raw.downloads or 0,
            gguf_total=(raw.gguf or {}).get("total") if isinstance(raw.gguf, dict) else None,
            files=_files_of(raw.siblings) if files else None,
        )

    def tree(self, repo: str) -> list[TreeEntry]:
        """Every file of the repo (recursive, all pages)."""
        def listing():
            out = []
            for item in self.api.list_repo_tree(repo, recursive=True):
                if hasattr(item, "blob_id"):
                    out.append(_tree_entry(item.path, item.size, item.lfs.size if item.lfs is not None else None))
            return out
        return self._call("file list", repo, listing)

    def quantized_children(self, repo: str, limit: int = MAX_CHILDREN) -> list[ChildRepo]:
        """Repos declaring ``base_model:quantized:{repo}``, most downloaded first, with their file names and
        safetensors dtype counts (``CHILD_FIELDS``): one API request."""
        found = self._call("quantized versions", repo, lambda: list(self.api.list_models(
            filter=f"base_model:quantized:{repo}", sort="downloads", limit=limit, expand=CHILD_FIELDS)))
        children = [_child(m) for m in found]
        return sorted(children, key=lambda c: -c.downloads)[:limit]

    def text_models(self, sort: str, limit: int) -> list[ChildRepo]:
        """The ``limit`` text-generation models first by ``sort`` ("downloads" or "trending_score")."""
        found = self._call("model list", "the Hub", lambda: list(self.api.list_models(
            pipeline_tag="text-generation", sort=sort, limit=limit,
            expand=["downloads", "library_name", "sha", "tags", "gated", "pipeline_tag"])))
        return [_child(m) for m in found]

    def gguf_header(self, repo: str, path: str) -> gguf_header.GgufHeader:
        self._prepare()
        return gguf_header.read_remote_header(self.session, self.file_url(repo, path), headers=self._headers(),
                                              what=f"{path} of {repo}")


def _child(m) -> ChildRepo:
    st = m.safetensors
    parameters = {str(k): int(v) for k, v in (st.parameters or {}).items()} if st is not None else None
    return ChildRepo(id=m.id, downloads=m.downloads or 0, library_name=m.library_name, sha=m.sha,
                     tags=list(m.tags or []), pipeline_tag=m.pipeline_tag, gated=m.gated or False,
                     files=[s.rfilename for s in m.siblings or []], parameters=parameters or None)


def _files_of(siblings) -> list[TreeEntry] | None:
    """Every file with its size from a model info read with ``files_metadata``; None when the server left the
    sizes out (a mirror): the file list is then read instead."""
    if siblings is None or any(s.size is None for s in siblings):
        return None
    return [_tree_entry(s.rfilename, s.size, s.lfs.size if s.lfs is not None else None) for s in siblings]


def _tree_entry(path: str, size: int | None, lfs_size: int | None) -> TreeEntry:
    return msgspec.convert({"type": "file", "path": path, "size": size or 0,
                            "lfs": {"size": lfs_size} if lfs_size is not None else None}, TreeEntry)


def repo_commit(response) -> str | None:
    """The commit the Hub resolved a file at (``X-Repo-Commit`` of the answer or of a redirect before it)."""
    for hop in (response, *reversed(getattr(response, "history", []) or [])):
        value = (hop.headers.get("X-Repo-Commit") or "").strip()
        if re.fullmatch(r"[0-9A-Fa-f]{4,64}", value):
            return value
    return None


_CLIENT_LOCK = threading.Lock()


def _status(exc) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _gated(repo: str, status: int) -> HttpStatusError:
    return HttpStatusError(
        f"{repo} is gated or private on Hugging Face (HTTP {status}); accept its license there and set HF_TOKEN "
        f"(or log in with `hf auth login`)", status)


# --------------------------------------------------------------------------------------------- assembly

_UNREAD = object()


def describe_repo(client: HubClient, repo: str, *, include_children: bool = True,
                  max_children: int = MAX_CHILDREN, log: Callable[[str], None] | None = None,
                  info: RepoInfo | None = None, config: dict | None | object = _UNREAD) -> Model:
    """A full ``Model`` for ``repo``: architecture, its own weights, and quants from its quantized children.

    An architecture rigcheck does not understand is kept with size-only quants and a note (``notes``); a repo
    of GGUF files only is described from its GGUF header. Raises ``HttpStatusError`` (404 unknown repo, 401/403
    gated, with how to get access), ``NetworkError``, ``FeedInvalid`` for payloads that are not what the Hub
    sends. ``info`` read with ``files=True`` spares the file-list request; ``config`` (None: the repo has none)
    spares reading ``config.json`` again.
    """
    fetched_on = time.strftime("%Y-%m-%d", time.gmtime())
    if info is None:
        try:
            info = client.info(repo)
        except HttpStatusError as exc:
            if exc.status != 404:  # a mirror may serve files without the API: the file list decides below
                raise
            info = RepoInfo(id=repo)
    if config is _UNREAD:
        config, _commit = client.config_and_commit(repo)
    tree = info.files if info.files is not None else client.tree(repo)
    indexed = _indexed_files(client, repo, tree)
    params_total = info.safetensors.total if info.safetensors and info.safetensors.total else None
    if params_total is None:
        from rigcheck.catalog.sources.hf_files import params_from_safetensors

        params_total = params_from_safetensors(tree, config or {}, indexed) or info.gguf_total
    source = f"{client.base_url}/{repo} (fetched {fetched_on})"
    model = None
    note = None
    if config is not None:
        try:
            model = model_from_config(repo, config, info=info, params_total=params_total, source=source)
        except FeedInvalid as exc:
            note = f"{exc}; estimates from file sizes only"
    else:
        ggufs = sorted((e for e in tree if e.path.lower().endswith(".gguf") and "mmproj" not in e.path.lower()),
                       key=lambda e: e.size_bytes)
        if ggufs:
            try:
                header = client.gguf_header(repo, ggufs[0].path)
                params_total = params_total or header.params_total or None
                model = model_from_gguf(repo, header, info=info, params_total=params_total,
                                        source=f"GGUF header of {client.file_url(repo, ggufs[0].path)} "
                                               f"(fetched {fetched_on})")
            except FeedInvalid as exc:
                note = f"{exc}; estimates from file sizes only"
        else:
            note = f"{repo} has no config.json and no GGUF file; estimates from file sizes only"
    if model is None:
        model = _size_only_model(repo, info, params_total, source, note)
    quants, projector = quants_from_tree(repo, tree, params_total, config=config, indexed_files=indexed,
                                         source=f"{client.base_url}/api/models/{repo}/tree/main (fetched {fetched_on})")
    if include_children:
        for child in client.quantized_children(repo, limit=max_children):
            try:
                child_quants, child_projector = child_quants_of(client, child.id, params_total, fetched_on)
            except (HttpStatusError, FeedInvalid) as exc:
                if log:
                    log(f"skipped {child.id}: {exc}")
                continue
            projector = projector or child_projector
            quants = add_quants(quants, child_quants)
    quants = sorted(unique_quant_names(quants), key=lambda q: (-q.bits_per_weight, q.name))
    return msgspec.structs.replace(model, quants=quants, vision_projector_bytes=projector)


def child_quants_of(client: HubClient, repo: str, params_total: int | None, fetched_on: str
                    ) -> tuple[list[Quant], int | None]:
    """The quants one quantized child repo holds (its config is read only when it has no GGUF files)."""
    tree = client.tree(repo)
    needs_config = not any(e.path.lower().endswith(".gguf") for e in tree)
    config = client.config(repo) if needs_config else None
    indexed = _indexed_files(client, repo, tree) if needs_config else None
    return quants_from_tree(repo, tree, params_total, config=config, indexed_files=indexed,
                            source=f"{client.base_url}/api/models/{repo}/tree/main (fetched {fetched_on})")


def add_quants(quants: list[Quant], more: list[Quant]) -> list[Quant]:
    """``quants`` plus those of ``more`` whose identity (name and format) is new: the first repo offering a
    type keeps it (children come most downloaded first). A GGUF BF16 beside safetensors BF16 is kept."""
    seen = {(q.name, q.format) for q in quants}
    out = list(quants)
    for quant in more:
        if (quant.name, quant.format) not in seen:
            seen.add((quant.name, quant.format))
            out.append(quant)
    return out


def unique_quant_names(quants: list[Quant]) -> list[Quant]:
    """Quant names are unique within a model (the table, ``--quant`` and the detail pane look quants up by
    name): a second quant of the same name in another format is called ``NAME-GGUF`` (or ``NAME-MLX``, ...)."""
    taken: set[str] = set()
    out = []
    for quant in quants:
        name = quant.name
        if name in taken:
            name = f"{quant.name}-{quant.format.upper()}"
        if name in taken:
            continue
        taken.add(name)
        out.append(quant if name == quant.name else msgspec.structs.replace(quant, name=name))
    return out


def _indexed_files(client: HubClient, repo: str, tree: list[TreeEntry]) -> set[str] | None:
    """The files ``model.safetensors.index.json`` names, or None when the repo has no index or it is unreadable."""
    if not any(e.path == "model.safetensors.index.json" for e in tree):
        return None
    try:
        index = client.json_file(repo, "model.safetensors.index.json")
    except (HttpStatusError, FeedInvalid):
        return None
    weight_map = index.get("weight_map")
    if not isinstance(weight_map, dict):
        return None
    return {str(v) for v in weight_map.values()}


def _size_only_model(repo: str, info: RepoInfo, params_total: int | None, source: str, note: str | None) -> Model:
    license_ = info.cardData.license if info.cardData else None
    return Model(
        id=repo, family="unknown", name=repo.split("/", 1)[1],
        params_total_b=round(params_total / 1e9, 3) if params_total else None,
        params_active_b=round(params_total / 1e9, 3) if params_total else None,
        license=license_ if isinstance(license_, str) or license_ is None else ", ".join(license_),
        release_date=info.createdAt[:10] if info.createdAt else None, sources=[source],
        notes=note or "architecture unknown; estimates from file sizes only",
    )


def parse_model_ref(ref: str) -> str:
    """``hf:ORG/REPO``, ``ORG/REPO`` or a Hugging Face URL (``https://huggingface.co/ORG/REPO[/tree/...]``)
    -> ``ORG/REPO``. Raises ``InvalidRepoId`` with the expected form."""
    repo = ref.strip()
    if repo.lower().startswith("hf:"):
        repo = repo[3:]
    match = re.match(r"^https?://[^/]+/(?:models/)?([^/?#]+/[^/?#]+)", repo)
    if match:
        repo = match.group(1)
    repo = repo.strip("/")
    if not REPO_ID_RE.match(repo) or ".." in repo:
        raise InvalidRepoId(f"{ref!r} is not a Hugging Face model id; expected ORG/REPO (or a huggingface.co URL)")
    return repo


def default_base_url() -> str:
    """``HF_ENDPOINT`` (huggingface_hub's variable for mirrors) or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or HF_BASE_URL).rstrip("/")


def model_cache_path(repo: str) -> Path:
    return paths.cache_dir() / "models" / (repo.replace("/", "--") + ".json")



def fetch_model(ref: str, session: Session | None = None, base_url: str | None = None, *,
                refresh: bool = False, include_children: bool = True,
                sleep: Callable[[float], None] = time.sleep) -> Model:
    """One model that is not in the catalog, from the Hub (config + files + quantized children).

    ``base_url`` defaults to ``HF_ENDPOINT`` or huggingface.co; HF_TOKEN or the saved login is sent (gated
    repos). Cached in ``<cache>/models/ORG--REPO.json``; the cached copy is used unless ``refresh``.
    Raises ``InvalidRepoId`` for a malformed reference, and ``RefreshError`` subclasses (``NetworkDisabled``,
    ``NetworkError``, ``HttpStatusError`` — 404 unknown repo, 401/403 gated —, ``FeedInvalid``).
    """
    repo = parse_model_ref(ref)
    path = model_cache_path(repo)
    if not refresh:
        try:
            data = read_capped(path, MAX_JSON_BYTES, "cached model")
            if not json_too_deep(data):
                cached = msgspec.json.decode(data, type=Model)
                check_record(cached, f"cached model {path}")
                return cached
        except (FileNotFoundError, FileReadError, msgspec.DecodeError, CatalogError):
            pass  # absent or damaged: fetched again below
    with (session or Session(sleep=sleep)) as owned:
        client = HubClient(base_url=base_url or default_base_url(), session=owned, sleep=sleep)
        model = describe_repo(client, repo, include_children=include_children)
    try:
        atomic_write(path, msgspec.json.encode(model))
    except OSError:
        pass  # caching is an optimisation; the fetched model is still returned
    return model
