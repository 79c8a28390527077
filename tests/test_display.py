"""Without a display (or without the X11 libraries Qt loads), `rigcheck` says so in one line instead of aborting."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

from rigcheck.desktop.display import X11_TCP_BASE_PORT, settle_platform, why_no_window


def loader(missing=()):
    def load(name):
        if name in missing:
            raise OSError(f"{name}: cannot open shared object file")

    return load


@pytest.fixture
def runtime_dir():
    """A short directory for Unix sockets (their paths are limited to ~100 bytes, tmp_path can be longer)."""
    path = tempfile.mkdtemp(prefix="rc-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def compositor(runtime_dir):
    """A listening Unix socket where libwayland looks for WAYLAND_DISPLAY=wayland-live: a running compositor."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(os.path.join(runtime_dir, "wayland-live"))
        server.listen()
        yield {"XDG_RUNTIME_DIR": runtime_dir, "WAYLAND_DISPLAY": "wayland-live"}


@pytest.fixture
def x_server():
    """A listening TCP socket on 127.0.0.1 at 6000 + N: a running X server for DISPLAY=127.0.0.1:N."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port > X11_TCP_BASE_PORT
        yield f"127.0.0.1:{port - X11_TCP_BASE_PORT}"


@pytest.fixture
def closed_display():
    """DISPLAY for a TCP port nothing listens on (it was just free): connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port - X11_TCP_BASE_PORT}.0"


@pytest.mark.parametrize(("env", "platform", "missing", "expect"), [
    ({}, "linux", (), "no display"),
    ({"DISPLAY": "X11"}, "linux", (), None),
    ({"DISPLAY": "X11"}, "linux", ("libxcb-cursor.so.0",), "libxcb-cursor.so.0"),
    ({"WAYLAND_DISPLAY": "WAYLAND"}, "linux", ("libxcb-cursor.so.0",), None),  # Wayland needs no xcb
    ({"WAYLAND_DISPLAY": "WAYLAND", "QT_QPA_PLATFORM": "xcb"}, "linux", (), "no display"),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", (), None),  # asked for: Qt draws offscreen
    ({}, "darwin", (), None),
    ({}, "win32", (), None),
    # a display named but not running: the stale variable is named, and X11 is used when it answers
    ({"WAYLAND_DISPLAY": "wayland-9"}, "linux", (), "WAYLAND_DISPLAY=wayland-9: no socket at"),
    ({"WAYLAND_DISPLAY": "/nonexistent/wayland-0"}, "linux", (), "no socket at /nonexistent/wayland-0"),
    ({"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": ""}, "linux", (), "XDG_RUNTIME_DIR is not set"),
    ({"DISPLAY": "CLOSED"}, "linux", (), "no X server is listening on 127.0.0.1"),
    ({"DISPLAY": "no-such-host.invalid:0"}, "linux", (), "'no-such-host.invalid' is not known"),
    ({"WAYLAND_DISPLAY": "wayland-9", "DISPLAY": "CLOSED"}, "linux", (), "WAYLAND_DISPLAY=wayland-9"),
    ({"WAYLAND_DISPLAY": "wayland-9", "DISPLAY": "X11"}, "linux", (), None),
    ({"WAYLAND_DISPLAY": "wayland-9", "DISPLAY": "X11"}, "linux", ("libxcb.so.1",), "libxcb.so.1"),
    ({"WAYLAND_DISPLAY": "WAYLAND", "DISPLAY": "CLOSED"}, "linux", (), None),  # Qt takes Wayland first
    ({"WAYLAND_DISPLAY": "WAYLAND", "QT_QPA_PLATFORM": "wayland"}, "linux", (), None),
    ({"WAYLAND_DISPLAY": "wayland-9", "DISPLAY": "X11", "QT_QPA_PLATFORM": "wayland"}, "linux", (), "no running"),
])
def test_why_no_window(env, platform, missing, expect, compositor, x_server, closed_display, runtime_dir):
    env = {"XDG_RUNTIME_DIR": runtime_dir, **env}
    stand_in = {"WAYLAND": compositor["WAYLAND_DISPLAY"], "X11": x_server, "CLOSED": closed_display}
    env = {key: stand_in.get(value, value) for key, value in env.items()}
    why = why_no_window(env, platform, loader(missing))
    if expect is None:
        assert why is None
    else:
        assert why is not None and expect in why and "--screenshot" in why and "rigcheck fit" in why
        assert "\n" not in why


def test_a_stale_wayland_display_sends_qt_to_x11(runtime_dir, x_server):
    env = {"XDG_RUNTIME_DIR": runtime_dir, "WAYLAND_DISPLAY": "wayland-9", "DISPLAY": x_server}
    assert settle_platform(env, "linux", loader()) is None
    assert env["QT_QPA_PLATFORM"] == "xcb"  # Qt would try the dead compositor first and print plugin warnings


def test_a_live_wayland_display_is_left_to_qt(compositor, x_server):
    env = {**compositor, "DISPLAY": x_server}
    assert settle_platform(env, "linux", loader()) is None
    assert "QT_QPA_PLATFORM" not in env


def _rigcheck(argv, **set_env):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "QT_QPA_PLATFORM")}
    env["RIGCHECK_NO_FIRST_LOOK"] = "1"
    env.update(set_env)
    return subprocess.run([sys.executable, "-m", "rigcheck", *argv], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("argv", [[], ["gui", "--gpu", "RTX 4090", "--ram", "64GB"]])
def test_rigcheck_without_a_display_exits_with_one_line(argv):
    done = _rigcheck(argv)
    assert done.returncode == 1, done.stderr  # not 134 (Qt's abort)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rigcheck: cannot open the window: no display")


@pytest.mark.parametrize("argv", [[], ["gui", "--gpu", "RTX 4090", "--ram", "64GB"]])
def test_rigcheck_with_a_dead_display_exits_with_one_line(argv, runtime_dir, closed_display):
    """WAYLAND_DISPLAY and DISPLAY left over from a session that is gone: one line, not Qt's plugin dump and 134."""
    done = _rigcheck(argv, WAYLAND_DISPLAY="wayland-9", XDG_RUNTIME_DIR=runtime_dir, DISPLAY=closed_display)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("rigcheck: cannot open the window: no running display")
    assert "WAYLAND_DISPLAY=wayland-9: no socket at" in lines[0] and f"DISPLAY={closed_display}" in lines[0]


def test_a_screenshot_offscreen_writes_nothing_on_stderr(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RIGCHECK_NO_FIRST_LOOK="1")
    out = tmp_path / "window.png"
    done = subprocess.run([sys.executable, "-m", "rigcheck", "gui", "--gpu", "RTX 4090", "--ram", "64GB",
                           "--screenshot", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "propagateSizeHints" not in done.stderr and done.stderr == ""
    assert out.stat().st_size > 10_000
