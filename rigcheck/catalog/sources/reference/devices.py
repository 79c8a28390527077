"""The devices table: devices.csv (reference and supplement), device_overrides.csv and device_serving.csv as
Device records.

Units: the CSVs' ``memory_gb`` for VRAM and unified memory is the marketing "GB", which is GiB
(a "24 GB" card has 24 x 2^30 bytes); ``bandwidth_gb_s`` is decimal (1 GB/s = 1e9 bytes/s).
Apple rows that list two GPU-core counts become one device per count (labelled derived).
"""

from __future__ import annotations

import re
from pathlib import Path

from msgspec.structs import replace

from rigcheck.catalog.records import Device
from rigcheck.catalog.sources.reference.cells import (
    DERIVED,
    BuildError,
    parse_float,
    parse_int,
    read_csv,
    source_list,
)

GIB = 2**30
GB = 10**9

_APPLE_VARIANTS = re.compile(r"GPU cores:\s*(\d+)\s+or\s+(\d+)")
_APPLE_CORES = re.compile(r"GPU cores:\s*(\d+)")


def read_devices(reference_dir: Path, supplement_dir: Path) -> list[Device]:
    """The devices of both devices.csv files, Apple variants split, overrides applied, ambiguous aliases dropped.

    Raises BuildError for a missing file, an override naming an unknown device or field, a value that does not
    read as its field's type, or two devices of the same name.
    """
    devices: list[Device] = []
    for path in (reference_dir / "devices.csv", supplement_dir / "devices.csv"):
        for row in read_csv(path):
            devices.extend(split_apple_variants(_device_from_row(row)))
    devices = _apply_device_overrides(devices, read_csv(supplement_dir / "device_overrides.csv"))
    devices = apply_serving_facts(devices, read_csv(supplement_dir / "device_serving.csv"))
    devices = drop_ambiguous_apple_aliases(devices)
    names = [d.name for d in devices]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise BuildError(f"devices: duplicate names {sorted(duplicates)}")
    return devices


def _device_from_row(row: dict[str, str]) -> Device:
    vendor = row["vendor"]
    kind = row["kind"]
    memory_gib = parse_float(row.get("memory_gb", ""))
    bandwidth = parse_float(row.get("bandwidth_gb_s", ""))
    unified = vendor == "Apple" or kind == "apu"
    notes = row.get("notes") or ""
    cores = None
    if vendor == "Apple":
        m = _APPLE_CORES.search(notes)
        if m and not _APPLE_VARIANTS.search(notes):
            cores = int(m.group(1))
    aliases = [a for a in dict.fromkeys(x.strip() for x in row.get("aliases", "").split(";")) if a and a != row["name"]]
    memory_bytes = int(memory_gib * GIB) if memory_gib is not None else None
    return Device(
        name=row["name"],
        vendor=vendor,
        kind=kind,
        aliases=aliases,
        memory_bytes=memory_bytes,
        memory_options_bytes=[],
        memory_type=row.get("memory_type") or None,
        bus_width_bits=parse_int(row.get("bus_width_bits", "")),
        bandwidth_bytes_per_s=bandwidth * GB if bandwidth is not None else None,
        fp16_tensor_tflops=parse_float(row.get("fp16_tensor_tflops_dense", "")),
        bf16_tensor_tflops=parse_float(row.get("bf16_tensor_tflops_dense", "")),
        fp8_tensor_tflops=parse_float(row.get("fp8_tensor_tflops_dense", "")),
        fp16_vector_tflops=parse_float(row.get("fp16_vector_tflops", "")),
        fp32_vector_tflops=parse_float(row.get("fp32_vector_tflops", "")),
        gpu_cores=cores if cores is not None else parse_int(row.get("gpu_cores", "")),
        unified_memory=unified,
        tdp_w=parse_float(row.get("tdp_w", "")),
        pcie_gen=parse_int(row.get("pcie_gen", "")),
        interconnect=row.get("interconnect") or None,
        launch_price_usd=parse_float(row.get("launch_price_usd", "")),
        release_date=row.get("release_date") or None,
        sources=source_list(row.get("source", "")),
        notes=notes or None,
    )


_M1_PRO_FP32 = {14: 4.6, 16: 5.3}  # notebookcheck figures quoted in the reference's M1 Pro notes


def split_apple_variants(device: Device) -> list[Device]:
    """One device per GPU-core count for Apple rows that list two ("GPU cores: 14 or 16").

    The reference gives one bandwidth for such a chip; both variants share its memory bus (the binned parts
    with a narrower bus, M3 Max 30-core and M4 Max 32-core, have rows of their own).
    """
    if device.vendor != "Apple":
        return [device]
    m = _APPLE_VARIANTS.search(device.notes or "")
    if not m:
        return [device]
    out = []
    base = device.name
    for cores in (int(m.group(1)), int(m.group(2))):
        chip = base.removeprefix("Apple ")
        name = f"{base} ({cores}-core GPU)"
        fp32 = _M1_PRO_FP32.get(cores) if chip == "M1 Pro" else None
        sources = list(device.sources) + [f"variant: {DERIVED}: the source row lists GPU cores '{m.group(0)[11:]}' "
                                          "with one chip-level bandwidth; split into one device per core count"]
        if fp32 is not None:
            sources.append("fp32_vector_tflops: notebookcheck figure quoted in the reference notes (M1 Pro "
                           "14-core ~4.6, 16-core 5.3 TFLOPS FP32)")
        out.append(replace(device, name=name, aliases=[f"{chip} {cores}c", f"{chip} {cores}-core GPU"],
                           gpu_cores=cores, fp32_vector_tflops=fp32, sources=sources))
    return out


