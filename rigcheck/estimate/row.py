"""The estimator's row record: an ``Estimate`` whose breakdown, bands, basis and limits are built on first access.

The estimator fills a ``RowEstimate`` with the raw numbers of a row; what a screen reads of only a few
rows (the memory breakdown, the three speed bands, the basis lines, the longest context that fits) is
worked out from them when first read, by the functions here.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from rigcheck.catalog.records import Quant
from rigcheck.estimate import memory as mem
from rigcheck.estimate.resolved import GIB
from rigcheck.estimate.types import Band, Estimate, MemoryBreakdown

if TYPE_CHECKING:
    from rigcheck.estimate.model_run import ModelRun
    from rigcheck.estimate.placement import Placement

NVME_BYTES_PER_S = 2.0e9
"""Typical sustained read of an NVMe SSD: load time, shown apart from time to first token."""

_NOT_MODELLED = ("not modelled: speculative decoding, prompt caching, thermal or power limits, "
                 "other programs using the GPU")
_NO_FIT_LINE = "does not fit: needs more memory than the GPU(s) and RAM offer with headroom"

_object_new = object.__new__
_object_setattr = object.__setattr__


class RowEstimate(Estimate):
    """An ``Estimate`` whose basis lines, maximum context, extra fields, memory breakdown and speed bands
    are worked out on first access.

    ``evaluate`` builds tens of thousands of rows of which a screen shows a few dozen; formatting every
    row's basis and building five records per row up front was most of its time. The numbers behind the
    bands are kept raw ("_speeds", read by ``expected_speeds`` for ``evaluate``'s best-quant pick without
    building the bands).
    Reading the attributes gives exactly what an eager
    ``Estimate`` would hold; ``to_dict``, equality and ``dataclasses.replace`` see the same values (the
    setters are what the dataclass ``__init__`` of a replaced copy uses).
    """

    def _materialize_speeds(self) -> dict:
        d = self.__dict__
        # Read, not popped: two threads reading a fresh row compute the same bands, neither fails.
        prefill, decode, ttft = _speed_bands(d["_speeds"])
        d["_decode"] = Band(*decode)
        d["_prefill"] = Band(*prefill)
        d["_ttft"] = Band(*ttft)
        return d

    def to_dict(self) -> dict[str, object]:
        """``Estimate.to_dict``, the bands written from the raw numbers when they are not built yet (``fit --json``
        writes every row once and reads nothing else of it)."""
        d = self.__dict__
        speeds = d.get("_speeds")
        if speeds is None or "_decode" in d:
            return super().to_dict()
        prefill, decode, ttft = _speed_bands(speeds)
        gpu_memory_share = d["gpu_memory_share"]
        return {
            "model_id": d["model_id"],
            "quant": d["quant"],
            "runtime": d["runtime"],
            "verdict": d["verdict"],
            "best": d["best"],
            "usable": d["usable"],
            "runs_now": d["runs_now"],
            "placement": d["placement"],
            "context_tokens": d["context_tokens"],
            "memory": self.memory.to_dict(),
            "max_context_tokens": self.max_context_tokens,
            "prefill_tokens_per_s": {"low": prefill[0], "expected": prefill[1], "high": prefill[2]},
            "decode_tokens_per_s": {"low": decode[0], "expected": decode[1], "high": decode[2]},
            "ttft_s": {"low": ttft[0], "expected": ttft[1], "high": ttft[2]},
            "basis": list(self.basis),
            "bits_per_weight": d["bits_per_weight"],
            "calibrated": d["calibrated"],
            "gpu_memory_share": None if gpu_memory_share is None else round(gpu_memory_share, 4),
            **self.extra,
        }

    @property
    def decode_tokens_per_s(self) -> Band | None:  # type: ignore[override]
        d = self.__dict__
        return (d if "_decode" in d else self._materialize_speeds())["_decode"]

    @decode_tokens_per_s.setter
    def decode_tokens_per_s(self, value: Band | None) -> None:
        self.__dict__["_decode"] = value

    @property
    def prefill_tokens_per_s(self) -> Band | None:  # type: ignore[override]
        d = self.__dict__
        return (d if "_prefill" in d else self._materialize_speeds())["_prefill"]

    @prefill_tokens_per_s.setter
    def prefill_tokens_per_s(self, value: Band | None) -> None:
        self.__dict__["_prefill"] = value

    @property
    def ttft_s(self) -> Band | None:  # type: ignore[override]
        d = self.__dict__
        return (d if "_ttft" in d else self._materialize_speeds())["_ttft"]

    @ttft_s.setter
    def ttft_s(self, value: Band | None) -> None:
        self.__dict__["_ttft"] = value

    @property
    def memory(self) -> MemoryBreakdown:  # type: ignore[override]
        d = self.__dict__
        m = d.get("_memory")
        if m is None:
            parts = d["_memory_parts"]
            m = d["_memory"] = parts[0](*parts[1:])
        return m

    @memory.setter
    def memory(self, value: MemoryBreakdown) -> None:
        self.__dict__["_memory"] = value

    @property
    def basis(self) -> tuple[str, ...]:  # type: ignore[override]
        d = self.__dict__
        b = d.get("_basis")
        if b is None:
            b = d["_basis"] = _format_basis(*d["_lazy"])
        return b

    @basis.setter
    def basis(self, value: tuple[str, ...]) -> None:
        self.__dict__["_basis"] = value

    @property
    def max_context_tokens(self) -> int | None:  # type: ignore[override]
        d = self.__dict__
        if "_max_ctx" not in d:
            run, _, _, _, _, p, rest, _, _ = d["_lazy"]
            d["_max_ctx"] = None if rest is None else run.max_context(p, *rest)
        return d["_max_ctx"]

    @max_context_tokens.setter
    def max_context_tokens(self, value: int | None) -> None:
        self.__dict__["_max_ctx"] = value

    @property
    def extra(self) -> dict[str, object]:  # type: ignore[override]
        d = self.__dict__
        e = d.get("_extra")
        if e is None:
            lazy = d["_lazy"]
            e = d["_extra"] = ({} if lazy[6] is None else
                               {"decode_gpu_bytes_per_token": int(lazy[7]),
                                "decode_ram_bytes_per_token": int(lazy[8])})
            p = lazy[5]
            if p.gpu_layers is not None:
                e["gpu_layers"] = p.gpu_layers
            if p.cpu_moe_layers is not None:
                e["cpu_moe_layers"] = p.cpu_moe_layers
        return e

    @extra.setter
    def extra(self, value: dict[str, object]) -> None:
        self.__dict__["_extra"] = value

    def __getstate__(self) -> dict[str, object]:
        """Copies and pickles carry the worked-out values, not the estimator behind them."""
        self.basis, self.max_context_tokens, self.extra, self.memory, self.ttft_s  # noqa: B018 - materialise
        state = dict(self.__dict__)
        for key in ("_lazy", "_memory_parts", "_speeds"):
            state.pop(key, None)
        return state


def new_record(cls, fields: dict):
    """Build a frozen dataclass record without its __init__ (object.__setattr__ per field): the
    20,000-row evaluate spends most of its time building records otherwise. Every field is given."""
    obj = _object_new(cls)
    _object_setattr(obj, "__dict__", fields)
    return obj


def marked_best(row: Estimate) -> Estimate:
    """A copy of ``row`` marked as its model's best quant (a ``RowEstimate`` stays one, unbuilt parts unbuilt)."""
    if isinstance(row, RowEstimate):
        return new_record(RowEstimate, {**row.__dict__, "best": True})
    return dataclasses.replace(row, best=True)


