"""The answer to a serve question: the quant an engine serves on the node, the rates at the asked concurrency
and saturated, a concurrency sweep, bands and basis, as one record (``rigcheck serve`` and the GUI chart)."""

from __future__ import annotations

from dataclasses import dataclass

from rigcheck.catalog.records import Device, Model, Quant
from rigcheck.estimate.serve import (
    NODE_OUTPUT_MEANS,
    PER_USER_MEANS,
    SWEEP_CONCURRENCIES,
    ServeError,
    ServePoint,
    ServeRequest,
    Setup,
    band,
    basis_lines,
    inverse_band,
    point_for,
    setup_serving,
)
from rigcheck.estimate.target import quality_bits
from rigcheck.estimate.types import Band
from rigcheck.probe.types import Machine

SCHEMA = "rigcheck.serve/1"


@dataclass(frozen=True)
class ServeAnswer:
    """One node serving one model: the asked load, the saturated load and a sweep between."""

    setup: Setup
    point: ServePoint
    saturated: ServePoint
    sweep: tuple[ServePoint, ...]

    @property
    def output_tokens_per_s(self) -> Band:
        return band(self.point.output_tokens_per_s)

    @property
    def per_user_tokens_per_s(self) -> Band:
        return band(self.point.per_user_tokens_per_s)

    @property
    def input_tokens_per_s(self) -> Band:
        return band(self.point.input_tokens_per_s)

    @property
    def ttft_s(self) -> Band:
        return inverse_band(self.point.ttft_s)

    @property
    def max_concurrency(self) -> int:
        return self.setup.max_concurrency

    def basis(self) -> list[str]:
        return basis_lines(self.setup, self.point)

    def settings(self) -> dict[str, object]:
        s = self.setup
        req = s.request
        return {
            "engine": s.engine.name,
            "engine_label": s.engine.label,
            "gpus": s.node.gpu_count,
            "gpu": s.node.gpu_name,
            "quant": s.quant.name,
            "input_len": req.input_tokens,
            "output_len": req.output_tokens,
            "concurrency": "max" if req.concurrency is None else req.concurrency,
            "static": req.static,
            "tp": s.parallelism.tp,
            "replicas": s.parallelism.replicas,
            "expert_parallel": s.parallelism.expert_parallel,
            "layout": s.parallelism.label(),
            "kv_type": s.pool.kv_dtype,
            "max_sequences": s.pool.engine_sequences,
            "max_batched_tokens": s.engine.max_batched_tokens(s.node.memory_bytes),
        }

    def to_dict(self) -> dict[str, object]:
        def rounded(b: Band) -> dict[str, float]:
            return {k: round(v, 4) for k, v in b.to_dict().items()}

        def point(p: ServePoint) -> dict[str, object]:
            return {"concurrency": round(p.concurrency, 2), "active": round(p.active, 2),
                    "queued": round(p.queued, 2), "output_tokens_per_s": round(p.output_tokens_per_s, 2),
                    "per_user_tokens_per_s": round(p.per_user_tokens_per_s, 3),
                    "input_tokens_per_s": round(p.input_tokens_per_s, 2), "ttft_s": round(p.ttft_s, 4)}

        return {
            "schema": SCHEMA,
            "model_id": self.setup.model.id,
            "quant": self.setup.quant.name,
            "node": self.setup.node.label,
            "output_tokens_per_s": rounded(self.output_tokens_per_s),
            "per_user_tokens_per_s": rounded(self.per_user_tokens_per_s),
            "input_tokens_per_s": rounded(self.input_tokens_per_s),
            "ttft_s": rounded(self.ttft_s),
            "max_concurrency": self.max_concurrency,
            "saturated": {**point(self.saturated),
                          "output_tokens_per_s_band": rounded(band(self.saturated.output_tokens_per_s))},
            "sweep": [point(p) for p in self.sweep],
            "settings": self.settings(),
            "definitions": {"output_tokens_per_s": NODE_OUTPUT_MEANS, "per_user_tokens_per_s": PER_USER_MEANS},
            "basis": self.basis(),
        }


def sweep_points(setup: Setup, concurrencies: tuple[int, ...] = SWEEP_CONCURRENCIES) -> tuple[ServePoint, ...]:
    """The node at each concurrency up to what it runs at once, then saturated (the engine's own limit)."""
    cap = setup.max_concurrency
    points = [point_for(setup, float(c)) for c in concurrencies if c < cap]
    points.append(point_for(setup, None if not setup.request.static else float(cap)))
    return tuple(points)


