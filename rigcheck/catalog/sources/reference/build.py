"""Builder of the embedded catalog from the sourced reference CSVs and rigcheck's own supplement files.

    python -m rigcheck.catalog.sources.reference [--reference DIR] [--output FILE] [--generated-at ISO]

Inputs: ``/work/shared/reference/*.csv`` (or ``--reference``/``RIGCHECK_REFERENCE_DIR``): models, devices,
scores, hosted prices, GPU rentals, each row with its ``source``; and ``rigcheck/catalog/data/supplement/*.csv``:
facts the reference lacks (GLM-5.2, real quant file sizes, essay scores, device tensor rates and prices in
device_overrides.csv, providers' data-handling policies in provider_policies.csv), each row with its source too.
Output: ``rigcheck/catalog/data/catalog.json`` (committed; the wheel ships it).

Nothing here is invented. A value with no source stays empty. Values rigcheck derives (full-attention layer
counts from a pattern sentence, use cases from names, quant sizes from parameters x bits per weight, Apple
variants split by GPU-core count) are computed by the rules below and say so in the record's sources.

Units: the CSVs' ``memory_gb`` for VRAM and unified memory is the marketing "GB", which is GiB
(a "24 GB" card has 24 x 2^30 bytes); ``bandwidth_gb_s`` is decimal (1 GB/s = 1e9 bytes/s).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from rigcheck.catalog.records import (
    SCHEMA_VERSION,
    Catalog,
    ClosedModel,
    Device,
    HostedOffer,
    Model,
    Quant,
    RentalOffer,
    Score,
    decode_catalog,
    encode_catalog,
)

DEFAULT_REFERENCE_DIR = Path("/work/shared/reference")
DATA_DIR = Path(__file__).resolve().parents[2] / "data"
SUPPLEMENT_DIR = DATA_DIR / "supplement"
OUTPUT_PATH = DATA_DIR / "catalog.json"

GIB = 2**30
GB = 10**9

DERIVED = "derived by rigcheck (sources/reference.py)"
LLAMA_CPP_QUANTIZE = (
    "llama.cpp tools/quantize/README.md (BPW of the K-quant mixes, measured on Llama 2 7B) and "
    "tools/quantize/quantize.cpp (IQ type descriptions)"
)


class BuildError(Exception):
    """The reference or supplement files cannot be turned into a catalog; one sentence says why."""


# ---------------------------------------------------------------------------------------------------------
# CSV reading


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise BuildError(f"{path} is missing")
    rows = []
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                if None in row:  # csv puts surplus fields under the key None
                    raise BuildError(f"{path.name} line {reader.line_num}: more fields than the header "
                                     "(quote cells that contain commas)")
                rows.append({k: (v or "").strip() for k, v in row.items()})
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BuildError(f"{path.name} cannot be read: {exc}") from None
    return rows


def _float(value: str) -> float | None:
    value = value.replace(",", "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    number = _float(value)
    return int(round(number)) if number is not None else None


def _bool(value: str) -> bool | None:
    value = value.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    return None


def _sources(cell: str) -> list[str]:
    # The source column is kept verbatim: one entry, never split (URLs and commas mix inside it).
    return [cell] if cell else []


# ---------------------------------------------------------------------------------------------------------
# Models


@dataclass(frozen=True)
class _Pattern:
    full_attention_layers: int | None
    global_kv_heads: int | None = None
    global_head_dim: int | None = None
    rule: str | None = None


def parse_layer_pattern(pattern: str, num_layers: int | None) -> _Pattern:
    """How many layers hold a full-length KV cache, from the reference's pattern sentence.

    Returns ``full_attention_layers=None`` when the sentence gives no ratio or count (we never guess).
    Ratios that do not divide the layer count round up: one extra full layer over-counts the KV cache
    slightly, which is the safe side for a "does it fit" answer.
    """
    text = pattern.lower()
    global_kv = global_dim = None
    m = re.search(r"global layers?:\s*(\d+)\s*kv heads?", text)
    if m:
        global_kv = int(m.group(1))
    m = re.search(r"global head_dim\s*(\d+)|head_dim\s*(\d+)", text.split("global", 1)[1] if "global" in text else "")
    if m:
        global_dim = int(m.group(1) or m.group(2))
    if not text or num_layers is None:
        return _Pattern(None, global_kv, global_dim)

    m = re.search(r"(\d+)\s+attention layers", text)
    if m:  # Nemotron 3 Nano: "23 Mamba-2 + 23 MoE + 6 attention layers"
        return _Pattern(int(m.group(1)), global_kv, global_dim, "count stated in the pattern")
    m = re.search(r"cycle of (\d+):\s*(\d+)[^+]*\+\s*(\d+)", text)
    if m:  # "cycle of 4: 3 Gated DeltaNet + 1 full attention"
        cycle, full = int(m.group(1)), int(m.group(3))
        return _Pattern(math.ceil(num_layers * full / cycle), global_kv, global_dim, f"{full} in every {cycle} layers")
    m = re.search(r"(\d+)\s+gated deltanet\s*:\s*(\d+)\s+full", text)
    if m:  # "3 Gated DeltaNet : 1 full attention"
        linear, full = int(m.group(1)), int(m.group(2))
        cycle = linear + full
        return _Pattern(math.ceil(num_layers * full / cycle), global_kv, global_dim, f"{full} in every {cycle} layers")
    m = re.search(r"alternating\s+(\d+)[^:]*:\s*(\d+)", text)
    if m:  # "alternating 1 sliding (128) : 1 full attention"
        local, full = int(m.group(1)), int(m.group(2))
        cycle = local + full
        return _Pattern(math.ceil(num_layers * full / cycle), global_kv, global_dim, f"{full} in every {cycle} layers")
    m = re.search(r"(\d+)\s+local sliding[^:]*:\s*(\d+)\s+global", text)
    if m:  # Gemma: "5 local sliding : 1 global"
        local, full = int(m.group(1)), int(m.group(2))
        cycle = local + full
        return _Pattern(math.ceil(num_layers * full / cycle), global_kv, global_dim, f"{full} in every {cycle} layers")
    m = re.search(r"every (\d+)(?:st|nd|rd|th) layer global", text)
    if m:  # Llama 4: "every 4th layer global NoPE attention"
        every = int(m.group(1))
        return _Pattern(num_layers // every, global_kv, global_dim, f"every {every}th layer global")
    return _Pattern(None, global_kv, global_dim)


def gdn_state_bytes(notes: str) -> int | None:
    """Recurrent state of one Gated DeltaNet layer, from "GDN 16 key heads/32 value heads, head dim 128".

    State per sequence = value heads x head_dim x head_dim values (a head_dim x head_dim matrix per value
    head), stored as 2-byte values. The short convolution state is not counted: its kernel width is not in
    the reference, and it is a few percent of the matrix state. Returns None when the notes lack the dims.
    """
    m = re.search(r"gdn[^;]*?(\d+)\s*value heads,\s*head dim\s*(\d+)", notes.lower())
    if not m:
        return None
    value_heads, head_dim = int(m.group(1)), int(m.group(2))
    return value_heads * head_dim * head_dim * 2


_BASE_IDS = {
    # Pretrained (base) checkpoints: not chat models.
    "meta-llama/Llama-2-7b-hf",
    "meta-llama/Llama-2-13b-hf",
    "meta-llama/Llama-2-70b-hf",
    "meta-llama/Meta-Llama-3-8B",
    "meta-llama/Meta-Llama-3-70B",
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B",
    "meta-llama/Llama-3.1-405B",
    "tiiuae/falcon-7b",
    "tiiuae/falcon-40b",
    "tiiuae/falcon-180B",
    "allenai/Olmo-3-1125-32B",
}


def derive_use_cases(model_id: str, family: str, notes: str, params_total_b: float | None,
                     max_context: int | None) -> list[str]:
    """Use cases from the model's id, family and notes (rules, not a benchmark); labelled derived."""
    name = model_id.split("/", 1)[-1].lower()
    text = f"{name} {family.lower()}"
    uses: list[str] = []
    if model_id not in _BASE_IDS:
        uses.append("chat")
    if "coder" in text or "codestral" in text:
        uses.append("code")
    reasoning_markers = ("-r1", "r1-", "qwq", "thinking", "gpt-oss", "glm-4.5", "glm-4.6", "glm-4.7", "glm-5",
                         "qwen3", "minimax-m2", "deepseek-v3.1", "deepseek-v3.2", "deepseek-v4", "nemotron")
    # Qwen3 "-Instruct" checkpoints (Coder, Next, 2507) are the non-thinking variants.
    qwen_instruct = "qwen3" in text and "instruct" in name
    if any(marker in text for marker in reasoning_markers) and not qwen_instruct:
        uses.append("reasoning")
    agentic_markers = ("kimi-k2", "glm-4.5", "glm-4.6", "glm-4.7", "glm-5", "minimax-m2", "qwen3-coder")
    if any(marker in text for marker in agentic_markers):
        uses.append("agentic")
    # Only explicit statements count: llmfit's generic "(may include vision tower / MTP layers)" does not.
    if re.search(r"vision-language|multimodal|siglip", notes.lower()) and not name.startswith("gemma-3-1b"):
        uses.append("vision")
    if max_context is not None and max_context >= 200_000:
        uses.append("long-context")
    if params_total_b is not None and params_total_b <= 4.0:
        uses.append("small")
    return uses