def expected_speeds(row: RowEstimate) -> tuple[float | None, float | None]:
    """(expected decode tokens/s, expected TTFT in seconds) of a row, None for a row that does not fit;
    read from the raw numbers, so that the bands stay unbuilt."""
    d = row.__dict__
    speeds = d.get("_speeds")
    if speeds is not None:
        return speeds[0], speeds[6]
    if d["_decode"] is not None:
        return d["_decode"].expected, d["_ttft"].expected
    return None, None


def _speed_bands(speeds: tuple) -> tuple[tuple[float, float, float], ...]:
    """(low, expected, high) of prefill tokens/s, decode tokens/s and TTFT from a row's raw ``_speeds``."""
    decode, d_low, d_high, prefill, p_low, p_high, t_prefill = speeds
    return ((prefill * p_low, prefill, prefill * p_high), (decode * d_low, decode, d_high),
            (t_prefill / p_high, t_prefill, t_prefill / p_low))


def placed_memory(run: ModelRun, w: float, kv: float, overhead: float, gpu_side: float, ram_side: float,
                   p: Placement, bases: tuple[float, ...], ram_base: float) -> MemoryBreakdown:
    """The memory breakdown of a row placed by ``placement.place`` (``Estimator.estimate_in``'s general path).
    ``overhead`` includes llama.cpp's GPU copy of a tied embedding matrix, which the file size does not show."""
    v = run.view
    gpus_used = p.gpus_used
    gpu_overhead, vision = run.gpu_overhead, run.vision
    per_gpu: tuple[int, ...] = ()
    if gpus_used == 1 and len(bases) == 1:
        per_gpu = (int(p.gpu_bytes + gpu_overhead + vision),)
    elif gpus_used and run.equal_gpus and bases is v.gpu_base_total:
        # Identical GPUs (the usual server): an even split, GPU 0 also holds the projector.
        each = int(p.gpu_bytes / gpus_used + gpu_overhead)
        per_gpu = (int(each + vision), *((each,) * (gpus_used - 1)))
    elif gpus_used:
        total_base = (run.gpu_base_sum if bases is v.gpu_base_total else sum(bases)) or 1.0
        per_gpu = tuple(int(p.gpu_bytes * b / total_base + gpu_overhead + (vision if i == 0 else 0.0))
                        for i, b in enumerate(bases))
    weights, kv_i, overhead_i = int(w), int(kv), int(overhead)
    if p.verdict == "no_fit":  # nothing placed: what it would need, on neither side
        gpu, ram = 0, 0
    else:
        gpu, ram = split_total(weights + kv_i + overhead_i, p.gpu_bytes + gpu_side, p.ram_bytes + ram_side)
    return MemoryBreakdown(
        weights_bytes=weights, kv_cache_bytes=kv_i, overhead_bytes=overhead_i, gpu_bytes=gpu, ram_bytes=ram,
        per_gpu_bytes=per_gpu, **budgets(v, bases, ram_base))


