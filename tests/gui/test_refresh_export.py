"""Catalog refresh from the status bar against a local HTTP server, and report export, through the window."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import Qt, QThreadPool
from werkzeug.wrappers import Response

from rigcheck.catalog.records import encode_catalog
from rigcheck.desktop import report_bridge, state

from .fakes import make_catalog, make_services

FEED = "/v1/catalog.json"


# Sequences are build times as YYYYMMDDHHMM; the embedded catalog is 202611290000, so this feed (2026-12-01) is newer
# and refresh accepts it.
FEED_SEQUENCE = 202612010000


def _feed_bytes(sequence: int = FEED_SEQUENCE, padding_bytes: int = 0) -> bytes:
    cat = make_catalog(sequence=sequence)
    cat.models[0].notes = "n" * padding_bytes  # a big enough body to arrive in many chunks
    cat.models.append(cat.models[0].__class__(id="acme/New-3B", family="new", name="New 3B", params_total_b=3.0,
                                              params_active_b=3.0, max_context_tokens=65536,
                                              quants=list(cat.models[0].quants)))
    cat.generated_at = "2026-11-28T00:00:00Z"
    return encode_catalog(cat)


@pytest.fixture
def refresh_window(make_window, httpserver):
    """A window whose refresh goes to the local server, unsigned feeds allowed for it, on real threads."""
    from rigcheck.catalog.refresh import refresh_catalog

    store = state.open_settings()
    store.setValue("catalog/feed_url", httpserver.url_for(FEED))
    store.setValue("catalog/allow_unsigned", "true")
    store.sync()
    httpserver.expect_request(FEED + ".sig").respond_with_data("", status=404)

    def make():
        return make_window(make_services(refresh_catalog=refresh_catalog), pool=QThreadPool())

    return make


def _wait_idle(qtbot, window):
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)


def test_refresh_success_swaps_catalog_and_reevaluates(refresh_window, httpserver, qtbot):
    httpserver.expect_request(FEED).respond_with_data(_feed_bytes(), content_type="application/json")
    window = refresh_window()
    _wait_idle(qtbot, window)
    assert window.models_page.model.rowCount() == 4
    window.act_refresh.trigger()
    assert window.progress.isVisible() and window.cancel_button.isVisible()
    assert not window.act_refresh.isEnabled()
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 5, timeout=10000)
    assert window.error_label.text().startswith(f"Catalog updated to sequence {FEED_SEQUENCE}")
    assert "UNSIGNED" in window.error_label.text()
    label = window.catalog_label.text()
    assert label.startswith("Catalog: http://") and label.endswith(", 5 models")
    assert not window.progress.isVisible() and window.act_refresh.isEnabled()


def test_refresh_failure_keeps_the_catalog_and_offers_details(refresh_window, httpserver, qtbot):
    httpserver.expect_request(FEED).respond_with_data(b'{"schema_version": "1.0", "models": [', status=200)
    window = refresh_window()
    _wait_idle(qtbot, window)
    window.refresh_catalog()
    qtbot.waitUntil(lambda: not window.controller.refreshing, timeout=10000)
    text = window.error_label.text()
    assert "not a usable catalog" in text and text.endswith("The catalog in use is unchanged.")
    assert "\n" not in text
    assert window.details_button.isVisible() and "Traceback" in window._error_details
    assert window.models_page.model.rowCount() == 4
    assert window.catalog_label.text().endswith(", 4 models")


def test_refresh_cancel_writes_nothing(refresh_window, httpserver, qtbot):
    body = _feed_bytes(padding_bytes=2_000_000)

    def slow(_request):
        def chunks():
            for i in range(0, len(body), 32768):
                time.sleep(0.05)
                yield body[i:i + 32768]

        return Response(chunks(), headers={"Content-Length": str(len(body))}, content_type="application/json")

    httpserver.expect_request(FEED).respond_with_handler(slow)
    window = refresh_window()
    _wait_idle(qtbot, window)
    window.refresh_catalog()
    qtbot.waitUntil(lambda: window.progress.maximum() == 1000 and window.progress.value() > 0, timeout=10000)
    assert "/" in window.progress.format()  # bytes read / total
    window.cancel_button.click()
    qtbot.waitUntil(lambda: not window.controller.refreshing, timeout=10000)
    assert window.error_label.text() == "Refresh cancelled; the catalog in use is unchanged."
    assert window.models_page.model.rowCount() == 4
    from rigcheck.catalog import cache

    assert not cache.catalog_path().exists()


def test_export_writes_the_report_in_a_worker(make_window, tmp_path, qtbot):
    window = make_window(make_services(export_report=report_bridge.export_report), pool=QThreadPool())
    qtbot.waitUntil(lambda: window.controller.evaluation is not None, timeout=10000)
    assert window.act_export.isEnabled()
    window.models_page.select_model("acme/Mid-8B")
    for fmt_name in ("md", "json", "csv", "html", "pdf"):
        out = tmp_path / f"report.{fmt_name}"
        assert window.export_to(fmt_name, str(out))
        qtbot.waitUntil(lambda out=out: out.exists() and "Report saved" in window.error_label.text(), timeout=20000)
        assert out.stat().st_size > 0
    data = json.loads((tmp_path / "report.json").read_text())
    assert "acme/Mid-8B" in json.dumps(data)
    assert "Mid 8B" in (tmp_path / "report.md").read_text() or "acme/Mid-8B" in (tmp_path / "report.md").read_text()


def test_export_failure_is_one_sentence(make_window, tmp_path):
    window = make_window(make_services(export_report=report_bridge.export_report))
    assert window.export_to("md", str(tmp_path / "missing-folder" / "r.md"))
    assert window.error_label.text().startswith("Could not export the report: ")
    assert window.details_button.isVisible()


def test_export_unavailable_says_so(window):
    assert not window.act_export.isEnabled()
    assert not window.export_to("pdf", "/tmp/never.pdf")
    assert window.error_label.text() == "Report export is not part of this build."


def test_refresh_with_network_disabled_is_one_sentence(make_window):
    from rigcheck.catalog.refresh import refresh_catalog

    window = make_window(make_services(refresh_catalog=refresh_catalog))  # project feed; RIGCHECK_NO_NETWORK=1
    window.refresh_catalog()
    text = window.error_label.text()
    assert text.startswith("Network access is disabled (RIGCHECK_NO_NETWORK is set)")
    assert text.endswith("The catalog in use is unchanged.")
    assert window.act_refresh.isEnabled() and not window.progress.isVisible()


# the feed URL, set in the window ---------------------------------------------------------------------------
def _feed_dialog(window):
    window.act_feed.trigger()
    return window.feed_dialog_window


def test_feed_url_set_in_the_window_is_used_by_refresh_and_remembered(make_window, httpserver, qtbot):
    from rigcheck.catalog.refresh import refresh_catalog

    httpserver.expect_request(FEED + ".sig").respond_with_data("", status=404)
    httpserver.expect_request(FEED).respond_with_data(_feed_bytes(), content_type="application/json")
    window = make_window(make_services(refresh_catalog=refresh_catalog), pool=QThreadPool())
    _wait_idle(qtbot, window)
    assert window.controller.refresh_url is None  # the project's feed until told otherwise
    dialog = _feed_dialog(window)
    assert not dialog.unsigned.isEnabled()  # the project's feed is always checked against the pinned keys
    dialog.url_edit.setText(httpserver.url_for(FEED))
    assert dialog.unsigned.isEnabled()
    dialog.unsigned.setChecked(True)
    dialog.accept()
    assert window.error_label.text().startswith(f"Refresh catalog will fetch {httpserver.url_for(FEED)}")
    assert state.refresh_url(state.open_settings()) == (httpserver.url_for(FEED), True)
    window.refresh_catalog()
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 5, timeout=10000)
    assert "UNSIGNED" in window.error_label.text() or "unsigned" in window.error_label.text()
    again = _feed_dialog(window)  # opens with what is in use
    assert again.url_edit.text() == httpserver.url_for(FEED) and again.unsigned.isChecked()
    again.reject()


def test_bad_feed_url_is_one_sentence_and_changes_nothing(window):
    dialog = _feed_dialog(window)
    dialog.url_edit.setText("ftp://mirror.example.org/catalog.json")
    dialog.accept()
    assert dialog.isVisible() and dialog.problem.text() == "“ftp://mirror.example.org/catalog.json” is not an http(s) URL."
    assert window.controller.refresh_url is None
    assert state.refresh_url(state.open_settings()) == (None, False)
    dialog.reject()


def test_empty_feed_url_goes_back_to_the_project_feed(window):
    state.save_refresh_url(window.store, "https://mirror.example.org/catalog.json", True)
    window.controller.refresh_url, window.controller.allow_unsigned = "https://mirror.example.org/catalog.json", True
    dialog = _feed_dialog(window)
    dialog.url_edit.clear()
    dialog.accept()
    assert (window.controller.refresh_url, window.controller.allow_unsigned) == (None, False)
    assert state.refresh_url(window.store) == (None, False)
    assert window.error_label.text() == "Refresh catalog will fetch Hugging Face and OpenRouter."


def test_add_model_dialog_adds_in_the_background(make_window, qtbot):
    """"Add model…" takes a repo id, runs the add with progress on a worker, and swaps in the new catalog."""
    from rigcheck.catalog.outcome import RefreshResult
    from rigcheck.catalog.records import decode_catalog

    asked = []

    def add_model(ref, progress, cancel):
        asked.append(ref)
        progress(0, 1, ref)
        catalog = decode_catalog(_feed_bytes())
        return RefreshResult(status="updated", catalog=catalog, message=f"added {ref}: 1 quants", url="sources",
                             signed=False, changed=True, notes=("x/y: skipped: HTTP 401",))

    window = make_window(make_services(add_model=add_model), pool=QThreadPool())
    _wait_idle(qtbot, window)
    assert window.act_add.isEnabled()
    window.add_model_dialog()
    window.add_dialog_window.setTextValue("https://huggingface.co/acme/New-3B")
    window.add_dialog_window.accept()
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 5, timeout=10000)
    assert asked == ["https://huggingface.co/acme/New-3B"]
    assert window.error_label.text().startswith("Added https://huggingface.co/acme/New-3B: 1 quants")
    assert "1 repos skipped or noted: Details… lists them" in window.error_label.text()


def test_add_model_dialog_refuses_a_bad_id_at_once(make_window, qtbot):
    window = make_window(make_services(add_model=lambda *a, **k: pytest.fail("called")), pool=QThreadPool())
    _wait_idle(qtbot, window)
    window.add_model_dialog()
    window.add_dialog_window.setTextValue("not a repo")
    window.add_dialog_window.accept()
    assert "not a Hugging Face model id" in window.error_label.text()


# the Catalog menu, progress with an ETA, details after a refresh -----------------------------------------
def _result(catalog_bytes: bytes, message: str, notes=()):
    from rigcheck.catalog.outcome import RefreshResult
    from rigcheck.catalog.records import decode_catalog

    return RefreshResult(status="updated", catalog=decode_catalog(catalog_bytes), message=message, url="sources",
                         signed=False, changed=True, notes=tuple(notes))


def test_catalog_menu_holds_every_catalog_action_with_shortcuts(window):
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert {"File", "Machine", "Catalog"} <= set(menus)
    catalog = [a.text() for a in menus["Catalog"].actions() if not a.isSeparator()]
    assert catalog == ["Refresh catalog", "Cancel refresh", "Add model…", "Remove model…", "Catalog source…",
                       "Last refresh details…"]
    shortcuts = {a.text(): a.shortcut().toString() for a in menus["Catalog"].actions()}
    assert shortcuts["Refresh catalog"] == "Ctrl+R" and shortcuts["Add model…"] == "Ctrl+Shift+A"
    assert shortcuts["Remove model…"] == "Ctrl+Shift+X" and shortcuts["Catalog source…"] == "Ctrl+Shift+U"
    assert not window.act_cancel_refresh.isEnabled()  # only while a refresh runs


def test_refresh_progress_counts_models_with_an_eta_and_cancel_apart(window, monkeypatch):
    from rigcheck.desktop import catalog_actions

    clock = [1000.0]
    monkeypatch.setattr(catalog_actions.time, "monotonic", lambda: clock[0])
    window._show_busy("refresh", True)
    assert window.cancel_button.isVisible() and window.act_cancel_refresh.isEnabled()
    assert not window.act_refresh.isEnabled() and not window.act_add.isEnabled()
    clock[0] += 20.0
    window._show_progress(40, 120, "Qwen/Qwen3-8B")
    assert window.progress.format() == "40 / 120 models"
    assert window.busy_label.text() == "Refreshing catalog… about 40 s left"
    window._show_busy("refresh", False)
    assert window.busy_label.text() == "" and not window.cancel_button.isVisible()
    assert not window.act_cancel_refresh.isEnabled()


def test_details_after_a_refresh_list_the_skipped_repos_as_plain_text(make_window, qtbot):
    notes = ["gatedlab/Secret-70B: skipped: gated (HTTP 401)", "<b>evil/Repo</b>: skipped: HTTP 404",
             "Hub rate limit: 37 models keep their previous facts; run again in 4 min"]

    def refresh(url, progress, cancel):
        progress(0, 2, "a/b")
        progress(2, 2, "c/d")
        return _result(_feed_bytes(), "catalog refreshed from Hugging Face and OpenRouter: 2 models fetched", notes)

    window = make_window(make_services(refresh_catalog=refresh), pool=QThreadPool())
    _wait_idle(qtbot, window)
    window.act_refresh.trigger()
    qtbot.waitUntil(lambda: window.models_page.model.rowCount() == 5, timeout=10000)
    assert window.error_label.text().endswith("(3 repos skipped or noted: Details… lists them.)")
    assert window.details_button.isVisible() and window.act_refresh_details.isEnabled()
    window.details_button.click()
    dialog = window.notes_dialog_window
    assert dialog.isVisible() and dialog.text.toPlainText() == "\n".join(notes)  # markup stays text
    assert dialog.summary.textFormat() == Qt.TextFormat.PlainText
    dialog.reject()
    window._say("something else")  # the status line moves on; the menu still has the list
    window.act_refresh_details.trigger()
    assert window.notes_dialog_window.text.toPlainText().startswith("gatedlab/Secret-70B")


def test_remove_model_offers_the_added_models_and_removes_in_the_background(make_window, qtbot):
    removed = []

    def remove(ref):
        removed.append(ref)
        return _result(_feed_bytes(), f"removed {ref}")

    window = make_window(make_services(remove_model=remove, added_models=lambda: ["acme/New-3B", "acme/Other-1B"]),
                         pool=QThreadPool())
    _wait_idle(qtbot, window)
    assert window.act_remove.isEnabled()
    window.act_remove.trigger()
    dialog = window.remove_dialog_window
    assert dialog.comboBoxItems() == ["acme/New-3B", "acme/Other-1B"]
    dialog.setTextValue("acme/Other-1B")
    dialog.accept()
    qtbot.waitUntil(lambda: window.error_label.text().startswith("Removed acme/Other-1B"), timeout=10000)
    assert removed == ["acme/Other-1B"]


def test_remove_model_with_nothing_added_says_so(make_window):
    window = make_window(make_services(remove_model=lambda ref: pytest.fail("called"), added_models=lambda: []))
    window.remove_model_dialog()
    assert window.error_label.text() == "No model was added with Add model…; the built-in models cannot be removed."
