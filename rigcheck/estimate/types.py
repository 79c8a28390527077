"""Typed inputs and outputs of the estimator: settings, bands, memory breakdowns, estimates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import msgspec

from rigcheck.estimate.rules import DEFAULT_INPUT_PER_OUTPUT, DEFAULT_THRESHOLDS, Thresholds

Verdict = Literal["gpu", "gpu+ram", "unified", "cpu", "no_fit"]
VERDICTS: tuple[Verdict, ...] = ("gpu", "unified", "gpu+ram", "cpu", "no_fit")
"""Ordered best first."""

KvCacheType = Literal["f16", "q8_0", "q4_0"]
MemoryBasis = Literal["total", "free"]


class Settings(msgspec.Struct, frozen=True):
    """What the user asked for. Defaults are what a first-time user sees."""

    context_tokens: int = 8192
    """KV cache size to reserve; capped at the model's maximum."""
    prompt_tokens: int = 4096
    """Prompt length for prefill and time to first token; decode is reported at this depth."""
    kv_cache_type: KvCacheType = "f16"
    runtime: str | None = None
    """Preferred runtime ("llama.cpp", "vllm", "mlx"), or None for the best available."""
    memory_basis: MemoryBasis = "total"
    """"total": can this machine run it; "free": can it run it now, with what is in use."""
    quant: str | None = None
    """Only this quant type, or None for every quant of each model."""
    usable: Thresholds = DEFAULT_THRESHOLDS
    """What counts as usable (``rules``): decode at least, first token at most."""
    input_per_output: float = DEFAULT_INPUT_PER_OUTPUT
    """Input tokens per output token of the blended hosted price (``rules.blended_usd_per_m``)."""


class Band(msgspec.Struct, frozen=True):
    """A quantity with its uncertainty: low <= expected <= high."""

    low: float
    expected: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "expected": self.expected, "high": self.high}


class MemoryBreakdown(msgspec.Struct, frozen=True):
    """Bytes needed to run, and where they sit."""

    weights_bytes: int
    """The weight file(s): the quant's real file size where known."""
    kv_cache_bytes: int
    overhead_bytes: int
    """Compute buffers, runtime context, vision projector, and llama.cpp's second copy of a tied embedding
    matrix (the output head it keeps on the GPU beside the token table in RAM): memory beyond the file and cache."""
    gpu_bytes: int
    """Of ``total_bytes``, what sits on the GPU(s) (on unified memory, the GPU share)."""
    ram_bytes: int
    """The rest of ``total_bytes``: in system RAM (llama.cpp's token table, layers or experts offloaded, the CPU's
    buffers). A placed row's ``gpu_bytes + ram_bytes == total_bytes``; a row that does not fit has both 0."""
    per_gpu_bytes: tuple[int, ...] = ()
    gpu_budget_bytes: int = 0
    """The GPU memory the placement was checked against: usable VRAM after the driver headroom (the GPU share
    of RAM on unified memory); 0 without a GPU. Overheads are not taken off: ``total_bytes`` includes them."""
    budget_bytes: int = 0
    """The most this row could use in all and still be placed (the limit behind ``no_fit``): the GPU budget
    plus usable RAM (less the system's reserve) where the runtime may put weights in RAM, in the same units as
    ``total_bytes``. Whole layers are placed, so a row a little under it may still not fit."""

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_cache_bytes + self.overhead_bytes

    def to_dict(self) -> dict[str, object]:
        return {
            "weights_bytes": self.weights_bytes,
            "kv_cache_bytes": self.kv_cache_bytes,
            "overhead_bytes": self.overhead_bytes,
            "total_bytes": self.total_bytes,
            "gpu_bytes": self.gpu_bytes,
            "ram_bytes": self.ram_bytes,
            "per_gpu_bytes": list(self.per_gpu_bytes),
            "gpu_budget_bytes": self.gpu_budget_bytes,
            "budget_bytes": self.budget_bytes,
        }


@dataclass(frozen=True)
class Estimate:
    """How one model x quant runs on one machine with one set of settings.

    A dataclass, unlike the records above (msgspec Structs): the estimator's ``row.RowEstimate`` keeps its fields in
    the instance ``__dict__`` and builds the costly ones on first read, behind properties; a Struct's equality,
    repr, replace and pickling read its slots and would not see them.
    """

    model_id: str
    quant: str
    runtime: str
    verdict: Verdict
    memory: MemoryBreakdown
    context_tokens: int
    """The context the memory was sized for (the setting capped at the model's maximum)."""
    max_context_tokens: int | None
    """The longest context that still fits with this placement; None when it does not fit at all."""
    prefill_tokens_per_s: Band | None
    decode_tokens_per_s: Band | None
    ttft_s: Band | None
    basis: tuple[str, ...] = ()
    placement: str = ""
    """One line: "all 32 layers on GPU 0", "attention on GPU, experts in RAM (--n-cpu-moe)"."""
    runs_now: bool | None = None
    """Whether it fits in the memory free at the time of the probe (None when unknown)."""
    best: bool = False
    """The row that speaks for its model on this machine with these settings: its pick (``rules``) when it
    is ``usable``, else the row closest to usable."""
    usable: bool = False
    """Fits, and decodes and answers fast enough for the settings' thresholds (``rules.is_usable``)."""
    bits_per_weight: float | None = None
    calibrated: bool = True
    """Whether the runtime's speed constants are fitted on measurements (``efficiency.Efficiency.calibrated``)."""
    gpu_memory_share: float | None = None
    """Share of the GPU memory budget an all-on-GPU (or unified) row uses; None for other placements."""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def fits(self) -> bool:
        return self.verdict != "no_fit"

    def to_dict(self) -> dict[str, object]:
        def band(b: Band | None) -> dict[str, float] | None:
            return b.to_dict() if b is not None else None

        return {
            "model_id": self.model_id,
            "quant": self.quant,
            "runtime": self.runtime,
            "verdict": self.verdict,
            "best": self.best,
            "usable": self.usable,
            "runs_now": self.runs_now,
            "placement": self.placement,
            "context_tokens": self.context_tokens,
            "memory": self.memory.to_dict(),
            "max_context_tokens": self.max_context_tokens,
            "prefill_tokens_per_s": band(self.prefill_tokens_per_s),
            "decode_tokens_per_s": band(self.decode_tokens_per_s),
            "ttft_s": band(self.ttft_s),
            "basis": list(self.basis),
            "bits_per_weight": self.bits_per_weight,
            "calibrated": self.calibrated,
            "gpu_memory_share": None if self.gpu_memory_share is None else round(self.gpu_memory_share, 4),
            **self.extra,
        }
