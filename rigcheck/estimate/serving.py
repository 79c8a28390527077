"""What a self-hosted machine serves: the traffic to serve (Workload) and one node's throughput for it.

The node's throughput comes from the serving model (``rigcheck.estimate.serve``): continuous batching at the
workload's peak concurrency (capped at what the KV pool and the engine run at once), with the prefill of each
request's uncached input inside the engine steps, so the output tokens/s are all in. The saturated figure
(the engine's own batch limit) is kept beside it. A machine that holds the model only with part of it in RAM
serves about one request at a time, at the single-stream estimate.

Utilization is the share of hours the node serves at that concurrency; the rest of the time it idles.

The default workload is one request shape for every view (``Workload.for_prompt``): a prompt of the settings'
length (4,096 tokens unless changed: the prompt behind every time to first token) and a 512-token answer, a
million output tokens a day, 16 requests at a time. `rigcheck cost`, `plan`'s $/M, the report, the app's
Serving and Cost tabs and `rigcheck serve`'s defaults all take it from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rigcheck.catalog.hosted import TokenMix
from rigcheck.catalog.records import Catalog, Model, Quant
from rigcheck.estimate.types import Band, Estimate, Settings
from rigcheck.probe.types import Machine

DEFAULT_PROMPT_TOKENS = Settings().prompt_tokens
"""Input tokens of the default request: the settings' prompt length, the same prompt as every TTFT."""
DEFAULT_OUTPUT_TOKENS_PER_REQUEST = 512
"""Output tokens of the default request: an answer, not an essay."""
DEFAULT_OUTPUT_TOKENS_PER_DAY = 1_000_000
DEFAULT_CONCURRENCY = 16

HOURS_PER_MONTH = 730.0
"""Average hours in a month (8760 / 12): what a rented node is billed whether busy or idle."""
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
SECONDS_PER_DAY = 86_400.0
MAX_TOKENS_PER_DAY = 1e15
"""A thousand times the traffic of the largest hosted APIs: a larger workload is a typo."""
MAX_CONCURRENCY = 10_000_000
MAX_TOKENS_PER_REQUEST = 100_000_000
"""Above any model's context."""


@dataclass(frozen=True)
class Workload:
    """The traffic to serve: tokens per day, prompt caching, concurrency and burstiness.

    The defaults are the default request (a 4,096-token prompt and a 512-token answer) a million times a
    day in output tokens; ``for_prompt`` gives the same traffic for another prompt length."""

    input_tokens_per_day: float = (DEFAULT_OUTPUT_TOKENS_PER_DAY * DEFAULT_PROMPT_TOKENS
                                   / DEFAULT_OUTPUT_TOKENS_PER_REQUEST)
    output_tokens_per_day: float = DEFAULT_OUTPUT_TOKENS_PER_DAY
    cached_input_share: float = 0.0
    """Share of input tokens a prompt cache serves (0..1): cheaper hosted, free prefill self-hosted."""
    peak_concurrency: int = DEFAULT_CONCURRENCY
    """Requests in flight while the node serves: the concurrency a dedicated server runs at."""
    utilization: float = 0.4
    """Share of hours the node serves at that concurrency (0 < u <= 1); bursty traffic sits low."""
    output_tokens_per_request: int = DEFAULT_OUTPUT_TOKENS_PER_REQUEST
    """Output tokens of one request; its input is this times the day's input per output token."""

    @classmethod
    def for_prompt(cls, prompt_tokens: int, **fields: float) -> Workload:
        """The default workload (or ``fields`` given) with requests of ``prompt_tokens`` input: the day's input is
        one prompt per ``output_tokens_per_request`` output tokens. Every view that assumes a workload (the cost
        doors, the planner's $/M, the report, the app's Serving tab, `serve`'s defaults) builds it here from the
        settings' prompt length, so one screen never shows two request shapes."""
        out_per_day = float(fields.get("output_tokens_per_day", DEFAULT_OUTPUT_TOKENS_PER_DAY))
        out_per_request = int(fields.get("output_tokens_per_request", DEFAULT_OUTPUT_TOKENS_PER_REQUEST))
        if not 1 <= prompt_tokens <= MAX_TOKENS_PER_REQUEST:
            raise ValueError(f"prompt tokens must be from 1 to {MAX_TOKENS_PER_REQUEST:,}")
        inp = out_per_day * prompt_tokens / max(1, out_per_request)
        return cls(**{**fields, "input_tokens_per_day": inp})  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        if not 0 <= self.input_tokens_per_day <= MAX_TOKENS_PER_DAY:  # also refuses NaN and infinity
            raise ValueError(f"input tokens per day must be from 0 to {MAX_TOKENS_PER_DAY:g}")
        if not 1 <= self.output_tokens_per_day <= MAX_TOKENS_PER_DAY:
            raise ValueError(f"output tokens per day must be from 1 to {MAX_TOKENS_PER_DAY:g}")
        if not 0.0 <= self.cached_input_share <= 1.0:
            raise ValueError("cached input share must be between 0 and 1")
        if not 1 <= self.peak_concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"peak concurrency must be from 1 to {MAX_CONCURRENCY:,}")
        if not 0.0 < self.utilization <= 1.0:
            raise ValueError("utilization must be above 0 and at most 1")
        if not 1 <= self.output_tokens_per_request <= MAX_TOKENS_PER_REQUEST:
            raise ValueError(f"output tokens per request must be from 1 to {MAX_TOKENS_PER_REQUEST:,}")

    @property
    def input_per_output(self) -> float:
        return self.input_tokens_per_day / self.output_tokens_per_day

    @property
    def token_mix(self) -> TokenMix:
        return TokenMix(input_per_output=self.input_per_output, cached_input_share=self.cached_input_share)

    @property
    def m_output_tokens_per_month(self) -> float:
        return self.output_tokens_per_day * DAYS_PER_MONTH / 1e6

    @property
    def input_tokens_per_request(self) -> int:
        """Uncached input tokens per request: what its prefill processes (a prefix cache serves the rest)."""
        per_request = self.output_tokens_per_request * self.input_per_output * (1.0 - self.cached_input_share)
        return max(1, int(round(per_request)))

    def describe(self) -> str:
        return (
            f"workload: {self.input_tokens_per_day:,.0f} input + {self.output_tokens_per_day:,.0f} output "
            f"tokens/day, {self.cached_input_share:.0%} of input cached; requests of "
            f"{self.input_tokens_per_request:,} uncached input + {self.output_tokens_per_request:,} output tokens, "
            f"{self.peak_concurrency} at a time; utilization {self.utilization:.0%} (the share of hours the node "
            "serves at that concurrency; idle the rest)"
        )


