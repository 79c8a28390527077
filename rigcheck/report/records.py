"""The report's records: what a ``ReportData`` holds, in base units.

Builder, adapters and every renderer read these; nothing here computes a section or formats a number. What is
usable, which row speaks for a model and how models are ordered are the rules' (``rigcheck.estimate.rules``),
applied by the estimator with the report's settings: the report keeps no threshold of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from rigcheck.estimate.rules import rank_key
from rigcheck.estimate.types import Band, Estimate, Settings

REPORT_SCHEMA = "rigcheck.report/2"
"""2: one capability per model (``rules.capabilities``) in place of a representative score ("quality"); hosted
prices blended by the rules (``usd_per_m_blended``); the summary's one-line answer and catalog counts."""
FIT_TABLE_ROWS = 150
"""The most models a machine report's fit table shows in Markdown, HTML and PDF (in the rules' order): the
embedded catalog fits whole, a catalog of thousands keeps a readable report; CSV and JSON list every model."""
FLEET_FIT_TABLE_ROWS = 25
"""The most models each machine's fit table shows in a fleet report (the first that fit)."""

# --------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as the procurement inventory lists it; ``sources`` says where each figure came from."""

    index: int
    name: str
    vendor: str
    vram_total_bytes: int | None
    memory_bandwidth_bytes_per_s: float | None
    pcie_link: str | None
    """``"PCIe 4.0 x16"`` (the maximum the card and slot negotiate), or None when unreadable."""
    driver_version: str | None
    cuda_version: str | None
    uuid: str | None
    serial: str | None
    pci_bus_id: str | None
    power_limit_w: float | None
    compute_capability: str | None
    unified_memory: bool
    gpu_usable_memory_bytes: int | None
    lost: bool
    sources: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CpuInfo:
    model: str | None
    vendor: str | None
    architecture: str | None
    physical_cores: int | None
    logical_cores: int | None
    max_clock_mhz: float | None
    isa_flags: tuple[str, ...]
    sources: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MemoryInfo:
    total_bytes: int
    available_bytes: int | None
    ram_type: str | None
    ram_speed_mhz: int | None
    bandwidth_bytes_per_s: float | None
    swap_total_bytes: int | None
    sources: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BackendInfo:
    name: str
    available: bool
    reason: str | None
    device_count: int


@dataclass(frozen=True)
class MachineInfo:
    """The machine inventory: everything a purchaser needs to identify and compare the box."""

    label: str
    origin: str
    hostname: str | None
    os_name: str | None
    os_version: str | None
    probed_at: str | None
    disk_free_bytes: int | None
    disk_path: str | None
    gpus: tuple[GpuInfo, ...]
    cpu: CpuInfo
    memory: MemoryInfo
    backends: tuple[BackendInfo, ...]
    vram_total_bytes: int
    """Dedicated VRAM of the usable GPUs, summed (unified-memory GPUs count their GPU-usable share)."""
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Capability:
    """A model's capability (``rules.capabilities``: 0-100) and what it rests on."""

    value: float
    basis: str
    """Each benchmark's score and its share of the best: "Aider polyglot 71.6 (81 % of the best, 88.0)"."""
    benchmarks: tuple[str, ...]
    """The benchmarks it is made of, by label."""


@dataclass(frozen=True)
class HostedRow:
    model_id: str
    provider: str
    usd_per_m_input: float
    usd_per_m_output: float
    usd_per_m_blended: float
    """``rules.blended_usd_per_m`` at the settings' ratio: the same figure ``hosted --json`` and ``fit --json`` give."""
    context_tokens: int | None
    quantization: str | None
    residency: str
    region: str | None
    no_training: bool | None
    date_seen: str | None
    source: str | None


@dataclass(frozen=True)
class FitRow:
    """One model x quant of the fit table, with what the table shows beside the estimate."""

    model_id: str
    model_name: str
    params_total_b: float | None
    params_active_b: float | None
    capability: Capability | None
    cheapest_hosted: HostedRow | None
    estimate: Estimate

    @property
    def usable(self) -> bool:
        """Fits, and decodes and answers fast enough for the settings' thresholds (``rules``, via the estimator)."""
        return self.estimate.usable


@dataclass(frozen=True)
class SummaryPick:
    model_id: str
    model_name: str
    quant: str
    verdict: str
    decode_tokens_per_s: Band | None
    ttft_s: Band | None
    needed_bytes: int
    capability: Capability | None
    reason: str


