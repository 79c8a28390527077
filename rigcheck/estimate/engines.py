"""Serving engines (vLLM, SGLang, TensorRT-LLM, llama.cpp server): their few documented constants.

An engine is described by what it does to the hardware's rooflines, never by model or GPU:

- ``gemm_efficiency``: the share of the dense matrix rate its GEMMs reach, by compute dtype (BF16, FP8, FP4).
  cuBLASLt FP8 GEMMs on an H100 reach 1,290-1,380 of 1,979 TFLOPS at 8k-32k shapes (Azure ND H100 v5
  benchmark results), 0.65-0.70 of peak; serving shapes are smaller.
- ``attention_efficiency``: the share of the matrix rate attention kernels reach (FlashAttention-3,
  FlashMLA, TensorRT-LLM's FMHA).
- ``bandwidth_share``: the share of the memory bandwidth its batched kernels stream weights and KV at
  (STREAM-like copies on an H100 reach 2.9-3.2 of 3.35 TB/s, 0.87-0.95, in the same benchmark).
- ``step_overhead_s`` + ``sequence_overhead_s`` x sequences + ``layer_overhead_s`` x layers: the fixed cost of
  one engine step: scheduling, sampling and the launch gaps between a layer's kernels (a MoE layer counts
  twice, ``ModelShape.overhead_layers``).
- Batch limits as the engine sets them by default: maximum sequences, tokens per step (chunked prefill),
  the share of GPU memory it takes, the activation reserve, and how much of a request's output it reserves
  KV room for when it admits it.

Defaults are read from each engine's source (named in ``source``); the efficiencies and overheads were
chosen on ``serving.csv`` (docs/serving.md), one set per engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rigcheck.estimate.memory import GIB


@dataclass(frozen=True)
class ServingEngine:
    """One serving engine's constants; see the module docstring for what each means."""

    name: str
    """Command-line name: vllm, sglang, trtllm, llama.cpp."""
    label: str
    runtime: str
    """The estimator runtime whose single-stream figures this engine's batch of one reproduces."""
    gemm_efficiency: dict[str, float]
    attention_efficiency: float
    moe_efficiency: float
    """Grouped (MoE) GEMMs relative to dense GEMMs of the same dtype: routing, token permutation and
    many small GEMMs per layer."""
    bandwidth_share: float
    rocm_factor: float
    """On AMD Instinct GPUs (ROCm), the share of the CUDA figures above its kernels reach: hipBLASLt, AITER and
    Triton-on-ROCm kernels trail their CUDA counterparts on the same rooflines."""
    step_overhead_s: float
    sequence_overhead_s: float
    layer_overhead_s: float
    max_sequences_large: int
    """Default maximum running sequences on GPUs with at least 70 GiB."""
    max_sequences_small: int
    max_batched_tokens_large: int
    """Default tokens per step (the prefill chunk plus the decode tokens) on GPUs with at least 70 GiB."""
    max_batched_tokens_small: int
    memory_fraction: float
    """Share of GPU memory the engine takes for weights, activations and KV (vLLM gpu_memory_utilization)."""
    activation_reserve_bytes: float
    """Per GPU, out of that share: CUDA context, CUDA graphs, activations for the largest step, NCCL buffers."""
    kv_output_reserve: float
    """Share of a request's output length the scheduler keeps KV room for when admitting it: 1 for an engine
    that guarantees no eviction (TensorRT-LLM), about half for engines that admit on what is in use."""
    kv_block_tokens: int
    fp8_kv_default: bool
    """Whether ``--kv-type auto`` stores the cache in FP8 for FP8/FP4 checkpoints."""
    w4_activation_dtype: str
    """Compute dtype of 4-bit weights on GPUs without an FP4 rate: "fp8" (W4A8) or "bf16" (W4A16)."""
    memory_rule: str = "total"
    """How ``memory_fraction`` applies: "total" (vLLM: of all GPU memory, weights included), "free" (TensorRT-LLM:
    of what the weights and activations leave), "sglang" (SGLang's mem_fraction_static by GPU memory and TP)."""
    tensor_parallel: bool = True
    """False for llama.cpp, which splits layers over GPUs (a pipeline)."""
    source: str = ""
    aliases: tuple[str, ...] = field(default=())

    def max_sequences(self, gpu_memory_bytes: float) -> int:
        return self.max_sequences_large if gpu_memory_bytes >= 70 * GIB else self.max_sequences_small

    def max_batched_tokens(self, gpu_memory_bytes: float) -> int:
        if self.memory_rule == "sglang" and gpu_memory_bytes >= 160e9:
            return 2 * self.max_batched_tokens_large  # chunked_prefill_size 16384 on B200 / MI300-class GPUs
        return self.max_batched_tokens_large if gpu_memory_bytes >= 70 * GIB else self.max_batched_tokens_small

    def kv_budget_bytes(self, gpu_memory_bytes: float, weights_per_gpu_bytes: float, tp: int) -> float:
        """Bytes per GPU left for the KV cache once the engine has taken its share and loaded its weights."""
        if self.memory_rule == "free":
            return (gpu_memory_bytes - weights_per_gpu_bytes - self.activation_reserve_bytes) * self.memory_fraction
        if self.memory_rule == "sglang":
            return gpu_memory_bytes * sglang_memory_fraction(gpu_memory_bytes, tp) - weights_per_gpu_bytes
        return gpu_memory_bytes * self.memory_fraction - weights_per_gpu_bytes - self.activation_reserve_bytes