def drop_ambiguous_apple_aliases(devices: list[Device]) -> list[Device]:
    """Remove bare chip aliases ("M1 Max") from Apple parts sold with several GPU-core counts.

    The reference lists "M1 Max" as an alias of the 32-core part; a probe or a user saying only "M1 Max"
    may have the 24-core one, so the bare name must stay ambiguous rather than match one confidently.
    """
    chips: dict[str, int] = {}
    for d in devices:
        m = re.match(r"Apple (.+?) \(\d+-core GPU\)$", d.name)
        if m:
            chips[m.group(1)] = chips.get(m.group(1), 0) + 1
    out = []
    for d in devices:
        m = re.match(r"Apple (.+?) \(\d+-core GPU\)$", d.name)
        if m and chips[m.group(1)] > 1:
            bare = {m.group(1).lower(), f"apple {m.group(1).lower()}"}
            d = replace(d, aliases=[a for a in d.aliases if a.lower() not in bare])
        out.append(d)
    return out


def _apply_device_overrides(devices: list[Device], rows: list[dict[str, str]]) -> list[Device]:
    """One sourced fact per device_overrides.csv row, converted to the record's units (a ``name`` row renames)."""
    by_name = {d.name: i for i, d in enumerate(devices)}
    conversions = {
        "bandwidth_gb_s": ("bandwidth_bytes_per_s", lambda v: float(v) * GB),
        "memory_gb": ("memory_bytes", lambda v: int(float(v) * GIB)),
        "memory_options_gb": ("memory_options_bytes", lambda v: [int(float(x) * GIB) for x in v.split(";")]),
        "launch_price_usd": ("launch_price_usd", float),
        "fp16_tensor_tflops_dense": ("fp16_tensor_tflops", float),
        "bf16_tensor_tflops_dense": ("bf16_tensor_tflops", float),
        "fp8_tensor_tflops_dense": ("fp8_tensor_tflops", float),
        "fp4_tensor_tflops_dense": ("fp4_tensor_tflops", float),
        "fp32_vector_tflops": ("fp32_vector_tflops", float),
        "fp16_vector_tflops": ("fp16_vector_tflops", float),
        "int8_tensor_tops_dense": ("int8_tensor_tops", float),
        "street_price_usd": ("street_price_usd", float),
        "tdp_w": ("tdp_w", float),
        "release_date": ("release_date", str),
        "interconnect": ("interconnect", str),
        "gpu_cores": ("gpu_cores", int),
        "aliases": ("aliases", lambda v: [a.strip() for a in v.split(";") if a.strip()]),
    }
    for row in rows:
        if row["name"] not in by_name:
            raise BuildError(f"device_overrides.csv: unknown device {row['name']!r}")
        if row["field"] == "name":
            # A rename when a source shows the reference's one row is one of several variants.
            i = by_name.pop(row["name"])
            device = devices[i]
            devices[i] = replace(device, name=row["value"],
                                 sources=[*device.sources, f"name: {row['source']}"])
            by_name[row["value"]] = i
            continue
        if row["field"] not in conversions:
            raise BuildError(f"device_overrides.csv: unknown field {row['field']!r}")
        field, convert = conversions[row["field"]]
        i = by_name[row["name"]]
        device = devices[i]
        try:
            value = convert(row["value"])
        except ValueError:
            raise BuildError(f"device_overrides.csv: {row['name']} {row['field']} = {row['value']!r} "
                             "is not a valid value") from None
        if field == "aliases":
            value = list(dict.fromkeys([*device.aliases, *value]))
        notes = device.notes
        if row.get("note"):
            # Caveats travel with the value (e.g. "reported street price, not list").
            notes = "; ".join(x for x in (notes, f"{field}: {row['note']}") if x)
        devices[i] = replace(device, **{field: value}, notes=notes,
                             sources=[*device.sources, f"{field}: {row['source']}"])
    return devices


def apply_serving_facts(devices: list[Device], rows: list[dict[str, str]]) -> list[Device]:
    """The serving columns of supplement/device_serving.csv: dense FP8 and FP4 matrix rates and the node
    interconnect (name, GB/s per GPU and direction, small-message all-reduce latency in us), each row with its
    sources. Kept in a file of their own so device rows (devices.csv) and these columns merge apart.

    A filled cell replaces the device's value. Raises BuildError for an unknown device or a cell that is not
    a number.
    """
    by_name = {d.name: i for i, d in enumerate(devices)}
    numbers = {
        "fp8_tensor_tflops_dense": ("fp8_tensor_tflops", 1.0),
        "fp4_tensor_tflops_dense": ("fp4_tensor_tflops", 1.0),
        "interconnect_gb_s": ("interconnect_bytes_per_s", float(GB)),
        "interconnect_latency_us": ("interconnect_latency_s", 1e-6),
    }
    for row in rows:
        if row["name"] not in by_name:
            raise BuildError(f"device_serving.csv: unknown device {row['name']!r}")
        i = by_name[row["name"]]
        changes: dict[str, object] = {}
        for column, (field, scale) in numbers.items():
            if row.get(column):
                value = parse_float(row[column])
                if value is None:
                    raise BuildError(f"device_serving.csv: {row['name']} {column} = {row[column]!r} is not a number")
                changes[field] = value * scale
        if row.get("interconnect"):
            changes["interconnect"] = row["interconnect"]
        device = devices[i]
        note = f" ({row['note']})" if row.get("note") else ""
        devices[i] = replace(device, **changes, sources=[*device.sources, f"serving facts: {row['source']}{note}"])
    return devices
