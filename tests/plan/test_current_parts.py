"""Purchase advice a buyer would follow: what a what-if GPU can run (its architecture), which prices are current,
and how the planner ranks priced against unpriced configurations."""

from __future__ import annotations

import pytest

from rigcheck.catalog.devices import hypothetical_machine, nvidia_architecture
from rigcheck.catalog.records import Device
from rigcheck.catalog.store import load_catalog
from rigcheck.estimate.engine import evaluate
from rigcheck.estimate.plan import _option_key, plan, ranking_price
from rigcheck.estimate.prices import is_current, purchase_price, stale_price_note
from rigcheck.estimate.target import Target
from rigcheck.estimate.types import Settings
from rigcheck.report.builder import build_report


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize("name, architecture, capability", [
    ("NVIDIA Quadro RTX 8000", "Turing", "7.5"),
    ("NVIDIA T4", "Turing", "7.5"),
    ("NVIDIA GeForce RTX 2080 Ti", "Turing", "7.5"),
    ("NVIDIA V100 SXM2 32GB", "Volta", "7.0"),
    ("NVIDIA Tesla P40", "Pascal", "6.1"),
    ("NVIDIA GeForce RTX 3090", "Ampere", "8.6"),
    ("NVIDIA RTX A6000", "Ampere", "8.6"),
    ("NVIDIA A100 80GB SXM", "Ampere", "8.0"),
    ("NVIDIA RTX 5000 Ada Generation", "Ada Lovelace", "8.9"),
    ("NVIDIA RTX 2000 Ada Generation", "Ada Lovelace", "8.9"),
    ("NVIDIA L40S", "Ada Lovelace", "8.9"),
    ("NVIDIA H100 SXM", "Hopper", "9.0"),
    ("NVIDIA B200", "Blackwell", "10.0"),
    ("NVIDIA GeForce RTX 5090", "Blackwell", "12.0"),
    ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "Blackwell", "12.0"),
])
def test_nvidia_architecture_from_the_product_name(name, architecture, capability):
    assert nvidia_architecture(name) == (architecture, capability)


def test_every_nvidia_card_the_planner_considers_has_an_architecture(catalog):
    unknown = [d.name for d in catalog.devices
               if d.vendor.lower() == "nvidia" and d.kind != "laptop" and nvidia_architecture(d.name) is None]
    assert unknown == []


def test_a_what_if_gpu_carries_its_compute_capability(catalog):
    gpu = hypothetical_machine(["Quadro RTX 8000"], 64 * 1024**3, catalog).gpus[0]
    assert (gpu.architecture, gpu.compute_capability) == ("Turing", "7.5")
    assert "architecture table" in gpu.sources["compute_capability"]


@pytest.mark.parametrize("gpus, vllm_formats_allowed", [
    # Volta and Turing: no BF16, FP8 or MXFP4 kernels in vLLM; AWQ/GPTQ (FP16 activations) still run.
    ("4 x Quadro RTX 8000", False),
    ("4 x V100 PCIe 32GB", False),
    ("4 x RTX A6000", True),
    ("4 x RTX 6000 Ada Generation", True),
])
def test_vllm_does_not_assume_bf16_fp8_or_mxfp4_before_ampere(catalog, gpus, vllm_formats_allowed):
    machine = hypothetical_machine([gpus], 256 * 1024**3, catalog)
    models = [m for m in catalog.models if m.id in ("Qwen/Qwen3-32B", "openai/gpt-oss-120b")]
    rows = evaluate(machine, catalog, Settings(context_tokens=8192, prompt_tokens=1024), models=models)
    formats = {q.name: q.format for m in models for q in m.quants}
    vllm_formats = {formats[r.quant] for r in rows if r.runtime == "vllm"}
    assert bool(vllm_formats & {"safetensors", "fp8", "mxfp4"}) == vllm_formats_allowed
    assert any(r.runtime == "llama.cpp" for r in rows)  # GGUF still runs everywhere


def _device(release_date, launch=None, street=None):
    return Device(name="X", vendor="NVIDIA", kind="workstation", release_date=release_date,
                  launch_price_usd=launch, street_price_usd=street)


@pytest.mark.parametrize("release_date, launch, street, as_of, expected", [
    ("2025-01-30", 1999.0, None, "2026-11-29", (1999.0, "launch price")),  # current: the launch price holds
    ("2018-08-13", 10000.0, None, "2026-11-29", None),  # 8 years old: not a price one can pay now
    ("2022-09-20", 1599.0, None, "2026-11-29", None),  # just over 4 years
    ("2022-12-01", 1599.0, None, "2026-11-29", (1599.0, "launch price")),  # just under 4 years
    ("2018-08-13", 10000.0, 2500.0, "2026-11-29", (2500.0, "street price")),  # a street price is current
    (None, 3999.0, None, "2026-11-29", (3999.0, "launch price")),  # no release date: no evidence it is old
    ("2018-08-13", 10000.0, None, None, (10000.0, "launch price")),  # no date to judge by
])
def test_a_launch_price_counts_only_for_a_current_part(release_date, launch, street, as_of, expected):
    assert purchase_price(_device(release_date, launch, street), as_of) == expected


def test_a_stale_launch_price_says_why_it_is_not_used():
    device = _device("2018-08-13", 10000.0)
    assert not is_current(device, "2026-11-29")
    assert stale_price_note(device, "2026-11-29") == "price unknown (launch price $10,000 in 2018: not a current part)"
    assert stale_price_note(_device("2025-01-30", 1999.0), "2026-11-29") is None


@pytest.mark.parametrize("model_id, klass", [
    ("deepseek-ai/DeepSeek-R1", "any"),
    ("moonshotai/Kimi-K2-Instruct-0905", "workstation"),
    ("Qwen/Qwen3-235B-A22B", "any"),
])
def test_plan_lists_priced_options_in_price_order_then_unpriced_current_parts_first(catalog, model_id, klass):
    model = next(m for m in catalog.models if m.id == model_id)
    target = Target(min_decode_tokens_per_s=10, max_ttft_s=60, machine_class=klass)
    result = plan(model, catalog, target, limit=50)
    assert result.options
    keys = [_option_key(o, target.mode, catalog.generated_at) for o in result.options]
    priced = [ranking_price(o.prices, target.mode) for o in result.options]
    n_priced = sum(p is not None for p in priced)
    assert all(p is not None for p in priced[:n_priced]), "priced and unpriced options interleave"
    assert [p[0] for p in priced[:n_priced]] == sorted(p[0] for p in priced[:n_priced])
    unpriced_current = [not k[1] for k in keys[n_priced:]]
    assert unpriced_current == sorted(unpriced_current, reverse=True), "an old part before a current one"
    for option in result.options:  # no option is priced by a launch price of a part no longer sold new
        if option.prices.purchase_usd is not None and option.prices.purchase_note.startswith("launch"):
            assert is_current(option.config.device, catalog.generated_at)


def test_the_report_answer_for_two_3090s_does_not_say_buy_quadro_cards(catalog):
    machine = hypothetical_machine(["2 x RTX 3090"], 128 * 1024**3, catalog)
    data = build_report([machine], catalog, Settings())
    answer = data.machines[0].summary.answer
    assert answer.startswith("To run ")
    assert "Quadro" not in answer and "$40,000" not in answer
    plan_labels = [o.label for o in data.machines[0].plans[0].options]
    assert not any("Quadro" in label for label in plan_labels[:3])
