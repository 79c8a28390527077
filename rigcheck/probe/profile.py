"""Machine profiles: a Machine as versioned JSON (schema "rigcheck.machine/1"), written and read back exactly.

``rigcheck probe --json`` prints one; ``--machine FILE`` reads one. The JSON mirrors the dataclasses in
``rigcheck.probe.types`` field for field (base units, provenance maps included), with a "schema" key
first. Reading is strict about types and the schema, lenient about keys it does not know (a newer
rigcheck may add fields within the same schema version); every problem is one ProfileError sentence.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union

from rigcheck.probe.types import PROFILE_SCHEMA, Machine

MAX_PROFILE_BYTES = 5 * 1024 * 1024  # a profile is a few KB; anything this big is not one


class ProfileError(ValueError):
    """A machine profile that cannot be used; the message is one sentence naming the file and the problem."""


# --- writing ------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def machine_to_dict(machine: Machine) -> dict[str, Any]:
    """The profile as a JSON-ready dict, "schema" first."""
    return {"schema": PROFILE_SCHEMA, **_plain(machine)}


def dump_profile(machine: Machine) -> str:
    """The profile as JSON text (indented, ending in a newline)."""
    return json.dumps(machine_to_dict(machine), indent=2, ensure_ascii=False) + "\n"


# --- reading ------------------------------------------------------------------------------------

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _type_name(tp: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin is tuple or origin is list:
        return "a list"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if dataclasses.is_dataclass(tp) or origin in (dict, Mapping) or tp is Mapping:
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
    if dataclasses.is_dataclass(tp):
        return _record(value, tp, where)
    raise ProfileError(f"{where} has an unsupported type")


def _record(data: Any, cls: type, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProfileError(f"{where} should be an object, not {_json_type(data)}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        path = f"{where}.{f.name}" if where else f.name
        if f.name not in data:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required:
                raise ProfileError(f"{path} is missing")
            continue
        kwargs[f.name] = _convert(data[f.name], hints[f.name], path)
    return cls(**kwargs)


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
        if path.is_dir():
            raise ProfileError(f"machine profile {name} is a folder, not a file")
        size = path.stat().st_size
        if size > MAX_PROFILE_BYTES:
            raise ProfileError(f"machine profile {name} is {size} bytes, too large to be a profile")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(f"machine profile {name} does not exist") from None
    except OSError as exc:
        raise ProfileError(f"machine profile {name} could not be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ProfileError(f"machine profile {name} is not text (not UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"machine profile {name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    try:
        machine = machine_from_dict(data)
    except ProfileError as exc:
        raise ProfileError(f"machine profile {name}: {exc}") from None
    except (TypeError, ValueError) as exc:  # a dataclass refusing the combination of values
        raise ProfileError(f"machine profile {name}: {exc}") from None
    return dataclasses.replace(machine, origin="profile", label=machine.label or path.stem)
