"""The report's data: a typed ``ReportData`` built from machines, the catalog, settings and estimates.

No formatting and no Qt here: renderers (pdf, html, md, json, csv) turn a ``ReportData`` into a file.
The builder calls the estimator, planner and device resolver through an injectable ``Engine`` so tests
(and the GUI, which already holds the estimates) can supply their own; sections whose engine part is
missing say so instead of being silently empty.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from rigcheck import __version__
from rigcheck.catalog.records import Catalog, Device, HostedOffer, Model, Score
from rigcheck.estimate.types import Estimate, Settings
from rigcheck.probe.types import Machine
from rigcheck.report.adapters import default_engine
from rigcheck.report.engine import Engine, ResolveGpuFn
from rigcheck.report.records import (
    USABLE_DECODE_TOKENS_PER_S,
    USABLE_TTFT_S,
    BackendInfo,
    CatalogInfo,
    ContextPoint,
    CpuInfo,
    FitRow,
    FleetCell,
    FleetRow,
    FleetSection,
    FleetTarget,
    GpuInfo,
    HostedRow,
    MachineInfo,
    MachineReport,
    MemoryInfo,
    ModelDetail,
    PlanOption,
    PlanSection,
    Quality,
    ReportData,
    Summary,
    SummaryPick,
    one_row_per_model,
    quality_key,
    usable_by_model,
)

NEARLY_FITS_FACTOR = 1.25
"""A model whose smallest quant needs at most 25 % more memory than the machine has "nearly fits"."""
INPUT_SHARE = 0.75
"""Blended hosted price assumes 3 input tokens per output token (chat with context; OpenRouter-style mix)."""
SPEED_CONTEXTS_TOKENS = (512, 2048, 8192, 32768, 131072)
"""Depths at which the speed-vs-context chart samples prefill, decode and TTFT."""
DEFAULT_SELECTED = 3
SUMMARY_PICKS = 5
FLEET_ROWS = 25

# Which benchmarks speak for "quality", in order of preference for display.
_BENCH_LABELS = {
    "aa_index": "AA index",
    "artificial_analysis_intelligence_index": "AA index",
    "swe_bench_verified": "SWE-bench",
    "aider_polyglot": "Aider",
    "terminal_bench_2": "T-Bench 2",
}
_BENCH_ORDER = tuple(_BENCH_LABELS)


# --------------------------------------------------------------------------------------------- build


class ReportBuildError(ValueError):
    """The report cannot be built from these inputs (unknown model, no machine); one sentence."""


def build_report(
    machines: Sequence[Machine],
    catalog: Catalog,
    settings: Settings,
    *,
    engine: Engine | None = None,
    estimates: Sequence[Sequence[Estimate]] | None = None,
    selected_model_ids: Sequence[str] = (),
    target_model_id: str | None = None,
    catalog_status: Any = None,
    now: _dt.datetime | None = None,
    title: str | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> ReportData:
    """Build the report for one machine, or a fleet report for several.

    ``estimates``: the evaluate() results per machine when the caller already has them (the GUI);
    otherwise the engine's evaluate is called. ``selected_model_ids`` get a detail section each;
    by default a few of the most capable models that fit or nearly fit. ``target_model_id`` adds the
    planner's configurations and per-machine upgrade advice for that model.
    Raises ReportBuildError for no machines, an unknown model id, or no way to get estimates.
    """
    if not machines:
        raise ReportBuildError("a report needs at least one machine")
    engine = engine if engine is not None else default_engine()
    models_by_id = {m.id: m for m in catalog.models}
    for model_id in (*selected_model_ids, *([target_model_id] if target_model_id else [])):
        if model_id not in models_by_id:
            raise ReportBuildError(f"model {model_id!r} is not in the catalog")
    if estimates is not None and len(estimates) != len(machines):
        raise ReportBuildError("estimates must be given for every machine, or for none")
    if estimates is None and engine.evaluate is None:
        why = engine.unavailable.get("estimator", "the estimator is not installed")
        raise ReportBuildError(f"cannot estimate: {why}")

    def step(fraction: float, message: str) -> None:
        if progress is not None:
            progress(min(1.0, max(0.0, fraction)), message)

    now = now or _dt.datetime.now(_dt.timezone.utc)
    quality = quality_by_model(catalog.scores, catalog.models)
    hosted = hosted_by_model(catalog.hosted)
    labels = _unique_labels(machines)

    reports: list[MachineReport] = []
    for i, machine in enumerate(machines):
        share = 0.9 / len(machines)
        step(i * share, f"estimating {labels[i]}")
        rows_est = list(estimates[i]) if estimates is not None else engine.evaluate(machine, catalog, settings)
        info = machine_info(machine, labels[i], catalog.devices, engine.resolve_gpu)
        rows = tuple(
            _fit_row(e, models_by_id.get(e.model_id), quality, hosted)
            for e in rows_est
            if e.model_id in models_by_id
        )
        summary = _summary(rows, info, catalog, quality, hosted, models_by_id)
        step(i * share + share / 3, f"details for {labels[i]}")
        details: tuple[ModelDetail, ...] = ()
        plans: tuple[PlanSection, ...] = ()
        if len(machines) == 1:
            chosen = list(selected_model_ids) or _default_selection(rows, info)
            details = tuple(
                _detail(models_by_id[mid], rows, machine, info, catalog, settings, engine, quality, hosted)
                for mid in chosen
            )
            plan_ids = [target_model_id] if target_model_id else _plan_candidates(details)
            step(i * share + 2 * share / 3, "asking the planner")
            plans = tuple(
                _plan_section(models_by_id[mid], machine, catalog, settings, engine) for mid in plan_ids
            )
        reports.append(MachineReport(info, summary, rows, details, plans))

    fleet = None
    if len(machines) > 1:
        step(0.92, "fleet matrix")
        fleet = _fleet(reports, machines, catalog, settings, engine, target_model_id, models_by_id)
    step(1.0, "report built")
    return ReportData(
        generated_at=now.astimezone(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        app_version=__version__,
        title=title or _title(reports),
        settings=settings,
        catalog=catalog_info(catalog, catalog_status, now),
        machines=tuple(reports),
        fleet=fleet,
        assumptions=_assumptions(settings, engine),
    )


# --------------------------------------------------------------------------------------------- parts


def quality_by_model(scores: Iterable[Score], models: Iterable[Model]) -> dict[str, Quality]:
    """Each scored model's representative score and rank.

    A model's rank is the mean of its percentiles over the benchmarks it has scores on (best score
    per benchmark), so models scored on different benchmarks can still be ordered; the displayed
    score is the one from the most widely comparable benchmark (AA index, then SWE-bench, ...).
    """
    best: dict[str, dict[str, Score]] = {}
    for s in scores:
        bench = best.setdefault(s.benchmark, {})
        if s.model_id not in bench or s.value > bench[s.model_id].value:
            bench[s.model_id] = s
    percentiles: dict[str, list[float]] = {}
    for bench_name, by_model in best.items():
        if bench_name not in _BENCH_LABELS:
            continue
        ordered = sorted(by_model.values(), key=lambda s: s.value)
        n = len(ordered)
        for i, s in enumerate(ordered):
            percentiles.setdefault(s.model_id, []).append((i + 1) / n if n > 1 else 1.0)
    out: dict[str, Quality] = {}
    known = {m.id for m in models}
    for model_id, ps in percentiles.items():
        if model_id not in known:
            continue
        shown = next(best[b][model_id] for b in _BENCH_ORDER if b in best and model_id in best[b])
        out[model_id] = Quality(
            benchmark=shown.benchmark,
            label=_BENCH_LABELS[shown.benchmark],
            value=shown.value,
            rank=sum(ps) / len(ps),
            source=shown.source,
        )
    return out


def hosted_by_model(offers: Iterable[HostedOffer]) -> dict[str, tuple[HostedRow, ...]]:
    """Hosted offers per model id, cheapest blended price first."""
    out: dict[str, list[HostedRow]] = {}
    for o in offers:
        out.setdefault(o.model_id, []).append(hosted_row(o))
    return {k: tuple(sorted(v, key=lambda r: (r.blended_usd_per_m, r.provider))) for k, v in out.items()}


def hosted_row(o: HostedOffer) -> HostedRow:
    blended = INPUT_SHARE * o.usd_per_m_input + (1 - INPUT_SHARE) * o.usd_per_m_output
    return HostedRow(
        model_id=o.model_id,
        provider=o.provider,
        usd_per_m_input=o.usd_per_m_input,
        usd_per_m_output=o.usd_per_m_output,
        blended_usd_per_m=blended,
        context_tokens=o.context_tokens,
        quantization=o.quantization,
        residency=o.residency,
        region=o.region,
        no_training=o.no_training,
        date_seen=o.date_seen,
        source=o.source,
    )


def machine_info(
    machine: Machine,
    label: str | None = None,
    devices: Sequence[Device] = (),
    resolve_gpu: ResolveGpuFn | None = None,
) -> MachineInfo:
    """The inventory of one machine. Bandwidth the driver does not report is filled from the device
    table (marked "spec table") when the resolver knows the card."""
    gpus = []
    for g in machine.gpus:
        sources = dict(g.sources)
        bandwidth = g.memory_bandwidth_bytes_per_s
        vram = g.vram_total_bytes
        if (bandwidth is None or vram is None) and resolve_gpu is not None and not g.lost:
            device = resolve_gpu(g, list(devices))
            if device is not None:
                if bandwidth is None and device.bandwidth_bytes_per_s:
                    bandwidth = device.bandwidth_bytes_per_s
                    sources["memory_bandwidth_bytes_per_s"] = "spec table"
                if vram is None and device.memory_bytes:
                    vram = device.memory_bytes
                    sources["vram_total_bytes"] = "spec table"
        link = None
        if g.pcie_gen_max or g.pcie_width_max:
            gen = f"PCIe {g.pcie_gen_max}.0" if g.pcie_gen_max else "PCIe"
            link = f"{gen} x{g.pcie_width_max}" if g.pcie_width_max else gen
            src = g.sources.get("pcie_gen_max") or g.sources.get("pcie_width_max")
            if src:
                sources.setdefault("pcie_link", src)
        gpus.append(
            GpuInfo(
                index=g.index,
                name=g.name,
                vendor=g.vendor,
                vram_total_bytes=vram,
                memory_bandwidth_bytes_per_s=bandwidth,
                pcie_link=link,
                driver_version=g.driver_version,
                cuda_version=g.cuda_version,
                uuid=g.uuid,
                serial=g.serial,
                pci_bus_id=g.pci_bus_id,
                power_limit_w=g.power_limit_w,
                compute_capability=g.compute_capability,
                unified_memory=g.unified_memory,
                gpu_usable_memory_bytes=g.gpu_usable_memory_bytes,
                lost=g.lost,
                sources=sources,
                unavailable=dict(g.unavailable),
            )
        )
    c, m = machine.cpu, machine.memory
    vram_total = 0
    for g in gpus:
        if g.lost:
            continue
        size = g.gpu_usable_memory_bytes if g.unified_memory else g.vram_total_bytes
        vram_total += size or 0
    return MachineInfo(
        label=label or machine.label or machine.hostname or "this machine",
        origin=machine.origin,
        hostname=machine.hostname,
        os_name=machine.os_name,
        os_version=machine.os_version,
        probed_at=machine.probed_at,
        disk_free_bytes=machine.disk_free_bytes,
        disk_path=machine.disk_path,
        gpus=tuple(gpus),
        cpu=CpuInfo(
            model=c.model,
            vendor=c.vendor,
            architecture=c.architecture,
            physical_cores=c.physical_cores,
            logical_cores=c.logical_cores,
            max_clock_mhz=c.max_clock_mhz,
            isa_flags=tuple(c.isa_flags),
            sources=dict(c.sources),
            unavailable=dict(c.unavailable),
        ),
        memory=MemoryInfo(
            total_bytes=m.total_bytes,
            available_bytes=m.available_bytes,
            ram_type=m.ram_type,
            ram_speed_mhz=m.ram_speed_mhz,
            bandwidth_bytes_per_s=m.bandwidth_bytes_per_s,
            swap_total_bytes=m.swap_total_bytes,
            sources=dict(m.sources),
            unavailable=dict(m.unavailable),
        ),
        backends=tuple(BackendInfo(b.name, b.available, b.reason, b.device_count) for b in machine.backends),
        vram_total_bytes=vram_total,
        sources=dict(machine.sources),
    )


def catalog_info(catalog: Catalog, status: Any = None, now: _dt.datetime | None = None) -> CatalogInfo:
    """Catalog version facts; ``status`` is store.catalog_status()'s answer when the caller has it."""
    age_days = None
    warnings: tuple[str, ...] = ()
    source = catalog.source
    if status is not None:
        source = getattr(status, "source", None) or source
        age = getattr(status, "age", None)
        if age is None:
            age = getattr(status, "age_s", None)  # store.CatalogStatus names it with its unit
        if isinstance(age, _dt.timedelta):
            age_days = age.total_seconds() / 86400
        elif isinstance(age, (int, float)):
            age_days = float(age) / 86400  # seconds, as time.time() differences are
        warnings = tuple(str(w) for w in (getattr(status, "warnings", None) or ()))
    if age_days is None:
        generated = _parse_time(catalog.generated_at)
        if generated is not None:
            age_days = ((now or _dt.datetime.now(_dt.timezone.utc)) - generated).total_seconds() / 86400
    return CatalogInfo(
        schema_version=catalog.schema_version,
        sequence=catalog.sequence,
        generated_at=catalog.generated_at,
        source=source,
        age_days=None if age_days is None else round(max(age_days, 0.0), 2),
        models=len(catalog.models),
        devices=len(catalog.devices),
        hosted_offers=len(catalog.hosted),
        warnings=warnings,
    )


