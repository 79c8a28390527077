"""What one model file is: the facts its GGUF header or config.json gives, as a plain summary that can be cached.

``gguf_summary`` and ``safetensors_summary`` read a model's own description (names, architecture, quant,
parameter count, the broken-file problem if any) into a small dict of JSON types; ``matching.py`` turns
a summary into catalog terms. Reading is the only costly step of a scan, so a summary is what the scan
caches per file (keyed by path, size and modification time).
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from rigcheck.catalog.installed.gguf_header import GgufError, SkippedArray, describe_problem, read_header
from rigcheck.probe.files import read_json

SUMMARY_VERSION = 1

QUANT_NAME = re.compile(
    r"(?<![A-Za-z0-9])(UD-)?(IQ[1-4]_(?:XXS|XS|S|M|NL)|Q[2-8]_K(?:_[SMLX]{1,2})?|Q[4-8]_[01]|Q8_0|TQ[12]_0|"
    r"BF16|F16|F32|FP16|MXFP4|NVFP4)(?![A-Za-z0-9])", re.IGNORECASE)
"""A quant name in a file name or tag: Q4_K_M, IQ2_XXS, UD-Q2_K_XL, Q8_0, BF16, MXFP4 (case as found)."""

_FACT_KEYS = {
    "layers": "{arch}.block_count",
    "hidden_size": "{arch}.embedding_length",
    "heads": "{arch}.attention.head_count",
    "kv_heads": "{arch}.attention.head_count_kv",
    "head_dim": "{arch}.attention.key_length",
    "context_tokens": "{arch}.context_length",
    "experts": "{arch}.expert_count",
    "experts_used": "{arch}.expert_used_count",
    "shared_experts": "{arch}.expert_shared_count",
    "kv_lora_rank": "{arch}.attention.kv_lora_rank",
    "rope_dim": "{arch}.rope.dimension_count",
    "sliding_window": "{arch}.attention.sliding_window",
    "vocab_size": "{arch}.vocab_size",
}


def quant_from_name(name: str) -> str | None:
    """The quant a file name or tag spells ("...-Q4_K_M.gguf" -> "Q4_K_M"), upper case; None if none."""
    found = QUANT_NAME.findall(name)
    if not found:
        return None
    prefix, quant = found[-1]
    return (prefix + quant).upper().replace("FP16", "F16")


def _dominant_type(elements_by_type: dict[str, int]) -> str | None:
    """The GGML type holding most weights, when it is a quantized one ("Q4_K" is not a file quant name:
    the file's own file_type or name says K_S/K_M; this is the last resort)."""
    if not elements_by_type:
        return None
    name, _ = max(elements_by_type.items(), key=lambda item: item[1])
    return name


def gguf_summary(paths: list[Path], sizes: list[int] | None = None) -> dict[str, object]:
    """The summary of a GGUF model from its header(s): every shard's tensor table counts. Never raises:
    an unreadable or broken file gives a summary with ``problem``."""
    summary: dict[str, object] = {"version": SUMMARY_VERSION, "problem": None}
    params = expert_params = 0
    problems: list[str] = []
    header0 = None
    for i, path in enumerate(paths):
        try:
            header = read_header(path)
        except GgufError as exc:
            problems.append(f"{path.name}: {exc}" if len(paths) > 1 else str(exc))
            continue
        except OSError as exc:
            problems.append(f"cannot read {path.name}: {exc.strerror or exc}")
            continue
        if i == 0:
            header0 = header
        params += header.params
        expert_params += header.expert_params
        problem = describe_problem(header)
        if problem:
            problems.append(f"{path.name}: {problem}" if len(paths) > 1 else problem)
    if problems:
        summary["problem"] = "; ".join(problems)
    if header0 is None:
        return summary
    h = header0
    tokens = h.get("tokenizer.ggml.tokens")
    facts = {name: _int_or_max(h.get(key)) for name, key in _FACT_KEYS.items()}
    if facts.get("vocab_size") is None:
        if isinstance(tokens, SkippedArray):
            facts["vocab_size"] = tokens.length
        elif isinstance(tokens, list):
            facts["vocab_size"] = len(tokens)
    base_repo = h.get_str("general.base_model.0.repo_url") or ""
    m = re.search(r"huggingface\.co/([^/\s]+/[^/\s?#]+)", base_repo)
    summary.update({
        "format": "gguf",
        "architecture": h.architecture,
        "name": h.get_str("general.name"),
        "basename": h.get_str("general.basename"),
        "size_label": h.get_str("general.size_label"),
        "finetune": h.get_str("general.finetune"),
        "base_model": m.group(1) if m else h.get_str("general.base_model.0.name"),
        "file_type": h.file_type,
        "dominant_type": _dominant_type(h.elements_by_type),
        "params": params,
        "expert_params": expert_params,
        "split_count": h.get_int("split.count"),
        "facts": {k: v for k, v in facts.items() if v is not None},
        "projector": h.architecture == "clip",
    })
    return summary


def _int_or_max(value: object) -> int | None:
    """A header number; per-layer arrays (head counts that vary by layer) give their largest entry."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        return int(max(value))
    return None


_CONFIG_FACTS = {
    "layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "heads": ("num_attention_heads", "n_head"),
    "kv_heads": ("num_key_value_heads",),
    "head_dim": ("head_dim",),
    "context_tokens": ("max_position_embeddings", "max_sequence_length"),
    "experts": ("num_local_experts", "num_experts", "n_routed_experts"),
    "experts_used": ("num_experts_per_tok",),
    "shared_experts": ("n_shared_experts",),
    "kv_lora_rank": ("kv_lora_rank",),
    "rope_dim": ("qk_rope_head_dim",),
    "sliding_window": ("sliding_window",),
    "vocab_size": ("vocab_size",),
}


def safetensors_summary(folder: Path, files: list[Path], sizes: list[int]) -> dict[str, object]:
    """The summary of a safetensors model folder from its ``config.json`` (the text part of a multimodal
    config too) and the safetensors headers' tensor shapes. Never raises."""
    summary: dict[str, object] = {"version": SUMMARY_VERSION, "problem": None, "format": "safetensors"}
    try:
        config = read_json(folder / "config.json", 16 * 1024 * 1024, "config.json")
        if not isinstance(config, dict):
            raise ValueError
    except (OSError, UnicodeDecodeError, ValueError):
        summary["problem"] = "config.json is missing or not valid JSON"
        return summary
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    merged = {**config, **text}
    facts: dict[str, int] = {}
    for name, keys in _CONFIG_FACTS.items():
        for key in keys:
            value = merged.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                facts[name] = value
                break
    quant, fmt, bits = _config_quant(config)
    params, problem = _safetensors_params(files)
    total = sum(sizes)
    if quant.startswith("MLX") or fmt in ("awq", "gptq", "nvfp4", "mxfp4") or not params:
        params = int(total * 8 / bits) if bits else 0  # packed integer weights: the shapes are not the count
    archs = config.get("architectures")
    summary.update({
        "format": fmt,
        "architecture": merged.get("model_type") if isinstance(merged.get("model_type"), str) else None,
        "name": archs[0] if isinstance(archs, list) and archs and isinstance(archs[0], str) else None,
        "file_type": quant,
        "params": params,
        "expert_params": 0,
        "facts": facts,
        "problem": problem,
        "projector": False,
    })
    return summary


def _config_quant(config: dict) -> tuple[str, str, float]:
    """(quant name, catalog format, bits per weight) from a config.json."""
    mlx = config.get("quantization")
    if isinstance(mlx, dict) and isinstance(mlx.get("bits"), int):
        bits = mlx["bits"]
        return f"MLX-{bits}bit", "mlx", bits + 0.5  # a 16-bit scale and bias per group of 64
    qc = config.get("quantization_config")
    if isinstance(qc, dict):
        method = str(qc.get("quant_method") or "").lower()
        if method == "fp8":
            return "FP8", "fp8", 8.0
        if method == "awq":
            return "AWQ-INT4", "awq", 4.25
        if method == "gptq":
            return "GPTQ-INT4", "gptq", 4.25
        if method == "mxfp4":
            return "MXFP4", "mxfp4", 4.25
        if method in ("modelopt", "modelopt_fp4") or "nvfp4" in json.dumps(qc).lower():
            return "NVFP4", "nvfp4", 4.5
        if method == "compressed-tensors":
            text = json.dumps(qc).lower()
            if '"num_bits": 8' in text and '"type": "float"' in text:
                return "FP8", "fp8", 8.0
            if '"num_bits": 4' in text:
                return "AWQ-INT4", "awq", 4.25
    dtype = str(config.get("torch_dtype") or config.get("dtype") or "bfloat16").lower()
    if dtype in ("float16", "fp16", "half"):
        return "F16", "safetensors", 16.0
    if dtype in ("float32", "fp32"):
        return "F32", "safetensors", 32.0
    return "BF16", "safetensors", 16.0


def _safetensors_params(files: list[Path]) -> tuple[int, str | None]:
    """Elements over every tensor of the safetensors files (each file's JSON header: 8-byte length, then
    the header), and a problem sentence for a file that is cut short or not safetensors."""
    total = 0
    for path in files:
        try:
            with open(path, "rb") as handle:
                head = handle.read(8)
                if len(head) < 8:
                    return total, f"{path.name}: not a safetensors file (shorter than its header)"
                length = struct.unpack("<Q", head)[0]
                if length > 100 * 1024 * 1024:
                    return total, f"{path.name}: corrupt safetensors header ({length:,} bytes claimed)"
                header = json.loads(handle.read(length))
                size = path.stat().st_size
        except (OSError, ValueError, UnicodeDecodeError):
            return total, f"{path.name}: not a readable safetensors file"
        end = 0
        for name, info in header.items():
            if name == "__metadata__" or not isinstance(info, dict):
                continue
            shape = info.get("shape") or []
            count = 1
            for d in shape:
                count *= int(d)
            total += count
            offsets = info.get("data_offsets") or [0, 0]
            end = max(end, int(offsets[1]))
        if size < 8 + length + end:
            return total, f"{path.name}: cut short ({size:,} of {8 + length + end:,} bytes)"
    return total, None
