"""A selected model's detail section: every quant on this machine, speed against context, its facts."""

from __future__ import annotations

from msgspec.structs import replace

from rigcheck import units
from rigcheck.catalog.records import Catalog, Model
from rigcheck.estimate.types import Settings
from rigcheck.probe.types import Machine
from rigcheck.report.catalog_facts import model_name
from rigcheck.report.engine import Engine
from rigcheck.report.inventory import capacities
from rigcheck.report.records import (
    Capability,
    ContextPoint,
    FitRow,
    HostedRow,
    MachineInfo,
    ModelDetail,
    one_row_per_model,
)

SPEED_CONTEXTS_TOKENS = (512, 2048, 8192, 32768, 131072)
"""Depths at which the speed-vs-context chart samples prefill, decode and TTFT."""
DEFAULT_SELECTED = 3


def default_selection(rows: tuple[FitRow, ...], info: MachineInfo) -> list[str]:
    """This machine's picks: the most capable usable models (``rules`` order); when none is usable, the models
    closest to it that fit."""
    per_model = one_row_per_model(rows)
    usable = [r.model_id for r in per_model if r.usable]
    if usable:
        return usable[:DEFAULT_SELECTED]
    return [r.model_id for r in per_model if r.estimate.fits][:DEFAULT_SELECTED]


def detail(
    model: Model,
    rows: tuple[FitRow, ...],
    machine: Machine,
    info: MachineInfo,
    catalog: Catalog,
    settings: Settings,
    engine: Engine,
    capability: dict[str, Capability],
    hosted: dict[str, tuple[HostedRow, ...]],
) -> ModelDetail:
    """The detail section for ``model``; the speed curve is left empty when the engine cannot estimate."""
    quants = tuple(
        sorted(
            (r.estimate for r in rows if r.model_id == model.id),
            key=lambda e: -e.memory.weights_bytes,
        )
    )
    best = next((e for e in quants if e.best and e.usable), None)
    fitting = [e for e in quants if e.fits]
    speed_est = best or (fitting[0] if fitting else (quants[-1] if quants else None))
    points: list[ContextPoint] = []
    if speed_est is not None and engine.estimate is not None:
        quant = next((q for q in model.quants if q.name == speed_est.quant), None)
        if quant is not None:
            limit = model.max_context_tokens or max(SPEED_CONTEXTS_TOKENS)
            for ctx in SPEED_CONTEXTS_TOKENS:
                if ctx > limit:
                    break
                # Prompt = context: the curve answers "how fast with this much already in the window".
                at = replace(settings, prompt_tokens=ctx, context_tokens=max(ctx, settings.context_tokens))
                e = engine.estimate(model, quant, machine, at, list(catalog.devices))
                points.append(
                    ContextPoint(ctx, e.prefill_tokens_per_s, e.decode_tokens_per_s, e.ttft_s, e.verdict)
                )
    facts = [("Parameters", _params_text(model))]
    if model.attention:
        facts.append(("Attention", model.attention.upper() if model.attention != "swa-mixed" else "sliding window + global"))
    if model.max_context_tokens:
        facts.append(("Max context", f"{units.tokens_text(model.max_context_tokens)} tokens"))
    if model.license:
        facts.append(("License", model.license))
    if model.release_date:
        facts.append(("Released", model.release_date))
    gpu_cap, ram_cap = capacities(info)
    launch: tuple = ()
    if best is not None:
        from rigcheck.estimate.launch import launch_commands

        quant = next((q for q in model.quants if q.name == best.quant), None)
        if quant is not None:
            launch = tuple(launch_commands(best, model, quant, kv_cache_type=settings.kv_cache_type))
    return ModelDetail(
        model_id=model.id,
        model_name=model_name(model),
        facts=tuple(facts),
        capability=capability.get(model.id),
        quants=quants,
        best_quant=best.quant if best else None,
        speed_quant=speed_est.quant if speed_est is not None and points else None,
        speed_vs_context=tuple(points),
        hosted=hosted.get(model.id, ()),
        gpu_capacity_bytes=gpu_cap,
        ram_capacity_bytes=ram_cap,
        launch=launch,
    )


def _params_text(model: Model) -> str:
    total, active = model.params_total_b, model.params_active_b
    if model.is_moe and total and active and active < total:
        return f"{units.params_text(total)} total, {units.params_text(active)} active (MoE, {model.moe_num_experts} experts)"
    return units.params_text(total)


def measured_lines(e) -> list[str]:
    """The user's own runs of this quant on this machine, beside the estimate, in words (for the renderers)."""
    lines = []
    for m in e.extra.get("measured") or []:
        for kind in ("prefill", "decode"):
            measured = m.get(f"{kind}_tokens_per_s")
            if measured is None:
                continue
            estimated = m.get(f"estimated_{kind}_tokens_per_s")
            ratio = m.get(f"{kind}_ratio")
            depth = f" at depth {units.tokens_text(m['prompt_depth_tokens'])}" if m.get("prompt_depth_tokens") else ""
            text = f"{kind} measured {units.rate_text(measured)} tok/s ({m.get('engine')}{depth})"
            if estimated and ratio:
                text += f"; estimated {units.rate_text(estimated)} tok/s for that run, ×{ratio:.2f}"
            lines.append(text)
    return lines
