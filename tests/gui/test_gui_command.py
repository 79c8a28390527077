"""``rigcheck gui --screenshot``: the real catalog and estimator render into a PNG; bad input exits 2."""

from __future__ import annotations

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
    (["--select", "Qwen3-32B"], "--select goes with --screenshot"),  # the window once opened without it, silently
    (["--select", "Qwen3-32B", "--tab", "Run it"], "--select and --tab go with --screenshot"),
    (["--quant", "Q4_K_M", "--screenshot", "x.png"], "--quant goes with --select"),  # was "the selected model has
    # no quant 'Q4_K_M'" with no model selected
])
def test_screenshot_options_without_what_they_go_with_are_refused(tmp_path, monkeypatch, capsys, argv, words):
    monkeypatch.chdir(tmp_path)
    assert main(["gui", "--gpu", "RTX 4090", "--ram", "64GB", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rigcheck: error: {words}") and err.count("\n") == 1
    assert not (tmp_path / "x.png").exists()
