"""The machine inventory a purchaser reads: GPUs, CPU, memory and backends, gaps filled from the device table."""

from __future__ import annotations

from collections.abc import Sequence

from rigcheck.catalog.records import Device
from rigcheck.probe.types import Machine
from rigcheck.report.engine import ResolveGpuFn
from rigcheck.report.records import BackendInfo, CpuInfo, GpuInfo, MachineInfo, MemoryInfo


def machine_info(
    machine: Machine,
    label: str | None = None,
    devices: Sequence[Device] = (),
    resolve_gpu: ResolveGpuFn | None = None,
) -> MachineInfo:
    """The inventory of one machine. Bandwidth the driver does not report is filled from the device
    table (marked "spec table") when the resolver knows the card."""
    gpus = []
    for g in machine.gpus:
        sources = dict(g.sources)
        bandwidth = g.memory_bandwidth_bytes_per_s
        vram = g.vram_total_bytes
        if (bandwidth is None or vram is None) and resolve_gpu is not None and not g.lost:
            device = resolve_gpu(g, list(devices))
            if device is not None:
                if bandwidth is None and device.bandwidth_bytes_per_s:
                    bandwidth = device.bandwidth_bytes_per_s
                    sources["memory_bandwidth_bytes_per_s"] = "spec table"
                if vram is None and device.memory_bytes:
                    vram = device.memory_bytes
                    sources["vram_total_bytes"] = "spec table"
        link = None
        if g.pcie_gen_max or g.pcie_width_max:
            gen = f"PCIe {g.pcie_gen_max}.0" if g.pcie_gen_max else "PCIe"
            link = f"{gen} x{g.pcie_width_max}" if g.pcie_width_max else gen
            src = g.sources.get("pcie_gen_max") or g.sources.get("pcie_width_max")
            if src:
                sources.setdefault("pcie_link", src)
        gpus.append(
            GpuInfo(
                index=g.index,
                name=g.name,
                vendor=g.vendor,
                vram_total_bytes=vram,
                memory_bandwidth_bytes_per_s=bandwidth,
                pcie_link=link,
                driver_version=g.driver_version,
                cuda_version=g.cuda_version,
                uuid=g.uuid,
                serial=g.serial,
                pci_bus_id=g.pci_bus_id,
                power_limit_w=g.power_limit_w,
                compute_capability=g.compute_capability,
                unified_memory=g.unified_memory,
                gpu_usable_memory_bytes=g.gpu_usable_memory_bytes,
                lost=g.lost,
                sources=sources,
                unavailable=dict(g.unavailable),
            )
        )
    c, m = machine.cpu, machine.memory
    vram_total = 0
    for g in gpus:
        if g.lost:
            continue
        size = g.gpu_usable_memory_bytes if g.unified_memory else g.vram_total_bytes
        vram_total += size or 0
    return MachineInfo(
        label=label or machine.label or machine.hostname or "this machine",
        origin=machine.origin,
        hostname=machine.hostname,
        os_name=machine.os_name,
        os_version=machine.os_version,
        probed_at=machine.probed_at,
        disk_free_bytes=machine.disk_free_bytes,
        disk_path=machine.disk_path,
        gpus=tuple(gpus),
        cpu=CpuInfo(
            model=c.model,
            vendor=c.vendor,
            architecture=c.architecture,
            physical_cores=c.physical_cores,
            logical_cores=c.logical_cores,
            max_clock_mhz=c.max_clock_mhz,
            isa_flags=tuple(c.isa_flags),
            sources=dict(c.sources),
            unavailable=dict(c.unavailable),
        ),
        memory=MemoryInfo(
            total_bytes=m.total_bytes,
            available_bytes=m.available_bytes,
            ram_type=m.ram_type,
            ram_speed_mhz=m.ram_speed_mhz,
            bandwidth_bytes_per_s=m.bandwidth_bytes_per_s,
            swap_total_bytes=m.swap_total_bytes,
            sources=dict(m.sources),
            unavailable=dict(m.unavailable),
        ),
        backends=tuple(BackendInfo(b.name, b.available, b.reason, b.device_count) for b in machine.backends),
        vram_total_bytes=vram_total,
        sources=dict(machine.sources),
    )


def all_unified(info: MachineInfo) -> bool:
    """Every working GPU uses system RAM as its memory (Apple, GB10, APUs): RAM is not extra capacity."""
    usable = [g for g in info.gpus if not g.lost]
    return bool(usable) and all(g.unified_memory for g in usable)


def capacities(info: MachineInfo) -> tuple[int, int]:
    """(GPU bytes, RAM bytes) a model can be placed in; RAM counts nothing when the memory is unified."""
    if all_unified(info):
        return info.vram_total_bytes, 0
    return info.vram_total_bytes, info.memory.total_bytes