@dataclass(frozen=True)
class Summary:
    headline: str
    runs_well: tuple[SummaryPick, ...]
    cannot_run: tuple[SummaryPick, ...]
    best_hosted: HostedRow | None
    best_hosted_model_name: str | None
    best_hosted_reason: str | None
    answer: str = ""
    """One line: "To run X at 32k context at ≥ 10 tok/s: buy A ($), rent B ($/h), or use hosted C ($/M blended)"."""
    catalog_models: int = 0
    """Models in the catalog; ``usable_models`` + the rest always add up to it."""
    usable_models: int = 0
    fitting_models: int = 0
    unestimated_models: int = 0
    """Catalog models the estimator could not size (no parameter count or architecture)."""


@dataclass(frozen=True)
class ContextPoint:
    context_tokens: int
    prefill_tokens_per_s: Band | None
    decode_tokens_per_s: Band | None
    ttft_s: Band | None
    verdict: str


@dataclass(frozen=True)
class ModelDetail:
    """A selected model: every quant on this machine, speed against context, hosted offers."""

    model_id: str
    model_name: str
    facts: tuple[tuple[str, str], ...]
    """(label, value) lines: parameters, architecture, license, release date, maximum context."""
    capability: Capability | None
    quants: tuple[Estimate, ...]
    best_quant: str | None
    speed_quant: str | None
    """The quant the speed-vs-context curve is for (the best that fits, else the smallest)."""
    speed_vs_context: tuple[ContextPoint, ...]
    hosted: tuple[HostedRow, ...]
    gpu_capacity_bytes: int
    ram_capacity_bytes: int
    launch: tuple = ()
    """``estimate.launch.LaunchCommand`` records that run the best quant as estimated, one per runtime."""

    @property
    def unified_memory(self) -> bool:
        """The GPU shares RAM: ``inventory.capacities`` counts no RAM beside the GPU's."""
        return self.ram_capacity_bytes == 0 and self.gpu_capacity_bytes > 0


@dataclass(frozen=True)
class PlanOption:
    """One configuration the planner considered, with its prices and why it fails when it does."""

    label: str
    meets_target: bool
    purchase_usd: float | None = None
    rental_usd_per_hour: float | None = None
    usd_per_m_output_rented: float | None = None
    """$ per million output tokens renting this configuration, at full utilization."""
    usd_per_m_output_owned: float | None = None
    """$ per million output tokens owning it (purchase amortised, power), at full utilization."""
    power_w: float | None = None
    decode_tokens_per_s: Band | None = None
    ttft_s: Band | None = None
    why: str | None = None
    """For an option that meets the target, its quant and how the model is split ("IQ4_XS, layer split
    (llama.cpp)"); for one that does not, why not. Every format heads the column ``PLAN_WHY_HEADING``."""


PLAN_WHY_HEADING = "Quant and split, or why not"
"""The heading of ``PlanOption.why``'s column in every report format (md, html, so pdf)."""


@dataclass(frozen=True)
class PlanSection:
    """The planner's answer for one model: configurations that meet the target, and upgrade advice."""

    model_id: str
    model_name: str
    quant: str | None
    options: tuple[PlanOption, ...]
    advice: tuple[str, ...]
    note: str | None = None
    """Why the section is short or empty (planner not available, model has no quant, ...)."""


@dataclass(frozen=True)
class CatalogInfo:
    schema_version: str
    sequence: int
    generated_at: str
    source: str | None
    age_days: float | None
    """Days since ``generated_at`` (not rounded); the renderers write it as ``units.age_days_text`` ("4 days ago"),
    as ``catalog show`` and the status bar do."""
    models: int
    devices: int
    hosted_offers: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class MachineReport:
    machine: MachineInfo
    summary: Summary
    rows: tuple[FitRow, ...]
    """Every model x quant that was evaluated, best quant of each model marked in its estimate."""
    details: tuple[ModelDetail, ...]
    plans: tuple[PlanSection, ...]

    @property
    def model_rows(self) -> tuple[FitRow, ...]:
        """One row per model: the row that speaks for it (its pick when it is usable); usable models first (a heavy-loss
        pick after those of 3 bits or more), then by capability (``rules.rank_key``)."""
        return one_row_per_model(self.rows)


@dataclass(frozen=True)
class FleetCell:
    quant: str
    verdict: str
    decode_tokens_per_s: Band | None
    usable: bool


