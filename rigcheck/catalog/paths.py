"""Where rigcheck keeps its files: one place, each folder overridable by an environment variable.

RIGCHECK_CACHE_DIR   catalog cache (refreshed feeds, fetched models)
RIGCHECK_CONFIG_DIR  settings and window state
RIGCHECK_DATA_DIR    user data (saved machine profiles)
Tests point all three at a temporary folder (tests/conftest.py), so no test touches the home directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "rigcheck"


def _dir(env: str, default: str) -> Path:
    value = os.environ.get(env)
    return Path(value) if value else Path(default)


def cache_dir() -> Path:
    return _dir("RIGCHECK_CACHE_DIR", platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return _dir("RIGCHECK_CONFIG_DIR", platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return _dir("RIGCHECK_DATA_DIR", platformdirs.user_data_dir(APP_NAME, appauthor=False))
