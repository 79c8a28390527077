"""Settings: what counts as usable (decode floor, first-token ceiling) and how hosted prices are blended.

The same three numbers as ``rigcheck fit --min-decode --max-ttft --input-per-output`` (``rigcheck.estimate.rules``);
accepting re-evaluates with them and they are remembered in ``rigcheck.ini``.
"""

from __future__ import annotations

from msgspec.structs import replace
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rigcheck.desktop.widgets.machine_panel import plain_label
from rigcheck.estimate import rules
from rigcheck.estimate.types import Settings


def _spin(value: float, low: float, high: float, step: float, suffix: str, decimals: int = 1) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSuffix(suffix)
    box.setValue(value)
    return box


class SettingsDialog(QDialog):
    """Edits the usable thresholds and the blend of a ``Settings``; ``result_settings()`` after accepting."""

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        self.min_decode = _spin(settings.usable.min_decode_tokens_per_s, 0.5, 10000.0, 1.0, " tok/s")
        self.max_ttft = _spin(settings.usable.max_ttft_s, 0.5, 3600.0, 5.0, " s")
        self.ratio = _spin(settings.input_per_output, 0.0, 100.0, 1.0, " : 1")
        form = QFormLayout()
        form.addRow("Usable: decode at least", self.min_decode)
        form.addRow("and first token within", self.max_ttft)
        form.addRow("Hosted price blend, input : output", self.ratio)
        note = plain_label(
            f"Defaults: {rules.DEFAULT_MIN_DECODE_TOKENS_PER_S:g} tok/s (faster than people read), "
            f"{rules.DEFAULT_MAX_TTFT_S:g} s for the prompt length in the settings bar, and "
            f"{rules.DEFAULT_INPUT_PER_OUTPUT:g}:1, the industry's blend: (3 × input + output) / 4. The same rules "
            "apply in `rigcheck fit` and in exported reports.", wrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.defaults = QPushButton("Defaults")
        buttons.addButton(self.defaults, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.defaults.clicked.connect(self._defaults)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _defaults(self) -> None:
        self.min_decode.setValue(rules.DEFAULT_MIN_DECODE_TOKENS_PER_S)
        self.max_ttft.setValue(rules.DEFAULT_MAX_TTFT_S)
        self.ratio.setValue(rules.DEFAULT_INPUT_PER_OUTPUT)

    def result_settings(self) -> Settings:
        """The settings given, with the thresholds and blend as edited."""
        return replace(self._settings,
                       usable=rules.Thresholds(self.min_decode.value(), self.max_ttft.value()),
                       input_per_output=self.ratio.value())
