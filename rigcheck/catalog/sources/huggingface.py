"""Hugging Face Hub as a catalog source: architecture from config.json, quants and real sizes from file trees.

Requests (all GET, through ``catalog.net`` with retries honouring Retry-After):
  /{repo}/resolve/main/config.json                          architecture
  /api/models/{repo}                                         license, creation date, safetensors parameter count
  /api/models/{repo}/tree/main?recursive=true                files with sizes (``lfs.size`` for LFS files)
  /api/models?filter=base_model:quantized:{repo}             quantized children (GGUF, MLX, AWQ, ... repos)
Wire JSON is decoded here, once, into ``records.Model`` / ``records.Quant``.
``fetch_model("hf:ORG/REPO")`` is what ``rigcheck fit --model hf:...`` uses for a model not in the catalog.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import msgspec
import requests

from rigcheck.catalog import paths
from rigcheck.catalog.cache import atomic_write
from rigcheck.catalog.net import (
    FeedInvalid,
    HttpStatusError,
    check_network_allowed,
    get_bytes,
    new_session,
    read_body,
    request,
)
from rigcheck.catalog.records import CatalogError, Model, Quant, check_record
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped

HF_BASE_URL = "https://huggingface.co"
MAX_JSON_BYTES = 32 * 1000 * 1000
"""Trees of huge GGUF repos (every quant of a 1T model) run to a few MB; anything near this is wrong."""
MAX_CHILDREN = 12
REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")

# GGUF quant type names as they appear in file names; longest alternatives first.
_GGUF_TYPE = (
    r"(?:UD-)?(?:IQ[1-4]_(?:XXS|XS|NL|S|M)|Q[2-8]_K(?:_(?:XXL|XL|L|M|S))?|Q[4-8]_[01]|Q8_K_XL|TQ[12]_0"
    r"|MXFP4(?:_MOE)?|BF16|F16|F32)"
)
_GGUF_TYPE_RE = re.compile(rf"(?<![A-Za-z0-9]){_GGUF_TYPE}(?![A-Za-z0-9])", re.IGNORECASE)
_SHARD_RE = re.compile(r"-(\d{5})-of-(\d{5})$")

# Nominal bits per weight by GGUF type (llama.cpp), used only when the parameter count is unknown.
_NOMINAL_BPW = {
    "Q2_K": 2.63, "Q3_K_S": 3.5, "Q3_K_M": 3.91, "Q3_K_L": 4.27, "Q4_0": 4.55, "Q4_1": 5.0,
    "Q4_K_S": 4.58, "Q4_K_M": 4.85, "Q5_0": 5.54, "Q5_1": 6.0, "Q5_K_S": 5.54, "Q5_K_M": 5.69,
    "Q6_K": 6.59, "Q8_0": 8.5, "IQ1_S": 1.56, "IQ1_M": 1.75, "IQ2_XXS": 2.06, "IQ2_XS": 2.31,
    "IQ2_S": 2.5, "IQ2_M": 2.7, "IQ3_XXS": 3.06, "IQ3_XS": 3.3, "IQ3_S": 3.44, "IQ3_M": 3.66,
    "IQ4_XS": 4.25, "IQ4_NL": 4.5, "BF16": 16.0, "F16": 16.0, "F32": 32.0, "MXFP4": 4.25,
    "MXFP4_MOE": 4.25, "TQ1_0": 1.69, "TQ2_0": 2.06,
}
_DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4, "float8_e4m3fn": 1, "fp8": 1}


class InvalidRepoId(ValueError):
    """A model reference that is not ``hf:ORG/REPO`` (or ``ORG/REPO``)."""


# ------------------------------------------------------------------------------------------ wire records

class _Lfs(msgspec.Struct):
    size: int


class TreeEntry(msgspec.Struct):
    """One entry of the tree API: ``{"type": "file", "path": ..., "size": ..., "lfs": {"size": ...}}``."""

    type: str
    path: str
    size: int = 0
    lfs: _Lfs | None = None

    @property
    def size_bytes(self) -> int:
        # For LFS files ``size`` is the real size too on today's API; ``lfs.size`` is authoritative.
        return self.lfs.size if self.lfs is not None else self.size


class _Safetensors(msgspec.Struct):
    total: int | None = None


class _CardData(msgspec.Struct):
    license: str | list[str] | None = None


class RepoInfo(msgspec.Struct):
    """The fields of /api/models/{repo} we use; the rest is ignored."""

    id: str
    createdAt: str | None = None  # noqa: N815 - wire name
    safetensors: _Safetensors | None = None
    cardData: _CardData | None = None  # noqa: N815 - wire name
    library_name: str | None = None
    gated: bool | str = False


class ChildRepo(msgspec.Struct):
    id: str
    downloads: int = 0
    library_name: str | None = None


# ---------------------------------------------------------------------------------------------- client

@dataclass
class HubClient:
    """GETs against one Hub base URL, sharing one Session. Raises ``RefreshError`` subclasses."""

    base_url: str = HF_BASE_URL
    session: requests.Session = field(default_factory=new_session)
    sleep: Callable[[float], None] = time.sleep
    token: str | None = None
    """A Hugging Face access token, for gated repos (e.g. meta-llama); sent only to ``base_url``."""
    min_interval_s: float = 0.0
    """Politeness gap between requests; the builder uses it to stay under the Hub's anonymous rate limit."""
    _last_request_s: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        check_network_allowed(self.base_url, "querying Hugging Face")

    def _headers(self) -> dict[str, str] | None:
        self._pace()
        return {"Authorization": f"Bearer {self.token}"} if self.token else None

    def _pace(self) -> None:
        if self.min_interval_s > 0:
            wait_s = self._last_request_s + self.min_interval_s - time.monotonic()
            if wait_s > 0:
                self.sleep(wait_s)
            self._last_request_s = time.monotonic()

    def _json(self, path: str, what: str, params: dict[str, str] | None = None) -> bytes:
        return get_bytes(self.session, f"{self.base_url}{path}", max_bytes=MAX_JSON_BYTES, what=what,
                         params=params, headers=self._headers(), sleep=self.sleep)

    def config(self, repo: str) -> dict:
        body = self._json(f"/{_quote_repo(repo)}/resolve/main/config.json", f"config.json of {repo}")
        return _decode(body, dict, f"config.json of {repo}")

    def info(self, repo: str) -> RepoInfo:
        body = self._json(f"/api/models/{_quote_repo(repo)}", f"model info of {repo}")
        return _decode(body, RepoInfo, f"model info of {repo}")

    def tree(self, repo: str) -> list[TreeEntry]:
        """All files of the repo (recursive), following the API's ``Link: rel="next"`` pages."""
        url: str | None = f"{self.base_url}/api/models/{_quote_repo(repo)}/tree/main"
        params: dict[str, str] | None = {"recursive": "true"}
        entries: list[TreeEntry] = []
        for _page in range(200):
            response = request(self.session, url, params=params, headers=self._headers(), sleep=self.sleep)
            next_url = response.links.get("next", {}).get("url")
            body = read_body(response, max_bytes=MAX_JSON_BYTES, what=f"file list of {repo}")
            entries.extend(_decode(body, list[TreeEntry], f"file list of {repo}"))
            if not next_url:
                return entries
            url, params = next_url, None
        raise FeedInvalid(f"the file list of {repo} did not end after 200 pages")

    def quantized_children(self, repo: str, limit: int = MAX_CHILDREN) -> list[ChildRepo]:
        """Repos declaring ``base_model:quantized:{repo}``, most downloaded first."""
        params = {"filter": f"base_model:quantized:{repo}", "sort": "downloads", "direction": "-1",
                  "limit": str(limit)}
        body = self._json("/api/models", f"quantized versions of {repo}", params=params)
        children = _decode(body, list[ChildRepo], f"quantized versions of {repo}")
        return sorted(children, key=lambda c: -c.downloads)[:limit]


