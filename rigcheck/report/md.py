"""The report as Markdown (GitHub-flavoured tables): the same sections as HTML, charts as tables.

Every string from the catalog, a feed or a profile is written through ``_t`` (inline text) or ``_esc`` (a table
cell): Markdown's punctuation and HTML's ``<``, ``>`` and ``&`` are backslash-escaped, so a model name holding
``<script>``, ``[a link](javascript:...)``, ``![](http://tracker)`` or a ``|`` is shown as the characters it is,
never as markup. Identifiers go in code spans through ``_code``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rigcheck import units
from rigcheck.catalog.redact import escape_controls
from rigcheck.report.details import measured_lines
from rigcheck.report.records import (
    PLAN_WHY_HEADING,
    Capability,
    FleetCell,
    HostedRow,
    MachineReport,
    ModelDetail,
    PlanSection,
    ReportData,
    fit_table_rows,
)

_SPECIAL = re.compile(r"([\\`*\[\]<>|~&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
"""Markdown's inline punctuation and HTML's ``< > &``; an underscore only where it could start or end emphasis
(inside a word, as in Q4_K_M, it cannot)."""
_SPACES = re.compile(r"\s+")


class _Markup(str):
    """Text that is already Markdown (a code span): a table cell escapes only its pipes."""


def _t(value: object) -> str:
    """Inline text from data: Markdown punctuation and ``< > &`` backslash-escaped, line breaks flattened,
    control characters written as ``\\uXXXX`` (a report read with ``cat`` must not drive the terminal)."""
    return escape_controls(_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", str(value))))


def _code(value: object) -> _Markup:
    """An identifier as a code span, fenced by more backticks than it holds (so it cannot close the span)."""
    text = escape_controls(_SPACES.sub(" ", str(value)))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return _Markup(f"{fence} {text} {fence}" if text.startswith("`") or text.endswith("`") else f"{fence}{text}{fence}")


def _esc(value: object) -> str:
    """A table cell: escaped as inline text (``_t``), pipes too; empty as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, _Markup):
        return value.replace("|", "\\|")
    return _t(value)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    lines = ["| " + " | ".join(_esc(h) for h in head) + " |"]
    lines.append("|" + "|".join("---:" if i in numeric else "---" for i in range(len(head))) + "|")
    body = [("| " + " | ".join(_esc(c) for c in row) + " |") for row in rows]
    if not body:
        body = ["| none |" + " |" * (len(head) - 1)]  # an empty table still says so
    return "\n".join(lines + body) + "\n"


def _q(c: Capability | None) -> str:
    """Capability with the benchmarks it rests on: "81 (Aider polyglot)"."""
    return "—" if c is None else f"{units.capability_text(c.value)} ({', '.join(c.benchmarks)})"


def _price(h: HostedRow | None, provider: bool = True) -> str | None:
    """"$0.13/M ($0.10 in / $0.22 out) provider": the blended price beside the two it blends."""
    if h is None:
        return None
    text = units.price_triple_text(h.usd_per_m_blended, h.usd_per_m_input, h.usd_per_m_output)
    return f"{text} {h.provider}" if provider else text


def render(report: ReportData) -> str:
    out: list[str] = [f"# {_t(report.title)}", ""]
    out.append(
        f"Generated {report.generated_at} by rigcheck {report.app_version} · catalog #{report.catalog.sequence} "
        f"of {_t(report.catalog.generated_at)} · "
        f"{report.context_text()}, KV "
        f"{report.settings.kv_cache_type}"
    )
    out.append("")
    if report.fleet is not None:
        _fleet(out, report)
        for mr in report.machines:
            _summary(out, mr, f"{mr.machine.label}: summary")
            _inventory(out, mr)
            _fit(out, mr, short=True)
    else:
        mr = report.machines[0]
        _summary(out, mr, "Summary")
        _inventory(out, mr)
        _fit(out, mr, short=False)
        for d in mr.details:
            _detail(out, d)
        if mr.plans:
            _plans(out, mr.plans)
    _assumptions(out, report)
    return "\n".join(out).rstrip() + "\n"


