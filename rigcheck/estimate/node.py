"""A serving node as the step model sees it: its GPUs' memory, bandwidth, dtype rates and interconnect, and how
an engine lays a model over them (tensor parallel, data-parallel replicas, expert parallel, layer split).

``node_from_machine`` reduces a probed or hypothetical ``Machine`` to one ``ServingNode`` (the slowest GPU's
figures when the GPUs differ); ``parallelism_for`` checks a requested layout against the node and the model.
"""

from __future__ import annotations

from dataclasses import dataclass

from rigcheck.catalog.records import Device, Model
from rigcheck.estimate.resolved import ResolvedMachine, resolve_machine
from rigcheck.probe.types import Machine

PCIE_ALLREDUCE_LATENCY_S = 30e-6
"""Small-message all-reduce time when GPUs talk over PCIe (no NVLink or xGMI row in the device table): NCCL
over PCIe through the host bridge runs 15-40 us for 2-8 GPUs; an assumption, stated in the basis."""


@dataclass(frozen=True)
class Interconnect:
    """The GPU-to-GPU fabric: bandwidth per GPU in each direction, and the fixed cost of one collective."""

    name: str
    bytes_per_s: float
    latency_s: float
    source: str


@dataclass(frozen=True)
class ServingNode:
    """One node's GPUs as plain numbers: per GPU, the slowest of the node's GPUs where they differ."""

    gpu_name: str
    gpu_count: int
    vendor: str
    backend: str
    """"cuda" or "rocm" (or another llama.cpp backend)."""
    memory_bytes: float
    bandwidth_bytes_per_s: float
    flops: dict[str, float]
    """Dense matrix rate per GPU by compute dtype ("bf16", and "fp8", "fp4" where the GPU has them)."""
    interconnect: Interconnect
    hbm: bool
    resolved: ResolvedMachine
    device: Device | None = None

    @property
    def label(self) -> str:
        return f"{self.gpu_count}x {self.gpu_name}" if self.gpu_count > 1 else self.gpu_name

    def describe(self) -> str:
        rates = ", ".join(f"{k.upper()} {v / 1e12:,.0f}" for k, v in self.flops.items())
        return (f"{self.label}: {self.memory_bytes / 2**30:,.0f} GiB and {self.bandwidth_bytes_per_s / 1e12:.2f} TB/s "
                f"per GPU; dense TFLOPS {rates}; {self.interconnect.name} "
                f"{self.interconnect.bytes_per_s / 1e9:,.0f} GB/s per direction, "
                f"{self.interconnect.latency_s * 1e6:.1f} us per all-reduce ({self.interconnect.source})")


def interconnect_for(device: Device | None, pcie_bytes_per_s: float) -> Interconnect:
    """The device table's NVLink / Infinity Fabric figures, else the PCIe link the GPU sits on."""
    if device is not None and device.interconnect_bytes_per_s:
        return Interconnect(device.interconnect or "interconnect", device.interconnect_bytes_per_s,
                            device.interconnect_latency_s or PCIE_ALLREDUCE_LATENCY_S,
                            f"device table, {device.name}")
    return Interconnect("PCIe", pcie_bytes_per_s or 32e9, PCIE_ALLREDUCE_LATENCY_S,
                        "PCIe link of the GPU; all-reduce latency assumed")


def node_from_machine(machine: Machine, devices: list[Device]) -> ServingNode | str:
    """The machine's GPUs as a serving node, or one sentence saying why they cannot serve (no GPU, a GPU the
    device table does not know)."""
    rm = resolve_machine(machine, devices)
    if not rm.gpus:
        return f"{machine.label or 'this machine'} has no GPU: serving engines need one"
    return node_from_resolved(rm)