def sglang_memory_fraction(gpu_memory_bytes: float, tp: int) -> float:
    """SGLang's default mem_fraction_static: (memory - reserved) / memory, the reserve (activations, CUDA
    graphs) growing with the GPU class and the TP size (server_args.py _handle_mem_fraction_static)."""
    mib = gpu_memory_bytes / 2**20
    if mib < 35 * 1024:
        reserved = (2.8 + tp / 10) * 1024
    elif mib < 90 * 1024:
        reserved = (9.5 + tp / 2) * 1024
    elif mib < 160 * 1024:
        reserved = (12 + tp / 2) * 1024
    else:
        reserved = 32 * 1024
    return max(0.5, (mib - reserved) / mib)


VLLM = ServingEngine(
    name="vllm", label="vLLM", runtime="vllm",
    gemm_efficiency={"bf16": 0.75, "fp8": 0.50, "fp4": 0.40},
    attention_efficiency=0.60, moe_efficiency=0.15, bandwidth_share=0.90, rocm_factor=0.7,
    step_overhead_s=1.5e-3, sequence_overhead_s=10e-6, layer_overhead_s=40e-6,
    max_sequences_large=1024, max_sequences_small=256,
    max_batched_tokens_large=8192, max_batched_tokens_small=2048,
    memory_fraction=0.90, activation_reserve_bytes=3 * GIB,
    kv_output_reserve=0.5, kv_block_tokens=16, fp8_kv_default=False, w4_activation_dtype="bf16",
    source="vllm/engine/arg_utils.py get_batch_defaults (GPUs of 70 GiB or more, not A100: max_num_seqs 1024, "
           "max_num_batched_tokens 8192 for the API server; else 256 and 2048); gpu_memory_utilization 0.9; "
           "block_size 16; kv_cache_dtype auto = the model dtype",
)

SGLANG = ServingEngine(
    name="sglang", label="SGLang", runtime="vllm",
    gemm_efficiency={"bf16": 0.75, "fp8": 0.50, "fp4": 0.40},
    attention_efficiency=0.60, moe_efficiency=0.15, bandwidth_share=0.90, rocm_factor=0.7,
    step_overhead_s=1.5e-3, sequence_overhead_s=10e-6, layer_overhead_s=40e-6,
    max_sequences_large=4096, max_sequences_small=2048,
    max_batched_tokens_large=8192, max_batched_tokens_small=4096,
    memory_fraction=0.88, activation_reserve_bytes=0.0,
    kv_output_reserve=0.5, kv_block_tokens=1, fp8_kv_default=False, w4_activation_dtype="bf16",
    memory_rule="sglang",
    source="sglang/srt/server_args.py (_handle_gpu_memory_settings: chunked_prefill_size 8192 on 60-160 GB GPUs, "
           "16384 above; mem_fraction_static = (memory - reserved) / memory, reserved 9.5-12 GB + TP/2 GB on "
           "H100/H200, 32 GB on B200/MI300); max_running_requests = pool tokens // 2 within a 2048-4096 request "
           "pool; page_size 1",
)

TRTLLM = ServingEngine(
    name="trtllm", label="TensorRT-LLM", runtime="vllm",
    gemm_efficiency={"bf16": 0.75, "fp8": 0.50, "fp4": 0.40},
    attention_efficiency=0.60, moe_efficiency=0.15, bandwidth_share=0.90, rocm_factor=0.7,
    step_overhead_s=1.0e-3, sequence_overhead_s=10e-6, layer_overhead_s=40e-6,
    max_sequences_large=2048, max_sequences_small=2048,
    max_batched_tokens_large=8192, max_batched_tokens_small=8192,
    memory_fraction=0.90, activation_reserve_bytes=3 * GIB,
    kv_output_reserve=1.0, kv_block_tokens=32, fp8_kv_default=True, w4_activation_dtype="fp8",
    memory_rule="free",
    source="tensorrt_llm/llmapi/llm_args.py (max_batch_size 2048, max_num_tokens 8192, "
           "kv_cache_config.free_gpu_memory_fraction 0.9, tokens_per_block 32, capacity scheduler "
           "GUARANTEED_NO_EVICT); ModelOpt FP8/FP4 checkpoints quantize the KV cache to FP8; gpt-oss on Hopper "
           "runs MXFP4 weights with FP8 activations (W4A8)",
    aliases=("tensorrt-llm", "trt-llm", "trt"),
)