def _summary(out: list[str], mr: MachineReport, heading: str) -> None:
    s = mr.summary
    out += [f"## {_t(heading)}", ""]
    if s.answer:
        out += [f"> **{_t(s.answer)}**", ""]
    out += [f"**{_t(s.headline)}**", "", "### Runs usably: this machine's picks", ""]
    out.append(
        _table(
            ["Model", "Pick", "Verdict", "Decode tok/s", "First token", "Capability"],
            (
                [p.model_name, p.quant, units.verdict_text(p.verdict), units.band_text(p.decode_tokens_per_s),
                 units.band_text(p.ttft_s, units.seconds_text), _q(p.capability)]
                for p in s.runs_well
            ),
            numeric=(3, 4),
        )
    )
    out += ["### Cannot run (or not usably)", ""]
    out.append(_table(["Model", "Quant", "Why", "Capability"],
                      ([p.model_name, p.quant, p.reason, _q(p.capability)] for p in s.cannot_run)))
    out += ["### Best hosted alternative", ""]
    h = s.best_hosted
    if h is None:
        out += ["No hosted offer in the catalog.", ""]
    else:
        out += [
            f"**{_t(s.best_hosted_model_name or h.model_id)}** at **{_t(h.provider)}**: {_price(h, provider=False)} — "
            f"{_t(s.best_hosted_reason or '')}.",
            "",
        ]


def _inventory(out: list[str], mr: MachineReport) -> None:
    m = mr.machine
    out += [f"## Machine inventory — {_t(m.label)}", ""]

    def src(sources: dict[str, str], key: str) -> str:
        return f" ({sources[key]})" if key in sources else ""

    out.append(
        _table(
            ["#", "GPU", "VRAM", "Bandwidth", "PCIe link", "Power limit", "Driver", "UUID", "Serial"],
            (
                [
                    g.index,
                    g.name + (" (lost)" if g.lost else "") + (" (unified memory)" if g.unified_memory else ""),
                    units.bytes_text(g.vram_total_bytes if g.vram_total_bytes is not None else g.gpu_usable_memory_bytes)
                    + src(g.sources, "vram_total_bytes"),
                    units.bandwidth_text(g.memory_bandwidth_bytes_per_s) + src(g.sources, "memory_bandwidth_bytes_per_s"),
                    (g.pcie_link or "—") + src(g.sources, "pcie_link"),
                    units.watts_text(g.power_limit_w),
                    " / CUDA ".join(x for x in (g.driver_version, g.cuda_version) if x) or None,
                    _code(g.uuid) if g.uuid else None,
                    _code(g.serial) if g.serial else None,
                ]
                for g in m.gpus
            ),
            numeric=(0, 2, 3, 5),
        )
    )
    c, mem = m.cpu, m.memory
    cores = f"{c.physical_cores or '?'} cores / {c.logical_cores or '?'} threads" if (c.physical_cores or c.logical_cores) else None
    rows = [
        ("CPU", (c.model or "—") + src(c.sources, "model")),
        ("Cores", cores),
        ("Architecture / ISA", f"{c.architecture or '—'}; {', '.join(c.isa_flags) or '—'}"),
        ("RAM", units.bytes_text(mem.total_bytes) + (f" {mem.ram_type}" if mem.ram_type else "") + src(mem.sources, "total_bytes")),
        ("RAM bandwidth", units.bandwidth_text(mem.bandwidth_bytes_per_s) + src(mem.sources, "bandwidth_bytes_per_s")),
        ("OS", " ".join(x for x in (m.os_name, m.os_version) if x) or None),
        ("Host", m.hostname),
        ("Disk free", units.bytes_text(m.disk_free_bytes) + (f" on {m.disk_path}" if m.disk_path else "")),
        ("Described", units.origin_text(m.origin) + (f", probed {m.probed_at}" if m.probed_at else "")),
    ]
    out.append(_table(["Item", "Value"], rows))
    missing = [f"GPU {g.index} {k}: {v}" for g in m.gpus for k, v in sorted(g.unavailable.items())]
    missing += [f"{b.name} backend: {b.reason}" for b in m.backends if not b.available and b.reason]
    if missing:
        out += ["Not readable on this machine:", ""] + [f"- {_t(x)}" for x in missing] + [""]


