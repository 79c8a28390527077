"""Prefill, decode and serving speed from the memory-bandwidth and compute rooflines.

Decode (one sequence) is memory-bound: each token reads the active weights and the KV cache once.
Prefill is compute-bound: 2 FLOPs per active parameter per token plus attention. Efficiency
constants come from ``efficiency.py``; nothing here knows a device or a model by name.
"""

from __future__ import annotations

import math

from rigcheck.catalog.records import Device, Model, Quant
from rigcheck.estimate.efficiency import Efficiency, efficiency_for, weight_class
from rigcheck.estimate.memory import LLAMA_CPP_UBATCH_TOKENS, ModelShape, model_shape, weights_bytes
from rigcheck.estimate.types import Band

LLAMA_CPP_BATCH_TOKENS = 2048
"""llama.cpp's default n_batch: prompt tokens submitted at once, split into ubatches of 512."""
PCIE_OFFLOAD_MIN_BATCH_TOKENS = 32
"""llama.cpp copies RAM-resident weights to the GPU for prompt batches of at least 32 tokens."""
TENSOR_PARALLEL_SCALING = 0.9
"""Each extra GPU in a tensor-parallel group adds 90% of one GPU (all-reduce per layer costs the rest)."""
PCIE_EFFICIENCY = 0.8
"""Share of the PCIe link's payload rate that host-to-device copies of weights reach."""


def achieved_bandwidth(bandwidth_bytes_per_s: float, eff: Efficiency, wclass: str, hbm: bool = False) -> float:
    """The bandwidth a decode step reaches on one device: a share of the spec figure.

    On HBM parts it is also capped at ``decode_bandwidth_ceiling``: llama.cpp's batch-1 kernels keep too
    few loads in flight to fill HBM's wide interface (A100 and H100 rows in speed.csv level off near
    0.9 TB/s whatever their 2-3 TB/s), while GDDR cards up to 1 TB/s reach their share.
    """
    achieved = bandwidth_bytes_per_s * eff.decode_bandwidth[wclass]
    if hbm and eff.decode_bandwidth_ceiling is not None:
        achieved = min(achieved, eff.decode_bandwidth_ceiling)
    return achieved


def is_hbm(device: Device | None) -> bool:
    """Whether a device's memory is HBM (from the spec table's memory type)."""
    return bool(device is not None and device.memory_type and "HBM" in device.memory_type.upper())


def decode_seconds_per_token(
    gpu_read_bytes: float,
    gpu_seconds_per_byte: float,
    ram_read_bytes: float,
    ram_seconds_per_byte: float,
    gpu_eff: Efficiency,
    cpu_eff: Efficiency,
    layers: float,
    gpus_used: int,
) -> float:
    """Time of one decode step at batch 1.

    ``gpu_seconds_per_byte`` is the sum over GPUs of (share of the bytes there) / achieved bandwidth: a
    layer split is a pipeline, so each device reads its own layers in turn and bandwidths do not add.
    ``ram_seconds_per_byte`` is 1 / achieved RAM bandwidth.
    """
    t = 0.0
    if gpu_read_bytes > 0:
        t += gpu_read_bytes * gpu_seconds_per_byte
        t += layers * gpu_eff.decode_overhead_s_per_layer + max(0, gpus_used - 1) * gpu_eff.extra_gpu_overhead_s
    if ram_read_bytes > 0:
        t += ram_read_bytes * ram_seconds_per_byte
        if gpu_read_bytes <= 0:
            t += layers * cpu_eff.decode_overhead_s_per_layer
    return t


