"""The serving step model and its steady state, as tables of cases with the reason for each expectation."""

from __future__ import annotations

import math

import pytest
from msgspec.structs import replace

from rigcheck.catalog.records import Quant
from rigcheck.estimate.engines import LLAMA_CPP, TRTLLM, VLLM, compute_dtype, engine_as_of, engine_named
from rigcheck.estimate.estimator import Estimator
from rigcheck.estimate.memory import model_shape
from rigcheck.estimate.node import Parallelism, node_from_machine, parallelism_for
from rigcheck.estimate.runtimes import RuntimeView
from rigcheck.estimate.serve import (
    ServeError,
    ServeRequest,
    point_for,
    setup_serving,
    static_batch,
    steady_state,
)
from rigcheck.estimate.step import StepModel
from rigcheck.estimate.types import Settings
from tests.estimate.records import DEEPSEEK_MLA, GIB, H100, LLAMA3_8B, RTX_3090, RTX_4090, gguf, machine

# An H100 with its NVLink row, and a DeepSeek-class MoE with an FP8 checkpoint, as the device table has them.
H100_NVL = replace(H100, interconnect="NVLink 4 (NVSwitch)", interconnect_bytes_per_s=450e9,
                   interconnect_latency_s=25.6e-6)
H200 = replace(H100_NVL, name="NVIDIA H200 SXM", aliases=["H200"], memory_bytes=141 * GIB, bandwidth_bytes_per_s=4800e9,
               memory_type="HBM3e")
B200 = replace(H100_NVL, name="NVIDIA B200", aliases=["B200"], memory_bytes=180 * GIB, bandwidth_bytes_per_s=8000e9,
               fp16_tensor_tflops=2250, fp8_tensor_tflops=4500, fp4_tensor_tflops=9000, interconnect_bytes_per_s=900e9)
DEVICES = [H100_NVL, H200, B200, RTX_4090, RTX_3090]
BF16 = Quant(name="BF16", format="safetensors", bits_per_weight=16.0, runtimes=["vllm"])
FP8 = Quant(name="FP8", format="fp8", bits_per_weight=8.0, runtimes=["vllm"])
NVFP4 = Quant(name="NVFP4", format="nvfp4", bits_per_weight=4.5, runtimes=["vllm"])
Q4 = gguf("Q4_K_M", 4.89, int(4.58 * GIB))
LLAMA = replace(LLAMA3_8B, quants=[BF16, FP8, Q4])
DEEPSEEK = replace(DEEPSEEK_MLA, quants=[*DEEPSEEK_MLA.quants, NVFP4])


def setup(model, quant, gpus, engine="vllm", **request):
    req = ServeRequest(engine=engine, **request)
    return setup_serving(model, quant, machine(gpus), DEVICES, req)


# --- batch 1 is the single-stream estimate --------------------------------------------------------------

@pytest.mark.parametrize(("model", "quant", "gpus", "runtime", "why"), [
    (LLAMA, BF16, [H100_NVL], "vllm", "one GPU: weights and KV streamed at the engine's share, fixed costs per step"),
    (LLAMA, FP8, [H100_NVL, H100_NVL], "vllm", "tensor parallel: half the bytes per GPU, two all-reduces a layer"),
    (DEEPSEEK, DEEPSEEK_MLA.quants[0], [H200] * 8, "vllm", "MLA's latent cache replicated on all 8 GPUs, k/E experts"),
    (LLAMA, Q4, [RTX_4090], "llama.cpp", "llama.cpp's calibrated single-stream decode, one GPU"),
    (LLAMA, Q4, [RTX_3090, RTX_3090], "llama.cpp", "a layer split: every layer read in turn, a hop per GPU"),
])
def test_a_batch_of_one_is_the_single_stream_estimate(model, quant, gpus, runtime, why):
    depth = 2048
    est = Estimator(machine(gpus), DEVICES, Settings(prompt_tokens=depth))
    single = est.estimate(est.shape(model), quant, runtime).decode_tokens_per_s.expected
    s = setup(model, quant, gpus, engine=runtime)
    assert 1.0 / s.step_model.decode_seconds(1.0, depth) == pytest.approx(single, rel=1e-6), why


# --- concurrency: aggregate up, per user down; the KV pool caps it ------------------------------------------

@pytest.mark.parametrize(("model", "quant", "gpus", "engine"), [
    (LLAMA, FP8, [H100_NVL], "vllm"),
    (LLAMA, FP8, [H100_NVL], "trtllm"),
    (DEEPSEEK, DEEPSEEK_MLA.quants[0], [H200] * 8, "sglang"),
    (DEEPSEEK, NVFP4, [B200] * 8, "trtllm"),
    (LLAMA, Q4, [RTX_4090], "llama.cpp"),
])
def test_throughput_rises_and_per_user_rate_falls_with_concurrency(model, quant, gpus, engine):
    s = setup(model, quant, gpus, engine=engine, input_tokens=1024, output_tokens=512)
    points = [steady_state(s, float(c)) for c in (1, 2, 4, 16, 64, 256) if c <= s.max_concurrency]
    outputs = [p.output_tokens_per_s for p in points]
    per_user = [p.per_user_tokens_per_s for p in points]
    assert outputs == sorted(outputs) and outputs[-1] > outputs[0]
    assert per_user == sorted(per_user, reverse=True) and per_user[-1] < per_user[0]