def _fit(out: list[str], mr: MachineReport, *, short: bool) -> None:
    out += [f"## Fit table — {_t(mr.machine.label)}", ""]
    rows, omitted = fit_table_rows(mr, fleet=short)
    out.append(
        _table(
            ["Model", "Params", "Pick", "Verdict", "Usable", "Memory", "Max ctx", "Prefill tok/s", "Decode tok/s",
             "First token", "Capability", "Hosted $/M blended (in / out)"],
            (
                [
                    r.model_name,
                    units.params_text(r.params_total_b),
                    r.estimate.quant,
                    units.verdict_text(r.estimate.verdict),
                    "yes" if r.usable else "no",
                    units.bytes_text(r.estimate.memory.total_bytes),
                    units.tokens_text(r.estimate.max_context_tokens),
                    units.band_text(r.estimate.prefill_tokens_per_s),
                    units.band_text(r.estimate.decode_tokens_per_s),
                    units.band_text(r.estimate.ttft_s, units.seconds_text),
                    _q(r.capability),
                    _price(r.cheapest_hosted),
                ]
                for r in rows
            ),
            numeric=(1, 5, 6, 7, 8, 9, 10),
        )
    )
    if omitted:
        out += [f"The {len(rows)} most capable are shown; {omitted} more are in the CSV and JSON reports.", ""]


def _detail(out: list[str], d: ModelDetail) -> None:
    out += [f"## Model: {_t(d.model_name)}", "",
            f"{_code(d.model_id)} — " + "; ".join(f"{_t(k)}: {_t(v)}" for k, v in d.facts), ""]
    out += ["### Every quant on this machine", ""]
    out.append(
        _table(
            ["Quant", "Verdict", "Weights", "KV cache", "Overhead", "Total", "GPU / RAM", "Max ctx", "Prefill tok/s",
             "Decode tok/s", "First token"],
            (
                [
                    e.quant + (" ★" if e.quant == d.best_quant else ""),
                    units.verdict_text(e.verdict),
                    units.bytes_text(e.memory.weights_bytes),
                    units.bytes_text(e.memory.kv_cache_bytes),
                    units.bytes_text(e.memory.overhead_bytes),
                    units.bytes_text(e.memory.total_bytes),
                    f"{units.bytes_text(e.memory.gpu_bytes)} / {units.bytes_text(e.memory.ram_bytes)}" if e.fits else None,
                    units.tokens_text(e.max_context_tokens),
                    units.band_text(e.prefill_tokens_per_s),
                    units.band_text(e.decode_tokens_per_s),
                    units.band_text(e.ttft_s, units.seconds_text),
                ]
                for e in d.quants
            ),
            numeric=tuple(range(2, 11)),
        )
    )
    out.append(
        f"Machine capacity: {units.bytes_text(d.gpu_capacity_bytes)} VRAM"
        + (f" + {units.bytes_text(d.ram_capacity_bytes)} RAM" if d.ram_capacity_bytes else "")
        + "".join(f"; {name} {units.bytes_text(cap)}" for name, cap in units.memory_limits(d.quants,
                                                                                             d.unified_memory))
        + " (what the verdicts were checked against; Total includes the overheads). ★ = this machine's pick.\n"
    )
    if d.speed_vs_context:
        out += [f"### Speed vs context ({_t(d.speed_quant)})", ""]
        out.append(
            _table(
                ["Context", "Verdict", "Prefill tok/s", "Decode tok/s", "First token"],
                (
                    [units.tokens_text(p.context_tokens), units.verdict_text(p.verdict), units.band_text(p.prefill_tokens_per_s),
                     units.band_text(p.decode_tokens_per_s), units.band_text(p.ttft_s, units.seconds_text)]
                    for p in d.speed_vs_context
                ),
                numeric=(0, 2, 3, 4),
            )
        )
    best = next((e for e in d.quants if e.quant == (d.best_quant or d.speed_quant)), None)
    if d.launch:
        out += [f"### Run it ({_t(d.best_quant)})", ""]
        for cmd in d.launch:
            command = escape_controls(cmd.command)
            fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", command)), default=0) + 1)
            out += [f"{_t(cmd.runtime)}:", "", f"{fence}sh", command, fence, ""]
            out += [f"- {_t(n)}" for n in cmd.notes] + ([""] if cmd.notes else [])
    measured = [f"- {_t(e.quant)}: {_t(line)}" for e in d.quants for line in measured_lines(e)]
    if measured:
        out += ["### Measured on this machine", ""] + measured + [""]
    if best is not None and (best.basis or best.placement):
        out += ["### How the estimate was made", ""]
        if best.placement and not any(b.lower().startswith("placement") for b in best.basis):
            out.append(f"- Placement ({_t(best.quant)}): {_t(best.placement)}")
        out += [f"- {_t(b)}" for b in best.basis] + [""]
    out += ["### Hosted offers", ""]
    out.append(
        _table(
            ["Provider", "Blended", "$/M input", "$/M output", "Context", "Residency", "Seen"],
            (
                [h.provider, units.usd_per_m_text(h.usd_per_m_blended), units.usd_text(h.usd_per_m_input),
                 units.usd_text(h.usd_per_m_output),
                 units.tokens_text(h.context_tokens), h.residency + (f" ({h.region})" if h.region else ""), h.date_seen]
                for h in d.hosted
            ),
            numeric=(1, 2, 3, 4),
        )
    )