LLAMA_CPP = ServingEngine(
    name="llama.cpp", label="llama.cpp server", runtime="llama.cpp",
    gemm_efficiency={"bf16": 0.60, "fp8": 0.60, "fp4": 0.60},
    attention_efficiency=0.65, moe_efficiency=1.0, bandwidth_share=1.0, rocm_factor=1.0,
    step_overhead_s=0.0, sequence_overhead_s=0.0, layer_overhead_s=0.0,
    max_sequences_large=4, max_sequences_small=4,
    max_batched_tokens_large=2048, max_batched_tokens_small=2048,
    memory_fraction=0.98, activation_reserve_bytes=0.5 * GIB,
    kv_output_reserve=1.0, kv_block_tokens=1, fp8_kv_default=False, w4_activation_dtype="bf16",
    tensor_parallel=False,
    source="llama.cpp tools/server (--parallel 4 slots, n_batch 2048, n_ubatch 512, layer split over GPUs); "
           "bandwidth, compute and per-layer costs are the single-stream llama.cpp constants of efficiency.py",
    aliases=("llamacpp", "llama-server", "llama.cpp-server"),
)

ENGINES: dict[str, ServingEngine] = {e.name: e for e in (VLLM, SGLANG, TRTLLM, LLAMA_CPP)}

CURRENT_SINCE = "2025-05"
"""Engine releases from this month on run MLA and fine-grained MoE through fused, CUDA-graph-captured kernels
(FlashMLA and DeepGEMM were published in February 2025 and reached vLLM's, SGLang's and TensorRT-LLM's default
paths that spring). Measurements published before it are estimated with ``EARLIER_RELEASES``."""
EARLIER_RELEASES = {"layer_overhead_s": 300e-6, "moe_efficiency": 0.10, "rocm_factor": 0.5}
"""What changes for releases before ``CURRENT_SINCE``: about 0.3 ms per layer per step in kernels launched
outside CUDA graphs (dstack's March 2025 SGLang, vLLM and TensorRT-LLM runs of DeepSeek-R1 on 8x H200 decode
3-4x slower than InferenceX's December 2025 TensorRT-LLM at the same concurrency), slower MoE kernels, and
ROCm kernels at half the CUDA figures (OCI's October 2024 vLLM runs on MI300X)."""
EARLIER_DEFAULTS = {"vllm": {"max_sequences_large": 256, "max_batched_tokens_large": 2048}}
"""Batch defaults of earlier releases: vLLM raised max_num_seqs to 1024 and max_num_batched_tokens to 8192 on
70 GiB-class GPUs in 2025."""


def engine_as_of(engine: ServingEngine, date: str | None) -> ServingEngine:
    """``engine`` as its releases of ``date`` (YYYY-MM or YYYY-MM-DD) behaved: the current constants from
    ``CURRENT_SINCE`` on (and when no date is known), the earlier ones before it. llama.cpp has one profile."""
    if not date or date[:7] >= CURRENT_SINCE or not engine.tensor_parallel:
        return engine
    from dataclasses import replace

    return replace(engine, label=f"{engine.label} (releases before {CURRENT_SINCE})",
                   **EARLIER_RELEASES, **EARLIER_DEFAULTS.get(engine.name, {}))


def engine_named(name: str) -> ServingEngine:
    """The engine a name or alias means (case-insensitive); ``NAME@YYYY-MM`` asks for its releases of that month
    (``engine_as_of``). Raises ``ValueError`` naming the choices."""
    key, _, date = name.strip().lower().partition("@")
    if date and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", date):
        raise ValueError(f"engine release {date!r} is not a date (YYYY-MM)")
    for engine in ENGINES.values():
        if key == engine.name or key in engine.aliases or key == engine.label.lower():
            return engine_as_of(engine, date or None)
    raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")


def engine_for_text(text: str) -> ServingEngine | None:
    """The engine a free-text label names ("TensorRT-LLM (trt), image ...", "vLLM (ROCm)"), or None."""
    low = text.lower()
    if "tensorrt" in low or "trtllm" in low or "trt-llm" in low:
        return TRTLLM
    if "sglang" in low:
        return SGLANG
    if "vllm" in low:
        return VLLM
    if "llama.cpp" in low or "llama-server" in low:
        return LLAMA_CPP
    return None


def compute_dtype(quant_format: str, engine: ServingEngine, has_fp8: bool, has_fp4: bool) -> str:
    """The dtype an engine's GEMMs run in for a checkpoint format on a GPU with the given rates.

    FP8 checkpoints run in FP8 where the GPU has an FP8 rate (else their weights are upcast to BF16);
    NVFP4/MXFP4 in FP4 on Blackwell and MI355X, else at the engine's W4 activation dtype; AWQ/GPTQ INT4
    (Marlin W4A16) and 16-bit weights in BF16.
    """
    if quant_format == "fp8":
        return "fp8" if has_fp8 else "bf16"
    if quant_format in ("nvfp4", "mxfp4"):
        if has_fp4:
            return "fp4"
        if engine.w4_activation_dtype == "fp8" and has_fp8:
            return "fp8"
        return "bf16"
    return "bf16"
