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


MACHINES = [
    (["RTX 4090"], "64GB"),  # vLLM and llama.cpp in VRAM, layers and experts offloaded to RAM
    (["8 x H200"], "2TB"),  # tensor parallel and layer split over 8 GPUs
    (["RTX 3090", "RTX 3090"], "128GB"),
    ([], "64GB"),  # CPU only
    (["Apple M3 Ultra (80-core GPU)"], "512GB"),  # unified memory, MLX
]


@pytest.fixture(scope="module")
def embedded_catalog():
    from rigcheck.catalog.store import load_catalog

    return load_catalog()


@pytest.mark.parametrize(("gpus", "ram"), MACHINES)
def test_the_memory_breakdown_adds_up_for_every_placed_row(embedded_catalog, gpus, ram):
    """weights + KV + overhead = total = GPU + RAM, to the byte, for every runtime and placement. vLLM rows used to
    leave the input-embedding table out of gpu_bytes (Llama-2-7b BF16: 17,774,967,296 in total, 17,512,823,296 on
    the GPU, 0 in RAM), and llama.cpp rows of tied-embedding models placed a second copy of the matrix that the
    total did not count (Llama-3.2-3B F16: 752 MiB more on GPU + RAM than in total). The GPU and RAM sides are
    the placement's own sums, cut to whole bytes by row.split_total, which refuses more than rounding: reading
    ``row.memory`` raises on such a row (it used to even the sides out, so the equality below held anyway)."""
    from rigcheck.catalog.devices import hypothetical_machine, parse_size
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings

    machine = hypothetical_machine(gpus, parse_size(ram), catalog=embedded_catalog)
    sizes = {(m.id, q.name): q.file_size_bytes for m in embedded_catalog.models for q in m.quants}
    placed = 0
    for row in evaluate(machine, embedded_catalog, Settings()):
        m = row.memory
        assert m.weights_bytes + m.kv_cache_bytes + m.overhead_bytes == m.total_bytes
        if sizes[(row.model_id, row.quant)]:
            assert m.weights_bytes == sizes[(row.model_id, row.quant)], "weights are the file, copies are overhead"
        if row.verdict == "no_fit":
            continue
        placed += 1
        assert (m.gpu_bytes + m.ram_bytes, row.model_id, row.quant, row.runtime) == (
            m.total_bytes, row.model_id, row.quant, row.runtime)
        if row.runtime != "llama.cpp":
            assert m.ram_bytes == 0, "vLLM and MLX hold every weight on the GPU"
    assert placed > 100


def test_split_total_evens_out_rounding_and_nothing_else():
    from rigcheck.estimate.row import split_total

    assert split_total(100, 60.6, 39.9) == (60, 40)
    assert split_total(100, 99.5, 0.0) == (100, 0)
    assert split_total(100, 0.0, 101.0) == (0, 100)
    with pytest.raises(ValueError, match="90 bytes on the GPU"):
        split_total(100, 90.0, 0.0)  # a part placed nowhere: it returned (100, 0)
    with pytest.raises(ValueError, match="does not add up"):
        split_total(100, 60.0, 50.0)  # a part placed twice


def test_where_the_embedding_matrices_sit(embedded_catalog):
    from rigcheck.catalog.devices import hypothetical_machine, parse_size
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings

    machine = hypothetical_machine(["RTX 4090"], parse_size("64GB"), catalog=embedded_catalog)
    rows = {(r.model_id, r.quant, r.runtime): r.memory for r in evaluate(machine, embedded_catalog, Settings())}
    table = 32000 * 4096 * 2  # Llama 2 7B's token embeddings in 16 bits: 250 MiB
    # vLLM: the whole file on the GPU, the input table included
    vllm = rows[("meta-llama/Llama-2-7b-hf", "BF16", "vllm")]
    assert (vllm.total_bytes, vllm.gpu_bytes, vllm.ram_bytes) == (17_774_967_296, 17_774_967_296, 0)
    # llama.cpp: the token table in RAM, the untied output head and the layers on the GPU
    gguf = rows[("meta-llama/Llama-2-7b-hf", "F16", "llama.cpp")]
    assert gguf.ram_bytes == table and gguf.gpu_bytes == gguf.total_bytes - table
    # llama.cpp, tied (Llama 3.2 3B): the table in RAM and a copy of it on the GPU as the output head, the copy
    # counted as overhead beside the file
    tied = rows[("meta-llama/Llama-3.2-3B-Instruct", "F16", "llama.cpp")]
    copy = 128256 * 3072 * 2
    assert tied.ram_bytes == pytest.approx(copy, rel=1e-6)
    assert tied.gpu_bytes >= tied.weights_bytes + tied.kv_cache_bytes, "every layer and the copy: a file's worth"
    assert tied.overhead_bytes > copy
    untied_3b = rows[("meta-llama/Llama-3.2-3B-Instruct", "BF16", "vllm")]
    assert untied_3b.overhead_bytes == vllm.overhead_bytes  # one copy of a tied matrix under vLLM: no extra


def _row(catalog, gpus, ram, model_id, quant, **settings):
    from rigcheck.catalog.devices import hypothetical_machine, parse_size
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings

    machine = hypothetical_machine(gpus, parse_size(ram), catalog=catalog)
    rows = [r for r in evaluate(machine, catalog, Settings(**settings)) if (r.model_id, r.quant) == (model_id, quant)]
    assert len(rows) == 1
    return rows[0]


def test_a_row_that_does_not_fit_needs_what_it_would_hold_on_the_gpus(embedded_catalog):
    """A no-fit row's total is what it would need on the machine's GPUs, llama.cpp's GPU copy of a tied embedding
    matrix included: Llama-3.2-3B F16 needed 752 MiB less where it did not fit (an RTX 2060 + 2 GB) than where it
    fits (an RTX 4090, the same CUDA overhead), which made "needs X against Y" low."""
    model, quant = "meta-llama/Llama-3.2-3B-Instruct", "F16"
    fits = _row(embedded_catalog, ["RTX 4090"], "64GB", model, quant)
    short = _row(embedded_catalog, ["RTX 2060"], "2GB", model, quant)
    assert (fits.verdict, short.verdict) == ("gpu", "no_fit")
    assert short.memory.total_bytes == fits.memory.total_bytes
    assert short.memory.overhead_bytes == fits.memory.overhead_bytes
    # A prompt longer than the model's maximum: sized at that maximum, the copy counted as where it fits.
    max_ctx = next(m.max_context_tokens for m in embedded_catalog.models if m.id == model)
    at_max = _row(embedded_catalog, ["H200"], "256GB", model, quant, context_tokens=max_ctx)
    too_long = _row(embedded_catalog, ["H200"], "256GB", model, quant, prompt_tokens=max_ctx + 1)
    assert (at_max.verdict, too_long.verdict, at_max.context_tokens) == ("gpu", "no_fit", too_long.context_tokens)
    assert too_long.memory.total_bytes == at_max.memory.total_bytes
    # Without a GPU there is no copy: what it would need in RAM.
    cpu = _row(embedded_catalog, [], "64GB", model, quant)
    cpu_short = _row(embedded_catalog, [], "4GB", model, quant)
    assert (cpu.verdict, cpu_short.verdict) == ("cpu", "no_fit")
    assert cpu_short.memory.total_bytes == cpu.memory.total_bytes