def _plans(out: list[str], plans: Sequence[PlanSection]) -> None:
    out += ["## What it would take: the planner's recommendations", ""]
    for p in plans:
        out += [f"### {_t(p.model_name)}" + (f" at {_t(p.quant)}" if p.quant else ""), ""]
        if p.note:
            out += [f"_{_t(p.note)}_", ""]
        if p.options:
            out.append(
                _table(
                    ["Configuration", "Meets target", "Buy", "Rent $/h", "$/M out rented", "$/M out owned",
                     "Power", "Decode tok/s", PLAN_WHY_HEADING],
                    (
                        [o.label, "yes" if o.meets_target else "no", units.usd_text(o.purchase_usd, 0),
                         units.usd_text(o.rental_usd_per_hour), units.usd_text(o.usd_per_m_output_rented),
                         units.usd_text(o.usd_per_m_output_owned), units.watts_text(o.power_w),
                         units.band_text(o.decode_tokens_per_s), o.why]
                        for o in p.options
                    ),
                    numeric=(2, 3, 4, 5, 6, 7),
                )
            )
        if p.advice:
            out += ["Upgrade this machine:", ""] + [f"- {_t(a)}" for a in p.advice] + [""]


def _cell(c: FleetCell | None) -> str:
    if c is None:
        return "✗"
    speed = units.rate_text(c.decode_tokens_per_s.expected) if c.decode_tokens_per_s else "—"
    return f"{c.quant}, {speed} tok/s" + ("" if c.usable else " (not usable)")


def _fleet(out: list[str], report: ReportData) -> None:
    f = report.fleet
    assert f is not None
    out += ["## Fleet: which machines run which models", ""]
    out.append(
        f"Each cell: the machine's pick and its expected decode speed; (not usable) = "
        f"not {report.settings.usable.describe()}; ✗ = does not fit.\n"
    )
    out.append(_table(["Model", "Capability", *f.machine_labels],
                      ([r.model_name, _q(r.capability), *(_cell(c) for c in r.cells)] for r in f.rows)))
    if f.target_model_id:
        out += [f"### Bringing the fleet to {_t(f.target_model_name or f.target_model_id)}", ""]
        out.append(
            _table(
                ["Machine", "Now", "What to buy"],
                ([t.label, _cell(t.cell), "; ".join(t.advice) or t.note] for t in f.targets),
            )
        )


def _assumptions(out: list[str], report: ReportData) -> None:
    c = report.catalog
    out += ["## Assumptions, versions and sources", ""]
    out += [f"- {_t(a)}" for a in report.assumptions] + [""]
    age = units.age_days_text(c.age_days)
    out.append(
        _table(
            ["Item", "Value"],
            [
                ("Catalog", f"schema {c.schema_version}, sequence {c.sequence}, generated {c.generated_at} ({age})"),
                ("Catalog source", c.source or "embedded"),
                ("Catalog contents", f"{c.models} models, {c.devices} devices, {c.hosted_offers} hosted offers"),
                ("App", f"rigcheck {report.app_version}"),
                ("Report generated", report.generated_at),
                ("Report schema", report.schema),
            ],
        )
    )
    if c.warnings:
        out += ["Catalog warnings:", ""] + [f"- {_t(w)}" for w in c.warnings] + [""]
