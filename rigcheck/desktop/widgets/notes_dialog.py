"""What a catalog refresh skipped or noted, one repo a line, as plain text that can be selected and copied."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QPushButton, QVBoxLayout

from rigcheck.desktop.widgets.machine_panel import plain_label


class NotesDialog(QDialog):
    """A non-modal window: ``summary`` above, ``notes`` (lines from the network: never rich text) below."""

    def __init__(self, summary: str, notes: list[str], parent=None, title: str = "Catalog refresh: details"):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.summary = plain_label(summary, wrap=True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText("\n".join(notes))
        self.text.setAccessibleName("Skipped and noted repos")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy")
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(820, 420)