def test_the_kv_pool_limits_concurrency_and_the_rest_queue():
    # 32k-token requests on one H100: the pool after 8 GB of FP8 weights holds far fewer than 512 of them.
    s = setup(LLAMA, FP8, [H100_NVL], engine="vllm", input_tokens=30_000, output_tokens=2_000, kv_type="bf16")
    pool = s.pool
    assert pool.kv_sequences < pool.engine_sequences and s.max_concurrency == pool.kv_sequences
    per_sequence = s.step_model.shape.kv_cache_bytes(pool.reserved_tokens, "f16")
    assert pool.kv_sequences == math.floor(pool.budget_bytes_per_gpu / per_sequence)
    at_cap = steady_state(s, float(s.max_concurrency))
    over = steady_state(s, float(2 * s.max_concurrency))
    assert over.active == at_cap.active == s.max_concurrency
    assert over.output_tokens_per_s == pytest.approx(at_cap.output_tokens_per_s)
    assert over.queued == pytest.approx(s.max_concurrency)
    assert over.ttft_s > at_cap.ttft_s + 1.0, "queued requests wait for a slot before their first token"


@pytest.mark.parametrize(("model", "quant", "gpus"), [
    (LLAMA, BF16, [H100_NVL]),
    (DEEPSEEK, DEEPSEEK_MLA.quants[0], [H200] * 8),
])
def test_an_fp8_kv_cache_doubles_the_sequences_the_pool_holds(model, quant, gpus):
    long = {"input_tokens": 16_000, "output_tokens": 1_000}
    bf16 = setup(model, quant, gpus, kv_type="bf16", **long).pool
    fp8 = setup(model, quant, gpus, kv_type="fp8", **long).pool
    assert bf16.kv_sequences < bf16.engine_sequences
    assert fp8.sequence_bytes == pytest.approx(bf16.sequence_bytes / 2)
    assert fp8.kv_sequences in (2 * bf16.kv_sequences, 2 * bf16.kv_sequences + 1)


def test_the_engines_default_kv_type():
    # TensorRT-LLM's ModelOpt FP8/FP4 checkpoints quantize the cache; vLLM keeps the model dtype unless asked.
    assert setup(LLAMA, FP8, [H100_NVL], engine="trtllm").pool.kv_dtype == "fp8"
    assert setup(LLAMA, FP8, [H100_NVL], engine="vllm").pool.kv_dtype == "bf16"
    assert setup(LLAMA, BF16, [H100_NVL], engine="trtllm").pool.kv_dtype == "bf16"


# --- the parts of a step ---------------------------------------------------------------------------------

def test_moe_steps_read_the_experts_the_batch_touches():
    s = setup(DEEPSEEK, DEEPSEEK_MLA.quants[0], [H200] * 8)
    one, many = s.step_model.step(1, 1024), s.step_model.step(256, 1024)
    # one token reads 8 of 256 experts; 256 tokens touch nearly all: the expert part grows ~30x, not 256x
    assert 10 < many.experts_s / one.experts_s < 40


def test_expert_parallel_sets_the_pace_by_the_busiest_gpu_and_adds_all_to_all():
    tp = setup(DEEPSEEK, DEEPSEEK_MLA.quants[0], [H200] * 8)
    ep = setup(DEEPSEEK, DEEPSEEK_MLA.quants[0], [H200] * 8, expert_parallel=True)
    assert ep.parallelism.label().endswith("(expert parallel)")
    small_tp, small_ep = tp.step_model.step(4, 1024), ep.step_model.step(4, 1024)
    assert small_ep.experts_s > small_tp.experts_s, "at 4 tokens some GPU holds more touched experts than average"
    assert small_ep.communication_s != small_tp.communication_s


def test_mla_prefill_runs_in_its_expanded_form():
    s = setup(DEEPSEEK, DEEPSEEK_MLA.quants[0], [H200] * 8)
    # expanded: per head qk_nope + rope + v = 320 MACs per attended token; absorbed: 2 x 512 + 64 = 1088
    assert s.step_model.prefill_attention_ratio == pytest.approx(320 / 1088)


def test_a_prefill_chunk_costs_compute_the_decode_step_hides_weights_under():
    s = setup(LLAMA, FP8, [H100_NVL])
    decode = s.step_model.step(32, 2048).seconds
    mixed = s.step_model.step(32, 2048, 4096, 0).seconds
    alone = s.step_model.step(0, 0, 4096, 0).seconds
    assert decode < mixed < decode + alone, "chunked prefill overlaps the weight read of the decode step"


