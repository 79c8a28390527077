"""Live memory use for the sparkline: RAM from psutil, VRAM from the NVIDIA backend's light usage query.

Sampling runs on the worker pool (an NVML query can take tens of milliseconds), never on the GUI thread.
"""

from __future__ import annotations

import msgspec


class UsageSample(msgspec.Struct, frozen=True):
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
        from rigcheck.probe.nvidia import vram_usage_bytes

        # One memory query per GPU, not a full probe: this runs every second.
        per_gpu = vram_usage_bytes()
        if per_gpu:
            vram_used = sum(used for used, _total in per_gpu)
            vram_total = sum(total for _used, total in per_gpu)
    return UsageSample(int(vm.total - vm.available), int(vm.total), vram_used, vram_total)
