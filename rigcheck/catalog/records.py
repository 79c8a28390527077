"""Typed records of the catalog: models, quants, devices, hosted offers, rentals and scores.

Wire JSON is decoded once, here, into msgspec Structs (``decode_catalog``); everything after works on
these records. Unknown keys are ignored (a newer minor schema may add fields); a missing required key,
a wrong type or a number outside its physically possible range (``rigcheck.probe.limits``: finite, positive
where it must be, below a sane ceiling) raises ``CatalogError`` naming the path (``$.models[3].num_layers``).
Units are in the names: bytes, bytes/s, tokens, W, USD; ``*_b`` counts are billions of parameters.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from rigcheck.probe import limits
from rigcheck.probe.files import MAX_JSON_DEPTH, json_too_deep

SCHEMA_MAJOR = 1
SCHEMA_VERSION = "1.0"
MAX_CATALOG_BYTES = 256 * 1000 * 1000
"""The largest catalog document read, from a feed or from the cache. A catalog runs about 8 kB a model (75 MB for
10,000 models, which load in a quarter of a second into 150 MB of memory), so this leaves room for 30,000 models
and still refuses a document built to exhaust memory."""

QuantFormat = Literal["gguf", "safetensors", "fp8", "awq", "gptq", "mlx", "nvfp4", "mxfp4", "int8"]
Runtime = Literal["llama.cpp", "vllm", "mlx"]
Attention = Literal["gqa", "mha", "mla", "swa-mixed", "hybrid-linear"]


# Ranges, checked by msgspec as it decodes, in C (JSON has no NaN or infinity), so a large catalog needs no Python
# pass over its numbers; a record built in code is checked by ``check_record``.
FileBytes = Annotated[int, Meta(ge=0, le=limits.MAX_FILE_BYTES)]
MemoryBytes = Annotated[int, Meta(ge=1, le=limits.MAX_MEMORY_BYTES)]
BytesPerS = Annotated[float, Meta(ge=limits.MIN_BANDWIDTH_BYTES_PER_S, le=limits.MAX_BANDWIDTH_BYTES_PER_S)]
Tflops = Annotated[float, Meta(ge=limits.MIN_TFLOPS, le=limits.MAX_TFLOPS)]
Count = Annotated[int, Meta(ge=0, le=limits.MAX_COUNT)]
PositiveCount = Annotated[int, Meta(ge=1, le=limits.MAX_COUNT)]
Layers = Annotated[int, Meta(ge=1, le=limits.MAX_LAYERS)]
LayerCount = Annotated[int, Meta(ge=0, le=limits.MAX_LAYERS)]
Dimension = Annotated[int, Meta(ge=1, le=limits.MAX_DIMENSION)]
Vocab = Annotated[int, Meta(ge=1, le=limits.MAX_VOCAB)]
Tokens = Annotated[int, Meta(ge=1, le=limits.MAX_CONTEXT_TOKENS)]
ParamsB = Annotated[float, Meta(ge=limits.MIN_PARAMS_B, le=limits.MAX_PARAMS_B)]
BitsPerWeight = Annotated[float, Meta(ge=limits.MIN_BITS_PER_WEIGHT, le=limits.MAX_BITS_PER_WEIGHT)]
Usd = Annotated[float, Meta(ge=0, le=limits.MAX_USD)]
PositiveUsd = Annotated[float, Meta(gt=0, le=limits.MAX_USD)]
Watts = Annotated[float, Meta(gt=0, le=limits.MAX_POWER_W)]
WidthBits = Annotated[int, Meta(ge=1, le=limits.MAX_WIDTH_BITS)]
PcieGen = Annotated[int, Meta(ge=1, le=limits.MAX_PCIE_GEN)]
Gpus = Annotated[int, Meta(ge=1, le=limits.MAX_GPUS)]
ScoreValue = Annotated[float, Meta(ge=0, le=limits.MAX_SCORE)]
Seconds = Annotated[float, Meta(ge=0, le=limits.MAX_LATENCY_S)]


class CatalogError(ValueError):
    """A catalog document that cannot be used, with one sentence saying why."""


class _Record(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Records hold text, numbers and other records, never a reference cycle: the cyclic garbage collector
    need not track them (a 10,000-model catalog is over a million objects)."""


