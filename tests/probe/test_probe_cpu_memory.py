"""CPU, RAM, disk and bandwidth probes: recorded /proc/cpuinfo, WMI and dmidecode outputs, and this machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psutil
import pytest

from rigcheck.probe.bandwidth import measure_ram_bandwidth
from rigcheck.probe.cpu import probe_cpu
from rigcheck.probe.memory import model_store_path, parse_dmidecode_memory, probe_disk, probe_memory

CPUINFO = Path(__file__).parents[1] / "data" / "cpuinfo"


def proc_with(tmp_path: Path, name: str) -> Path:
    proc = tmp_path / "proc"
    proc.mkdir()
    shutil.copy(CPUINFO / name, proc / "cpuinfo")
    return proc


def test_sapphire_rapids_flags_include_avx512_and_amx(tmp_path):
    sys_root = tmp_path / "sys"
    freq = sys_root / "devices/system/cpu/cpu0/cpufreq"
    freq.mkdir(parents=True)
    (freq / "cpuinfo_max_freq").write_text("3800000\n")
    cpu = probe_cpu(system="Linux", proc_root=proc_with(tmp_path, "sapphire_rapids.txt"), sys_root=sys_root)
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8480+" and cpu.vendor == "Intel"
    assert {"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16",
            "amx_bf16", "amx_int8", "amx_tile", "avx_vnni"} <= set(cpu.isa_flags)
    assert "neon" not in cpu.isa_flags
    assert cpu.max_clock_mhz == 3800.0  # cpufreq's maximum, not the 2000 MHz current clock
    assert cpu.sources["isa_flags"] == "os"


def test_grace_arm64_features(tmp_path):
    cpu = probe_cpu(system="Linux", proc_root=proc_with(tmp_path, "grace_arm64.txt"), sys_root=tmp_path / "none")
    assert cpu.vendor == "Arm"
    assert {"neon", "dotprod", "i8mm", "sve", "sve2", "bf16"} <= set(cpu.isa_flags)
    assert not any(flag.startswith("avx") for flag in cpu.isa_flags)


def test_unreadable_cpuinfo_is_a_reason(tmp_path):
    cpu = probe_cpu(system="Linux", proc_root=tmp_path / "missing", sys_root=tmp_path)
    assert cpu.isa_flags == () and "cpuinfo" in cpu.unavailable["isa_flags"]
    assert cpu.logical_cores == psutil.cpu_count()


def test_windows_falls_back_to_numpy_cpu_dispatch():
    import numpy._core._multiarray_umath as umath

    cpu = probe_cpu(system="Windows", runner=lambda argv: None)
    assert ("avx2" in cpu.isa_flags) == bool(umath.__cpu_features__.get("AVX2"))


def test_windows_wmi_ram_type_and_speed():
    answer = json.dumps([
        {"SMBIOSMemoryType": 34, "Speed": 5600, "ConfiguredClockSpeed": 5200},
        {"SMBIOSMemoryType": 34, "Speed": 5600, "ConfiguredClockSpeed": 4800},
    ])
    seen = []

    def powershell(argv):
        seen.append(argv[0])
        return answer

    memory = probe_memory(system="Windows", runner=powershell)
    assert seen == ["powershell"]
    assert memory.ram_type == "DDR5" and memory.ram_speed_mhz == 4800  # slowest module sets the pace


def test_windows_wmi_garbage_is_a_reason():
    memory = probe_memory(system="Windows", runner=lambda argv: "not json")
    assert memory.ram_type is None and "not JSON" in memory.unavailable["ram_type"]


DMIDECODE = """\
# dmidecode 3.5
Handle 0x0040, DMI type 17, 92 bytes
Memory Device
\tSize: 32 GB
\tType: DDR5
\tSpeed: 5600 MT/s
\tConfigured Memory Speed: 5200 MT/s

Handle 0x0041, DMI type 17, 92 bytes
Memory Device
\tSize: No Module Installed
\tType: Unknown
\tSpeed: Unknown
"""


def test_dmidecode_parse():
    assert parse_dmidecode_memory(DMIDECODE) == ("DDR5", 5200, None)


def test_linux_ram_type_unknown_without_root(tmp_path):
    memory = probe_memory(system="Linux", dmi_table=tmp_path / "no-such-table", runner=lambda argv: DMIDECODE)
    assert memory.ram_type is None and "root" in memory.unavailable["ram_type"]


def test_linux_ram_type_from_readable_dmidecode(tmp_path):
    table = tmp_path / "DMI"
    table.write_bytes(b"\0")
    memory = probe_memory(system="Linux", dmi_table=table, runner=lambda argv: DMIDECODE)
    assert (memory.ram_type, memory.ram_speed_mhz) == ("DDR5", 5200)


def test_ram_matches_psutil():
    memory = probe_memory(system="Linux", dmi_table="/nonexistent")
    assert memory.total_bytes == psutil.virtual_memory().total
    assert memory.swap_total_bytes == psutil.swap_memory().total
    assert memory.bandwidth_bytes_per_s is None and "measure" in memory.unavailable["bandwidth_bytes_per_s"]


def test_model_store_follows_huggingface_variables(tmp_path):
    assert model_store_path({"HF_HUB_CACHE": "/data/hub"}) == Path("/data/hub")
    assert model_store_path({"HF_HOME": "/data/hf"}) == Path("/data/hf/hub")
    assert model_store_path({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "huggingface" / "hub"


def test_disk_uses_nearest_existing_parent_and_creates_nothing(tmp_path):
    target = tmp_path / "a" / "b" / "hub"
    path, free, reason = probe_disk(target)
    assert path == str(tmp_path) and free == psutil.disk_usage(str(tmp_path)).free and reason is None
    assert not (tmp_path / "a").exists()


def test_bandwidth_measurement_is_short_and_plausible():
    result = measure_ram_bandwidth(budget_s=0.5)
    assert result.elapsed_s < 3.0  # the budget plus allocation on a loaded 2-core box
    assert 0.5e9 < result.bandwidth_bytes_per_s < 2e12
    assert result.buffer_bytes >= 64 * 1024**2 and result.passes >= 1


@pytest.mark.parametrize("system", ["Linux", "Darwin", "Windows", "FreeBSD"])
def test_memory_never_raises_for_silent_tools(system):
    memory = probe_memory(system=system, runner=lambda argv: None, dmi_table="/nonexistent")
    assert memory.total_bytes > 0 and memory.ram_type is None and memory.unavailable["ram_type"]
