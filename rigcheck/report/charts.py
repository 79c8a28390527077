"""The report's charts as standalone SVG strings: memory breakdown per quant, and speed against context.

Plain SVG 1.1/Tiny elements with presentation attributes only (no CSS, no script), so the same markup
is inlined in HTML and rasterised by QtSvg for the PDF.
"""

from __future__ import annotations

import math
import textwrap
from html import escape

from rigcheck import units
from rigcheck.report.records import ModelDetail

WIDTH = 640
NOTE_CHARS = 96
"""A memory chart's note is wrapped at this many characters (9 px text within WIDTH)."""
_FONT = 'font-family="Helvetica, Arial, sans-serif"'
COLORS = {
    "weights": "#3b6ea8",
    "kv": "#e08a2c",
    "overhead": "#9aa3ad",
    "gpu": "#2a9d55",
    "ram": "#c0392b",
    "decode": "#3b6ea8",
    "prefill": "#7a4fa3",
    "grid": "#e3e6ea",
    "axis": "#6b7480",
    "text": "#222222",
}


def _text(x: float, y: float, s: str, *, size: int = 11, anchor: str = "start", fill: str | None = None,
          weight: str = "normal") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" {_FONT} font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}" fill="{fill or COLORS["text"]}">{escape(s)}</text>'
    )


def _svg(height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f'<title>{escape(title)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>' + "".join(body) + "</svg>"
    )


def memory_chart(detail: ModelDetail) -> str:
    """Stacked bars (weights, KV cache, overhead) per quant against the usable memory the verdicts were checked
    against (``units.memory_limits``); a quant that does not fit is drawn faded and says so."""
    quants = detail.quants
    left, right, top, bar_h, gap = 96, 24, 56, 16, 8
    plot_w = WIDTH - left - right
    limits = units.memory_limits(quants, detail.unified_memory)
    peak = max([e.memory.total_bytes for e in quants] + [cap for _label, cap in limits] + [1])
    scale = plot_w / (peak * 1.04)
    # Where a bar and its verdict seem to disagree with the lines, lines of text say why (as in the app).
    budget = max((cap for _label, cap in limits), default=0)
    notes = [line for note in units.placement_notes(quants, budget, detail.unified_memory)
             for line in textwrap.wrap(note, NOTE_CHARS)]
    height = top + len(quants) * (bar_h + gap) + 46 + 14 * len(notes)
    body = [_text(left, 16, f"Memory needed per quant — {detail.model_name}", size=12, weight="bold")]
    # Gridlines at round GiB steps so bars can be read off.
    step = _nice_step(peak / units.GIB / 5) * units.GIB
    x_axis_y = top + len(quants) * (bar_h + gap)
    for tick in _ticks(peak * 1.04, step):
        x = left + tick * scale
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{x_axis_y}" stroke="{COLORS["grid"]}"/>')
        body.append(_text(x, x_axis_y + 13, f"{tick / units.GIB:.0f}", size=9, anchor="middle", fill=COLORS["axis"]))
    body.append(_text(left + plot_w, x_axis_y + 13, "GiB", size=9, anchor="end", fill=COLORS["axis"]))
    labels: list[str] = []
    for i, e in enumerate(quants):
        y = top + i * (bar_h + gap)
        label = e.quant + (" ★" if e.quant == detail.best_quant else "")
        body.append(_text(left - 6, y + bar_h - 4, label, size=10, anchor="end"))
        x = float(left)
        faded = "" if e.fits else ' fill-opacity="0.35"'
        for key, value in (
            ("weights", e.memory.weights_bytes),
            ("kv", e.memory.kv_cache_bytes),
            ("overhead", e.memory.overhead_bytes),
        ):
            w = max(value * scale, 0.0)
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLORS[key]}"{faded}/>')
            x += w
        total = units.bytes_text(e.memory.total_bytes) + ("" if e.fits else " · does not fit")
        # Past the plot's right edge the figure goes inside the bar's end instead.
        width = 5.2 * len(total) + 4
        tx = x + 2 if x + width <= WIDTH - 2 else x - width - 2
        # A white backing keeps the figure legible where a limit line crosses it.
        labels.append(f'<rect x="{tx:.1f}" y="{y + 2}" width="{width:.1f}" height="{bar_h - 4}" fill="#ffffff"/>')
        labels.append(_text(tx + 2, y + bar_h - 4, total, size=9, fill=COLORS["axis"] if e.fits else COLORS["ram"]))
    for n, (name, cap) in enumerate(limits):
        key = "gpu" if n == 0 and len(limits) == 2 else "ram"
        x = left + cap * scale
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{x_axis_y}" stroke="{COLORS[key]}" '
            f'stroke-width="1.5" stroke-dasharray="4,3"/>'
        )
        anchor = "end" if x > left + plot_w * 0.6 else "start"
        # Two label rows so the two lines' labels never overprint when the lines are close.
        label_y = top - 10 if n == 0 else top - 22
        body.append(_text(x + (-3 if anchor == "end" else 3), label_y, f"{name} {units.bytes_text(cap)}", size=9,
                          anchor=anchor, fill=COLORS[key]))
    body += labels  # drawn after the limit lines so they sit on top
    for n, line in enumerate(notes):
        body.append(_text(left, height - 30 - 14 * (len(notes) - 1 - n), line, size=9, fill=COLORS["axis"]))
    ly = height - 12
    lx = left
    for key, name in (("weights", "weights"), ("kv", "KV cache"), ("overhead", "buffers & overhead")):
        body.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{COLORS[key]}"/>')
        body.append(_text(lx + 14, ly, name, size=10))
        lx += 24 + 7 * len(name)
    if any(not e.fits for e in quants):
        body.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{COLORS["weights"]}" '
                    'fill-opacity="0.35"/>')
        body.append(_text(lx + 14, ly, "does not fit", size=10))
    if detail.best_quant:
        body.append(_text(WIDTH - right, ly, "★ pick", size=10, anchor="end"))
    return _svg(height, body, f"Memory per quant of {detail.model_name}")


