"""Memory a model needs: weights, KV cache by attention kind, compute buffers and runtime overhead.

Everything here is per model shape (``ModelShape``, computed once per model) and per quant; nothing
depends on the machine. Bytes are plain ints or floats; ``GIB`` = 2**30.
"""

from __future__ import annotations

from dataclasses import dataclass

from rigcheck.catalog.records import Model, Quant

GIB = 1024**3
MIB = 1024**2

KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 1.0625, "q4_0": 0.5625}
"""llama.cpp cache types: f16; q8_0 = 34 bytes per 32 values; q4_0 = 18 bytes per 32 values."""

# Bits per weight of the usual quant names when the catalog gives no file size (llama.cpp's
# reported sizes of Llama-class models, embeddings and scales included).
BITS_PER_WEIGHT = {
    "F32": 32.0, "BF16": 16.0, "F16": 16.0, "FP16": 16.0, "FP8": 8.0, "INT8": 8.0, "Q8_0": 8.5,
    "Q6_K": 6.56, "Q5_K_M": 5.69, "Q5_K_S": 5.54, "Q5_0": 5.5, "Q4_K_M": 4.89, "Q4_K_S": 4.58,
    "Q4_0": 4.5, "IQ4_XS": 4.25, "IQ4_NL": 4.5, "Q3_K_L": 4.27, "Q3_K_M": 3.91, "Q3_K_S": 3.5,
    "IQ3_M": 3.66, "IQ3_XXS": 3.06, "Q2_K": 3.35, "IQ2_M": 2.7, "IQ2_XS": 2.31, "IQ2_XXS": 2.06,
    "IQ1_M": 1.75, "IQ1_S": 1.56, "MXFP4": 4.25, "NVFP4": 4.5, "AWQ-INT4": 4.25, "GPTQ-INT4": 4.25,
    "MLX-4BIT": 4.5, "MLX-8BIT": 8.5, "MLX-6BIT": 6.5, "MLX-3BIT": 3.5,
}

# Runtime context per device: the CUDA/HIP context, cuBLAS/hipBLAS workspaces and the graph
# allocator's own state; Metal and the CPU backend need far less. Observed in llama.cpp logs as
# the gap between the model + KV + compute buffers and the memory actually in use.
RUNTIME_CONTEXT_BYTES = {"cuda": 300 * MIB, "rocm": 300 * MIB, "vulkan": 200 * MIB, "metal": 100 * MIB,
                         "cpu": 100 * MIB}
# vLLM reserves activations for its largest batch (max_num_batched_tokens), CUDA graphs and NCCL
# buffers besides the CUDA context: about 2 GiB per GPU in its start-up log at default settings.
VLLM_OVERHEAD_BYTES = 2 * GIB
UNKNOWN_MAX_CONTEXT_TOKENS = 131_072
"""A model whose maximum context the catalog lacks is not offered more than this (today's common 128k)."""
MOE_LAYER_KERNEL_FACTOR = 2.0
MOE_GEMM_HALF_TOKENS = 16
"""Prompt processing of MoE layers: each expert multiplies only the tokens routed to it (ubatch x k / E
of them). With few rows an expert GEMM runs like a mat-vec; its efficiency is taken as
rows / (rows + 16): half at 16 rows per expert, 94% at 256."""
LLAMA_CPP_UBATCH_TOKENS = 512
"""llama.cpp's default n_ubatch: the number of prompt tokens computed in one graph evaluation."""


