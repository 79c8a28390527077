"""The hardware configurations the planner considers, and the hypothetical machine each describes.

Candidates come from the device table: single cards; N cards of one kind (layer split with llama.cpp,
tensor parallel with vLLM); unified-memory machines (Mac Studio, Strix Halo, DGX Spark) at each memory
size the table knows; datacenter nodes (8x H100/H200/B200); and, for models larger than any node,
several nodes on paper. Each configuration has a class (``config_class``): a workstation (up to four consumer or
workstation cards in a desktop, or a unified-memory machine) or a server (datacenter parts, SXM modules, eight
cards, several nodes); a plan can keep to one class (``MachineClass``), as the upgrade of a workstation does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from rigcheck.catalog.devices import hypothetical_machine, resolve_gpu
from rigcheck.catalog.records import Catalog, Device
from rigcheck.probe.types import Machine

GIB = 1024**3

CARD_COUNTS: dict[str, tuple[int, ...]] = {
    # A workstation board takes up to four double-width cards; servers take eight.
    "consumer": (1, 2, 3, 4),
    "workstation": (1, 2, 4, 8),
    "datacenter": (1, 2, 4, 8),
}
GPUS_PER_NODE = 8
MAX_NODES = 16
MULTI_NODE_INTERCONNECT = "InfiniBand NDR 400 Gb/s per GPU between nodes (pipeline parallel across nodes)"
TENSOR_PARALLEL_SIZES = (1, 2, 4, 8)
"""vLLM's tensor parallel size must divide the attention heads; powers of two always do in practice."""
HOST_RAM_BYTES = {"consumer": 128 * GIB, "workstation": 256 * GIB, "datacenter": 2048 * GIB}
"""Host RAM given to hypothetical GPU machines: typical builds (a DGX H200 has 2 TB)."""
UNIFIED_GPU_SHARE = {"apple": 0.75, "apu": 0.9}
"""Share of a unified-memory machine's RAM its GPU can use (macOS Metal wired limit ~3/4; GB10 and
Strix Halo map nearly all). Used only for the quick memory check; the estimator has the final word."""


@dataclass(frozen=True)
class Config:
    """One hardware configuration: N of one device, on one or more nodes."""

    device: Device
    count: int
    """GPUs (or machines, for unified memory) in total."""
    kind: Literal["single", "multi", "unified", "node", "multi-node"]
    memory_per_device_bytes: int
    nodes: int = 1

    @property
    def label(self) -> str:
        if self.kind == "unified":
            return f"{self.device.name} {self.memory_per_device_bytes / GIB:.0f} GB"
        if self.kind == "multi-node":
            return f"{self.nodes} nodes x {self.count // self.nodes}x {self.device.name}"
        return f"{self.count}x {self.device.name}" if self.count > 1 else self.device.name

    @property
    def memory_total_bytes(self) -> int:
        return self.memory_per_device_bytes * self.count

    @property
    def usable_memory_bytes(self) -> float:
        if self.kind == "unified":
            return self.memory_per_device_bytes * UNIFIED_GPU_SHARE.get(self.device.kind, 0.75)
        return self.memory_total_bytes * 0.98  # driver headroom, as the estimator keeps

    @property
    def gpu_specs(self) -> list[str]:
        return [f"{self.count} x {self.device.name}" if self.count > 1 else self.device.name]

    @property
    def host_ram_bytes(self) -> int:
        if self.kind == "unified":
            return self.memory_per_device_bytes
        return HOST_RAM_BYTES.get(self.device.kind, 128 * GIB) * self.nodes

    @property
    def split(self) -> str:
        if self.kind == "unified":
            return "unified memory"
        if self.count == 1:
            return "one device"
        if self.kind == "multi-node":
            return f"tensor parallel within each node, {MULTI_NODE_INTERCONNECT}"
        tp = "tensor parallel (vLLM)" if self.count in TENSOR_PARALLEL_SIZES else "no tensor parallel size fits"
        return f"layer split (llama.cpp) or {tp}"

    @property
    def interconnect(self) -> str | None:
        if self.kind == "multi-node":
            within = self.device.interconnect or "NVLink/PCIe"
            return f"{within} within a node; {MULTI_NODE_INTERCONNECT}"
        if self.count > 1:
            return self.device.interconnect or (f"PCIe gen {self.device.pcie_gen}" if self.device.pcie_gen else None)
        return None


