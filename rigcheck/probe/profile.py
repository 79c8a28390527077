"""Machine profiles: a Machine as versioned JSON (schema "rigcheck.machine/1"), written and read back exactly.

``rigcheck probe --json`` prints one; ``--machine FILE`` reads one. The JSON mirrors the records (msgspec Structs)
in ``rigcheck.probe.types`` field for field (base units, provenance maps included), with a "schema" key
first. Reading is strict about types, ranges (``RANGES``: every number finite and physically possible)
and the schema, lenient about keys it does not know (a newer rigcheck may add fields within the same schema
version); every problem is one ProfileError sentence. Files are read through ``rigcheck.probe.files``:
regular files only, at most ``MAX_PROFILE_BYTES``, nested no deeper than any profile is.
"""

from __future__ import annotations

import json
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union

import msgspec

from rigcheck.probe import limits
from rigcheck.probe.files import FileReadError, json_too_deep, read_capped
from rigcheck.probe.types import PROFILE_SCHEMA, Machine

MAX_PROFILE_BYTES = 5 * 1024 * 1024  # a profile is a few KB; anything this big is not one

_BYTES = (0, limits.MAX_MEMORY_BYTES)
_COUNT = (0, limits.MAX_COUNT)
_CLOCK = (0, limits.MAX_CLOCK_MHZ)
_BANDWIDTH = (limits.MIN_BANDWIDTH_BYTES_PER_S, limits.MAX_BANDWIDTH_BYTES_PER_S)
RANGES: dict[str, tuple[float, float]] = {
    "index": (0, limits.MAX_GPUS - 1),
    "vram_total_bytes": _BYTES,
    "vram_free_bytes": _BYTES,
    "vram_used_bytes": _BYTES,
    "vram_reserved_bytes": _BYTES,
    "gpu_usable_memory_bytes": _BYTES,
    "memory_bus_width_bits": (1, limits.MAX_WIDTH_BITS),
    "mem_clock_max_mhz": _CLOCK,
    "memory_bandwidth_bytes_per_s": _BANDWIDTH,
    "sm_count": _COUNT,
    "cuda_cores": _COUNT,
    "gpu_cores": _COUNT,
    "sm_clock_max_mhz": _CLOCK,
    "pcie_gen_max": (0, limits.MAX_PCIE_GEN),
    "pcie_width_max": (0, 64),
    "power_limit_w": (0, limits.MAX_POWER_W),
    "nvlink_links": (0, 1024),
    "physical_cores": _COUNT,
    "logical_cores": _COUNT,
    "max_clock_mhz": _CLOCK,
    "total_bytes": _BYTES,
    "available_bytes": _BYTES,
    "swap_total_bytes": _BYTES,
    "swap_free_bytes": _BYTES,
    "ram_speed_mhz": _CLOCK,
    "bandwidth_bytes_per_s": _BANDWIDTH,
    "device_count": (0, limits.MAX_GPUS),
    "disk_free_bytes": (0, limits.MAX_DISK_BYTES),
}
"""The physically possible range of every number in a profile, by field name (both ends inclusive). A value
outside it, NaN or an infinity is refused with the field named."""
CLOCKS = frozenset({"mem_clock_max_mhz", "sm_clock_max_mhz", "max_clock_mhz", "ram_speed_mhz"})
"""Clocks: 0 says "not known"; a known clock is at least ``limits.MIN_CLOCK_MHZ``."""


class ProfileError(ValueError):
    """A machine profile that cannot be used; the message is one sentence naming the file and the problem."""


