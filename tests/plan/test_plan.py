"""The planner over a small hand-made device table, with a fake estimator whose arithmetic is plain.

The fake: a model needs its quant's file size + 1.5 GB of KV + 0.5 GB of buffers per GPU; it fits on GPUs when that is at
most 98% of their memory (75% of a Mac's), runs "gpu+ram" when GPU + RAM hold it; decode is 70% of the
slowest GPU's bandwidth over the weights; TTFT is prompt / (10,000 tokens/s per GPU).
"""

from __future__ import annotations

import msgspec
import pytest

from rigcheck.catalog.records import Catalog, Device, Model, Quant, RentalOffer
from rigcheck.estimate import plan as P
from rigcheck.estimate.plan_json import plan_to_dict
from rigcheck.estimate.target import PlanError, Target, quality_bits
from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown
from rigcheck.estimate.upgrade import upgrade_advice
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory

GB = 1e9
GIB = 1024**3


def dev(name, kind, mem_gb, *, price=None, bw=1.0e12, tdp=400.0, unified=False, options=()):
    return Device(name=name, vendor="Apple" if kind == "apple" else "NVIDIA", kind=kind,
                  memory_bytes=int(mem_gb * GIB) if mem_gb else None, bandwidth_bytes_per_s=bw, tdp_w=tdp,
                  launch_price_usd=price, unified_memory=unified,
                  memory_options_bytes=[int(o * GIB) for o in options])


DEVICES = [
    dev("Card24", "consumer", 24, price=1600.0, bw=1.0e12, tdp=450),
    dev("Card32", "consumer", 32, price=2000.0, bw=1.8e12, tdp=575),
    dev("Card48", "workstation", 48, bw=0.96e12, tdp=300),  # no price anywhere
    dev("DC80", "datacenter", 80, bw=3.35e12, tdp=700),
    dev("DC141", "datacenter", 141, bw=4.8e12, tdp=700),
    dev("Mac", "apple", 192, price=5600.0, bw=0.8e12, unified=True, options=(96, 192, 512)),
    dev("Mystery", "consumer", None),
]
RENTALS = [
    RentalOffer(gpu="DC80", usd_per_gpu_hour=2.5, usd_per_gpu_hour_high=3.5, provider="a"),
    RentalOffer(gpu="DC141", usd_per_gpu_hour=4.0, provider="b"),
]


def model(*sizes_gb, params_b=70.0) -> Model:
    names = ["BF16", "Q8_0", "Q4_K_M", "Q2_K"]
    bits = [16.0, 8.5, 4.84, 2.6]
    quants = [Quant(name=n, format="gguf", bits_per_weight=b, file_size_bytes=int(s * GB))
              for n, b, s in zip(names, bits, sizes_gb, strict=False)]
    return Model(id="org/big", family="big", params_total_b=params_b, params_active_b=params_b, quants=quants)


CATALOG = Catalog(schema_version="1.0", generated_at="2026-11-01T00:00:00Z", devices=DEVICES, rentals=RENTALS)
BY_NAME = {d.name: d for d in DEVICES}


def fake_machine(specs, ram_bytes, catalog):
    gpus = []
    for spec in specs:
        count, _, name = spec.partition(" x ") if " x " in spec else ("1", "", spec)
        d = BY_NAME[name]
        for _ in range(int(count)):
            gpus.append(Gpu(index=len(gpus), vendor="apple" if d.kind == "apple" else "nvidia", name=d.name,
                            vram_total_bytes=d.memory_bytes if not d.unified_memory else None,
                            unified_memory=d.unified_memory, memory_bandwidth_bytes_per_s=d.bandwidth_bytes_per_s))
    return Machine(gpus=tuple(gpus), cpu=Cpu(), memory=Memory(total_bytes=ram_bytes or 0), origin="hypothetical",
                   label=" + ".join(specs))


def _need(quant: Quant, gpu_count: int) -> int:
    return quant.file_size_bytes + int(1.5 * GB) + int(0.5 * GB) * max(1, gpu_count)


