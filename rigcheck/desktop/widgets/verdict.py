"""Verdict icons: a distinct shape per verdict as well as a colour, so they read for colour-blind users.

Colours are from the Okabe–Ito palette (distinguishable under the common colour-vision deficiencies) and
mid-tone, so they stay legible on both light and dark system themes; the shape carries the meaning alone.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

VERDICT_COLOURS = {
    "gpu": "#009E73",  # bluish green
    "unified": "#0072B2",  # blue
    "gpu+ram": "#E69F00",  # orange
    "cpu": "#CC79A7",  # reddish purple
    "no_fit": "#D55E00",  # vermillion
}


def verdict_colour(verdict: str | None) -> QColor:
    return QColor(VERDICT_COLOURS.get(verdict or "", "#999999"))


@cache
def verdict_icon(verdict: str | None, size: int = 16) -> QIcon:
    """Filled circle with a tick (gpu), diamond (unified), half-filled circle (gpu+ram), triangle (cpu),
    cross (no_fit). Cached: one pixmap per verdict."""
    icon = QIcon()
    for scale in (1, 2):  # crisp on HiDPI screens
        px = QPixmap(size * scale, size * scale)
        px.setDevicePixelRatio(scale)
        px.fill(Qt.GlobalColor.transparent)
        p = QPainter(px)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = verdict_colour(verdict)
        r = QRectF(1.5, 1.5, size - 3, size - 3)
        pen = QPen(colour, 1.6)
        p.setPen(pen)
        if verdict == "gpu":
            p.setBrush(colour)
            p.drawEllipse(r)
            tick = QPen(QColor("white"), 2.0)
            p.setPen(tick)
            path = QPainterPath(QPointF(size * 0.28, size * 0.52))
            path.lineTo(size * 0.44, size * 0.68)
            path.lineTo(size * 0.74, size * 0.34)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
        elif verdict == "unified":
            p.setBrush(colour)
            c = size / 2
            p.drawPolygon(QPolygonF([QPointF(c, 1.5), QPointF(size - 1.5, c), QPointF(c, size - 1.5),
                                     QPointF(1.5, c)]))
        elif verdict == "gpu+ram":
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(r)
            p.setBrush(colour)
            p.drawPie(r, 90 * 16, 180 * 16)
        elif verdict == "cpu":
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolygon(QPolygonF([QPointF(size / 2, 2), QPointF(size - 2, size - 2.5), QPointF(2, size - 2.5)]))
        elif verdict == "no_fit":
            p.setPen(QPen(colour, 2.4))
            p.drawLine(QPointF(3.5, 3.5), QPointF(size - 3.5, size - 3.5))
            p.drawLine(QPointF(size - 3.5, 3.5), QPointF(3.5, size - 3.5))
        else:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(r)
        p.end()
        icon.addPixmap(px)
    return icon


@cache
def installed_icon(size: int = 16) -> QIcon:
    """An arrow into a tray: the model is already on this machine (the Model cell of installed rows)."""
    icon = QIcon()
    for scale in (1, 2):
        px = QPixmap(size * scale, size * scale)
        px.setDevicePixelRatio(scale)
        px.fill(Qt.GlobalColor.transparent)
        p = QPainter(px)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colour = QColor("#0072B2")
        p.setPen(QPen(colour, 1.8))
        p.setBrush(Qt.BrushStyle.NoBrush)
        tray = QPainterPath(QPointF(2.0, size * 0.62))
        tray.lineTo(2.0, size - 2.0)
        tray.lineTo(size - 2.0, size - 2.0)
        tray.lineTo(size - 2.0, size * 0.62)
        p.drawPath(tray)
        p.drawLine(QPointF(size / 2, 2.0), QPointF(size / 2, size * 0.70))
        head = QPainterPath(QPointF(size * 0.28, size * 0.46))
        head.lineTo(size / 2, size * 0.72)
        head.lineTo(size * 0.72, size * 0.46)
        p.drawPath(head)
        p.end()
        icon.addPixmap(px)
    return icon
