"""Hand-made catalog, machines and a small fake engine for report tests (no estimator needed).

The fake engine sizes a model x quant as params x bits per weight plus a fixed KV cache and overhead,
places it on the GPU, GPU + RAM or nowhere, and derives decode speed from bandwidth: crude, but every
number in a report built from it can be traced by hand.
"""

from __future__ import annotations

import pytest

from rigcheck.catalog.records import Catalog, Device, HostedOffer, Model, Quant, Score
from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown, Settings
from rigcheck.probe.types import BackendStatus, Cpu, Gpu, Machine, Memory
from rigcheck.report.engine import Engine
from rigcheck.report.records import PlanOption

GIB = 1024**3
KV_BYTES = 1 * GIB
OVERHEAD_BYTES = GIB // 2
RAM_BANDWIDTH = 80e9


def _model(mid, params, quants, **kw):
    return Model(
        id=mid,
        family=mid.split("/")[1].split("-")[0].lower(),
        params_total_b=params,
        params_active_b=kw.pop("active", params),
        max_context_tokens=kw.pop("ctx", 131072),
        quants=[Quant(name=n, format="gguf", bits_per_weight=b) for n, b in quants],
        **kw,
    )


def make_catalog() -> Catalog:
    models = [
        _model("acme/Small-8B-Instruct", 8.0, [("F16", 16.0), ("Q8_0", 8.5), ("Q4_K_M", 4.85)],
               license="Apache-2.0", attention="gqa"),
        _model("acme/Mid-32B", 32.0, [("Q8_0", 8.5), ("Q4_K_M", 4.85)], license="MIT"),
        _model("acme/Large-70B", 70.0, [("Q8_0", 8.5), ("Q4_K_M", 4.85)]),
        _model("acme/Huge-671B", 671.0, [("FP8", 8.0), ("Q4_K_M", 4.85)], active=37.0, moe_num_experts=256,
               moe_experts_per_token=8, ctx=163840),
    ]
    return Catalog(
        schema_version="1.0",
        generated_at="2026-11-01T00:00:00Z",
        sequence=7,
        source="embedded",
        models=models,
        devices=[
            Device(name="NVIDIA GeForce RTX 4090", vendor="NVIDIA", kind="consumer", aliases=["RTX 4090"],
                   memory_bytes=24 * GIB, bandwidth_bytes_per_s=1008e9, launch_price_usd=1599),
        ],
        hosted=[
            HostedOffer(model_id="acme/Huge-671B", provider="cheapco", usd_per_m_input=0.3, usd_per_m_output=1.2,
                        context_tokens=163840, date_seen="2026-10"),
            HostedOffer(model_id="acme/Huge-671B", provider="pricey", usd_per_m_input=1.0, usd_per_m_output=3.0),
            HostedOffer(model_id="acme/Small-8B-Instruct", provider="cheapco", usd_per_m_input=0.02,
                        usd_per_m_output=0.05, residency="region", region="EU"),
        ],
        scores=[
            Score(model_id="acme/Huge-671B", benchmark="swe_bench_verified", value=66.0),
            Score(model_id="acme/Large-70B", benchmark="swe_bench_verified", value=40.0),
            Score(model_id="acme/Mid-32B", benchmark="swe_bench_verified", value=45.0),
            Score(model_id="acme/Small-8B-Instruct", benchmark="aider_polyglot", value=20.0),
            Score(model_id="acme/Mid-32B", benchmark="aider_polyglot", value=30.0),
        ],
    )


@pytest.fixture
def catalog() -> Catalog:
    return make_catalog()


def make_machine(label="ws-01", vram_gib=24, ram_gib=64, gpus=1, name="NVIDIA GeForce RTX 4090") -> Machine:
    return Machine(
        gpus=tuple(
            Gpu(
                index=i,
                vendor="nvidia",
                name=name,
                uuid=f"GPU-0b4c6f1e-7d2a-4c11-9e3f-00000000000{i}",
                serial=f"13240{i}4567890",
                pci_bus_id=f"00000000:0{i + 1}:00.0",
                vram_total_bytes=vram_gib * GIB,
                memory_bandwidth_bytes_per_s=1008e9,
                pcie_gen_max=4,
                pcie_width_max=16,
                power_limit_w=450.0,
                driver_version="560.35.03",
                cuda_version="12.6",
                compute_capability="8.9",
                sources={"vram_total_bytes": "driver", "memory_bandwidth_bytes_per_s": "spec table",
                         "pcie_gen_max": "driver", "driver_version": "driver"},
            )
            for i in range(gpus)
        ),
        cpu=Cpu(model="AMD Ryzen 9 7950X", vendor="AMD", architecture="x86_64", physical_cores=16, logical_cores=32,
                max_clock_mhz=5700, isa_flags=("avx2", "avx512f"), sources={"model": "os"}),
        memory=Memory(total_bytes=ram_gib * GIB, available_bytes=ram_gib * GIB // 2, ram_type="DDR5",
                      sources={"total_bytes": "os"}, unavailable={"ram_speed_mhz": "needs root to read SMBIOS"}),
        hostname=label,
        os_name="Linux",
        os_version="6.8.0",
        probed_at="2026-11-28T10:00:00+00:00",
        origin="profile",
        label=label,
        backends=(BackendStatus("nvidia", True, None, gpus), BackendStatus("amd", False, "no amdgpu driver", 0)),
    )


