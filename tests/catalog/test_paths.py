"""The per-user folders: computed without platformdirs on Linux, and the same as platformdirs gives."""

from __future__ import annotations

import sys

import platformdirs
import pytest

from rigcheck.catalog import paths


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the direct computation is for Linux and BSD")
@pytest.mark.parametrize("xdg", [None, "", "   ", "/srv/xdg"])
@pytest.mark.parametrize("kind", ["cache", "config", "data"])
def test_user_dirs_match_platformdirs(kind, xdg, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    env = paths._XDG[kind][0]
    if xdg is None:
        monkeypatch.delenv(env, raising=False)
    else:
        monkeypatch.setenv(env, xdg)
    expected = getattr(platformdirs, f"user_{kind}_dir")("rigcheck", appauthor=False)
    assert paths.user_dir(kind) == expected


def test_environment_overrides_win(monkeypatch, tmp_path):
    monkeypatch.setenv("RIGCHECK_CONFIG_DIR", str(tmp_path / "cfg"))
    assert paths.config_dir() == tmp_path / "cfg"
    monkeypatch.delenv("RIGCHECK_CONFIG_DIR")
    assert paths.config_dir().name == "rigcheck"
