"""The settings bar: prompt length, context, KV cache type, runtime and memory basis (total or free).

Emits ``changed(Settings)`` once per edit, debounced, so typing a number does not start ten re-evaluations.
"""

from __future__ import annotations

from msgspec.structs import replace
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from rigcheck import units
from rigcheck.estimate.types import Settings

PROMPT_CHOICES = (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)
CONTEXT_CHOICES = (2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576)
KV_TYPES = (("f16", "F16"), ("q8_0", "Q8_0"), ("q4_0", "Q4_0"))
RUNTIMES = ((None, "Best available"), ("llama.cpp", "llama.cpp"), ("vllm", "vLLM"), ("mlx", "MLX"))
BASES = (("total", "Can run (total memory)"), ("free", "Runs now (free memory)"))


def _combo(items, current, tip: str) -> QComboBox:
    box = QComboBox()
    for data, text in items:
        box.addItem(text, data)
    idx = box.findData(current)
    box.setCurrentIndex(idx if idx >= 0 else 0)
    box.setToolTip(tip)
    return box


class SettingsBar(QWidget):
    changed = Signal(object)

    DEBOUNCE_MS = 150

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        s = settings or Settings()
        self._settings = s
        self.prompt = _combo([(n, f"{units.tokens_text(n)} tokens") for n in _with(PROMPT_CHOICES, s.prompt_tokens)],
                             s.prompt_tokens, "Prompt length: sets prefill depth and time to first token")
        self.context = _combo([(n, units.tokens_text(n)) for n in _with(CONTEXT_CHOICES, s.context_tokens)],
                              s.context_tokens, "Context to reserve KV cache for (capped at each model's maximum)")
        self.kv_type = _combo(KV_TYPES, s.kv_cache_type, "KV cache precision: Q8_0 halves its size, Q4_0 quarters it")
        self.runtime = _combo(RUNTIMES, s.runtime, "Runtime to estimate for")
        self.basis = _combo(BASES, s.memory_basis,
                            "Total: could this machine run it. Free: could it run it now, with what is already in use")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, box in (("Prompt", self.prompt), ("Context", self.context), ("KV cache", self.kv_type),
                          ("Runtime", self.runtime), ("Memory", self.basis)):
            label = QLabel(text)
            label.setBuddy(box)
            layout.addWidget(label)
            layout.addWidget(box)
        layout.addStretch(1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DEBOUNCE_MS)
        self._timer.timeout.connect(self._emit)
        for box in (self.prompt, self.context, self.kv_type, self.runtime, self.basis):
            box.currentIndexChanged.connect(self._timer.start)
        self.prompt.currentIndexChanged.connect(self._context_holds_prompt)
        self.context.currentIndexChanged.connect(self._prompt_fits_context)

    def _context_holds_prompt(self) -> None:
        """A prompt longer than the context cannot be processed: grow the context to hold it."""
        prompt = int(self.prompt.currentData())
        if int(self.context.currentData()) < prompt:
            for i in range(self.context.count()):
                if int(self.context.itemData(i)) >= prompt:
                    self.context.setCurrentIndex(i)
                    return

    def _prompt_fits_context(self) -> None:
        context = int(self.context.currentData())
        if int(self.prompt.currentData()) > context:
            for i in reversed(range(self.prompt.count())):
                if int(self.prompt.itemData(i)) <= context:
                    self.prompt.setCurrentIndex(i)
                    return

    def settings(self) -> Settings:
        return replace(
            self._settings,
            prompt_tokens=int(self.prompt.currentData()),
            context_tokens=int(self.context.currentData()),
            kv_cache_type=self.kv_type.currentData(),
            runtime=self.runtime.currentData(),
            memory_basis=self.basis.currentData(),
        )

    def set_base(self, settings: Settings) -> None:
        """Settings changed elsewhere (the Settings dialog: thresholds, blend): the bar's edits keep them."""
        self._settings = replace(settings, prompt_tokens=self._settings.prompt_tokens,
                                 context_tokens=self._settings.context_tokens,
                                 kv_cache_type=self._settings.kv_cache_type, runtime=self._settings.runtime,
                                 memory_basis=self._settings.memory_basis)

    def flush(self) -> None:
        """Emit now if an edit is pending (tests, and before export)."""
        if self._timer.isActive():
            self._timer.stop()
            self._emit()

    def _emit(self) -> None:
        self._settings = self.settings()
        self.changed.emit(self._settings)


def _with(choices: tuple[int, ...], value: int) -> list[int]:
    return sorted(set(choices) | {value})