def fake_estimate(m: Model, quant: Quant, machine: Machine, settings) -> Estimate:
    gpus = machine.usable_gpus
    need = _need(quant, len(gpus))
    if gpus and gpus[0].unified_memory:
        gpu_mem = machine.memory.total_bytes * 0.75
        verdict_fit, spare_ram = "unified", 0  # the GPU's share is the RAM: nothing left to offload to
    else:
        gpu_mem = sum(g.vram_total_bytes or 0 for g in gpus) * 0.98
        verdict_fit, spare_ram = "gpu", machine.memory.total_bytes
    bw = min((g.memory_bandwidth_bytes_per_s for g in gpus), default=50e9)
    if need <= gpu_mem:
        verdict, ram = verdict_fit, 0
        decode = 0.7 * bw / quant.file_size_bytes
    elif need <= gpu_mem + spare_ram:
        verdict, ram = "gpu+ram", int(need - gpu_mem)
        decode = 0.7 * 50e9 / quant.file_size_bytes
    else:
        verdict, ram = "no_fit", 0
        decode = None
    fits = verdict != "no_fit"
    ttft = settings.prompt_tokens / (10_000.0 * max(1, len(gpus))) if fits else None
    band = (lambda x: Band(x * 0.8, x, x * 1.2)) if fits else (lambda x: None)
    return Estimate(
        model_id=m.id, quant=quant.name, runtime="llama.cpp", verdict=verdict,
        memory=MemoryBreakdown(weights_bytes=quant.file_size_bytes, kv_cache_bytes=int(1.5 * GB),
                               overhead_bytes=int(0.5 * GB) * max(1, len(gpus)), gpu_bytes=need - ram,
                               ram_bytes=ram),
        context_tokens=settings.context_tokens, max_context_tokens=settings.context_tokens if fits else None,
        prefill_tokens_per_s=band(10_000.0), decode_tokens_per_s=band(decode), ttft_s=band(ttft),
    )


def fake_evaluate(machine, catalog, settings, models):
    return [fake_estimate(m, q, machine, settings) for m in models for q in m.quants
            if settings.quant is None or q.name == settings.quant]


def run_plan(m, **target):
    return P.plan(m, CATALOG, Target(**target), limit=50, evaluate_fn=fake_evaluate, machine_fn=fake_machine)


def labels(result):
    return [o.config.label for o in result.options]


def test_cheapest_purchase_first_and_why_the_cheaper_card_fails():
    result = run_plan(model(140, 75, 42), quant="Q4_K_M", mode="buy")
    assert labels(result)[:4] == ["2x Card24", "2x Card32", "3x Card24", "Mac 192 GB"]
    assert result.options[0].prices.purchase_usd == 3200.0
    # one card of 24 GB cannot hold 44 GB: the rejection says it with both numbers
    rejected = {r.config.label: r.reason for r in result.rejected}
    assert "Card32" in rejected and "needed (Q4_K_M)" in rejected["Card32"]
    assert "32 GiB" in rejected["Card32"] and "41 GiB needed" in rejected["Card32"]


def test_devices_without_a_price_are_listed_as_price_unknown_after_priced_ones():
    result = run_plan(model(140, 75, 42), quant="Q4_K_M", mode="buy")
    unknown = [o for o in result.options if o.prices.purchase_usd is None]
    assert unknown, "unpriced devices must not be dropped"
    first_unknown = result.options.index(unknown[0])
    assert all(o.prices.purchase_usd is not None for o in result.options[:first_unknown])
    data = plan_to_dict(result)
    notes = {o["label"]: o["purchase_note"] for o in data["options"]}
    assert notes["Card48"] == "price unknown"
    assert "Mystery: memory size not in the device table" in result.not_evaluated


def test_renting_ranks_by_rental_price_and_multiplies_by_gpus():
    result = run_plan(model(140), quant="BF16", mode="rent")
    first = result.options[0]
    assert first.config.label == "DC141"  # 141 GiB x 0.98 holds 142 GB at $4/h
    second = result.options[1]
    assert second.config.label == "2x DC80"  # $6/h typical: midpoint of 2.5-3.5, two GPUs
    assert second.prices.rental_usd_per_hour.expected == pytest.approx(2 * 3.0)
    assert second.prices.rental_usd_per_hour.low == pytest.approx(2 * 2.5)
    assert second.config.split.startswith("layer split (llama.cpp) or tensor parallel")


