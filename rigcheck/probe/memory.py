"""System RAM and swap (psutil), RAM type and speed where readable without root, and free disk space.

RAM type/speed: Windows WMI (Win32_PhysicalMemory through PowerShell), macOS system_profiler
SPMemoryDataType; on Linux only when dmidecode can read the DMI tables (normally root only), else
unknown with a reason. ``ram_speed_mhz`` holds the data rate as the OS reports it: DDR4-3200 is 3200
(MT/s; Windows and macOS label it MHz). Disk: free space where models would be downloaded (the
Hugging Face cache), read-only; no folder is created.
"""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path
from types import MappingProxyType

import psutil

from rigcheck.probe._command import Runner, run_command
from rigcheck.probe.types import Memory

# SMBIOS memory type codes (DMTF SMBIOS 3.x, table "Memory Device - Type") as WMI reports them.
_SMBIOS_MEMORY_TYPES = {
    20: "DDR", 21: "DDR2", 24: "DDR3", 26: "DDR4", 27: "LPDDR", 28: "LPDDR2", 29: "LPDDR3",
    30: "LPDDR4", 34: "DDR5", 35: "LPDDR5",
}

_WMI_QUERY = (
    "Get-CimInstance Win32_PhysicalMemory | "
    "Select-Object SMBIOSMemoryType,Speed,ConfiguredClockSpeed | ConvertTo-Json -Compress"
)

_NO_ROOT_REASON = "unknown: on Linux the RAM type and speed need root (dmidecode reads the DMI tables)"


def _windows_ram(runner: Runner) -> tuple[str | None, int | None, str | None]:
    text = runner(["powershell", "-NoProfile", "-NonInteractive", "-Command", _WMI_QUERY])
    if not text:
        return None, None, "Windows did not answer the WMI memory query"
    try:
        data = json.loads(text)
    except ValueError:
        return None, None, "the WMI memory query answered something that is not JSON"
    modules = data if isinstance(data, list) else [data]
    types = {_SMBIOS_MEMORY_TYPES.get(m.get("SMBIOSMemoryType")) for m in modules if isinstance(m, dict)}
    speeds = [
        m.get("ConfiguredClockSpeed") or m.get("Speed")
        for m in modules
        if isinstance(m, dict) and isinstance(m.get("ConfiguredClockSpeed") or m.get("Speed"), int)
    ]
    types.discard(None)
    ram_type = types.pop() if len(types) == 1 else None
    # Mixed modules run at the slowest one's speed.
    return ram_type, (min(speeds) if speeds else None), None


def _mac_ram(runner: Runner) -> tuple[str | None, int | None, str | None]:
    text = runner(["system_profiler", "SPMemoryDataType", "-json"])
    if not text:
        return None, None, "system_profiler did not answer"
    try:
        items = json.loads(text).get("SPMemoryDataType", [])
    except (ValueError, AttributeError):
        return None, None, "system_profiler answered something that is not the expected JSON"
    ram_type = None
    speeds: list[int] = []
    # Apple Silicon lists one item (the package); Intel Macs list banks under "_items".
    stack = list(items) if isinstance(items, list) else []
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        stack.extend(item.get("_items", []) or [])
        kind = item.get("dimm_type")
        if isinstance(kind, str) and kind and kind.lower() != "empty":
            ram_type = kind
        match = re.match(r"(\d+)\s*(MHz|MT/s)", str(item.get("dimm_speed", "")))
        if match:
            speeds.append(int(match.group(1)))
    return ram_type, (min(speeds) if speeds else None), None


def _linux_ram(runner: Runner, dmi_table: Path) -> tuple[str | None, int | None, str | None]:
    if not os.access(dmi_table, os.R_OK):
        return None, None, _NO_ROOT_REASON
    text = runner(["dmidecode", "--type", "17"])
    if not text:
        return None, None, _NO_ROOT_REASON
    return parse_dmidecode_memory(text)


def parse_dmidecode_memory(text: str) -> tuple[str | None, int | None, str | None]:
    """RAM type and slowest configured speed from ``dmidecode --type 17`` output."""
    types: set[str] = set()
    speeds: list[int] = []
    for block in text.split("\n\n"):
        if "Memory Device" not in block or re.search(r"Size:\s*No Module Installed", block):
            continue
        kind = re.search(r"^\s*Type:\s*(\S+)", block, re.M)
        if kind and kind.group(1) not in ("Unknown", "Other"):
            types.add(kind.group(1))
        speed = re.search(r"Configured (?:Memory|Clock) Speed:\s*(\d+)", block) or re.search(
            r"^\s*Speed:\s*(\d+)", block, re.M
        )
        if speed:
            speeds.append(int(speed.group(1)))
    if not types and not speeds:
        return None, None, "dmidecode listed no installed memory module"
    return (types.pop() if len(types) == 1 else None), (min(speeds) if speeds else None), None


def probe_memory(
    *,
    system: str | None = None,
    runner: Runner = run_command,
    dmi_table: str | Path = "/sys/firmware/dmi/tables/DMI",
) -> Memory:
    """RAM and swap from psutil, RAM type and speed where the OS tells without root. Never raises."""
    system = system or platform.system()
    sources: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    vm = psutil.virtual_memory()
    out: dict = {"total_bytes": int(vm.total), "available_bytes": int(vm.available)}
    sources.update(total_bytes="os", available_bytes="os")
    try:
        swap = psutil.swap_memory()
    except (OSError, RuntimeError) as exc:
        unavailable["swap_total_bytes"] = unavailable["swap_free_bytes"] = f"could not read swap: {exc}"
    else:
        out.update(swap_total_bytes=int(swap.total), swap_free_bytes=int(swap.free))
        sources.update(swap_total_bytes="os", swap_free_bytes="os")
    if system == "Windows":
        ram_type, speed, reason = _windows_ram(runner)
    elif system == "Darwin":
        ram_type, speed, reason = _mac_ram(runner)
    elif system == "Linux":
        ram_type, speed, reason = _linux_ram(runner, Path(dmi_table))
    else:
        ram_type, speed, reason = None, None, f"RAM type is not read on {system}"
    for name, value in (("ram_type", ram_type), ("ram_speed_mhz", speed)):
        if value is not None:
            out[name] = value
            sources[name] = "os"
        else:
            unavailable[name] = reason or "the OS did not report it"
    unavailable["bandwidth_bytes_per_s"] = "not measured (rigcheck probe --measure-bandwidth measures it)"
    return Memory(**out, sources=MappingProxyType(sources), unavailable=MappingProxyType(unavailable))


def model_store_path(environ: dict[str, str] | None = None) -> Path:
    """Where model files would be downloaded: the Hugging Face hub cache, as huggingface_hub resolves it."""
    env = os.environ if environ is None else environ
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    cache = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return cache / "huggingface" / "hub"


def probe_disk(path: Path | None = None) -> tuple[str | None, int | None, str | None]:
    """(folder measured, free bytes, reason when unknown) for the model store or its nearest existing parent."""
    target = path or model_store_path()
    for candidate in (target, *target.parents):
        if candidate.is_dir():
            try:
                return str(candidate), int(psutil.disk_usage(str(candidate)).free), None
            except OSError as exc:
                return str(candidate), None, f"could not read free space of {candidate}: {exc.strerror or exc}"
    return None, None, f"no existing folder on the way to {target}"
