"""Device resolution: a probed or typed GPU name to one row of the spec table, or to none; what-if machines.

``resolve`` is deliberately strict. A name is normalised (case, punctuation, vendor and brand words such as
"NVIDIA GeForce", "AMD Radeon", "(TM)", "Graphics"; a memory size like "24GB" and a GPU-core count like
"(76-core GPU)" or "24c" are taken out as hints) and must then equal the normalised name or an alias of a
device. Extra words keep a name apart: "RTX 4090 D" and "RTX 4090 Laptop GPU" are not "RTX 4090". Memory
(from the name or the probe) separates an A100 40 GB from an 80 GB one; GPU cores separate Apple variants.
Anything left ambiguous or unknown resolves to None: no confident wrong match.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from rigcheck.catalog.lookup import ModelLookupError, find_model
from rigcheck.catalog.records import Catalog, Device
from rigcheck.probe import limits
from rigcheck.probe.types import Cpu, Gpu, Machine, Memory

__all__ = [
    "DeviceLookupError",
    "InvalidSizeError",
    "ModelLookupError",
    "find_model",
    "hypothetical_machine",
    "lookup",
    "parse_gpu_spec",
    "parse_size",
    "resolve",
    "resolve_gpu",
    "suggest",
]

GIB = 2**30


def _size_text(n_bytes: int) -> str:
    """A machine's memory as the app writes it beside, by ``units.bytes_text``'s rule (which this package, below
    ``units``, cannot import): "64 GiB", "95.5 GiB", "2 TiB", "1.5 TiB"; whole, or from 100 up, without decimals."""
    value, unit = (n_bytes / (1024 * GIB), "TiB") if n_bytes >= 1024 * GIB else (n_bytes / GIB, "GiB")
    return f"{value:,.0f} {unit}" if value >= 100 or value == int(value) else f"{value:.1f} {unit}"


MEMORY_TOLERANCE = 0.08
"""Probed VRAM sits a little under the marketed size (an H100 "80 GB" reports 79.6 GiB, an H200 "141 GB"
140.4 GiB); 8% keeps those together while 40 vs 80 GB and 8 vs 16 GB stay apart."""


class DeviceLookupError(ValueError):
    """A GPU name or machine description that matches no device, or several; the message lists suggestions."""


class InvalidSizeError(DeviceLookupError):
    """A size such as "64GB" that cannot be read."""


# ---------------------------------------------------------------------------------------------------------
# Name normalisation

_NOISE = {
    "nvidia", "geforce", "amd", "radeon", "ati", "intel", "apple", "tesla", "instinct", "graphics", "gpu",
    "r", "tm", "corporation", "series",
}
# A size stands on its own: "24GB", "A100-SXM4-80GB", "GH200 144G"; the "10G" of "A10G" is part of a model name.
_MEMORY_RE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*(gib|gb|g)\b")
_CORES_RE = re.compile(r"\b(\d+)\s*-?\s*core(?:s)?(?:\s*gpu)?\b|\b(\d+)c\b")


@dataclass(frozen=True)
class _Query:
    key: str
    memory_bytes: int | None
    gpu_cores: int | None


def _parse_name(name: str) -> _Query:
    text = name.lower().replace("™", " ").replace("®", " ")
    memory = cores = None
    m = _MEMORY_RE.search(text)
    if m:
        memory = int(float(m.group(1)) * GIB)
        text = text[: m.start()] + " " + text[m.end():]
    m = _CORES_RE.search(text)
    if m:
        cores = int(m.group(1) or m.group(2))
        text = text[: m.start()] + " " + text[m.end():]
    text = re.sub(r"[^a-z0-9]+", " ", text)
    # Letters and digits apart ("rtx4090" = "rtx 4090"), on both sides of every comparison.
    text = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", text)
    tokens = [t for t in text.split() if t not in _NOISE]
    return _Query(" ".join(tokens), memory, cores)


@dataclass(frozen=True)
class _Entry:
    key: str
    device: Device
    name_memory_bytes: int | None
    """Memory stated in this name or alias ("A100 80GB"), if any."""


class _Index:
    def __init__(self, devices: Sequence[Device]):
        self.devices = list(devices)
        self.by_key: dict[str, list[_Entry]] = {}
        for device in self.devices:
            seen = set()
            for label in (device.name, *device.aliases):
                parsed = _parse_name(label)
                if not parsed.key or (parsed.key, parsed.memory_bytes) in seen:
                    continue
                seen.add((parsed.key, parsed.memory_bytes))
                self.by_key.setdefault(parsed.key, []).append(_Entry(parsed.key, device, parsed.memory_bytes))


_index_lock = threading.Lock()
_index_cache: dict[int, tuple[Sequence[Device], _Index]] = {}


def _index(devices: Sequence[Device]) -> _Index:
    # Keyed by identity: a catalog's device list is built once and not mutated.
    with _index_lock:
        hit = _index_cache.get(id(devices))
        if hit is not None and hit[0] is devices:
            return hit[1]
    index = _Index(devices)
    with _index_lock:
        if len(_index_cache) > 8:
            _index_cache.clear()
        _index_cache[id(devices)] = (devices, index)
    return index


def _default_devices() -> list[Device]:
    from rigcheck.catalog.store import load_catalog

    return load_catalog().devices


# ---------------------------------------------------------------------------------------------------------
# Resolution


def _memory_matches(actual: int | None, wanted: int) -> bool:
    return actual is None or abs(actual - wanted) <= MEMORY_TOLERANCE * wanted


def _candidates(name: str, memory_bytes: int | None, gpu_cores: int | None,
                devices: Sequence[Device]) -> tuple[list[Device], _Query]:
    query = _parse_name(name)
    entries = _index(devices).by_key.get(query.key, []) if query.key else []
    memory = query.memory_bytes if query.memory_bytes is not None else memory_bytes
    cores = query.gpu_cores if query.gpu_cores is not None else gpu_cores
    found: list[Device] = []
    sizeless: list[Device] = []
    for entry in entries:
        device = entry.device
        if memory is not None and not device.unified_memory:
            # The size named in an alias ("A100 80GB") or the device's own memory must agree.
            stated = entry.name_memory_bytes if entry.name_memory_bytes is not None else device.memory_bytes
            if not _memory_matches(stated, memory):
                continue
        if cores is not None and device.gpu_cores is not None and device.gpu_cores != cores:
            continue
        if device not in found:
            found.append(device)
        if entry.name_memory_bytes is None and device not in sizeless:
            sizeless.append(device)
    if memory is None and len(found) > 1 and len(sizeless) == 1:
        # "RTX 3080" against "RTX 3080" (10 GB) and "RTX 3080 12 GB": the name without a size is the
        # original part, the later variant always carries its size. "A100" stays ambiguous: every A100
        # name in the table states its size.
        found = sizeless
    if memory is not None and len(found) > 1:
        # Several sizes within tolerance (rare): keep the nearest.
        def distance(d: Device) -> float:
            return abs((d.memory_bytes or memory) - memory)
        best = min(distance(d) for d in found)
        found = [d for d in found if distance(d) == best]
    return found, query


def resolve(name: str, memory_bytes: int | None = None, gpu_cores: int | None = None,
            devices: Sequence[Device] | None = None) -> Device | None:
    """The one device this name denotes, or None when it is unknown or ambiguous.

    ``memory_bytes`` (probed VRAM) and ``gpu_cores`` (Apple GPU cores) narrow the match; a size or core
    count written in the name wins over them. ``devices`` defaults to the catalog in use.
    """
    if not name or not name.strip():
        return None
    found, _ = _candidates(name, memory_bytes, gpu_cores, devices if devices is not None else _default_devices())
    return found[0] if len(found) == 1 else None


_GFX_TARGET_RE = re.compile(r"\bgfx[0-9a-f]{3,4}\b")


def resolve_gpu(gpu: Gpu, devices: Sequence[Device] | None = None) -> Device | None:
    """The spec-table device of a probed GPU, or None. Unified-memory GPUs are matched without VRAM size
    (their "VRAM" is the machine's RAM), Apple ones by GPU-core count.

    An AMD GPU whose name says nothing ("AMD Radeon Graphics", what ROCm reports for Strix Halo) is tried
    again by its gfx target from the KFD topology ("gfx1151"), which rows carry as an alias, with the probed
    compute-unit count telling the binned parts apart (Radeon 8060S 40 CUs, 8050S 32).
    """
    devices = devices if devices is not None else _default_devices()
    memory = None if gpu.unified_memory else gpu.vram_total_bytes
    device = resolve(gpu.name, memory_bytes=memory, gpu_cores=gpu.gpu_cores, devices=devices)
    if device is None and gpu.vendor == "amd" and gpu.architecture:
        target = _GFX_TARGET_RE.search(gpu.architecture.lower())
        if target:
            device = resolve(target.group(0), memory_bytes=memory, gpu_cores=gpu.gpu_cores, devices=devices)
    return device


def suggest(name: str, devices: Sequence[Device] | None = None, limit: int = 6) -> list[str]:
    """Device names close to ``name``, best first, for "did you mean" messages."""
    import difflib  # only for error messages: kept off the start-up path

    devices = devices if devices is not None else _default_devices()
    query = _parse_name(name)
    index = _index(devices)
    tokens = set(query.key.split())
    scored: dict[str, float] = {}
    for key, entries in index.by_key.items():
        key_tokens = set(key.split())
        overlap = len(tokens & key_tokens) / max(1, len(tokens | key_tokens))
        ratio = difflib.SequenceMatcher(None, query.key, key).ratio()
        score = max(ratio, overlap + (0.5 if tokens and tokens <= key_tokens else 0.0))
        for entry in entries:
            if score > scored.get(entry.device.name, 0.0):
                scored[entry.device.name] = score
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))
    return [n for n, s in ranked if s >= 0.6][:limit]


def _short_name_match(name: str, devices: Sequence[Device]) -> Device | None:
    """The device a short typed name ("4090", "3090", "5090 laptop") means, or None: the names holding every word
    of it, when the shortest of them starts every other ("RTX 3090" of "RTX 3090 Ti", "RTX 4090" of "RTX 4090
    Laptop GPU": the original part, as ``_candidates`` takes "RTX 3080" over "RTX 3080 12 GB")."""
    tokens = set(_parse_name(name).key.split())
    if not tokens:
        return None
    holding: dict[str, Device] = {}
    for key, entries in _index(devices).by_key.items():
        if tokens <= set(key.split()):
            for entry in entries:
                holding.setdefault(entry.device.name, entry.device)
    if not holding:
        return None
    shortest = min(holding, key=len)
    if all(other == shortest or other.startswith(shortest + " ") for other in holding):
        return holding[shortest]
    return None


def lookup(name: str, devices: Sequence[Device] | None = None, *, memory_bytes: int | None = None,
           gpu_cores: int | None = None) -> Device:
    """Like ``resolve`` but for names a person typed: raises DeviceLookupError with suggestions."""
    devices = devices if devices is not None else _default_devices()
    if not name or not name.strip():
        raise DeviceLookupError("empty GPU name")
    found, _ = _candidates(name, memory_bytes, gpu_cores, devices)
    if len(found) == 1:
        return found[0]
    if found:
        options = ", ".join(d.name for d in found[:8])
        raise DeviceLookupError(f"GPU name {name!r} is ambiguous; say which: {options}")
    short = _short_name_match(name, devices)
    if short is not None:
        return short
    near = suggest(name, devices)
    hint = f"; did you mean: {', '.join(near)}" if near else "; `rigcheck devices` lists the known names"
    raise DeviceLookupError(f"unknown GPU {name!r}{hint}")


# ---------------------------------------------------------------------------------------------------------
# Sizes and what-if machines

KIND_ORDER = ("consumer", "workstation", "laptop", "datacenter", "apple", "apu")
"""The order of device kinds in a listing: the cards one buys for a desktop first, then workstation, laptop and
data-centre parts, then the unified-memory machines (Apple, then the other APUs)."""
VENDOR_ORDER = ("NVIDIA", "AMD", "Intel", "Apple")


def max_memory_bytes(device: Device) -> int | None:
    """The most memory the device is sold with: its largest option, else its memory; None when not known."""
    return max(device.memory_options_bytes) if device.memory_options_bytes else device.memory_bytes


def listing_key(device: Device) -> tuple:
    """Sort key of the device listing (``rigcheck devices``, the what-if editor): by kind (``KIND_ORDER``), then
    vendor (``VENDOR_ORDER``), then memory (the largest option; unknown last), then bandwidth, then name, so that
    a buyer reads each kind from the smallest to the largest part."""
    def rank(order: tuple[str, ...], value: str) -> int:
        return order.index(value) if value in order else len(order)

    memory = max_memory_bytes(device)
    bandwidth = device.bandwidth_bytes_per_s
    return (rank(KIND_ORDER, device.kind), rank(VENDOR_ORDER, device.vendor), memory is None, memory or 0,
            bandwidth is None, bandwidth or 0.0, device.name.casefold())


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$", re.IGNORECASE)
"""A number (with an exponent too: "1e30" is a number, and an absurd one is refused as too large, not as
unreadable), a unit prefix, an optional "i" and an optional "B"."""
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_size(text: str) -> int:
    """Bytes in a memory size: "64GB", "64 GiB", "1.5T", "512g", "2048MB".

    Memory is sold in binary units under decimal names ("64 GB" of RAM is 64 GiB), so GB and GiB both mean
    2^30 here. A bare number is taken as GiB. Raises InvalidSizeError for anything else, and for a size of
    zero or above ``limits.MAX_MEMORY_BYTES`` (4 PiB): a number that reads ("1e30", "999999999TB") but no machine
    has is "more than any machine has", never "cannot read".
    """
    if text is None:
        raise InvalidSizeError("empty size; write it like 64GB")
    m = _SIZE_RE.match(str(text))
    if not m:
        raise InvalidSizeError(f"cannot read size {_short(str(text))}; write it like 64GB or 1.5TB")
    number, unit = float(m.group(1)), m.group(2).lower()
    if not unit and not m.group(4):
        unit = "g"
    scaled = number if not unit and m.group(4) else number * 1024 ** _SIZE_POWERS[unit]  # "1024B": bytes
    if not scaled <= limits.MAX_MEMORY_BYTES:  # also infinity, from a number of hundreds of digits
        raise InvalidSizeError(f"size {_short(text)} is more than any machine has (at most 4 PiB)")
    value = int(round(scaled))
    if value <= 0:
        raise InvalidSizeError(f"size {text!r} must be more than zero")
    return value


def _short(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"


_SPEC_RE = re.compile(r"^\s*(?:(\d+)\s*(?:x|×|\*)\s*)?(.+?)\s*$", re.IGNORECASE)


def parse_gpu_spec(spec: str) -> tuple[int, str]:
    """("2 x RTX 4090") -> (2, "RTX 4090"); a spec without a count is one GPU. Raises DeviceLookupError."""
    m = _SPEC_RE.match(spec or "")
    if not m or not m.group(2):
        raise DeviceLookupError(f"cannot read GPU {_short(spec or '')}; write it like \"2 x RTX 4090\"")
    digits = m.group(1)
    count = (int(digits) if len(digits) <= 6 else 10**6) if digits else 1  # never int() a 5000-digit string
    if not 1 <= count <= 256:
        raise DeviceLookupError(f"GPU count in {_short(spec)} must be between 1 and 256")
    return count, m.group(2)


_VENDORS = {"nvidia": "nvidia", "amd": "amd", "intel": "intel", "apple": "apple"}

NVIDIA_ARCHITECTURES: tuple[tuple[str, str, str], ...] = (
    # (name pattern, architecture, CUDA compute capability), first match wins; NVIDIA's CUDA GPUs table.
    (r"\bG?B[23]00\b", "Blackwell", "10.0"),
    (r"\bGB10\b|DGX Spark|RTX 50\d\d(?! Ada)|RTX PRO \d+ Blackwell", "Blackwell", "12.0"),
    (r"\bG?H(100|200|800|20)\b", "Hopper", "9.0"),
    (r"RTX 40\d\d|Ada Generation|\bL4\b|\bL40S?\b|\bL20\b", "Ada Lovelace", "8.9"),
    (r"\bA(100|30|800)\b", "Ampere", "8.0"),
    (r"Jetson AGX Orin|Jetson Orin", "Ampere", "8.7"),
    (r"RTX 30\d\d|RTX A\d{4}|\bA(2|10G?|16|40)\b", "Ampere", "8.6"),
    (r"TITAN RTX|RTX 20\d\d|Quadro RTX|GTX 16\d\d|\bT4\b|\bT(400|600|1000)\b", "Turing", "7.5"),
    (r"\bV100S?\b|TITAN V\b", "Volta", "7.0"),
    (r"\bP100\b", "Pascal", "6.0"),
    (r"\bP(4|40)\b|GTX 10\d\d|TITAN Xp?\b", "Pascal", "6.1"),
)
"""NVIDIA product names to architecture and compute capability: what a what-if GPU runs (FP8 and BF16 kernels need
compute capability 8.0 or more), as a probed one reports through NVML."""


def nvidia_architecture(name: str) -> tuple[str, str] | None:
    """(architecture, compute capability) of an NVIDIA GPU from its product name; None when no pattern knows it."""
    for pattern, architecture, capability in NVIDIA_ARCHITECTURES:
        if re.search(pattern, name):
            return architecture, capability
    return None


def _gpu_from_device(index: int, device: Device, unified_ram_bytes: int | None) -> Gpu:
    filled: dict[str, object] = {
        "memory_bus_width_bits": device.bus_width_bits,
        "memory_bandwidth_bytes_per_s": device.bandwidth_bytes_per_s,
        "gpu_cores": device.gpu_cores,
        "power_limit_w": device.tdp_w,
        "pcie_gen_max": device.pcie_gen,
    }
    if device.unified_memory:
        filled["vram_total_bytes"] = unified_ram_bytes
    else:
        filled["vram_total_bytes"] = device.memory_bytes
    sources = {k: "spec table" for k, v in filled.items() if v is not None}
    if device.unified_memory and unified_ram_bytes is not None:
        sources["vram_total_bytes"] = "user"
    arch = nvidia_architecture(device.name) if device.vendor.lower() == "nvidia" else None
    if arch is not None:
        filled["architecture"], filled["compute_capability"] = arch
        sources["compute_capability"] = sources["architecture"] = "device name (NVIDIA architecture table)"
    unavailable = {k: "not in the spec table" for k in ("vram_total_bytes", "memory_bandwidth_bytes_per_s")
                   if filled[k] is None}
    if device.unified_memory:
        unavailable["gpu_usable_memory_bytes"] = "hypothetical machine: the GPU-usable share of RAM is not known"
    return Gpu(
        index=index,
        vendor=_VENDORS.get(device.vendor.lower(), "nvidia"),  # type: ignore[arg-type]
        name=device.name,
        unified_memory=device.unified_memory,
        sources=sources,
        unavailable=unavailable,
        **filled,  # type: ignore[arg-type]
    )


def hypothetical_machine(gpu_specs: list[str], ram_bytes: int | None, catalog: Catalog | None = None) -> Machine:
    """A what-if machine from GPU specs ("2 x RTX 4090") and a RAM size, filled from the spec table.

    Each GPU carries the device's VRAM, bandwidth, cores and power with provenance "spec table"; RAM is "user".
    A unified-memory device (Apple, Strix Halo, DGX Spark) is the whole machine: its RAM is ``ram_bytes``, or
    the device's memory when that is omitted. With discrete GPUs and no RAM given, RAM is recorded as 0 and
    marked unavailable, so nothing is offloaded to it. Raises DeviceLookupError (unknown or ambiguous names,
    mixing a unified-memory device with other GPUs, a unified device with no memory size and no RAM given).
    """
    devices = catalog.devices if catalog is not None else _default_devices()
    wanted: list[tuple[int, Device]] = []
    for spec in gpu_specs:
        count, name = parse_gpu_spec(spec)
        wanted.append((count, lookup(name, devices)))
    if not wanted and ram_bytes is None:
        raise DeviceLookupError("describe the machine with --gpu NAME and/or --ram SIZE")
    unified = [d for _, d in wanted if d.unified_memory]
    if unified and (len(wanted) > 1 or wanted[0][0] > 1):
        raise DeviceLookupError(
            f"{unified[0].name} has unified memory and is a whole machine; it cannot be combined with other GPUs"
        )
    memory_unavailable: dict[str, str] = {}
    memory_sources = {"total_bytes": "user"}
    if unified:
        device = unified[0]
        if ram_bytes is None:
            ram_bytes = device.memory_bytes
            memory_sources = {"total_bytes": "spec table"}
        if ram_bytes is None:
            raise DeviceLookupError(f"the memory size of {device.name} is not in the spec table; give it with --ram")
    elif ram_bytes is None:
        ram_bytes = 0
        memory_sources = {}
        memory_unavailable = {"total_bytes": "RAM not given (--ram); nothing is offloaded to RAM"}

    gpus: list[Gpu] = []
    for count, device in wanted:
        for _ in range(count):
            gpus.append(_gpu_from_device(len(gpus), device, ram_bytes if device.unified_memory else None))
    memory = Memory(total_bytes=ram_bytes, available_bytes=ram_bytes if ram_bytes else None,
                    sources=memory_sources, unavailable=memory_unavailable)
    cpu = Cpu(unavailable={"model": "hypothetical machine: the CPU was not described"})
    parts = [f"{count}× {device.name}" if count > 1 else device.name for count, device in wanted]
    if ram_bytes and not unified:
        parts.append(f"{_size_text(ram_bytes)} RAM")
    elif unified:
        parts[0] = f"{parts[0]} {_size_text(ram_bytes)}"
    return Machine(
        gpus=tuple(gpus),
        cpu=cpu,
        memory=memory,
        origin="hypothetical",
        label=" + ".join(parts) if parts else "no GPU",
        sources={"gpus": "user"},
    )
