"""``rigcheck gui --screenshot``: the real catalog and estimator render into a PNG; bad input exits 2."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QImage

from rigcheck.cli.main import main


def test_screenshot_of_a_what_if_machine_with_detail(tmp_path, capsys):
    out = tmp_path / "shot.png"
    rc = main(["gui", "--gpu", "RTX 4090", "--ram", "64GB", "--select", "Llama-3.1-8B-Instruct",
               "--screenshot", str(out)])
    assert rc == 0, capsys.readouterr().err
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() >= 1200 and image.height() >= 800


def test_screenshot_of_this_machine(tmp_path):
    out = tmp_path / "this.png"
    assert main(["gui", "--screenshot", str(out)]) == 0
    assert not QImage(str(out)).isNull()


def test_unknown_model_is_a_usage_error(tmp_path, capsys):
    rc = main(["gui", "--gpu", "RTX 4090", "--select", "no-such-model-xyz", "--screenshot", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("rigcheck: error: ") and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()


def test_screenshot_must_be_png(tmp_path, capsys):
    assert main(["gui", "--screenshot", str(tmp_path / "x.jpg")]) == 2
    assert "--screenshot must name a .png file" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "words"), [
    (["--quant", "Q4_K_M", "--screenshot", "x.png"], "--quant goes with --select"),  # was "the selected model has
    # no quant 'Q4_K_M'" with no model selected
    (["--tab", "Run it", "--screenshot", "x.png"], "--tab goes with --select"),
    (["--tab", "Cost"], "--tab goes with --select"),
    # Without --screenshot the window opens on the model: a name that is no model, or several, is refused first.
    (["--select", "no-such-model-xyz"], "unknown model 'no-such-model-xyz'"),
    (["--select", "Qwen3"], "give more of the id"),
])
def test_detail_options_without_what_they_go_with_or_naming_no_model_are_refused(tmp_path, monkeypatch, capsys, argv,
                                                                                  words):
    monkeypatch.chdir(tmp_path)
    assert main(["gui", "--gpu", "RTX 4090", "--ram", "64GB", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rigcheck: error: ") and words in err and err.count("\n") == 1, err
    assert not (tmp_path / "x.png").exists()


def test_select_without_a_screenshot_opens_the_window_on_that_model(make_window, services, qtbot):
    # `rigcheck gui --select MODEL [--quant Q] [--tab NAME]`: the window opens, and once its own evaluation is in,
    # the model is selected, its detail pane shows the quant asked for, on the tab asked for.
    from rigcheck.desktop.app import open_detail_when_ready

    window = make_window(services, start=False)
    open_detail_when_ready(window, "acme/Mid-8B", tab="Basis", quant="Q4_K_M")
    assert window.models_page.selected_model_id() is None  # nothing to select before the evaluation
    window.start()
    qtbot.waitUntil(lambda: window.models_page.selected_model_id() == "acme/Mid-8B", timeout=3000)
    page = window.detail_page
    qtbot.waitUntil(lambda: page.tabs.tabText(page.tabs.currentIndex()) == "Basis", timeout=3000)
    current = page.quant_proxy.mapToSource(page.quant_view.selectionModel().currentIndex()).row()
    assert page.quants.item(current).quant == "Q4_K_M"
    assert not window.error_label.text()
    # A quant or tab the pane lacks is said in the status bar; the model stays selected.
    other = make_window(services)
    open_detail_when_ready(other, "acme/Mid-8B", tab="Nonsense")
    qtbot.waitUntil(lambda: "no detail tab 'Nonsense'" in other.error_label.text(), timeout=3000)
    assert other.models_page.selected_model_id() == "acme/Mid-8B"
    # A model the user chose before the evaluation came stands; a filter hiding the model is cleared.
    chosen = make_window(services)
    chosen.models_page.select_model("acme/Tiny-1B")
    open_detail_when_ready(chosen, "acme/Mid-8B")
    assert chosen.models_page.selected_model_id() == "acme/Tiny-1B"
    hidden = make_window(services)
    hidden.models_page.search.setText("Tiny")
    open_detail_when_ready(hidden, "acme/Mid-8B")
    assert hidden.models_page.selected_model_id() == "acme/Mid-8B" and not hidden.models_page.search.text()


def test_gui_select_passes_the_models_id_to_the_window(monkeypatch, capsys):
    # The CLI resolves the name (part of an id) before the window opens, and the window is told the full id.
    from rigcheck.desktop import app

    told = []

    class _Window:
        class runner:  # noqa: N801 - stands in for the window's TaskRunner
            @staticmethod
            def wait(_ms):
                return True

        def after_first_paint(self, _callback):
            pass

    class _App:
        def exec(self):
            return 0

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run_gui installs the crash dialog's hook
    monkeypatch.setattr(app, "open_window", lambda services, machine=None: _Window())
    monkeypatch.setattr(app, "create_app", lambda: _App())
    monkeypatch.setattr(app, "open_detail_when_ready", lambda window, *args: told.append(args))
    assert main(["gui", "--gpu", "RTX 4090", "--ram", "64GB", "--select", "Qwen3-32B", "--tab", "Cost"]) == 0
    assert told == [("Qwen/Qwen3-32B", "Cost", None)]