def all_on_gpu_memory(run: ModelRun, w: float, gpu_side: float, need_gpu: float, host: float,
                      duplicate: float = 0.0) -> MemoryBreakdown:
    """The memory breakdown of an all-on-GPU row (the fast path's; same expressions as estimate_in's). ``duplicate``:
    llama.cpp's GPU copy of a tied embedding matrix (in ``need_gpu``), counted as overhead beside the file."""
    gpus_used = run.fast_gpus_used
    mode = run.fast_per_gpu_mode
    if mode == 1:
        per_gpu: tuple[int, ...] = (int(need_gpu + run.gpu_overhead + run.vision),)
    elif mode == 2:
        each = int(need_gpu / gpus_used + run.gpu_overhead)
        per_gpu = (int(each + run.vision), *((each,) * (gpus_used - 1)))
    else:
        total_base = run.gpu_base_sum or 1.0
        gpu_overhead, vision = run.gpu_overhead, run.vision
        per_gpu = tuple(int(need_gpu * b / total_base + gpu_overhead + (vision if i == 0 else 0.0))
                        for i, b in enumerate(run.view.gpu_base_total))
    weights, kv, overhead = int(w), int(run.kv), int(gpu_side + duplicate)
    gpu, ram = split_total(weights + kv + overhead, need_gpu + gpu_side, host)
    return MemoryBreakdown(
        weights_bytes=weights, kv_cache_bytes=kv, overhead_bytes=overhead, gpu_bytes=gpu, ram_bytes=ram,
        per_gpu_bytes=per_gpu, **budgets(run.view, run.view.gpu_base_total, run.view.ram_total))


