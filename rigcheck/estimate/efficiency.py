"""The estimator's few calibrated constants: efficiency per runtime, backend and weight class, and bands.

These are the only numbers in the estimator chosen from measurements. They are per platform
(runtime + backend + weight class), never per device or per model, and each says where it came from.
``rigcheck.estimate.calibration.fitting.fit_constants`` recomputes them from ``speed.csv``; a test checks
that the values below still agree with that fit, so they cannot drift from their source silently.

Weight classes: "f16" (F16/BF16/F32 weights: plain GEMV/GEMM) and "quant" (block-quantized weights,
whose kernels dequantize on the fly and reach a smaller share of the roofline on fast GPUs).

Decode model: seconds per token = bytes read / (bandwidth x ``decode_bandwidth``, at most
``decode_bandwidth_ceiling`` on HBM parts) + layers x ``decode_overhead_s_per_layer`` (kernel launches
and small kernels, which is why small models on fast GPUs fall short of their roofline; MoE layers count
twice) + (GPUs - 1) x ``extra_gpu_overhead_s`` (layer split is a pipeline: each hop adds a copy and a
sync; bandwidths do not add). Without flash attention the KV cache is read ``decode_kv_slowdown_no_fa``
times slower per byte than the weights.
Prefill model: seconds per prompt token = 2 x active params / (FP16 matrix rate x ``prefill_compute``)
+ attention + layers x ``prefill_overhead_s_per_layer_token``. Attention with flash attention runs at
``attention_efficiency`` of the matrix rate; without it, at the GEMM share plus ``score_passes`` f32
passes over the score matrix at memory speed.

Bands: ``decode_band`` / ``prefill_band`` are (low, high) multipliers of the expected value: the 10th
and 90th percentiles of measured / predicted on the calibration rows of that platform, widened to at
least +-15% where the data are few (a llama.cpp build alone moves results by that much).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Efficiency:
    """Calibrated constants of one runtime on one backend."""

    decode_bandwidth: dict[str, float]
    """Share of the spec-sheet memory bandwidth one decode step achieves, by weight class."""
    decode_overhead_s_per_layer: float
    extra_gpu_overhead_s: float
    prefill_compute: dict[str, float]
    """Share of the FP16 matrix rate prompt processing achieves, by weight class."""
    prefill_overhead_s_per_layer_token: float
    """Element-wise work per token and layer (norms, RoPE, activation quantization), for a 4096-wide
    model; scaled by hidden size. Bounds prompt speed on very fast GPUs."""
    attention_efficiency: float
    """Share of the matrix rate flash attention reaches."""
    score_passes: float
    """Without flash attention: f32 score-matrix passes (write, softmax read/write, read) at memory speed."""
    decode_band: tuple[float, float]
    prefill_band: tuple[float, float]
    source: str
    decode_bandwidth_ceiling: float | None = None
    """Highest bandwidth the runtime's batch-1 kernels sustain on an HBM device, bytes/s (None: no limit)."""
    tp_allreduce_s_per_layer: float = 0.0
    """Tensor parallelism (vLLM over several GPUs): the two all-reduces of each layer, per token."""
    decode_kv_slowdown_no_fa: float = 1.0
    """Without flash attention, decode reads the KV cache through separate score, softmax and weighted-sum
    kernels (V transposed): this many times slower per byte than the weights."""

    @property
    def calibrated(self) -> bool:
        """Whether these constants were fitted on measured rows (their source says "fitted"), rather than set
        by analogy ("not calibrated"): the pick prefers a calibrated runtime at equal quality."""
        return self.source.startswith("fitted")


def _e(decode_f16: float, decode_quant: float, layer_s: float, extra_gpu_s: float, prefill_f16: float,
       prefill_quant: float, prefill_token_s: float, attention: float, passes: float,
       decode_band: tuple[float, float], prefill_band: tuple[float, float], source: str,
       ceiling: float | None = None, allreduce_s: float = 0.0, kv_slowdown: float = 1.0) -> Efficiency:
    return Efficiency({"f16": decode_f16, "quant": decode_quant}, layer_s, extra_gpu_s,
                      {"f16": prefill_f16, "quant": prefill_quant}, prefill_token_s, attention, passes,
                      decode_band, prefill_band, source, ceiling, allreduce_s, kv_slowdown)


_LLAMA_CUDA = _e(0.90, 0.80, 80e-6, 0.16e-3, 0.70, 0.60, 2.0e-6, 0.65, 6.5, (0.85, 1.15), (0.85, 1.18),
                 "fitted on speed.csv llama.cpp CUDA rows (XiongjieDai 2024: 14 GPUs, 1-8 cards; DGX Spark "
                 "benches 2025-26)", ceiling=0.9e12, kv_slowdown=2.0)

