"""Start-up as `rigcheck` does it: catalog and probe prefetched on threads, then the window populates."""

from __future__ import annotations

from rigcheck.desktop.app import open_window

from .fakes import make_services


def test_open_window_populates_from_prefetched_work(qtbot):
    window = open_window(make_services())
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 4, timeout=10000)
    assert window.controller.home_machine is not None  # the prefetched probe became "this machine"
    assert window.catalog_label.text().startswith("Catalog: embedded, #1")
    window.close()


def test_prefetched_probe_failure_is_one_sentence(qtbot):
    def broken_probe():
        raise PermissionError("cannot read /sys/class/drm")

    window = open_window(make_services(probe_machine=broken_probe))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.error_label.text() != "", timeout=10000)
    assert window.error_label.text() == "Could not probe this machine: cannot read /sys/class/drm"
    assert window.details_button.isVisible()
    assert window.act_whatif.isEnabled()  # a what-if machine still works
    window.close()
