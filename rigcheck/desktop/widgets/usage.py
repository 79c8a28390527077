"""Live memory use for the sparkline: RAM from psutil, VRAM from the probe's NVIDIA backend.

Sampling runs on the worker pool (an NVML query can take tens of milliseconds), never on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsageSample:
    ram_used_bytes: int | None
    ram_total_bytes: int | None
    vram_used_bytes: int | None
    vram_total_bytes: int | None

    @property
    def ram_fraction(self) -> float | None:
        if self.ram_used_bytes is None or not self.ram_total_bytes:
            return None
        return self.ram_used_bytes / self.ram_total_bytes

    @property
    def vram_fraction(self) -> float | None:
        if self.vram_used_bytes is None or not self.vram_total_bytes:
            return None
        return self.vram_used_bytes / self.vram_total_bytes


def sample_usage(with_vram: bool = True) -> UsageSample:
    """RAM in use now, and VRAM in use summed over NVIDIA GPUs (None when there is no driver)."""
    import psutil

    vm = psutil.virtual_memory()
    vram_used = vram_total = None
    if with_vram:
        try:
            from rigcheck.probe.nvidia import probe_nvidia
        except ImportError:
            probe_nvidia = None
        if probe_nvidia is not None:
            gpus, status = probe_nvidia()
            if status.available and gpus:
                used = [g.vram_used_bytes for g in gpus if g.vram_used_bytes is not None]
                total = [g.vram_total_bytes for g in gpus if g.vram_total_bytes is not None]
                vram_used = sum(used) if used else None
                vram_total = sum(total) if total else None
    return UsageSample(int(vm.total - vm.available), int(vm.total), vram_used, vram_total)
