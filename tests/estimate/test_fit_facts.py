"""Verdicts as tables: the product argument's facts on the embedded catalog, and placements on hand-made records."""

from __future__ import annotations

import pytest

from rigcheck.catalog.devices import hypothetical_machine
from rigcheck.catalog.lookup import find_model
from rigcheck.catalog.store import load_catalog
from rigcheck.estimate import estimate, evaluate
from rigcheck.estimate.types import Settings
from tests.estimate.records import (
    DEEPSEEK_MLA,
    GIB,
    GPT_OSS_SWA,
    H100,
    LLAMA3_8B,
    M2_ULTRA,
    RTX_3060,
    RTX_3090,
    RTX_4090,
    machine,
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _quant(model, name):
    return next(q for q in model.quants if q.name == name)


def _smallest(model):
    return min(model.quants, key=lambda q: q.file_size_bytes or 0)


@pytest.mark.parametrize(
    "model_id, quant, gpus, ram, expected, reason",
    [
        ("deepseek-ai/DeepSeek-R1", "FP8", ["8 x H100 SXM"], "2TB", {"no_fit"},
         "671 GB of FP8 weights exceed 8 x 80 GB = 640 GB of VRAM before any cache (vLLM keeps all on GPU)"),
        ("deepseek-ai/DeepSeek-R1", "FP8", ["8 x H200"], "2TB", {"gpu"},
         "8 x 141 GB = 1128 GB holds the 671 GB of weights, the cache and vLLM's overhead"),
        ("zai-org/GLM-5.2", None, ["RTX 5090"], "64GB", {"no_fit"},
         "the smallest quant (217 GB, about 223 GB to run) exceeds 32 GB VRAM + 64 GB RAM"),
        ("Qwen/Qwen3-30B-A3B", "Q4_K_M", ["RTX 5090"], "64GB", {"gpu"},
         "about 18 GB of weights fit a 32 GB GPU with room for the cache"),
    ],
)
def test_argument_fit_facts(catalog, model_id, quant, gpus, ram, expected, reason):
    from rigcheck.catalog.devices import parse_size

    model = find_model(catalog, model_id)
    q = _quant(model, quant) if quant else _smallest(model)
    m = hypothetical_machine(gpus, parse_size(ram), catalog=catalog)
    est = estimate(model, q, m, Settings(), catalog.devices)
    assert est.verdict in expected, f"{reason}: got {est.verdict} ({est.memory.total_bytes / 1e9:.0f} GB)"


def test_glm_smallest_quant_needs_about_223_gb(catalog):
    model = find_model(catalog, "zai-org/GLM-5.2")
    q = _smallest(model)
    m = hypothetical_machine(["RTX 5090"], 64 * GIB, catalog=catalog)
    est = estimate(model, q, m, Settings(), catalog.devices)
    assert 215e9 <= q.file_size_bytes <= 220e9
    assert 219e9 <= est.memory.total_bytes <= 240e9, "weights plus cache and buffers: about 223 GB"


def test_671b_on_512gb_unified_takes_minutes_to_prefill_8000_tokens(catalog):
    """The best quant of a 671B-class model on a 512 GB Mac: prefilling 8,000 tokens takes minutes."""
    model = find_model(catalog, "deepseek-ai/DeepSeek-R1")
    m = hypothetical_machine(["M3 Ultra (80-core GPU)"], 512 * GIB, catalog=catalog)
    rows = evaluate(m, catalog, Settings(prompt_tokens=8000, context_tokens=8192), models=[model])
    best = [r for r in rows if r.best]
    assert len(best) == 1 and best[0].verdict == "unified"
    assert best[0].ttft_s.expected >= 60, f"TTFT {best[0].ttft_s.expected:.0f} s is not minutes"
    fitting_on_gpu = [r for r in rows if r.verdict == "unified"]
    assert all(r.ttft_s.low >= 30 for r in fitting_on_gpu), "no quant prefills 8k tokens in seconds"


@pytest.mark.parametrize(
    "model, quant, devices, ram_gib, expected_verdict, placement_part, reason",
    [
        (LLAMA3_8B, "Q4_K_M", [RTX_3060], 32, "gpu", "all 32 layers on GPU", "4.6 GiB fits a 12 GiB card"),
        (LLAMA3_8B, "F16", [RTX_3060], 32, "gpu+ram", "layers on GPU", "15 GiB of F16 needs RAM beside 12 GiB"),
        (LLAMA3_8B, "F16", [RTX_3060, RTX_3060], 32, "gpu", "2 GPUs (layer split)",
         "two 12 GiB cards hold it split by layers"),
        (LLAMA3_8B, "F16", [], 32, "cpu", "RAM (CPU)", "no GPU: everything in RAM"),
        (LLAMA3_8B, "F16", [], 8, "no_fit", "does not fit", "15 GiB of weights exceed 8 GiB of RAM"),
        (LLAMA3_8B, "MLX-4bit", [M2_ULTRA], 64, "unified", "unified memory", "MLX on Apple silicon"),
        (GPT_OSS_SWA, "MXFP4", [RTX_3090], 64, "gpu", "all 24 layers", "11.3 GiB fits a 24 GiB card"),
        (GPT_OSS_SWA, "MXFP4", [RTX_3060], 64, "gpu+ram", "RAM",
         "11.3 GiB of weights + 0.7 GiB of buffers exceed 12 GiB less headroom"),
        (DEEPSEEK_MLA, "Q4_K_M", [RTX_4090], 512, "gpu+ram", "--n-cpu-moe",
         "MoE: attention and shared weights on the GPU, routed experts in RAM decodes faster"),
    ],
)
def test_placement_table(model, quant, devices, ram_gib, expected_verdict, placement_part, reason):
    from rigcheck.estimate.estimator import Estimator

    q = _quant(model, quant)
    est_machine = machine(devices, ram_gib)
    estimator = Estimator(est_machine, [RTX_4090, RTX_3090, RTX_3060, H100, M2_ULTRA], Settings())
    runtime = estimator.choose_runtime(q)
    assert runtime is not None
    est = estimator.estimate(estimator.shape(model), q, runtime)
    assert est.verdict == expected_verdict, reason
    assert placement_part in est.placement, f"{reason}: {est.placement}"


def test_runtime_skips(small_catalog):
    """Rows whose runtime cannot run here are left out, not estimated."""
    nvidia = evaluate(machine([RTX_4090]), small_catalog, Settings(), models=[LLAMA3_8B])
    apple = evaluate(machine([M2_ULTRA], 64), small_catalog, Settings(), models=[LLAMA3_8B])
    cpu = evaluate(machine([], 64), small_catalog, Settings(), models=[LLAMA3_8B])
    assert {r.runtime for r in nvidia} == {"llama.cpp", "vllm"}, "MLX does not run on NVIDIA"
    assert {r.runtime for r in apple} == {"llama.cpp", "mlx"}, "vLLM does not run on Apple"
    assert {r.runtime for r in cpu} == {"llama.cpp"}, "only llama.cpp runs on a CPU"


def test_best_is_highest_quality_that_is_usable(small_catalog):
    rows = evaluate(machine([RTX_4090]), small_catalog, Settings(), models=[LLAMA3_8B])
    best = [r for r in rows if r.best]
    assert len(best) == 1
    # F16/BF16/Q8_0 tie on quality (near-lossless, 6 bits and up); the fastest of them wins: Q8_0.
    assert best[0].quant == "Q8_0"


@pytest.mark.parametrize(("gpu", "ram_gib", "model", "quant", "verdict", "reason"), [
    ("RTX 4090", 64, "Qwen/Qwen3-30B-A3B", "Q5_K_M", "gpu",
     "Q5_K_M in VRAM at ~90 tok/s, not Q8_0 split over GPU and RAM at ~35 tok/s"),
    ("RTX 5090", 64, "Qwen/Qwen3-30B-A3B", "Q6_K", "gpu",
     "calibrated llama.cpp Q6_K with room, not uncalibrated vLLM FP8 at 31.2 of 32 GiB (nor Q8_0 at 31.5)"),
    ("RTX 4090", 64, "mistralai/Mixtral-8x7B-Instruct-v0.1", "IQ4_XS", "gpu+ram",
     "only 3-bit fits in VRAM: spill, to the fastest 4-bit, not to Q6_K at a fifth of the speed"),
    ("RTX 4090", 64, "meta-llama/Llama-3.1-8B-Instruct", "Q6_K", "gpu",
     "an 8B in VRAM: Q6_K is as good as Q8_0 and faster"),
])
def test_best_quant_on_the_embedded_catalog(catalog, gpu, ram_gib, model, quant, verdict, reason):
    m = hypothetical_machine([gpu], ram_gib * GIB, catalog=catalog)
    rows = evaluate(m, catalog, Settings(), models=[find_model(catalog, model)])
    best = [r for r in rows if r.best]
    assert len(best) == 1
    assert (best[0].quant, best[0].verdict) == (quant, verdict), reason


def test_free_memory_basis_and_runs_now(small_catalog):
    busy = machine([RTX_4090], 64, free_vram_gib=3, free_ram_gib=4)
    total = evaluate(busy, small_catalog, Settings(quant="Q4_K_M"), models=[LLAMA3_8B])[0]
    now = evaluate(busy, small_catalog, Settings(quant="Q4_K_M", memory_basis="free"), models=[LLAMA3_8B])[0]
    assert total.verdict == "gpu" and total.runs_now is False, "fits the card, not the 3 GiB free now"
    assert now.verdict != "gpu", "sized against free memory it cannot sit on the GPU"


def test_multi_gpu_split_is_a_pipeline_not_added_bandwidth():
    from rigcheck.estimate.estimator import Estimator

    q = _quant(LLAMA3_8B, "F16")
    one = Estimator(machine([H100]), [H100], Settings())
    two = Estimator(machine([H100, H100]), [H100], Settings())
    d1 = one.estimate(one.shape(LLAMA3_8B), q, "llama.cpp").decode_tokens_per_s.expected
    d2 = two.estimate(two.shape(LLAMA3_8B), q, "llama.cpp")
    assert d2.decode_tokens_per_s.expected < d1, "each extra card costs a little, bandwidths do not add"
    assert any("pipeline" in line for line in d2.basis)


def test_unified_memory_runs_now_from_free_ram(small_catalog):
    mac = machine([M2_ULTRA], 64, free_ram_gib=10)
    rows = {r.quant: r for r in evaluate(mac, small_catalog, Settings(), models=[LLAMA3_8B])}
    assert rows["F16"].verdict == "unified" and rows["F16"].runs_now is False, "16 GB does not fit 10 GB free"
    assert rows["Q4_K_M"].runs_now is True


def test_a_2_bit_quant_is_never_the_pick_when_a_4_bit_one_runs(catalog):
    """A CPU-only machine: a 7B's IQ2_XXS decodes fastest, but its Q4 runs too, so the 2-bit quant is neither the
    pick nor the row shown for the model."""
    m = hypothetical_machine([], 32 * GIB, catalog=catalog)
    rows = evaluate(m, catalog, Settings())
    best = [r for r in rows if r.best]
    assert best and not [r for r in best if r.bits_per_weight < 3.0 and any(
        o.bits_per_weight >= 4.0 and o.fits for o in rows if o.model_id == r.model_id)]
    seven_b = [r for r in best if r.model_id == "Qwen/Qwen2.5-7B-Instruct"]
    assert seven_b and seven_b[0].quant != "IQ2_XXS"


@pytest.mark.parametrize(("gpus", "ram", "memory_basis"), [
    (["RTX 4090"], "64GB", "total"),
    (["2 x RTX 3090"], "128GB", "total"),
    ([], "64GB", "total"),
    (["Apple M3 Ultra (80-core GPU)"], "256GB", "total"),
])
def test_each_row_carries_the_budget_its_verdict_was_checked_against(catalog, gpus, ram, memory_basis):
    """The memory chart's limit lines are these budgets: usable VRAM (after the driver headroom) and, where the
    runtime may use RAM, usable RAM (less the system's reserve). Nothing over the budget is placed, everything
    on the GPU(s) is within the GPU budget but for the embeddings llama.cpp keeps in RAM."""
    from rigcheck.catalog.devices import parse_size
    from rigcheck.estimate.resolved import RAM_RESERVE_BYTES, VRAM_HEADROOM_FRACTION

    ram_bytes = parse_size(ram)
    m = hypothetical_machine(gpus, ram_bytes, catalog=catalog)
    rows = evaluate(m, catalog, Settings(memory_basis=memory_basis))
    vram = sum(g.vram_total_bytes or 0 for g in m.usable_gpus)
    unified = any(g.unified_memory for g in m.usable_gpus)
    for row in rows:
        mem = row.memory
        if unified:  # the GPU's share, or all of RAM on the CPU: never both
            assert 0 < mem.gpu_budget_bytes < ram_bytes
            assert mem.budget_bytes == (ram_bytes - RAM_RESERVE_BYTES if row.runtime == "llama.cpp"
                                        else mem.gpu_budget_bytes)
        elif not gpus:
            assert (mem.gpu_budget_bytes, mem.budget_bytes) == (0, 0 if row.runtime != "llama.cpp"
                                                                  else ram_bytes - RAM_RESERVE_BYTES)
        else:
            assert mem.gpu_budget_bytes == pytest.approx(vram * (1 - VRAM_HEADROOM_FRACTION), abs=2)
            expected = mem.gpu_budget_bytes + (ram_bytes - RAM_RESERVE_BYTES if row.runtime == "llama.cpp" else 0)
            assert mem.budget_bytes == pytest.approx(expected, abs=2)
        if row.fits:
            assert mem.total_bytes <= mem.budget_bytes, (row.model_id, row.quant, row.verdict)
        if row.verdict in ("gpu", "unified"):
            assert mem.gpu_bytes <= mem.gpu_budget_bytes, (row.model_id, row.quant)
        assert mem.to_dict()["budget_bytes"] == mem.budget_bytes
