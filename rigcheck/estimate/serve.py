"""What a node serves: continuous batching in steady state over the step model, at a concurrency or saturated.

Requests arrive from a closed loop of ``concurrency`` clients (each sends its next request when the last one
ends), as load generators (vLLM's and SGLang's bench_serving, genai-perf) do. Per replica:

- the engine admits ``n = min(clients, max sequences, KV pool / KV per sequence)`` requests; the rest queue;
- each step decodes one token for each decoding sequence and fills the rest of its token budget with a chunk
  of pending prefill; prefill tokens cost their marginal step time ``(T(b, C) - T(b, 0)) / C``;
- time per output token = decode step time, stretched by the prefill work of the *other* requests;
  time to first token = the prompt's chunks, plus queueing (Little's law) when clients exceed ``n``;
- request rate = active requests / request latency; output tokens/s = rate x output length.

``--concurrency max`` is the saturated (offline) case: as many sequences as the engine and the KV pool hold.
``static`` is a fixed batch started together: its whole prefill, then every decode step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rigcheck.catalog.records import Device, Model, Quant
from rigcheck.estimate.engines import ServingEngine, engine_named
from rigcheck.estimate.memory import GIB, ShapeError, model_shape
from rigcheck.estimate.node import Parallelism, ServingNode, node_from_machine, parallelism_for
from rigcheck.estimate.runtimes import RuntimeView
from rigcheck.estimate.step import StepModel, StepTime
from rigcheck.estimate.types import Band
from rigcheck.probe.types import Machine

SERVING_BAND = (0.75, 1.3)
"""Multipliers of the expected output and per-user rates for the band: published / estimated on serving.csv
runs 0.82 at the 10th percentile and 1.20 at the 90th (58 rates, docs/serving.md); widened, since these are
the rows the engine constants were chosen on."""
SWEEP_CONCURRENCIES = (1, 4, 16, 64, 256)


class ServeError(ValueError):
    """A serving question that cannot be answered, with one sentence saying why."""


@dataclass(frozen=True)
class ServeRequest:
    """The traffic and the engine settings of one ``serve`` question."""

    input_tokens: int = 1024
    output_tokens: int = 256
    concurrency: int | None = 16
    """Clients kept in flight; None for the saturated (offline) case."""
    static: bool = False
    engine: str = "vllm"
    tp: int | None = None
    expert_parallel: bool = False
    kv_type: str = "auto"

    def __post_init__(self) -> None:
        if self.input_tokens < 1 or self.output_tokens < 1:
            raise ServeError("input and output lengths must be at least 1 token")
        if self.concurrency is not None and self.concurrency < 1:
            raise ServeError("concurrency must be at least 1")
        if self.static and self.concurrency is None:
            raise ServeError("a static batch needs a number of requests (--concurrency N)")
        if self.kv_type not in ("auto", "bf16", "fp8"):
            raise ServeError(f"unknown KV type {self.kv_type!r}: choose auto, bf16 or fp8")


@dataclass(frozen=True)
class KvPool:
    """The paged KV cache of one replica and the sequences it holds."""

    kv_dtype: str
    budget_bytes_per_gpu: float
    weights_bytes_per_gpu: float
    sequence_bytes: float
    """KV bytes one GPU holds for one admitted sequence (its reserved tokens, in whole blocks)."""
    reserved_tokens: int
    kv_sequences: int
    engine_sequences: int

    @property
    def sequences(self) -> int:
        return max(0, min(self.kv_sequences, self.engine_sequences))


NODE_OUTPUT_MEANS = ("the output tokens per second of the whole node, the time of every request's prefill counted "
                     "(requests per second x output length)")
"""What ``output_tokens_per_s`` ("node output tok/s") means, in the words every view uses: ``serve``, its JSON
``definitions``, the app's Serving tab."""
PER_USER_MEANS = ("how fast one request's tokens arrive after its first token (1 / time per output token, as load "
                  "tests publish it); its prefill is not counted, so at one request it is above the node's output")
"""What ``per_user_tokens_per_s`` ("per-user decode tok/s") means: a decode rate, not a share of the node's output."""


@dataclass(frozen=True)
class ServePoint:
    """The node at one load: node-wide rates and the time per step."""

    concurrency: float
    active: float
    queued: float
    output_tokens_per_s: float
    """``NODE_OUTPUT_MEANS``: prefill time included."""
    input_tokens_per_s: float
    per_user_tokens_per_s: float
    """``PER_USER_MEANS``: 1 / time per output token, without the request's prefill."""
    ttft_s: float
    step: StepTime


