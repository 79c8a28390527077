"""Hand-made catalog records, machines and a small stand-in estimator for the GUI tests.

The stand-in estimator is deliberately simple (weights = params x bits / 8, decode = bandwidth / bytes
read) so each test can say exactly which verdict and ordering it expects; the real estimator has its own tests.
"""

from __future__ import annotations

import msgspec

from rigcheck.catalog.records import Catalog, Device, HostedOffer, Model, Quant, Score
from rigcheck.desktop.catalog_info import CatalogInfo
from rigcheck.desktop.services import Services
from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown, Settings
from rigcheck.probe.types import BackendStatus, Cpu, Gpu, Machine, Memory

GB = 10**9
GIB = 2**30


def q(name: str, bpw: float, params_b: float, fmt: str = "gguf") -> Quant:
    return Quant(name=name, format=fmt, bits_per_weight=bpw, file_size_bytes=int(params_b * 1e9 * bpw / 8),
                 runtimes=["llama.cpp"])


def make_catalog(sequence: int = 1) -> Catalog:
    models = [
        Model(id="acme/Tiny-1B", family="tiny", name="Tiny 1B", params_total_b=1.0, params_active_b=1.0,
              max_context_tokens=32768, license="apache-2.0", use_cases=["chat", "small"],
              quants=[q("Q4_K_M", 4.8, 1.0), q("Q8_0", 8.5, 1.0)]),
        Model(id="acme/Mid-8B", family="mid", name="Mid 8B", params_total_b=8.0, params_active_b=8.0,
              max_context_tokens=131072, license="llama3.1", use_cases=["chat", "code"],
              quants=[q("Q4_K_M", 4.8, 8.0), q("Q8_0", 8.5, 8.0), q("F16", 16.0, 8.0)]),
        Model(id="acme/Big-70B", family="big", name="Big 70B", params_total_b=70.0, params_active_b=70.0,
              max_context_tokens=131072, license="llama3.1", use_cases=["chat", "reasoning"],
              quants=[q("Q4_K_M", 4.8, 70.0), q("Q8_0", 8.5, 70.0)]),
        Model(id="acme/Huge-MoE-400B", family="huge", name="Huge MoE", params_total_b=400.0, params_active_b=17.0,
              max_context_tokens=1048576, license="other", use_cases=["code", "agentic"],
              moe_num_experts=128, moe_experts_per_token=1, quants=[q("Q2_K", 2.9, 400.0)]),
    ]
    devices = [
        Device(name="NVIDIA GeForce RTX 4090", vendor="NVIDIA", kind="consumer", aliases=["RTX 4090"],
               memory_bytes=24 * GIB, bandwidth_bytes_per_s=1008e9, fp16_tensor_tflops=165.2, tdp_w=450),
        Device(name="NVIDIA H100 SXM", vendor="NVIDIA", kind="datacenter", aliases=["H100"],
               memory_bytes=80 * GIB, bandwidth_bytes_per_s=3350e9, fp16_tensor_tflops=989.0, tdp_w=700),
        Device(name="Apple M3 Ultra", vendor="Apple", kind="apple", memory_options_bytes=[96 * GIB, 512 * GIB],
               bandwidth_bytes_per_s=819e9, unified_memory=True),
    ]
    hosted = [
        HostedOffer(model_id="acme/Mid-8B", provider="cheapco", usd_per_m_input=0.05, usd_per_m_output=0.08,
                    context_tokens=131072, residency="region", region="EU"),
        HostedOffer(model_id="acme/Mid-8B", provider="pricey", usd_per_m_input=0.2, usd_per_m_output=0.6),
        HostedOffer(model_id="acme/Big-70B", provider="cheapco", usd_per_m_input=0.4, usd_per_m_output=0.9),
    ]
    scores = [
        Score(model_id="acme/Big-70B", benchmark="swe_bench_verified", value=41.0, source="test"),
        Score(model_id="acme/Mid-8B", benchmark="aider_polyglot", value=12.5, source="test"),
        Score(model_id="acme/Mid-8B", benchmark="aider_polyglot", value=15.0, source="test"),
    ]
    return Catalog(schema_version="1.0", generated_at="2026-11-01T00:00:00Z", sequence=sequence, source="embedded",
                   models=models, devices=devices, hosted=hosted, scores=scores)


def gpu_machine(vram_gib: int = 24, ram_gib: int = 64, origin: str = "probed", label: str = "testbox") -> Machine:
    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA GeForce RTX 4090", vram_total_bytes=vram_gib * GIB,
              vram_used_bytes=2 * GIB, vram_free_bytes=(vram_gib - 2) * GIB, memory_bandwidth_bytes_per_s=1008e9,
              driver_version="580.65", cuda_version="13.0",
              sources={"name": "driver", "vram_total_bytes": "driver", "memory_bandwidth_bytes_per_s": "driver",
                       "driver_version": "driver"})
    return Machine(gpus=(gpu,), cpu=Cpu(model="AMD Ryzen 9 7950X", physical_cores=16, logical_cores=32,
                                        sources={"model": "os"}),
                   memory=Memory(total_bytes=ram_gib * GIB, available_bytes=(ram_gib - 8) * GIB,
                                 sources={"total_bytes": "os"}),
                   hostname=label, origin=origin, label=label,
                   backends=(BackendStatus("nvidia", True, device_count=1),))


def cpu_machine() -> Machine:
    return Machine(gpus=(), cpu=Cpu(model="Intel Xeon", physical_cores=2, logical_cores=2),
                   memory=Memory(total_bytes=16 * GIB, available_bytes=12 * GIB), hostname="cpubox", label="cpubox",
                   backends=(BackendStatus("nvidia", False, "no NVIDIA driver: libnvidia-ml.so.1 not found"),))


