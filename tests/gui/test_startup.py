"""Start-up as `rigcheck` does it: catalog and probe prefetched on threads, then the window populates."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import Future

from msgspec.structs import replace
from PySide6.QtCore import QThreadPool

from rigcheck.desktop.app import open_window
from rigcheck.desktop.evaluation import evaluate_rows
from rigcheck.desktop.services import Prefetch, prefetch, with_evaluation
from rigcheck.estimate.types import Settings

from .fakes import gpu_machine, make_services


def test_open_window_populates_from_prefetched_work(qtbot):
    window = open_window(make_services())
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 4, timeout=10000)
    assert window.controller.home_machine is not None  # the prefetched probe became "this machine"
    assert window.catalog_label.text().startswith("Catalog: built in, ")
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


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def test_finished_prefetch_populates_the_window_before_it_is_shown(make_window, qtbot):
    services = make_services()
    catalog, machine = services.load_catalog(), services.probe_machine()
    window = make_window(services, pool=QThreadPool(), start=False)  # a real pool: nothing runs inline
    window.hide()
    settings = window.controller.settings
    early = Prefetch(catalog=_done(catalog), machine=_done(machine),
                     evaluation=_done(evaluate_rows(services, machine, catalog, settings)))
    services._calls.clear()
    window.start(None, early)
    # Everything was already there: the rows are in the model at once, with no second evaluation.
    assert window.models_page.model.rowCount() == 4
    assert window.controller.home_machine is machine
    assert services._calls == []


def test_prefetched_evaluation_for_other_settings_is_not_used(make_window):
    services = make_services()
    catalog, machine = services.load_catalog(), services.probe_machine()
    window = make_window(services, start=False)
    stale = evaluate_rows(services, machine, catalog, replace(window.controller.settings, context_tokens=1024))
    services._calls.clear()
    window.start(None, Prefetch(catalog=_done(catalog), machine=_done(machine), evaluation=_done(stale)))
    assert services._calls == [window.controller.settings]  # evaluated afresh with the window's settings
    assert window.controller.evaluation.settings == window.controller.settings


def test_failed_prefetched_evaluation_is_evaluated_again_and_reported_once(make_window):
    services = make_services()
    catalog, machine = services.load_catalog(), services.probe_machine()
    window = make_window(services, start=False)
    broken: Future = Future()
    broken.set_exception(RuntimeError("boom"))
    window.start(None, Prefetch(catalog=_done(catalog), machine=_done(machine), evaluation=broken))
    assert window.models_page.model.rowCount() == 4  # the fresh evaluation worked
    assert window.error_label.text() == ""


def test_with_evaluation_evaluates_the_given_machine_against_the_prefetched_catalog(qtbot):
    services = make_services()
    machine = gpu_machine(vram_gib=8, origin="hypothetical", label="what-if")
    early = with_evaluation(prefetch(services, probe=False), services, Settings(), machine)
    evaluation = early.evaluation.result(timeout=10)
    assert evaluation.machine is machine and evaluation.catalog is early.catalog.result()
    assert len(evaluation.rows) == 4
    assert with_evaluation(prefetch(services, probe=False), services, Settings()).evaluation is None


def test_feature_checks_do_not_import_the_estimator():
    # default_services() runs on the GUI thread before the window exists: finding out which features are
    # built must not load rigcheck.estimate (the whole estimator) there.
    code = ("import sys; from rigcheck.desktop.services import default_services; s = default_services(); "
            "assert s.cost_curves is not None and s.export_report is not None and s.refresh_catalog is not None; "
            "print(sorted(m for m in sys.modules if m.startswith('rigcheck.estimate')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_present_finds_modules_without_importing_them():
    from rigcheck.desktop.services import _present

    assert _present("rigcheck.estimate.cost")
    assert not _present("rigcheck.estimate.no_such_module")
    assert not _present("rigcheck.no_such_package.thing")
    assert not _present("no_such_top_level_package.thing")