@dataclass(frozen=True)
class FleetRow:
    model_id: str
    model_name: str
    capability: Capability | None
    cells: tuple[FleetCell | None, ...]
    """One per machine, in ``FleetSection.machine_labels`` order; None when no quant fits there."""


@dataclass(frozen=True)
class FleetTarget:
    label: str
    cell: FleetCell | None
    advice: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class FleetSection:
    machine_labels: tuple[str, ...]
    rows: tuple[FleetRow, ...]
    target_model_id: str | None
    target_model_name: str | None
    targets: tuple[FleetTarget, ...]
    """Per machine: how it runs the target model now and what to buy to get there."""


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, in base units; renderers only format and lay out."""

    generated_at: str
    app_version: str
    title: str
    settings: Settings
    catalog: CatalogInfo
    machines: tuple[MachineReport, ...]
    fleet: FleetSection | None
    assumptions: tuple[str, ...]
    schema: str = REPORT_SCHEMA

    @property
    def is_fleet(self) -> bool:
        return len(self.machines) > 1

    def context_text(self) -> str:
        """The context and prompt settings as the header writes them (``units.context_setting_text``, as ``fit``'s
        header does): "context 8k, prompt 4k", or that each model is capped at its maximum when every one is."""
        from rigcheck import units

        longest = max((r.estimate.context_tokens for m in self.machines for r in m.rows), default=None)
        return units.context_setting_text(self.settings.context_tokens, self.settings.prompt_tokens, longest)



# --------------------------------------------------------------------------------------------- rows


def rank(row: FitRow) -> tuple[float, float, float]:
    """The rules' order (``rules.rank_key``): usable at 3 bits or more first, then usable only at a heavy-loss quant,
    then the rest; by capability within each, unscored after, larger first."""
    return rank_key(row.usable, row.capability.value if row.capability else None,
                    row.params_total_b, row.estimate.bits_per_weight)


def one_row_per_model(rows: Iterable[FitRow]) -> tuple[FitRow, ...]:
    """Per model, the row that speaks for it: the one the estimator marked best (its pick, else the row closest to
    usable), else the smallest (a model none of whose quants runs), in the rules' order."""
    by_model: dict[str, list[FitRow]] = {}
    for r in rows:
        by_model.setdefault(r.model_id, []).append(r)
    chosen = []
    for group in by_model.values():
        best = [r for r in group if r.estimate.best]
        chosen.append(best[0] if best else min(group, key=lambda r: r.estimate.memory.total_bytes))
    return tuple(sorted(chosen, key=lambda r: (*rank(r), r.model_id)))


def fit_table_rows(report: MachineReport, *, fleet: bool) -> tuple[tuple[FitRow, ...], int]:
    """The rows a Markdown, HTML or PDF fit table shows, and how many models it leaves out: one row per model in
    the rules' order, at most ``FIT_TABLE_ROWS`` (a fleet report: the first ``FLEET_FIT_TABLE_ROWS`` that fit)."""
    rows = report.model_rows
    if fleet:
        rows = tuple(r for r in rows if r.estimate.fits)
    limit = FLEET_FIT_TABLE_ROWS if fleet else FIT_TABLE_ROWS
    return rows[:limit], max(0, len(rows) - limit)


def fleet_rows(rows: Iterable[FitRow], per_model: Iterable[FitRow] | None = None) -> tuple[FitRow, ...]:
    """What a fleet report keeps of one machine's evaluation: the row that speaks for each model (what the
    summary, the fit table and the fleet matrix show), not every quant, as a settled ``Estimate`` without basis
    lines. A fleet of a thousand machines then holds one row per model per machine, and nothing of each machine's
    estimator (the estimator's rows work their details out on first read, from the estimator's per-model state,
    which would otherwise stay alive with them). A fleet report shows no basis lines; a machine's own report
    does. ``per_model``: ``one_row_per_model(rows)`` when the caller has it."""
    kept = one_row_per_model(rows) if per_model is None else per_model
    return tuple(dataclasses.replace(r, estimate=settled(r.estimate, basis=False)) for r in kept)


_ESTIMATE_FIELDS = tuple(f.name for f in dataclasses.fields(Estimate) if f.name != "basis")


def settled(e: Estimate, *, basis: bool = True) -> Estimate:
    """A plain ``Estimate`` with every field worked out: no reference left to the estimator that made it.
    Without ``basis`` its basis lines are left out (the costliest part to work out, and the largest to keep)."""
    return Estimate(**{name: getattr(e, name) for name in _ESTIMATE_FIELDS}, basis=e.basis if basis else ())
