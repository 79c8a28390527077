"""The host CPU: model, vendor, cores, max clock and the ISA extensions that matter for CPU inference.

Linux reads /proc/cpuinfo (its root injectable for tests), macOS asks sysctl, Windows falls back to
what numpy's runtime CPU dispatch detected (the same CPUID bits llama.cpp checks).
"""

from __future__ import annotations

import platform
import re
from pathlib import Path
from types import MappingProxyType

import psutil

from rigcheck.probe._command import Runner, run_command
from rigcheck.probe.types import Cpu

# /proc/cpuinfo flag names (x86 "flags", arm64 "Features") -> our names (types.Cpu.isa_flags).
# These are the extensions llama.cpp, ggml and PyTorch dispatch on for matmul kernels.
_X86_FLAGS = {
    "avx": "avx", "avx2": "avx2", "fma": "fma", "f16c": "f16c",
    "avx512f": "avx512f", "avx512bw": "avx512bw", "avx512vl": "avx512vl", "avx512dq": "avx512dq",
    "avx512_vnni": "avx512_vnni", "avx512_bf16": "avx512_bf16", "avx512_fp16": "avx512_fp16",
    "avx512vbmi": "avx512_vbmi", "avx_vnni": "avx_vnni",
    "amx_bf16": "amx_bf16", "amx_int8": "amx_int8", "amx_tile": "amx_tile",
}
_ARM_FEATURES = {
    "asimd": "neon", "asimddp": "dotprod", "i8mm": "i8mm", "sve": "sve", "sve2": "sve2",
    "bf16": "bf16", "asimdhp": "fp16",
}
# numpy's __cpu_features__ names -> ours (the Windows fallback).
_NUMPY_FEATURES = {
    "AVX": "avx", "AVX2": "avx2", "FMA3": "fma", "F16C": "f16c",
    "AVX512F": "avx512f", "AVX512BW": "avx512bw", "AVX512VL": "avx512vl", "AVX512DQ": "avx512dq",
    "AVX512VNNI": "avx512_vnni", "AVX512BF16": "avx512_bf16", "AVX512FP16": "avx512_fp16",
    "AVX512VBMI": "avx512_vbmi", "ASIMD": "neon", "ASIMDDP": "dotprod", "ASIMDHP": "fp16", "SVE": "sve",
}
# macOS sysctl hw.optional keys -> ours.
_MAC_FEATURES = {
    "hw.optional.neon": "neon", "hw.optional.AdvSIMD": "neon",
    "hw.optional.arm.FEAT_DotProd": "dotprod", "hw.optional.arm.FEAT_I8MM": "i8mm",
    "hw.optional.arm.FEAT_BF16": "bf16", "hw.optional.arm.FEAT_FP16": "fp16",
    "hw.optional.arm.FEAT_SME": "sme",
    "hw.optional.avx1_0": "avx", "hw.optional.avx2_0": "avx2", "hw.optional.fma": "fma",
    "hw.optional.avx512f": "avx512f", "hw.optional.avx512bw": "avx512bw", "hw.optional.avx512vl": "avx512vl",
    "hw.optional.avx512dq": "avx512dq", "hw.optional.avx512vnni": "avx512_vnni",
}
# ARM "CPU implementer" codes (Arm ARM, MIDR_EL1) for the vendor of arm64 Linux machines.
_ARM_IMPLEMENTERS = {
    "0x41": "Arm", "0x42": "Broadcom", "0x43": "Cavium", "0x4e": "NVIDIA", "0x50": "Ampere (APM)",
    "0x51": "Qualcomm", "0x61": "Apple", "0xc0": "Ampere", "0x48": "HiSilicon",
}
_X86_VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}


def _ordered(flags: set[str]) -> tuple[str, ...]:
    return tuple(sorted(flags))


