"""Adapts the serving model (``rigcheck.estimate.serve_answer``) and the cost doors to the detail pane's Serving tab:
per-user against aggregate tokens/s as concurrency grows on this machine, and each door's $/M beside it."""

from __future__ import annotations

from dataclasses import dataclass

from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine

TTFT_LIMIT_S = 2.0
"""Where the chart marks the first token taking too long for an interactive user."""


@dataclass(frozen=True)
class ServingPoint:
    concurrency: int
    output_tokens_per_s: float
    per_user_tokens_per_s: float
    ttft_s: float
    saturated: bool = False


@dataclass(frozen=True)
class DoorRow:
    door: str
    label: str
    usd_per_m_workload: float | None
    usd_per_m_saturated: float | None
    why: str
    """The layout and concurrency of a self-hosted door, the provider of a hosted one, or why it is missing."""


@dataclass(frozen=True)
class ServingView:
    title: str
    points: tuple[ServingPoint, ...]
    doors: tuple[DoorRow, ...]
    workload: str
    note: str = ""
    ttft_limit_s: float = TTFT_LIMIT_S


def concurrencies(max_concurrency: int) -> list[int]:
    """1, 2, 4, ... below what the node runs at once (the saturated point is added after)."""
    values, c = [], 1
    while c < max_concurrency:
        values.append(c)
        c *= 2
    return values


def serving_view(model: Model, quant_name: str, machine: Machine, catalog: Catalog, settings: Settings) -> ServingView:
    """The sweep for one quant on ``machine`` (vLLM for safetensors-family quants, llama.cpp server for GGUF) and
    the three doors, both for the default workload of the settings' prompt (``Workload.for_prompt``): the chart's
    requests are the ones the doors are priced at. Never raises for a node that cannot serve: the note says why."""
    from rigcheck.estimate import compare
    from rigcheck.estimate.serve import (
        NODE_OUTPUT_MEANS,
        PER_USER_MEANS,
        ServeError,
        ServeRequest,
        steady_state,
    )
    from rigcheck.estimate.serve_answer import serve
    from rigcheck.estimate.serving import Workload

    workload = Workload.for_prompt(max(1, settings.prompt_tokens))
    quant = next((q for q in model.quants if q.name == quant_name), None)
    engine = "llama.cpp" if quant is not None and quant.format == "gguf" else "vllm"
    request = ServeRequest(input_tokens=workload.input_tokens_per_request,
                           output_tokens=workload.output_tokens_per_request, concurrency=1, engine=engine)
    points: list[ServingPoint] = []
    notes: list[str] = []
    name = model.id.split("/")[-1]
    title = f"{name} {quant_name}"
    try:
        answer = serve(model, machine, list(catalog.devices), request, quant_name)
    except ServeError as exc:
        notes.append(f"Not served here: {exc}")
    else:
        s = answer.setup
        title = f"{name} {quant_name}, {s.engine.label}: {s.parallelism.label()}"
        for c in concurrencies(answer.max_concurrency):
            p = steady_state(s, float(c))
            points.append(ServingPoint(c, p.output_tokens_per_s, p.per_user_tokens_per_s, p.ttft_s))
        sat = steady_state(s, None)
        points.append(ServingPoint(answer.max_concurrency, sat.output_tokens_per_s, sat.per_user_tokens_per_s,
                                   sat.ttft_s, saturated=True))
        notes.append(f"{request.input_tokens:,} in (the Prompt setting) + {request.output_tokens:,} out per "
                     f"request, as the doors are priced; at most {answer.max_concurrency:,} at once (KV pool, "
                     "engine limit).")
        notes.append(f"User tok/s: each user's decode rate, {PER_USER_MEANS}. Node output tok/s: {NODE_OUTPUT_MEANS}.")
    comparison = compare.compare_doors(model, catalog, workload, settings, machine, quant_name=quant_name)
    doors = []
    for d in comparison.doors:
        usd_per_m = d.usd_per_m_output_tokens.expected if d.usd_per_m_output_tokens else None
        saturated = d.saturated.expected if d.saturated else None
        why = d.unavailable_reason or str(d.details.get("layout") or "")
        if d.door != "hosted" and d.available and "concurrency" in d.details:
            why = f"{d.details['concurrency']} concurrent; {why}"
        doors.append(DoorRow(d.door, d.label, usd_per_m, saturated, why))
    return ServingView(title, tuple(points), tuple(doors), comparison.workload.describe(), " ".join(notes))
