"""Property test: any Machine the types and ranges allow survives dump_profile -> JSON -> machine_from_dict exactly."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from rigcheck.probe.profile import RANGES, dump_profile, machine_from_dict
from rigcheck.probe.types import Machine

_text = st.text(max_size=12)


def _for_type(tp, name: str = "") -> st.SearchStrategy:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(st.none() if a is type(None) else _for_type(a, name) for a in args))
    if origin is typing.Literal:
        return st.sampled_from(args)
    if tp is bool:
        return st.booleans()
    if tp is int:
        low, high = RANGES[name]
        return st.integers(min_value=int(low), max_value=int(high))
    if tp is float:
        low, high = RANGES[name]
        return st.floats(min_value=low, max_value=high)
    if tp is str:
        return _text
    if origin is tuple:
        return st.lists(_for_type(args[0]), max_size=3).map(tuple)
    if origin in (dict, Mapping):
        return st.dictionaries(_text, _text, max_size=3).map(types.MappingProxyType)
    if dataclasses.is_dataclass(tp):
        return _record(tp)
    raise TypeError(tp)


def _record(cls) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: _for_type(hints[f.name], f.name) for f in dataclasses.fields(cls)})


@settings(max_examples=25, deadline=None)
@given(_record(Machine))
def test_any_machine_round_trips_exactly(machine):
    assert machine_from_dict(json.loads(dump_profile(machine))) == machine