def speed_chart(detail: ModelDetail) -> str:
    """Decode and prefill tokens/s against context depth, each with its low–high band shaded."""
    points = [p for p in detail.speed_vs_context]
    height = 230
    body = [
        _text(
            16, 16, f"Speed vs context — {detail.model_name} {detail.speed_quant or ''}".rstrip(), size=12, weight="bold"
        )
    ]
    beyond = [p.context_tokens for p in points if p.decode_tokens_per_s is None]
    if beyond:
        body.append(_text(WIDTH - 16, 16, f"does not fit at {', '.join(units.tokens_text(c) for c in beyond)} tokens",
                          size=10, anchor="end", fill=COLORS["ram"]))
    panel_w = (WIDTH - 16 * 2 - 40) / 2
    for n, (attr, key, name) in enumerate(
        (("decode_tokens_per_s", "decode", "Decode tok/s"), ("prefill_tokens_per_s", "prefill", "Prefill tok/s"))
    ):
        x0 = 16 + 44 + n * (panel_w + 40)
        body += _line_panel(points, attr, COLORS[key], name, x0, 40, panel_w - 44, 150)
    return _svg(height, body, f"Speed vs context of {detail.model_name}")


def _line_panel(points, attr: str, color: str, name: str, x0: float, y0: float, w: float, h: float) -> list[str]:
    out = [_text(x0, y0 - 6, name, size=10, weight="bold", fill=color)]
    valid = [(p.context_tokens, getattr(p, attr)) for p in points if getattr(p, attr) is not None]
    out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" stroke="{COLORS["grid"]}"/>')
    if not valid:
        out.append(_text(x0 + w / 2, y0 + h / 2, "does not fit at any depth", size=10, anchor="middle",
                         fill=COLORS["axis"]))
        return out
    xs = [math.log2(c) for c, _ in valid]
    x_lo, x_hi = min(xs), max(xs)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_hi = max(b.high for _, b in valid) * 1.1 or 1.0
    y_step = _nice_step(y_hi / 4)
    y_hi = math.ceil(y_hi / y_step) * y_step

    def px(ctx: int) -> float:
        return x0 + (math.log2(ctx) - x_lo) / (x_hi - x_lo) * w

    def py(v: float) -> float:
        return y0 + h - (v / y_hi) * h

    for tick in _ticks(y_hi, y_step):
        y = py(tick)
        out.append(f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x0 + w:.1f}" y2="{y:.1f}" stroke="{COLORS["grid"]}"/>')
        out.append(_text(x0 - 4, y + 3, "0" if tick == 0 else units.rate_text(tick), size=9, anchor="end", fill=COLORS["axis"]))
    for ctx, _ in valid:
        out.append(_text(px(ctx), y0 + h + 13, units.tokens_text(ctx), size=9, anchor="middle", fill=COLORS["axis"]))
    out.append(_text(x0 + w, y0 + h + 26, "context (tokens)", size=9, anchor="end", fill=COLORS["axis"]))
    band = [(px(c), py(b.high)) for c, b in valid] + [(px(c), py(b.low)) for c, b in reversed(valid)]
    out.append(
        '<polygon points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in band) + f'" fill="{color}" fill-opacity="0.18" stroke="none"/>'
    )
    line = " ".join(f"{px(c):.1f},{py(b.expected):.1f}" for c, b in valid)
    out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
    for c, b in valid:
        out.append(f'<circle cx="{px(c):.1f}" cy="{py(b.expected):.1f}" r="2.5" fill="{color}"/>')
    return out


MAX_TICKS = 12


def _ticks(limit: float, step: float) -> list[float]:
    """0, step, 2 x step, ... up to ``limit`` (a rounding error past it included), at most ``MAX_TICKS`` of them.

    Counted, not summed until past the limit: an axis of 1e-300 tok/s with an absolute tolerance of 1e-9 once
    drew ticks until memory ran out (found by tests/hostile's properties)."""
    if not (step > 0 and math.isfinite(step) and limit >= 0):
        return [0.0]
    ratio = limit / step
    count = MAX_TICKS if not math.isfinite(ratio) else min(MAX_TICKS, math.floor(ratio * (1 + 1e-9)) + 1)
    return [i * step for i in range(count)]


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power
