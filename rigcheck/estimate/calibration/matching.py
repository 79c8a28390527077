"""A measurement row in catalog terms: its device, its model (or a generic one), its quant, its machine."""

from __future__ import annotations

import re

from rigcheck.catalog.lookup import match_model, norm_name  # noqa: F401 - match_model re-exported (moved to lookup)
from rigcheck.catalog.records import Device, Model, Quant
from rigcheck.estimate.calibration.measurements import GIB, Measurement
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory


def resolve_device_name(name: str, devices: list[Device]) -> Device | None:
    """The device a messy published name denotes ("NVIDIA H100 SXM 80GB (DGX H100)",
    'AMD Ryzen AI Max+ 395 "Strix Halo" (Radeon 8060S iGPU ...)'), resolved as probed names are."""
    from rigcheck.catalog.devices import resolve

    candidates = [name, re.sub(r"\s*\(.*?\)", "", name).strip()]
    candidates.append(re.sub(r'"[^"]*"', "", candidates[-1]).strip())
    candidates.extend(re.findall(r'"([^"]+)"', name))
    for inner in re.findall(r"\(([^)]*)\)", name):
        candidates.extend(part.strip() for part in re.split(r"[;,]", inner))
    m = re.search(r"\((\d+)-core GPU\)", name)
    cores = int(m.group(1)) if m else None
    for candidate in candidates:
        if not candidate:
            continue
        device = resolve(candidate, gpu_cores=cores, devices=devices)
        if device is not None:
            return device
        # Drop trailing words one at a time ("Radeon 8060S iGPU gfx1151" -> "Radeon 8060S").
        words = candidate.split()
        for n in range(len(words) - 1, 1, -1):
            device = resolve(" ".join(words[:n]), gpu_cores=cores, devices=devices)
            if device is not None:
                return device
    return None


def generic_model(name: str, params_b: float, active_b: float | None) -> Model:
    """A Llama-like model of ``params_b`` billion parameters, for rows whose model is not in the catalog.

    Assumes grouped-query attention with 8 KV heads and a 128k vocabulary (the modern default); MoE when
    ``active_b`` is well below ``params_b`` (8 of 128 experts).
    """
    moe = active_b is not None and active_b < 0.8 * params_b
    return Model(
        id=f"generic/{norm_name(name)}", family="generic", name=name,
        params_total_b=params_b, params_active_b=active_b or params_b,
        num_kv_heads=8, vocab_size=128_000, attention="gqa",
        moe_num_experts=128 if moe else None, moe_experts_per_token=8 if moe else None,
        notes="built from the measurement's parameter count: not in the catalog",
    )


def _clean_quant(name: str) -> str:
    q = name.split("(")[0].strip()
    return q.upper() if q.lower() in ("mxfp4", "fp8", "f16", "bf16") else q


def quant_for(measurement: Measurement, model: Model) -> Quant:
    """The quant of a row: the catalog's of that name when there is one, the row's file size when given."""
    from rigcheck.estimate.memory import BITS_PER_WEIGHT

    name = _clean_quant(measurement.quant)
    runtimes = ["llama.cpp"] if measurement.runtime == "llama.cpp" else ["vllm"]
    fmt = "gguf" if measurement.runtime == "llama.cpp" else ("fp8" if "FP8" in name.upper() else "safetensors")
    existing = next((q for q in model.quants if q.name.casefold() == name.casefold() and q.format == fmt), None)
    bits = existing.bits_per_weight if existing else BITS_PER_WEIGHT.get(name.upper().replace("UD-", ""), 4.8)
    size = measurement.file_size_bytes or (existing.file_size_bytes if existing else None)
    return Quant(name=name, format=fmt, bits_per_weight=bits, file_size_bytes=size,
                 size_is_estimate=measurement.file_size_bytes is None and (existing is None or existing.size_is_estimate),
                 runtimes=runtimes)


def machine_for(device: Device, count: int, ram_bytes: int | None) -> Machine:
    """The machine a measurement row describes: ``count`` of ``device`` from the spec table.

    RAM is the row's when it names it; else the unified part's largest configuration, or 256 GiB for a
    discrete-GPU server (the rows ran everything on the GPU, so RAM only matters for out-of-memory rows,
    where it is not used for fit agreement).
    """
    if ram_bytes is None:
        if device.unified_memory:
            ram_bytes = max([device.memory_bytes or 0, *device.memory_options_bytes]) or 64 * GIB
        else:
            ram_bytes = 256 * GIB
    vendor = device.vendor.lower()
    gpus = tuple(
        Gpu(index=i, vendor=vendor if vendor in ("nvidia", "amd", "intel", "apple") else "nvidia",  # type: ignore[arg-type]
            name=device.name, vram_total_bytes=None if device.unified_memory else device.memory_bytes,
            unified_memory=device.unified_memory, memory_bandwidth_bytes_per_s=device.bandwidth_bytes_per_s,
            gpu_cores=device.gpu_cores, pcie_gen_max=device.pcie_gen,
            sources={"vram_total_bytes": "spec table", "memory_bandwidth_bytes_per_s": "spec table"})
        for i in range(count))
    return Machine(gpus=gpus, cpu=Cpu(), memory=Memory(total_bytes=ram_bytes), origin="hypothetical",
                   label=f"{count} x {device.name}")
