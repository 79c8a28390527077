"""Frozen snapshots of what a machine has, in base units, each field with where it came from.

Units are in the names (bytes, MHz, W, bytes/s). Human strings belong to ``rigcheck.desktop``.

Provenance: every record has ``sources`` (field name -> one of the ``Provenance`` values) and
``unavailable`` (field name -> reason in one sentence) for fields that are ``None`` because the
backend could not read them. A field absent from both was simply not applicable.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

import msgspec

PROFILE_SCHEMA = "rigcheck.machine/1"

Provenance = Literal["driver", "sysfs", "os", "measured", "spec table", "user", "profile"]
"""Where a value came from: the GPU driver (NVML, amdsmi, Metal), Linux sysfs, the OS (psutil,
sysctl, WMI, /proc), a measurement made by rigcheck, the catalog's device table, the user
(a what-if machine), or a machine profile file."""

Vendor = Literal["nvidia", "amd", "intel", "apple"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def _empty() -> Mapping[str, str]:
    # Every record's provenance maps start as this one read-only empty mapping.
    return _EMPTY


class Gpu(msgspec.Struct, frozen=True):
    """One GPU or accelerator as its backend reports it."""

    index: int
    vendor: Vendor
    name: str
    uuid: str | None = None
    serial: str | None = None
    pci_bus_id: str | None = None
    pci_device_id: str | None = None
    vram_total_bytes: int | None = None
    vram_free_bytes: int | None = None
    vram_used_bytes: int | None = None
    vram_reserved_bytes: int | None = None
    unified_memory: bool = False
    """True when the GPU has no memory of its own and uses system RAM (Apple, GB10, Jetson, APUs)."""
    gpu_usable_memory_bytes: int | None = None
    """For unified-memory parts: how much of system RAM the GPU may use (Metal working set,
    iogpu.wired_limit_mb, GTT size, or a documented default fraction)."""
    memory_bus_width_bits: int | None = None
    mem_clock_max_mhz: int | None = None
    memory_bandwidth_bytes_per_s: float | None = None
    sm_count: int | None = None
    cuda_cores: int | None = None
    gpu_cores: int | None = None
    """Apple GPU core count, AMD compute units, Intel Xe cores."""
    sm_clock_max_mhz: int | None = None
    compute_capability: str | None = None
    architecture: str | None = None
    pcie_gen_max: int | None = None
    pcie_width_max: int | None = None
    power_limit_w: float | None = None
    driver_version: str | None = None
    cuda_version: str | None = None
    nvlink_links: int | None = None
    mig_enabled: bool | None = None
    lost: bool = False
    """The device answered enumeration but then vanished (NVML GpuIsLost); other fields may be None."""
    sources: Mapping[str, str] = msgspec.field(default_factory=_empty)
    unavailable: Mapping[str, str] = msgspec.field(default_factory=_empty)


class Cpu(msgspec.Struct, frozen=True):
    """The host CPU."""

    model: str | None = None
    vendor: str | None = None
    architecture: str | None = None
    """Machine architecture as the OS names it: x86_64, arm64, aarch64."""
    physical_cores: int | None = None
    logical_cores: int | None = None
    max_clock_mhz: float | None = None
    isa_flags: tuple[str, ...] = ()
    """The instruction-set extensions that matter for CPU inference, lower case:
    avx, avx2, fma, f16c, avx512f, avx512_bf16, avx512_vnni, avx_vnni, amx_bf16, amx_int8, amx_tile, neon,
    sve, dotprod, i8mm."""
    sources: Mapping[str, str] = msgspec.field(default_factory=_empty)
    unavailable: Mapping[str, str] = msgspec.field(default_factory=_empty)


class Memory(msgspec.Struct, frozen=True):
    """System RAM and swap."""

    total_bytes: int
    available_bytes: int | None = None
    swap_total_bytes: int | None = None
    swap_free_bytes: int | None = None
    ram_type: str | None = None
    ram_speed_mhz: int | None = None
    bandwidth_bytes_per_s: float | None = None
    """Peak or measured RAM bandwidth; ``sources['bandwidth_bytes_per_s']`` says which."""
    sources: Mapping[str, str] = msgspec.field(default_factory=_empty)
    unavailable: Mapping[str, str] = msgspec.field(default_factory=_empty)


class BackendStatus(msgspec.Struct, frozen=True):
    """Whether one probe backend ran, and if not, why, in one sentence a person can act on."""

    name: str
    """"nvidia", "amd", "intel", "apple", "cpu", "memory", "disk"."""
    available: bool
    reason: str | None = None
    """E.g. "no NVIDIA driver: libnvidia-ml.so.1 not found"."""
    device_count: int = 0


class Machine(msgspec.Struct, frozen=True):
    """Everything rigcheck knows about one machine: probed, read from a profile, or described by the user."""

    gpus: tuple[Gpu, ...]
    cpu: Cpu
    memory: Memory
    hostname: str | None = None
    os_name: str | None = None
    """"Linux", "Darwin", "Windows"."""
    os_version: str | None = None
    disk_free_bytes: int | None = None
    disk_path: str | None = None
    """The folder whose free space ``disk_free_bytes`` is (where models would be stored)."""
    probed_at: str | None = None
    """ISO 8601 UTC timestamp of the probe."""
    origin: Literal["probed", "profile", "hypothetical"] = "probed"
    label: str | None = None
    """A short name for display: the hostname, the profile's file name, or "2× RTX 4090 + 64 GB"."""
    backends: tuple[BackendStatus, ...] = ()
    sources: Mapping[str, str] = msgspec.field(default_factory=_empty)
    unavailable: Mapping[str, str] = msgspec.field(default_factory=_empty)

    @property
    def usable_gpus(self) -> tuple[Gpu, ...]:
        """GPUs that were not lost."""
        return tuple(g for g in self.gpus if not g.lost)

    @property
    def is_hypothetical(self) -> bool:
        return self.origin == "hypothetical"
