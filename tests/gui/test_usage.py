"""Live usage samples: RAM from psutil, VRAM summed over the NVIDIA backend's GPUs (faked at the probe)."""

from __future__ import annotations

from rigcheck.desktop.widgets import usage
from rigcheck.probe.types import BackendStatus, Gpu

GIB = 2**30


def test_vram_is_summed_over_gpus(monkeypatch):
    gpus = [Gpu(index=i, vendor="nvidia", name="H200", vram_total_bytes=141 * GIB, vram_used_bytes=used * GIB)
            for i, used in enumerate((10, 30))]
    import rigcheck.probe.nvidia as nvidia

    monkeypatch.setattr(nvidia, "probe_nvidia", lambda: (gpus, BackendStatus("nvidia", True, device_count=2)))
    sample = usage.sample_usage(with_vram=True)
    assert sample.vram_used_bytes == 40 * GIB and sample.vram_total_bytes == 282 * GIB
    assert abs(sample.vram_fraction - 40 / 282) < 1e-9
    assert 0 < sample.ram_fraction < 1


def test_no_driver_means_no_vram_figure(monkeypatch):
    import rigcheck.probe.nvidia as nvidia

    monkeypatch.setattr(nvidia, "probe_nvidia", lambda: ([], BackendStatus("nvidia", False, "no NVIDIA driver")))
    sample = usage.sample_usage(with_vram=True)
    assert sample.vram_used_bytes is None and sample.vram_fraction is None
    assert sample.ram_total_bytes > 0
