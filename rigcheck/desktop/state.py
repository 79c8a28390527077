"""What the app remembers between runs: window geometry and layout, the estimator settings, the feed URL.

Stored with QSettings in an INI file under RIGCHECK_CONFIG_DIR (``rigcheck.paths.config_dir``), so tests and
portable installs never write to the registry or the home folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rigcheck.catalog.paths import config_dir
from rigcheck.estimate.rules import Thresholds
from rigcheck.estimate.types import Settings

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

_KV = ("f16", "q8_0", "q4_0")
_RUNTIMES = ("llama.cpp", "vllm", "mlx")


def settings_path() -> Path:
    return config_dir() / "rigcheck.ini"


def open_settings() -> QSettings:
    from PySide6.QtCore import QSettings

    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


class IniValues:
    """The settings file read without Qt (by the first-look helper process), answering ``value(key, default)``
    like QSettings does for the plain numbers and words the estimator settings are stored as.

    Anything it cannot read reads as missing, so the defaults apply; the GUI process compares the settings
    the helper used with its own (read through QSettings) and discards the helper's work when they differ.
    """

    def __init__(self, path: Path):
        import configparser

        self._parser = configparser.ConfigParser(interpolation=None)
        self._parser.optionxform = str  # type: ignore[assignment,method-assign] - QSettings keys keep their case
        try:
            self._parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            self._parser = configparser.ConfigParser(interpolation=None)

    def value(self, key: str, default: Any = None) -> Any:
        section, _, name = key.rpartition("/")
        value = self._parser.get(section or "General", name, fallback=None)
        if value is None:
            return default
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return value


def _int(value, default: int, low: int, high: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    return n if low <= n <= high else default


def _float(value, default: float, low: float, high: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if low <= x <= high else default  # NaN fails both comparisons


def load_estimator_settings(store: QSettings) -> Settings:
    """The last settings used; any value that is missing or unreadable falls back to its default."""
    d = Settings()
    runtime = store.value("estimate/runtime", "")
    basis = store.value("estimate/memory_basis", d.memory_basis)
    kv = store.value("estimate/kv_cache_type", d.kv_cache_type)
    return Settings(
        context_tokens=_int(store.value("estimate/context_tokens"), d.context_tokens, 256, 16 * 2**20),
        prompt_tokens=_int(store.value("estimate/prompt_tokens"), d.prompt_tokens, 16, 16 * 2**20),
        kv_cache_type=kv if kv in _KV else d.kv_cache_type,
        runtime=runtime if runtime in _RUNTIMES else None,
        memory_basis=basis if basis in ("total", "free") else d.memory_basis,
        usable=Thresholds(
            _float(store.value("estimate/min_decode_tokens_per_s"), d.usable.min_decode_tokens_per_s, 0.01, 1e6),
            _float(store.value("estimate/max_ttft_s"), d.usable.max_ttft_s, 0.01, 1e6)),
        input_per_output=_float(store.value("estimate/input_per_output"), d.input_per_output, 0.0, 1e3),
    )


def save_estimator_settings(store: QSettings, settings: Settings) -> None:
    values = {
        "context_tokens": settings.context_tokens,
        "prompt_tokens": settings.prompt_tokens,
        "kv_cache_type": settings.kv_cache_type,
        "runtime": settings.runtime or "",
        "memory_basis": settings.memory_basis,
        # Floats as text: QSettings would write a double as an @Variant blob the first-look helper cannot read.
        "min_decode_tokens_per_s": repr(float(settings.usable.min_decode_tokens_per_s)),
        "max_ttft_s": repr(float(settings.usable.max_ttft_s)),
        "input_per_output": repr(float(settings.input_per_output)),
    }
    for name, value in values.items():
        store.setValue(f"estimate/{name}", value)


def save_refresh_url(store: QSettings, url: str | None, allow_unsigned: bool) -> None:
    """Remember the feed URL (None: the project's feed) and whether an unsigned feed is accepted from it."""
    store.setValue("catalog/feed_url", url or "")
    store.setValue("catalog/allow_unsigned", "true" if allow_unsigned and url else "false")
    store.sync()


def refresh_url(store: QSettings) -> tuple[str | None, bool]:
    """(feed URL or None for the project's feed, whether an unsigned feed is accepted from it)."""
    url = str(store.value("catalog/feed_url", "") or "").strip() or None
    unsigned = str(store.value("catalog/allow_unsigned", "false")).lower() in ("1", "true", "yes")
    return url, unsigned and url is not None