def pipeline_speedup(prompt_tokens: int, gpus: int, ubatch_tokens: int = LLAMA_CPP_UBATCH_TOKENS,
                     batch_tokens: int = LLAMA_CPP_BATCH_TOKENS) -> float:
    """Prompt-processing speed-up of llama.cpp's layer split over ``gpus`` GPUs.

    llama.cpp pipelines the ubatches of one batch through the GPUs: P ubatches over G stages take
    (P + G - 1) stage times of 1/G each instead of P, so the gain is P*G / (P + G - 1); a single-ubatch
    prompt (pp512) gains nothing. Matches the 1-8 GPU rows of speed.csv (4090 pp4096: 1.6x on 2, 2.3x on 4).
    """
    if gpus <= 1:
        return 1.0
    per_batch = max(1, math.ceil(min(prompt_tokens, batch_tokens) / ubatch_tokens))
    return per_batch * gpus / (per_batch + gpus - 1)


def prefill_seconds(
    shape: ModelShape,
    prompt_tokens: int,
    depth_tokens: float,
    flops_per_s: float,
    eff: Efficiency,
    wclass: str,
    gpus: int = 1,
    ram_weight_bytes: float = 0.0,
    pcie_bytes_per_s: float = 0.0,
    ubatch_tokens: int = LLAMA_CPP_UBATCH_TOKENS,
    flash_attention: bool = True,
    bandwidth_bytes_per_s: float = 0.0,
) -> float:
    """Seconds to process a prompt of ``prompt_tokens`` after ``depth_tokens`` already in the cache.

    Matrix work (2 FLOPs per active parameter per token) runs at a share of ``flops_per_s``; flash
    attention at ``attention_efficiency`` of it; without flash attention the score matrix makes
    ``score_passes`` f32 passes through memory at ``bandwidth_bytes_per_s``. Element-wise work adds a
    fixed time per token and layer. Weights resident in RAM (a GPU + RAM placement) are streamed over
    PCIe once per ubatch, as llama.cpp does for batches of 32 tokens or more.
    """
    n = max(1, prompt_tokens)
    linear = 2.0 * shape.params_active * n / (flops_per_s * eff.prefill_compute[wclass])
    if shape.is_moe:
        # Routed experts see ubatch x k / E tokens each: small GEMMs, lower efficiency.
        expert_active = shape.expert_params * shape.expert_fraction_active
        gemm_eff = shape.expert_gemm_efficiency(min(n, ubatch_tokens))
        linear += 2.0 * expert_active * n * (1.0 / gemm_eff - 1.0) / (flops_per_s * eff.prefill_compute[wclass])
    attention_macs = shape.attention_macs(depth_tokens, n)
    if flash_attention or bandwidth_bytes_per_s <= 0 or eff.score_passes <= 0:
        attention = 2.0 * attention_macs / (flops_per_s * eff.attention_efficiency)
    else:
        attention = 2.0 * attention_macs / (flops_per_s * eff.prefill_compute[wclass])
        score_elements = attention_macs / (2.0 * shape.head_dim)
        attention += score_elements * 4.0 * eff.score_passes / bandwidth_bytes_per_s
    elementwise = n * shape.layers * eff.prefill_overhead_s_per_layer_token * shape.hidden / 4096
    t = (linear + attention + elementwise) / pipeline_speedup(n, gpus, ubatch_tokens)
    return t + pcie_stream_seconds(n, ram_weight_bytes, pcie_bytes_per_s, ubatch_tokens)


def pcie_stream_seconds(prompt_tokens: int, ram_weight_bytes: float, pcie_bytes_per_s: float,
                        ubatch_tokens: int = LLAMA_CPP_UBATCH_TOKENS) -> float:
    """Prefill time spent copying RAM-resident weights to the GPU: once per ubatch, for prompts of at
    least ``PCIE_OFFLOAD_MIN_BATCH_TOKENS`` (shorter ones are computed on the CPU instead); 0 without
    RAM-resident weights or a PCIe link."""
    n = max(1, prompt_tokens)
    if ram_weight_bytes > 0 and pcie_bytes_per_s > 0 and n >= PCIE_OFFLOAD_MIN_BATCH_TOKENS:
        return math.ceil(n / ubatch_tokens) * ram_weight_bytes / (pcie_bytes_per_s * PCIE_EFFICIENCY)
    return 0.0


