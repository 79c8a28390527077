"""The app's installed models (marked rows, the "Installed" filter, scanned on a worker after the first table)
and the "Run it" tab (the launch command with a copy button, the user's measurements beside the estimate)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QApplication

from rigcheck.catalog.installed.matching import InstalledModel
from rigcheck.desktop.models.cells import DECODE, table_row
from rigcheck.desktop.models.model_table import MODEL

from .fakes import fake_evaluate, make_services


def _installed(path="/home/me/.ollama/models/blobs/sha256-ab", tag="mid:8b") -> list[InstalledModel]:
    return [InstalledModel(path=path, source="ollama", name=tag, model_id="acme/Mid-8B", quant="Q4_K_M",
                           size_bytes=4_800_000_000, architecture="llama", tag=tag, params_b=8.0),
            InstalledModel(path="/m/unknown.gguf", source="folder", name="unknown.gguf", model_id=None,
                           quant="Q8_0", size_bytes=1, architecture="llama")]


def test_installed_rows_are_marked_and_filtered_after_the_first_table(make_window):
    seen = []
    holder = {}

    def scan(catalog):
        # Started on the worker once the first table is there: the scan never delays the first paint.
        seen.append(holder["window"].models_page.model.rowCount())
        return _installed()

    window = make_window(make_services(scan_installed=scan), start=False)
    holder["window"] = window
    page = window.models_page
    assert not page.installed.isEnabled()
    window.start()
    assert seen == [4] and page.installed.isEnabled() and page.installed.text() == "Installed (1)"
    row = page.model.row_for("acme/Mid-8B")
    index = page.model.index(row, MODEL)
    assert page.model.data(index, 1) is not None  # DecorationRole: the installed icon
    assert "Installed on this machine: mid:8b" in page.model.data(index, 3)  # ToolTipRole
    assert page.proxy.rowCount() == 4
    page.installed.setChecked(True)
    assert page.proxy.rowCount() == 1
    assert page.proxy.index(0, MODEL).data() == "Mid 8B"
    page.installed.setChecked(False)
    assert page.proxy.rowCount() == 4


def _run_tab(window):
    page = window.detail_page
    page.tabs.setCurrentIndex([page.tabs.tabText(i) for i in range(page.tabs.count())].index("Run it"))
    return page


def test_run_tab_shows_the_command_for_the_installed_file_and_copies_it(make_window):
    window = make_window(make_services(scan_installed=lambda c: _installed()))
    window.models_page.select_model("acme/Mid-8B")
    page = _run_tab(window)
    e = page.selected_estimate()
    assert e.quant == "Q8_0"  # the model's pick: not installed, so a placeholder file named in a note
    assert page.command.toPlainText().startswith("llama-server -m Mid-8B-Q8_0.gguf -c ")
    assert "# Mid-8B-Q8_0.gguf: the path of a downloaded Q8_0 GGUF" in page.command.toPlainText()
    runtimes = [page.runtime_box.itemData(i) for i in range(page.runtime_box.count())]
    assert runtimes == ["llama.cpp", "ollama"]
    # The installed quant: the command names the Ollama blob, the Modelfile the tag.
    from PySide6.QtCore import QItemSelectionModel

    for r in range(page.quant_proxy.rowCount()):
        idx = page.quant_proxy.index(r, 0)
        if page.quants.item(page.quant_proxy.mapToSource(idx).row()).quant == "Q4_K_M":
            page.quant_view.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    assert page.command.toPlainText().startswith("llama-server -m /home/me/.ollama/models/blobs/sha256-ab -c ")
    page.runtime_box.setCurrentIndex(1)
    assert "FROM mid:8b" in page.command.toPlainText()
    page.copy_button.click()
    assert QApplication.clipboard().text() == page.command.toPlainText()
    assert "rigcheck bench mid:8b" in page.measured.toPlainText()


def test_measured_runs_show_beside_the_estimate_in_the_detail_and_the_tooltip(make_window):
    measured = [{"id": "abc", "engine": "llama-bench", "measured_at": "2025-04-24T11:58:51Z", "prompt_tokens": None,
                 "prompt_depth_tokens": 0, "decode_depth_tokens": 64.0, "prefill_tokens_per_s": None,
                 "decode_tokens_per_s": 118.9, "estimated_prefill_tokens_per_s": None,
                 "estimated_decode_tokens_per_s": 101.8, "prefill_ratio": None, "decode_ratio": 1.168}]

    def evaluate(machine, catalog, settings):
        rows = fake_evaluate(machine, catalog, settings)
        return [replace(r, extra={"measured": measured, "correction": {"decode": {"factor": 1.168,
                                                                                   "measurements": 1}}})
                if r.model_id == "acme/Mid-8B" else r for r in rows]

    window = make_window(make_services(evaluate=evaluate))
    window.models_page.select_model("acme/Mid-8B")
    page = _run_tab(window)
    text = page.measured.toPlainText()
    assert "Decode: 119 tok/s measured (llama-bench, 2025-04-24)" in text
    assert "the estimate for that run was 102 tok/s: ×1.17" in text
    assert "corrected by your 1 measurement(s): ×1.17" in text
    cell = table_row(window.models_page.current_row())
    assert "Measured here: 119 tok/s (llama-bench), ×1.17 of the estimate for that run" in cell.tooltip[DECODE]


def test_model_folders_are_added_and_removed_in_the_dialog_and_scanned_again(make_window, tmp_path):
    saved = {"folders": ["/data/old-models", "/data/keep"]}
    scans = []

    def save(folders):
        saved["folders"] = list(folders)

    def scan(catalog):
        scans.append(list(saved["folders"]))
        return _installed()

    window = make_window(make_services(scan_installed=scan, model_folders=lambda: list(saved["folders"]),
                                       save_model_folders=save))
    assert window.act_folders.isEnabled()
    scans.clear()
    window.act_folders.trigger()
    dialog = window.folders_window
    assert dialog.folders() == ["/data/old-models", "/data/keep"]
    assert not dialog.remove_button.isEnabled()  # nothing selected yet
    dialog._choose = lambda: str(tmp_path)
    dialog.add_button.click()
    dialog.add_button.click()  # the same folder twice is listed once
    dialog.list.item(0).setSelected(True)
    assert dialog.remove_button.isEnabled()
    dialog.remove_button.click()
    assert dialog.folders() == ["/data/keep", str(tmp_path)]
    dialog.accept()
    assert saved["folders"] == ["/data/keep", str(tmp_path)]
    assert scans == [["/data/keep", str(tmp_path)]]  # scanned again with the new list
    window.act_folders.trigger()
    window.folders_window.accept()  # nothing changed: nothing saved, no scan
    assert len(scans) == 1


def test_model_folders_that_cannot_be_saved_keep_the_old_list_and_say_why(make_window):
    saved = ["/data/keep"]
    errors = []

    def save(folders):
        raise PermissionError(13, "Permission denied", "/config/installed-folders.json")

    window = make_window(make_services(scan_installed=lambda c: [], model_folders=lambda: list(saved),
                                       save_model_folders=save))
    window.controller.failed.connect(lambda *args: errors.append(args))
    window.act_folders.trigger()
    window.folders_window.list.clear()
    window.folders_window.accept()
    assert saved == ["/data/keep"]
    assert errors and "Could not save the model folders" in errors[0][1]
