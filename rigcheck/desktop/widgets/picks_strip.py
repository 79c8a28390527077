"""The "Best for this machine" strip above the table: the pick for each use, the capacity line, the Mac hint.

It shows ``models.picks``' plain data and decides nothing: a card's button selects its model in the table.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from rigcheck.desktop.models import format as fmt
from rigcheck.desktop.models.picks import PickCard, capacity_line, hint_line, pick_cards
from rigcheck.desktop.widgets.machine_panel import plain_label


class _Card(QPushButton):
    """A pick card: lines of plain text, each cut with "…" to the width the strip gives the card (the whole text is
    in the tooltip), so the four cards never make the window wider than the screen whatever the names and tiers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._lines: list[str] = []

    def set_lines(self, lines: list[str]) -> None:
        self._lines = list(lines)
        self._fit()

    def full_text(self) -> str:
        return "\n".join(self._lines)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(120, super().sizeHint().height())  # the strip shares its width out; the text is cut to fit

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(120, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        room = max(40, self.width() - 20)  # the style sheet's padding and the frame
        self.setText("\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideRight, room) for line in self._lines))


class PicksStrip(QFrame):
    """Four cards (chat, coding agent, long context, vision) and two lines: capacity and, on a Mac, the sysctl."""

    picked = Signal(str)
    """The model id of the card clicked."""
    settings_wanted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.title = plain_label("Best for this machine", bold=True)
        self.rule = plain_label("")
        self.rule.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.change = QPushButton("Change…")
        self.change.setToolTip("What counts as usable, and how hosted prices are blended (Settings)")
        self.change.setFlat(True)
        self.change.clicked.connect(self.settings_wanted)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title)
        head.addWidget(self.rule, 1)
        head.addWidget(self.change)

        self.cards: list[_Card] = []
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for _ in range(4):
            button = _Card()
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.setStyleSheet("QPushButton { text-align: left; padding: 4px 8px; }")
            button.clicked.connect(lambda _checked=False, b=button: self._clicked(b))
            self.cards.append(button)
            row.addWidget(button, 1)
        self.capacity = plain_label("", wrap=True)
        self.hint = plain_label("", wrap=True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # copy the sysctl
        self.hint.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(3)
        layout.addLayout(head)
        layout.addLayout(row)
        layout.addWidget(self.capacity)
        layout.addWidget(self.hint)
        self._ids: dict[int, str | None] = {}
        self.shown: tuple[PickCard, ...] = ()

    def set_rule(self, text: str) -> None:
        """What usable means and how prices are blended, as the settings say (one line)."""
        self.rule.setText(text)

    def set_cells(self, cells) -> None:
        """Show the picks of these table cells (``cells.TableRow``)."""
        self.shown = pick_cards(cells)
        for button, card in zip(self.cards, self.shown, strict=True):
            button.set_lines(list(card.lines))  # each line cut to the card's width (the model's name too)
            button.setToolTip(fmt.tooltip(card.tooltip))
            button.setAccessibleName(f"{card.title}: {card.lines[1]}")
            button.setEnabled(card.model_id is not None)
            self._ids[id(button)] = card.model_id
        self.capacity.setText(capacity_line(cells))
        hint = hint_line(cells)
        self.hint.setText(f"On this Mac: {hint}" if hint else "")
        self.hint.setVisible(bool(hint))

    def _clicked(self, button: QPushButton) -> None:
        model_id = self._ids.get(id(button))
        if model_id:
            self.picked.emit(model_id)


def rule_text(settings) -> str:
    """``"usable = ≥ 10 tok/s decode and a first token within 60 s for a 4k prompt · hosted prices blended 3:1"``."""
    from rigcheck import units

    text = (f"usable = {settings.usable.describe()} for a {units.tokens_text(settings.prompt_tokens)} prompt · "
            f"hosted prices blended {settings.input_per_output:g}:1 (input:output)")
    if settings.prompt_tokens > settings.context_tokens:
        text += " · " + units.context_setting_text(settings.context_tokens, settings.prompt_tokens)
    return text
