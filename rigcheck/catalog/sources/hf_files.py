"""Quants from a Hugging Face repo's file list: GGUF types and shards, safetensors kinds, real sizes.

GGUF shards ``-0000k-of-0000n`` are summed per quant type and ``mmproj`` files kept apart (the vision projector).
A repo of safetensors files becomes one quant whose kind (BF16, FP8, AWQ, GPTQ, MLX, NVFP4, MXFP4) comes from its
``config.json``; only the files its ``model.safetensors.index.json`` names are counted, so a repo that also ships
``consolidated.safetensors`` (the Mistral layout) is not counted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec

from rigcheck.catalog.records import Quant
from rigcheck.catalog.sources.hf_config import HF_BASE_URL, flatten_config

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

class _Lfs(msgspec.Struct):
    size: int


class TreeEntry(msgspec.Struct):
    """One file of a repo: ``{"type": "file", "path": ..., "size": ..., "lfs": {"size": ...}}``."""

    type: str
    path: str
    size: int = 0
    lfs: _Lfs | None = None

    @property
    def size_bytes(self) -> int:
        # For LFS files ``size`` is the real size too on today's API; ``lfs.size`` is authoritative.
        return self.lfs.size if self.lfs is not None else self.size


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
                     config: dict | None = None, source: str | None = None,
                     indexed_files: set[str] | None = None) -> tuple[list[Quant], int | None]:
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
            if counts_as_weights(entry.path, files, indexed_files):
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
        quant = safetensors_quant(repo, safetensors_bytes, params_total, config or {}, src)
        if quant is not None:
            quants.append(quant)
    projector = None
    if projectors:
        # llama.cpp loads one projector; F16 is the usual default, else take the smallest offered.
        projector = projectors.get("F16") or projectors.get("BF16") or min(projectors.values())
    return quants, projector


def safetensors_quant(repo: str, size_bytes: int, params_total: int | None, config: dict,
                      src: list[str]) -> Quant | None:
    """The one quant a repo of safetensors weights holds, its kind from ``config.json``; None for a kind the
    estimator does not model (bitsandbytes and friends)."""
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


def counts_as_weights(path: str, files: list[TreeEntry], indexed_files: set[str] | None) -> bool:
    """Whether a top-level safetensors file is part of the weights: named by the index when there is one;
    without the index, ``consolidated*.safetensors`` beside other safetensors files is the same weights again."""
    if indexed_files:
        return path in indexed_files
    if path.startswith("consolidated"):
        return not any(e.path.endswith(".safetensors") and "/" not in e.path and not e.path.startswith("consolidated")
                       for e in files)
    return True


def params_from_safetensors(entries: list[TreeEntry], config: dict,
                            indexed_files: set[str] | None = None) -> int | None:
    """Parameter count from unquantized safetensors bytes and the config's dtype; None when quantized."""
    if config.get("quantization_config"):
        return None
    cfg = flatten_config(config)
    width = _DTYPE_BYTES.get(str(cfg.get("torch_dtype") or cfg.get("dtype") or "").lower())
    files = [e for e in entries if e.type == "file"]
    total = sum(e.size_bytes for e in files if e.path.endswith(".safetensors") and "/" not in e.path
                and counts_as_weights(e.path, files, indexed_files))
    return total // width if width and total else None
