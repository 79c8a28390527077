"""Live usage samples: RAM from psutil, VRAM summed over the NVIDIA backend's GPUs (faked at the probe's usage query)."""

from __future__ import annotations

from rigcheck.desktop.widgets import usage

GIB = 2**30


def test_vram_is_summed_over_gpus(monkeypatch):
    import rigcheck.probe.nvidia as nvidia

    monkeypatch.setattr(nvidia, "vram_usage_bytes", lambda: [(10 * GIB, 141 * GIB), (30 * GIB, 141 * GIB)])
    sample = usage.sample_usage(with_vram=True)
    assert sample.vram_used_bytes == 40 * GIB and sample.vram_total_bytes == 282 * GIB
    assert abs(sample.vram_fraction - 40 / 282) < 1e-9
    assert 0 < sample.ram_fraction < 1


def test_no_driver_means_no_vram_figure(monkeypatch):
    import rigcheck.probe.nvidia as nvidia

    monkeypatch.setattr(nvidia, "vram_usage_bytes", lambda: None)  # what it answers without a driver
    sample = usage.sample_usage(with_vram=True)
    assert sample.vram_used_bytes is None and sample.vram_fraction is None
    assert sample.ram_total_bytes > 0