def servable_quants(model: Model, engine_name: str) -> list[Quant]:
    """The model's quants an engine serves, best quality first, then smallest (8 bits and above count as one
    quality): safetensors-family checkpoints for vLLM/SGLang/TensorRT-LLM, GGUF files for llama.cpp."""
    gguf = engine_name.split("@")[0].strip().lower() in ("llama.cpp", "llamacpp", "llama-server")
    quants = [q for q in model.quants
              if (q.format == "gguf" or (gguf and "llama.cpp" in q.runtimes)) == gguf and q.format != "mlx"]
    return sorted(quants, key=lambda q: (-quality_bits(q), q.bits_per_weight))


def serve(model: Model, machine: Machine, devices: list[Device], request: ServeRequest,
          quant_name: str | None = None) -> ServeAnswer:
    """Serve ``model`` on ``machine``: with ``quant_name``, that quant; else the best quality the engine serves
    there (the first that fits). Raises ServeError with one sentence when nothing can be served."""
    if quant_name is not None:
        quant = next((q for q in model.quants if q.name.casefold() == quant_name.casefold()), None)
        if quant is None:
            names = ", ".join(q.name for q in model.quants)
            raise ServeError(f"{model.id} has no quant {quant_name!r} (it has {names})")
        candidates = [quant]
    else:
        candidates = servable_quants(model, request.engine)
        if not candidates:
            raise ServeError(f"{model.id} has no quant that {request.engine} serves")
    reasons = []
    for quant in candidates:
        try:
            setup = setup_serving(model, quant, machine, devices, request)
        except ServeError as exc:
            reasons.append(f"{quant.name}: {exc}")
            continue
        point = point_for(setup, None if request.concurrency is None else float(request.concurrency))
        saturated = point_for(setup, None) if not request.static else point
        return ServeAnswer(setup, point, saturated, sweep_points(setup))
    if len(reasons) == 1:
        raise ServeError(reasons[0])
    raise ServeError(f"no quant of {model.id} can be served there ({'; '.join(reasons[:3])})")


SAME_TTFT_RATIO = 1.2
"""First-token times within this ratio are the same answer (inside both bands' ±15-30%)."""


@dataclass(frozen=True)
class SingleRequestFit:
    """What ``rigcheck fit`` says about one request alone on the same machine, quant and prompt: its first-token
    time, and why the serving model's differs."""

    runtime: str
    ttft_s: float
    prefill_tokens_per_s: float
    note: str


def single_request_fit(answer: ServeAnswer, machine: Machine, catalog) -> SingleRequestFit | None:
    """``rigcheck fit``'s first-token time for the quant ``answer`` serves, at its input length, with the runtime
    fit models for that engine (llama.cpp for llama.cpp, vLLM for vLLM/SGLang/TensorRT-LLM); None when fit has no
    such row. At one request both describe the same thing, from two models: fit's prefill is calibrated on
    single-stream llama-bench and vLLM runs, the serving model's on multi-user load tests (docs/serving.md)."""
    from rigcheck.estimate.engine import evaluate
    from rigcheck.estimate.types import Settings

    setup = answer.setup
    req = setup.request
    runtime = setup.engine.runtime
    settings = Settings(context_tokens=req.input_tokens + req.output_tokens, prompt_tokens=req.input_tokens,
                        quant=setup.quant.name)
    model = next((m for m in catalog.models if m.id == setup.model.id), None)
    if model is None:
        return None
    row = next((r for r in evaluate(machine, catalog, settings, models=[model])
                if r.quant == setup.quant.name and r.runtime == runtime and r.ttft_s and r.prefill_tokens_per_s), None)
    if row is None:
        return None
    serve_ttft = answer.ttft_s.expected
    ratio = max(row.ttft_s.expected, serve_ttft) / max(min(row.ttft_s.expected, serve_ttft), 1e-9)
    note = ("the two agree" if ratio <= SAME_TTFT_RATIO else
            f"the two differ by {ratio:.1f}x: fit's prefill is calibrated on single-stream runs, the serving "
            "model's engine step on multi-user load tests")
    return SingleRequestFit(runtime, row.ttft_s.expected, row.prefill_tokens_per_s.expected, note)
