"""An installed model in catalog terms: which catalog model and quant it is, or a model built from its header.

The catalog model is found, in order, by the repo id the layout names (the original repo, a quant's repo,
or a ``-GGUF``/MLX repo of it), by the base model its header names, then by its names (the header's
``general.name``, basename and size label, the Ollama tag, the file name) checked against its parameter
count; a candidate whose layer count or width disagrees with the header is rejected (a fine-tune of another
size, a renamed file). The quant comes from the file name, else the header's ``general.file_type``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import msgspec

from rigcheck.catalog.installed.describe import quant_from_name
from rigcheck.catalog.installed.finders import Found
from rigcheck.catalog.lookup import match_model, norm_name
from rigcheck.catalog.records import Catalog, Model, Quant

INSTALLED_SCHEMA = "rigcheck.installed/1"

_REPO_SUFFIX = re.compile(r"[-_.](gguf|mlx|\d+bit|bf16|fp8|awq|gptq|(i?q\d\w*))$", re.IGNORECASE)


@dataclass(frozen=True)
class InstalledModel:
    """One model on this machine: where, what, and how it was recognised."""

    path: str
    source: str
    name: str
    """How its tool names it: the Ollama tag, else the file or folder name."""
    model_id: str | None
    """The catalog model, or None when the catalog does not have it."""
    quant: str | None
    size_bytes: int
    """The weight files' real size (shards summed; the projector apart)."""
    architecture: str | None
    format: str = "gguf"
    params_b: float | None = None
    files: tuple[str, ...] = ()
    mmproj: str | None = None
    mmproj_bytes: int = 0
    repo: str | None = None
    tag: str | None = None
    problem: str | None = None
    matched_by: str | None = None
    """How the catalog model was found ("repo id", "header name", ...), None when it was not."""
    facts: dict[str, int] = field(default_factory=dict)
    """Architecture facts from the header or config (layers, hidden_size, heads, kv_heads, ...)."""
    expert_params_b: float | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None and bool(self.params_b)

    @property
    def runtime_name(self) -> str:
        """The name the user's tool loads it by: the Ollama tag, else the path."""
        return self.tag or self.path

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path, "source": self.source, "model_id": self.model_id, "quant": self.quant,
            "size_bytes": self.size_bytes, "architecture": self.architecture, "name": self.name,
            "format": self.format, "params_b": round(self.params_b, 3) if self.params_b else None,
            "files": list(self.files), "mmproj": self.mmproj, "mmproj_bytes": self.mmproj_bytes or None,
            "repo": self.repo, "ollama_tag": self.tag, "matched_by": self.matched_by, "problem": self.problem,
        }


def _strip_repo(name: str) -> str:
    """"bartowski/Meta-Llama-3.1-8B-Instruct-GGUF" -> "Meta-Llama-3.1-8B-Instruct"."""
    name = name.split("/", 1)[-1]
    for _ in range(3):
        shorter = _REPO_SUFFIX.sub("", name)
        if shorter == name:
            break
        name = shorter
    return name


def _facts_agree(model: Model, facts: dict[str, int]) -> bool:
    """False when the header's layer count or width contradicts the catalog's (another model)."""
    for ours, theirs in ((model.num_layers, facts.get("layers")), (model.hidden_size, facts.get("hidden_size"))):
        if ours and theirs and ours != theirs:
            return False
    return True


class _Index:
    """What matching looks up in a catalog, built once per catalog: ids, quant repos, id words."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.by_id = {m.id.lower(): m for m in catalog.models}
        self.by_repo: dict[str, Model] = {}
        for m in catalog.models:
            for q in m.quants:
                if q.repo:
                    self.by_repo.setdefault(q.repo.lower(), m)
        self.words = [(m, set(_tokens(m.id)) | {t for a in m.aliases for t in _tokens(a)}) for m in catalog.models]
        self.matches: dict[tuple[str, float | None], Model | None] = {}

    def match(self, name: str, params_b: float | None) -> Model | None:
        key = (name, round(params_b, 2) if params_b else None)
        if key not in self.matches:
            self.matches[key] = match_model(name, params_b, self.catalog)
        return self.matches[key]


_INDEX: list[_Index] = []


def _index(catalog: Catalog) -> _Index:
    if not _INDEX or _INDEX[0].catalog is not catalog:
        _INDEX[:] = [_Index(catalog)]
    return _INDEX[0]


def find_catalog_model(catalog: Catalog, found: Found, summary: dict, params_b: float | None,
                       name: str) -> tuple[Model | None, str | None]:
    """The catalog model of an installed file and how it was found, or (None, None)."""
    facts = summary.get("facts") or {}
    index = _index(catalog)
    by_id = index.by_id
    repo = (found.repo or "").lower()
    if repo:
        model = by_id.get(repo) or index.by_repo.get(repo)
        if model is not None and _facts_agree(model, facts):
            return model, "repo id"
    base = str(summary.get("base_model") or "").lower()
    if base in by_id and _facts_agree(by_id[base], facts):
        return by_id[base], "base model in the header"
    names: list[tuple[str, str]] = []
    if found.repo:
        names.append((_strip_repo(found.repo), "repo name"))
    header_name = " ".join(str(summary[k]) for k in ("basename", "size_label", "finetune") if summary.get(k))
    for candidate in (summary.get("name"), header_name or None):
        if candidate:
            names.append((str(candidate), "header name"))
    if found.tag:
        tag_name = found.tag.rsplit("/", 1)[-1].replace(":", "-")
        names.append((tag_name, "Ollama tag"))
    names.append((name, "file name"))
    for candidate, how in names:
        model = index.match(candidate, params_b)
        if model is not None and _facts_agree(model, facts):
            return model, how
    for candidate, how in names:
        model = _match_tokens(candidate, params_b, facts, index)
        if model is not None:
            return model, how
    return None, None


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def _match_tokens(name: str, params_b: float | None, facts: dict[str, int], index: _Index) -> Model | None:
    """The catalog model whose id holds every word of ``name`` ("Meta Llama 3.1 8B Instruct" in
    meta-llama/Llama-3.1-8B-Instruct), its layer count and width equal to the header's and its size within
    15% (a vision tower counted in the catalog, not in a text-only GGUF); the one with fewest extra words."""
    words = set(_tokens(_strip_repo(name) if "/" in name else name))
    words -= {"gguf", "it", "hf"} | {w for w in words if quant_from_name(w.upper())}
    if len(words) < 2 or not facts.get("layers") or not facts.get("hidden_size"):
        return None
    best, best_extra = None, None
    for model, ids in index.words:
        if not words <= ids or model.num_layers != facts["layers"] or model.hidden_size != facts["hidden_size"]:
            continue
        if params_b and model.params_total_b and abs(model.params_total_b - params_b) > 0.15 * model.params_total_b:
            continue
        extra = len(ids - words)
        if best_extra is None or (extra, len(model.id)) < (best_extra, len(best.id)):  # type: ignore[union-attr]
            best, best_extra = model, extra
    return best


def quant_name(found: Found, summary: dict) -> str | None:
    """The quant: spelled in the Ollama tag or file name, else the header's file type."""
    for text in (found.tag or "", found.path.name, found.repo or ""):
        q = quant_from_name(text)
        if q:
            return q
    file_type = summary.get("file_type")
    if isinstance(file_type, str):
        return file_type
    dominant = summary.get("dominant_type")
    return dominant if isinstance(dominant, str) else None


