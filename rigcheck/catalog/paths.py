"""Where rigcheck keeps its files: one place, each folder overridable by an environment variable.

RIGCHECK_CACHE_DIR   catalog cache (refreshed feeds, fetched models)
RIGCHECK_CONFIG_DIR  settings and window state
RIGCHECK_DATA_DIR    user data (saved machine profiles)
Tests point all three at a temporary folder (tests/conftest.py), so no test touches the home directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "rigcheck"
_XDG = {"cache": ("XDG_CACHE_HOME", "~/.cache"), "config": ("XDG_CONFIG_HOME", "~/.config"),
        "data": ("XDG_DATA_HOME", "~/.local/share")}


def user_dir(kind: str) -> str:
    """The per-user folder for ``kind`` (cache, config, data) that platformdirs gives.

    On Linux and the BSDs it is computed here, as platformdirs does (the XDG base directories): importing
    platformdirs costs the desktop app ~10 ms of start-up. Elsewhere platformdirs answers.
    """
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        env, fallback = _XDG[kind]
        base = os.environ.get(env, "")
        return os.path.join(base if base.strip() else os.path.expanduser(fallback), APP_NAME)
    import platformdirs

    return getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, appauthor=False)


def _dir(env: str, kind: str) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else Path(user_dir(kind))


def cache_dir() -> Path:
    return _dir("RIGCHECK_CACHE_DIR", "cache")


def config_dir() -> Path:
    return _dir("RIGCHECK_CONFIG_DIR", "config")


def data_dir() -> Path:
    return _dir("RIGCHECK_DATA_DIR", "data")