_FLOAT_FIELDS = {"params_total_b", "params_active_b"}
_TEXT_FIELDS = {"license", "release_date"}
_BOOL_FIELDS = {"tie_word_embeddings"}


def _override_value(model_id: str, field: str, raw: str) -> object:
    """An override cell converted to the field's type; BuildError when it does not read as one."""
    if field in _TEXT_FIELDS:
        return raw or None
    if field in _BOOL_FIELDS:
        value = _bool(raw)
    elif field in _FLOAT_FIELDS:
        value = _float(raw)
    else:
        number = _float(raw)
        value = int(number) if number is not None and number == int(number) else None
    if value is None:
        raise BuildError(f"model_overrides.csv: {model_id} {field} = {raw!r} is not a valid value")
    return value


def _model_from_row(row: dict[str, str], overrides: dict[str, list[dict[str, str]]]) -> Model:
    model_id = row["id"]
    sources = _sources(row.get("source", ""))
    notes_parts = [row["notes"]] if row.get("notes") else []
    values: dict[str, object] = {
        "params_total_b": _float(row.get("params_total_b", "")),
        "params_active_b": _float(row.get("params_active_b", "")),
        "num_layers": _int(row.get("num_hidden_layers", "")),
        "hidden_size": _int(row.get("hidden_size", "")),
        "num_attention_heads": _int(row.get("num_attention_heads", "")),
        "num_kv_heads": _int(row.get("num_key_value_heads", "")),
        "head_dim": _int(row.get("head_dim", "")),
        "vocab_size": _int(row.get("vocab_size", "")),
        "max_context_tokens": _int(row.get("max_context", "")),
        "tie_word_embeddings": _bool(row.get("tie_word_embeddings", "")),
        "moe_num_experts": _int(row.get("moe_num_experts", "")),
        "moe_experts_per_token": _int(row.get("moe_experts_per_token", "")),
        "moe_shared_experts": _int(row.get("moe_shared_experts", "")),
        "moe_intermediate_size": _int(row.get("moe_intermediate_size", "")),
        "first_dense_layers": _int(row.get("first_dense_layers", "")),
        "mla_kv_lora_rank": _int(row.get("mla_kv_lora_rank", "")),
        "mla_qk_rope_head_dim": _int(row.get("mla_qk_rope_head_dim", "")),
        "sliding_window_tokens": _int(row.get("sliding_window", "")),
        "license": row.get("license") or None,
        "release_date": row.get("release_date") or None,
    }
    for override in overrides.get(model_id, []):
        field = override["field"]
        if field not in values:
            raise BuildError(f"model_overrides.csv: unknown field {field!r} for {model_id}")
        values[field] = _override_value(model_id, field, override["value"])
        sources.append(f"{field}: {override['source']}")
        if override.get("note"):
            notes_parts.append(f"{field}: {override['note']}")

    if values["params_active_b"] is None and values["params_total_b"] is not None and not values["moe_num_experts"]:
        # The reference's convention: for dense models active = total.
        values["params_active_b"] = values["params_total_b"]
        sources.append("params_active_b: dense model, equal to params_total_b (reference README convention)")

    attention = row.get("attention_kind") or None
    if attention not in (None, "gqa", "mha", "mla", "swa-mixed", "hybrid-linear"):
        raise BuildError(f"models.csv: {model_id} has unknown attention_kind {attention!r}")
    pattern_text = row.get("full_attention_every_n_layers_or_layer_pattern", "")
    pattern = parse_layer_pattern(pattern_text, values["num_layers"])  # type: ignore[arg-type]
    full_layers = pattern.full_attention_layers
    if attention in ("swa-mixed", "hybrid-linear"):
        if full_layers is not None:
            sources.append(f"full_attention_layers: {DERIVED} from the pattern '{pattern_text}' ({pattern.rule})")
        else:
            notes_parts.append("full_attention_layers unknown: the reference gives no layer ratio or count")
    else:
        full_layers = None

    linear_state = None
    if attention == "hybrid-linear":
        linear_state = gdn_state_bytes(pattern_text)
        if linear_state is not None:
            sources.append(f"linear_state_bytes_per_layer: {DERIVED} = value heads x head_dim^2 x 2 bytes "
                           "from the pattern; convolution state not counted")
        else:
            notes_parts.append("linear_state_bytes_per_layer unknown: linear-layer head dims not in the reference")

    family = row.get("family") or model_id.split("/", 1)[0]
    use_cases = derive_use_cases(model_id, family, row.get("notes", ""), values["params_total_b"],  # type: ignore[arg-type]
                                 values["max_context_tokens"])  # type: ignore[arg-type]
    sources.append(f"use_cases: {DERIVED} from the model's name, family and notes")
    name = model_id.split("/", 1)[-1]
    return Model(
        id=model_id,
        family=family,
        name=name,
        attention=attention,  # type: ignore[arg-type]
        full_attention_layers=full_layers,
        global_kv_heads=pattern.global_kv_heads,
        global_head_dim=pattern.global_head_dim,
        linear_state_bytes_per_layer=linear_state,
        use_cases=use_cases,
        sources=sources,
        notes="; ".join(notes_parts) or None,
        **values,  # type: ignore[arg-type]
    )


