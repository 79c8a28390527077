"""probe_machine(): run every probe backend and assemble one frozen Machine.

Each backend fails alone: an error in one is recorded as its BackendStatus (with the reason) and the
probe carries on with the others. Roots, runners and the NVML binding are parameters for tests.
"""

from __future__ import annotations

import platform
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec
import psutil

from rigcheck.probe._command import Runner, run_command
from rigcheck.probe.amd import probe_amd
from rigcheck.probe.apple import metal_working_set_bytes, probe_apple
from rigcheck.probe.cpu import probe_cpu
from rigcheck.probe.intel import probe_intel
from rigcheck.probe.memory import probe_disk, probe_memory
from rigcheck.probe.nvidia import probe_nvidia
from rigcheck.probe.types import BackendStatus, Cpu, Gpu, Machine, Memory

T = TypeVar("T")

# What a backend may raise on hardware or OS versions we have not seen: unreadable files, output in
# an unexpected shape. Anything else is a bug in rigcheck and should surface, not be swallowed.
_BACKEND_ERRORS = (OSError, ValueError, LookupError, TypeError, AttributeError, RuntimeError)


def _guarded(name: str, statuses: list[BackendStatus], run: Callable[[], T], fallback: T) -> T:
    try:
        return run()
    except _BACKEND_ERRORS as exc:
        statuses.append(
            BackendStatus(name=name, available=False, reason=f"the {name} probe failed: {type(exc).__name__}: {exc}")
        )
        return fallback


def _ram_total_bytes() -> int | None:
    try:
        return int(psutil.virtual_memory().total)
    except (OSError, RuntimeError):
        return None


def _os_version(system: str) -> str | None:
    if system == "Darwin":
        return platform.mac_ver()[0] or platform.release() or None
    if system == "Windows":
        return platform.version() or None
    if system == "Linux":
        try:
            distro = platform.freedesktop_os_release().get("PRETTY_NAME")
        except OSError:
            distro = None
        kernel = platform.release()
        return f"{distro} (kernel {kernel})" if distro else (kernel or None)
    return platform.release() or None


def _gpu_backends(
    system: str,
    statuses: list[BackendStatus],
    *,
    nvml: Any,
    sysfs_root: str | Path | None,
    runner: Runner,
    metal_working_set: Callable[[], int | None],
    ram_bytes: int | None,
) -> list[Gpu]:
    gpus: list[Gpu] = []

    def collect(name: str, run: Callable[[], tuple[list[Gpu], BackendStatus]]) -> None:
        found, status = _guarded(name, statuses, run, ([], None))
        if status is not None:
            statuses.append(status)
        gpus.extend(found)

    if system != "Darwin":  # NVML exists on Linux and Windows only
        collect("nvidia", lambda: probe_nvidia(nvml, system_ram_bytes=ram_bytes))
    if system == "Linux" or sysfs_root is not None:
        root = sysfs_root if sysfs_root is not None else "/sys"
        collect("amd", lambda: probe_amd(root, runner=runner))
        collect("intel", lambda: probe_intel(root, runner=runner))
    if system == "Darwin":
        collect("apple", lambda: probe_apple(runner=runner, metal_working_set=metal_working_set))
    # One numbering across vendors, in probe order (NVIDIA first, as CUDA_VISIBLE_DEVICES counts).
    return [msgspec.structs.replace(gpu, index=i) for i, gpu in enumerate(gpus)]


def probe_machine(
    *,
    measure_bandwidth: bool = False,
    nvml: Any = None,
    sysfs_root: str | Path | None = None,
    proc_root: str | Path = "/proc",
    runner: Runner = run_command,
    system: str | None = None,
    metal_working_set: Callable[[], int | None] = metal_working_set_bytes,
    model_store: Path | None = None,
) -> Machine:
    """This machine, probed. Never raises for missing drivers or failing backends; see ``backends``.

    ``measure_bandwidth`` adds a RAM bandwidth measurement of up to one second (run it off the GUI
    thread). The other parameters point backends at fakes for tests.
    """
    system = system or platform.system()
    sources: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    # Backends run side by side: on macOS and Windows each one waits on a slow tool (system_profiler,
    # PowerShell), so the probe takes as long as the slowest, not the sum. Each keeps its own status
    # list so the order of ``backends`` does not depend on which finished first.
    memory_statuses: list[BackendStatus] = []
    cpu_statuses: list[BackendStatus] = []
    gpu_statuses: list[BackendStatus] = []
    disk_statuses: list[BackendStatus] = []
    ram_total_bytes = _ram_total_bytes()
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="rigcheck-probe") as pool:
        memory_future = pool.submit(
            _guarded, "memory", memory_statuses, lambda: probe_memory(system=system, runner=runner), None
        )
        cpu_future = pool.submit(
            _guarded,
            "cpu",
            cpu_statuses,
            lambda: probe_cpu(system=system, proc_root=proc_root, runner=runner),
            Cpu(),
        )
        gpus_future = pool.submit(
            _gpu_backends,
            system,
            gpu_statuses,
            nvml=nvml,
            sysfs_root=sysfs_root,
            runner=runner,
            metal_working_set=metal_working_set,
            ram_bytes=ram_total_bytes,
        )
        disk_future = pool.submit(
            _guarded, "disk", disk_statuses, lambda: probe_disk(model_store), (None, None, "the disk probe failed")
        )
        memory, cpu, gpus = memory_future.result(), cpu_future.result(), gpus_future.result()
        disk_path, disk_free, disk_reason = disk_future.result()
    statuses = gpu_statuses + cpu_statuses + memory_statuses + disk_statuses
    if memory is None:
        reason = memory_statuses[-1].reason or "the memory probe failed"
        memory = Memory(total_bytes=ram_total_bytes or 0, unavailable=MappingProxyType({"available_bytes": reason}))
    if measure_bandwidth:
        memory = _with_measured_bandwidth(memory, statuses)

    if disk_free is not None:
        sources["disk_free_bytes"] = "os"
    else:
        unavailable["disk_free_bytes"] = disk_reason or "unknown"

    hostname = socket.gethostname() or None
    os_version = _os_version(system)
    for name, value in (("hostname", hostname), ("os_name", system), ("os_version", os_version)):
        if value:
            sources[name] = "os"
    return Machine(
        gpus=tuple(gpus),
        cpu=cpu,
        memory=memory,
        hostname=hostname,
        os_name=system,
        os_version=os_version,
        disk_free_bytes=disk_free,
        disk_path=disk_path,
        probed_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        origin="probed",
        label=hostname,
        backends=tuple(statuses),
        sources=MappingProxyType(sources),
        unavailable=MappingProxyType(unavailable),
    )


def _with_measured_bandwidth(memory: Memory, statuses: list[BackendStatus]) -> Memory:
    from rigcheck.probe.bandwidth import measure_ram_bandwidth  # numpy: imported only when measuring

    try:
        result = measure_ram_bandwidth()
    except MemoryError:
        statuses.append(
            BackendStatus(name="bandwidth", available=False, reason="not enough free RAM to measure bandwidth")
        )
        return memory
    sources = {**memory.sources, "bandwidth_bytes_per_s": "measured"}
    unavailable = {k: v for k, v in memory.unavailable.items() if k != "bandwidth_bytes_per_s"}
    statuses.append(BackendStatus(name="bandwidth", available=True))
    return msgspec.structs.replace(
        memory,
        bandwidth_bytes_per_s=result.bandwidth_bytes_per_s,
        sources=MappingProxyType(sources),
        unavailable=MappingProxyType(unavailable),
    )