@dataclass(frozen=True, slots=True)
class ModelShape:
    """The facts about one model the estimator uses, with defaults filled and derived counts computed."""

    model: Model
    params_total: float
    """Parameter count (not billions)."""
    params_active: float
    layers: int
    hidden: int
    vocab: int
    heads: int
    head_dim: int
    kv_elements_full_per_token: float
    """K and V elements per token summed over the layers that keep a full-length cache."""
    kv_elements_window_per_token: float
    """The same over sliding-window layers, which keep at most ``window_tokens`` tokens."""
    window_tokens: int
    fixed_state_bytes: int
    """Recurrent state of linear-attention layers (does not grow with context)."""
    attention_macs_per_token_per_context: float
    """Multiply-accumulates of QK^T and AV per token for each token attended to (full layers)."""
    attention_macs_window_per_token: float
    """The same for window layers, which attend to at most ``window_tokens``."""
    max_context_tokens: int | None
    embedding_params: float
    """vocab x hidden: the token-embedding matrix (and, untied, the output head of the same size)."""
    tied_embeddings: bool
    expert_params: float
    """All routed-expert parameters (0 for dense models)."""
    expert_fraction_active: float
    """k / E: the share of routed experts one token reads."""
    moe_layers: int
    assumptions: tuple[str, ...]

    @property
    def is_moe(self) -> bool:
        return self.expert_params > 0

    @property
    def overhead_layers(self) -> float:
        """Layers weighted by their kernel count, for the fixed per-layer cost of a decode step: a MoE
        layer launches about twice a dense layer's kernels (router, top-k, expert-indexed matmuls)."""
        return self.layers + (MOE_LAYER_KERNEL_FACTOR - 1.0) * self.moe_layers

    def expert_gemm_efficiency(self, ubatch_tokens: int) -> float:
        """Relative efficiency of the routed-expert GEMMs for a ubatch (1.0 for dense models)."""
        if not self.is_moe:
            return 1.0
        rows = ubatch_tokens * self.expert_fraction_active
        return rows / (rows + MOE_GEMM_HALF_TOKENS)

    def kv_cache_bytes(self, context_tokens: int, kv_type: str = "f16") -> float:
        """KV cache for one sequence of ``context_tokens``, plus any fixed recurrent state."""
        per = KV_BYTES_PER_ELEMENT[kv_type]
        window = min(context_tokens, self.window_tokens) if self.window_tokens else context_tokens
        return (self.kv_elements_full_per_token * context_tokens
                + self.kv_elements_window_per_token * window) * per + self.fixed_state_bytes

    def kv_read_bytes(self, depth_tokens: float, kv_type: str = "f16") -> float:
        """KV bytes one decode step reads at ``depth_tokens`` (the state is read too)."""
        return self.kv_cache_bytes(int(depth_tokens), kv_type)

    def attention_macs(self, start_tokens: float, prompt_tokens: int) -> float:
        """Attention MACs per layer-sum for processing ``prompt_tokens`` after ``start_tokens`` (causal)."""
        mean_context = start_tokens + prompt_tokens / 2
        window = min(mean_context, self.window_tokens) if self.window_tokens else mean_context
        return prompt_tokens * (self.attention_macs_per_token_per_context * mean_context
                                + self.attention_macs_window_per_token * window)


class ShapeError(ValueError):
    """A model record lacks what the estimator needs (no parameter count)."""


def max_context_tokens(model) -> int:
    """The longest context a model's estimates are sized for: its maximum, or UNKNOWN_MAX_CONTEXT_TOKENS when the
    catalog has none."""
    return model.max_context_tokens or UNKNOWN_MAX_CONTEXT_TOKENS


