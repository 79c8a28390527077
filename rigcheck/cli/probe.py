"""`rigcheck probe [--json | --format F] [-o FILE]`: what this machine has, as a summary, a JSON profile or metrics."""

from __future__ import annotations

import argparse
import sys

from rigcheck import units
from rigcheck.cli import UsageError
from rigcheck.cli._output import write_output
from rigcheck.probe.types import Gpu, Machine


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="what this machine has (GPUs, CPU, RAM, disk)",
        description="Probe this machine's GPUs, CPU, RAM and disk. "
        "--json prints a machine profile that --machine FILE reads back.",
    )
    parser.add_argument("--json", action="store_true", help='print the machine profile (schema "rigcheck.machine/1")')
    parser.add_argument(
        "--format", choices=("text", "json", "prometheus"),
        help="text (default), json (the profile, as --json) or prometheus (node_exporter textfile-collector "
             "metrics: GPU memory and bandwidth, usable models, the best pick; see docs/fleet.md)",
    )
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE (replaced atomically, as the textfile collector needs) instead of stdout")
    parser.add_argument(
        "--measure-bandwidth",
        action="store_true",
        help="also measure RAM bandwidth (takes about one second)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rigcheck.probe.detect import probe_machine
    from rigcheck.probe.profile import dump_profile

    if args.json and args.format not in (None, "json"):
        raise UsageError(f"--json and --format {args.format} ask for two formats; give one")
    fmt = "json" if args.json else (args.format or "text")
    machine = probe_machine(measure_bandwidth=args.measure_bandwidth)
    if fmt == "json":
        text = dump_profile(machine)
    elif fmt == "prometheus":
        text = _prometheus(machine)
    else:
        text = summary(machine)
    if args.output:
        return write_output(args.output, text)
    sys.stdout.write(text)
    return 0


def _prometheus(machine: Machine) -> str:
    from rigcheck.catalog.store import catalog_status, load_catalog
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings
    from rigcheck.report.prometheus import render

    catalog, settings = load_catalog(), Settings()
    return render(machine, catalog, evaluate(machine, catalog, settings), settings, catalog_status().source)


def _gib(value: int | None) -> str:
    return units.bytes_text(value) if value is not None else "unknown"


def _gpu_line(gpu: Gpu) -> str:
    if gpu.lost:
        return f"GPU {gpu.index}  {gpu.name}: LOST ({gpu.unavailable.get('*', 'the driver lost it')})"
    parts: list[str] = []
    if gpu.unified_memory:
        share = gpu.gpu_usable_memory_bytes
        parts.append(f"unified memory, {_gib(share)} usable by the GPU" if share else "unified memory")
    elif gpu.vram_total_bytes is not None:
        free = f" ({_gib(gpu.vram_free_bytes)} free)" if gpu.vram_free_bytes is not None else ""
        parts.append(f"{_gib(gpu.vram_total_bytes)} VRAM{free}")
    else:
        parts.append("VRAM unknown")
    if gpu.memory_bandwidth_bytes_per_s:
        parts.append(units.bandwidth_text(gpu.memory_bandwidth_bytes_per_s))
    if gpu.sm_count:
        clock = f" @ {gpu.sm_clock_max_mhz} MHz" if gpu.sm_clock_max_mhz else ""
        parts.append(f"{gpu.sm_count} SMs{clock}")
    elif gpu.gpu_cores:
        parts.append(f"{gpu.gpu_cores} GPU cores")
    if gpu.compute_capability:
        parts.append(f"CC {gpu.compute_capability}" + (f" {gpu.architecture}" if gpu.architecture else ""))
    elif gpu.architecture:
        parts.append(gpu.architecture)
    if gpu.pcie_gen_max and gpu.pcie_width_max:
        parts.append(f"PCIe {gpu.pcie_gen_max}.0 x{gpu.pcie_width_max}")
    if gpu.nvlink_links:
        parts.append(f"{gpu.nvlink_links} NVLink links")
    if gpu.mig_enabled:
        parts.append("MIG on")
    if gpu.power_limit_w:
        parts.append(f"{gpu.power_limit_w:.0f} W")
    return f"GPU {gpu.index}  {gpu.name}: " + ", ".join(parts)


def _no_gpu_reason(machine: Machine) -> str:
    reasons = [b.reason for b in machine.backends if b.name in ("nvidia", "apple") and b.reason]
    reasons = reasons or [b.reason for b in machine.backends if b.reason and b.name in ("amd", "intel")]
    return reasons[0] if reasons else "no GPU backend found a device"


def summary(machine: Machine) -> str:
    """The machine as a few lines a person reads."""
    lines: list[str] = []
    where = ", ".join(x for x in (machine.os_name, machine.os_version) if x)
    lines.append(f"{machine.label or machine.hostname or 'this machine'}" + (f" ({where})" if where else ""))
    for gpu in machine.gpus:
        lines.append(_gpu_line(gpu))
    if not machine.usable_gpus:
        lines.append(f"GPU    none usable: {_no_gpu_reason(machine)}. CPU-only estimates still work.")
    cpu = machine.cpu
    cores = []
    if cpu.physical_cores:
        cores.append(f"{cpu.physical_cores} cores")
    if cpu.logical_cores:
        cores.append(f"{cpu.logical_cores} threads")
    cpu_parts = [" / ".join(cores)] if cores else []
    if cpu.max_clock_mhz:
        cpu_parts.append(f"up to {cpu.max_clock_mhz:.0f} MHz")
    if cpu.isa_flags:
        cpu_parts.append(" ".join(flag.upper() for flag in cpu.isa_flags))
    lines.append(f"CPU    {cpu.model or 'unknown model'}" + (": " + ", ".join(cpu_parts) if cpu_parts else ""))
    mem = machine.memory
    ram = f"RAM    {_gib(mem.total_bytes)}"
    if mem.available_bytes is not None:
        ram += f" ({_gib(mem.available_bytes)} available)"
    ram += f", swap {_gib(mem.swap_total_bytes)}" if mem.swap_total_bytes else ", no swap"
    if mem.ram_type or mem.ram_speed_mhz:
        ram += ", " + " ".join(x for x in (mem.ram_type, f"{mem.ram_speed_mhz} MT/s" if mem.ram_speed_mhz else None) if x)
    else:
        ram += ", type unknown"
    if mem.bandwidth_bytes_per_s:
        ram += f", {units.bandwidth_text(mem.bandwidth_bytes_per_s)} {mem.sources.get('bandwidth_bytes_per_s', '')}".rstrip()
    lines.append(ram)
    if machine.disk_free_bytes is not None:
        lines.append(f"Disk   {_gib(machine.disk_free_bytes)} free at {machine.disk_path}")
    else:
        lines.append(f"Disk   free space unknown: {machine.unavailable.get('disk_free_bytes', 'not probed')}")
    return "\n".join(lines) + "\n"
