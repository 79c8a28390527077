"""Apple Silicon GPUs: chip, GPU core count, unified memory and the share of it the GPU may use.

Chip from ``sysctl machdep.cpu.brand_string``, GPU cores from ``system_profiler SPDisplaysDataType
-json``, memory from ``sysctl hw.memsize``. The GPU-usable share, in order of preference:

1. Metal's ``recommendedMaxWorkingSetSize`` through PyObjC, when importable (what llama.cpp and MLX
   size against);
2. ``sysctl iogpu.wired_limit_mb`` when the user has raised it (0 means "the default");
3. the stock default: 2/3 of RAM up to 36 GB, 3/4 above. These are the fractions stock macOS reports
   as recommendedMaxWorkingSetSize (10.67 GB on a 16 GB Mac, as quoted in exo-explore/exo#1672;
   "75% of total RAM" above, as gpustack/gpustack#1375 found). Measurements on 128 GB Macs (107.52 GiB,
   antirez/ds4#893) sit above 3/4, so on large Macs this fallback is conservative.

The runner and the Metal query are parameters, so tests feed recorded outputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import MappingProxyType

from rigcheck.probe._command import Runner, run_command
from rigcheck.probe.types import BackendStatus, Gpu


def default_gpu_share_bytes(ram_bytes: int) -> int:
    """The stock macOS GPU working-set limit: 2/3 of RAM up to 36 GB, 3/4 above (see module doc)."""
    fraction = 2 / 3 if ram_bytes <= 36 * 1024**3 else 3 / 4
    return int(ram_bytes * fraction)


def metal_working_set_bytes() -> int | None:
    """Metal's recommendedMaxWorkingSetSize through PyObjC, or None when PyObjC's Metal is absent."""
    try:
        import Metal  # type: ignore[import-not-found]  # pyobjc-framework-Metal, optional
    except ImportError:
        return None
    device = Metal.MTLCreateSystemDefaultDevice()
    if device is None:
        return None
    value = int(device.recommendedMaxWorkingSetSize())
    return value or None


def _sysctl_int(runner: Runner, key: str) -> int | None:
    text = runner(["sysctl", "-n", key])
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def _gpu_cores(runner: Runner) -> tuple[int | None, str | None]:
    """(GPU core count, Metal family) from system_profiler, or (None, None)."""
    text = runner(["system_profiler", "SPDisplaysDataType", "-json"])
    if not text:
        return None, None
    import json  # only on a Mac: kept off the start-up path elsewhere

    try:
        items = json.loads(text).get("SPDisplaysDataType", [])
    except (ValueError, AttributeError):
        return None, None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or "sppci_cores" not in item:
            continue
        cores = str(item.get("sppci_cores", ""))
        family = item.get("spdisplays_mtlgpufamilysupport")
        family_text = str(family).replace("spdisplays_", "").replace("metal", "Metal ") if family else None
        return (int(cores) if cores.isdigit() else None), family_text
    return None, None


def probe_apple(
    *,
    runner: Runner = run_command,
    metal_working_set: Callable[[], int | None] = metal_working_set_bytes,
) -> tuple[list[Gpu], BackendStatus]:
    """The Apple Silicon GPU, or none with a reason (an Intel Mac, or sysctl not answering)."""
    brand = runner(["sysctl", "-n", "machdep.cpu.brand_string"])
    if brand is None:
        return [], BackendStatus(name="apple", available=False, reason="sysctl did not answer (not macOS)")
    chip = brand.strip()
    if not chip.startswith("Apple"):
        return [], BackendStatus(
            name="apple", available=False, reason=f"not Apple Silicon ({chip or 'unknown CPU'})"
        )
    sources: dict[str, str] = {"unified_memory": "os"}
    unavailable: dict[str, str] = {}
    fields: dict = {"unified_memory": True}
    cores, family = _gpu_cores(runner)
    if cores is not None:
        fields["gpu_cores"] = cores
        sources["gpu_cores"] = "os"
    else:
        unavailable["gpu_cores"] = "system_profiler did not report the GPU core count"
    if family:
        fields["architecture"] = family
        sources["architecture"] = "os"
    ram = _sysctl_int(runner, "hw.memsize")
    try:
        working_set = metal_working_set()
    except (OSError, AttributeError, ValueError):
        working_set = None  # PyObjC present but Metal unusable (a VM): the sysctl and default remain
    wired_limit_mb = _sysctl_int(runner, "iogpu.wired_limit_mb")
    if working_set:
        fields["gpu_usable_memory_bytes"] = working_set
        sources["gpu_usable_memory_bytes"] = "driver"
    elif wired_limit_mb:
        fields["gpu_usable_memory_bytes"] = wired_limit_mb * 1024**2
        sources["gpu_usable_memory_bytes"] = "os"
    elif ram:
        # A documented rule rather than a reading: "spec table" is the closest provenance.
        fields["gpu_usable_memory_bytes"] = default_gpu_share_bytes(ram)
        sources["gpu_usable_memory_bytes"] = "spec table"
    else:
        unavailable["gpu_usable_memory_bytes"] = "sysctl did not report the memory size"
    unavailable["vram_total_bytes"] = "unified memory: the GPU has no memory of its own and uses system RAM"
    unavailable["memory_bandwidth_bytes_per_s"] = "macOS does not report memory bandwidth: the device table gives it"
    gpu = Gpu(
        index=0,
        vendor="apple",
        name=re.sub(r"\s+", " ", chip),
        sources=MappingProxyType(sources),
        unavailable=MappingProxyType(unavailable),
        **fields,
    )
    return [gpu], BackendStatus(name="apple", available=True, device_count=1)
