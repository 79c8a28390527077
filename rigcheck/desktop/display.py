"""Whether this process can open a window: a live display to draw on, and the libraries Qt's X11 plugin loads.

Qt aborts the process (SIGABRT, exit 134) when it finds no display or cannot load its platform plugin; ``rigcheck``
asks here first and says what is missing in one sentence, pointing at what works without a window
(``rigcheck gui --screenshot`` renders offscreen, and every answer is also a command). A display named in the
environment but not answering (``WAYLAND_DISPLAY`` left over from a session whose compositor is gone, ``DISPLAY``
pointing at a closed X server) counts as none: Qt tries Wayland, then X11, in that order, and so does
:func:`settle_platform`, which tells Qt to use X11 when only X11 answers. Stdlib only, and cheap (a connect to a
local socket): it runs before the window's start-up.
"""

from __future__ import annotations

import errno
import os
import socket
import sys

XCB_LIBRARIES = ("libxcb.so.1", "libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libxcb-icccm.so.4",
                 "libxcb-keysyms.so.1", "libxcb-render-util.so.0", "libxcb-image.so.0", "libxcb-shape.so.0")
"""What Qt 6's xcb plugin links against beyond libxcb itself (its `ldd`); libxcb-cursor is the one most often
missing (Qt 6.5 and later need it)."""
INSTALL_HINT = ("Debian/Ubuntu: sudo apt install libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 "
                "libxcb-render-util0 libxcb-image0 libxcb-shape0")
ELSEWHERE = ("`rigcheck gui --screenshot OUT.png` renders the window without a display, and the command line "
             "answers the same questions (`rigcheck fit`, `rigcheck plan`, `rigcheck report`; `rigcheck --help`)")
WINDOWLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc", "linuxfb", "eglfs"})
X11_SOCKET_DIR = "/tmp/.X11-unix"
X11_TCP_BASE_PORT = 6000
CONNECT_TIMEOUT_S = 1.0
_GONE = frozenset({errno.ENOENT, errno.ECONNREFUSED, errno.ENOTDIR})
"""Connect errors that mean nothing is serving there; any other (a permission, a timeout) is left to Qt."""


def why_no_window(environ=None, platform: str | None = None, load=None) -> str | None:
    """One sentence saying why no window can open here, or None when one can (or Qt will be told where to draw).

    ``environ``, ``platform`` and ``load`` (a function that raises OSError for a library it cannot load) are for
    tests; they default to this process's."""
    return _decide(os.environ if environ is None else environ, platform, load)[0]


def settle_platform(environ=None, platform: str | None = None, load=None) -> str | None:
    """As :func:`why_no_window`; besides, when ``WAYLAND_DISPLAY`` names a compositor that is not running and X11
    answers, sets ``QT_QPA_PLATFORM=xcb`` in ``environ`` (this process's by default) so that Qt goes straight to
    X11 instead of printing its plugin warnings first."""
    env = os.environ if environ is None else environ
    why, fallback = _decide(env, platform, load)
    if why is None and fallback:
        env["QT_QPA_PLATFORM"] = fallback
    return why


def _decide(env, platform, load) -> tuple[str | None, str | None]:
    """(why no window can open, the platform Qt should be told to use instead of its own first choice)."""
    platform = sys.platform if platform is None else platform
    chosen = (env.get("QT_QPA_PLATFORM") or "").split(";")[0].split(":")[0].strip().lower()
    if chosen in WINDOWLESS_PLATFORMS:
        return None, None  # asked for explicitly: Qt draws where it was told
    if platform == "darwin" or platform.startswith("win"):
        return None, None
    wayland_name, x11_name = env.get("WAYLAND_DISPLAY") or "", env.get("DISPLAY") or ""
    if chosen == "wayland" and not wayland_name or chosen == "xcb" and not x11_name \
            or not (wayland_name or x11_name):
        return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set, as over SSH or in a "
                f"container); {ELSEWHERE}"), None
    dead = []
    wayland = bool(wayland_name) and chosen != "xcb"
    if wayland and (gone := _wayland_gone(wayland_name, env)):
        dead.append(f"WAYLAND_DISPLAY={wayland_name}: {gone}")
        wayland = False
    x11 = bool(x11_name) and chosen != "wayland"
    if x11 and not wayland and (gone := _x11_gone(x11_name)):
        dead.append(f"DISPLAY={x11_name}: {gone}")
        x11 = False
    if not (wayland or x11):
        return (f"no running display to open the window on ({'; '.join(dead)}); log in to a desktop session or "
                f"unset the stale variable; meanwhile {ELSEWHERE}"), None
    if x11 and not wayland:
        missing = _missing(XCB_LIBRARIES, load)
        if missing:
            return (f"the X11 libraries Qt needs are not installed ({', '.join(missing)}; {INSTALL_HINT}); "
                    f"meanwhile {ELSEWHERE}"), None
        return None, ("xcb" if wayland_name and chosen != "xcb" else None)
    return None, None


def _wayland_gone(name: str, env) -> str | None:
    """Why the Wayland compositor ``name`` does not answer (as libwayland-client finds its socket), or None."""
    if env.get("WAYLAND_SOCKET"):
        return None  # handed an open connection: nothing to look up
    if os.path.isabs(name):
        path = name
    else:
        runtime_dir = env.get("XDG_RUNTIME_DIR") or ""
        if not runtime_dir:
            return "XDG_RUNTIME_DIR is not set, so its socket cannot be found"
        path = os.path.join(runtime_dir, name)
    return _unix_gone(path)


def _x11_gone(name: str) -> str | None:
    """Why the X server ``name`` ("[host]:N[.screen]") does not answer (as libxcb connects to it), or None when it
    answers or the name is one this check does not understand (Qt then finds out for itself)."""
    host, colon, rest = name.rpartition(":")
    number = rest.split(".")[0]
    if not colon or not number.isdigit() or "/" in host:
        return None
    if host in ("", "unix"):
        path = f"{X11_SOCKET_DIR}/X{number}"
        if sys.platform.startswith("linux") and _unix_gone("\0" + path) is None:
            return None  # libxcb tries the abstract socket first
        return _unix_gone(path)
    try:
        with socket.create_connection((host, X11_TCP_BASE_PORT + int(number)), timeout=CONNECT_TIMEOUT_S):
            return None
    except socket.gaierror:
        return f"host {host!r} is not known"
    except OSError as exc:
        if exc.errno in _GONE:
            return f"no X server is listening on {host}:{X11_TCP_BASE_PORT + int(number)}"
        return None


def _unix_gone(path: str) -> str | None:
    shown = "@" + path[1:] if path.startswith("\0") else path
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(path)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return f"no socket at {shown}"
            if exc.errno in _GONE:
                return f"nothing is listening at {shown}"
            return None
    return None


def _missing(names, load=None) -> list[str]:
    if load is None:
        import ctypes

        load = ctypes.CDLL
    missing = []
    for name in names:
        try:
            load(name)
        except OSError:
            missing.append(name)
    return missing
