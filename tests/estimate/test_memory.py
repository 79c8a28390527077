"""Memory tables: KV cache by attention kind and cache type, weights, context caps, compute buffers."""

from __future__ import annotations

import pytest

from rigcheck.catalog.records import Model, Quant
from rigcheck.estimate import memory as mem
from tests.estimate.records import DEEPSEEK_MLA, GIB, GPT_OSS_SWA, HYBRID, LLAMA2_7B, LLAMA3_8B

KIB = 1024


@pytest.mark.parametrize(
    "model, context, kv_type, expected_bytes, reason",
    [
        (LLAMA3_8B, 8192, "f16", 8192 * 32 * 2 * 8 * 128 * 2,
         "GQA: 32 layers x (K+V) x 8 KV heads x 128 dims x 2 bytes = 128 KiB per token"),
        (LLAMA2_7B, 4096, "f16", 4096 * 512 * KIB,
         "MHA: 32 KV heads, four times Llama 3's cache per token (512 KiB)"),
        (LLAMA3_8B, 8192, "q8_0", 8192 * 32 * 2 * 8 * 128 * 1.0625,
         "q8_0 stores 34 bytes per 32 values"),
        (LLAMA3_8B, 8192, "q4_0", 8192 * 32 * 2 * 8 * 128 * 0.5625,
         "q4_0 stores 18 bytes per 32 values"),
        (DEEPSEEK_MLA, 10000, "f16", 10000 * 61 * (512 + 64) * 2,
         "MLA: one latent (kv_lora_rank + rope dim) per token and layer, no separate V"),
        (GPT_OSS_SWA, 100000, "f16", (12 * 2 * 8 * 64 * 100000 + 12 * 2 * 8 * 64 * 128) * 2,
         "swa-mixed: 12 global layers hold the whole context, 12 window layers only 128 tokens"),
        (GPT_OSS_SWA, 100, "f16", 24 * 2 * 8 * 64 * 100 * 2,
         "below the window every layer holds the whole (short) context"),
        (HYBRID, 50000, "f16", 12 * 2 * 2 * 256 * 50000 * 2 + 36 * 4 * 1024 * 1024,
         "hybrid-linear: 12 full-attention layers hold KV; 36 linear layers a fixed 4 MiB state"),
    ],
)
def test_kv_cache_bytes(model, context, kv_type, expected_bytes, reason):
    shape = mem.model_shape(model)
    assert shape.kv_cache_bytes(context, kv_type) == pytest.approx(expected_bytes), reason


@pytest.mark.parametrize(
    "quant, expected_bytes, reason",
    [
        (Quant(name="Q4_K_M", format="gguf", bits_per_weight=4.89, file_size_bytes=4_920_000_000),
         4_920_000_000, "the real file size wins when the catalog has it"),
        (Quant(name="Q8_0", format="gguf", bits_per_weight=8.5), 8.03e9 * 8.5 / 8,
         "else parameters x bits per weight / 8"),
        (Quant(name="Q6_K", format="gguf", bits_per_weight=0), 8.03e9 * 6.56 / 8,
         "no bits in the record: the usual figure for the type name"),
    ],
)
def test_weights_bytes(quant, expected_bytes, reason):
    assert mem.weights_bytes(mem.model_shape(LLAMA3_8B), quant) == pytest.approx(expected_bytes), reason


@pytest.mark.parametrize(
    "setting, expected, reason",
    [(4096, 4096, "below the model's maximum: the setting"),
     (32768, 8192, "above it: capped at the model's 8,192 tokens")],
)
def test_context_capped_at_model_maximum(setting, expected, reason):
    assert mem.context_for(mem.model_shape(LLAMA3_8B), setting) == expected, reason


def test_moe_expert_parameters_follow_from_total_and_active():
    shape = mem.model_shape(DEEPSEEK_MLA)
    # total - active = experts not used = expert_params x (1 - 8/256)
    assert shape.expert_params * (1 - 8 / 256) == pytest.approx((671 - 37) * 1e9)
    assert shape.moe_layers == 61 - 3
    assert shape.expert_gemm_efficiency(512) == pytest.approx(16 / 32)


def test_compute_buffer_without_flash_attention_grows_with_context():
    shape = mem.model_shape(LLAMA3_8B)
    fa = mem.compute_buffer_bytes(shape, 8192, flash_attention=True)
    no_fa = mem.compute_buffer_bytes(shape, 8192, flash_attention=False)
    assert no_fa - fa == pytest.approx(512 * 32 * 4 * 8192)  # one layer's f32 KQ scores
    assert 0.2 * GIB < fa < 0.5 * GIB  # logits + activations of one 512-token ubatch


def test_model_without_parameter_count_is_refused():
    with pytest.raises(mem.ShapeError, match="parameter count"):
        mem.model_shape(Model(id="x/y", family="x"))


def test_missing_architecture_is_assumed_and_said():
    shape = mem.model_shape(Model(id="x/y", family="x", params_total_b=7.0))
    assert shape.layers > 0 and shape.hidden > 0
    assert any("assumed" in note for note in shape.assumptions)


def test_unknown_maximum_context_is_capped_and_said():
    shape = mem.model_shape(Model(id="x/y", family="x", params_total_b=7.0, num_layers=32, hidden_size=4096))
    assert shape.max_context_tokens == mem.UNKNOWN_MAX_CONTEXT_TOKENS
    assert mem.context_for(shape, 1_000_000) == 131_072
    assert any("maximum context" in note for note in shape.assumptions)