_VARIANT_RESET = ("release_date", "license", "max_context_tokens")


def _variant(row: dict[str, str], models: dict[str, Model]) -> Model:
    """A checkpoint whose architecture a source says equals another row's (an Instruct of a base model).

    Architecture fields are copied from the base; release date, licence and context come only from the
    variant row (left empty when it has none), and use cases are derived afresh from the variant's own id.
    """
    base = models.get(row["base_id"])
    if base is None:
        raise BuildError(f"variants.csv: {row['id']} names unknown base {row['base_id']!r}")
    if row["id"] in models:
        raise BuildError(f"variants.csv: {row['id']} is already a model")
    cleared = {field: None for field in _VARIANT_RESET}
    variant = _replace(base, id=row["id"], name=row["id"].split("/", 1)[-1], family=row.get("family") or base.family,
                       aliases=[], quants=[], **cleared)
    variant = _replace(
        variant,
        release_date=row.get("release_date") or None,
        license=row.get("license") or None,
        max_context_tokens=_int(row.get("max_context", "")),
        use_cases=derive_use_cases(row["id"], variant.family, base.notes or "", base.params_total_b,
                                   _int(row.get("max_context", ""))),
        sources=[f"architecture: copied from {base.id}; {row['source']}",
                 *(f"{base.id}: {s}" for s in base.sources if not s.startswith("use_cases:")),
                 f"use_cases: {DERIVED} from the model's name, family and notes"],
        notes="; ".join(x for x in (row.get("note"), base.notes) if x) or None,
    )
    return variant


# ---------------------------------------------------------------------------------------------------------
# Quants


@dataclass(frozen=True)
class QuantType:
    name: str
    format: str
    bits_per_weight: float
    runtimes: tuple[str, ...]
    source: str