class Quant(_Record, kw_only=True):
    """One downloadable quantization of a model."""

    name: str
    """Type name as people say it: Q4_K_M, UD-Q2_K_XL, IQ2_XXS, BF16, FP8, AWQ-INT4, MLX-4bit, NVFP4, MXFP4."""
    format: QuantFormat
    bits_per_weight: BitsPerWeight
    """Average stored bits per weight over the whole file (embeddings and scales included)."""
    file_size_bytes: FileBytes | None = None
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
    params_total_b: ParamsB | None = None
    params_active_b: ParamsB | None = None
    num_layers: Layers | None = None
    hidden_size: Dimension | None = None
    num_attention_heads: PositiveCount | None = None
    num_kv_heads: PositiveCount | None = None
    head_dim: Dimension | None = None
    vocab_size: Vocab | None = None
    max_context_tokens: Tokens | None = None
    tie_word_embeddings: bool | None = None
    attention: Attention | None = None
    mla_kv_lora_rank: Dimension | None = None
    mla_qk_rope_head_dim: Dimension | None = None
    sliding_window_tokens: Tokens | None = None
    """Window of the sliding/chunked local-attention layers (swa-mixed)."""
    full_attention_layers: LayerCount | None = None
    """For swa-mixed and hybrid-linear models: how many layers hold a full-length KV cache.
    The rest hold a window (swa-mixed) or a fixed recurrent state (hybrid-linear)."""
    global_kv_heads: PositiveCount | None = None
    """Where global layers differ from local ones (Gemma 4): KV heads of the global layers."""
    global_head_dim: Dimension | None = None
    linear_state_bytes_per_layer: FileBytes | None = None
    """Hybrid-linear models: recurrent state per sequence per linear layer, in bytes."""
    moe_num_experts: Count | None = None
    moe_experts_per_token: Count | None = None
    moe_shared_experts: Count | None = None
    moe_intermediate_size: Dimension | None = None
    first_dense_layers: LayerCount | None = None
    vision_projector_bytes: FileBytes | None = None
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
    memory_bytes: MemoryBytes | None = None
    memory_options_bytes: list[MemoryBytes] = []
    """For Apple/APU machines sold with several memory sizes."""
    memory_type: str | None = None
    bus_width_bits: WidthBits | None = None
    bandwidth_bytes_per_s: BytesPerS | None = None
    fp16_tensor_tflops: Tflops | None = None
    """Dense tensor-core / matrix-engine FP16 throughput (FP32 accumulate on GeForce)."""
    bf16_tensor_tflops: Tflops | None = None
    fp8_tensor_tflops: Tflops | None = None
    fp4_tensor_tflops: Tflops | None = None
    int8_tensor_tops: Tflops | None = None
    fp16_vector_tflops: Tflops | None = None
    """Shader (non-tensor) FP16 rate; the compute figure for parts with no matrix engine."""
    fp32_vector_tflops: Tflops | None = None
    gpu_cores: Count | None = None
    """Apple GPU cores; AMD compute units; NVIDIA SMs where recorded."""
    unified_memory: bool = False
    tdp_w: Watts | None = None
    pcie_gen: PcieGen | None = None
    interconnect: str | None = None
    """The GPU-to-GPU fabric inside a node: "NVLink 4 (NVSwitch)", "Infinity Fabric (xGMI mesh)"."""
    interconnect_bytes_per_s: BytesPerS | None = None
    """Interconnect bandwidth per GPU in each direction."""
    interconnect_latency_s: Seconds | None = None
    """Small-message all-reduce time over the node's GPUs (the fixed cost of one collective)."""
    launch_price_usd: Usd | None = None
    street_price_usd: Usd | None = None
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
    usd_per_m_input: Usd
    usd_per_m_output: Usd
    usd_per_m_cached_input: Usd | None = None
    context_tokens: Tokens | None = None
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
    gpus_per_node: Gpus = 1
    usd_per_gpu_hour: PositiveUsd
    usd_per_gpu_hour_high: PositiveUsd | None = None
    provider: str | None = None
    date_seen: str | None = None
    source: str | None = None
    notes: str | None = None


class Score(_Record, kw_only=True):
    """A published quality score."""

    model_id: str
    benchmark: str
    """aa_index, swe_bench_verified, terminal_bench_2, aider_polyglot, metr_time_horizon_min, other."""
    value: ScoreValue
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

    Raises ``CatalogError`` with one sentence when the bytes are not JSON, nest deeper than any catalog
    does, a field has the wrong type or a number outside its range (the sentence names the field and the
    value: ``$.models[1].num_layers is 0; it must be at least 1``), a required key is missing, or the major
    schema version is newer than this app understands.
    """
    if json_too_deep(data):  # before the decoder recurses into it (see rigcheck.probe.files)
        raise CatalogError(f"catalog is not valid: it nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        with gc_paused():
            catalog = _decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        # The header first: a newer major schema explains a failure better than the failure does.
        _check_header(data)
        if isinstance(exc, msgspec.ValidationError):
            raise CatalogError(_number_message(exc, data) or f"catalog is not valid: {exc}") from None
        raise CatalogError(f"catalog is not valid JSON: {exc}") from None
    check_major(catalog.schema_version)
    return catalog


def check_record(record: msgspec.Struct, where: str | None = None) -> None:
    """Check a record built in code (not decoded) against the types and ranges decoding enforces, and a
    model's (or a catalog's models') fields against each other (``check_model``).

    Raises ``CatalogError`` with the sentence decoding gives (``$.num_layers is 0; it must be at least 1``),
    after ``where`` when given (``config.json of org/x is not valid: $.num_layers is 0; ...``).
    """
    prefix = f"{where} is not valid: " if where else ""
    plain = msgspec.to_builtins(record)
    try:
        msgspec.convert(plain, type(record))
    except msgspec.ValidationError as exc:
        raise CatalogError(prefix + (_number_message(exc, plain) or str(exc))) from None
    if isinstance(record, Model):
        check_model(record, f"{prefix}$")
    elif isinstance(record, Catalog):
        for i, model in enumerate(record.models):
            check_model(model, f"{prefix}$.models[{i}]")


_NOT_ABOVE = (
    ("params_active_b", "params_total_b"),
    ("num_kv_heads", "num_attention_heads"),
    ("full_attention_layers", "num_layers"),
    ("first_dense_layers", "num_layers"),
    ("moe_experts_per_token", "moe_num_experts"),
)
"""Pairs of a model's fields where the first cannot exceed the second (a part cannot exceed the whole)."""


