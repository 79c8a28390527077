"""What the app remembers between runs: window geometry and layout, the estimator settings, the feed URL.

Stored with QSettings in an INI file under RIGCHECK_CONFIG_DIR (``rigcheck.paths.config_dir``), so tests and
portable installs never write to the registry or the home folder.
"""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import QSettings

from rigcheck.catalog.estimate.types import Settings
from rigcheck.catalog.paths import config_dir

_KV = ("f16", "q8_0", "q4_0")
_RUNTIMES = ("llama.cpp", "vllm", "mlx")


def open_settings() -> QSettings:
    path = config_dir()
    path.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path / "rigcheck.ini"), QSettings.Format.IniFormat)


def _int(value, default: int, low: int, high: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return default
    return n if low <= n <= high else default


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
    )


def save_estimator_settings(store: QSettings, settings: Settings) -> None:
    for f in fields(settings):
        if f.name == "quant":
            continue
        value = getattr(settings, f.name)
        store.setValue(f"estimate/{f.name}", "" if value is None else value)


def refresh_url(store: QSettings) -> tuple[str | None, bool]:
    """(feed URL or None for the project's feed, whether an unsigned feed is accepted from it)."""
    url = str(store.value("catalog/feed_url", "") or "").strip() or None
    unsigned = str(store.value("catalog/allow_unsigned", "false")).lower() in ("1", "true", "yes")
    return url, unsigned and url is not None
