"""A guard against a PySide6 refcount bug: ``SignalInstance.emit``/``disconnect`` return True/False unowned.

Seen with PySide6 6.12.0 on Python 3.11: every ``signal.emit(...)`` from Python lowers the refcount of the bool
it returns (``disconnect`` likewise), so a long-running app (pyqtgraph emits on every repaint) eventually dies with "Fatal Python error:
bool_dealloc". Python 3.12+ makes bools immortal, which hides it there. ``install()`` measures whether this
PySide6 has the bug and, only if so, wraps ``emit`` to add back the missing reference.
"""

from __future__ import annotations

import ctypes
import sys

_installed = False


def emit_leaks_bool_refs() -> bool:
    """True when emitting a signal from Python drops a reference to the bool it returns."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        fired = Signal(object)

    probe = _Probe()
    before = (sys.getrefcount(True), sys.getrefcount(False))
    for _ in range(8):
        probe.fired.emit(None)
    after = (sys.getrefcount(True), sys.getrefcount(False))
    leaked = False
    for value, b, a in ((True, before[0], after[0]), (False, before[1], after[1])):
        for _ in range(max(0, b - a)):  # put back what the probe itself took
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))
            leaked = True
    return leaked


def install() -> bool:
    """Patch ``SignalInstance.emit`` when (and only when) it leaks; returns whether a patch is in place."""
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or not emit_leaks_bool_refs():
        return False
    from PySide6.QtCore import SignalInstance

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None

    def owned(original):
        def method(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            if result is True or result is False:
                incref(result)
            return result

        method.__name__ = original.__name__
        method.__doc__ = original.__doc__
        return method

    SignalInstance.emit = owned(SignalInstance.emit)
    SignalInstance.disconnect = owned(SignalInstance.disconnect)
    _installed = True
    return True