def _cpuinfo_fields(text: str) -> dict[str, str]:
    """The first processor block of /proc/cpuinfo (plus machine-wide lines some arm64 kernels add)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _from_cpuinfo(text: str, sources: dict[str, str], out: dict) -> None:
    fields = _cpuinfo_fields(text)
    model = fields.get("model name") or fields.get("Model") or fields.get("Hardware")
    if model:
        out["model"] = re.sub(r"\s+", " ", model)
        sources["model"] = "os"
    vendor_id = fields.get("vendor_id")
    implementer = fields.get("CPU implementer", "").lower()
    if vendor_id:
        out["vendor"] = _X86_VENDORS.get(vendor_id, vendor_id)
        sources["vendor"] = "os"
    elif implementer:
        out["vendor"] = _ARM_IMPLEMENTERS.get(implementer, f"ARM implementer {implementer}")
        sources["vendor"] = "os"
    if "flags" in fields:
        words = set(fields["flags"].split())
        out["isa_flags"] = _ordered({ours for theirs, ours in _X86_FLAGS.items() if theirs in words})
        sources["isa_flags"] = "os"
    elif "Features" in fields:
        words = set(fields["Features"].split())
        out["isa_flags"] = _ordered({ours for theirs, ours in _ARM_FEATURES.items() if theirs in words})
        sources["isa_flags"] = "os"
    mhz = fields.get("cpu MHz")
    if mhz and "max_clock_mhz" not in out:
        # The current clock, a lower bound of the maximum; cpufreq's maximum replaces it when present.
        out["_current_mhz"] = float(mhz)


def _from_sysctl(runner: Runner, sources: dict[str, str], out: dict) -> None:
    brand = runner(["sysctl", "-n", "machdep.cpu.brand_string"])
    if brand and brand.strip():
        out["model"] = brand.strip()
        sources["model"] = "os"
        out["vendor"] = "Apple" if brand.strip().startswith("Apple") else "Intel"
        sources["vendor"] = "os"
    optional = runner(["sysctl", "hw.optional"])
    if optional:
        flags = set()
        for line in optional.splitlines():
            key, _, value = line.partition(":")
            if value.strip() == "1" and key.strip() in _MAC_FEATURES:
                flags.add(_MAC_FEATURES[key.strip()])
        out["isa_flags"] = _ordered(flags)
        sources["isa_flags"] = "os"
    freq = runner(["sysctl", "-n", "hw.cpufrequency_max"])
    if freq and freq.strip().isdigit():
        out["max_clock_mhz"] = int(freq.strip()) / 1e6
        sources["max_clock_mhz"] = "os"


def _from_numpy(sources: dict[str, str], out: dict) -> None:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__ as features  # numpy < 2
        except ImportError:
            return
    out["isa_flags"] = _ordered({ours for theirs, ours in _NUMPY_FEATURES.items() if features.get(theirs)})
    sources["isa_flags"] = "os"


def _from_windows_registry(sources: dict[str, str], out: dict) -> None:
    # platform.processor() on Windows is "Intel64 Family 6 Model 183 ..."; the registry has the name.
    try:
        import winreg
    except ImportError:
        return
    try:
        key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"HARDWARE\DESCRIPTION\System\CentralProcessor\0")
        with key:
            name = str(winreg.QueryValueEx(key, "ProcessorNameString")[0]).strip()
            vendor = str(winreg.QueryValueEx(key, "VendorIdentifier")[0]).strip()
    except OSError:
        return
    if name:
        out["model"] = re.sub(r"\s+", " ", name)
        sources["model"] = "os"
    if vendor:
        out["vendor"] = _X86_VENDORS.get(vendor, vendor)
        sources["vendor"] = "os"


def _max_clock_mhz(sys_root: Path) -> float | None:
    path = sys_root / "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"
    try:
        return int(path.read_text().strip()) / 1000.0  # kHz
    except (OSError, ValueError):
        pass
    try:
        freq = psutil.cpu_freq()
    except (OSError, RuntimeError, NotImplementedError):
        return None
    return float(freq.max) if freq and freq.max else None


def probe_cpu(
    *,
    system: str | None = None,
    proc_root: str | Path = "/proc",
    sys_root: str | Path = "/sys",
    runner: Runner = run_command,
) -> Cpu:
    """The host CPU. Never raises: what cannot be read is None (or no flags) with a reason."""
    system = system or platform.system()
    sources: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    out: dict = {}
    if system == "Linux":
        try:
            _from_cpuinfo((Path(proc_root) / "cpuinfo").read_text(errors="replace"), sources, out)
        except OSError as exc:
            unavailable["isa_flags"] = f"could not read /proc/cpuinfo: {exc.strerror or exc}"
        clock = _max_clock_mhz(Path(sys_root))
        if clock:
            out["max_clock_mhz"] = clock
            sources["max_clock_mhz"] = "os"
    elif system == "Darwin":
        _from_sysctl(runner, sources, out)
    else:
        if system == "Windows":
            _from_windows_registry(sources, out)
        _from_numpy(sources, out)
        try:
            freq = psutil.cpu_freq()
        except (OSError, RuntimeError, NotImplementedError):
            freq = None
        if freq and freq.max:
            out["max_clock_mhz"] = float(freq.max)
            sources["max_clock_mhz"] = "os"
    current_mhz = out.pop("_current_mhz", None)
    if "max_clock_mhz" not in out and current_mhz:
        out["max_clock_mhz"] = current_mhz
        # No cpufreq maximum (typical of VMs and containers): the current clock is the best figure left.
        sources["max_clock_mhz"] = "os"
    if "model" not in out:
        model = platform.processor() or None
        if model:
            out["model"] = model
            sources["model"] = "os"
        else:
            unavailable["model"] = "the OS did not name the CPU model"
    if "isa_flags" not in out:
        unavailable.setdefault("isa_flags", "the OS did not list CPU instruction-set extensions")
    if "max_clock_mhz" not in out:
        unavailable["max_clock_mhz"] = "the OS did not report a maximum CPU clock"
    physical = psutil.cpu_count(logical=False)
    logical = psutil.cpu_count(logical=True)
    for name, value in (("physical_cores", physical), ("logical_cores", logical)):
        if value:
            out[name] = int(value)
            sources[name] = "os"
        else:
            unavailable[name] = "psutil could not count the cores"
    architecture = platform.machine() or None
    if architecture:
        out["architecture"] = architecture
        sources["architecture"] = "os"
    return Cpu(**out, sources=MappingProxyType(sources), unavailable=MappingProxyType(unavailable))