@pytest.mark.parametrize(("fmt", "engine", "fp8", "fp4", "dtype", "why"), [
    ("fp8", VLLM, True, False, "fp8", "FP8 checkpoints run on FP8 tensor cores"),
    ("fp8", VLLM, False, False, "bf16", "no FP8 rate (Ampere): weights upcast to BF16"),
    ("nvfp4", TRTLLM, True, True, "fp4", "Blackwell runs NVFP4 natively"),
    ("mxfp4", TRTLLM, True, False, "fp8", "TensorRT-LLM runs MXFP4 as W4A8 on Hopper"),
    ("mxfp4", VLLM, True, False, "bf16", "vLLM's Marlin/Triton path is W4A16 on Hopper"),
    ("awq", VLLM, True, False, "bf16", "AWQ INT4 is W4A16"),
])
def test_compute_dtype_by_checkpoint_engine_and_gpu(fmt, engine, fp8, fp4, dtype, why):
    assert compute_dtype(fmt, engine, fp8, fp4) == dtype, why


# --- layouts, engines and refusals -----------------------------------------------------------------------

@pytest.mark.parametrize(("gpus", "tp", "ep", "label"), [
    (8, None, False, "tensor parallel over 8 GPUs"),
    (8, 2, False, "4 replicas (data parallel) of tensor parallel over 2 GPUs"),
    (8, 1, True, "attention data parallel over 8 replicas + expert parallel over 8 GPUs"),
    (8, 8, True, "tensor parallel over 8 GPUs with experts spread over 8 GPUs (expert parallel)"),
])
def test_layouts_are_named_as_the_engines_name_them(gpus, tp, ep, label):
    node = node_from_machine(machine([H200] * gpus), DEVICES)
    assert parallelism_for(DEEPSEEK, node, True, tp, ep).label() == label


def test_llama_cpp_splits_layers():
    node = node_from_machine(machine([RTX_3090, RTX_3090]), DEVICES)
    assert parallelism_for(LLAMA, node, False).label() == "pipeline (layer split) over 2 GPUs"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tp": 3}, "does not divide"),
    ({"expert_parallel": True}, "not a mixture-of-experts"),
])
def test_impossible_layouts_are_refused(kwargs, message):
    with pytest.raises(ServeError, match=message):
        setup(LLAMA, BF16, [H100_NVL] * 8, **kwargs)


@pytest.mark.parametrize(("quant", "gpus", "engine", "message"), [
    (NVFP4, [H200] * 8, "vllm", "NVFP4 needs a GPU with FP4"),
    (Q4, [H100_NVL], "sglang", "does not serve GGUF"),
    (BF16, [H100_NVL], "llama.cpp", "llama.cpp serves GGUF"),
    (DEEPSEEK_MLA.quants[0], [H100_NVL], "vllm", "no room for the KV cache"),
])
def test_what_an_engine_cannot_serve_is_said_in_one_sentence(quant, gpus, engine, message):
    model = DEEPSEEK if quant in (NVFP4, DEEPSEEK_MLA.quants[0]) else LLAMA
    with pytest.raises(ServeError, match=message):
        setup(model, quant, gpus, engine=engine)


def test_engine_names_and_releases():
    assert engine_named("TensorRT-LLM") is TRTLLM and engine_named("llama-server") is LLAMA_CPP
    earlier = engine_named("vllm@2025-03")
    assert earlier.layer_overhead_s > VLLM.layer_overhead_s and earlier.max_sequences_large == 256
    assert engine_as_of(VLLM, "2025-12-01") is VLLM and engine_as_of(LLAMA_CPP, "2024-01") is LLAMA_CPP
    with pytest.raises(ValueError, match="unknown engine"):
        engine_named("tgi")


# --- static batches and saturation --------------------------------------------------------------------------

def test_a_static_batch_counts_its_prefill_in_the_output_rate():
    s = setup(LLAMA, FP8, [H100_NVL], input_tokens=4096, output_tokens=128, concurrency=64, static=True)
    p = static_batch(s, 64)
    decode_only = 64 / p.step.seconds
    assert p.output_tokens_per_s < decode_only and p.ttft_s > 0
    assert point_for(s, 64.0) == p


def test_saturated_runs_the_most_the_engine_and_pool_allow():
    s = setup(LLAMA, FP8, [H100_NVL], concurrency=None)
    sat = steady_state(s, None)
    assert sat.active == s.max_concurrency and sat.queued == 0
    assert sat.output_tokens_per_s >= steady_state(s, 64.0).output_tokens_per_s


def test_llama_cpp_step_model_needs_its_runtime_view():
    node = node_from_machine(machine([RTX_4090]), DEVICES)
    with pytest.raises(ValueError, match="runtime view"):
        StepModel(model_shape(LLAMA), Q4, node, LLAMA_CPP, Parallelism(1, 1, False, True), "bf16")
    view = RuntimeView("llama.cpp", node.resolved)
    assert StepModel(model_shape(LLAMA), Q4, node, LLAMA_CPP, Parallelism(1, 1, False, True), "bf16",
                     llama_view=view).decode_seconds(1, 512) > 0