SPLIT_ROUNDING_BYTES = 4.0
"""How far a placed row's GPU + RAM bytes may miss its total: the total's three parts (weights, KV, overhead) are
each cut to whole bytes, the two sides are float sums of the same parts."""


def split_total(total: int, gpu_bytes: float, ram_bytes: float) -> tuple[int, int]:
    """(GPU, RAM) bytes of a placed row in whole bytes that add up to ``total`` (weights held + KV + overhead):
    the two sides are sums of the same parts, and rounding each to a byte must not leave one or two over.

    Raises ValueError when the sides miss the total by more than that rounding (``SPLIT_ROUNDING_BYTES``): bytes
    placed that the total does not count, or counted and placed nowhere, are an estimator bug, never evened out."""
    if abs(gpu_bytes + ram_bytes - total) > SPLIT_ROUNDING_BYTES:
        raise ValueError(f"a placed row's memory does not add up: {gpu_bytes:,.0f} bytes on the GPU(s) + "
                         f"{ram_bytes:,.0f} in RAM against {total:,} in total")
    if ram_bytes <= 0:
        return total, 0
    if gpu_bytes <= 0:
        return 0, total
    gpu = min(total, int(gpu_bytes))
    return gpu, total - gpu


def budgets(v, bases: tuple[float, ...], ram_base: float) -> dict[str, int]:
    """``MemoryBreakdown.gpu_budget_bytes`` and ``budget_bytes`` of the rows placed against ``bases`` (usable
    memory per GPU) and ``ram_base`` (usable RAM), as ``placement.place`` uses them."""
    gpu = sum(b for b in bases if b > 0)
    ram = max(0.0, ram_base or 0.0)
    if not v.allow_ram:
        total = gpu
    elif v.unified:
        total = max(gpu, ram)  # all on the GPU share, or all on the CPU: never both
    else:
        total = gpu + ram
    return {"gpu_budget_bytes": int(gpu), "budget_bytes": int(total)}


def _format_basis(run: ModelRun, quant: Quant, wclass: str, w: float, overhead: float, p: Placement,
                  rest, gpu_read: float, ram_read: float) -> tuple[str, ...]:
    v = run.view
    basis_head, kv_line, depth_line, multi_gpu_line = run.lines()
    if quant.file_size_bytes and not quant.size_is_estimate:
        source = "file size"
    else:
        source = f"{mem.bits_per_weight(quant):g} bits per weight x {run.params_b:.1f}B params"
    weights_line = (f"weights {w / GIB:.1f} GiB ({source}); {kv_line}; overhead {overhead / GIB:.2f} GiB; "
                    f"loading them from an NVMe disk takes about {w / NVME_BYTES_PER_S:.0f} s (not in TTFT)")
    if rest is None:
        # NO_FIT's description is "does not fit"; a placement refused for another reason says it (a prompt
        # longer than the model's context).
        why = _NO_FIT_LINE if p.description == "does not fit" else p.description
        return (*basis_head[wclass], weights_line, why, _NOT_MODELLED)
    tail = [weights_line, "placement: " + p.description]
    if p.gpus_used > 1:
        tail.append(multi_gpu_line)
    if p.ram_weight_bytes > 0 and not v.unified:
        tail.append(f"prefill streams {p.ram_weight_bytes / GIB:.1f} GiB of RAM-resident weights over "
                    f"PCIe ({v.pcie / 1e9:.0f} GB/s) per {run.ubatch}-token batch")
    tail.append(depth_line)
    tail.append(_NOT_MODELLED)
    return (*basis_head[wclass], *tail)
