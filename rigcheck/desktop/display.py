"""Whether this process can open a window: a display to draw on, and the libraries Qt's X11 plugin loads.

Qt aborts the process (SIGABRT, exit 134) when it finds no display or cannot load its platform plugin; ``rigcheck``
asks here first and says what is missing in one sentence, pointing at what works without a window
(``rigcheck gui --screenshot`` renders offscreen, and every answer is also a command). Stdlib only, and cheap:
it runs before the window's start-up.
"""

from __future__ import annotations

import os
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


def why_no_window(environ=None, platform: str | None = None, load=None) -> str | None:
    """One sentence saying why no window can open here, or None when one can (or Qt will be told where to draw).

    ``environ``, ``platform`` and ``load`` (a function that raises OSError for a library it cannot load) are for
    tests; they default to this process's."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    chosen = (env.get("QT_QPA_PLATFORM") or "").split(";")[0].split(":")[0].strip().lower()
    if chosen in WINDOWLESS_PLATFORMS:
        return None  # asked for explicitly: Qt draws where it was told
    if platform == "darwin" or platform.startswith("win"):
        return None
    wayland, x11 = bool(env.get("WAYLAND_DISPLAY")), bool(env.get("DISPLAY"))
    if chosen == "wayland" and not wayland or chosen == "xcb" and not x11 or not (wayland or x11):
        return ("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set, as over SSH or in a "
                f"container); {ELSEWHERE}")
    if chosen == "xcb" or (x11 and not wayland):
        missing = _missing(XCB_LIBRARIES, load)
        if missing:
            return (f"the X11 libraries Qt needs are not installed ({', '.join(missing)}; {INSTALL_HINT}); "
                    f"meanwhile {ELSEWHERE}")
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
