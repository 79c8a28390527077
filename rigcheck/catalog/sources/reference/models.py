"""The models table: models.csv (reference and supplement), model_overrides.csv and variants.csv as Model records.

Architecture fields are read as given; rigcheck derives the full-attention layer count and Gated DeltaNet state
from the reference's layer-pattern sentence, and use cases from the model's name, and labels both as derived.
Quants are added later (``quants.add_quants``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from msgspec.structs import replace

from rigcheck.catalog.records import Model
from rigcheck.catalog.sources.reference.cells import (
    DERIVED,
    BuildError,
    parse_bool,
    parse_float,
    parse_int,
    read_csv,
    source_list,
)


def read_models(reference_dir: Path, supplement_dir: Path) -> dict[str, Model]:
    """The models of both models.csv files with their overrides applied, then the variants, by id, without quants.

    Raises BuildError for a missing file, a model listed twice, an override naming an unknown model or field,
    or a value that does not read as its field's type.
    """
    overrides: dict[str, list[dict[str, str]]] = {}
    for row in read_csv(supplement_dir / "model_overrides.csv"):
        overrides.setdefault(row["id"], []).append(row)

    models: dict[str, Model] = {}
    for path in (reference_dir / "models.csv", supplement_dir / "models.csv"):
        for row in read_csv(path):
            if row["id"] in models:
                raise BuildError(f"{path.name}: model {row['id']} appears twice")
            models[row["id"]] = _model_from_row(row, overrides)
    for row in read_csv(supplement_dir / "variants.csv"):
        models[row["id"]] = _variant(row, models)
    unknown = set(overrides) - set(models)
    if unknown:
        raise BuildError(f"model_overrides.csv: unknown models {sorted(unknown)}")
    return models


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
        value = parse_bool(raw)
    elif field in _FLOAT_FIELDS:
        value = parse_float(raw)
    else:
        number = parse_float(raw)
        value = int(number) if number is not None and number == int(number) else None
    if value is None:
        raise BuildError(f"model_overrides.csv: {model_id} {field} = {raw!r} is not a valid value")
    return value


def _model_from_row(row: dict[str, str], overrides: dict[str, list[dict[str, str]]]) -> Model:
    model_id = row["id"]
    sources = source_list(row.get("source", ""))
    notes_parts = [row["notes"]] if row.get("notes") else []
    values: dict[str, object] = {
        "params_total_b": parse_float(row.get("params_total_b", "")),
        "params_active_b": parse_float(row.get("params_active_b", "")),
        "num_layers": parse_int(row.get("num_hidden_layers", "")),
        "hidden_size": parse_int(row.get("hidden_size", "")),
        "num_attention_heads": parse_int(row.get("num_attention_heads", "")),
        "num_kv_heads": parse_int(row.get("num_key_value_heads", "")),
        "head_dim": parse_int(row.get("head_dim", "")),
        "vocab_size": parse_int(row.get("vocab_size", "")),
        "max_context_tokens": parse_int(row.get("max_context", "")),
        "tie_word_embeddings": parse_bool(row.get("tie_word_embeddings", "")),
        "moe_num_experts": parse_int(row.get("moe_num_experts", "")),
        "moe_experts_per_token": parse_int(row.get("moe_experts_per_token", "")),
        "moe_shared_experts": parse_int(row.get("moe_shared_experts", "")),
        "moe_intermediate_size": parse_int(row.get("moe_intermediate_size", "")),
        "first_dense_layers": parse_int(row.get("first_dense_layers", "")),
        "mla_kv_lora_rank": parse_int(row.get("mla_kv_lora_rank", "")),
        "mla_qk_rope_head_dim": parse_int(row.get("mla_qk_rope_head_dim", "")),
        "sliding_window_tokens": parse_int(row.get("sliding_window", "")),
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
    variant = replace(base, id=row["id"], name=row["id"].split("/", 1)[-1], family=row.get("family") or base.family,
                      aliases=[], quants=[], **cleared)
    variant = replace(
        variant,
        release_date=row.get("release_date") or None,
        license=row.get("license") or None,
        max_context_tokens=parse_int(row.get("max_context", "")),
        use_cases=derive_use_cases(row["id"], variant.family, base.notes or "", base.params_total_b,
                                   parse_int(row.get("max_context", ""))),
        sources=[f"architecture: copied from {base.id}; {row['source']}",
                 *(f"{base.id}: {s}" for s in base.sources if not s.startswith("use_cases:")),
                 f"use_cases: {DERIVED} from the model's name, family and notes"],
        notes="; ".join(x for x in (row.get("note"), base.notes) if x) or None,
    )
    return variant