@dataclass(frozen=True)
class NodeCapacity:
    """What one self-hosted machine serves: output tokens/s at the workload's concurrency, all in."""

    label: str
    gpu_count: int
    output_tokens_per_s: Band
    """Output tokens/s of the whole machine at ``concurrency`` (prefill of the input included)."""
    concurrency: int
    """Requests the node runs at once for this workload: its peak concurrency, capped at ``max_concurrency``."""
    saturated_output_tokens_per_s: Band | None = None
    """Output tokens/s at the engine's own batch limit (None when the machine serves one request at a time)."""
    max_concurrency: int = 1
    per_user_tokens_per_s: Band | None = None
    layout: str = ""
    """Tensor parallel, pipeline (layer) split or data parallel, as the engine does it."""
    basis: tuple[str, ...] = ()

    @property
    def saturated_or_workload(self) -> Band:
        return self.saturated_output_tokens_per_s or self.output_tokens_per_s


def machine_capacity(
    model: Model,
    quant: Quant,
    machine: Machine,
    catalog: Catalog,
    settings: Settings,
    workload: Workload,
    *,
    estimate_fn: Callable[..., Estimate] | None = None,
) -> NodeCapacity | str:
    """What ``machine`` serves of ``model`` at ``quant`` for ``workload``: the serving model at the workload's
    concurrency and saturated, with vLLM for safetensors-family quants and llama.cpp server for GGUF. A machine
    that holds the model only with part of it in RAM (or that no engine can serve) runs one request at a time
    at the single-stream estimate. Returns a one-sentence reason instead when it cannot serve the model.
    """
    from rigcheck.estimate.serve import ServeError, ServeRequest
    from rigcheck.estimate.serve_answer import serve

    if estimate_fn is None:
        from rigcheck.estimate.engine import estimate as estimate_fn
    devices = list(catalog.devices)
    label = machine.label or "this machine"
    try:
        est = estimate_fn(model, quant, machine, settings, devices)
    except ValueError as exc:  # the quant's runtime cannot run on this machine
        return f"{label}: {exc}"
    if est.verdict == "no_fit":
        return f"{label}: {model.id} {quant.name} does not fit ({est.memory.total_bytes / 1e9:,.0f} GB needed)"
    gpu_count = len(machine.usable_gpus)
    engine = "llama.cpp" if est.runtime == "llama.cpp" else "vllm"
    isl, osl = workload.input_tokens_per_request, workload.output_tokens_per_request
    basis = [f"{model.id} {quant.name}, {est.runtime}, {est.placement or est.verdict}"]
    reason = "part of the model sits in RAM: such a server runs about one request at a time"
    if est.verdict in ("gpu", "unified"):
        request = ServeRequest(input_tokens=isl, output_tokens=osl, concurrency=workload.peak_concurrency,
                               engine=engine)
        try:
            answer = serve(model, machine, devices, request, quant.name)
        except ServeError as exc:
            reason = f"the serving model cannot describe it ({exc}): one request at a time assumed"
        else:
            layout = f"{answer.setup.parallelism.label()} ({answer.setup.engine.label})"
            run = min(workload.peak_concurrency, answer.max_concurrency)
            basis.append(f"{layout}: {workload.peak_concurrency} concurrent requests of {isl:,} + {osl:,} tokens; "
                         f"the node runs {answer.max_concurrency:,} at once")
            basis.extend(answer.basis()[2:])
            return NodeCapacity(label, gpu_count, answer.output_tokens_per_s, run,
                                answer_band(answer.saturated.output_tokens_per_s), answer.max_concurrency,
                                answer.per_user_tokens_per_s, layout, tuple(basis))
    basis.append(reason)
    if est.decode_tokens_per_s is None:
        return f"{label}: no decode estimate for {model.id} {quant.name}"
    return NodeCapacity(label, gpu_count, single_stream_output(est, isl, osl), 1, None, 1,
                        est.decode_tokens_per_s, est.placement or est.verdict, tuple(basis))


def answer_band(value: float) -> Band:
    from rigcheck.estimate.serve import band

    return band(value)


def single_stream_output(est: Estimate, input_tokens: int, output_tokens: int) -> Band:
    """Output tokens/s of one request at a time: its prefill, then its decode, back to back."""
    dec, pre = est.decode_tokens_per_s, est.prefill_tokens_per_s

    def rate(decode: float, prefill: float | None) -> float:
        seconds = output_tokens / decode + (input_tokens / prefill if prefill else 0.0)
        return output_tokens / seconds

    assert dec is not None
    return Band(rate(dec.low, pre.low if pre else None), rate(dec.expected, pre.expected if pre else None),
                rate(dec.high, pre.high if pre else None))