def _parse_time(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _unique_labels(machines: Sequence[Machine]) -> list[str]:
    labels = []
    for i, m in enumerate(machines):
        base = m.label or m.hostname or ("this machine" if len(machines) == 1 else f"machine {i + 1}")
        label, n = base, 2
        while label in labels:
            label, n = f"{base} ({n})", n + 1
        labels.append(label)
    return labels


def _fit_row(
    e: Estimate, model: Model | None, quality: dict[str, Quality], hosted: dict[str, tuple[HostedRow, ...]]
) -> FitRow:
    offers = hosted.get(e.model_id, ())
    return FitRow(
        model_id=e.model_id,
        model_name=_model_name(model) if model else e.model_id,
        params_total_b=model.params_total_b if model else None,
        params_active_b=model.params_active_b if model else None,
        quality=quality.get(e.model_id),
        cheapest_hosted=offers[0] if offers else None,
        estimate=e,
    )


def _model_name(model: Model) -> str:
    return model.name or model.id.split("/", 1)[-1]



def _pick(row: FitRow, reason: str) -> SummaryPick:
    e = row.estimate
    return SummaryPick(
        model_id=row.model_id,
        model_name=row.model_name,
        quant=e.quant,
        verdict=e.verdict,
        decode_tokens_per_s=e.decode_tokens_per_s,
        ttft_s=e.ttft_s,
        needed_bytes=e.memory.total_bytes,
        quality=row.quality,
        reason=reason,
    )


def _summary(
    rows: tuple[FitRow, ...],
    info: MachineInfo,
    catalog: Catalog,
    quality: dict[str, Quality],
    hosted: dict[str, tuple[HostedRow, ...]],
    models_by_id: dict[str, Model],
) -> Summary:
    from rigcheck import units

    per_model = one_row_per_model(rows)
    # A model runs well when any quant of it is usable: the best quant when it is, else the
    # highest-quality (largest) usable one, e.g. a smaller quant that keeps decode above the bar.
    usable_rows = usable_by_model(rows)
    well = [usable_rows.get(r.model_id, r) for r in per_model if r.model_id in usable_rows]
    runs_well = tuple(
        _pick(
            r,
            f"{units.verdict_place(r.estimate.verdict)}, {units.rate_text(r.estimate.decode_tokens_per_s.expected)} tok/s",
        )
        for r in well[:SUMMARY_PICKS]
    )
    capacity = info.vram_total_bytes + (0 if _all_unified(info) else info.memory.total_bytes)
    cannot = []
    for r in per_model:
        e = r.estimate
        if r.model_id in usable_rows:
            continue
        if not e.fits:
            reason = f"needs {units.bytes_text(e.memory.total_bytes)} at {e.quant}; has {units.bytes_text(capacity)}"
        else:
            decode = e.decode_tokens_per_s.expected if e.decode_tokens_per_s else None
            reason = f"fits ({units.verdict_place(e.verdict)}) but only {units.rate_text(decode)} tok/s"
            if decode is not None and decode >= USABLE_DECODE_TOKENS_PER_S and e.ttft_s is not None:
                reason = f"fits but first token after {units.seconds_text(e.ttft_s.expected)}"
        cannot.append(_pick(r, reason))
        if len(cannot) >= SUMMARY_PICKS:
            break
    # The best hosted alternative: the highest-quality model this machine cannot run well that has a
    # hosted offer, at its cheapest provider.
    best_hosted = best_name = best_reason = None
    usable_ids = {r.model_id for r in well}
    for r in per_model:
        if r.model_id in usable_ids or not hosted.get(r.model_id):
            continue
        best_hosted = hosted[r.model_id][0]
        best_name = r.model_name
        best_reason = "the most capable model this machine cannot run at usable speed"
        break
    if best_hosted is None and per_model:
        top = next((r for r in per_model if hosted.get(r.model_id)), None)
        if top is not None:
            best_hosted, best_name = hosted[top.model_id][0], top.model_name
            best_reason = "the most capable catalog model with a hosted offer"
    n_fit = sum(1 for r in per_model if r.estimate.fits)
    headline = (
        f"{info.label} runs {len(well)} of {len(per_model)} catalog models at usable speed "
        f"(≥ {USABLE_DECODE_TOKENS_PER_S:.0f} tok/s decode); {n_fit} fit in memory."
    )
    return Summary(headline, runs_well, tuple(cannot), best_hosted, best_name, best_reason)



def _all_unified(info: MachineInfo) -> bool:
    usable = [g for g in info.gpus if not g.lost]
    return bool(usable) and all(g.unified_memory for g in usable)


def _capacities(info: MachineInfo) -> tuple[int, int]:
    if _all_unified(info):
        return info.vram_total_bytes, 0
    return info.vram_total_bytes, info.memory.total_bytes


def _default_selection(rows: tuple[FitRow, ...], info: MachineInfo) -> list[str]:
    """The few most capable models that fit, plus the most capable one that nearly fits."""
    per_model = one_row_per_model(rows)
    chosen = [r.model_id for r in per_model if r.estimate.fits][:DEFAULT_SELECTED]
    gpu, ram = _capacities(info)
    for r in per_model:
        if not r.estimate.fits and r.estimate.memory.total_bytes <= NEARLY_FITS_FACTOR * (gpu + ram):
            chosen.append(r.model_id)
            break
    return chosen


def _detail(
    model: Model,
    rows: tuple[FitRow, ...],
    machine: Machine,
    info: MachineInfo,
    catalog: Catalog,
    settings: Settings,
    engine: Engine,
    quality: dict[str, Quality],
    hosted: dict[str, tuple[HostedRow, ...]],
) -> ModelDetail:
    from rigcheck import units

    quants = tuple(
        sorted(
            (r.estimate for r in rows if r.model_id == model.id),
            key=lambda e: -e.memory.weights_bytes,
        )
    )
    best = next((e for e in quants if e.best and e.fits), None)
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
    gpu_cap, ram_cap = _capacities(info)
    return ModelDetail(
        model_id=model.id,
        model_name=_model_name(model),
        facts=tuple(facts),
        quality=quality.get(model.id),
        quants=quants,
        best_quant=best.quant if best else None,
        speed_quant=speed_est.quant if speed_est is not None and points else None,
        speed_vs_context=tuple(points),
        hosted=hosted.get(model.id, ()),
        gpu_capacity_bytes=gpu_cap,
        ram_capacity_bytes=ram_cap,
    )


def _params_text(model: Model) -> str:
    from rigcheck import units

    total, active = model.params_total_b, model.params_active_b
    if model.is_moe and total and active and active < total:
        return f"{units.params_text(total)} total, {units.params_text(active)} active (MoE, {model.moe_num_experts} experts)"
    return units.params_text(total)


def _plan_candidates(details: tuple[ModelDetail, ...]) -> list[str]:
    """Selected models this machine cannot run on its GPU(s) alone: worth a plan."""
    out = []
    for d in details:
        best = next((e for e in d.quants if e.quant == d.best_quant), None)
        if best is None or best.verdict in ("gpu+ram", "cpu"):
            out.append(d.model_id)
    return out


def _plan_section(model: Model, machine: Machine, catalog: Catalog, settings: Settings, engine: Engine) -> PlanSection:
    notes = []
    options: tuple[PlanOption, ...] = ()
    quant = settings.quant
    if engine.plan is not None:
        quant, found = engine.plan(model, settings.quant, settings, catalog)
        options = tuple(found)
    else:
        notes.append(engine.unavailable.get("planner", "the planner is not available in this build"))
    advice: tuple[str, ...] = ()
    if engine.upgrade is not None:
        advice = tuple(engine.upgrade(machine, model, settings, catalog))
    return PlanSection(
        model_id=model.id,
        model_name=_model_name(model),
        quant=quant,
        options=options,
        advice=advice,
        note="; ".join(notes) or None,
    )


def _cell(row: FitRow | None) -> FleetCell | None:
    if row is None or not row.estimate.fits:
        return None
    e = row.estimate
    return FleetCell(e.quant, e.verdict, e.decode_tokens_per_s, row.usable)


def _fleet(
    reports: list[MachineReport],
    machines: Sequence[Machine],
    catalog: Catalog,
    settings: Settings,
    engine: Engine,
    target_model_id: str | None,
    models_by_id: dict[str, Model],
) -> FleetSection:
    # Each cell shows the quant to use there: a usable one when any is, else the best that fits.
    per_machine = [{**{r.model_id: r for r in rep.model_rows}, **usable_by_model(rep.rows)} for rep in reports]
    # Rows: the most capable models that at least one machine runs, then the target if missing.
    union: dict[str, FitRow] = {}
    for rep in reports:
        for r in rep.model_rows:
            if r.estimate.fits and r.model_id not in union:
                union[r.model_id] = r
    ordered = sorted(union.values(), key=lambda r: (*quality_key(r), r.model_id))[:FLEET_ROWS]
    ids = [r.model_id for r in ordered]
    if target_model_id and target_model_id not in ids:
        ids.insert(0, target_model_id)
    rows = []
    for mid in ids:
        model = models_by_id[mid]
        some = next((pm[mid] for pm in per_machine if mid in pm), None)
        rows.append(
            FleetRow(
                model_id=mid,
                model_name=_model_name(model),
                quality=some.quality if some else None,
                cells=tuple(_cell(pm.get(mid)) for pm in per_machine),
            )
        )
    targets: list[FleetTarget] = []
    if target_model_id:
        model = models_by_id[target_model_id]
        for rep, machine, pm in zip(reports, machines, per_machine, strict=True):
            cell = _cell(pm.get(target_model_id))
            if cell is not None and cell.usable:
                targets.append(FleetTarget(rep.machine.label, cell, (), "already runs it at usable speed"))
                continue
            if engine.upgrade is None:
                why = engine.unavailable.get("planner", "upgrade advice is not available in this build")
                targets.append(FleetTarget(rep.machine.label, cell, (), why))
                continue
            advice = tuple(engine.upgrade(machine, model, settings, catalog))
            targets.append(FleetTarget(rep.machine.label, cell, advice, None if advice else "no upgrade found"))
    return FleetSection(
        machine_labels=tuple(rep.machine.label for rep in reports),
        rows=tuple(rows),
        target_model_id=target_model_id,
        target_model_name=_model_name(models_by_id[target_model_id]) if target_model_id else None,
        targets=tuple(targets),
    )


def _title(reports: list[MachineReport]) -> str:
    if len(reports) == 1:
        return f"Machine report: {reports[0].machine.label}"
    return f"Fleet report: {len(reports)} machines"


def _assumptions(settings: Settings, engine: Engine) -> tuple[str, ...]:
    from rigcheck import units

    lines = [
        f"Context reserved: {units.tokens_text(settings.context_tokens)} tokens (capped at each model's maximum); "
        f"prompt for prefill and time to first token: {units.tokens_text(settings.prompt_tokens)} tokens; "
        f"decode speed is at that depth, batch 1.",
        f"KV cache type: {settings.kv_cache_type}; memory sized against "
        f"{'total' if settings.memory_basis == 'total' else 'free'} memory"
        f"{'' if settings.runtime is None else f'; runtime {settings.runtime}'}"
        f"{'' if settings.quant is None else f'; only quant {settings.quant}'}.",
        "Speeds are estimates from memory bandwidth and compute rooflines with calibrated efficiencies, "
        "not measurements; the band (low–high) is where the real figure is expected to fall. The "
        "estimator's error against published measurements is what `rigcheck validate` reports (see the README).",
        f"Usable speed: at least {USABLE_DECODE_TOKENS_PER_S:.0f} tok/s decode and a first token within "
        f"{USABLE_TTFT_S:.0f} s.",
        "Quality: published scores (AA index, SWE-bench Verified, Aider polyglot, Terminal-Bench 2); models "
        "are ordered by their mean percentile over the benchmarks they have, unscored models after, by size.",
        f"Hosted prices: list prices per million tokens; the blended figure assumes "
        f"{INPUT_SHARE * 100:.0f} % input and {(1 - INPUT_SHARE) * 100:.0f} % output tokens.",
        "Memory sizes are binary (1 GiB = 2^30 bytes); bandwidth is decimal (1 GB/s = 10^9 bytes/s).",
    ]
    for part, why in sorted(engine.unavailable.items()):
        lines.append(f"Not included — {part}: {why}.")
    return tuple(lines)


def finite(value: float | None) -> float | None:
    """None for NaN/inf so JSON stays valid."""
    if value is None or not math.isfinite(value):
        return None
    return value
