"""Typed records of the catalog: models, quants, devices, hosted offers, rentals and scores.

Wire JSON is decoded once, here, into msgspec Structs (``decode_catalog``); everything after works on
these records. Unknown keys are ignored (a newer minor schema may add fields); a missing required key
or a wrong type raises ``CatalogError`` naming the path (``$.models[3].num_layers``). Units are in the
names: bytes, bytes/s, tokens, W, USD; ``*_b`` counts are billions of parameters.
"""

from __future__ import annotations

from typing import Literal

import msgspec

SCHEMA_MAJOR = 1
SCHEMA_VERSION = "1.0"

QuantFormat = Literal["gguf", "safetensors", "fp8", "awq", "gptq", "mlx", "nvfp4", "mxfp4", "int8"]
Runtime = Literal["llama.cpp", "vllm", "mlx"]
Attention = Literal["gqa", "mha", "mla", "swa-mixed", "hybrid-linear"]


class CatalogError(ValueError):
    """A catalog document that cannot be used, with one sentence saying why."""


class _Record(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


class Quant(_Record, kw_only=True):
    """One downloadable quantization of a model."""

    name: str
    """Type name as people say it: Q4_K_M, UD-Q2_K_XL, IQ2_XXS, BF16, FP8, AWQ-INT4, MLX-4bit, NVFP4, MXFP4."""
    format: QuantFormat
    bits_per_weight: float
    """Average stored bits per weight over the whole file (embeddings and scales included)."""
    file_size_bytes: int | None = None
    """Real size of the weight files (GGUF shards summed; mmproj counted apart) when known."""
    size_is_estimate: bool = False
    """True when ``file_size_bytes`` was computed from parameters x bits per weight, not read."""
    repo: str | None = None
    """Hugging Face repo the files come from."""
    runtimes: list[Runtime] = []
    sources: list[str] = []


class Model(_Record, kw_only=True):
    """An open-weight model and the architecture facts the estimator needs."""

    id: str
    """Hugging Face repo id of the original weights, e.g. ``meta-llama/Llama-3.1-8B-Instruct``."""
    family: str
    name: str | None = None
    aliases: list[str] = []
    params_total_b: float | None = None
    params_active_b: float | None = None
    num_layers: int | None = None
    hidden_size: int | None = None
    num_attention_heads: int | None = None
    num_kv_heads: int | None = None
    head_dim: int | None = None
    vocab_size: int | None = None
    max_context_tokens: int | None = None
    tie_word_embeddings: bool | None = None
    attention: Attention | None = None
    mla_kv_lora_rank: int | None = None
    mla_qk_rope_head_dim: int | None = None
    sliding_window_tokens: int | None = None
    """Window of the sliding/chunked local-attention layers (swa-mixed)."""
    full_attention_layers: int | None = None
    """For swa-mixed and hybrid-linear models: how many layers hold a full-length KV cache.
    The rest hold a window (swa-mixed) or a fixed recurrent state (hybrid-linear)."""
    global_kv_heads: int | None = None
    """Where global layers differ from local ones (Gemma 4): KV heads of the global layers."""
    global_head_dim: int | None = None
    linear_state_bytes_per_layer: int | None = None
    """Hybrid-linear models: recurrent state per sequence per linear layer, in bytes."""
    moe_num_experts: int | None = None
    moe_experts_per_token: int | None = None
    moe_shared_experts: int | None = None
    moe_intermediate_size: int | None = None
    first_dense_layers: int | None = None
    vision_projector_bytes: int | None = None
    license: str | None = None
    release_date: str | None = None
    use_cases: list[str] = []
    """Any of: chat, code, reasoning, agentic, vision, long-context, multilingual, small."""
    quants: list[Quant] = []
    sources: list[str] = []
    notes: str | None = None

    @property
    def is_moe(self) -> bool:
        return bool(self.moe_num_experts and self.moe_num_experts > 1)


class Device(_Record, kw_only=True):
    """A GPU, accelerator or unified-memory machine from the spec table."""

    name: str
    vendor: str
    """NVIDIA, AMD, Intel, Apple."""
    kind: str
    """consumer, workstation, datacenter, apple, apu, laptop."""
    aliases: list[str] = []
    memory_bytes: int | None = None
    memory_options_bytes: list[int] = []
    """For Apple/APU machines sold with several memory sizes."""
    memory_type: str | None = None
    bus_width_bits: int | None = None
    bandwidth_bytes_per_s: float | None = None
    fp16_tensor_tflops: float | None = None
    """Dense tensor-core / matrix-engine FP16 throughput (FP32 accumulate on GeForce)."""
    bf16_tensor_tflops: float | None = None
    fp8_tensor_tflops: float | None = None
    fp4_tensor_tflops: float | None = None
    int8_tensor_tops: float | None = None
    fp16_vector_tflops: float | None = None
    """Shader (non-tensor) FP16 rate; the compute figure for parts with no matrix engine."""
    fp32_vector_tflops: float | None = None
    gpu_cores: int | None = None
    """Apple GPU cores; AMD compute units; NVIDIA SMs where recorded."""
    unified_memory: bool = False
    tdp_w: float | None = None
    pcie_gen: int | None = None
    interconnect: str | None = None
    """The GPU-to-GPU fabric inside a node: "NVLink 4 (NVSwitch)", "Infinity Fabric (xGMI mesh)"."""
    interconnect_bytes_per_s: float | None = None
    """Interconnect bandwidth per GPU in each direction."""
    interconnect_latency_s: float | None = None
    """Small-message all-reduce time over the node's GPUs (the fixed cost of one collective)."""
    launch_price_usd: float | None = None
    street_price_usd: float | None = None
    release_date: str | None = None
    sources: list[str] = []
    notes: str | None = None


class HostedOffer(_Record, kw_only=True):
    """A hosted API price for one model at one provider."""

    model_id: str
    """Catalog model id, or ``closed:<vendor>/<model>`` for closed frontier models."""
    provider: str
    endpoint: str | None = None
    """The provider's endpoint for this model where it has several (OpenRouter's tag, e.g. ``deepinfra/fp8``);
    an offer's identity is (model, provider slug, endpoint)."""
    usd_per_m_input: float
    usd_per_m_output: float
    usd_per_m_cached_input: float | None = None
    context_tokens: int | None = None
    quantization: str | None = None
    residency: Literal["anywhere", "region", "no-training", "unknown"] = "unknown"
    region: str | None = None
    """E.g. "EU", "US", "eu-central-1"."""
    no_training: bool | None = None
    notes: str | None = None
    date_seen: str | None = None
    source: str | None = None


class RentalOffer(_Record, kw_only=True):
    """On-demand rental price of a GPU."""

    gpu: str
    """Device name as in the device table."""
    gpus_per_node: int = 1
    usd_per_gpu_hour: float
    usd_per_gpu_hour_high: float | None = None
    provider: str | None = None
    date_seen: str | None = None
    source: str | None = None
    notes: str | None = None


class Score(_Record, kw_only=True):
    """A published quality score."""

    model_id: str
    benchmark: str
    """aa_index, swe_bench_verified, terminal_bench_2, aider_polyglot, metr_time_horizon_min, other."""
    value: float
    date: str | None = None
    source: str | None = None
    notes: str | None = None


class ClosedModel(_Record, kw_only=True):
    """A closed frontier model kept for comparison (no weights, no estimate)."""

    id: str
    """``closed:<vendor>/<model>``."""
    name: str
    vendor: str


class Catalog(_Record, kw_only=True):
    """The whole catalog document."""

    schema_version: str
    generated_at: str
    sequence: int = 0
    expires_at: str | None = None
    source: str | None = None
    """Where this copy came from: "embedded", a URL, "hf:" for single fetched models."""
    models: list[Model] = []
    devices: list[Device] = []
    hosted: list[HostedOffer] = []
    rentals: list[RentalOffer] = []
    scores: list[Score] = []
    closed_models: list[ClosedModel] = []


_decoder = msgspec.json.Decoder(Catalog)


def decode_catalog(data: bytes) -> Catalog:
    """Parse and validate a catalog document.

    Raises ``CatalogError`` with one sentence when the bytes are not JSON, a field has the wrong type,
    a required key is missing, or the major schema version is newer than this app understands.
    """
    try:
        head = msgspec.json.decode(data, type=_Header)
    except msgspec.DecodeError as exc:
        raise CatalogError(f"catalog is not valid: {exc}") from None
    major = _major(head.schema_version)
    if major > SCHEMA_MAJOR:
        raise CatalogError(
            f"catalog schema {head.schema_version} is newer than this app understands "
            f"({SCHEMA_VERSION}); update rigcheck"
        )
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise CatalogError(f"catalog is not valid: {exc}") from None
    except msgspec.DecodeError as exc:
        raise CatalogError(f"catalog is not valid JSON: {exc}") from None


def encode_catalog(catalog: Catalog) -> bytes:
    """Serialize a catalog to compact JSON bytes."""
    return msgspec.json.encode(catalog)


class _Header(msgspec.Struct):
    schema_version: str


def _major(version: str) -> int:
    try:
        return int(version.split(".", 1)[0])
    except ValueError:
        raise CatalogError(f"catalog schema_version {version!r} is not of the form MAJOR.MINOR") from None