def test_best_quality_that_meets_the_target_per_configuration():
    result = run_plan(model(140, 75, 42), mode="buy")
    by_label = {o.config.label: o.quant for o in result.options}
    assert by_label["2x Card24"] == "Q4_K_M"  # 48 GB: only the 4-bit fits
    assert by_label["3x Card32"] == "Q8_0"  # 96 GB: 8-bit fits, BF16 does not
    # 160 GB holds BF16 too, but 8 bits and up count as one quality and Q8_0 decodes faster
    assert by_label["2x DC80"] == "Q8_0"


def test_a_decode_target_rules_out_slow_configurations_with_the_reason():
    # Q4_K_M (42 GB): Card24 decodes 0.7 x 1.0e12 / 42e9 = 16.7 tok/s; Card32 30 tok/s
    result = run_plan(model(140, 75, 42), quant="Q4_K_M", mode="buy", min_decode_tokens_per_s=20)
    assert "2x Card24" not in labels(result)
    assert labels(result)[0] == "2x Card32"
    reason = {r.config.label: r.reason for r in result.rejected}["4x Card24"]
    assert "decode 16.7 tokens/s < 20 wanted" in reason


def test_a_ttft_target():
    # prompt 8192 at 10,000 tok/s per GPU: 1 GPU 0.82 s, 2 GPUs 0.41 s
    result = run_plan(model(140, 75, 20), quant="Q4_K_M", mode="buy", prompt_tokens=8192, max_ttft_s=0.5)
    assert all(o.config.count >= 2 or o.config.kind == "unified" for o in result.options if o.config.kind != "unified")
    assert "Card24" not in labels(result)


def test_budget_rules_out_dearer_configurations():
    result = run_plan(model(140, 75, 42), quant="Q4_K_M", mode="buy", budget_usd=3000)
    assert all(o.prices.purchase_usd is not None and o.prices.purchase_usd <= 3000 for o in result.options)
    assert any(r.reason.startswith("over budget") for r in result.rejected)


def test_unified_memory_machines_at_each_size_with_price_only_for_the_stated_one():
    result = run_plan(model(140, 75, 42), quant="Q8_0")
    macs = {o.config.label: o for o in result.options if o.config.kind == "unified"}
    # 96 GiB x 0.75 = 77.3 GB holds 77 GB; unpriced sizes of one device are listed once (the smallest)
    assert set(macs) == {"Mac 96 GB", "Mac 192 GB"}
    assert macs["Mac 192 GB"].prices.purchase_usd == 5600.0
    assert macs["Mac 96 GB"].prices.purchase_usd is None
    assert "known only with 192 GB" in macs["Mac 96 GB"].prices.purchase_note


def test_a_model_larger_than_any_node_gets_multi_node_configurations_on_paper():
    result = run_plan(model(2400), quant="BF16", mode="rent")
    assert any("multi-node" in n or "more than any single node" in n for n in result.notes)
    first = result.options[0]
    assert first.config.kind == "multi-node"
    assert first.config.label.startswith("3 nodes x 8x DC141") or first.config.label.startswith("4 nodes x 8x DC80")
    assert "InfiniBand" in first.config.interconnect
    assert first.prices.rental_usd_per_hour is not None


def test_unknown_quant_is_one_clear_error():
    with pytest.raises(PlanError, match="no quant 'Q9'; available: BF16, Q8_0"):
        run_plan(model(140, 75), quant="Q9")


@pytest.mark.parametrize("kwargs", [{"context_tokens": 0}, {"min_decode_tokens_per_s": -1}, {"max_ttft_s": 0},
                                    {"budget_usd": -5}, {"mode": "lease"}])
def test_target_rejects_nonsense(kwargs):
    with pytest.raises(PlanError):
        Target(**kwargs)


def test_quality_is_the_rules_near_lossless_counts_as_one():
    fp8 = Quant(name="FP8", format="fp8", bits_per_weight=8.0)
    q8 = Quant(name="Q8_0", format="gguf", bits_per_weight=8.5)
    q6 = Quant(name="Q6_K", format="gguf", bits_per_weight=6.56)
    bf16 = Quant(name="BF16", format="safetensors", bits_per_weight=16.0)
    q5 = Quant(name="Q5_K_M", format="gguf", bits_per_weight=5.68)
    assert quality_bits(fp8) == quality_bits(q8) == quality_bits(bf16) == quality_bits(q6) == 6.0
    assert quality_bits(q5) == 5.68


