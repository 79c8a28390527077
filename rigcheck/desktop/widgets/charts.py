"""The detail pane's charts (pyqtgraph): memory breakdown, speed against context, cost against utilization,
serving (per-user against aggregate tokens/s as concurrency grows).

Each chart takes finished numbers (estimates, cost curves) and only draws them; no figure is computed here.
Colours are the Okabe–Ito palette, legible on light and dark themes; axes use the system text colour. Legends are
Qt widgets in a row under the plot, never inside it: they cannot cover a curve, and they wrap instead of
overlapping at small window sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QLabel,
    QLayout,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from rigcheck import units
from rigcheck.desktop.widgets.machine_panel import plain_label
from rigcheck.desktop.widgets.plotting import pg as _pg
from rigcheck.estimate.types import Estimate

pg = _pg()

WEIGHTS, KV, OVERHEAD = "#0072B2", "#E69F00", "#CC79A7"
PREFILL, DECODE = "#009E73", "#D55E00"
SERIES = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")
GIB = 2**30
PLOT_MIN_HEIGHT = 90
"""Below this the axes' labels overlap: the pane scrolls or the table gives room instead."""


def _text_colour():
    app = QApplication.instance()
    return app.palette().color(QPalette.ColorRole.WindowText) if app else "k"


FADED_ALPHA = 90
"""Opacity (of 255) of a memory bar whose quant does not fit."""


def _swatch(colour: str, style: str) -> QPixmap:
    """A small legend key: a filled square ("box", or "faded" as a bar that does not fit), a line ("line") or a
    dashed/dotted line."""
    pixmap = QPixmap(18, 10)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    if style in ("box", "faded"):
        fill = QColor(colour)
        if style == "faded":
            fill.setAlpha(FADED_ALPHA)
        painter.fillRect(1, 1, 16, 8, fill)
    else:
        pen_style = {"dash": Qt.PenStyle.DashLine, "dot": Qt.PenStyle.DotLine}.get(style, Qt.PenStyle.SolidLine)
        painter.setPen(QPen(QColor(colour), 2, pen_style))
        painter.drawLine(1, 5, 17, 5)
    painter.end()
    return pixmap


