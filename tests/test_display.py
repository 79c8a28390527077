"""Without a display (or without the X11 libraries Qt loads), `rigcheck` says so in one line instead of aborting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rigcheck.desktop.display import why_no_window


def loader(missing=()):
    def load(name):
        if name in missing:
            raise OSError(f"{name}: cannot open shared object file")

    return load


@pytest.mark.parametrize(("env", "platform", "missing", "expect"), [
    ({}, "linux", (), "no display"),
    ({"DISPLAY": ":0"}, "linux", (), None),
    ({"DISPLAY": ":0"}, "linux", ("libxcb-cursor.so.0",), "libxcb-cursor.so.0"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", ("libxcb-cursor.so.0",), None),  # Wayland needs no xcb
    ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, "linux", (), "no display"),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", (), None),  # asked for: Qt draws offscreen
    ({}, "darwin", (), None),
    ({}, "win32", (), None),
])
def test_why_no_window(env, platform, missing, expect):
    why = why_no_window(env, platform, loader(missing))
    if expect is None:
        assert why is None
    else:
        assert expect in why and "--screenshot" in why and "rigcheck fit" in why


@pytest.mark.parametrize("argv", [[], ["gui", "--gpu", "RTX 4090", "--ram", "64GB"]])
def test_rigcheck_without_a_display_exits_with_one_line(argv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["RIGCHECK_NO_FIRST_LOOK"] = "1"
    done = subprocess.run([sys.executable, "-m", "rigcheck", *argv], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stderr  # not 134 (Qt's abort)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rigcheck: cannot open the window: no display")


def test_a_screenshot_offscreen_writes_nothing_on_stderr(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RIGCHECK_NO_FIRST_LOOK="1")
    out = tmp_path / "window.png"
    done = subprocess.run([sys.executable, "-m", "rigcheck", "gui", "--gpu", "RTX 4090", "--ram", "64GB",
                           "--screenshot", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "propagateSizeHints" not in done.stderr and done.stderr == ""
    assert out.stat().st_size > 10_000
