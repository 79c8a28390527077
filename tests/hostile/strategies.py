"""Hypothesis strategies for every record the boundary accepts: catalog records from their msgspec types and
ranges, machines from the profile types and ``RANGES``. Anything these make, validation lets through."""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping

import msgspec
from hypothesis import strategies as st

from rigcheck.catalog.records import _NOT_ABOVE, Device, HostedOffer, Model, Quant, RentalOffer, Score
from rigcheck.estimate.types import Settings
from rigcheck.probe.limits import MIN_CLOCK_MHZ
from rigcheck.probe.profile import CLOCKS, RANGES
from rigcheck.probe.types import Machine

_text = st.text(max_size=12)
_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)


def _number(kind: msgspec.inspect.IntType | msgspec.inspect.FloatType) -> st.SearchStrategy:
    if isinstance(kind, msgspec.inspect.IntType):
        low = kind.ge if kind.ge is not None else (kind.gt + 1 if kind.gt is not None else 0)
        high = kind.le if kind.le is not None else (kind.lt - 1 if kind.lt is not None else 2**40)
        return st.integers(min_value=low, max_value=high)
    low = kind.ge if kind.ge is not None else kind.gt
    high = kind.le if kind.le is not None else kind.lt
    return st.floats(min_value=low, max_value=high, exclude_min=kind.gt is not None,
                     exclude_max=kind.lt is not None, allow_nan=False, allow_infinity=False)


def for_msgspec(kind: msgspec.inspect.Type, overrides: Mapping[str, st.SearchStrategy] = {}) -> st.SearchStrategy:
    """Values of a msgspec type as its decoder would accept them (constraints included)."""
    if isinstance(kind, (msgspec.inspect.IntType, msgspec.inspect.FloatType)):
        return _number(kind)
    if isinstance(kind, msgspec.inspect.BoolType):
        return st.booleans()
    if isinstance(kind, msgspec.inspect.StrType):
        return _text
    if isinstance(kind, msgspec.inspect.NoneType):
        return st.none()
    if isinstance(kind, msgspec.inspect.LiteralType):
        return st.sampled_from(kind.values)
    if isinstance(kind, msgspec.inspect.UnionType):
        return st.one_of(*(for_msgspec(t, overrides) for t in kind.types))
    if isinstance(kind, msgspec.inspect.ListType):
        return st.lists(for_msgspec(kind.item_type, overrides), max_size=3)
    if isinstance(kind, msgspec.inspect.StructType):
        return struct(kind.cls, overrides)
    raise TypeError(kind)


def struct(cls: type[msgspec.Struct], overrides: Mapping[str, st.SearchStrategy] = {}) -> st.SearchStrategy:
    """Records of ``cls``, every field drawn within its range (``overrides`` by field name)."""
    info = msgspec.inspect.type_info(cls)
    fields = {f.name: overrides[f.name] if f.name in overrides else for_msgspec(f.type, overrides) for f in info.fields}
    return st.builds(cls, **fields)


quants = struct(Quant, {"name": st.sampled_from(["Q4_K_M", "Q8_0", "IQ2_XXS", "F16", "BF16", "FP8", "AWQ-INT4",
                                                   "MLX-4bit", "NVFP4", "MXFP4", "odd"])})


def _consistent(model: Model) -> Model:
    """The model with each part cut down to its whole where it exceeded it (what ``check_model`` asks)."""
    for part, whole in _NOT_ABOVE:
        part_value, whole_value = getattr(model, part), getattr(model, whole)
        if part_value is not None and whole_value is not None and part_value > whole_value:
            model = msgspec.structs.replace(model, **{part: whole_value})
    return model


models = struct(Model, {"id": _name.map(lambda s: f"org/{s}"),
                        "quants": st.lists(quants, min_size=1, max_size=3, unique_by=lambda q: q.name)}).map(_consistent)
devices = struct(Device, {"name": st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8).map(lambda s: f"Zq{s}")})
hosted = struct(HostedOffer)
rentals = struct(RentalOffer)
scores = struct(Score)

settings = st.builds(
    Settings,
    context_tokens=st.integers(1, 100_000_000),
    prompt_tokens=st.integers(1, 100_000_000),
    kv_cache_type=st.sampled_from(["f16", "q8_0", "q4_0"]),
    memory_basis=st.sampled_from(["total", "free"]),
)


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
        if name in CLOCKS:  # 0 (not known) or a real clock, as profiles accept
            return st.one_of(st.just(0), st.integers(min_value=int(MIN_CLOCK_MHZ), max_value=int(high)))
        return st.integers(min_value=int(low), max_value=int(high))
    if tp is float:
        low, high = RANGES[name]
        if name in CLOCKS:
            return st.one_of(st.just(0.0), st.floats(min_value=MIN_CLOCK_MHZ, max_value=high))
        return st.floats(min_value=low, max_value=high)
    if tp is str:
        return _text
    if origin is tuple:
        return st.lists(_for_type(args[0], name), max_size=3).map(tuple)
    if origin in (dict, Mapping):
        return st.dictionaries(_text, _text, max_size=2).map(types.MappingProxyType)
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return _record(tp)
    raise TypeError(tp)


def _record(cls: type[msgspec.Struct]) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{name: _for_type(hints[name], name) for name in cls.__struct_fields__})


machines = _record(Machine)
"""Any machine a profile may describe (what ``load_profile`` accepts)."""