@pytest.fixture
def machine() -> Machine:
    return make_machine()


def fake_estimate(model: Model, quant: Quant, machine: Machine, settings: Settings, devices=()) -> Estimate:
    weights = int(model.params_total_b * 1e9 * quant.bits_per_weight / 8)
    kv = int(KV_BYTES * settings.context_tokens / 8192)
    total = weights + kv + OVERHEAD_BYTES
    vram = sum(g.vram_total_bytes or 0 for g in machine.usable_gpus)
    ram = machine.memory.total_bytes
    budgets = {"gpu_budget_bytes": vram, "budget_bytes": vram + ram}  # the limits its verdicts use
    if total <= vram:
        verdict, gpu_b, ram_b = "gpu", total, 0
    elif total <= vram + ram:
        verdict, gpu_b, ram_b = "gpu+ram", vram, total - vram
    else:
        return Estimate(model.id, quant.name, "llama.cpp", "no_fit",
                        MemoryBreakdown(weights, kv, OVERHEAD_BYTES, 0, 0, **budgets), settings.context_tokens, None,
                        None, None, None, basis=("does not fit",), bits_per_weight=quant.bits_per_weight)
    active = model.params_active_b / model.params_total_b
    seconds_per_token = active * (gpu_b / 1008e9 + ram_b / RAM_BANDWIDTH) * (1 + settings.prompt_tokens / 200_000)
    decode = 1 / seconds_per_token
    prefill = 3000.0 / (model.params_active_b / 8)
    return Estimate(
        model.id, quant.name, "llama.cpp", verdict,
        MemoryBreakdown(weights, kv, OVERHEAD_BYTES, gpu_b, ram_b, **budgets), settings.context_tokens,
        model.max_context_tokens,
        Band(prefill * 0.7, prefill, prefill * 1.2),
        Band(decode * 0.8, decode, decode * 1.1),
        Band(settings.prompt_tokens / prefill / 1.2, settings.prompt_tokens / prefill, settings.prompt_tokens / prefill / 0.7),
        basis=(f"weights {weights} bytes from {quant.bits_per_weight} bits per weight", "fake engine for tests"),
        placement="all layers on GPU 0" if verdict == "gpu" else "layers split GPU/RAM",
        bits_per_weight=quant.bits_per_weight,
    )


def fake_evaluate(machine: Machine, catalog: Catalog, settings: Settings) -> list[Estimate]:
    """The fake estimates, marked usable and best by the real rules (``engine.mark_best``): one rule everywhere."""
    from rigcheck.estimate.engine import mark_best

    out = []
    for model in catalog.models:
        out += mark_best([fake_estimate(model, q, machine, settings) for q in model.quants], settings.usable)
    return out


def fake_plan(model, quant, settings, catalog, machine_class="any"):
    return quant or "Q4_K_M", [
        PlanOption("2x NVIDIA GeForce RTX 4090", True, purchase_usd=3198.0, rental_usd_per_hour=0.8,
                   usd_per_m_output_rented=0.9, usd_per_m_output_owned=0.4, power_w=900.0,
                   decode_tokens_per_s=Band(20, 25, 28), why="Q4_K_M, layer split"),
        PlanOption("NVIDIA GeForce RTX 4090", False, purchase_usd=1599.0, why="24 GB usable < 43 GB needed (Q4_K_M)"),
    ]


def fake_upgrade(machine, model, settings, catalog, machine_class="any"):
    return [f"add a second {machine.gpus[0].name}: Q4_K_M on GPU, about 25 tok/s, about $1,599"]


@pytest.fixture
def engine() -> Engine:
    return Engine(evaluate=fake_evaluate, estimate=fake_estimate, plan=fake_plan, upgrade=fake_upgrade)