# Average stored bits per weight over a whole file. K-quant mixes (Q4_K_M ...) from llama.cpp's quantize
# README table (Llama 2 7B); single-type figures from the block layouts (Q8_0: 34 bytes per 32 weights).
GGUF_TYPES: dict[str, QuantType] = {
    q.name: q
    for q in (
        QuantType("F16", "gguf", 16.0, ("llama.cpp",), "16-bit weights"),
        QuantType("BF16", "gguf", 16.0, ("llama.cpp",), "16-bit weights"),
        QuantType("Q8_0", "gguf", 8.5, ("llama.cpp",), "llama.cpp ggml-common.h block_q8_0: 34 bytes per 32 weights"),
        QuantType("Q6_K", "gguf", 6.56, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q5_K_M", "gguf", 5.68, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q4_K_M", "gguf", 4.84, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("IQ4_XS", "gguf", 4.25, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q3_K_M", "gguf", 3.91, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("IQ3_XXS", "gguf", 3.06, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("Q2_K", "gguf", 3.35, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        QuantType("IQ2_XXS", "gguf", 2.06, ("llama.cpp",), LLAMA_CPP_QUANTIZE),
        # Unsloth dynamic quants: the averages unsloth states for DeepSeek-R1 (1.58/1.73/2.22/2.51 bit).
        QuantType("UD-IQ1_S", "gguf", 1.58, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
        QuantType("UD-IQ1_M", "gguf", 1.73, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
        QuantType("UD-IQ2_XXS", "gguf", 2.22, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
        QuantType("UD-Q2_K_XL", "gguf", 2.51, ("llama.cpp",), "https://unsloth.ai/blog/deepseekr1-dynamic"),
    )
}

OTHER_TYPES: dict[str, QuantType] = {
    q.name: q
    for q in (
        QuantType("BF16", "safetensors", 16.0, ("vllm",), "original 16-bit weights"),
        QuantType("FP8", "fp8", 8.0, ("vllm",), "8-bit float weights; per-block scales add well under 1%"),
        QuantType("AWQ-INT4", "awq", 4.25, ("vllm",), "4-bit integers + one 16-bit scale per group of 128 weights"),
        QuantType("GPTQ-INT4", "gptq", 4.25, ("vllm",), "4-bit integers + one 16-bit scale per group of 128 weights"),
        QuantType("MLX-4bit", "mlx", 4.5, ("mlx",), "mlx quantize default: group 64, 16-bit scale and bias per group"),
        QuantType("MLX-8bit", "mlx", 8.5, ("mlx",), "mlx quantize: group 64, 16-bit scale and bias per group"),
        QuantType("MXFP4", "mxfp4", 4.25, ("llama.cpp", "vllm"), "OCP MX FP4: 4-bit + one 8-bit scale per 32 weights"),
        QuantType("NVFP4", "nvfp4", 4.5, ("vllm",), "NVIDIA NVFP4: 4-bit + one FP8 scale per 16 weights"),
    )
}

STANDARD_GGUF = ("F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "IQ4_XS", "Q3_K_M", "IQ3_XXS", "Q2_K", "IQ2_XXS")
DYNAMIC_GGUF = ("UD-IQ1_S", "UD-IQ1_M", "UD-IQ2_XXS", "UD-Q2_K_XL")

# Which extra formats are published for which models: publisher conventions, matched on the repo id.
# Native FP8 checkpoints (the original weights are FP8, so there is no BF16 original to list).
NATIVE_FP8 = ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V4", "moonshotai/Kimi-K2",
              "MiniMaxAI/MiniMax-M2")
NATIVE_FP8_EXCLUDE = ("Distill",)
NATIVE_MXFP4 = ("openai/gpt-oss-",)
# Official FP8 repos next to BF16 (Qwen "-FP8", Z.ai "-FP8", Meta Llama 4 Maverick "-FP8").
FP8_REPOS = ("Qwen/Qwen3-", "Qwen/Qwen3.5-", "Qwen/Qwen3.6-", "zai-org/GLM-4.5", "zai-org/GLM-4.6", "zai-org/GLM-4.7",
             "zai-org/GLM-5", "meta-llama/Llama-4-Maverick")
AWQ_GPTQ_REPOS = ("Qwen/Qwen2.5-",)
AWQ_REPOS = ("Qwen/Qwen3-0.6B", "Qwen/Qwen3-1.7B", "Qwen/Qwen3-4B", "Qwen/Qwen3-8B", "Qwen/Qwen3-14B", "Qwen/Qwen3-32B")
NVFP4_REPOS = {
    "deepseek-ai/DeepSeek-R1": "nvidia/DeepSeek-R1-FP4",
    "deepseek-ai/DeepSeek-R1-0528": "nvidia/DeepSeek-R1-0528-FP4",
    "meta-llama/Llama-3.3-70B-Instruct": "nvidia/Llama-3.3-70B-Instruct-FP4",
}
DYNAMIC_GGUF_FAMILIES = ("deepseek-v3", "kimi-k2", "glm-4.5", "glm-4.6", "glm-4.7", "glm-5", "qwen3-moe", "qwen3.5",
                         "minimax-m2", "llama4")


def _is_big_moe(model: Model) -> bool:
    return bool(model.is_moe and model.params_total_b and model.params_total_b >= 100)


def quants_for(model: Model) -> list[Quant]:
    """The quants people download for this model (type rules; sizes estimated from bits per weight)."""
    mid = model.id
    names: list[tuple[str, QuantType]] = []
    native_fp8 = mid.startswith(NATIVE_FP8) and not any(x in mid for x in NATIVE_FP8_EXCLUDE)
    native_mxfp4 = mid.startswith(NATIVE_MXFP4)
    if native_mxfp4:
        names.append(("MXFP4", OTHER_TYPES["MXFP4"]))
    elif native_fp8:
        names.append(("FP8", OTHER_TYPES["FP8"]))
    else:
        names.append(("BF16", OTHER_TYPES["BF16"]))
        if mid.startswith(FP8_REPOS) and (model.params_total_b or 0) >= 0.5:
            names.append(("FP8", OTHER_TYPES["FP8"]))
    if mid.startswith(AWQ_GPTQ_REPOS) and "Instruct" in mid:
        names += [("AWQ-INT4", OTHER_TYPES["AWQ-INT4"]), ("GPTQ-INT4", OTHER_TYPES["GPTQ-INT4"])]
    elif mid in AWQ_REPOS:
        names.append(("AWQ-INT4", OTHER_TYPES["AWQ-INT4"]))
    if mid in NVFP4_REPOS:
        names.append(("NVFP4", OTHER_TYPES["NVFP4"]))
    # gpt-oss GGUFs keep the MXFP4 expert weights whatever the type name says (the "F16" GGUF of gpt-oss-20b
    # is 13.8 GB, not 42), so a bits-per-weight estimate would be badly wrong: list only sourced GGUF sizes.
    gguf = STANDARD_GGUF if not native_mxfp4 else ()
    names += [(n, GGUF_TYPES[n]) for n in gguf]
    if model.family in DYNAMIC_GGUF_FAMILIES and _is_big_moe(model):
        names += [(n, GGUF_TYPES[n]) for n in DYNAMIC_GGUF]
    names += [("MLX-4bit", OTHER_TYPES["MLX-4bit"]), ("MLX-8bit", OTHER_TYPES["MLX-8bit"])]

    quants = []
    for name, qtype in names:
        size = None
        if model.params_total_b:
            size = int(round(model.params_total_b * 1e9 * qtype.bits_per_weight / 8))
        sources = [f"bits_per_weight: {qtype.source}"]
        if size is not None:
            sources.append(f"file_size_bytes: {DERIVED} = params_total x bits_per_weight / 8 (estimate)")
        quants.append(Quant(
            name=name,
            format=qtype.format,  # type: ignore[arg-type]
            bits_per_weight=qtype.bits_per_weight,
            file_size_bytes=size,
            size_is_estimate=size is not None,
            repo=_repo_for(mid, qtype, native_fp8),
            runtimes=list(qtype.runtimes),  # type: ignore[arg-type]
            sources=sources + [f"availability: {DERIVED} from publisher conventions for this family"],
        ))
    return quants


def _repo_for(model_id: str, qtype: QuantType, native_fp8: bool) -> str | None:
    """The Hugging Face repo holding these weights, where the publisher's naming makes it certain enough:
    the original repo for native formats, the publisher's "-FP8" sibling, NVIDIA's NVFP4 repos. GGUF and MLX
    conversions come from several third parties, so no repo is named for them."""
    if qtype.format == "nvfp4":
        return NVFP4_REPOS.get(model_id)
    if qtype.format == "fp8":
        return model_id if native_fp8 else f"{model_id}-FP8"
    if qtype.format in ("safetensors", "mxfp4"):
        return model_id
    if qtype.format == "awq" and model_id.startswith("Qwen/"):
        return f"{model_id}-AWQ"
    if qtype.format == "gptq" and model_id.startswith("Qwen/"):
        return f"{model_id}-GPTQ-Int4"
    return None


def _apply_quant_files(models: dict[str, Model], rows: list[dict[str, str]]) -> None:
    """Replace estimated sizes by real ones from supplement/quant_files.csv (adding the quant if absent)."""
    for row in rows:
        model = models.get(row["model_id"])
        if model is None:
            raise BuildError(f"quant_files.csv: unknown model {row['model_id']!r}")
        size = _int(row["file_size_bytes"])
        if size is None:
            raise BuildError(f"quant_files.csv: {row['model_id']} {row['quant']} has no file_size_bytes")
        name = row["quant"]
        fmt = row["format"]
        known = GGUF_TYPES.get(name) if fmt == "gguf" else OTHER_TYPES.get(name)
        bpw = _float(row.get("bits_per_weight", ""))
        source_bpw = row["source"]
        if bpw is None and model.params_total_b:
            # Average bits per weight implied by the real size: what the estimator should use when the
            # file size is not at hand (e.g. per-layer splitting).
            bpw = round(size * 8 / (model.params_total_b * 1e9), 3)
            source_bpw = f"{DERIVED} = file size x 8 / params_total"
        if bpw is None and known is not None:
            bpw, source_bpw = known.bits_per_weight, known.source
        if bpw is None:
            raise BuildError(f"quant_files.csv: {row['model_id']} {name}: bits per weight unknown")
        runtimes = list(known.runtimes) if known else (["llama.cpp"] if fmt == "gguf" else ["vllm"])
        sources = [f"file_size_bytes: {row['source']}", f"bits_per_weight: {source_bpw}"]
        quant = Quant(name=name, format=fmt, bits_per_weight=bpw, file_size_bytes=size,  # type: ignore[arg-type]
                      size_is_estimate=False, repo=row.get("repo") or None, runtimes=runtimes,  # type: ignore[arg-type]
                      sources=sources + ([f"note: {row['note']}"] if row.get("note") else []))
        kept = [q for q in model.quants if not (q.name == name and q.format == fmt)]
        models[model.id] = _replace(model, quants=kept + [quant])
    for model_id in {row["model_id"] for row in rows}:
        models[model_id] = _drop_unpublished_estimates(models[model_id])


def _drop_unpublished_estimates(model: Model) -> Model:
    """Remove estimated GGUF quants smaller than the smallest GGUF whose real size is known.

    Where a source states the smallest quant anyone publishes (GLM-5.2: 217 GB), a plain-type estimate
    below it (IQ2_XXS at 2.06 bits would be 194 GB) describes a file that does not exist: the publishers'
    low-bit files keep attention and shared tensors at higher precision.
    """
    real = [q.file_size_bytes for q in model.quants
            if q.format == "gguf" and not q.size_is_estimate and q.file_size_bytes]
    if not real:
        return model
    floor = min(real)
    kept = [q for q in model.quants
            if not (q.format == "gguf" and q.size_is_estimate and q.file_size_bytes and q.file_size_bytes < floor)]
    return _replace(model, quants=kept)


def _replace(record, **changes):
    return msgspec.structs.replace(record, **changes)


# ---------------------------------------------------------------------------------------------------------
# Devices

_APPLE_VARIANTS = re.compile(r"GPU cores:\s*(\d+)\s+or\s+(\d+)")
_APPLE_CORES = re.compile(r"GPU cores:\s*(\d+)")


def _device_from_row(row: dict[str, str]) -> Device:
    vendor = row["vendor"]
    kind = row["kind"]
    memory_gib = _float(row.get("memory_gb", ""))
    bandwidth = _float(row.get("bandwidth_gb_s", ""))
    unified = vendor == "Apple" or kind == "apu"
    notes = row.get("notes") or ""
    cores = None
    if vendor == "Apple":
        m = _APPLE_CORES.search(notes)
        if m and not _APPLE_VARIANTS.search(notes):
            cores = int(m.group(1))
    aliases = [a for a in dict.fromkeys(x.strip() for x in row.get("aliases", "").split(";")) if a and a != row["name"]]
    memory_bytes = int(memory_gib * GIB) if memory_gib is not None else None
    return Device(
        name=row["name"],
        vendor=vendor,
        kind=kind,
        aliases=aliases,
        memory_bytes=memory_bytes,
        memory_options_bytes=[],
        memory_type=row.get("memory_type") or None,
        bus_width_bits=_int(row.get("bus_width_bits", "")),
        bandwidth_bytes_per_s=bandwidth * GB if bandwidth is not None else None,
        fp16_tensor_tflops=_float(row.get("fp16_tensor_tflops_dense", "")),
        bf16_tensor_tflops=_float(row.get("bf16_tensor_tflops_dense", "")),
        fp8_tensor_tflops=_float(row.get("fp8_tensor_tflops_dense", "")),
        fp16_vector_tflops=_float(row.get("fp16_vector_tflops", "")),
        fp32_vector_tflops=_float(row.get("fp32_vector_tflops", "")),
        gpu_cores=cores if cores is not None else _int(row.get("gpu_cores", "")),
        unified_memory=unified,
        tdp_w=_float(row.get("tdp_w", "")),
        pcie_gen=_int(row.get("pcie_gen", "")),
        interconnect=row.get("interconnect") or None,
        launch_price_usd=_float(row.get("launch_price_usd", "")),
        release_date=row.get("release_date") or None,
        sources=_sources(row.get("source", "")),
        notes=notes or None,
    )


_M1_PRO_FP32 = {14: 4.6, 16: 5.3}  # notebookcheck figures quoted in the reference's M1 Pro notes


def split_apple_variants(device: Device) -> list[Device]:
    """One device per GPU-core count for Apple rows that list two ("GPU cores: 14 or 16").

    The reference gives one bandwidth for such a chip; both variants share its memory bus (the binned parts
    with a narrower bus, M3 Max 30-core and M4 Max 32-core, have rows of their own).
    """
    if device.vendor != "Apple":
        return [device]
    m = _APPLE_VARIANTS.search(device.notes or "")
    if not m:
        return [device]
    out = []
    base = device.name
    for cores in (int(m.group(1)), int(m.group(2))):
        chip = base.removeprefix("Apple ")
        name = f"{base} ({cores}-core GPU)"
        fp32 = _M1_PRO_FP32.get(cores) if chip == "M1 Pro" else None
        sources = list(device.sources) + [f"variant: {DERIVED}: the source row lists GPU cores '{m.group(0)[11:]}' "
                                          "with one chip-level bandwidth; split into one device per core count"]
        if fp32 is not None:
            sources.append("fp32_vector_tflops: notebookcheck figure quoted in the reference notes (M1 Pro "
                           "14-core ~4.6, 16-core 5.3 TFLOPS FP32)")
        out.append(_replace(device, name=name, aliases=[f"{chip} {cores}c", f"{chip} {cores}-core GPU"],
                            gpu_cores=cores, fp32_vector_tflops=fp32, sources=sources))
    return out


def drop_ambiguous_apple_aliases(devices: list[Device]) -> list[Device]:
    """Remove bare chip aliases ("M1 Max") from Apple parts sold with several GPU-core counts.

    The reference lists "M1 Max" as an alias of the 32-core part; a probe or a user saying only "M1 Max"
    may have the 24-core one, so the bare name must stay ambiguous rather than match one confidently.
    """
    chips: dict[str, int] = {}
    for d in devices:
        m = re.match(r"Apple (.+?) \(\d+-core GPU\)$", d.name)
        if m:
            chips[m.group(1)] = chips.get(m.group(1), 0) + 1
    out = []
    for d in devices:
        m = re.match(r"Apple (.+?) \(\d+-core GPU\)$", d.name)
        if m and chips[m.group(1)] > 1:
            bare = {m.group(1).lower(), f"apple {m.group(1).lower()}"}
            d = _replace(d, aliases=[a for a in d.aliases if a.lower() not in bare])
        out.append(d)
    return out


def _apply_device_overrides(devices: list[Device], rows: list[dict[str, str]]) -> list[Device]:
    by_name = {d.name: i for i, d in enumerate(devices)}
    conversions = {
        "bandwidth_gb_s": ("bandwidth_bytes_per_s", lambda v: float(v) * GB),
        "memory_gb": ("memory_bytes", lambda v: int(float(v) * GIB)),
        "memory_options_gb": ("memory_options_bytes", lambda v: [int(float(x) * GIB) for x in v.split(";")]),
        "launch_price_usd": ("launch_price_usd", float),
        "fp16_tensor_tflops_dense": ("fp16_tensor_tflops", float),
        "bf16_tensor_tflops_dense": ("bf16_tensor_tflops", float),
        "fp8_tensor_tflops_dense": ("fp8_tensor_tflops", float),
        "fp4_tensor_tflops_dense": ("fp4_tensor_tflops", float),
        "fp32_vector_tflops": ("fp32_vector_tflops", float),
        "fp16_vector_tflops": ("fp16_vector_tflops", float),
        "int8_tensor_tops_dense": ("int8_tensor_tops", float),
        "street_price_usd": ("street_price_usd", float),
        "tdp_w": ("tdp_w", float),
        "release_date": ("release_date", str),
        "interconnect": ("interconnect", str),
        "gpu_cores": ("gpu_cores", int),
        "aliases": ("aliases", lambda v: [a.strip() for a in v.split(";") if a.strip()]),
    }
    for row in rows:
        if row["name"] not in by_name:
            raise BuildError(f"device_overrides.csv: unknown device {row['name']!r}")
        if row["field"] == "name":
            # A rename when a source shows the reference's one row is one of several variants.
            i = by_name.pop(row["name"])
            device = devices[i]
            devices[i] = _replace(device, name=row["value"],
                                  sources=[*device.sources, f"name: {row['source']}"])
            by_name[row["value"]] = i
            continue
        if row["field"] not in conversions:
            raise BuildError(f"device_overrides.csv: unknown field {row['field']!r}")
        field, convert = conversions[row["field"]]
        i = by_name[row["name"]]
        device = devices[i]
        try:
            value = convert(row["value"])
        except ValueError:
            raise BuildError(f"device_overrides.csv: {row['name']} {row['field']} = {row['value']!r} "
                             "is not a valid value") from None
        if field == "aliases":
            value = list(dict.fromkeys([*device.aliases, *value]))
        notes = device.notes
        if row.get("note"):
            # Caveats travel with the value (e.g. "reported street price, not list").
            notes = "; ".join(x for x in (notes, f"{field}: {row['note']}") if x)
        devices[i] = _replace(device, **{field: value}, notes=notes,
                              sources=[*device.sources, f"{field}: {row['source']}"])
    return devices


# ---------------------------------------------------------------------------------------------------------
# Prices and scores

_BENCHMARKS = {
    "artificial_analysis_intelligence_index": "aa_index",
    "aa_index": "aa_index",
    "swe_bench_verified": "swe_bench_verified",
    "terminal_bench_2": "terminal_bench_2",
    "aider_polyglot": "aider_polyglot",
    "metr_time_horizon_min": "metr_time_horizon_min",
    "other": "other",
}


def _score(row: dict[str, str]) -> Score:
    benchmark = _BENCHMARKS.get(row["benchmark"])
    if benchmark is None:
        raise BuildError(f"scores: unknown benchmark {row['benchmark']!r}")
    value = _float(row["value"])
    if value is None:
        raise BuildError(f"scores: {row['model_id']} {benchmark} has no value")
    return Score(model_id=row["model_id"], benchmark=benchmark, value=value,
                 date=row.get("date_or_version") or None, source=row.get("source") or None,
                 notes=row.get("notes") or None)


def _hosted(row: dict[str, str]) -> HostedOffer:
    notes = row.get("region_or_residency_notes", "")
    source = row.get("source", "")
    low = f"{notes} {source}".lower()
    quantization = None
    m = re.search(r"key '[^']*?(fp8|fp4|int8|int4|bf16)[^']*'", source, re.IGNORECASE)
    if m:
        quantization = m.group(1).upper()
    # Residency: only what the row states. LiteLLM keys carry no residency or training terms.
    residency, region, no_training = "unknown", None, None
    m = re.search(r"\b(eu|us|eu-[a-z]+-\d|us-[a-z]+-\d)\b", notes.lower())
    if "region" in low and m:
        residency, region = "region", m.group(1).upper() if len(m.group(1)) == 2 else m.group(1)
    if "no training" in low or "no-training" in low or "zero data retention" in low:
        # Zero retention implies no training: nothing is kept to train on.
        residency, no_training = "no-training", True
    date_seen = row.get("date_seen", "")
    m = re.match(r"\d{4}-\d{2}(-\d{2})?", date_seen)
    return HostedOffer(
        model_id=row["model_id"],
        provider=row["provider"],
        usd_per_m_input=float(row["usd_per_m_input"]),
        usd_per_m_output=float(row["usd_per_m_output"]),
        usd_per_m_cached_input=_float(row.get("usd_per_m_cached_input", "")),
        context_tokens=_int(row.get("context", "")),
        quantization=quantization,
        residency=residency,  # type: ignore[arg-type]
        region=region,
        no_training=no_training,
        notes=notes or None,
        date_seen=m.group(0) if m else (date_seen or None),
        source=source or None,
    )


_POLICY_RESIDENCY = ("region", "no-training", "anywhere")


def apply_provider_policies(offers: list[HostedOffer], rows: list[dict[str, str]]) -> list[HostedOffer]:
    """Residency facts from a provider's own published policy, applied to that provider's offers.

    supplement/provider_policies.csv holds one row per provider whose data-handling terms a source states
    (DeepInfra and xAI: no training on API data; DeepSeek: data stored in the PRC). A row applies only to
    offers whose own row said nothing (residency "unknown"): an offer's own statement wins; models the
    policy itself excepts (``except_model_prefixes``) are skipped. Providers without a row keep "unknown";
    nothing is assumed.
    """
    policies: dict[str, dict[str, str]] = {}
    for row in rows:
        provider = row["provider"]
        if provider in policies:
            raise BuildError(f"provider_policies.csv: provider {provider!r} appears twice")
        if row["residency"] not in _POLICY_RESIDENCY:
            raise BuildError(f"provider_policies.csv: {provider} has residency {row['residency']!r}; "
                             f"use one of {', '.join(_POLICY_RESIDENCY)}")
        if not row.get("source"):
            raise BuildError(f"provider_policies.csv: {provider} has no source")
        if row.get("no_training") and _bool(row["no_training"]) is None:
            raise BuildError(f"provider_policies.csv: {provider} no_training = {row['no_training']!r} "
                             "is not true/false")
        policies[provider] = row
    out = []
    for offer in offers:
        policy = policies.get(offer.provider)
        excepted = tuple(x.strip() for x in (policy or {}).get("except_model_prefixes", "").split(";") if x.strip())
        if policy is None or offer.residency != "unknown" or (excepted and offer.model_id.startswith(excepted)):
            out.append(offer)
            continue
        note = f"provider policy: {policy['note']}" if policy.get("note") else "provider policy"
        out.append(_replace(
            offer,
            residency=policy["residency"],
            region=policy.get("region") or offer.region,
            no_training=_bool(policy.get("no_training", "")),
            notes="; ".join(x for x in (offer.notes, note) if x),
            source=f"{offer.source}; residency: {policy['source']}" if offer.source else policy["source"],
        ))
    return out


def _rental(row: dict[str, str], device_names: dict[str, str]) -> RentalOffer:
    gpu = device_names.get(_norm(row["gpu"]))
    if gpu is None:
        raise BuildError(f"gpu_rental.csv: GPU {row['gpu']!r} matches no device")
    notes = row.get("notes") or ""
    if gpu != row["gpu"]:
        notes = f"{notes}; listed as '{row['gpu']}'".lstrip("; ")
    return RentalOffer(gpu=gpu, gpus_per_node=_int(row.get("count_per_node", "")) or 1,
                       usd_per_gpu_hour=float(row["usd_per_gpu_hour"]),
                       usd_per_gpu_hour_high=_float(row.get("usd_per_gpu_hour_high", "")),
                       provider=row.get("provider") or None, date_seen=row.get("date_seen") or None,
                       source=row.get("source") or None, notes=notes or None)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


# Rental listings name GPUs loosely ("H100 SXM5", "B200 SXM"); map them to the device table's names.
_RENTAL_NAMES = {
    "NVIDIA RTX PRO 6000 Blackwell": "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
    "NVIDIA H200 SXM": "NVIDIA H200 SXM",
    "NVIDIA H200 SXM5": "NVIDIA H200 SXM",
    "NVIDIA B200 SXM": "NVIDIA B200",
    "NVIDIA B200": "NVIDIA B200",
    "NVIDIA A100 80GB": "NVIDIA A100 80GB SXM",
    "NVIDIA A100 80GB SXM": "NVIDIA A100 80GB SXM",
    "NVIDIA H100 SXM5": "NVIDIA H100 SXM",
    "NVIDIA H100 SXM 80GB": "NVIDIA H100 SXM",
}


_VENDOR_NAMES = {"anthropic": "Anthropic", "openai": "OpenAI", "google": "Google", "xai": "xAI"}
_NAME_WORDS = {"gpt": "GPT", "claude": "Claude", "gemini": "Gemini", "grok": "Grok", "sonnet": "Sonnet",
               "opus": "Opus", "haiku": "Haiku", "pro": "Pro", "flash": "Flash", "mini": "mini"}


def closed_model_from_id(model_id: str) -> ClosedModel:
    """A display name from a ``closed:<vendor>/<model>`` id: "closed:openai/gpt-5-mini" -> "GPT-5 mini"."""
    vendor, _, slug = model_id.removeprefix("closed:").partition("/")
    words = [_NAME_WORDS.get(w, w) for w in slug.split("-")]
    name = " ".join(words)
    name = re.sub(r"^GPT (\d)", r"GPT-\1", name)  # GPT-5, GPT-4.1 keep their hyphen
    return ClosedModel(id=model_id, name=name, vendor=_VENDOR_NAMES.get(vendor, vendor))


# ---------------------------------------------------------------------------------------------------------
# Build


def build(reference_dir: Path = DEFAULT_REFERENCE_DIR, supplement_dir: Path = SUPPLEMENT_DIR, *,
          generated_at: str | None = None, sequence: int | None = None) -> Catalog:
    """Build the catalog from the reference and supplement CSVs. Raises BuildError on bad input.

    ``sequence`` defaults to ``generated_at`` as YYYYMMDDHHMM (UTC), the scheme refreshed feeds use, so an app
    update that ships newer embedded data outranks an older cached feed (store and refresh compare sequences).
    """
    generated_at = generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    if sequence is None:
        sequence = sequence_from_timestamp(generated_at)
    overrides: dict[str, list[dict[str, str]]] = {}
    for row in _read_csv(supplement_dir / "model_overrides.csv"):
        overrides.setdefault(row["id"], []).append(row)

    models: dict[str, Model] = {}
    for path in (reference_dir / "models.csv", supplement_dir / "models.csv"):
        for row in _read_csv(path):
            if row["id"] in models:
                raise BuildError(f"{path.name}: model {row['id']} appears twice")
            model = _model_from_row(row, overrides)
            models[model.id] = _replace(model, quants=quants_for(model))
    for row in _read_csv(supplement_dir / "variants.csv"):
        variant = _variant(row, models)
        models[variant.id] = _replace(variant, quants=quants_for(variant))
    unknown = set(overrides) - set(models)
    if unknown:
        raise BuildError(f"model_overrides.csv: unknown models {sorted(unknown)}")
    _apply_quant_files(models, _read_csv(supplement_dir / "quant_files.csv"))

    devices: list[Device] = []
    for path in (reference_dir / "devices.csv", supplement_dir / "devices.csv"):
        for row in _read_csv(path):
            devices.extend(split_apple_variants(_device_from_row(row)))
    devices = _apply_device_overrides(devices, _read_csv(supplement_dir / "device_overrides.csv"))
    devices = drop_ambiguous_apple_aliases(devices)
    names = [d.name for d in devices]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise BuildError(f"devices: duplicate names {sorted(duplicates)}")

    hosted = [_hosted(r) for r in _read_csv(reference_dir / "hosted_prices.csv")]
    hosted += [_hosted(r) for r in _read_csv(supplement_dir / "hosted_prices.csv")]
    hosted = apply_provider_policies(hosted, _read_csv(supplement_dir / "provider_policies.csv"))
    scores = [_score(r) for r in _read_csv(reference_dir / "scores.csv")]
    scores += [_score(r) for r in _read_csv(supplement_dir / "scores.csv")]

    device_lookup = {_norm(d.name): d.name for d in devices}
    device_lookup.update({_norm(k): v for k, v in _RENTAL_NAMES.items()})
    rentals = [_rental(r, device_lookup) for r in _read_csv(reference_dir / "gpu_rental.csv")]

    closed: dict[str, ClosedModel] = {}
    for row in _read_csv(supplement_dir / "closed_models.csv"):
        closed[row["id"]] = ClosedModel(id=row["id"], name=row["name"], vendor=row["vendor"])
    for model_id in sorted({o.model_id for o in hosted} | {s.model_id for s in scores}):
        if model_id.startswith("closed:") and model_id not in closed:
            closed[model_id] = closed_model_from_id(model_id)

    catalog = Catalog(
        schema_version=SCHEMA_VERSION,
        generated_at=generated_at,
        sequence=sequence,
        source="embedded",
        models=list(models.values()),
        devices=devices,
        hosted=hosted,
        rentals=rentals,
        scores=scores,
        closed_models=list(closed.values()),
    )
    _check_links(catalog)
    return catalog


def sequence_from_timestamp(timestamp: str) -> int:
    """An ISO 8601 timestamp as the catalog sequence YYYYMMDDHHMM in UTC (as feed.build_feed numbers feeds).

    A timestamp without an offset is taken as UTC. Raises BuildError for text that is not a timestamp.
    """
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        raise BuildError(f"generated_at {timestamp!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M"))


def _check_links(catalog: Catalog) -> None:
    """Fail the build on records that point at nothing or carry no source."""
    for model in catalog.models:
        if not model.sources:
            raise BuildError(f"model {model.id} has no source")
        names = [q.name for q in model.quants]
        if len(set(names)) != len(names):
            raise BuildError(f"model {model.id} has two quants of the same name: {sorted(names)}")
        for quant in model.quants:
            if not quant.sources:
                raise BuildError(f"quant {model.id} {quant.name} has no source")
    for device in catalog.devices:
        if not device.sources:
            raise BuildError(f"device {device.name} has no source")
    for offer in catalog.hosted:
        if not offer.source:
            raise BuildError(f"hosted offer {offer.model_id} at {offer.provider} has no source")
    for score in catalog.scores:
        if not score.source:
            raise BuildError(f"score {score.model_id} {score.benchmark} has no source")


def write(catalog: Catalog, path: Path = OUTPUT_PATH) -> bytes:
    """Write the catalog as indented JSON (diff-friendly) after checking it decodes; returns the bytes."""
    data = msgspec.json.format(encode_catalog(catalog), indent=1) + b"\n"
    decode_catalog(data)  # never write a file the app would refuse
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rigcheck.catalog.sources.reference", description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path,
                        default=Path(os.environ.get("RIGCHECK_REFERENCE_DIR", DEFAULT_REFERENCE_DIR)))
    parser.add_argument("--supplement", type=Path, default=SUPPLEMENT_DIR)
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    parser.add_argument("--generated-at", help="ISO 8601 timestamp to record (default: now, UTC)")
    parser.add_argument("--sequence", type=int,
                        help="catalog sequence number (default: --generated-at as YYYYMMDDHHMM, UTC, as feeds use)")
    args = parser.parse_args(argv)
    try:
        catalog = build(args.reference, args.supplement, generated_at=args.generated_at, sequence=args.sequence)
        data = write(catalog, args.output)
    except BuildError as exc:
        print(f"catalog build failed: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({len(data) / 1e6:.2f} MB): {len(catalog.models)} models, "
          f"{sum(len(m.quants) for m in catalog.models)} quants, {len(catalog.devices)} devices, "
          f"{len(catalog.hosted)} hosted offers, {len(catalog.rentals)} rentals, {len(catalog.scores)} scores")
    return 0