# --- upgrade advice ---------------------------------------------------------------------------------


def machine_with(gpus: int, ram_gb: float) -> Machine:
    m = fake_machine([f"{gpus} x Card24"] if gpus > 1 else ["Card24"], int(ram_gb * GIB), CATALOG)
    return msgspec.structs.replace(m, origin="probed", label="desk")


def advice(m, mach, **target):
    return upgrade_advice(m, mach, CATALOG, Target(**target), evaluate_fn=fake_evaluate,
                            machine_fn=fake_machine)


def test_no_change_needed_when_it_already_runs():
    result = advice(model(140, 75, 20), machine_with(1, 32), quant="Q4_K_M")
    assert [u.kind for u in result] == ["none"]


def test_more_ram_comes_first_then_a_second_card_then_a_bigger_card():
    # Q4_K_M needs 44 GB; one Card24 holds 23.5; 16 GB RAM is short, 32 GB is enough for gpu+ram
    result = advice(model(140, 75, 42), machine_with(1, 16), quant="Q4_K_M")
    kinds = [u.kind for u in result]
    assert kinds[0] == "ram" and "to 32 GB" in result[0].change
    assert "add-gpu" in kinds
    second = next(u for u in result if u.kind == "add-gpu")
    assert second.change == "add a second Card24" and second.cost_usd == 1600.0
    assert second.estimate.verdict == "gpu"
    assert any(u.kind == "replace-gpu" for u in result)


def test_a_speed_target_makes_ram_offload_useless_and_says_so_by_leaving_it_out():
    result = advice(model(140, 75, 42), machine_with(1, 16), quant="Q4_K_M", min_decode_tokens_per_s=10)
    assert "ram" not in [u.kind for u in result]
    assert result[0].kind == "add-gpu"
    assert all(u.meets_target for u in result)


def test_a_unified_memory_machine_moves_to_a_bigger_one():
    mac = msgspec.structs.replace(fake_machine(["Mac"], int(96 * GIB), CATALOG), origin="probed", label="mac")
    result = advice(model(140, 75, 42), mac, quant="BF16")  # 142 GB: needs 192 GiB x 0.75
    assert [u.kind for u in result] == ["machine"]
    assert result[0].change == "move to a Mac 192 GB" and result[0].cost_usd == 5600.0


def test_a_machine_without_a_gpu_is_told_to_add_one():
    cpu_only = Machine(gpus=(), cpu=Cpu(), memory=Memory(total_bytes=int(8 * GIB)), label="box")
    result = advice(model(140, 75, 20), cpu_only, quant="Q4_K_M", min_decode_tokens_per_s=10)
    cards = [u for u in result if u.kind == "replace-gpu"]
    assert cards and cards[0].change.startswith("add a ")
    assert cards[0].estimate.verdict == "gpu"


def test_with_a_budget_unpriced_devices_are_rejected_with_that_reason_not_dropped():
    result = run_plan(model(140, 75, 42), quant="Q4_K_M", mode="buy", budget_usd=5000)
    reasons = {r.config.device.name: r.reason for r in result.rejected}
    assert reasons["Card48"] == "price unknown: cannot be checked against the $5,000 budget"


def test_per_gpu_buffers_of_a_big_probe_machine_do_not_prune_a_single_card():
    # 48 GB of weights: one 48 GiB card holds 48 + 1.5 + 0.5 = 50 GB (50.5 usable); an 8-GPU machine's
    # 4 GB of buffers would make it look 53.5 GB.
    result = run_plan(model(140, 75, 48), quant="Q4_K_M")
    assert "Card48" in labels(result)


def test_the_reason_for_a_short_configuration_names_both_sizes():
    # 700 GB of BF16 weights + 1.5 GB KV + 0.5 GB per GPU: 8x DC80 (640 GiB, 627 usable) falls short
    result = run_plan(model(700), quant="BF16", mode="rent")
    reason = {r.config.label: r.reason for r in result.rejected}["8x DC80"]
    assert reason.startswith("640 GiB (627 GiB usable) < ") and reason.endswith(" needed (BF16)")
