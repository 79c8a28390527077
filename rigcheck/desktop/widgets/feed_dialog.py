"""Where "Refresh catalog" fetches from: Hugging Face and OpenRouter directly, or a signed feed by URL."""

from __future__ import annotations

from urllib.parse import urlparse

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLineEdit, QVBoxLayout

from rigcheck.desktop.widgets.machine_panel import plain_label

EXPLANATION = (
    "Refresh catalog asks Hugging Face and OpenRouter, from this machine, for new models, quants, file sizes "
    "and prices. To use a mirror or an air-gapped site's signed feed (built with “rigcheck catalog build”) "
    "instead, give its URL here; leave it empty to query the sources. A feed must carry a signature from a key "
    "pinned in this app (at URL + \".sig\"), unless you accept an unsigned one below: do that only for a feed "
    "you run yourself."
)


def feed_url_problem(text: str) -> str | None:
    """Why ``text`` cannot be a feed URL (one sentence), or None when it can (empty = the project's feed)."""
    text = text.strip()
    if not text:
        return None
    from rigcheck.catalog.redact import redact_url

    try:
        parsed = urlparse(text)
        parsed.port  # noqa: B018 -- reading it is what checks it (ValueError for "host:99999")
    except ValueError as exc:  # "http://[::1": an unclosed bracket
        return f"“{redact_url(text)}” is not a usable URL ({exc})."
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return f"“{redact_url(text)}” is not an http(s) URL."
    return None


class FeedDialog(QDialog):
    """On accept, ``url`` is the feed URL (None: the project's feed) and ``allow_unsigned`` whether an unsigned
    feed is accepted from it (never for the project's feed)."""

    def __init__(self, url: str | None, allow_unsigned: bool, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Catalog source")
        self.url: str | None = url
        self.allow_unsigned = allow_unsigned and url is not None
        self.url_edit = QLineEdit(url or "")
        self.url_edit.setPlaceholderText("Hugging Face and OpenRouter")
        self.url_edit.setClearButtonEnabled(True)
        self.url_edit.setAccessibleName("Feed URL")
        self.unsigned = QCheckBox("Accept an unsigned feed from this URL")
        self.unsigned.setChecked(self.allow_unsigned)
        self.problem = plain_label("", wrap=True)
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(EXPLANATION, wrap=True))
        layout.addWidget(self.url_edit)
        layout.addWidget(self.unsigned)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.url_edit.textChanged.connect(self._changed)
        self._changed(self.url_edit.text())
        self.setMinimumWidth(560)
        self.adjustSize()

    def _changed(self, text: str) -> None:
        custom = bool(text.strip())
        self.unsigned.setEnabled(custom)  # only a feed can be unsigned
        self.problem.hide()

    def accept(self) -> None:
        text = self.url_edit.text().strip()
        problem = feed_url_problem(text)
        if problem is not None:
            self.problem.setText(problem)
            self.problem.show()
            self.adjustSize()  # room for the sentence, without squeezing the explanation
            return  # the dialog stays open with what was typed
        self.url = text or None
        self.allow_unsigned = self.url is not None and self.unsigned.isChecked()
        super().accept()