def check_model(model: Model, where: str) -> None:
    """The checks across a model's fields that ranges cannot express: active parameters within the total,
    KV heads within the heads, global and dense layers within the layers, active experts within the experts.

    Raises ``CatalogError`` naming the field (``where`` is the model's path, e.g. ``$.models[3]``).
    """
    for part, whole in _NOT_ABOVE:
        part_value, whole_value = getattr(model, part), getattr(model, whole)
        if part_value is not None and whole_value is not None and part_value > whole_value:
            raise CatalogError(f"{where}.{part} is {part_value}, more than its {whole} ({whole_value})")


_BOUND_ERROR = re.compile(r"^Expected `(?P<kind>int|float)` (?P<op>>=|>|<=|<) (?P<bound>\S+) - at `(?P<path>\$[^`]*)`$")
_PATH_STEP = re.compile(r"\.(\w+)|\[(\d+)\]")
_BOUND_WORDS = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}


def _number_message(exc: msgspec.ValidationError, document: bytes | object) -> str | None:
    """The sentence for a number outside its range, naming the field and the value, the same for a decoded
    document and a catalog built in Python (``document``: the JSON bytes, or the record as builtins):
    ``$.models[1].num_layers is 0; it must be at least 1``; ``... is -3; it must be a non-negative number``;
    ``$.models[0].quants[0].bits_per_weight must be above 0``. None for any other error."""
    match = _BOUND_ERROR.match(str(exc))
    if match is None:
        return None
    kind, op, bound, path = match.group("kind", "op", "bound", "path")
    if op == ">" and float(bound) == 0:
        return f"{path} must be above 0"
    value = msgspec.json.decode(document) if isinstance(document, bytes) else document
    for key, index in _PATH_STEP.findall(path):
        try:
            value = value[key] if key else value[int(index)]
        except (KeyError, IndexError, TypeError):
            return None
    if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        shown = str(float(value)) if abs(value) < 1e30 else f"{float(value):g}"
    else:
        shown = str(value) if len(str(value)) <= 30 else f"a {len(str(abs(value)))}-digit number"
    if op == ">=" and float(bound) == 0:
        return f"{path} is {shown}; it must be a non-negative number"
    return f"{path} is {shown}; it must be {_BOUND_WORDS[op]} {float(bound):g}"


def encode_catalog(catalog: Catalog) -> bytes:
    """Serialize a catalog to compact JSON bytes."""
    return msgspec.json.encode(catalog)


def _check_header(data: bytes) -> None:
    try:
        head = msgspec.json.decode(data, type=_Header)
    except msgspec.DecodeError as exc:
        raise CatalogError(f"catalog is not valid: {exc}") from None
    check_major(head.schema_version)


def check_major(schema_version: str) -> None:
    """Raise ``CatalogError`` when ``schema_version``'s major version is newer than this app understands."""
    if _major(schema_version) > SCHEMA_MAJOR:
        raise CatalogError(
            f"catalog schema {schema_version} is newer than this app understands "
            f"({SCHEMA_VERSION}); update rigcheck"
        )


@contextlib.contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """No cyclic garbage collection inside the block: building a catalog's records makes no cycles, and a
    collection triggered every few hundred of its million allocations took two thirds of the decode time.

    ``freeze``: what is still alive at the end is moved out of the collector's view (``gc.freeze``) before it is
    turned back on, for a command that is about to exit: the first collection after the block would otherwise
    scan every object made in it (a 10,000-model ``fit --json``: 50 ms, for nothing). Frozen objects are still
    freed when their last reference goes; only a cycle among them would be kept."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


class _Header(msgspec.Struct):
    schema_version: str


def _major(version: str) -> int:
    try:
        return int(version.split(".", 1)[0])
    except ValueError:
        raise CatalogError(f"catalog schema_version {version!r} is not of the form MAJOR.MINOR") from None
