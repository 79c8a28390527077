"""Fixtures for the GUI tests: a main window on fake services, running every task synchronously."""

from __future__ import annotations

import pytest

from rigcheck.desktop.app import create_app
from rigcheck.desktop.main_window import MainWindow
from rigcheck.desktop.workers import SynchronousPool, TaskRunner

from .fakes import make_services


@pytest.fixture
def services():
    return make_services()


@pytest.fixture
def make_window(qtbot):
    create_app()
    made = []

    def make(services, *, pool=None, machine=None, start=True):
        runner = TaskRunner(pool if pool is not None else SynchronousPool())
        window = MainWindow(services, runner)
        window.controller.curve_delay_ms = 0  # curves at once; test_curves_wait_for_the_selection_to_rest
        qtbot.addWidget(window)
        window.show()
        if start:
            window.start(machine)
        made.append(window)
        return window

    yield make
    for w in made:
        w.machine_panel.sparkline.timer.stop()
        w.runner.wait(3000)


@pytest.fixture
def window(make_window, services):
    return make_window(services)


@pytest.fixture(autouse=True)
def _app(qapp):
    """Icons and fonts need a QApplication even in tests that drive no widget."""
    return create_app()


def pytest_collection_modifyitems(config, items):
    # The offscreen platform plugin says this for every top-level window; it is not a problem of ours.
    here = str(__import__("pathlib").Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints"))