def _quote_repo(repo: str) -> str:
    return quote(repo, safe="/")


def _decode(body: bytes, type_, what: str):
    try:
        return msgspec.json.decode(body, type=type_)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise FeedInvalid(f"the {what} is not what the Hugging Face API sends: {exc}") from None


# ------------------------------------------------------------------------------------- config -> Model

def _first(config: dict, *keys: str):
    for key in keys:
        value = config.get(key)
        if value is not None:
            return value
    return None


def _int(config: dict, *keys: str) -> int | None:
    """The first of ``keys`` holding a plausible non-negative number, as an int; None otherwise."""
    value = _first(config, *keys)
    # 2**53: beyond any real config value, and within what JSON (and msgspec) carry exactly.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 2**53:
        return None
    return int(value)


def flatten_config(config: dict) -> dict:
    """Merge a multimodal wrapper's language-model section (text_config, llm_config, ...) over the top level."""
    for key in ("text_config", "llm_config", "language_config", "thinker_config"):
        inner = config.get(key)
        if isinstance(inner, dict):
            if key == "thinker_config" and isinstance(inner.get("text_config"), dict):
                inner = inner["text_config"]
            merged = {k: v for k, v in config.items() if k != key}
            merged.update({k: v for k, v in inner.items() if v is not None})
            merged["_has_vision"] = "vision_config" in config or "vision_config" in inner
            merged["_family"] = config.get("model_type") or inner.get("model_type")
            return merged
    return dict(config, _has_vision="vision_config" in config, _family=config.get("model_type"))