MachineClass = Literal["workstation", "server", "any"]
MACHINE_CLASSES: tuple[str, ...] = get_args(MachineClass)
WORKSTATION_KINDS = frozenset({"consumer", "workstation"})
WORKSTATION_MAX_CARDS = 4
"""A desktop board takes up to four double-width cards; more is a server chassis."""


def config_class(config: Config) -> str:
    """"workstation" (up to four consumer or workstation cards, or a unified-memory machine) or "server"."""
    if config.kind == "unified":
        return "workstation"
    if config.device.kind in WORKSTATION_KINDS and config.count <= WORKSTATION_MAX_CARDS and config.nodes == 1:
        return "workstation"
    return "server"


def in_class(config: Config, wanted: str) -> bool:
    return wanted == "any" or config_class(config) == wanted


def machine_class(machine: Machine, devices: Iterable[Device]) -> str:
    """The class of a machine, probed or described: "server" when any GPU is a datacenter part or it has more
    than four cards, else "workstation" (a desktop, a laptop, a Mac, a machine without a GPU)."""
    gpus = machine.usable_gpus
    if len(gpus) > WORKSTATION_MAX_CARDS:
        return "server"
    devices = list(devices)
    for gpu in gpus:
        device = resolve_gpu(gpu, devices)
        if device is not None and device.kind == "datacenter":
            return "server"
    return "workstation"


MachineFn = Callable[[list[str], "int | None", Catalog], Machine]


def default_machine() -> MachineFn:
    """The catalog's ``hypothetical_machine``: a machine from GPU specs and a RAM size."""
    return lambda specs, ram, catalog: hypothetical_machine(specs, ram, catalog=catalog)


def build_machine(config: Config, catalog: Catalog, machine_fn: MachineFn | None = None) -> Machine:
    """The hypothetical machine a configuration describes (its GPUs and a typical host's RAM)."""
    machine_fn = machine_fn or default_machine()
    try:
        return machine_fn(config.gpu_specs, config.host_ram_bytes, catalog)
    except ValueError:
        if config.kind == "unified":
            raise
        # A name that is also the start of another row's ("RTX 3080" / "RTX 3080 12 GB"): the size settles it.
        size_gb = round(config.memory_per_device_bytes / GIB)
        specs = [f"{config.count} x {config.device.name} {size_gb}GB"]
        return machine_fn(specs, config.host_ram_bytes, catalog)


def candidate_configs(devices: Iterable[Device]) -> tuple[list[Config], list[str]]:
    """Every configuration the planner considers, and the devices it cannot size (with why)."""
    configs: list[Config] = []
    skipped: list[str] = []
    for device in devices:
        if device.kind == "laptop":
            continue  # not something one buys to serve a model
        if device.unified_memory or device.kind in ("apple", "apu"):
            sizes = sorted(set(device.memory_options_bytes or ([device.memory_bytes] if device.memory_bytes else [])))
            if not sizes:
                skipped.append(f"{device.name}: memory size not in the device table")
            for size in sizes:
                configs.append(Config(device, 1, "unified", size))
            continue
        if not device.memory_bytes:
            skipped.append(f"{device.name}: memory size not in the device table")
            continue
        for count in CARD_COUNTS.get(device.kind, (1, 2)):
            kind = "single" if count == 1 else ("node" if count == GPUS_PER_NODE else "multi")
            configs.append(Config(device, count, kind, device.memory_bytes))
    return configs, skipped


def multi_node_configs(devices: Iterable[Device], needed_bytes: float) -> list[Config]:
    """For a model larger than any 8-GPU node: the fewest nodes of each datacenter GPU that hold it."""
    result = []
    for device in devices:
        if device.kind != "datacenter" or not device.memory_bytes:
            continue
        node_bytes = device.memory_bytes * GPUS_PER_NODE * 0.98
        nodes = math.ceil(needed_bytes / node_bytes)
        if 2 <= nodes <= MAX_NODES:
            result.append(Config(device, nodes * GPUS_PER_NODE, "multi-node", device.memory_bytes, nodes=nodes))
    return result
