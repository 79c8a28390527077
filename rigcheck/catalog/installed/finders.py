"""Finding model files in each tool's folder: Ollama manifests, LM Studio, the Hugging Face and llama.cpp caches.

Each finder returns ``Found`` records: one per model (a GGUF file, the shards of a split GGUF, or a folder
of safetensors with its ``config.json``), with the multimodal projector (``mmproj``) that sits beside it,
the Hugging Face repo or Ollama tag it came from, and a problem sentence where the layout itself is broken
(a manifest that is not JSON, a blob that is missing). No file is opened here beyond manifests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rigcheck.probe.files import read_json

SHARD = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)
"""A split GGUF shard: ``Model-Q4_K_M-00001-of-00003.gguf`` (llama.cpp's gguf-split naming)."""
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_PROJECTOR_LAYER = "application/vnd.ollama.image.projector"
OLLAMA_DEFAULT_HOST = "registry.ollama.ai"
FOLDER_DEPTH = 4
"""How deep a user folder (``--path``) is walked: enough for publisher/repo/quant/file, never the disk."""


@dataclass(frozen=True)
class Found:
    """One model as laid out on disk, before its header is read."""

    source: str
    path: Path
    """The model file (the first shard of a split GGUF), or the folder of a safetensors model."""
    kind: str
    """"gguf" or "safetensors"."""
    files: tuple[Path, ...] = ()
    """Every weight file (all shards; the .safetensors files of a folder)."""
    mmproj: Path | None = None
    repo: str | None = None
    """The Hugging Face repo id it came from, when the layout says."""
    tag: str | None = None
    """The Ollama tag ("llama3.2:3b")."""
    problem: str | None = None
    file_sizes: tuple[int, ...] = ()
    """Sizes of ``files`` when the finder already knows them (the HF cache scan does), else empty."""


def is_projector(name: str) -> bool:
    return "mmproj" in name.lower()


def group_ggufs(source: str, paths: Iterable[Path], repo: str | None = None,
                sizes: dict[Path, int] | None = None) -> list[Found]:
    """GGUF files of one folder as models: shards of one split model together, projectors attached to
    the models beside them (every one: LM Studio keeps one projector for several quants)."""
    paths = sorted(paths)
    projectors = [p for p in paths if is_projector(p.name)]
    shards: dict[tuple[Path, str, int], list[Path]] = {}
    singles: list[Path] = []
    for p in paths:
        if is_projector(p.name):
            continue
        m = SHARD.match(p.name)
        if m and int(m.group("count")) > 1:
            shards.setdefault((p.parent, m.group("stem"), int(m.group("count"))), []).append(p)
        else:
            singles.append(p)
    mmproj = projectors[0] if projectors else None
    out: list[Found] = []
    sizes = sizes or {}
    for p in singles:
        out.append(Found(source, p, "gguf", (p,), mmproj, repo,
                         file_sizes=(sizes[p],) if p in sizes else ()))
    for (_, stem, count), files in sorted(shards.items()):
        files.sort()
        problem = None
        if len(files) != count:
            problem = f"split model incomplete: {len(files)} of {count} shards of {stem} present"
        out.append(Found(source, files[0], "gguf", tuple(files), mmproj, repo, problem=problem,
                         file_sizes=tuple(sizes[f] for f in files) if all(f in sizes for f in files) else ()))
    return out


def _dirs(root: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []


def walk_models(source: str, root: Path, depth: int, repo_of=None) -> list[Found]:
    """GGUF files and safetensors folders under ``root``, at most ``depth`` folders down; hidden folders and
    symlinked folders (loops) are skipped. ``repo_of(folder)`` names the repo of a folder, if known."""
    out: list[Found] = []
    stack = [(root, 0)]
    while stack:
        folder, level = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        ggufs, safetensors, has_config = [], [], False
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if level < depth:
                        stack.append((Path(entry.path), level + 1))
                    continue
                if not entry.is_file():
                    continue
            except OSError:
                continue
            low = name.lower()
            if low.endswith(".gguf"):
                ggufs.append(Path(entry.path))
            elif low.endswith(".safetensors"):
                safetensors.append(Path(entry.path))
            elif low == "config.json":
                has_config = True
        repo = repo_of(folder) if repo_of else None
        out.extend(group_ggufs(source, ggufs, repo))
        if safetensors and has_config:
            out.append(Found(source, folder, "safetensors", tuple(sorted(safetensors)), None, repo))
    return sorted(out, key=lambda f: str(f.path))


def find_lmstudio(root: Path) -> list[Found]:
    """LM Studio: ``models/<publisher>/<repo>/<file>.gguf`` (the repo as on Hugging Face)."""
    def repo_of(folder: Path) -> str | None:
        try:
            rel = folder.relative_to(root).parts
        except ValueError:
            return None
        return f"{rel[0]}/{rel[1]}" if len(rel) >= 2 else None

    return walk_models("lmstudio", root, 3, repo_of)


def find_folder(root: Path) -> list[Found]:
    """A folder the user added: GGUF files and safetensors folders up to ``FOLDER_DEPTH`` down."""
    if root.is_file():
        return group_ggufs("folder", [root]) if root.name.lower().endswith(".gguf") else []
    return walk_models("folder", root, FOLDER_DEPTH)


def _ollama_name(host: str, namespace: str, model: str, tag: str) -> tuple[str, str | None]:
    """The tag as ``ollama list`` shows it, and the Hugging Face repo for hf.co models."""
    if host == OLLAMA_DEFAULT_HOST:
        name = model if namespace == "library" else f"{namespace}/{model}"
        return f"{name}:{tag}", None
    repo = f"{namespace}/{model}" if host in ("hf.co", "huggingface.co") else None
    return f"{host}/{namespace}/{model}:{tag}", repo


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / digest.replace(":", "-")


def find_ollama(root: Path) -> list[Found]:
    """Ollama: ``manifests/<host>/<namespace>/<model>/<tag>`` JSON files whose model layer names a blob
    (``blobs/sha256-<hex>``, a GGUF file) and whose projector layer, if any, another."""
    manifests = root / "manifests"
    out: list[Found] = []
    for host in _dirs(manifests):
        for namespace in _dirs(host):
            for model in _dirs(namespace):
                try:
                    tags = [e for e in os.scandir(model) if e.is_file()]
                except OSError:
                    continue
                for entry in sorted(tags, key=lambda e: e.name):
                    out.append(_ollama_model(root, Path(entry.path), host.name, namespace.name, model.name))
    return out


def _ollama_model(root: Path, manifest: Path, host: str, namespace: str, model: str) -> Found:
    tag, repo = _ollama_name(host, namespace, model, manifest.name)
    try:
        document = read_json(manifest, 16 * 1024 * 1024, "Ollama manifest")
        layers = document["layers"]
        if not isinstance(layers, list):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):  # FileReadError (a FIFO, too deep) is a ValueError
        return Found("ollama", manifest, "gguf", tag=tag, repo=repo,
                     problem="the Ollama manifest is not readable JSON with a list of layers")
    weights = [la for la in layers if isinstance(la, dict) and la.get("mediaType") == OLLAMA_MODEL_LAYER]
    projectors = [la for la in layers if isinstance(la, dict) and la.get("mediaType") == OLLAMA_PROJECTOR_LAYER]
    if not weights or not isinstance(weights[0].get("digest"), str):
        return Found("ollama", manifest, "gguf", tag=tag, repo=repo,
                     problem="the Ollama manifest has no model layer (not a language model?)")
    files = tuple(_blob(root, la["digest"]) for la in weights if isinstance(la.get("digest"), str))
    mmproj = _blob(root, projectors[0]["digest"]) if projectors and isinstance(projectors[0].get("digest"), str) \
        else None
    missing = [f for f in files if not f.is_file()]
    problem = f"the model blob {missing[0].name} is missing (pull the model again)" if missing else None
    return Found("ollama", files[0], "gguf", files, mmproj, repo, tag, problem)


_LLAMA_MANIFEST = re.compile(r"^manifest=(?P<org>[^=]+)=(?P<repo>[^=]+)=(?P<tag>[^=]+)\.json$")


def find_llama_cpp(root: Path) -> list[Found]:
    """llama.cpp's cache: the flat files ``-hf`` wrote before 2026 (``<org>_<repo>_<file>.gguf`` beside
    ``manifest=<org>=<repo>=<tag>.json``), and a Hugging Face cache layout inside it (later versions)."""
    try:
        entries = [e for e in os.scandir(root)]
    except OSError:
        return []
    repos: list[str] = []
    ggufs: list[Path] = []
    hub_layout = False
    for e in entries:
        m = _LLAMA_MANIFEST.match(e.name)
        if m:
            repos.append(f"{m.group('org')}/{m.group('repo')}")
        elif e.name.lower().endswith(".gguf") and e.is_file():
            ggufs.append(Path(e.path))
        elif e.name.startswith("models--") and e.is_dir():
            hub_layout = True
    by_repo: dict[str | None, list[Path]] = {}
    for p in ggufs:
        by_repo.setdefault(_flat_repo(p.name, repos), []).append(p)
    out: list[Found] = []
    for repo, files in by_repo.items():
        out.extend(group_ggufs("llama.cpp", files, repo))
    if hub_layout:
        out.extend(find_hf_cache(root, source="llama.cpp"))
    return sorted(out, key=lambda f: str(f.path))


def _flat_repo(name: str, repos: list[str]) -> str | None:
    """The repo a flat cache file came from: its manifest's when one matches the prefix, else the
    ``<org>_<...>-GGUF_`` pattern; None when the name does not say."""
    for repo in sorted(repos, key=len, reverse=True):
        if name.startswith(repo.replace("/", "_") + "_"):
            return repo
    m = re.match(r"^([^_]+)_(.+?-gguf)_", name, re.IGNORECASE)
    return f"{m.group(1)}/{m.group(2)}" if m else None


def find_hf_cache(root: Path, source: str = "huggingface") -> list[Found]:
    """The Hugging Face cache (``huggingface_hub.scan_cache_dir``): GGUF files of each model repo, and a
    repo with ``config.json`` and safetensors as one model (MLX models included). Every revision's files
    count once."""
    if not root.is_dir():
        return []
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(root)
    except (CacheNotFound, OSError):
        return []
    out: list[Found] = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        latest = max(repo.revisions, key=lambda r: r.last_modified, default=None)
        if latest is None:
            continue
        files = sorted(latest.files, key=lambda f: str(f.file_path))
        sizes = {Path(f.file_path): f.size_on_disk for f in files}
        ggufs = [Path(f.file_path) for f in files if f.file_name.lower().endswith(".gguf")]
        by_folder: dict[Path, list[Path]] = {}
        for p in ggufs:
            by_folder.setdefault(p.parent, []).append(p)
        for group in by_folder.values():
            out.extend(group_ggufs(source, group, repo.repo_id, sizes))
        names = {f.file_name for f in files}
        tensors = [Path(f.file_path) for f in files if f.file_name.endswith(".safetensors")]
        if "config.json" in names and tensors:
            out.append(Found(source, Path(latest.snapshot_path), "safetensors", tuple(tensors), None, repo.repo_id,
                             file_sizes=tuple(sizes[t] for t in tensors)))
    for warning in info.warnings:
        out.append(Found(source, Path(getattr(warning, "filename", "") or root), "gguf",
                         problem=f"damaged cache entry: {warning}"))
    return out


def find_all(roots) -> Iterator[Found]:
    """Every model in ``roots`` (a ``roots.Roots``), source by source."""
    for root in roots.ollama:
        yield from find_ollama(root)
    for root in roots.lmstudio:
        yield from find_lmstudio(root)
    for root in roots.huggingface:
        yield from find_hf_cache(root)
    for root in roots.llama_cpp:
        yield from find_llama_cpp(root)
    for root in roots.folders:
        yield from find_folder(root)