EFFICIENCY: dict[tuple[str, str], Efficiency] = {
    ("llama.cpp", "cuda"): _LLAMA_CUDA,
    ("llama.cpp", "metal"): _e(
        0.82, 0.72, 80e-6, 0.0, 0.77, 0.69, 2.0e-6, 0.50, 6.5, (0.85, 1.19), (0.85, 1.15),
        "fitted on speed.csv llama.cpp Metal rows (M1-M3 chips; XiongjieDai 2024 and discussion #4167)",
        kv_slowdown=5.0),
    ("llama.cpp", "rocm"): _e(
        0.70, 0.60, 80e-6, 0.2e-3, 0.60, 0.50, 2.0e-6, 0.18, 6.5, (0.82, 1.38), (0.65, 1.72),
        "fitted on speed.csv llama.cpp ROCm rows (Strix Halo, kyuz0 toolboxes 2026; no F16 rows: F16 set "
        "above the quant figure as on CUDA)"),
    ("llama.cpp", "vulkan"): _e(
        0.80, 0.68, 80e-6, 0.2e-3, 0.35, 0.30, 2.0e-6, 0.18, 6.5, (0.85, 1.33), (0.65, 1.67),
        "fitted on speed.csv llama.cpp Vulkan rows (Strix Halo, kyuz0 toolboxes 2026; no F16 rows: F16 set "
        "above the quant figure as on CUDA)"),
    ("llama.cpp", "cpu"): _e(
        0.65, 0.60, 20e-6, 0.0, 0.35, 0.50, 2.0e-6, 0.5, 6.0, (0.6, 1.4), (0.5, 1.6),
        "not calibrated (no CPU rows in speed.csv): a STREAM-like share of RAM bandwidth; half the FP32 SIMD "
        "peak for quantized matmul (int8 dot products), a third for F16; wide band"),
    ("vllm", "cuda"): _e(
        0.85, 0.75, 40e-6, 0.1e-3, 0.60, 0.50, 1.0e-6, 0.6, 0.0, (0.6, 1.25), (0.6, 1.3),
        "not calibrated single-stream (speed.csv has only max-load TensorRT-LLM rows): CUDA graphs remove "
        "launch gaps but MLA/MoE layers run many kernels; NVLink all-reduce ~10 us each; wide band",
        allreduce_s=20e-6),
    ("vllm", "rocm"): _e(
        0.75, 0.65, 50e-6, 0.15e-3, 0.45, 0.40, 1.5e-6, 0.5, 0.0, (0.55, 1.25), (0.55, 1.3),
        "not calibrated (no rows): vLLM CUDA figures lowered for ROCm kernels; wide band",
        allreduce_s=30e-6),
    ("mlx", "metal"): _e(
        0.85, 0.80, 50e-6, 0.0, 0.70, 0.60, 2.0e-6, 0.5, 0.0, (0.75, 1.25), (0.65, 1.35),
        "not calibrated (no MLX rows): llama.cpp Metal figures, MLX's fused attention"),
}


# llama.cpp's Vulkan backend on NVIDIA GPUs runs its matrix multiplications and flash attention on the
# tensor cores through VK_NV_cooperative_matrix2 (kernels written by NVIDIA for ggml-vulkan), and its
# mat-vec decode kernels stream weights like the CUDA ones: the CUDA constants describe it far better than
# the Vulkan ones fitted on an AMD iGPU (Strix Halo, whose Vulkan driver exposes no matrix cores to
# llama.cpp's shaders). Checked on tests/data/heldout_speed.csv, never fitted on it.
_VENDOR_BACKEND_ALIASES = {("vulkan", "nvidia"): "cuda"}


def efficiency_for(runtime: str, backend: str, vendor: str | None = None) -> Efficiency:
    """Constants for ``runtime`` on ``backend`` (on a GPU of ``vendor`` where that matters); the llama.cpp
    CUDA ones when the pair is unknown."""
    backend = _VENDOR_BACKEND_ALIASES.get((backend, (vendor or "").lower()), backend)
    return EFFICIENCY.get((runtime, backend)) or EFFICIENCY.get(("llama.cpp", backend)) or _LLAMA_CUDA


def weight_class(quant_name: str, fmt: str) -> str:
    """"f16" for unquantized weights (F16, BF16, F32, safetensors), "quant" for everything else."""
    name = quant_name.upper().removesuffix("-GGUF")  # BF16-GGUF: a second BF16 of the model, in GGUF
    if fmt == "safetensors" or name in ("F16", "BF16", "F32", "FP16", "FP32"):
        return "f16"
    return "quant"