def model_from_config(repo_id: str, config: dict, *, info: RepoInfo | None = None,
                      params_total: int | None = None, source: str | None = None) -> Model:
    """Architecture facts of ``config.json`` as a ``Model`` (quants are added separately).

    Raises ``FeedInvalid`` when the config lacks the basics (layers, hidden size, heads).
    """
    cfg = flatten_config(config)
    layers = _int(cfg, "num_hidden_layers", "n_layer", "num_layers", "n_layers")
    hidden = _int(cfg, "hidden_size", "n_embd", "d_model", "dim")
    heads = _int(cfg, "num_attention_heads", "n_head", "n_heads")
    if not (layers and hidden and heads):
        raise FeedInvalid(
            f"config.json of {repo_id} does not describe a transformer rigcheck understands "
            f"(needs num_hidden_layers, hidden_size and num_attention_heads)"
        )
    kv_heads = _int(cfg, "num_key_value_heads", "num_kv_heads", "multi_query_group_num", "n_head_kv") or heads
    head_dim = _int(cfg, "head_dim") or hidden // heads
    fields: dict = {
        "num_layers": layers, "hidden_size": hidden, "num_attention_heads": heads, "num_kv_heads": kv_heads,
        "head_dim": head_dim, "vocab_size": _int(cfg, "vocab_size", "padded_vocab_size"),
        "max_context_tokens": _int(cfg, "max_position_embeddings", "n_positions", "seq_length",
                                   "max_sequence_length"),
        "tie_word_embeddings": cfg.get("tie_word_embeddings") if isinstance(cfg.get("tie_word_embeddings"), bool) else None,
        "attention": "gqa" if kv_heads < heads else "mha",
    }
    fields.update(_attention_layout(cfg, layers))
    fields.update(_moe(cfg))
    if params_total is None and info is not None and info.safetensors is not None:
        params_total = info.safetensors.total
    if params_total:
        fields["params_total_b"] = round(params_total / 1e9, 3)
        active = _active_params(fields, params_total, cfg)
        fields["params_active_b"] = round(active / 1e9, 3) if active else fields["params_total_b"]
    use_cases = ["vision"] if cfg.get("_has_vision") else []
    license_ = None
    release = None
    if info is not None:
        if info.cardData is not None and info.cardData.license:
            lic = info.cardData.license
            license_ = lic if isinstance(lic, str) else ", ".join(lic)
        if info.createdAt:
            release = info.createdAt[:10]
    model = Model(
        id=repo_id,
        family=str(cfg.get("_family") or "unknown"),
        name=repo_id.split("/", 1)[1],
        license=license_,
        release_date=release,
        use_cases=use_cases,
        sources=[source or f"{HF_BASE_URL}/{repo_id}/blob/main/config.json"],
        **{k: v for k, v in fields.items() if v is not None},
    )
    try:
        check_record(model, f"config.json of {repo_id}")
    except CatalogError as exc:  # a number no real model has: refuse the model, never carry it
        raise FeedInvalid(str(exc)) from None
    return model


