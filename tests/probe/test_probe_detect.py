"""probe_machine(): every backend together, one failing backend isolated, and this CPU-only machine."""

from __future__ import annotations

import json
import subprocess
import sys

import psutil
import pytest
from fake_nvml import SCENARIOS
from tests_probe_paths import SYSFS

from rigcheck.catalog.devices import resolve_gpu
from rigcheck.catalog.store import load_catalog
from rigcheck.probe import detect
from rigcheck.probe.detect import probe_machine
from rigcheck.probe.profile import load_profile


def test_gpus_of_all_vendors_are_numbered_once():
    machine = probe_machine(nvml=SCENARIOS["two_mixed_gpus"](), sysfs_root=SYSFS / "amd_dgpu")
    assert [g.index for g in machine.gpus] == [0, 1, 2, 3]
    assert [g.vendor for g in machine.gpus] == ["nvidia", "nvidia", "amd", "amd"]
    assert {b.name: b.available for b in machine.backends} == {"nvidia": True, "amd": True, "intel": False}
    assert machine.origin == "probed" and machine.probed_at.endswith("+00:00")


def test_unified_nvidia_gpu_gets_system_ram():
    machine = probe_machine(nvml=SCENARIOS["unified_memory"](), sysfs_root=SYSFS / "intel_arc")
    gb10 = machine.gpus[0]
    assert gb10.unified_memory and gb10.gpu_usable_memory_bytes == machine.memory.total_bytes


def test_one_failing_backend_does_not_fail_the_probe(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(detect, "probe_amd", broken)
    machine = probe_machine(nvml=SCENARIOS["one_gpu"](), sysfs_root=SYSFS / "amd_dgpu")
    assert [g.name for g in machine.gpus] == ["NVIDIA GeForce RTX 4090"]
    amd = next(b for b in machine.backends if b.name == "amd")
    assert not amd.available and "Input/output error" in amd.reason
    assert machine.cpu.logical_cores and machine.memory.total_bytes


def test_a_bug_in_a_backend_is_not_swallowed(monkeypatch):
    def buggy(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(detect, "probe_intel", buggy)
    with pytest.raises(ZeroDivisionError):
        probe_machine(nvml=SCENARIOS["one_gpu"](), sysfs_root=SYSFS / "intel_arc")


def test_measured_bandwidth_is_marked_measured():
    machine = probe_machine(nvml=SCENARIOS["no_library"](), measure_bandwidth=True)
    assert machine.memory.bandwidth_bytes_per_s > 0
    assert machine.memory.sources["bandwidth_bytes_per_s"] == "measured"
    assert "bandwidth_bytes_per_s" not in machine.memory.unavailable


@pytest.mark.parametrize(
    ("scenario", "root", "expected"),
    [
        ("two_mixed_gpus", None, ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 3060 12 GB"]),
        ("mig_enabled", None, ["NVIDIA A100 80GB SXM", "NVIDIA H100 SXM"]),
        ("unified_memory", None, ["NVIDIA DGX Spark (GB10)"]),
        ("no_library", "amd_dgpu", ["AMD Radeon RX 7900 XTX", None]),  # Raphael iGPU is not in the table
        ("no_library", "strix_halo", ["AMD Ryzen AI Max+ 395 (Radeon 8060S)"]),
        ("no_library", "intel_arc", [None, "Intel Arc A770"]),
    ],
)
def test_probed_gpus_resolve_in_the_device_table(scenario, root, expected):
    # What the probe names a GPU must be what the catalog's device table finds (bandwidth, TFLOPS).
    machine = probe_machine(nvml=SCENARIOS[scenario](), sysfs_root=SYSFS / root if root else None)
    devices = load_catalog().devices
    found = [resolve_gpu(g, devices) for g in machine.gpus if g.vendor != "nvidia" or root is None]
    assert [d.name if d else None for d in found] == expected


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "rigcheck", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_probe_json_on_this_cpu_only_machine(tmp_path):
    proc = _cli("probe", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert data["schema"] == "rigcheck.machine/1"
    assert data["memory"]["total_bytes"] == psutil.virtual_memory().total
    assert data["memory"]["sources"]["total_bytes"] == "os"
    assert data["cpu"]["logical_cores"] == psutil.cpu_count(logical=True)
    assert data["cpu"]["physical_cores"] == psutil.cpu_count(logical=False)
    nvidia = next(b for b in data["backends"] if b["name"] == "nvidia")
    if not data["gpus"]:  # the test machines have no GPU: the profile must say why
        assert nvidia["available"] is False and nvidia["reason"]
    # The printed profile is one --machine FILE reads back.
    path = tmp_path / "this.json"
    path.write_text(proc.stdout)
    assert load_profile(path).memory.total_bytes == data["memory"]["total_bytes"]


def test_cli_probe_summary_says_why_no_gpu():
    proc = _cli("probe")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    out = proc.stdout
    assert "CPU " in out and "RAM " in out and "Disk " in out
    if "GPU 0" not in out:
        assert "none usable: " in out and "CPU-only estimates still work" in out
        assert "NVIDIA" in out or "GPU" in out


def test_cli_probe_bad_argument_exits_2_without_traceback():
    proc = _cli("probe", "--no-such-flag")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_mac_probe_runs_its_slow_tools_side_by_side():
    import time

    from test_probe_apple import recorded

    answer = recorded("m2_max_96gb")
    calls = []

    def slow(argv):
        calls.append(argv[0])
        time.sleep(0.25)  # system_profiler and sysctl take this long and more on a real Mac
        return answer(argv)

    t0 = time.perf_counter()
    machine = probe_machine(system="Darwin", runner=slow, metal_working_set=lambda: None)
    elapsed = time.perf_counter() - t0
    assert [g.name for g in machine.gpus] == ["Apple M2 Max"]
    assert machine.cpu.model == "Apple M2 Max" and machine.memory.ram_type == "LPDDR5"
    assert [b.name for b in machine.backends] == ["apple"]  # no NVML, no sysfs on macOS
    assert elapsed < 0.75 * 0.25 * len(calls)  # well under the serial sum
