"""The NVIDIA backend skips loading the binding on Linux when no kernel driver is there (start-up cost)."""

from __future__ import annotations

import sys

from rigcheck.probe import nvidia


def test_no_driver_node_means_unavailable_without_importing_the_binding(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr("os.path.exists", lambda path: False)
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    gpus, status = nvidia.probe_nvidia()
    assert gpus == [] and not status.available
    assert status.reason == "no NVIDIA driver loaded: the kernel driver is not running (no /proc/driver/nvidia)"
    assert "pynvml" not in sys.modules
    assert nvidia.vram_usage_bytes() is None


def test_a_driver_node_lets_the_binding_answer(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr("os.path.exists", lambda path: path == "/dev/nvidiactl")
    assert not nvidia._no_linux_driver()
    gpus, status = nvidia.probe_nvidia()  # the real binding: no GPU here, but its own reason, never a traceback
    if not status.available:
        assert gpus == [] and status.reason
        assert "kernel driver is not running (no /proc" not in status.reason


def test_other_systems_always_ask_the_binding(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr("os.path.exists", lambda path: False)
    assert not nvidia._no_linux_driver()
