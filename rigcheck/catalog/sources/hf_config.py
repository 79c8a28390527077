"""Architecture from a Hugging Face ``config.json`` (or a GGUF header): the ``Model`` fields the estimator uses.

Every family the estimator supports: dense GQA/MHA, MoE (routed and shared experts), MLA, sliding-window mixes,
hybrid linear attention, and multimodal wrappers whose language model sits under ``text_config`` (or
``llm_config``, ``language_config``, ``thinker_config``). A config without layers, width and heads raises
``FeedInvalid``; the caller keeps such a repo with size-only estimates and a note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rigcheck.catalog.net import FeedInvalid
from rigcheck.catalog.records import CatalogError, Model, check_record

if TYPE_CHECKING:
    from rigcheck.catalog.sources.huggingface import RepoInfo

HF_BASE_URL = "https://huggingface.co"


def _first(config: dict, *keys: str):
    for key in keys:
        value = config.get(key)
        if value is not None:
            return value
    return None


def int_field(config: dict, *keys: str) -> int | None:
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
    layers = int_field(cfg, "num_hidden_layers", "n_layer", "num_layers", "n_layers")
    hidden = int_field(cfg, "hidden_size", "n_embd", "d_model", "dim")
    heads = int_field(cfg, "num_attention_heads", "n_head", "n_heads")
    if not (layers and hidden and heads):
        raise FeedInvalid(
            f"config.json of {repo_id} does not describe a transformer rigcheck understands "
            f"(needs num_hidden_layers, hidden_size and num_attention_heads)"
        )
    kv_heads = int_field(cfg, "num_key_value_heads", "num_kv_heads", "multi_query_group_num", "n_head_kv") or heads
    head_dim = int_field(cfg, "head_dim") or hidden // heads
    fields: dict = {
        "num_layers": layers, "hidden_size": hidden, "num_attention_heads": heads, "num_kv_heads": kv_heads,
        "head_dim": head_dim, "vocab_size": int_field(cfg, "vocab_size", "padded_vocab_size"),
        "max_context_tokens": int_field(cfg, "max_position_embeddings", "n_positions", "seq_length",
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
        out.update(attention="mla", mla_kv_lora_rank=int_field(cfg, "kv_lora_rank"),
                   mla_qk_rope_head_dim=int_field(cfg, "qk_rope_head_dim"))
        return out
    layer_types = cfg.get("layer_types")
    window = int_field(cfg, "sliding_window", "attention_chunk_size")
    if isinstance(layer_types, list) and layer_types and all(isinstance(t, str) for t in layer_types):
        kinds = [t.lower() for t in layer_types]
        full = sum(1 for t in kinds if t in ("full_attention", "attention", "global"))
        if any("linear" in t or "mamba" in t or "deltanet" in t for t in kinds):
            out.update(attention="hybrid-linear", full_attention_layers=full)
            out["linear_state_bytes_per_layer"] = _linear_state_bytes(cfg)
        elif any("sliding" in t or "chunked" in t or "local" in t for t in kinds):
            out.update(attention="swa-mixed", full_attention_layers=full, sliding_window_tokens=window)
        return out
    interval = int_field(cfg, "full_attention_interval")
    if interval and cfg.get("linear_num_value_heads"):  # Qwen3-Next before layer_types existed
        out.update(attention="hybrid-linear", full_attention_layers=layers // interval,
                   linear_state_bytes_per_layer=_linear_state_bytes(cfg))
        return out
    pattern = int_field(cfg, "sliding_window_pattern")
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
                   sliding_window_tokens=int_field(cfg, "attention_chunk_size"))
        return out
    if window and cfg.get("use_sliding_window", True) is not False and window < (
        int_field(cfg, "max_position_embeddings") or window + 1
    ):
        out.update(attention="swa-mixed", full_attention_layers=0, sliding_window_tokens=window)
    return out


def _linear_state_bytes(cfg: dict) -> int | None:
    """Per-sequence state of one Gated-DeltaNet layer: the f32 recurrent matrix per value head plus the
    short-convolution window, as llama.cpp keeps it."""
    v_heads = int_field(cfg, "linear_num_value_heads")
    k_heads = int_field(cfg, "linear_num_key_heads") or v_heads
    k_dim = int_field(cfg, "linear_key_head_dim")
    v_dim = int_field(cfg, "linear_value_head_dim")
    kernel = int_field(cfg, "linear_conv_kernel_dim") or 4
    if not (v_heads and k_dim and v_dim):
        return None
    recurrent = v_heads * k_dim * v_dim * 4
    conv = (kernel - 1) * (2 * k_heads * k_dim + v_heads * v_dim) * 4
    return recurrent + conv


def _moe(cfg: dict) -> dict:
    experts = int_field(cfg, "n_routed_experts", "num_local_experts", "num_experts", "moe_num_experts", "n_experts")
    if not experts or experts <= 1:
        return {}
    shared = int_field(cfg, "n_shared_experts", "num_shared_experts", "moe_num_shared_experts")
    if shared is None and cfg.get("shared_expert_intermediate_size"):
        shared = 1
    return {
        "moe_num_experts": experts,
        "moe_experts_per_token": int_field(cfg, "num_experts_per_tok", "experts_per_token", "moe_top_k",
                                      "num_experts_per_token"),
        "moe_shared_experts": shared or 0,
        # Mixtral-style configs give the expert width as intermediate_size.
        "moe_intermediate_size": int_field(cfg, "moe_intermediate_size", "expert_intermediate_size")
        or (int_field(cfg, "intermediate_size") if cfg.get("num_local_experts") else None),
        "first_dense_layers": int_field(cfg, "first_k_dense_replace") or 0,
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
    step = int_field(cfg, "interleave_moe_layer_step")
    if step and step > 1:
        moe_layers = fields["num_layers"] // step
    unused = (experts - per_token) * 3 * fields["hidden_size"] * width * moe_layers
    active = params_total - unused
    return active if 0 < active < params_total else None


def model_from_gguf(repo_id: str, header, *, info: RepoInfo | None = None, params_total: int | None = None,
                    source: str | None = None) -> Model:
    """Architecture facts from a GGUF header's metadata (``gguf_header.GgufHeader``) as a ``Model``.

    The GGUF keys (``{arch}.block_count``, ``{arch}.attention.head_count_kv``, ...) are mapped onto the config
    names ``model_from_config`` reads. Raises ``FeedInvalid`` when the header lacks the basics.
    """
    md = header.metadata
    arch = str(md.get("general.architecture") or "")
    if not arch:
        raise FeedInvalid(f"the GGUF header of {repo_id} names no architecture")

    def g(key: str):
        return md.get(f"{arch}.{key}")

    kv_lora = g("attention.kv_lora_rank")
    config = {
        "model_type": arch,
        "num_hidden_layers": g("block_count"),
        "hidden_size": g("embedding_length"),
        "num_attention_heads": g("attention.head_count"),
        "num_key_value_heads": g("attention.head_count_kv"),
        "head_dim": g("attention.key_length") if not kv_lora else None,
        "max_position_embeddings": g("context_length"),
        "vocab_size": g("vocab_size") or header.array_lengths.get("tokenizer.ggml.tokens"),
        "sliding_window": g("attention.sliding_window"),
        "kv_lora_rank": kv_lora,
        "qk_rope_head_dim": g("rope.dimension_count") if kv_lora else None,
        "num_experts": g("expert_count"),
        "num_experts_per_tok": g("expert_used_count"),
        "n_shared_experts": g("expert_shared_count"),
        "moe_intermediate_size": g("expert_feed_forward_length"),
        "first_k_dense_replace": g("leading_dense_block_count"),
    }
    config = {k: v for k, v in config.items() if v is not None}
    return model_from_config(repo_id, config, info=info, params_total=params_total or header.params_total or None,
                             source=source)