@dataclass
class Setup:
    """Everything a serving question needs before the load is known: engine, node, layout, step model, pool."""

    model: Model
    quant: Quant
    engine: ServingEngine
    node: ServingNode
    parallelism: Parallelism
    step_model: StepModel
    pool: KvPool
    request: ServeRequest
    notes: list[str] = field(default_factory=list)

    @property
    def max_concurrency(self) -> int:
        """Sequences the node runs at once (all replicas): the KV pool or the engine's limit."""
        return self.pool.sequences * self.parallelism.replicas


def resolve_kv_dtype(kv_type: str, engine: ServingEngine, quant: Quant, node: ServingNode) -> str:
    """"bf16" or "fp8": the request's, or for "auto" the engine's default for this checkpoint."""
    if kv_type != "auto":
        return kv_type
    if engine.fp8_kv_default and quant.format in ("fp8", "nvfp4", "mxfp4") and ("fp8" in node.flops or "fp4" in node.flops):
        return "fp8"
    return "bf16"


def kv_pool(step_model: StepModel, engine: ServingEngine, node: ServingNode, par: Parallelism,
            request: ServeRequest) -> KvPool:
    """The replica's KV pool and how many sequences of this request it admits. Raises ServeError when the
    weights leave no room for one sequence."""
    sm = step_model
    shape = sm.shape
    reserved = request.input_tokens + engine.kv_output_reserve * request.output_tokens
    block = max(1, engine.kv_block_tokens)
    reserved_tokens = int(math.ceil(reserved / block) * block)
    if engine.tensor_parallel:
        per_gpu_weights = (sm.weights_bytes - sm.expert_bytes) / par.tp + sm.expert_bytes / par.expert_group
        budget = engine.kv_budget_bytes(node.memory_bytes, per_gpu_weights, par.tp)
    else:
        per_gpu_weights = sm.weights_bytes  # a layer split: the machine's memory taken together
        budget = node.memory_bytes * par.tp * engine.memory_fraction - per_gpu_weights \
            - engine.activation_reserve_bytes * par.tp
    kv_dtype = sm.kv_dtype
    sequence_bytes = shape.kv_cache_bytes(reserved_tokens, "f16") * sm.kv_scale * sm.kv_share
    if budget <= 0:
        raise ServeError(
            f"{sm.quant.name} weights take {per_gpu_weights / GIB:,.0f} GiB per GPU of "
            f"{node.memory_bytes / GIB:,.0f} GiB: no room for the KV cache ({engine.label})")
    kv_sequences = int(budget // sequence_bytes) if sequence_bytes > 0 else 10**6
    if kv_sequences < 1:
        raise ServeError(
            f"the KV pool ({budget / GIB:,.1f} GiB per GPU) cannot hold one request of {reserved_tokens:,} tokens")
    return KvPool(kv_dtype, budget, per_gpu_weights, sequence_bytes, reserved_tokens, kv_sequences,
                  engine.max_sequences(node.memory_bytes))


def setup_serving(model: Model, quant: Quant, machine: Machine, devices: list[Device],
                  request: ServeRequest) -> Setup:
    """Resolve the engine, node, layout, step model and KV pool. Raises ServeError with one sentence."""
    try:
        engine = engine_named(request.engine)
    except ValueError as exc:
        raise ServeError(str(exc)) from None
    node = node_from_machine(machine, devices)
    if isinstance(node, str):
        raise ServeError(node)
    if engine.tensor_parallel:
        if quant.format in ("gguf", "mlx"):
            raise ServeError(f"{engine.label} does not serve {quant.format.upper()} files ({quant.name}); "
                             "choose --engine llama.cpp or a safetensors quant")
        if node.vendor not in ("nvidia", "amd"):
            raise ServeError(f"{engine.label} runs on NVIDIA and AMD Instinct GPUs, not {node.gpu_name}")
        if quant.format == "nvfp4" and "fp4" not in node.flops:
            raise ServeError(f"NVFP4 needs a GPU with FP4 tensor cores (Blackwell); {node.gpu_name} has none")
    elif quant.format != "gguf" and "llama.cpp" not in quant.runtimes:
        raise ServeError(f"llama.cpp serves GGUF files, and {quant.name} is a {quant.format.upper()} repo; "
                         "choose --engine vllm, sglang or trtllm for it, or a GGUF quant (Q4_K_M...) for llama.cpp")
    try:
        shape = model_shape(model)
        par = parallelism_for(model, node, engine.tensor_parallel, request.tp, request.expert_parallel)
    except (ShapeError, ValueError) as exc:
        raise ServeError(str(exc)) from None
    kv_dtype = resolve_kv_dtype(request.kv_type, engine, quant, node)
    view = None if engine.tensor_parallel else RuntimeView("llama.cpp", node.resolved)
    step_model = StepModel(shape, quant, node, engine, par, kv_dtype, llama_view=view)
    pool = kv_pool(step_model, engine, node, par, request)
    notes = []
    if request.input_tokens + request.output_tokens > (shape.max_context_tokens or 10**9):
        notes.append(f"{request.input_tokens + request.output_tokens:,} tokens per request exceed "
                     f"{model.id}'s context of {shape.max_context_tokens:,}")
    return Setup(model, quant, engine, node, par, step_model, pool, request, notes)


# --- steady state -------------------------------------------------------------------------------------


def steady_state(setup: Setup, concurrency: float | None) -> ServePoint:
    """The node at ``concurrency`` clients (None: saturated), continuous batching with chunked prefill."""
    sm, pool, par = setup.step_model, setup.pool, setup.parallelism
    req = setup.request
    isl, osl = req.input_tokens, req.output_tokens
    replicas = par.replicas
    cap = float(max(1, pool.sequences))
    clients = cap if concurrency is None else concurrency / replicas
    active = min(clients, cap)
    budget = setup.engine.max_batched_tokens(setup.node.memory_bytes)
    depth = isl + osl / 2.0
    decodes = float(max(0, osl - 1))

    decoding = active
    rate = tpot = ttft = 0.0
    decode_step = sm.step(1.0, depth)
    for _ in range(60):
        b = max(1.0, decoding)
        chunk = float(max(1.0, min(isl, budget - b)))
        decode_step = sm.step(b, depth)
        t0 = decode_step.seconds
        mixed = sm.step(b, depth, chunk, isl / 2.0 - chunk / 2.0 if chunk < isl else 0.0).seconds
        per_prefill_token = max(0.0, (mixed - t0) / chunk)
        # Own prefill: its chunks, alongside the others' decodes.
        others = b * max(0.0, active - 1.0) / max(active, 1.0)
        own = sm.prefill_seconds(isl, int(chunk), others, depth)
        # Prompts are prefilled one after another: a new one waits for those ahead of it (M/D/1 queue, with
        # the others' share of the prefill traffic).
        busy_prefill = min(0.95, rate * own * max(0.0, active - 1.0) / max(active, 1.0))
        ttft = own + 0.5 * t0 + busy_prefill / (2.0 * (1.0 - busy_prefill)) * own
        # Others' prefill stretches each decode step: tpot = t0 / (1 - the share of time their prefill takes).
        # Little's law closes the loop: rate = active / (ttft + decodes x tpot); solved by bisection (the
        # right-hand side falls as the rate rises).
        load = isl * per_prefill_token * max(0.0, active - 1.0) / max(active, 1.0)
        rate = _request_rate(active, ttft, decodes, t0, load)
        tpot = t0 / (1.0 - rate * load) if load > 0 else t0
        new_decoding = rate * decodes * tpot
        if abs(new_decoding - decoding) < 1e-4 * max(1.0, decoding):
            decoding = new_decoding
            break
        decoding = 0.5 * (decoding + new_decoding)
    queued = max(0.0, clients - active)
    wait = queued / rate if rate > 0 else 0.0
    per_user = 1.0 / tpot if decodes > 0 else 0.0
    return ServePoint(
        concurrency=clients * replicas,
        active=active * replicas,
        queued=queued * replicas,
        output_tokens_per_s=rate * osl * replicas,
        input_tokens_per_s=rate * isl * replicas,
        per_user_tokens_per_s=per_user,
        ttft_s=ttft + wait,
        step=decode_step,
    )


def _request_rate(active: float, ttft: float, decodes: float, decode_step: float, load: float) -> float:
    """Requests per second of a replica with ``active`` requests in flight, each taking ``ttft`` and then
    ``decodes`` steps of ``decode_step / (1 - rate x load)``: the root of rate = active / latency(rate)."""
    if decodes <= 0:
        return active / ttft

    def latency(rate: float) -> float:
        return ttft + decodes * decode_step / (1.0 - rate * load)

    high = active / latency(0.0)
    if load <= 0:
        return high
    high = min(high, (1.0 - 1e-9) / load)
    low = 0.0
    for _ in range(80):
        mid = 0.5 * (low + high)
        if mid < active / latency(mid):
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def static_batch(setup: Setup, batch: int) -> ServePoint:
    """A fixed batch of ``batch`` requests started together: all their prefill, then every decode step
    (vLLM's benchmark_latency). Output tokens/s counts the prefill time too."""
    sm, par = setup.step_model, setup.parallelism
    req = setup.request
    isl, osl = req.input_tokens, req.output_tokens
    per_replica = batch / par.replicas
    budget = setup.engine.max_batched_tokens(setup.node.memory_bytes)
    prompt_tokens = per_replica * isl
    chunks = max(1, math.ceil(prompt_tokens / budget))
    prompts_per_chunk = per_replica / chunks
    prefill = chunks * sm.step(0.0, 0.0, prompt_tokens / chunks, 0.0, prompts_per_chunk).seconds
    step = sm.step(per_replica, isl + osl / 2.0)
    total = prefill + max(0, osl - 1) * step.seconds
    return ServePoint(
        concurrency=float(batch),
        active=float(batch),
        queued=0.0,
        output_tokens_per_s=batch * osl / total,
        input_tokens_per_s=batch * isl / total,
        per_user_tokens_per_s=1.0 / step.seconds,
        ttft_s=prefill,
        step=step,
    )


def point_for(setup: Setup, concurrency: float | None) -> ServePoint:
    """The steady state (or the static batch, when the request asks for one) at ``concurrency``."""
    if setup.request.static and concurrency is not None:
        return static_batch(setup, int(concurrency))
    return steady_state(setup, concurrency)


def band(value: float, multipliers: tuple[float, float] = SERVING_BAND) -> Band:
    return Band(value * multipliers[0], value, value * multipliers[1])


def inverse_band(value: float, multipliers: tuple[float, float] = SERVING_BAND) -> Band:
    """A time's band: a faster node (the rate band's high end) waits less."""
    return Band(value / multipliers[1], value, value / multipliers[0])


def basis_lines(setup: Setup, point: ServePoint) -> list[str]:
    """What the answer assumed, one sentence each."""
    e, sm, pool, par = setup.engine, setup.step_model, setup.pool, setup.parallelism
    req = setup.request
    s = point.step
    lines = [
        f"{setup.model.id} {setup.quant.name} on {setup.node.label} with {e.label}: {par.label()}",
        setup.node.describe(),
        f"GEMMs in {sm.dtype.upper()} at {e.gemm_efficiency.get(sm.dtype, 0):.0%} of the dense rate; attention at "
        f"{e.attention_efficiency:.0%}; weights and KV streamed at {e.bandwidth_share:.0%} of memory bandwidth"
        if e.tensor_parallel else
        "llama.cpp's single-stream constants (efficiency.py): layers read in turn across GPUs",
        f"KV cache {pool.kv_dtype.upper()}, paged in blocks of {e.kv_block_tokens}: "
        f"{pool.budget_bytes_per_gpu / GIB:,.1f} GiB per GPU after {pool.weights_bytes_per_gpu / GIB:,.1f} GiB of "
        f"weights holds {pool.kv_sequences:,} requests of {pool.reserved_tokens:,} reserved tokens per replica; "
        f"the engine runs at most {pool.engine_sequences:,} -> {setup.max_concurrency:,} at once on the node",
        f"engine step at {point.active / par.replicas:,.1f} sequences per replica: "
        f"{s.seconds * 1e3:,.1f} ms (dense {s.dense_s * 1e3:.1f}, experts {s.experts_s * 1e3:.1f}, attention "
        f"{s.attention_s * 1e3:.1f}, communication {s.communication_s * 1e3:.1f}, overhead {s.overhead_s * 1e3:.1f})",
        f"{req.input_tokens:,} input + {req.output_tokens:,} output tokens per request; chunked prefill in steps of "
        f"{e.max_batched_tokens(setup.node.memory_bytes):,} tokens",
    ]
    if point.queued > 0:
        lines.append(f"{point.queued:,.0f} of {point.concurrency:,.0f} requests wait in the queue: "
                     "time to first token includes that wait")
    lines.append(f"band x{SERVING_BAND[0]:g}-x{SERVING_BAND[1]:g}: the spread of published measurements around "
                 "this model (docs/serving.md)")
    return lines + setup.notes
