"""pyqtgraph, imported on first use and set to the system palette (its import costs a large share of start-up,
so nothing imports it before the window has shown its first results)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def pg():
    import pyqtgraph
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    options = {"antialias": True, "background": None}
    if app is not None:
        # pyqtgraph draws with its own defaults; follow the system palette so dark mode reads.
        options["foreground"] = app.palette().color(QPalette.ColorRole.WindowText)
    pyqtgraph.setConfigOptions(**options)
    return pyqtgraph
