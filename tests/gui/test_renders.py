"""The window rendered offscreen as people see it: a workstation, a Mac and an 8x H200 node, at 1366x768 and
2560x1440, on the real catalog and estimator. The picks strip names usable models, the table starts with a
usable one, and no control is clipped or pushed off the window.

These renders are the README's screenshots: ``RIGCHECK_SCREENSHOT_DIR=docs/screenshots make test`` (or pytest on
this file) writes them there (docs/development.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QWidget

from rigcheck.catalog.devices import hypothetical_machine
from rigcheck.catalog.store import load_catalog
from rigcheck.desktop.app import populated_window
from rigcheck.desktop.models.model_table import MODEL, ROW_ROLE
from rigcheck.desktop.services import default_services

GIB = 1024**3
MACHINES = {
    "workstation": (["RTX 4090"], 64),
    "apple": (["Apple M3 Ultra (80-core GPU)"], 512),
    "h200-node": (["8 x H200"], 2048),
}
SIZES = ((1366, 768), (2560, 1440))


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def clipped(window) -> list[str]:
    """Visible controls narrower than their text needs, or reaching outside the window."""
    problems = []
    bounds = window.rect()
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.window() is not window:
            continue
        if not isinstance(widget, QAbstractButton | QComboBox | QLabel):
            continue
        if isinstance(widget, QLabel) and (widget.wordWrap() or not widget.text() or widget.pixmap() is not None
                                           and not widget.pixmap().isNull()):
            continue
        if isinstance(widget.parent(), QWidget) and type(widget.parent()).__name__ in ("QToolBar",):
            continue  # the toolbar moves what does not fit into its extension menu
        name = f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')() or widget.accessibleName()!r}"
        if isinstance(widget, QComboBox):
            needed = widget.fontMetrics().horizontalAdvance(widget.currentText()) + 28
        else:
            needed = widget.sizeHint().width()
        if widget.width() + 1 < needed:
            problems.append(f"{name}: {widget.width()} px wide, needs {needed}")
        top_left = widget.mapTo(window, QPoint(0, 0))
        if not bounds.contains(QRect(top_left, widget.size())):
            problems.append(f"{name}: outside the window at {top_left.x()},{top_left.y()}")
    return problems


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("kind", list(MACHINES))
def test_render_shows_usable_picks_first_and_clips_nothing(qapp, catalog, kind, size, tmp_path):
    gpus, ram_gib = MACHINES[kind]
    machine = hypothetical_machine(gpus, ram_gib * GIB, catalog=catalog)
    services = default_services().with_(load_catalog=lambda: catalog, first_look=None)
    window = populated_window(qapp, services, machine, size)
    try:
        usable = {r.model.id for r in window.models_page.model.rows() if r.usable}
        assert usable, f"{kind}: some model runs usably"
        cards = window.picks.shown
        assert [c.title for c in cards] == ["Chat", "Coding agent", "Long context", "Vision"]
        assert all(c.model_id in usable for c in cards if c.model_id), [c.model_id for c in cards]
        assert cards[0].model_id is not None, "a chat model runs usably on each of these machines"
        first = window.models_page.proxy.index(0, MODEL).data(ROW_ROLE)
        assert first.usable, f"{kind}: the first row is usable"
        assert window.detail_page.isHidden(), "the detail pane is closed until a model is selected"
        assert window.width() <= size[0] and window.height() <= size[1], (window.size(), window.minimumSizeHint())
        assert not clipped(window), clipped(window)
        # And with the chat pick open in the detail pane: still nothing clipped.
        window.picks.cards[0].click()
        qapp.processEvents()
        assert window.models_page.selected_model_id() == cards[0].model_id
        assert not window.detail_page.isHidden()
        assert not clipped(window), clipped(window)
        assert window.width() <= size[0] and window.height() <= size[1], (window.size(), window.minimumSizeHint())
        # Every column of the quant table in view, and each chart's key within its chart.
        quant_view = window.detail_page.quant_view
        assert not quant_view.horizontalScrollBar().isVisible(), quant_view.horizontalHeader().length()
        memory_chart = window.detail_page.memory_chart
        assert memory_chart.legend.isVisible() and memory_chart.legend.width() <= memory_chart.width()
        for chart in (memory_chart, window.detail_page.speed_chart, window.detail_page.cost_chart):
            assert chart.minimumSizeHint().width() <= chart.width(), type(chart).__name__
        out = Path(os.environ.get("RIGCHECK_SCREENSHOT_DIR") or tmp_path)
        out.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(out / f"{kind}-{size[0]}x{size[1]}.png"))
    finally:
        window.machine_panel.sparkline.timer.stop()
        window.close()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_cost_chart_parts_fit_and_its_note_shows_whole_lines(qapp, catalog, size):
    """The cost chart of an 8x H200 node's DeepSeek-R1 (a three-sentence break-even note): caption, plot, key and
    note each within the chart, the plot at least its minimum height; the whole note when the pane is tall enough,
    else whole lines of it (at least one) with the rest to scroll."""
    from rigcheck.desktop.app import _select_tab
    from rigcheck.desktop.widgets.charts import PLOT_MIN_HEIGHT

    machine = hypothetical_machine(["8 x H200"], 2048 * GIB, catalog=catalog)
    services = default_services().with_(load_catalog=lambda: catalog, first_look=None)
    window = populated_window(qapp, services, machine, size, select="deepseek-ai/DeepSeek-R1")
    try:
        _select_tab(window.detail_page, "Cost")
        for _ in range(3):
            qapp.processEvents()
        chart = window.detail_page.cost_chart
        note = chart.note.text()
        assert note.count("\n") >= 2 and "cheapest" in note, note
        for part in (chart.caption, chart.plot, chart.legend, chart.note_area):
            assert part.isVisible() and 0 <= part.y() and part.geometry().bottom() < chart.height(), \
                (type(part).__name__, part.geometry(), chart.height())
        assert chart.plot.height() >= PLOT_MIN_HEIGHT
        needed = chart.note.heightForWidth(chart.width())
        line = chart.note.fontMetrics().lineSpacing()
        if size == (2560, 1440):
            assert chart.note_area.height() >= needed, (chart.note_area.height(), needed)
        else:
            assert chart.note_area.height() < needed and chart.note_area.height() % line == 0
        assert chart.note_area.height() >= line
    finally:
        window.machine_panel.sparkline.timer.stop()
        window.close()
