"""Shared fixtures: every test runs with rigcheck's folders in a temporary directory, offscreen."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """No test touches the user's home: cache, config and data folders live under tmp_path."""
    home = tmp_path / "home"
    for name in ("RIGCHECK_CACHE_DIR", "RIGCHECK_CONFIG_DIR", "RIGCHECK_DATA_DIR"):
        path = home / name.split("_")[1].lower()
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("RIGCHECK_NO_NETWORK", "1")
    # The installed-model scan looks where these point: the temporary home, never the real model folders.
    for name in ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "LLAMA_CACHE", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLLAMA_MODELS", str(home / ".ollama" / "models"))