def display_name(found: Found) -> str:
    if found.tag:
        return found.tag
    name = found.path.name
    m = re.match(r"^(.+)-\d{5}-of-\d{5}\.gguf$", name, re.IGNORECASE)
    if m:
        return m.group(1) + ".gguf"
    if found.kind == "safetensors" and found.repo:
        return found.repo
    if found.repo and found.source == "llama.cpp":
        return name.removeprefix(found.repo.replace("/", "_") + "_")  # the flat cache's <org>_<repo>_ prefix
    return name


def estimate_inputs(installed: InstalledModel, catalog: Catalog) -> tuple[Model, Quant] | None:
    """The catalog records that estimate this file at its real size: the catalog model (or one built from
    the header) and a quant whose size is the files'. None when the file is broken or its size unknown."""
    if not installed.usable:
        return None
    model = next((m for m in catalog.models if m.id == installed.model_id), None) if installed.model_id else None
    if model is None:
        model = header_model(installed)
    elif installed.mmproj_bytes:
        model = msgspec.structs.replace(model, vision_projector_bytes=installed.mmproj_bytes)
    name = installed.quant or "unknown"
    fmt = installed.format
    known = next((q for q in model.quants if q.name.casefold() == name.casefold() and q.format == fmt), None)
    params = (model.params_total_b or installed.params_b or 0) * 1e9
    bits = installed.size_bytes * 8 / params if params else (known.bits_per_weight if known else 4.8)
    runtimes = {"gguf": ["llama.cpp"], "mlx": ["mlx"]}.get(fmt, ["vllm"])
    quant = Quant(name=known.name if known else name, format=fmt, bits_per_weight=round(bits, 3),  # type: ignore[arg-type]
                  file_size_bytes=installed.size_bytes, size_is_estimate=False,
                  repo=installed.repo, runtimes=runtimes,  # type: ignore[arg-type]
                  sources=[f"installed: {installed.path}"])
    return model, quant


def header_model(installed: InstalledModel) -> Model:
    """A catalog-shaped model built from what the header says, for a file the catalog does not know."""
    f = installed.facts
    total_b = installed.params_b or 0.0
    experts, used = f.get("experts"), f.get("experts_used")
    active_b = total_b
    if experts and used and installed.expert_params_b:
        active_b = total_b - installed.expert_params_b * (1 - used / experts)
    attention = "gqa"
    if f.get("kv_lora_rank"):
        attention = "mla"
    elif f.get("kv_heads") and f.get("heads") and f["kv_heads"] == f["heads"]:
        attention = "mha"
    return Model(
        id=f"local/{norm_name(installed.name)}", family=installed.architecture or "unknown",
        name=installed.name, params_total_b=total_b or None, params_active_b=active_b or None,
        num_layers=f.get("layers"), hidden_size=f.get("hidden_size"), num_attention_heads=f.get("heads"),
        num_kv_heads=f.get("kv_heads"), head_dim=f.get("head_dim"), vocab_size=f.get("vocab_size"),
        max_context_tokens=f.get("context_tokens"), attention=attention,  # type: ignore[arg-type]
        mla_kv_lora_rank=f.get("kv_lora_rank"), mla_qk_rope_head_dim=f.get("rope_dim"),
        moe_num_experts=experts, moe_experts_per_token=used, moe_shared_experts=f.get("shared_experts"),
        vision_projector_bytes=installed.mmproj_bytes or None,
        notes=f"described from the file's header ({installed.path}): not in the catalog")