def node_from_resolved(rm: ResolvedMachine) -> ServingNode | str:
    """``node_from_machine`` for a machine already resolved for estimation."""
    if not rm.gpus:
        return "no GPU: serving engines need one"
    if any(g.device is None for g in rm.gpus):
        unknown = next(g.name for g in rm.gpus if g.device is None)
        return f"{unknown} is not in the device table: its rates are unknown"
    gpus = rm.gpus
    slowest = min(gpus, key=lambda g: g.bandwidth_bytes_per_s)
    flops = {"bf16": min(g.fp16_flops_per_s for g in gpus)}
    if all(g.fp8_flops_per_s for g in gpus):
        flops["fp8"] = min(g.fp8_flops_per_s or 0.0 for g in gpus)
    if all(g.fp4_flops_per_s for g in gpus):
        flops["fp4"] = min(g.fp4_flops_per_s or 0.0 for g in gpus)
    device = slowest.device
    names = {g.name for g in gpus}
    name = slowest.name if len(names) == 1 else " + ".join(sorted(names))
    return ServingNode(
        gpu_name=name,
        gpu_count=len(gpus),
        vendor=slowest.vendor,
        backend=slowest.backend,
        memory_bytes=float(min(g.memory_total_bytes for g in gpus)),
        bandwidth_bytes_per_s=slowest.bandwidth_bytes_per_s,
        flops=flops,
        interconnect=interconnect_for(device, min(g.pcie_bytes_per_s for g in gpus)),
        hbm=bool(device is not None and device.memory_type and "HBM" in device.memory_type.upper()),
        resolved=rm,
        device=device,
    )


@dataclass(frozen=True)
class Parallelism:
    """How the engine lays the model over the node's GPUs."""

    tp: int
    """GPUs per replica (tensor parallel, or layer split for llama.cpp)."""
    replicas: int
    """Data-parallel copies of the dense and attention layers."""
    expert_parallel: bool
    """MoE experts spread over all the node's GPUs (with several replicas: attention data parallel + EP)."""
    layer_split: bool = False

    @property
    def gpus(self) -> int:
        return self.tp * self.replicas

    @property
    def expert_group(self) -> int:
        """GPUs the routed experts are spread over."""
        return self.gpus if self.expert_parallel else self.tp

    def label(self) -> str:
        """What the layout is called, as the engines call it."""
        if self.layer_split:
            return "one GPU" if self.tp == 1 else f"pipeline (layer split) over {self.tp} GPUs"
        if self.expert_parallel and self.replicas > 1:
            inner = "" if self.tp == 1 else f" of tensor parallel {self.tp}"
            return (f"attention data parallel over {self.replicas} replicas{inner} + expert parallel over "
                    f"{self.gpus} GPUs")
        core = "one GPU" if self.tp == 1 else f"tensor parallel over {self.tp} GPUs"
        if self.expert_parallel and self.tp > 1:
            core += f" with experts spread over {self.tp} GPUs (expert parallel)"
        if self.replicas > 1:
            return f"{self.replicas} replicas (data parallel) of {core}"
        return core


def parallelism_for(model: Model, node: ServingNode, tensor_parallel: bool, tp: int | None = None,
                    expert_parallel: bool = False) -> Parallelism:
    """The layout for ``tp`` GPUs per replica (default: all of them). Raises ``ValueError`` when ``tp`` does not
    divide the GPU count, exceeds it, or does not divide the attention heads, or ``--ep`` asks a dense model or
    a layer-split engine to spread experts."""
    n = node.gpu_count
    size = n if tp is None else tp
    if size < 1 or size > n:
        raise ValueError(f"--tp {size} must be between 1 and the node's {n} GPUs")
    if n % size:
        raise ValueError(f"--tp {size} does not divide the node's {n} GPUs")
    if expert_parallel and not model.is_moe:
        raise ValueError(f"{model.id} is not a mixture-of-experts model: --ep has nothing to spread")
    if not tensor_parallel:
        if expert_parallel:
            raise ValueError("llama.cpp splits layers over GPUs; it has no expert parallelism")
        return Parallelism(size, n // size, False, layer_split=True)
    heads = model.num_attention_heads
    if heads and size > 1 and heads % size:
        raise ValueError(f"tensor parallel {size} does not divide {model.id}'s {heads} attention heads")
    return Parallelism(size, n // size, expert_parallel)
