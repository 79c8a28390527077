"""Unified memory: the share of RAM the GPU may use, where that figure came from, and the sysctl that raises it.

On a Mac the GPU may wire only part of the RAM (Metal's ``recommendedMaxWorkingSetSize``: 2/3 up to 36 GB, 3/4
above, on stock macOS); ``sudo sysctl iogpu.wired_limit_mb=N`` raises it until the next restart. A model that
does not fit the stock share runs on the CPU (slowly) even though the RAM would hold it on the GPU. This module
(light: the machine panel imports it before the first paint) says what share a machine has and why
(``gpu_share``), how far it can safely go (``max_wired_limit_bytes``:
the RAM less what macOS needs for itself), and, per model, the exact command that would move it from the CPU to
the GPU (``wired_limit_hints``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from rigcheck.catalog.records import Catalog
    from rigcheck.estimate.types import Estimate, Settings
    from rigcheck.probe.types import Gpu, Machine

GIB = 1024**3
MIB = 1024**2
APPLE_GPU_SHARE = 0.75
"""How much of a Mac's RAM the GPU may use when the probe did not report it. macOS caps GPU-wired memory at about
2/3 of RAM up to 36 GB and 3/4 above (Metal's recommendedMaxWorkingSetSize; raised with `sysctl
iogpu.wired_limit_mb`). llama.cpp only warns past it, so the real limit is a little higher on small Macs: 3/4 is
used throughout (``resolved`` sizes against it)."""
OS_RESERVE_MIN_BYTES = 8 * GIB
OS_RESERVE_SHARE = 1 / 16
"""What macOS keeps for itself when the wired limit is raised: at least 8 GiB, a sixteenth of the RAM on big
Macs (32 GiB of 512). Users who raise the limit report instability when less than ~8 GiB is left."""
MARGIN_BYTES = 1 * GIB
"""The limit a hint asks for leaves this much above the model's need (the KV cache grows with the context)."""

SHARE_SOURCES = {
    "driver": "Metal (recommendedMaxWorkingSetSize)",
    "os": "sysctl iogpu.wired_limit_mb",
    "spec table": "macOS default (2/3 of RAM to 36 GB, 3/4 above)",
    "user": "raised by you",
}


@dataclass(frozen=True)
class GpuShare:
    """The RAM a unified-memory GPU may use, of how much, and where the figure comes from."""

    usable_bytes: int
    ram_bytes: int
    source: str
    """Words: "Metal's recommendedMaxWorkingSetSize", "the macOS default (...), assumed", ..."""
    apple: bool
    max_bytes: int | None
    """How far ``sysctl iogpu.wired_limit_mb`` can safely take it (Apple only)."""

    @property
    def fraction(self) -> float:
        return self.usable_bytes / self.ram_bytes if self.ram_bytes else 0.0


def _apple_gpu(machine: Machine) -> Gpu | None:
    return next((g for g in machine.usable_gpus if g.unified_memory and g.vendor == "apple"), None)


def max_wired_limit_bytes(ram_bytes: int) -> int:
    """The highest GPU wired limit worth setting on a Mac with ``ram_bytes``: RAM less the OS reserve."""
    return int(ram_bytes - max(OS_RESERVE_MIN_BYTES, ram_bytes * OS_RESERVE_SHARE))


def gpu_share(machine: Machine) -> GpuShare | None:
    """The GPU-usable share of a unified-memory machine and its source; None for a machine without one."""
    gpu = next((g for g in machine.usable_gpus if g.unified_memory), None)
    if gpu is None:
        return None
    ram = machine.memory.total_bytes or gpu.vram_total_bytes or 0
    apple = gpu.vendor == "apple"
    if gpu.gpu_usable_memory_bytes:
        usable = gpu.gpu_usable_memory_bytes
        source = SHARE_SOURCES.get(gpu.sources.get("gpu_usable_memory_bytes", ""), "the driver")
    elif apple:
        usable = int(ram * APPLE_GPU_SHARE)
        source = "macOS default (3/4 of RAM), assumed"
    else:
        usable = ram
        source = "all of RAM less the OS reserve (GTT / coherent memory)"
    return GpuShare(usable, ram, source, apple, max_wired_limit_bytes(ram) if apple and ram else None)


def with_gpu_share(machine: Machine, usable_bytes: int) -> Machine:
    """``machine`` with its Apple GPU allowed ``usable_bytes`` of RAM (what the sysctl would give it)."""
    gpus = tuple(
        msgspec.structs.replace(g, gpu_usable_memory_bytes=int(usable_bytes),
                            sources={**g.sources, "gpu_usable_memory_bytes": "user"})
        if g.unified_memory and g.vendor == "apple" else g
        for g in machine.gpus)
    return msgspec.structs.replace(machine, gpus=gpus)


def wired_limit_mb(needed_bytes: float) -> int:
    """The ``iogpu.wired_limit_mb`` value for a need: the need plus MARGIN_BYTES, up to a whole GiB, in MiB."""
    return int(math.ceil((needed_bytes + MARGIN_BYTES) / GIB) * GIB // MIB)


def sysctl_command(limit_mb: int) -> str:
    return f"sudo sysctl iogpu.wired_limit_mb={limit_mb}"


@dataclass(frozen=True)
class WiredLimitHint:
    """A model that would run better on the GPU with a higher wired limit: the command, and how it would run."""

    model_id: str
    limit_mb: int
    command: str
    estimate: Estimate
    """The model's row with the raised limit (its pick there)."""
    now: Estimate
    """The row that speaks for the model now."""

    @property
    def text(self) -> str:
        e, now = self.estimate, self.now
        speed = f" at about {e.decode_tokens_per_s.expected:.3g} tok/s" if e.decode_tokens_per_s else ""
        where = {"cpu": "on the CPU", "gpu+ram": "partly in RAM", "unified": "on the GPU"}.get(now.verdict, now.verdict)
        return (f"{self.command} (until the next restart) lets the GPU hold {e.quant}{speed}; now {now.quant} runs "
                f"{where}{'' if now.usable else ', too slowly'}.")


EvaluateFn = Callable[["Machine", "Catalog", "Settings"], "list[Estimate]"]


def wired_limit_hints(machine: Machine, catalog: Catalog, settings: Settings, rows: Iterable[Estimate],
                      evaluate_fn: EvaluateFn) -> dict[str, WiredLimitHint]:
    """Per model id, the sysctl that moves its pick onto the GPU, when a higher limit does that.

    Only on a Mac whose GPU share is below ``max_wired_limit_bytes``: the catalog is evaluated once more with the
    limit at that maximum, and a model gets a hint when its pick there runs usably in unified memory and its row
    here does not, or runs a lower quality (a quant that fits the stock share, or one on the CPU). The limit asked
    for is what that pick needs (plus MARGIN_BYTES), not the maximum."""
    from rigcheck.estimate.rules import quality_bits

    share = gpu_share(machine)
    if share is None or not share.apple or share.max_bytes is None or share.usable_bytes >= share.max_bytes:
        return {}
    now = {r.model_id: r for r in rows if r.best}
    raised = evaluate_fn(with_gpu_share(machine, share.max_bytes), catalog, settings)
    hints = {}
    for r in raised:
        current = now.get(r.model_id)
        if not r.best or not r.usable or r.verdict != "unified" or current is None:
            continue
        better = (not current.usable or current.verdict != "unified"
                  or quality_bits(r.bits_per_weight or 0.0) > quality_bits(current.bits_per_weight or 0.0))
        if not better or r.memory.gpu_bytes <= share.usable_bytes:
            continue  # the same pick, or one that fits the share it has now (another setting chose it)
        limit = min(wired_limit_mb(r.memory.gpu_bytes), share.max_bytes // MIB)
        hints[r.model_id] = WiredLimitHint(r.model_id, limit, sysctl_command(limit), r, current)
    return hints
