"""The Qt binding keeps Python's reference counts: PySide6 6.12.0 on Python < 3.12 did not (every void call and
every emit dropped a reference to None/True/False, and the app died with "none_dealloc" within seconds of use).
pyproject excludes that release; this test fails on any binding with the same fault."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QStringListModel, Signal


class _Emitter(QObject):
    fired = Signal(object)


def _delta(call, n=500) -> tuple[int, int]:
    none0, bools0 = sys.getrefcount(None), sys.getrefcount(True) + sys.getrefcount(False)
    for _ in range(n):
        call()
    return sys.getrefcount(None) - none0, sys.getrefcount(True) + sys.getrefcount(False) - bools0


def test_void_calls_keep_none_refcount(qapp):
    obj = QObject()
    none, _ = _delta(lambda: obj.setObjectName("x"))
    assert none > -50, f"each void call lost a reference to None ({none} over 500 calls)"
    none, _ = _delta(qapp.processEvents)
    assert none > -50


def test_emit_and_data_keep_refcounts(qapp):
    emitter = _Emitter()
    emitter.fired.connect(lambda _v: None)
    _, bools = _delta(lambda: emitter.fired.emit(1))
    assert bools > -50, f"each emit lost a reference to a bool ({bools} over 500 emits)"
    model = QStringListModel(["a"])
    none, _ = _delta(lambda: model.index(5, 0).data())
    assert none > -50
