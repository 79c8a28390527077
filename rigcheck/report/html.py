"""The report as one standalone HTML page: inline CSS, charts as inline SVG, no script, no external file.

The same markup, in its ``for_qt`` flavour, feeds QTextDocument for the PDF: there the charts are
``<img>`` references to rasterised SVG resources and the CSS keeps to what Qt's rich text supports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from rigcheck import units
from rigcheck.report.charts import WIDTH as CHART_WIDTH
from rigcheck.report.charts import memory_chart, speed_chart
from rigcheck.report.details import measured_lines
from rigcheck.report.records import (
    PLAN_WHY_HEADING,
    Capability,
    FitRow,
    FleetCell,
    FleetSection,
    HostedRow,
    MachineReport,
    ModelDetail,
    PlanSection,
    ReportData,
    fit_table_rows,
)

FLEET_COLUMNS = 5

_CSS_WEB = """
body{font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#222;max-width:1100px;margin:24px auto;
padding:0 16px;line-height:1.4}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;border-bottom:2px solid #3b6ea8;padding-bottom:3px;
margin-top:32px}h3{font-size:16px;margin:20px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #d5d9de;padding:3px 7px;vertical-align:top}
th{background:#eef2f6;text-align:left}td.n,th.n{text-align:right;white-space:nowrap}
.meta,.small,.band{color:#66707a;font-size:12px}
nav{font-size:13px;margin:8px 0 0}nav a{margin-right:12px;color:#3b6ea8}
.ok{color:#1e7b43;font-weight:bold}.warn{color:#a86500;font-weight:bold}.bad{color:#b0302a;font-weight:bold}
.mono{font-family:Menlo,Consolas,monospace;font-size:12px}
.headline{font-size:16px;background:#f4f7fa;border-left:4px solid #3b6ea8;padding:8px 12px}
.chart{margin:8px 0 14px}ul{margin:4px 0 10px}td.c,th.c{font-size:12px}
@media print{h2{page-break-before:always}h2.first{page-break-before:avoid}}
"""

# Qt rich text: a subset of CSS 2.1; sizes in pt because the PDF is laid out at the printer's DPI.
_CSS_QT = """
body{font-family:Helvetica,Arial,sans-serif;font-size:8.5pt;color:#222}
h1{font-size:17pt;margin-bottom:2pt}h2{font-size:13pt;color:#23466e;margin-top:12pt;margin-bottom:4pt}
h3{font-size:10.5pt;margin-top:10pt;margin-bottom:3pt}
table{border-collapse:collapse;margin-bottom:8pt}
th{background-color:#e8edf3;font-weight:bold;text-align:left}
th,td{border:0.5pt solid #c4cad1}
td.n,th.n{text-align:right}
td.c,th.c{font-size:7.5pt}
.meta,.small,.band{color:#66707a;font-size:7pt}
.ok{color:#1e7b43;font-weight:bold}.warn{color:#a86500;font-weight:bold}.bad{color:#b0302a;font-weight:bold}
.mono{font-family:Courier;font-size:7pt}
.headline{font-size:10.5pt;background-color:#f1f5f9}
.pb{page-break-before:always}
"""


class _Doc:
    """Accumulates markup; charts become inline SVG (web) or numbered image resources (Qt)."""

    def __init__(self, for_qt: bool) -> None:
        self.for_qt = for_qt
        self.parts: list[str] = []
        self.charts: dict[str, str] = {}
        self.h2_count = 0
        self.anchors: list[tuple[str, str]] = []
        self.breaks: list[int] = []
        """Where, in ``parts``, a section that starts a printed page begins (Qt only)."""

    def add(self, *parts: str) -> None:
        self.parts.extend(parts)

    def h2(self, text: str, anchor: str | None = None) -> None:
        # Every major section starts a page in print (PDF, and browsers' print); the first does not.
        self.h2_count += 1
        first = self.h2_count == 1
        cls = "first" if first else ""
        if self.for_qt and not first:
            cls = "pb"
            self.breaks.append(len(self.parts))
        ident = ""
        if anchor and not self.for_qt:
            taken = {a for a, _ in self.anchors}
            unique, n = anchor, 2
            while unique in taken:  # fleet reports repeat sections per machine
                unique, n = f"{anchor}-{n}", n + 1
            self.anchors.append((unique, text))
            ident = f' id="{escape(unique)}"'
        self.add(f'<h2 class="{cls}"{ident}>{escape(text)}</h2>')

    def chart(self, svg: str, name: str) -> None:
        if self.for_qt:
            key = f"chart-{len(self.charts)}-{name}"
            self.charts[key] = svg
            width, height = _svg_size(svg)
            self.add(f'<p><img src="rigcheck:{escape(key)}" width="{width}" height="{height}"></p>')
        else:
            self.add(f'<div class="chart">{svg}</div>')


def _svg_size(svg: str) -> tuple[int, int]:
    import re

    m = re.search(r'width="(\d+)" height="(\d+)"', svg)
    return (int(m.group(1)), int(m.group(2))) if m else (CHART_WIDTH, 240)


def render(report: ReportData) -> str:
    """The standalone HTML page."""
    markup, _ = render_document(report, for_qt=False)
    return markup


def render_document(report: ReportData, *, for_qt: bool) -> tuple[str, dict[str, str]]:
    """Markup and (for Qt) the charts it references as ``rigcheck:<key>`` -> SVG text."""
    d = _document(report, for_qt)
    return "\n".join(d.parts), d.charts


def qt_document_parts(report: ReportData) -> tuple[list[str], list[int], dict[str, str]]:
    """The Qt markup as its parts, where in them each section that starts a printed page begins, and the charts
    (``pdf`` lays each section out as a document of its own)."""
    d = _document(report, for_qt=True)
    return d.parts, d.breaks, d.charts


def _document(report: ReportData, for_qt: bool) -> _Doc:
    d = _Doc(for_qt)
    css = _CSS_QT if for_qt else _CSS_WEB
    d.add(
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title><style>{css}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
        f'<p class="meta">Generated {escape(report.generated_at)} by rigcheck {escape(report.app_version)} · '
        f"catalog #{report.catalog.sequence} of {escape(report.catalog.generated_at)}"
        f" · {escape(report.context_text())}, "
        f"KV {escape(report.settings.kv_cache_type)}</p>",
        "<!--nav-->",
    )
    if report.fleet is not None:
        _fleet(d, report.fleet, report)
        for mr in report.machines:
            _summary(d, mr, heading=f"{mr.machine.label}: summary")
            _inventory(d, mr)
            _fit_table(d, mr, short=True)
    else:
        mr = report.machines[0]
        _summary(d, mr, heading="Summary")
        _inventory(d, mr)
        _fit_table(d, mr, short=False)
        for detail in mr.details:
            _detail(d, detail)
        if mr.plans:
            _plans(d, mr.plans)
    _assumptions(d, report)
    d.add("</body></html>")
    if not for_qt:
        # A contents line under the title: the page is long and has no script to navigate it.
        nav = "<nav>" + "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t in d.anchors) + "</nav>"
        d.parts.insert(d.parts.index("<!--nav-->"), nav)
    if "<!--nav-->" in d.parts:
        at = d.parts.index("<!--nav-->")
        d.parts.pop(at)
        d.breaks = [b - 1 if b > at else b for b in d.breaks]
    return d


# --------------------------------------------------------------------------------------------- helpers


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Sequence[int] = (),
    widths: Sequence[str] | None = None,
    compact: bool = False,
) -> str:
    """Cells are already-escaped markup; ``numeric`` columns are right-aligned; ``compact`` uses the
    smaller type wide tables need to fit a portrait page."""
    extra = " c" if compact else ""
    cols = "".join(
        f'<th class="{"n" if i in numeric else "l"}{extra}"'
        + (f' width="{widths[i]}"' if widths else "")
        + f">{h}</th>"
        for i, h in enumerate(head)
    )
    body = []
    for row in rows:
        cells = "".join(f'<td class="{"n" if i in numeric else "l"}{extra}">{c}</td>' for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(head)}" class="small">none</td></tr>')
    return (
        f'<table cellspacing="0" cellpadding="4" width="100%"><thead><tr>{cols}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _e(value: object) -> str:
    return escape("—" if value is None or value == "" else str(value))


def _band_cell(band, fmt=units.rate_text) -> str:
    if band is None:
        return "—"
    return f'{escape(fmt(band.expected))}<br><span class="band">{escape(units.band_range(band, fmt))}</span>'


def _verdict_cell(verdict: str) -> str:
    cls = {"gpu": "ok", "unified": "ok", "gpu+ram": "warn", "cpu": "warn", "no_fit": "bad"}.get(verdict, "")
    return f'<span class="{cls}">{escape(units.verdict_text(verdict))}</span>'


def _capability_cell(c: Capability | None) -> str:
    """The capability and, beneath it, the benchmarks it rests on."""
    if c is None:
        return "—"
    return f'{units.capability_text(c.value)}<br><span class="band">{escape(", ".join(c.benchmarks))}</span>'


def _hosted_cell(h: HostedRow | None) -> str:
    """The blended price, and beneath it the input and output prices it blends and the provider."""
    if h is None:
        return "—"
    return (f'{escape(units.usd_per_m_text(h.usd_per_m_blended))}<br><span class="band">'
            f'{escape(units.usd_text(h.usd_per_m_input))} in / {escape(units.usd_text(h.usd_per_m_output))} out, '
            f'{escape(h.provider)}</span>')


def _name_cell(name: str, model_id: str) -> str:
    if name == model_id.split("/", 1)[-1]:
        owner = model_id.split("/", 1)[0] if "/" in model_id else ""
        return f'{escape(name)}<br><span class="band">{escape(owner)}</span>' if owner else escape(name)
    return f'{escape(name)}<br><span class="band">{escape(model_id)}</span>'


# --------------------------------------------------------------------------------------------- sections


def _summary(d: _Doc, mr: MachineReport, heading: str) -> None:
    s, m = mr.summary, mr.machine
    d.h2(heading, "summary")
    gpus = ", ".join(f"{g.name} ({units.bytes_text(g.vram_total_bytes)})" for g in m.gpus if not g.lost) or "no GPU"
    if s.answer:
        d.add(f'<p class="headline"><b>{escape(s.answer)}</b></p>')
    d.add(
        f'<p class="headline">{escape(s.headline)}</p>',
        f"<p><b>Machine:</b> {escape(gpus)}; {escape(units.bytes_text(m.memory.total_bytes))} RAM"
        f"{'; ' + escape(m.cpu.model) if m.cpu.model else ''} "
        f'<span class="small">({escape(m.origin)}{", " + escape(m.probed_at) if m.probed_at else ""})</span></p>',
        "<h3>Runs usably: this machine's picks</h3>",
    )
    d.add(
        _table(
            ["Model", "Pick", "Verdict", "Decode tok/s", "First token", "Capability"],
            (
                [
                    _name_cell(p.model_name, p.model_id),
                    _e(p.quant),
                    _verdict_cell(p.verdict),
                    _band_cell(p.decode_tokens_per_s),
                    _band_cell(p.ttft_s, units.seconds_text),
                    _capability_cell(p.capability),
                ]
                for p in s.runs_well
            ),
            numeric=(3, 4, 5),
        )
    )
    d.add("<h3>Cannot run (or not usably)</h3>")
    d.add(
        _table(
            ["Model", "Quant tried", "Why", "Capability"],
            ([_name_cell(p.model_name, p.model_id), _e(p.quant), _e(p.reason), _capability_cell(p.capability)]
             for p in s.cannot_run),
            numeric=(3,),
        )
    )
    d.add("<h3>Best hosted alternative</h3>")
    if s.best_hosted is None:
        d.add("<p>No hosted offer in the catalog.</p>")
    else:
        h = s.best_hosted
        d.add(
            f"<p><b>{escape(s.best_hosted_model_name or h.model_id)}</b> at <b>{escape(h.provider)}</b>: "
            f"{escape(units.price_triple_text(h.usd_per_m_blended, h.usd_per_m_input, h.usd_per_m_output))}"
            f"{', context ' + escape(units.tokens_text(h.context_tokens)) if h.context_tokens else ''}"
            f"{', residency ' + escape(h.residency) if h.residency != 'unknown' else ''}. "
            f'<span class="small">{escape(s.best_hosted_reason or "")}'
            f"{'; price seen ' + escape(h.date_seen) if h.date_seen else ''}.</span></p>"
        )


def _src(sources: dict[str, str], key: str) -> str:
    value = sources.get(key)
    return f' <span class="band">{escape(value)}</span>' if value else ""


def _inventory(d: _Doc, mr: MachineReport) -> None:
    m = mr.machine
    d.h2(f"Machine inventory — {m.label}" if d.h2_count > 1 and m.label else "Machine inventory", "inventory")
    d.add("<h3>GPUs</h3>")
    rows = []
    for g in m.gpus:
        name = escape(g.name) + (' <span class="bad">lost</span>' if g.lost else "")
        if g.unified_memory:
            name += '<br><span class="band">unified memory</span>'
        vram = g.gpu_usable_memory_bytes if g.unified_memory and g.vram_total_bytes is None else g.vram_total_bytes
        driver = g.driver_version or "—"
        if g.cuda_version:
            driver = f"{driver} / CUDA {g.cuda_version}"
        rows.append(
            [
                str(g.index),
                name,
                escape(units.bytes_text(vram)) + _src(g.sources, "vram_total_bytes"),
                escape(units.bandwidth_text(g.memory_bandwidth_bytes_per_s)) + _src(g.sources, "memory_bandwidth_bytes_per_s"),
                _e(g.pcie_link) + _src(g.sources, "pcie_link"),
                escape(units.watts_text(g.power_limit_w)),
                _e(driver) + _src(g.sources, "driver_version"),
            ]
        )
    d.add(_table(["#", "GPU", "VRAM", "Bandwidth", "PCIe link", "Power limit", "Driver"], rows, numeric=(0, 2, 3, 5)))
    ident = [
        [str(g.index), f'<span class="mono">{_e(g.uuid)}</span>', f'<span class="mono">{_e(g.serial)}</span>',
         f'<span class="mono">{_e(g.pci_bus_id)}</span>', _e(g.compute_capability)]
        for g in m.gpus
    ]
    if any(g.uuid or g.serial or g.pci_bus_id or g.compute_capability for g in m.gpus):
        d.add(_table(["#", "UUID", "Serial", "PCI bus", "Compute cap."], ident, numeric=(0,)))
    c, mem = m.cpu, m.memory
    cores = "—"
    if c.physical_cores or c.logical_cores:
        cores = f"{c.physical_cores or '?'} cores / {c.logical_cores or '?'} threads"
    flags = ", ".join(c.isa_flags) or "—"
    ram_extra = " ".join(x for x in (mem.ram_type, units.mhz_text(mem.ram_speed_mhz) if mem.ram_speed_mhz else None) if x)
    kv = [
        ("CPU", _e(c.model) + _src(c.sources, "model")),
        ("Cores", escape(cores) + (f", up to {escape(units.mhz_text(c.max_clock_mhz))}" if c.max_clock_mhz else "")),
        ("Architecture / ISA", f"{_e(c.architecture)}; {escape(flags)}" if c.architecture or c.isa_flags else "—"),
        ("RAM", escape(units.bytes_text(mem.total_bytes)) + (f" {escape(ram_extra)}" if ram_extra else "")
         + _src(mem.sources, "total_bytes")),
        ("RAM bandwidth", escape(units.bandwidth_text(mem.bandwidth_bytes_per_s)) + _src(mem.sources, "bandwidth_bytes_per_s")),
        ("OS", escape(" ".join(x for x in (m.os_name, m.os_version) if x) or "—")),
        ("Host", _e(m.hostname)),
        ("Disk free", escape(units.bytes_text(m.disk_free_bytes)) + (f" on {escape(m.disk_path)}" if m.disk_path else "")),
        ("Described", escape(units.origin_text(m.origin)) + (f", probed {escape(m.probed_at)}" if m.probed_at else "")),
    ]
    d.add("<h3>CPU, memory, system</h3>")
    d.add(_table(["Item", "Value"], ([f"<b>{escape(k)}</b>", v] for k, v in kv), widths=("22%", "78%")))
    missing = []
    for g in m.gpus:
        missing += [f"GPU {g.index} {k}: {why}" for k, why in sorted(g.unavailable.items())]
    missing += [f"CPU {k}: {why}" for k, why in sorted(c.unavailable.items())]
    missing += [f"RAM {k}: {why}" for k, why in sorted(mem.unavailable.items())]
    missing += [f"{b.name} backend: {b.reason}" for b in m.backends if not b.available and b.reason]
    d.add(
        '<p class="small">Grey tags name where each figure came from: <i>driver</i> (NVML, amdsmi, Metal), '
        "<i>sysfs</i>, <i>os</i>, <i>measured</i> by rigcheck, the catalog's <i>spec table</i>, the <i>user</i>, "
        "or a <i>profile</i> file.</p>"
    )
    if missing:
        d.add("<p><b>Not readable on this machine:</b></p><ul>" + "".join(f"<li>{escape(x)}</li>" for x in missing) + "</ul>")


def _fit_table(d: _Doc, mr: MachineReport, *, short: bool) -> None:
    d.h2(f"Fit table — {mr.machine.label}" if short else "Fit table", "fit")
    shown, omitted = fit_table_rows(mr, fleet=short)
    d.add(
        '<p class="small">One row per model: its pick on this machine (usable models first, a heavy-loss pick below '
        "3 bits after the rest, the most capable first among them), else the quant closest to usable, else the smallest and what it needs. Speeds are expected "
        "values with the low–high band beneath; capability with the benchmarks it rests on; hosted is the cheapest "
        "blended price per million tokens with the input and output prices beneath."
        + (" Only models that fit are listed." if short else "")
        + (f" The {len(shown)} most capable are shown; {omitted} more are in the CSV and JSON reports."
           if omitted else "")
        + "</p>"
    )
    d.add(
        _table(
            ["Model", "Size", "Pick, runs on", "Memory,<br>max ctx", "Prefill<br>tok/s", "Decode<br>tok/s",
             "First<br>token", "Capability", "Hosted<br>$/M blended"],
            (_fit_cells(r) for r in shown),
            numeric=(1, 3, 4, 5, 6, 7, 8),
            widths=("20%", "7%", "14%", "9%", "9%", "9%", "10%", "11%", "11%"),
            compact=True,
        )
    )


def _fit_cells(r: FitRow) -> list[str]:
    e = r.estimate
    params = units.params_text(r.params_total_b)
    if r.params_active_b and r.params_total_b and r.params_active_b < r.params_total_b:
        params += f'<br><span class="band">{escape(units.params_text(r.params_active_b))} active</span>'
    else:
        params = escape(params)
    ctx = units.tokens_text(e.max_context_tokens)
    return [
        _name_cell(r.model_name, r.model_id),
        params,
        f"{escape(e.quant)}<br>{_verdict_cell(e.verdict)}"
        + ('<br><span class="ok">usable</span>' if r.usable else '<br><span class="warn">not usable</span>'
           if e.fits else ""),
        f'{escape(units.bytes_text(e.memory.total_bytes))}<br><span class="band">{escape(ctx)} ctx</span>'
        if e.max_context_tokens else escape(units.bytes_text(e.memory.total_bytes)),
        _band_cell(e.prefill_tokens_per_s),
        _band_cell(e.decode_tokens_per_s),
        _band_cell(e.ttft_s, units.seconds_text),
        _capability_cell(r.capability),
        _hosted_cell(r.cheapest_hosted),
    ]


def _detail(d: _Doc, detail: ModelDetail) -> None:
    d.h2(f"Model: {detail.model_name}", f"model-{detail.model_id}")
    facts = "; ".join(f"<b>{escape(k)}</b> {escape(v)}" for k, v in detail.facts)
    score = ""
    if detail.capability is not None:
        score = (f"; <b>Capability</b> {units.capability_text(detail.capability.value)} "
                 f"({escape(detail.capability.basis)})")
    d.add(f'<p><span class="mono">{escape(detail.model_id)}</span><br>{facts}{score}</p>')
    d.add("<h3>Every quant on this machine</h3>")
    rows = []
    for e in detail.quants:
        split = "—"
        if e.fits:
            split = f"{units.bytes_text(e.memory.gpu_bytes)} /<br>{units.bytes_text(e.memory.ram_bytes)}"
        rows.append(
            [
                escape(e.quant) + (" ★" if e.quant == detail.best_quant else ""),
                _verdict_cell(e.verdict),
                escape(units.bytes_text(e.memory.weights_bytes)),
                escape(units.bytes_text(e.memory.kv_cache_bytes)),
                escape(units.bytes_text(e.memory.total_bytes)),
                split,
                escape(units.tokens_text(e.max_context_tokens)),
                _band_cell(e.prefill_tokens_per_s),
                _band_cell(e.decode_tokens_per_s),
                _band_cell(e.ttft_s, units.seconds_text),
            ]
        )
    d.add(
        _table(
            ["Quant", "Verdict", "Weights", "KV cache", "Total", "GPU / RAM", "Max ctx", "Prefill<br>tok/s",
             "Decode<br>tok/s", "First<br>token"],
            rows,
            numeric=(2, 3, 4, 5, 6, 7, 8, 9),
            widths=("13%", "12%", "9%", "8%", "9%", "12%", "6%", "11%", "9%", "11%"),
            compact=True,
        )
    )
    d.add("<h3>Hosted offers</h3>")
    d.add(
        _table(
            ["Provider", "Blended", "$/M input", "$/M output", "Context", "Quantization", "Residency", "Seen"],
            (
                [
                    _e(h.provider),
                    escape(units.usd_per_m_text(h.usd_per_m_blended)),
                    escape(units.usd_text(h.usd_per_m_input)),
                    escape(units.usd_text(h.usd_per_m_output)),
                    escape(units.tokens_text(h.context_tokens)),
                    _e(h.quantization),
                    _e(h.residency + (f" ({h.region})" if h.region else "")),
                    _e(h.date_seen),
                ]
                for h in detail.hosted
            ),
            numeric=(1, 2, 3, 4),
        )
    )
    if detail.quants:
        d.chart(memory_chart(detail), "memory")
    if detail.speed_vs_context:
        d.chart(speed_chart(detail), "speed")
    best = next((e for e in detail.quants if e.quant == (detail.best_quant or detail.speed_quant)), None)
    if detail.launch:
        d.add(f"<h3>Run it ({escape(detail.best_quant or '')})</h3>")
        for cmd in detail.launch:
            notes = "".join(f"<li>{escape(n)}</li>" for n in cmd.notes)
            d.add(f'<p><b>{escape(cmd.runtime)}</b></p><pre class="mono">{escape(cmd.command)}</pre>'
                  + (f'<ul class="small">{notes}</ul>' if notes else ""))
    measured = [f"{e.quant}: {line}" for e in detail.quants for line in measured_lines(e)]
    if measured:
        d.add("<h3>Measured on this machine</h3><ul>" + "".join(f"<li>{escape(m)}</li>" for m in measured) + "</ul>")
    if best is not None and (best.placement or best.basis):
        d.add("<h3>How the estimate was made</h3><ul>")
        if best.placement and not any(b.lower().startswith("placement") for b in best.basis):
            d.add(f"<li>Placement ({escape(best.quant)}): {escape(best.placement)}</li>")
        d.add("".join(f"<li>{escape(b)}</li>" for b in best.basis) + "</ul>")


def _plans(d: _Doc, plans: Sequence[PlanSection]) -> None:
    d.h2("What it would take: the planner's recommendations", "plan")
    for p in plans:
        d.add(f"<h3>{escape(p.model_name)}{' at ' + escape(p.quant) if p.quant else ''}</h3>")
        if p.note:
            d.add(f'<p class="small">{escape(p.note)}</p>')
        if p.options:
            d.add(
                _table(
                    ["Configuration", "Meets target", "Buy", "Rent<br>$/h", "$/M out<br>rented",
                     "$/M out<br>owned", "Power", "Decode<br>tok/s", escape(PLAN_WHY_HEADING)],
                    (
                        [
                            _e(o.label),
                            '<span class="ok">yes</span>' if o.meets_target else '<span class="bad">no</span>',
                            escape(units.usd_text(o.purchase_usd, 0)),
                            escape(units.usd_text(o.rental_usd_per_hour)),
                            escape(units.usd_text(o.usd_per_m_output_rented)),
                            escape(units.usd_text(o.usd_per_m_output_owned)),
                            escape(units.watts_text(o.power_w)),
                            _band_cell(o.decode_tokens_per_s),
                            _e(o.why),
                        ]
                        for o in p.options
                    ),
                    numeric=(2, 3, 4, 5, 6, 7),
                    widths=("20%", "7%", "9%", "7%", "8%", "8%", "8%", "8%", "25%"),
                    compact=True,
                )
            )
        if p.advice:
            d.add("<p><b>Upgrade this machine:</b></p><ul>" + "".join(f"<li>{escape(a)}</li>" for a in p.advice) + "</ul>")


def _fleet_cell(c: FleetCell | None) -> str:
    if c is None:
        return '<span class="bad">✗</span>'
    cls = "ok" if c.usable else "warn"
    speed = units.rate_text(c.decode_tokens_per_s.expected) if c.decode_tokens_per_s else "—"
    return f'<span class="{cls}">{escape(c.quant)}</span><br><span class="band">{escape(speed)} tok/s, {escape(units.verdict_place(c.verdict))}</span>'


def _fleet(d: _Doc, fleet: FleetSection, report: ReportData) -> None:
    d.h2("Fleet: which machines run which models", "fleet")
    d.add(
        '<p class="small">Each cell: the machine\'s pick, expected decode speed and placement; '
        f"green = usable ({escape(report.settings.usable.describe())}), amber = fits but not usable, "
        "✗ = does not fit.</p>"
    )
    # At most FLEET_COLUMNS machines per table, so a large fleet stays legible on a portrait page.
    labels = fleet.machine_labels
    for start in range(0, len(labels), FLEET_COLUMNS):
        chunk = range(start, min(start + FLEET_COLUMNS, len(labels)))
        head = ["Model", "Capability", *(escape(labels[i]) for i in chunk)]
        rows = [[_name_cell(r.model_name, r.model_id), _capability_cell(r.capability),
                 *(_fleet_cell(r.cells[i]) for i in chunk)]
                for r in fleet.rows]
        d.add(_table(head, rows, numeric=(1,)))
    if fleet.target_model_id:
        d.add(f"<h3>Bringing the fleet to {escape(fleet.target_model_name or fleet.target_model_id)}</h3>")
        d.add(
            _table(
                ["Machine", "Now", "What to buy"],
                (
                    [
                        _e(t.label),
                        _fleet_cell(t.cell),
                        ("<ul>" + "".join(f"<li>{escape(a)}</li>" for a in t.advice) + "</ul>" if t.advice else "")
                        + (f'<span class="small">{escape(t.note)}</span>' if t.note else ""),
                    ]
                    for t in fleet.targets
                ),
            )
        )


def _assumptions(d: _Doc, report: ReportData) -> None:
    d.h2("Assumptions, versions and sources", "assumptions")
    d.add("<ul>" + "".join(f"<li>{escape(a)}</li>" for a in report.assumptions) + "</ul>")
    c = report.catalog
    age = units.age_days_text(c.age_days)
    kv = [
        ("Catalog", f"schema {c.schema_version}, sequence {c.sequence}, generated {c.generated_at} ({age})"),
        ("Catalog source", c.source or "embedded"),
        ("Catalog contents", f"{c.models} models, {c.devices} devices, {c.hosted_offers} hosted offers"),
        ("App", f"rigcheck {report.app_version}"),
        ("Report generated", report.generated_at),
        ("Report schema", report.schema),
    ]
    d.add(_table(["Item", "Value"], ([f"<b>{escape(k)}</b>", escape(v)] for k, v in kv), widths=("22%", "78%")))
    if c.warnings:
        d.add("<p><b>Catalog warnings:</b></p><ul>" + "".join(f"<li>{escape(w)}</li>" for w in c.warnings) + "</ul>")