# --- writing ------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, msgspec.Struct):
        return {name: _plain(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # a driver's NaN is "unknown", and JSON has no NaN: the profile stays valid JSON
    return value


def machine_to_dict(machine: Machine) -> dict[str, Any]:
    """The profile as a JSON-ready dict, "schema" first."""
    return {"schema": PROFILE_SCHEMA, **_plain(machine)}


def dump_profile(machine: Machine) -> str:
    """The profile as JSON text (indented, ending in a newline)."""
    return json.dumps(machine_to_dict(machine), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --- reading ------------------------------------------------------------------------------------

_HINTS: dict[type, dict[str, Any]] = {}
_FIELDS: dict[type, tuple[msgspec.structs.FieldInfo, ...]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fields(cls: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    if cls not in _FIELDS:
        _FIELDS[cls] = msgspec.structs.fields(cls)
    return _FIELDS[cls]


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _type_name(tp: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin is tuple or origin is list:
        return "a list"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if _is_record(tp) or origin in (dict, Mapping) or tp is Mapping:
        return "an object"
    return str(tp)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _convert(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _convert(value, non_none[0], where)
        raise ProfileError(f"{where} has an unsupported type")  # not in our schema
    if value is None:
        raise ProfileError(f"{where} should be {_type_name(tp)}, not null")
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise ProfileError(f"{where} should be {_type_name(tp)}, not {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ProfileError(f"{where} should be true or false, not {_json_type(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProfileError(f"{where} should be an integer, not {_json_type(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ProfileError(f"{where} should be a number, not {_json_type(value)}")
        return float(value) if isinstance(value, int) else value
    if tp is str:
        if not isinstance(value, str):
            raise ProfileError(f"{where} should be a string, not {_json_type(value)}")
        return value
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise ProfileError(f"{where} should be a list, not {_json_type(value)}")
        return tuple(_convert(v, item_type, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping):
        key_type, value_type = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ProfileError(f"{where} should be an object, not {_json_type(value)}")
        return types.MappingProxyType(
            {_convert(k, key_type, where): _convert(v, value_type, f"{where}.{k}") for k, v in value.items()}
        )
    if _is_record(tp):
        return _record(value, tp, where)
    raise ProfileError(f"{where} has an unsupported type")


def _record(data: Any, cls: type, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProfileError(f"{where} should be an object, not {_json_type(data)}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in _fields(cls):
        path = f"{where}.{f.name}" if where else f.name
        if f.name not in data:
            if f.required:
                raise ProfileError(f"{path} is missing")
            continue
        _check_range(f.name, data[f.name], path)
        kwargs[f.name] = _convert(data[f.name], hints[f.name], path)
    return cls(**kwargs)


def _check_range(name: str, value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or name not in RANGES:
        return  # a wrong type is _convert's to report
    low, high = RANGES[name]
    if not low <= value <= high:  # also refuses NaN
        shown = value if isinstance(value, float) or abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
        raise ProfileError(f"{path} is {shown}; it must be between {low:g} and {high:g}")
    if name in CLOCKS and 0 < value < limits.MIN_CLOCK_MHZ:
        raise ProfileError(f"{path} is {value}; it must be 0 (not known) or between {limits.MIN_CLOCK_MHZ:g} and "
                           f"{high:g} MHz")


def machine_from_dict(data: Any) -> Machine:
    """The Machine a profile dict describes. Raises ProfileError naming the first problem found."""
    if not isinstance(data, dict):
        raise ProfileError(f"the profile should be a JSON object, not {_json_type(data)}")
    schema = data.get("schema")
    if schema != PROFILE_SCHEMA:
        if schema is None:
            raise ProfileError(f'it has no "schema" key (expected "{PROFILE_SCHEMA}")')
        raise ProfileError(f'it has schema {schema!r}, but this rigcheck reads "{PROFILE_SCHEMA}"')
    return _record(data, Machine, "")


def load_profile(path: str | Path) -> Machine:
    """The machine in a profile file, marked origin "profile". Raises ProfileError (one sentence)."""
    path = Path(path)
    name = str(path)
    try:
        raw = read_capped(path, MAX_PROFILE_BYTES, "machine profile")
    except FileNotFoundError:
        raise ProfileError(f"machine profile {name} does not exist") from None
    except FileReadError as exc:
        raise ProfileError(str(exc)) from None
    if json_too_deep(raw):
        raise ProfileError(f"machine profile {name} is not a profile: its JSON nests too deeply")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ProfileError(f"machine profile {name} is not text (not UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"machine profile {name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except ValueError as exc:  # a number of more digits than Python converts
        raise ProfileError(f"machine profile {name} is not valid JSON ({exc})") from None
    except RecursionError:  # json_too_deep should have caught it; never let it past
        raise ProfileError(f"machine profile {name} is not a profile: its JSON nests too deeply") from None
    try:
        machine = machine_from_dict(data)
    except ProfileError as exc:
        raise ProfileError(f"machine profile {name}: {exc}") from None
    except (TypeError, ValueError) as exc:  # a record refusing the combination of values
        raise ProfileError(f"machine profile {name}: {exc}") from None
    return msgspec.structs.replace(machine, origin="profile", label=machine.label or path.stem)
