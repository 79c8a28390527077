"""The crash hook: an unexpected exception is logged and shown in a dialog with copyable details."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox


def show_error(parent, text: str, details: str = "", title: str = "rigcheck") -> QMessageBox:
    """A non-blocking message box: one readable sentence, the traceback under "Show Details…"."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    if details:
        box.setDetailedText(details)  # plain text, selectable and copyable
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.open()
    return box


def install_crash_hook() -> None:
    """Route uncaught exceptions (including those raised in slots) to the log and a dialog, not a silent exit.

    Installing it imports no Qt (it runs before the first-look helper is started)."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        import logging  # here, not at the top: installing the hook is on the start-up path
        import traceback

        from rigcheck.catalog.redact import redact_text  # a bug report must not carry a feed URL's password

        details = redact_text("".join(traceback.format_exception(exc_type, exc, tb)))
        logging.getLogger("rigcheck").error("unexpected error\n%s", details)
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is None:
            previous(exc_type, exc, tb)
            return
        show_error(app.activeWindow(), f"Something went wrong: {redact_text(str(exc)) or exc_type.__name__}. "
                   "The details below can be copied into a bug report.", details, "rigcheck — unexpected error")

    sys.excepthook = hook