def band(expected: float, multipliers: tuple[float, float]) -> Band:
    low, high = multipliers
    return Band(low=expected * low, expected=expected, high=expected * high)


def _device_backend(device: Device) -> str:
    vendor = device.vendor.lower()
    return {"nvidia": "cuda", "apple": "metal", "amd": "rocm"}.get(vendor, "vulkan")


def _device_flops(device: Device, fp8: bool) -> float:
    from rigcheck.estimate.resolved import device_fp16_flops

    if fp8 and device.fp8_tensor_tflops:
        return device.fp8_tensor_tflops * 1e12
    return device_fp16_flops(device, device.vendor.lower(), device.gpu_cores)[0]


def serving_throughput(model: Model, quant: Quant, gpu_specs: list[Device], batch: int,
                       context_tokens: int) -> Band:
    """Aggregate output tokens/s of a server decoding ``batch`` sequences at ``context_tokens`` depth.

    The serving model (``step.py`` and ``serve.py``: engines, continuous batching, the KV pool) answers serving
    questions; this older one-roofline form remains for the llama-batched-bench rows of speed.csv, so the
    calibration figures of docs/estimator.md do not move.

    One step reads the weights once for the whole batch (for MoE, the union of the experts the batch
    routes to: 1 - (1 - k/E)^B of them) plus every sequence's KV cache, and is bounded by compute
    (2 FLOPs per active parameter per sequence). vLLM-class runtimes (non-GGUF quants) use tensor
    parallelism, so bandwidth and compute add over GPUs at 90% scaling per extra card; llama.cpp's
    layer split does not add bandwidth. Does not check that the batch's KV cache fits: the caller
    sizes ``batch`` (see ``max_batch``). Raises ``ValueError`` for an empty ``gpu_specs`` or batch < 1.
    """
    if not gpu_specs:
        raise ValueError("serving_throughput needs at least one GPU")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    shape = model_shape(model)
    w = weights_bytes(shape, quant)
    runtime = "llama.cpp" if quant.format == "gguf" else ("mlx" if quant.format == "mlx" else "vllm")
    backend = _device_backend(gpu_specs[0])
    eff = efficiency_for(runtime, backend)
    wclass = weight_class(quant.name, quant.format)
    bytes_per_param = w / shape.params_total
    expert_bytes = shape.expert_params * bytes_per_param
    touched = 1.0 - (1.0 - shape.expert_fraction_active) ** batch if shape.is_moe else 1.0
    weight_read = (w - expert_bytes) + expert_bytes * touched
    kv_read = batch * shape.kv_cache_bytes(context_tokens, "f16" if runtime != "llama.cpp" else "f16")
    bandwidths = [d.bandwidth_bytes_per_s or 300e9 for d in gpu_specs]
    fp8 = quant.format == "fp8"
    flops = [_device_flops(d, fp8) for d in gpu_specs]
    n = len(gpu_specs)
    achieved = [achieved_bandwidth(b, eff, wclass, is_hbm(d)) for b, d in zip(bandwidths, gpu_specs, strict=True)]
    if runtime == "vllm" and n > 1:
        # Tensor parallelism: every GPU reads its slice of every layer at once.
        scale = 1.0 + TENSOR_PARALLEL_SCALING * (n - 1)
        memory_time = (weight_read + kv_read) / (min(achieved) * scale)
        compute_time = 2.0 * shape.params_active * batch / (min(flops) * scale * eff.prefill_compute[wclass])
    else:
        memory_time = (weight_read + kv_read) * sum(1.0 / (a * n) for a in achieved)
        compute_time = (2.0 * shape.params_active * batch * sum(1.0 / (f * n) for f in flops)
                        / eff.prefill_compute[wclass])
    step = max(memory_time, compute_time) + shape.overhead_layers * eff.decode_overhead_s_per_layer
    if n > 1:
        step += (n - 1) * eff.extra_gpu_overhead_s
    return band(batch / step, eff.decode_band)