def _attention_layout(cfg: dict, layers: int) -> dict:
    """GQA/MHA, MLA, sliding-window mixes and hybrid linear attention, from whichever keys the config uses."""
    out: dict = {}
    if cfg.get("kv_lora_rank"):
        out.update(attention="mla", mla_kv_lora_rank=_int(cfg, "kv_lora_rank"),
                   mla_qk_rope_head_dim=_int(cfg, "qk_rope_head_dim"))
        return out
    layer_types = cfg.get("layer_types")
    window = _int(cfg, "sliding_window", "attention_chunk_size")
    if isinstance(layer_types, list) and layer_types and all(isinstance(t, str) for t in layer_types):
        kinds = [t.lower() for t in layer_types]
        full = sum(1 for t in kinds if t in ("full_attention", "attention", "global"))
        if any("linear" in t or "mamba" in t or "deltanet" in t for t in kinds):
            out.update(attention="hybrid-linear", full_attention_layers=full)
            out["linear_state_bytes_per_layer"] = _linear_state_bytes(cfg)
        elif any("sliding" in t or "chunked" in t or "local" in t for t in kinds):
            out.update(attention="swa-mixed", full_attention_layers=full, sliding_window_tokens=window)
        return out
    interval = _int(cfg, "full_attention_interval")
    if interval and cfg.get("linear_num_value_heads"):  # Qwen3-Next before layer_types existed
        out.update(attention="hybrid-linear", full_attention_layers=layers // interval,
                   linear_state_bytes_per_layer=_linear_state_bytes(cfg))
        return out
    pattern = _int(cfg, "sliding_window_pattern")
    if pattern and window:  # Gemma 3: every pattern-th layer is global
        out.update(attention="swa-mixed", full_attention_layers=layers // pattern, sliding_window_tokens=window)
        return out
    if cfg.get("model_type") in ("gemma2",) and window:  # Gemma 2 alternates local and global layers
        out.update(attention="swa-mixed", full_attention_layers=layers // 2, sliding_window_tokens=window)
        return out
    no_rope = cfg.get("no_rope_layers")
    if cfg.get("attention_chunk_size") and isinstance(no_rope, list) and no_rope:
        # Llama 4: layers without RoPE (0) attend globally; the rest use chunked local attention.
        out.update(attention="swa-mixed", full_attention_layers=sum(1 for x in no_rope if x == 0),
                   sliding_window_tokens=_int(cfg, "attention_chunk_size"))
        return out
    if window and cfg.get("use_sliding_window", True) is not False and window < (
        _int(cfg, "max_position_embeddings") or window + 1
    ):
        out.update(attention="swa-mixed", full_attention_layers=0, sliding_window_tokens=window)
    return out


def _linear_state_bytes(cfg: dict) -> int | None:
    """Per-sequence state of one Gated-DeltaNet layer: the f32 recurrent matrix per value head plus the
    short-convolution window, as llama.cpp keeps it."""
    v_heads = _int(cfg, "linear_num_value_heads")
    k_heads = _int(cfg, "linear_num_key_heads") or v_heads
    k_dim = _int(cfg, "linear_key_head_dim")
    v_dim = _int(cfg, "linear_value_head_dim")
    kernel = _int(cfg, "linear_conv_kernel_dim") or 4
    if not (v_heads and k_dim and v_dim):
        return None
    recurrent = v_heads * k_dim * v_dim * 4
    conv = (kernel - 1) * (2 * k_heads * k_dim + v_heads * v_dim) * 4
    return recurrent + conv


def _moe(cfg: dict) -> dict:
    experts = _int(cfg, "n_routed_experts", "num_local_experts", "num_experts", "moe_num_experts", "n_experts")
    if not experts or experts <= 1:
        return {}
    shared = _int(cfg, "n_shared_experts", "num_shared_experts", "moe_num_shared_experts")
    if shared is None and cfg.get("shared_expert_intermediate_size"):
        shared = 1
    return {
        "moe_num_experts": experts,
        "moe_experts_per_token": _int(cfg, "num_experts_per_tok", "experts_per_token", "moe_top_k",
                                      "num_experts_per_token"),
        "moe_shared_experts": shared or 0,
        # Mixtral-style configs give the expert width as intermediate_size.
        "moe_intermediate_size": _int(cfg, "moe_intermediate_size", "expert_intermediate_size")
        or (_int(cfg, "intermediate_size") if cfg.get("num_local_experts") else None),
        "first_dense_layers": _int(cfg, "first_k_dense_replace") or 0,
    }


def _active_params(fields: dict, params_total: int, cfg: dict) -> int | None:
    """Parameters used per token of an MoE model: total minus the routed experts a token does not use.
    Each expert is a gated MLP of 3 x hidden x expert_width weights."""
    experts = fields.get("moe_num_experts")
    per_token = fields.get("moe_experts_per_token")
    width = fields.get("moe_intermediate_size")
    if not (experts and per_token and width):
        return None
    moe_layers = fields["num_layers"] - (fields.get("first_dense_layers") or 0)
    step = _int(cfg, "interleave_moe_layer_step")
    if step and step > 1:
        moe_layers = fields["num_layers"] // step
    unused = (experts - per_token) * 3 * fields["hidden_size"] * width * moe_layers
    active = params_total - unused
    return active if 0 < active < params_total else None


# --------------------------------------------------------------------------------------- trees -> quants

@dataclass
class _Group:
    size_bytes: int = 0
    files: int = 0


def gguf_quant_type(path: str) -> str | None:
    """The quant type of a GGUF file path ("UD-Q2_K_XL/GLM-UD-Q2_K_XL-00001-of-00003.gguf" -> "UD-Q2_K_XL")."""
    stem = path.rsplit("/", 1)[-1]
    if not stem.lower().endswith(".gguf"):
        return None
    stem = _SHARD_RE.sub("", stem[: -len(".gguf")])
    matches = list(_GGUF_TYPE_RE.finditer(stem))
    if not matches:
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        matches = list(_GGUF_TYPE_RE.finditer(folder))
        if not matches:
            return None
    name = matches[-1].group(0).upper()
    return name


def quants_from_tree(repo: str, entries: list[TreeEntry], params_total: int | None, *,
                     config: dict | None = None, source: str | None = None) -> tuple[list[Quant], int | None]:
    """Quants a repo's files hold, and the vision projector size if it ships one (mmproj GGUF).

    GGUF shards ``-0000k-of-0000n`` are summed per quant type; mmproj files are kept apart. A repo of
    safetensors files becomes one quant whose kind comes from its ``config.json`` quantization section.
    """
    files = [e for e in entries if e.type == "file"]
    groups: dict[str, _Group] = {}
    projectors: dict[str, int] = {}
    safetensors_bytes = 0
    for entry in files:
        name = entry.path.rsplit("/", 1)[-1].lower()
        if name.endswith(".gguf"):
            qtype = gguf_quant_type(entry.path) or "unknown"
            if "mmproj" in name:
                projectors[qtype] = projectors.get(qtype, 0) + entry.size_bytes
                continue
            if qtype == "unknown":
                continue
            group = groups.setdefault(qtype, _Group())
            group.size_bytes += entry.size_bytes
            group.files += 1
        elif name.endswith(".safetensors") and "/" not in entry.path.strip("/"):
            safetensors_bytes += entry.size_bytes
        elif name.endswith(".safetensors"):
            # Sub-folders hold extras (original/, consolidated/ checkpoints); count only the top level.
            continue
    src = [source or f"{HF_BASE_URL}/api/models/{repo}/tree/main?recursive=true"]
    quants = []
    for qtype, group in sorted(groups.items()):
        base_type = qtype.removeprefix("UD-")
        bpw = (group.size_bytes * 8 / params_total) if params_total else _NOMINAL_BPW.get(base_type)
        if not bpw:
            continue
        quants.append(Quant(name=qtype, format="gguf", bits_per_weight=round(bpw, 3),
                            file_size_bytes=group.size_bytes, repo=repo, runtimes=["llama.cpp"], sources=src))
    if safetensors_bytes and not groups:
        quant = _safetensors_quant(repo, safetensors_bytes, params_total, config or {}, src)
        if quant is not None:
            quants.append(quant)
    projector = None
    if projectors:
        # llama.cpp loads one projector; F16 is the usual default, else take the smallest offered.
        projector = projectors.get("F16") or projectors.get("BF16") or min(projectors.values())
    return quants, projector


def _safetensors_quant(repo: str, size_bytes: int, params_total: int | None, config: dict,
                       src: list[str]) -> Quant | None:
    cfg = flatten_config(config) if config else {}
    qc = config.get("quantization_config") or cfg.get("quantization_config") or {}
    mlx = config.get("quantization") if isinstance(config.get("quantization"), dict) else None
    method = str(qc.get("quant_method", "")).lower() if isinstance(qc, dict) else ""
    bits = qc.get("bits") if isinstance(qc, dict) else None
    if mlx is not None:
        name, fmt, runtimes = f"MLX-{mlx.get('bits', 4)}bit", "mlx", ["mlx"]
    elif method == "fp8" or (method == "compressed-tensors" and "fp8" in str(qc).lower()):
        name, fmt, runtimes = "FP8", "fp8", ["vllm"]
    elif method == "mxfp4":
        name, fmt, runtimes = "MXFP4", "mxfp4", ["vllm"]
    elif "nvfp4" in str(qc).lower() or method == "modelopt":
        name, fmt, runtimes = "NVFP4", "nvfp4", ["vllm"]
    elif method == "awq":
        name, fmt, runtimes = f"AWQ-INT{bits or 4}", "awq", ["vllm"]
    elif method == "gptq":
        name, fmt, runtimes = f"GPTQ-INT{bits or 4}", "gptq", ["vllm"]
    elif method in ("", "none"):
        dtype = str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16").lower()
        name = "F16" if dtype == "float16" else "F32" if dtype == "float32" else "BF16"
        fmt, runtimes = "safetensors", ["vllm"]
    else:
        return None  # bitsandbytes and friends: not something the estimator models
    if params_total:
        bpw = size_bytes * 8 / params_total
    else:
        bpw = {"BF16": 16.0, "F16": 16.0, "F32": 32.0, "FP8": 8.0, "MXFP4": 4.25, "NVFP4": 4.5}.get(name)
        if bpw is None:
            bpw = float(bits or 4) + 0.25
    return Quant(name=name, format=fmt, bits_per_weight=round(bpw, 3), file_size_bytes=size_bytes,
                 repo=repo, runtimes=runtimes, sources=src)


def params_from_safetensors(entries: list[TreeEntry], config: dict) -> int | None:
    """Parameter count from unquantized safetensors bytes and the config's dtype; None when quantized."""
    if config.get("quantization_config"):
        return None
    cfg = flatten_config(config)
    width = _DTYPE_BYTES.get(str(cfg.get("torch_dtype") or cfg.get("dtype") or "").lower())
    total = sum(e.size_bytes for e in entries if e.type == "file" and e.path.endswith(".safetensors")
                and "/" not in e.path)
    return total // width if width and total else None


# --------------------------------------------------------------------------------------------- assembly

def describe_repo(client: HubClient, repo: str, *, include_children: bool = True,
                  max_children: int = MAX_CHILDREN, log: Callable[[str], None] | None = None) -> Model:
    """A full ``Model`` for ``repo``: architecture, its own weights, and quants from its quantized children.

    Raises ``HttpStatusError`` (e.g. 404 for an unknown repo, 401/403 for a gated one), ``NetworkError``,
    ``FeedInvalid`` for payloads that are not what the Hub sends.
    """
    try:
        config = client.config(repo)
    except HttpStatusError as exc:
        if exc.status in (401, 403):
            raise HttpStatusError(
                f"{repo} is gated or private on Hugging Face (HTTP {exc.status}); accept its license there "
                f"and set HF_TOKEN", exc.status) from None
        raise
    try:
        info = client.info(repo)
    except HttpStatusError as exc:
        if exc.status != 404:
            raise
        info = None
    tree = client.tree(repo)
    params_total = (info.safetensors.total if info and info.safetensors and info.safetensors.total
                    else params_from_safetensors(tree, config))
    model = model_from_config(repo, config, info=info, params_total=params_total,
                              source=f"{client.base_url}/{repo}/blob/main/config.json")
    quants, projector = quants_from_tree(repo, tree, params_total, config=config,
                                         source=f"{client.base_url}/api/models/{repo}/tree/main")
    if include_children:
        seen = {q.name for q in quants}
        for child in client.quantized_children(repo, limit=max_children):
            try:
                child_tree = client.tree(child.id)
                needs_config = not any(e.path.lower().endswith(".gguf") for e in child_tree)
                child_config = client.config(child.id) if needs_config else None
            except (HttpStatusError, FeedInvalid) as exc:
                if log:
                    log(f"skipped {child.id}: {exc}")
                continue
            child_quants, child_projector = quants_from_tree(
                child.id, child_tree, params_total, config=child_config,
                source=f"{client.base_url}/api/models/{child.id}/tree/main")
            projector = projector or child_projector
            for quant in child_quants:
                if quant.name not in seen:  # the most downloaded repo offering a type wins
                    seen.add(quant.name)
                    quants.append(quant)
    quants.sort(key=lambda q: (-q.bits_per_weight, q.name))
    return msgspec.structs.replace(model, quants=quants, vision_projector_bytes=projector)


def parse_model_ref(ref: str) -> str:
    """``hf:ORG/REPO`` or ``ORG/REPO`` -> ``ORG/REPO``. Raises ``InvalidRepoId`` with the expected form."""
    repo = ref.strip()
    if repo.lower().startswith("hf:"):
        repo = repo[3:]
    repo = repo.strip("/")
    if not REPO_ID_RE.match(repo) or ".." in repo:
        raise InvalidRepoId(f"{ref!r} is not a Hugging Face model id; expected hf:ORG/REPO")
    return repo


def default_base_url() -> str:
    """``HF_ENDPOINT`` (huggingface_hub's variable for mirrors) or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or HF_BASE_URL).rstrip("/")


def model_cache_path(repo: str) -> Path:
    return paths.cache_dir() / "models" / (repo.replace("/", "--") + ".json")


def fetch_model(ref: str, session: requests.Session | None = None, base_url: str | None = None, *,
                refresh: bool = False, include_children: bool = True,
                sleep: Callable[[float], None] = time.sleep) -> Model:
    """One model that is not in the catalog, from the Hub (config + files + quantized children).

    ``base_url`` defaults to ``HF_ENDPOINT`` or huggingface.co; ``HF_TOKEN`` is sent when set (gated repos).
    Cached in ``<cache>/models/ORG--REPO.json``; the cached copy is used unless ``refresh``.
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
    client = HubClient(base_url=base_url or default_base_url(), session=session or new_session(), sleep=sleep,
                       token=os.environ.get("HF_TOKEN") or None)
    model = describe_repo(client, repo, include_children=include_children)
    try:
        atomic_write(path, msgspec.json.encode(model))
    except OSError:
        pass  # caching is an optimisation; the fetched model is still returned
    return model