class Legend(QWidget):
    """The chart's key under the plot: (swatch, text) entries, as many to a row as the width holds, plain text.

    Its width is the chart's to give (it never widens the pane): on a resize the entries flow into more or fewer
    columns, so a narrow chart shows its key on more rows instead of cutting it.
    """

    reflowed = Signal()
    """Its entries or their rows changed (the chart then gives its note the height left)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(4, 0, 4, 0)
        self._layout.setHorizontalSpacing(6)
        self._layout.setVerticalSpacing(0)
        self._layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # the chart sets the width
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.entries: list[tuple[str, str, str]] = []
        self._pairs: list[tuple[QLabel, QLabel]] = []
        self._columns = 0

    def set_entries(self, entries: Sequence[tuple[str, str, str]]) -> None:
        """(colour, text, style) per entry, style "box", "faded", "line", "dash" or "dot"."""
        entries = list(entries)
        if entries == self.entries:
            return
        self.entries = entries
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # out of view at once; deleted on the next turn of the event loop
                item.widget().deleteLater()
        self._pairs = []
        for colour, text, style in entries:
            key = QLabel()
            key.setPixmap(_swatch(colour, style))
            label = plain_label(text)
            label.setToolTip(text)
            self._pairs.append((key, label))
        self._columns = 0
        self._flow()  # lays the entries out (and says so) unless there are none
        self.setVisible(bool(entries))
        if not entries:
            self.reflowed.emit()

    def _columns_for(self, width: int) -> int:
        """The most entries a row of ``width`` pixels holds, with every column as wide as its widest entry."""
        spacing = self._layout.horizontalSpacing()
        margins = self._layout.contentsMargins()
        room = width - margins.left() - margins.right()
        for columns in range(len(self._pairs), 1, -1):
            widths = [0] * columns
            for i, ((key, label), text) in enumerate(zip(self._pairs, self._texts(), strict=True)):
                col = i % columns
                widths[col] = max(widths[col], key.sizeHint().width() + spacing
                                  + label.fontMetrics().horizontalAdvance(text))
            if sum(widths) + spacing * (columns - 1) <= room:
                return columns
        return 1

    def _texts(self) -> list[str]:
        return [text for _colour, text, _style in self.entries]

    def _flow(self) -> None:
        if not self._pairs:
            return
        width = self.width() if self.isVisible() or self.width() > 100 else 10_000
        columns = self._columns_for(width)
        self._elide(width if columns == 1 else None)
        if columns == self._columns:
            return
        for n in range(self._layout.columnCount()):
            self._layout.setColumnStretch(n, 0)
        for i, (key, label) in enumerate(self._pairs):
            row, col = divmod(i, columns)
            self._layout.addWidget(key, row, 2 * col)
            self._layout.addWidget(label, row, 2 * col + 1)
        self._layout.setColumnStretch(2 * columns + 1, 1)
        self._columns = columns
        self.updateGeometry()
        self.reflowed.emit()

    def _elide(self, width: int | None) -> None:
        """One entry to a row: each cut with "…" to the row's ``width`` when longer (the whole text is its tooltip);
        ``None``: every entry whole (several to a row: they fit, ``_columns_for``)."""
        spacing = self._layout.horizontalSpacing()
        margins = self._layout.contentsMargins()
        for (key, label), text in zip(self._pairs, self._texts(), strict=True):
            shown = text
            if width is not None:
                room = width - margins.left() - margins.right() - key.sizeHint().width() - spacing
                shown = label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max(40, room))
            if label.text() != shown:
                label.setText(shown)

    def height_for(self, width: int) -> int:
        """The height its rows take in a chart ``width`` pixels wide (0 without entries)."""
        if not self._pairs:
            return 0
        rows = -(-len(self._pairs) // self._columns_for(width))
        return rows * max(max(key.sizeHint().height(), label.sizeHint().height()) for key, label in self._pairs)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._flow()

    def minimumSizeHint(self):  # noqa: N802
        """No width of its own (the chart gives it one), the height of the rows it now has."""
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint


class _Chart(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.plot = pg.PlotWidget(background=None)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        self._title = title
        self.caption = plain_label(title, bold=True, wrap=True)  # a long title never widens the pane
        self.plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        self.legend = Legend()
        self.apply_palette()
        self.note = plain_label("", wrap=True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Notes can run to several sentences (the cost chart's break-even): they scroll rather than squash the plot.
        self.note_area = QScrollArea()
        self.note_area.setWidget(self.note)
        self.note_area.setWidgetResizable(True)
        self.note_area.setFrameShape(QFrame.Shape.NoFrame)
        self.note_area.hide()
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.note_area)
        self.legend.reflowed.connect(self._fit_note)  # once the note exists
        self.items: list = []

    def apply_palette(self) -> None:
        """Axes in the system's text colour (again whenever the theme changes); the title and legend are Qt labels
        and follow the palette themselves."""
        colour = _text_colour()
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(colour)
            axis.setTextPen(colour)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)

    def set_note(self, text: str) -> None:
        """The words under the chart (what is off it, the break-even); hidden when there are none."""
        self.note.setText(text)
        self.note_area.setVisible(bool(text))
        self._fit_note()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_note()

    def _fit_note(self) -> None:
        """The note's height: what its text needs at the chart's width, as far as the chart has room for it with
        the plot at its minimum height, and at least one line (the rest then scrolls)."""
        if not self.note.text():
            return
        width = max(1, self.width())
        need = self.note.heightForWidth(width) + 4
        line = self.note.fontMetrics().lineSpacing()
        spacing = max(0, self.layout().spacing())
        room = (self.height() - self.caption.heightForWidth(width) - self.legend.height_for(width)
                - PLOT_MIN_HEIGHT - 3 * spacing)
        self.note_area.setFixedHeight(need if need <= room else max(1, room // line) * line)  # whole lines

    def clear(self, note: str = "") -> None:
        self.plot.clear()
        self.legend.set_entries([])
        self.items = []
        self.set_note(note)


class MemoryChart(_Chart):
    """Horizontal stacked bars per quant (weights, KV cache, overhead), with lines at the usable memory the verdicts
    were checked against (``units.memory_limits``: usable VRAM, usable VRAM + RAM); a quant that does not fit is
    drawn faded and marked ✗, as the table says "Does not fit".

    Horizontal, so a dozen quant names stay readable as row labels. The bars, lines and legend are made once
    and updated in place: the chart is redrawn after every re-evaluation while a model is selected, and
    making pyqtgraph items (the legend's labels above all) costs the GUI thread tens of milliseconds.
    """

    STYLES = (pg.QtCore.Qt.PenStyle.DashLine, pg.QtCore.Qt.PenStyle.DotLine)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Memory needed per quant (GiB)", parent)
        self.bars = []
        for colour in (WEIGHTS, KV, OVERHEAD):
            bar = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, brush=colour, pen=None)
            self.plot.addItem(bar)
            self.bars.append(bar)
        self.lines = []
        for style in self.STYLES:
            line = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen(_text_colour(), width=1, style=style), label="",
                                   labelOpts={"position": 0.03, "color": _text_colour(), "anchors": [(1, 1), (1, 1)]})
            self.plot.addItem(line)
            self.lines.append(line)
        self.clear()

    def clear(self, note: str = "") -> None:
        self._hide_items(note)
        self.legend.set_entries([])

    def _hide_items(self, note: str = "") -> None:
        for item in (*self.bars, *self.lines):
            item.setVisible(False)
        self.items = []
        self.set_note(note)

    BAR_PX = 18
    """Height a quant's bar and label need to stay readable; fewer bars are drawn when the plot is shorter."""

    def set_data(self, estimates: Sequence[Estimate], unified_memory: bool = False) -> None:
        self._data = list(estimates)
        self._unified_memory = unified_memory
        self._shown_count = None
        self._draw()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        data = getattr(self, "_data", None)
        if data and self._bars_that_fit(len(data)) != self._shown_count:
            self._draw()

    def _bars_that_fit(self, n: int) -> int:
        height = self.plot.height()
        if height < 60:  # not laid out yet
            return n
        return min(n, max(3, int((height - 40) / self.BAR_PX)))

    def _draw(self) -> None:
        estimates = self._data
        if not estimates:
            self.clear("No estimates for this model.")
            return
        # The limits from every quant, also those a short plot leaves out.
        limits = units.memory_limits(estimates, self._unified_memory)
        # A short plot shows the quants around the pick (the row the table shows), not every quant squeezed.
        n = self._bars_that_fit(len(estimates))
        self._shown_count = n
        left_out = len(estimates) - n
        if left_out:
            focus = next((i for i, e in enumerate(estimates) if e.best), len(estimates) // 2)
            start = min(max(0, focus - n // 2), len(estimates) - n)
            estimates = estimates[start:start + n]
        self._hide_items()  # the legend stays while its entries are the same
        ys = list(range(len(estimates)))
        weights = [e.memory.weights_bytes / GIB for e in estimates]
        kv = [e.memory.kv_cache_bytes / GIB for e in estimates]
        over = [e.memory.overhead_bytes / GIB for e in estimates]
        bases = ([0.0] * len(ys), weights, [w + k for w, k in zip(weights, kv, strict=True)])
        for bar, colour, widths, base in zip(self.bars, (WEIGHTS, KV, OVERHEAD), (weights, kv, over), bases,
                                             strict=True):
            faded = QColor(colour)
            faded.setAlpha(FADED_ALPHA)
            bar.setOpts(x0=base, y=ys, width=widths, height=0.6,
                        brushes=[pg.mkBrush(colour if e.fits else faded) for e in estimates])
            bar.setVisible(True)
            self.items.append(bar)
        left = self.plot.getAxis("left")
        names = [e.quant if e.fits else f"✗ {e.quant}" for e in estimates]
        left.setTicks([list(enumerate(names))])
        # Room for the longest quant name: the axis would otherwise widen only on a later paint (not in a grab).
        left.setWidth(max(self.fontMetrics().horizontalAdvance(name) for name in names) + 14)
        top = max(w + k + o for w, k, o in zip(weights, kv, over, strict=True))
        limit = top
        hidden = []
        colour = _text_colour()
        legend = [(WEIGHTS, "weights", "box"), (KV, "KV cache", "box"), (OVERHEAD, "overhead", "box")]
        drawn = []
        for line, style, (label, value) in zip(self.lines, self.STYLES, limits, strict=False):
            if value / GIB > top * 3:
                # A line far beyond the longest bar would squash the bars into slivers: say it instead.
                hidden.append(f"{label} {units.bytes_text(value)}")
            else:
                drawn.append((line, style, label, value))
                limit = max(limit, value / GIB)
        for line, style, label, value in drawn:
            # The figure goes in the key, not on the line: a label on the plot would sit over some quant's bar.
            line.setVisible(True)
            line.setPen(pg.mkPen(colour, width=1, style=style))  # the theme may have changed since
            line.label.setFormat("")
            line.setPos(value / GIB)
            self.items.append(line)
            legend.append((colour.name() if hasattr(colour, "name") else str(colour),
                           f"{label} {units.bytes_text(value)}",
                           "dash" if style == pg.QtCore.Qt.PenStyle.DashLine else "dot"))
        if any(not e.fits for e in estimates):
            legend.append((WEIGHTS, "✗ does not fit", "faded"))
        self.legend.set_entries(legend)
        notes = []
        if left_out:
            notes.append(f"{len(estimates)} of {len(estimates) + left_out} quants, around the pick (a taller pane "
                         "shows more).")
        if hidden:
            notes.append("Off the chart: " + ", ".join(hidden) + ".")
        notes.extend(units.placement_notes(estimates, max((value for _label, value in limits), default=0),
                                           self._unified_memory))
        if notes:
            self.set_note(" ".join(notes))
        self.plot.setXRange(0, limit * 1.05 or 1, padding=0)
        self.plot.setYRange(-0.6, len(ys) - 0.4, padding=0)
        self.plot.setLabel("bottom", "GiB")


class SpeedChart(_Chart):
    """Prefill and decode tokens/s against context depth, with the low–high band shaded."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Speed against context length (tok/s, log scale)", parent)
        self.plot.setLogMode(x=True, y=True)
        self.plot.setLabel("bottom", "context tokens")

    def set_data(self, points: Sequence[tuple[int, Estimate]], note: str = "") -> None:
        self.clear(note)
        pts = [(ctx, e) for ctx, e in points if e.decode_tokens_per_s is not None]
        if not pts:
            self.clear(note or "This quant does not fit: no speeds to show.")
            return
        xs = [float(ctx) for ctx, _ in pts]
        drawn: list[tuple[str, str, str]] = []
        for attr, colour, name in (("prefill_tokens_per_s", PREFILL, "prefill"), ("decode_tokens_per_s", DECODE, "decode")):
            bands = [getattr(e, attr) for _, e in pts]
            if any(b is None for b in bands):
                continue
            low = self.plot.plot(xs, [max(b.low, 1e-3) for b in bands], pen=None)
            high = self.plot.plot(xs, [max(b.high, 1e-3) for b in bands], pen=None)
            fill = pg.FillBetweenItem(low, high, brush=pg.mkBrush(colour + "40"))
            self.plot.addItem(fill)
            curve = self.plot.plot(xs, [max(b.expected, 1e-3) for b in bands], pen=pg.mkPen(colour, width=2),
                                   symbol="o", symbolSize=5, symbolBrush=colour)
            self.items.extend([low, high, fill, curve])
            drawn.append((colour, f"{name} (shaded: low–high)", "line"))
        self.legend.set_entries(drawn)
        ticks = [(math.log10(x), units.tokens_text(int(x))) for x in xs]
        self.plot.getAxis("bottom").setTicks([ticks])
        lo, hi = math.log10(xs[0]), math.log10(xs[-1])
        self.plot.setXRange(lo - 0.1, hi + 0.1 if hi > lo else lo + 0.5, padding=0)


class CostChart(_Chart):
    """$ per million output tokens against utilization, one line per way of getting them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("$ per million output tokens of the workload (input included) against utilization "
                         "(log scale)", parent)
        self.plot.getAxis("left").setWidth(52)
        self.plot.setLogMode(x=False, y=True)
        self.plot.setLabel("bottom", "utilization (%)")

    def set_data(self, utilizations: Sequence[float], curves: dict[str, Sequence[float | None]], note: str = "") -> None:
        self.clear(note)
        xs_all = [100 * u for u in utilizations]
        drawn: list[tuple[str, str, str]] = []
        for i, (label, values) in enumerate(curves.items()):
            pts = [(x, v) for x, v in zip(xs_all, values, strict=False) if v is not None and v > 0]
            if not pts:
                continue
            colour = SERIES[i % len(SERIES)]
            curve = self.plot.plot([p[0] for p in pts], [p[1] for p in pts], pen=pg.mkPen(colour, width=2))
            self.items.append(curve)
            drawn.append((colour, label, "line"))
        if not drawn:
            self.clear(note or "No cost data for this model.")
            return
        self.legend.set_entries(drawn)
        values = [v for vs in curves.values() for v in vs if v is not None and v > 0]
        # Dollar ticks at 1-2-5 steps: pyqtgraph's own log ticks label every minor step and crowd the axis.
        lo, hi = min(values), max(values)
        steps = [m * 10**e for e in range(-4, 7) for m in (1, 2, 5)]
        shown = [t for t in steps if lo / 2 <= t <= hi * 2]
        if len(shown) > 5:  # a short plot: decades only, or the labels overlap
            shown = [t for t in shown if f"{t:g}".lstrip("0.").startswith("1")] or shown
        self.plot.getAxis("left").setTicks([[(math.log10(t), units.usd_text(t)) for t in shown]])
        self.plot.setYRange(math.log10(lo / 1.5), math.log10(hi * 1.5), padding=0)  # no line on the axis
        self.plot.setXRange(0, 100, padding=0.02)


def log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks at 1-2-5 steps between ``lo`` and ``hi`` (positive) for a log axis: pyqtgraph's own label every
    minor step and overlap on a small plot."""
    steps = [m * 10**e for e in range(-2, 8) for m in (1, 2, 5)]
    shown = [t for t in steps if lo <= t <= hi]
    if len(shown) > 6:
        shown = [t for t in shown if str(t).lstrip("0.").startswith("1")] or shown
    return [(math.log10(t), units.rate_text(t)) for t in shown]


class ServingChart(_Chart):
    """Per-user tokens/s against the node's output tokens/s as concurrency grows (log-log), the points past the
    time-to-first-token limit drawn apart, each point labelled with its concurrency."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Per-user against node output tokens/s as concurrency grows", parent)
        self.plot.setLogMode(x=True, y=True)
        self.plot.setLabel("bottom", "node output tok/s")
        self.plot.setLabel("left", "user tok/s")

    def set_data(self, points, ttft_limit_s: float, note: str = "", title: str | None = None) -> None:
        self.clear(note)
        if title:
            self.caption.setText(title)
        pts = [p for p in points if p.output_tokens_per_s > 0 and p.per_user_tokens_per_s > 0]
        if not pts:
            self.clear(note or "No serving estimate for this quant here.")
            return
        xs = [p.output_tokens_per_s for p in pts]
        ys = [p.per_user_tokens_per_s for p in pts]
        line = self.plot.plot(xs, ys, pen=pg.mkPen(SERIES[0], width=2))
        self.items.append(line)
        legend: list[tuple[str, str, str]] = []
        fast = [p for p in pts if p.ttft_s <= ttft_limit_s]
        slow = [p for p in pts if p.ttft_s > ttft_limit_s]
        for group, colour, symbol, name in (
                (fast, SERIES[0], "o", f"first token within {units.seconds_text(ttft_limit_s)}"),
                (slow, SERIES[3], "x", f"first token over {units.seconds_text(ttft_limit_s)}")):
            if not group:
                continue
            scatter = self.plot.plot([p.output_tokens_per_s for p in group], [p.per_user_tokens_per_s for p in group],
                                     pen=None, symbol=symbol, symbolSize=9, symbolBrush=colour, symbolPen=colour)
            legend.append((colour, name, "line"))
            self.items.append(scatter)
        self.legend.set_entries(legend)
        colour = _text_colour()
        for p in pts:
            label = f"{p.concurrency:,} (max)" if p.saturated else f"{p.concurrency:,}"
            # The last point's label sits to its left, inside the plot.
            text = pg.TextItem(label, color=colour, anchor=(1, 0) if p is pts[-1] else (0, 1))
            text.setPos(math.log10(p.output_tokens_per_s), math.log10(p.per_user_tokens_per_s))
            self.plot.addItem(text)
            self.items.append(text)
        self.plot.getAxis("bottom").setTicks([log_ticks(min(xs) / 1.5, max(xs) * 2.5)])
        self.plot.getAxis("left").setTicks([log_ticks(min(ys) / 1.5, max(ys) * 1.6)])
        lo_x, hi_x = math.log10(min(xs)), math.log10(max(xs))
        lo_y, hi_y = math.log10(min(ys)), math.log10(max(ys))
        self.plot.setXRange(lo_x - 0.1, hi_x + 0.1, padding=0)
        self.plot.setYRange(lo_y - 0.25, hi_y + 0.2, padding=0)

    def clear(self, note: str = "") -> None:
        super().clear(note)
        self.caption.setText(self._title)