def model_shape(model: Model) -> ModelShape:
    """Derive the estimator's view of ``model``, filling gaps with documented defaults.

    Raises ``ShapeError`` when the parameter count is unknown (nothing can be estimated then).
    """
    notes: list[str] = []
    total_b = model.params_total_b or model.params_active_b
    if not total_b:
        raise ShapeError(f"{model.id}: parameter count unknown")
    total = total_b * 1e9
    active = (model.params_active_b or total_b) * 1e9
    hidden = model.hidden_size or 0
    layers = model.num_layers or 0
    if not layers or not hidden:
        # A Llama-like shape of the same size: hidden ~ 128 * sqrt(params / (12 * 128^2 * layers)).
        layers = layers or max(16, min(128, int(round(8 * (total_b ** 0.33)))))
        hidden = hidden or int(((active / (12 * layers)) ** 0.5) / 128 + 0.5) * 128 or 2048
        notes.append(f"layers/hidden size not in the catalog: assumed {layers} layers x {hidden}")
    heads = model.num_attention_heads or max(1, hidden // 128)
    head_dim = model.head_dim or (max(1, hidden // heads) if heads else 128)  # more heads than hidden: still 1
    if model.num_kv_heads:
        kv_heads = model.num_kv_heads
    elif model.num_attention_heads:
        kv_heads = heads  # a config without a KV-head count is multi-head attention
    else:
        kv_heads = min(8, heads)  # nothing known: grouped-query attention with 8 KV heads, today's norm
        notes.append("attention heads unknown: assumed grouped-query attention with 8 KV heads")
    vocab = model.vocab_size or 32000
    if not model.vocab_size:
        notes.append("vocabulary size unknown: assumed 32,000")

    attention = model.attention or ("gqa" if kv_heads != heads else "mha")
    window = 0
    fixed_state = 0
    full_layers = layers
    if attention == "mla" and model.mla_kv_lora_rank:
        # One compressed latent (kv_lora_rank) plus the shared RoPE key per token and layer; V is
        # recovered from the latent, so there is no second copy.
        full_kv = layers * (model.mla_kv_lora_rank + (model.mla_qk_rope_head_dim or 64))
        window_kv = 0.0
    elif attention == "swa-mixed" and model.sliding_window_tokens:
        window = model.sliding_window_tokens
        # Capped at the layers: when the layer count is assumed, the record's global layers may exceed it.
        full_layers = min(model.full_attention_layers, layers) if model.full_attention_layers is not None else layers
        if model.full_attention_layers is None:
            notes.append("which layers are global is unknown: all layers sized at full context")
        g_heads = model.global_kv_heads or kv_heads
        g_dim = model.global_head_dim or head_dim
        full_kv = full_layers * 2 * g_heads * g_dim
        window_kv = (layers - full_layers) * 2 * kv_heads * head_dim
    elif attention == "hybrid-linear":
        full_layers = (min(model.full_attention_layers, layers) if model.full_attention_layers is not None
                       else max(1, layers // 4))
        if model.full_attention_layers is None:
            notes.append("full-attention layer count unknown: assumed 1 in 4")
        full_kv = full_layers * 2 * kv_heads * head_dim
        window_kv = 0.0
        state = model.linear_state_bytes_per_layer
        if state is None:
            # Gated DeltaNet / Mamba2 state: heads x head_dim^2 values in f32 is the usual size.
            state = heads * head_dim * head_dim * 4
            notes.append("linear-attention state size unknown: assumed heads x head_dim^2 x 4 bytes")
        fixed_state = (layers - full_layers) * state
    else:
        full_kv = layers * 2 * kv_heads * head_dim
        window_kv = 0.0
    # Attention compute: QK^T and AV are each heads x head_dim MACs per attended token and layer.
    g_head_dim = model.global_head_dim or head_dim
    attn_full = full_layers * heads * g_head_dim * 2
    if attention == "mla" and model.mla_kv_lora_rank:
        # Absorbed MLA (llama.cpp, vLLM): each head attends in the latent space, QK^T over
        # rank + rope dims and AV over rank dims.
        attn_full = layers * heads * (2 * model.mla_kv_lora_rank + (model.mla_qk_rope_head_dim or 64))
    attn_window = (layers - full_layers) * heads * head_dim * 2 if attention == "swa-mixed" else 0.0
    if attention == "hybrid-linear":
        attn_window = 0.0

    expert_params = 0.0
    fraction = 1.0
    moe_layers = 0
    e, k = model.moe_num_experts, model.moe_experts_per_token
    if e and e > 1 and k and k < e and total > active:
        # total - active = routed experts not used by a token = expert_params x (1 - k/E).
        expert_params = (total - active) * e / (e - k)
        fraction = k / e
        moe_layers = max(0, layers - (model.first_dense_layers or 0))
    elif e and e > 1:
        notes.append("MoE without an active-parameter count: sized and timed as dense")

    max_context = max_context_tokens(model)
    if not model.max_context_tokens:
        notes.append(f"maximum context not in the catalog: assumed {UNKNOWN_MAX_CONTEXT_TOKENS:,} tokens")

    return ModelShape(
        model=model,
        params_total=total,
        params_active=active,
        layers=layers,
        hidden=hidden,
        vocab=vocab,
        heads=heads,
        head_dim=head_dim,
        kv_elements_full_per_token=float(full_kv),
        kv_elements_window_per_token=float(window_kv),
        window_tokens=window,
        fixed_state_bytes=int(fixed_state),
        attention_macs_per_token_per_context=float(attn_full),
        attention_macs_window_per_token=float(attn_window),
        max_context_tokens=max_context,
        embedding_params=float(vocab * hidden),
        tied_embeddings=bool(model.tie_word_embeddings),
        expert_params=expert_params,
        expert_fraction_active=fraction,
        moe_layers=moe_layers,
        assumptions=tuple(notes),
    )


def bits_per_weight(quant: Quant) -> float:
    """The quant's average bits per weight (the record's, else the usual figure for its name)."""
    if quant.bits_per_weight:
        return quant.bits_per_weight
    return BITS_PER_WEIGHT.get(quant.name.upper(), 16.0)


def weights_bytes(shape: ModelShape, quant: Quant) -> float:
    """Bytes of the weight files: the real size when the catalog has it, else params x bits / 8."""
    if quant.file_size_bytes:
        return float(quant.file_size_bytes)
    return shape.params_total * bits_per_weight(quant) / 8


def context_for(shape: ModelShape, context_tokens: int) -> int:
    """The context the cache is sized for: the setting capped at the model's maximum."""
    if shape.max_context_tokens:
        return max(1, min(context_tokens, shape.max_context_tokens))
    return max(1, context_tokens)


def compute_buffer_bytes(shape: ModelShape, context_tokens: int, flash_attention: bool,
                         ubatch_tokens: int = LLAMA_CPP_UBATCH_TOKENS) -> float:
    """llama.cpp's compute buffer on the device that holds the output layer.

    The graph allocator sizes it for one ubatch: f32 activations of about 4 x hidden per token plus
    the ubatch's logits (vocab per token). Without flash attention the f32 KQ score matrix of one
    layer (ubatch x heads x context) is materialised too, which is what makes long contexts run
    out of memory on cards where the cache itself would still fit.
    """
    size = ubatch_tokens * 4.0 * (shape.vocab + 4 * shape.hidden)
    if not flash_attention:
        size += ubatch_tokens * shape.heads * 4.0 * context_tokens
    return size


def compute_buffer_bytes_per_context_token(shape: ModelShape, flash_attention: bool,
                                           ubatch_tokens: int = LLAMA_CPP_UBATCH_TOKENS) -> float:
    return 0.0 if flash_attention else ubatch_tokens * shape.heads * 4.0