def fake_estimate(model: Model, quant: Quant, machine: Machine, settings: Settings, devices=None) -> Estimate:
    weights = quant.file_size_bytes or int(model.params_total_b * 1e9 * quant.bits_per_weight / 8)
    ctx = min(settings.context_tokens, model.max_context_tokens or settings.context_tokens)
    kv = ctx * 128 * 1024 // {"f16": 1, "q8_0": 2, "q4_0": 4}[settings.kv_cache_type]
    overhead = GIB // 2
    total = weights + kv + overhead
    vram = sum(g.vram_total_bytes or 0 for g in machine.usable_gpus)
    if settings.memory_basis == "free":
        vram = sum(g.vram_free_bytes or 0 for g in machine.usable_gpus)
    ram = machine.memory.total_bytes
    bw_gpu = max((g.memory_bandwidth_bytes_per_s or 0 for g in machine.usable_gpus), default=0)
    active = weights * (model.params_active_b or model.params_total_b) / model.params_total_b
    if vram and total <= vram:
        verdict, gpu_bytes, ram_bytes, bw = "gpu", total, 0, bw_gpu
    elif total <= vram + ram * 0.8:
        verdict = "gpu+ram" if vram else "cpu"
        gpu_bytes, ram_bytes, bw = min(vram, total), total - min(vram, total), 80e9
    else:
        verdict, gpu_bytes, ram_bytes, bw = "no_fit", 0, 0, 0
    mem = MemoryBreakdown(weights, kv, overhead, gpu_bytes, ram_bytes, gpu_budget_bytes=vram,
                          budget_bytes=vram + int(ram * 0.8))  # the limits its verdicts use
    if verdict == "no_fit":
        return Estimate(model.id, quant.name, "llama.cpp", verdict, mem, ctx, None, None, None, None,
                        basis=("does not fit",), bits_per_weight=quant.bits_per_weight)
    decode = bw * 0.7 / (active + kv * settings.prompt_tokens / max(ctx, 1))
    prefill = 2000.0 * 8 / (model.params_active_b or 8)
    ttft = settings.prompt_tokens / prefill
    band = lambda v: Band(v * 0.8, v, v * 1.2)  # noqa: E731
    return Estimate(model.id, quant.name, "llama.cpp", verdict, mem, ctx, model.max_context_tokens, band(prefill),
                    band(decode), band(ttft), basis=("stand-in estimator for tests",),
                    placement="all layers on GPU 0" if verdict == "gpu" else "split", runs_now=verdict == "gpu",
                    bits_per_weight=quant.bits_per_weight)


def fake_evaluate(machine: Machine, catalog: Catalog, settings: Settings) -> list[Estimate]:
    """The stand-in estimates, marked usable and best by the real rules (``engine.mark_best``)."""
    from rigcheck.estimate.engine import mark_best

    out = []
    for model in catalog.models:
        out.extend(mark_best([fake_estimate(model, quant, machine, settings) for quant in model.quants],
                             settings.usable))
    return out


def fake_hypothetical(specs: list[str], ram_bytes: int | None, catalog: Catalog) -> Machine:
    gpus = []
    for spec in specs:
        count, _, name = spec.partition(" x ")
        device = next((d for d in catalog.devices if d.name == name), None)
        if device is None:
            raise ValueError(f"unknown GPU {name!r}; try: {', '.join(d.name for d in catalog.devices)}")
        for _ in range(int(count)):
            gpus.append(Gpu(index=len(gpus), vendor="nvidia", name=device.name, vram_total_bytes=device.memory_bytes,
                            memory_bandwidth_bytes_per_s=device.bandwidth_bytes_per_s,
                            sources={"vram_total_bytes": "spec table"}))
    label = " + ".join(specs) + (f" + {ram_bytes // GIB} GiB" if ram_bytes else "")
    return Machine(gpus=tuple(gpus), cpu=Cpu(), memory=Memory(total_bytes=ram_bytes or 0), origin="hypothetical",
                   label=label)


def fake_parse_size(text: str) -> int:
    t = text.strip().upper().replace(" ", "")
    for suffix, mult in (("GIB", GIB), ("GB", GB), ("TB", 1000 * GB)):
        if t.endswith(suffix):
            try:
                return int(float(t[: -len(suffix)]) * mult)
            except ValueError:
                break
    raise ValueError(f"{text!r} is not a size like 64GB")


class RecordingServices(Services, frozen=True):
    """Services whose fake ``evaluate`` keeps the settings of each call, in order, in ``_calls``."""

    _calls: list = msgspec.field(default_factory=list)


def make_services(machine: Machine | None = None, catalog: Catalog | None = None, **changes) -> Services:
    catalog = catalog or make_catalog()
    machine = machine or gpu_machine()
    calls: list = []

    def evaluate(m, c, s):
        calls.append(s)
        return fake_evaluate(m, c, s)

    def load_profile(path):
        raise ValueError(f"{path} is not a machine profile: expected schema rigcheck.machine/1")

    def find_model(c, query):
        hits = [m for m in c.models if query.casefold() in m.id.casefold()]
        if len(hits) != 1:
            raise ValueError(f"no single model matches {query!r}")
        return hits[0]

    services = RecordingServices(
        probe_machine=lambda: machine,
        load_catalog=lambda: catalog,
        catalog_info=lambda c: CatalogInfo(c.source or "embedded", c.sequence, c.generated_at, models=len(c.models)),
        evaluate=evaluate,
        estimate_one=fake_estimate,
        hypothetical_machine=fake_hypothetical,
        load_profile=load_profile,
        parse_size=fake_parse_size,
        find_model=find_model,
        resolve_gpu=lambda gpu, devices: next((d for d in devices if d.name == gpu.name), None),
        _calls=calls,
    )
    return services.with_(**changes)
