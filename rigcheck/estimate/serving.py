"""What a self-hosted machine serves: the traffic to serve (Workload) and one node's throughput for it.

How self-hosting counts input tokens: a node spends time on prefill as well as decode, so the
node-seconds per output token are ``1 / decode_rate + uncached_input_per_output / prefill_rate``
(the prefill capacity share). Input served from a prefix cache costs no prefill. The expected value
assumes no overlap between prefill and decode (a conservative reading of chunked prefill); the
band's high capacity end assumes full overlap. Decode capacity is the estimator's serving throughput
at the batch the workload sustains: its peak concurrency, bounded by the KV cache memory left after
the weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rigcheck.catalog.hosted import TokenMix
from rigcheck.catalog.records import Catalog, Model, Quant
from rigcheck.estimate.types import Band, Estimate, Settings
from rigcheck.probe.types import Machine

HOURS_PER_MONTH = 730.0
"""Average hours in a month (8760 / 12): what a rented node is billed whether busy or idle."""
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
SECONDS_PER_DAY = 86_400.0
MAX_TOKENS_PER_DAY = 1e15
"""A thousand times the traffic of the largest hosted APIs: a larger workload is a typo."""


@dataclass(frozen=True)
class Workload:
    """The traffic to serve: tokens per day, prompt caching, concurrency and burstiness."""

    input_tokens_per_day: float = 10_000_000
    output_tokens_per_day: float = 1_000_000
    cached_input_share: float = 0.0
    """Share of input tokens a prompt cache serves (0..1): cheaper hosted, free prefill self-hosted."""
    peak_concurrency: int = 16
    """Requests in flight at the busiest moment: the batch a dedicated server runs."""
    utilization: float = 0.4
    """Average utilization a dedicated node reaches on this traffic (0 < u <= 1): bursty traffic is low."""

    def __post_init__(self) -> None:
        if not 0 <= self.input_tokens_per_day <= MAX_TOKENS_PER_DAY:  # also refuses NaN and infinity
            raise ValueError(f"input tokens per day must be from 0 to {MAX_TOKENS_PER_DAY:g}")
        if not 1 <= self.output_tokens_per_day <= MAX_TOKENS_PER_DAY:
            raise ValueError(f"output tokens per day must be from 1 to {MAX_TOKENS_PER_DAY:g}")
        if not 0.0 <= self.cached_input_share <= 1.0:
            raise ValueError("cached input share must be between 0 and 1")
        if self.peak_concurrency < 1:
            raise ValueError("peak concurrency must be at least 1")
        if not 0.0 < self.utilization <= 1.0:
            raise ValueError("utilization must be above 0 and at most 1")

    @property
    def input_per_output(self) -> float:
        return self.input_tokens_per_day / self.output_tokens_per_day

    @property
    def token_mix(self) -> TokenMix:
        return TokenMix(input_per_output=self.input_per_output, cached_input_share=self.cached_input_share)

    @property
    def m_output_tokens_per_month(self) -> float:
        return self.output_tokens_per_day * DAYS_PER_MONTH / 1e6

    def describe(self) -> str:
        return (
            f"workload: {self.input_tokens_per_day:,.0f} input + {self.output_tokens_per_day:,.0f} output "
            f"tokens/day, {self.cached_input_share:.0%} of input cached, peak {self.peak_concurrency} "
            f"concurrent requests, {self.utilization:.0%} average utilization of a dedicated node"
        )


@dataclass(frozen=True)
class NodeCapacity:
    """What one self-hosted machine serves at full load: decode at the sustained batch, and prefill."""

    label: str
    gpu_count: int
    decode_tokens_per_s: Band
    """Aggregate output tokens/s at ``batch`` (all sequences together)."""
    prefill_tokens_per_s: Band | None
    """Prompt tokens/s the machine processes; None when unknown (input is then not charged)."""
    batch: int
    basis: tuple[str, ...] = ()

    def output_tokens_per_s(self, mix: TokenMix) -> Band:
        """Output tokens/s the machine sustains once the prefill of their input is paid for."""
        uncached = mix.input_per_output * (1.0 - mix.cached_input_share)
        dec = self.decode_tokens_per_s
        pre = self.prefill_tokens_per_s
        if pre is None or uncached == 0:
            return dec

        def serial(decode: float, prefill: float) -> float:
            return 1.0 / (1.0 / decode + uncached / prefill)

        def overlapped(decode: float, prefill: float) -> float:
            return 1.0 / max(1.0 / decode, uncached / prefill)

        return Band(
            low=serial(dec.low, pre.low),
            expected=serial(dec.expected, pre.expected),
            high=overlapped(dec.high, pre.high),
        )


KV_MEMORY_SHARE = 0.9
"""Share of GPU memory a serving engine takes for weights + KV (vLLM's gpu_memory_utilization default)."""


def machine_capacity(
    model: Model,
    quant: Quant,
    machine: Machine,
    catalog: Catalog,
    settings: Settings,
    workload: Workload,
    *,
    estimate_fn: Callable[..., Estimate] | None = None,
    throughput_fn: Callable[..., Band] | None = None,
) -> NodeCapacity | str:
    """What ``machine`` serves of ``model`` at ``quant``: the estimator's serving throughput at the batch
    the workload sustains (its peak concurrency, bounded by the KV memory left after the weights),
    and the estimator's prefill rate. Returns a one-sentence reason instead when it cannot serve it.
    """
    from rigcheck.estimate import resolved as resolved_mod

    if estimate_fn is None:
        from rigcheck.estimate.engine import estimate as estimate_fn
    if throughput_fn is None:
        from rigcheck.estimate.speed import serving_throughput as throughput_fn
    devices = list(catalog.devices)
    label = machine.label or "this machine"
    try:
        est = estimate_fn(model, quant, machine, settings, devices)
    except ValueError as exc:  # the quant's runtime cannot run on this machine
        return f"{label}: {exc}"
    if est.verdict == "no_fit":
        return f"{label}: {model.id} {quant.name} does not fit ({est.memory.total_bytes / 1e9:,.0f} GB needed)"
    gpu_count = len(machine.usable_gpus)
    basis = [f"{model.id} {quant.name}, {est.runtime}, {est.placement or est.verdict}"]
    if est.verdict in ("gpu", "unified"):
        resolved = resolved_mod.resolve_machine(machine, devices)
        specs = [g.device for g in resolved.gpus]
        if specs and all(d is not None for d in specs):
            usable = resolved.gpu_memory_total_bytes * KV_MEMORY_SHARE
            free = usable - est.memory.weights_bytes - est.memory.overhead_bytes
            per_sequence = est.memory.kv_cache_bytes
            kv_batch = int(free // per_sequence) if per_sequence > 0 else workload.peak_concurrency
            batch = max(1, min(workload.peak_concurrency, kv_batch))
            decode = throughput_fn(model, quant, specs, batch, settings.prompt_tokens)
            basis.append(
                f"batch {batch}: peak concurrency {workload.peak_concurrency}, KV room for {max(kv_batch, 0)} "
                f"sequences of {est.context_tokens:,} tokens in {KV_MEMORY_SHARE:.0%} of GPU memory"
            )
            return NodeCapacity(label, gpu_count, decode, est.prefill_tokens_per_s, batch, tuple(basis))
        basis.append("a GPU is not in the device table: serving throughput taken as one request at a time")
    else:
        basis.append("part of the model sits in RAM: such a server runs about one request at a time")
    if est.decode_tokens_per_s is None:
        return f"{label}: no decode estimate for {model.id} {quant.name}"
    return NodeCapacity(label, gpu_count, est.decode_tokens_per_s, est.prefill_tokens_per_s, 1, tuple(basis))
