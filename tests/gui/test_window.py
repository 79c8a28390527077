"""The main window driven as a user would: populate, filter, sort, select, what-if, settings, state, keyboard."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from rigcheck.desktop import state
from rigcheck.desktop.models.model_table import MEMORY, MODEL, ROW_ROLE
from rigcheck.desktop.pages import detail_page

from .fakes import GIB, cpu_machine, gpu_machine, make_catalog, make_services


def ids(window):
    proxy = window.models_page.proxy
    return [proxy.index(r, MODEL).data(ROW_ROLE).model.id for r in range(proxy.rowCount())]


def test_window_is_fully_populated(window):
    assert window.models_page.model.rowCount() == 4
    assert window.models_page.count.text() == "4 of 4 models"
    assert window.catalog_label.text().startswith("Catalog: built in, ")
    card = window.machine_panel.gpu_cards[0]
    assert card.vram_bar.format() == "2 GiB / 24 GiB"
    assert "1,008 GB/s" in card.values_text and "165 TFLOPS" in card.values_text
    assert "driver" in card.vram_bar.toolTip()
    assert window.machine_panel.host_card.ram_bar.format() == "8 GiB / 64 GiB"
    assert not window.banner.isVisible()
    # Default order: the rules' (usable first, the most capable first among them); what does not fit last.
    assert ids(window)[-1] == "acme/Huge-MoE-400B"
    assert ids(window)[0] == "acme/Mid-8B"
    proxy = window.models_page.proxy
    assert proxy.index(0, MODEL).data(ROW_ROLE).usable
    # The picks strip names usable models, and the detail pane stays closed until a row is selected.
    titles = [card.title for card in window.picks.shown]
    assert titles == ["Chat", "Coding agent", "Long context", "Vision"]
    usable = {r.model.id for r in window.models_page.model.rows() if r.usable}
    assert window.picks.shown[0].model_id in usable and window.picks.shown[1].model_id in usable
    assert window.picks.shown[3].model_id is None, "no vision model in this catalog"
    assert window.detail_page.isHidden()


def test_search_and_verdict_filter_through_the_widgets(window, qtbot):
    page = window.models_page
    qtbot.keyClicks(page.search, "mid")
    assert ids(window) == ["acme/Mid-8B"]
    assert page.count.text() == "1 of 4 models"
    page.search.clear()
    page.verdict.setCurrentIndex(page.verdict.findData("no_fit"))
    assert ids(window) == ["acme/Huge-MoE-400B"]
    page.verdict.setCurrentIndex(page.verdict.findData("all"))
    page.use_case.setCurrentIndex(page.use_case.findData("reasoning"))
    assert ids(window) == ["acme/Big-70B"]
    page.use_case.setCurrentIndex(0)
    page.license.setCurrentIndex(page.license.findData("apache-2.0"))
    assert ids(window) == ["acme/Tiny-1B"]


def test_sort_by_clicking_header(window, qtbot):
    header = window.models_page.table.horizontalHeader()
    x = header.sectionViewportPosition(MEMORY) + header.sectionSize(MEMORY) // 2
    from PySide6.QtCore import QPoint

    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert header.sortIndicatorSection() == MEMORY
    proxy = window.models_page.proxy
    sizes = [proxy.index(r, MODEL).data(ROW_ROLE).shown.memory.total_bytes for r in range(proxy.rowCount())]
    assert sizes in (sorted(sizes), sorted(sizes, reverse=True))


def test_select_shows_detail_with_every_quant_charts_offers_and_basis(window):
    assert window.models_page.select_model("acme/Mid-8B")
    detail = window.detail_page
    assert detail.title.text().startswith("Mid 8B")
    assert detail.quants.rowCount() == 3
    assert not detail.isHidden(), "a selection opens the detail pane"
    assert detail.selected_estimate().quant == "Q8_0"  # the pick (near-lossless like F16, and faster), pre-selected
    assert detail.offers.rowCount() == 2
    assert len(detail.memory_chart.items) >= 4  # three stacks and the VRAM line
    assert not detail.speed_chart.items  # its tab is not in view: nothing computed or drawn for it yet
    detail.tabs.setCurrentIndex(detail_page.SPEED_TAB)
    assert detail.speed_chart.items, "speed against context was drawn once its tab was shown"
    text = detail.basis.toPlainText()
    assert "Decode: about" in text and "likely between" in text and "stand-in estimator" in text


def test_keyboard_navigation_moves_the_detail(window, qtbot):
    table = window.models_page.table
    window.models_page.select_model("acme/Tiny-1B")
    table.setFocus()
    first = window.detail_page.row.model.id
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert window.detail_page.row.model.id != first
    window.act_search.trigger()
    assert window.models_page.search.hasFocus() or QApplication.focusWidget() is window.models_page.search


def test_settings_change_reevaluates(window, services, qtbot):
    calls = services._calls
    before = window.models_page.model.rows()[1].shown.memory.kv_cache_bytes
    bar = window.settings_bar
    bar.kv_type.setCurrentIndex(bar.kv_type.findData("q4_0"))
    bar.flush()
    assert calls[-1].kv_cache_type == "q4_0"
    after = window.models_page.model.rows()[1].shown.memory.kv_cache_bytes
    assert after * 4 == before
    bar.basis.setCurrentIndex(bar.basis.findData("free"))
    bar.flush()
    assert calls[-1].memory_basis == "free"


def test_what_if_machine_then_back(window, qtbot):
    window.what_if()
    dialog = window.hardware_dialog
    qtbot.keyClicks(dialog.search, "H100")
    assert dialog.proxy.rowCount() == 1
    dialog.count.setValue(2)
    dialog.add_selected()
    dialog.ram.setText("256GB")
    dialog.accept()
    assert window.banner.isVisible()
    assert "hypothetical" in window.banner_label.text()
    assert len(window.machine_panel.gpu_cards) == 2
    assert window.machine_panel.gpu_cards[0].vram_bar.format() == "80 GiB"
    assert not window.machine_panel.sparkline.isVisible()  # no live usage for a described machine
    big = next(r for r in window.models_page.model.rows() if r.model.id == "acme/Big-70B")
    assert big.verdict == "gpu"  # 160 GiB of VRAM holds it
    qtbot.mouseClick(window.back_button, Qt.MouseButton.LeftButton)
    assert not window.banner.isVisible()
    assert window.controller.machine.origin == "probed"
    big = next(r for r in window.models_page.model.rows() if r.model.id == "acme/Big-70B")
    assert big.verdict == "gpu+ram"


def test_what_if_bad_input_stays_open_with_one_sentence(window, qtbot):
    window.what_if()
    dialog = window.hardware_dialog
    dialog.accept()
    assert dialog.isVisible() and dialog.error.text() == "Add at least one GPU or give the RAM size."
    dialog.ram.setText("lots")
    dialog.accept()
    assert dialog.isVisible() and dialog.error.text().startswith("RAM: 'lots' is not a size")
    dialog.load_profile("/nonexistent/profile.json")
    assert dialog.isVisible() and "not a machine profile" in dialog.error.text()
    dialog.reject()
    assert not window.banner.isVisible()


def test_no_gpu_says_why_and_what_still_works(make_window):
    window = make_window(make_services(cpu_machine()))
    label = window.machine_panel.no_gpu_label
    assert label is not None
    assert "no NVIDIA driver: libnvidia-ml.so.1 not found" in label.text()
    assert "What if" in label.text()
    assert window.models_page.model.rowCount() == 4


def test_catalog_strings_are_plain_text(make_window):
    catalog = make_catalog()
    catalog.models[0].name = "<b>Bold</b> <img src=x>"
    catalog.models[0].license = "<i>mit</i>"
    window = make_window(make_services(catalog=catalog))
    window.models_page.select_model("acme/Tiny-1B")
    title = window.detail_page.title
    assert title.textFormat() == Qt.TextFormat.PlainText
    assert title.text().startswith("<b>Bold</b> <img src=x>")
    # Tooltips are rich text whenever they look like HTML: catalog strings in them must arrive escaped.
    proxy = window.models_page.proxy
    row = ids(window).index("acme/Tiny-1B")
    tip = proxy.index(row, MODEL).data(Qt.ItemDataRole.ToolTipRole)
    assert "License: &lt;i&gt;mit&lt;/i&gt;" in tip and "<i>" not in tip


def test_sparkline_updates_in_place_and_pauses_when_hidden(window, qtbot):
    spark = window.machine_panel.sparkline
    assert spark.isVisible() and spark.timer.isActive()
    qtbot.waitUntil(lambda: spark.plot is not None)  # built once the table is up
    curve = spark.ram_curve
    n = spark.points[0]
    assert len(curve.getData()[1]) == n  # samples taken before the plot existed are drawn
    spark.tick()
    assert spark.points[0] == n + 1
    assert spark.ram_curve is curve  # same item, new data
    assert len(curve.getData()[1]) == n + 1
    assert "RAM" in spark.caption.text()
    window.hide()
    assert not spark.timer.isActive()
    window.show()
    assert spark.timer.isActive()


def test_window_state_and_settings_are_remembered(make_window, services):
    window = make_window(services)
    window.resize(760, 560)  # inside the offscreen screen (800x600), so no clamping
    window.split.setSizes([100, 500])
    size, split = window.size(), window.split.sizes()
    bar = window.settings_bar
    bar.context.setCurrentIndex(bar.context.findData(32768))
    bar.flush()
    window.close()
    store = state.open_settings()
    assert store.fileName().startswith(str(state.config_dir()))
    assert int(store.value("estimate/context_tokens")) == 32768
    again = make_window(make_services())
    assert again.size() == size
    assert again.split.sizes() == split
    assert again.settings_bar.settings().context_tokens == 32768
    assert again.controller.settings.context_tokens == 32768


def test_unreadable_saved_settings_fall_back_to_defaults(tmp_path):
    store = QSettings(str(tmp_path / "x.ini"), QSettings.Format.IniFormat)
    store.setValue("estimate/context_tokens", "lots")
    store.setValue("estimate/kv_cache_type", "q3_weird")
    s = state.load_estimator_settings(store)
    assert s.context_tokens == 8192 and s.kv_cache_type == "f16"


def test_evaluation_failure_is_one_sentence_with_details(make_window):
    def broken(machine, catalog, settings):
        raise ValueError("model acme/Mid-8B has no num_layers")

    window = make_window(make_services(evaluate=broken))
    assert window.error_label.text() == "Could not estimate the models: model acme/Mid-8B has no num_layers"
    assert window.details_button.isVisible()
    assert "Traceback" in window._error_details


def test_memory_basis_free_uses_free_vram(make_window):
    services = make_services(gpu_machine(vram_gib=24))
    window = make_window(services)
    bar = window.settings_bar
    bar.basis.setCurrentIndex(bar.basis.findData("free"))
    bar.flush()
    assert services._calls[-1].memory_basis == "free"
    assert GIB  # units used by the fakes


def test_profile_file_from_what_if_dialog(make_window, qtbot):
    profile_machine = gpu_machine(vram_gib=48, origin="profile", label="lab-box.json")
    services = make_services(load_profile=lambda path: profile_machine)
    window = make_window(services)
    window.what_if()
    window.hardware_dialog.load_profile("/some/lab-box.json")
    assert not window.hardware_dialog.isVisible()
    assert window.banner.isVisible() and "from a profile: lab-box.json" in window.banner_label.text()
    assert window.machine_panel.gpu_cards[0].vram_bar.format().endswith("48 GiB")
    window.act_back.trigger()
    assert not window.banner.isVisible()


def test_export_dialog_picks_format_from_extension(make_window, tmp_path, monkeypatch):
    written = []

    def export(machine, catalog, settings, estimates, fmt, path, selected_model_ids=()):
        written.append((fmt, path, tuple(selected_model_ids)))
        open(path, "w").write("report")

    window = make_window(make_services(export_report=export))
    window.models_page.select_model("acme/Big-70B")
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "out.html"), "PDF report (*.pdf)"))
    window.export_dialog()
    assert written == [("html", str(tmp_path / "out.html"), ("acme/Big-70B",))]
    assert window.error_label.text() == f"Report saved to {tmp_path / 'out.html'}"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "plain"), "CSV table (*.csv)"))
    window.export_dialog()
    assert written[-1][:2] == ("csv", str(tmp_path / "plain.csv"))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    window.export_dialog()  # cancelled: nothing written
    assert len(written) == 2


def test_crash_hook_logs_and_shows_copyable_details(qtbot, monkeypatch, caplog):
    import sys

    from PySide6.QtWidgets import QMessageBox

    from rigcheck.desktop.widgets import crash_dialog

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    shown = []
    monkeypatch.setattr(QMessageBox, "open", lambda self: shown.append(self))
    crash_dialog.install_crash_hook()
    try:
        raise RuntimeError("table model out of sync")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert "unexpected error" in caplog.text and "table model out of sync" in caplog.text
    box = shown[0]
    assert "table model out of sync" in box.text()
    assert "Traceback" in box.detailedText() and "RuntimeError" in box.detailedText()
    assert box.textFormat() == Qt.TextFormat.PlainText


def test_prompt_and_context_stay_consistent(window, services):
    bar = window.settings_bar
    bar.prompt.setCurrentIndex(bar.prompt.findData(32768))
    assert bar.context.currentData() == 32768  # grown to hold the prompt
    bar.context.setCurrentIndex(bar.context.findData(2048))
    assert bar.prompt.currentData() == 2048  # shrunk to fit the context
    bar.flush()
    assert (services._calls[-1].prompt_tokens, services._calls[-1].context_tokens) == (2048, 2048)
    from rigcheck.desktop.models.model_table import TTFT

    assert window.models_page.model.headerData(TTFT, Qt.Orientation.Horizontal) == "TTFT @2k"
    assert len(services._calls) == 2  # the first evaluation, then one debounced re-evaluation for all the edits


def test_model_without_parameter_count_has_a_clean_title(qtbot):
    from rigcheck.desktop.models.rows import build_rows
    from rigcheck.desktop.pages.detail_page import DetailPage
    from rigcheck.estimate.types import Settings

    from .fakes import fake_evaluate

    catalog = make_catalog()
    estimates = fake_evaluate(gpu_machine(), catalog, Settings())
    catalog.models[0].params_total_b = None  # e.g. a model whose card does not say
    catalog.models[0].params_active_b = None
    page = DetailPage()
    qtbot.addWidget(page)
    page.show_row(build_rows(catalog, estimates)[0])
    assert page.title.text() == "Tiny 1B"
    assert page.basis.toPlainText().splitlines()[1].startswith("trained context 32k")


def test_curves_wait_for_the_selection_to_rest(window, qtbot):
    asked = []
    original = window.controller._start_curves

    def counting():
        if window.controller._curve_request is not None:
            asked.append(window.controller._curve_request[0].model.id)
        original()

    window.controller._start_curves = counting
    window.controller._curve_timer.timeout.disconnect()
    window.controller._curve_timer.timeout.connect(counting)
    window.controller.curve_delay_ms = 100
    window.detail_page.tabs.setCurrentIndex(detail_page.SPEED_TAB)
    for model_id in ("acme/Tiny-1B", "acme/Mid-8B", "acme/Big-70B"):
        window.models_page.select_model(model_id)  # walking the table: nothing computed yet
    assert asked == []
    qtbot.waitUntil(lambda: asked == ["acme/Big-70B"], timeout=3000)
    assert window.detail_page.speed_chart.items  # the resting row got its curves


def test_charts_follow_a_theme_change(window, qtbot):
    from PySide6.QtGui import QColor, QPalette

    window.models_page.select_model("acme/Mid-8B")
    chart = window.detail_page.memory_chart
    app = QApplication.instance()
    original = app.palette()
    dark = QPalette(original)
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#eeeeee"))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: chart.plot.getAxis("left").textPen().color().name() == "#eeeeee", timeout=3000)
    finally:
        app.setPalette(original)


def test_identical_gpus_share_one_card(window, qtbot):
    window.what_if()
    dialog = window.hardware_dialog
    qtbot.keyClicks(dialog.search, "H100")
    dialog.count.setValue(4)
    dialog.add_selected()
    dialog.accept()
    cards = window.machine_panel.gpu_cards
    assert len(cards) == 1 and len(cards[0].gpus) == 4
    assert cards[0].vram_bar.format() == "320 GiB"
    assert "GPU 3: ? / 80 GiB" in cards[0].vram_bar.toolTip()
    from PySide6.QtWidgets import QLabel

    texts = [label.text() for label in cards[0].findChildren(QLabel)]
    assert "3,350 GB/s each" in texts  # bandwidth and compute are per GPU, not summed


def test_curves_are_computed_only_for_the_chart_tab_in_view(make_window, qtbot):
    from .fakes import make_services

    asked = []
    services = make_services()

    def counting_cost(model, quant, machine, catalog, utilizations, settings):
        asked.append((model.id, quant))
        return {"hosted": [1.0 + u for u in utilizations]}, ""

    window = make_window(services.with_(cost_curves=counting_cost))
    detail = window.detail_page
    window.models_page.select_model("acme/Mid-8B")
    window.models_page.select_model("acme/Big-70B")
    assert asked == []  # the Memory tab is in view: no planner run on the GUI's interpreter
    detail.tabs.setCurrentIndex(detail_page.COST_TAB)
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=3000)
    assert asked[0][0] == "acme/Big-70B" and detail.cost_chart.items
    detail.tabs.setCurrentIndex(detail_page.MEMORY_TAB)
    detail.tabs.setCurrentIndex(detail_page.COST_TAB)
    qtbot.wait(50)
    assert len(asked) == 1  # the same quant's curves are not computed again
    window.models_page.select_model("acme/Mid-8B")  # with the Cost tab in view, a new model gets its curves
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=3000)
    assert asked[1][0] == "acme/Mid-8B"


def test_a_chart_on_a_hidden_tab_is_drawn_when_its_tab_is_shown(window):
    detail = window.detail_page
    detail.tabs.setCurrentIndex(detail_page.SPEED_TAB)
    window.models_page.select_model("acme/Mid-8B")
    assert detail.speed_chart.items and not detail.memory_chart.items  # memory drawn only when shown
    detail.tabs.setCurrentIndex(detail_page.MEMORY_TAB)
    assert len(detail.memory_chart.items) >= 4


def test_memory_chart_is_updated_in_place_with_its_limits_in_the_key(window):
    window.models_page.select_model("acme/Mid-8B")
    chart = window.detail_page.memory_chart
    count = len(chart.plot.getPlotItem().items)
    labels = [text for _c, text, style in chart.legend.entries if style in ("dash", "dot")]
    assert labels and labels[0].startswith("usable VRAM ")  # the key says what the line is, with its figure
    window.models_page.select_model("acme/Big-70B")
    assert len(chart.plot.getPlotItem().items) == count  # the same bars and lines, new data
    assert [b.opts["y"] for b in chart.bars][0] == list(range(window.detail_page.quants.rowCount()))
    shown = [text for _c, text, style in chart.legend.entries if style in ("dash", "dot")]
    assert shown[0] == labels[0] and shown[1].startswith("usable VRAM + RAM ")  # both lines within reach of the longer bars


def test_memory_chart_draws_the_limits_the_verdicts_used_and_marks_what_does_not_fit(make_window):
    """The chart and the quant table agree: the lines are the estimates' own budgets, and every quant the table
    calls "Does not fit" is a faded bar marked ✗, wherever its bar ends."""
    window = make_window(make_services(gpu_machine(vram_gib=24, ram_gib=32)))  # Big 70B: Q4_K_M fits, Q8_0 not
    window.models_page.select_model("acme/Big-70B")
    detail = window.detail_page
    chart = detail.memory_chart
    ests = chart._data
    assert any(not e.fits for e in ests) and any(e.fits for e in ests)
    positions = sorted(line.value() for line in chart.lines if line.isVisible())
    assert positions == [ests[0].memory.gpu_budget_bytes / GIB, ests[0].memory.budget_bytes / GIB]
    ticks = [name for _y, name in chart.plot.getAxis("left")._tickLevels[0]]
    brushes = chart.bars[0].opts["brushes"]
    for e, name, brush in zip(ests, ticks, brushes, strict=True):
        assert name.startswith("✗") == (not e.fits)
        assert (brush.color().alpha() < 255) == (not e.fits)
        table_row = next(r for r in range(detail.quants.rowCount()) if detail.quants.item(r) is e)
        assert (detail.quants.index(table_row, 2).data() == "Does not fit") == (not e.fits)
    assert ("✗ does not fit", "faded") in [(text, style) for _c, text, style in chart.legend.entries]


def test_the_app_window_freezes_a_new_catalog_once_after_its_first_evaluation(make_window, services):
    import gc

    window = make_window(services, start=False)
    window.freeze_long_lived = True
    gc.unfreeze()
    try:
        window.start()
        frozen = gc.get_freeze_count()
        assert frozen > 0  # the catalog, the evaluation and what came before are out of later full collections
        window.controller.set_settings(window.controller.settings.__class__(context_tokens=16384))
        assert window.controller.evaluation.settings.context_tokens == 16384
        assert gc.get_freeze_count() <= frozen  # a re-evaluation of the same catalog freezes nothing more
    finally:
        gc.unfreeze()


def test_gpu_card_of_a_gpu_without_a_spec_row_shows_the_driver_estimate(qtbot):
    from rigcheck.desktop.widgets.machine_panel import GpuCard
    from rigcheck.probe.types import Gpu

    gpu = Gpu(index=0, vendor="nvidia", name="NVIDIA RTX Future 4000", vram_total_bytes=24 * GIB, sm_count=70,
              sm_clock_max_mhz=2617, compute_capability="12.0", memory_bandwidth_bytes_per_s=672e9,
              sources={"memory_bandwidth_bytes_per_s": "driver"})
    card = GpuCard(gpu, None)
    qtbot.addWidget(card)
    assert "672 GB/s" in card.values_text and "188 TFLOPS" in card.values_text


def test_settings_dialog_changes_what_is_usable_and_is_remembered(make_window, services, qtbot):
    window = make_window(services)
    usable_before = {r.model.id for r in window.models_page.model.rows() if r.usable}
    assert usable_before
    window.settings_dialog()
    dialog = window.settings_window
    dialog.min_decode.setValue(5000.0)  # nothing here decodes that fast
    dialog.ratio.setValue(1.0)
    dialog.accept()
    settings = window.controller.settings
    assert settings.usable.min_decode_tokens_per_s == 5000.0 and settings.input_per_output == 1.0
    assert services._calls[-1].usable.min_decode_tokens_per_s == 5000.0, "re-evaluated with the new threshold"
    assert not [r for r in window.models_page.model.rows() if r.usable]
    assert all(card.model_id is None for card in window.picks.shown), "no usable pick: every card says so"
    assert "≥ 5000 tok/s" in window.picks.rule.text() and "1:1" in window.picks.rule.text()
    # a settings-bar edit afterwards keeps the thresholds
    bar = window.settings_bar
    bar.context.setCurrentIndex(bar.context.findData(32768))
    bar.flush()
    assert window.controller.settings.usable.min_decode_tokens_per_s == 5000.0
    assert state.load_estimator_settings(window.store).usable.min_decode_tokens_per_s == 5000.0


def test_usable_only_toggle_picks_strip_click_and_closing_the_detail(window, qtbot):
    page = window.models_page
    page.usable_only.setChecked(True)
    shown = ids(window)
    usable = {r.model.id for r in page.model.rows() if r.usable}
    assert shown and set(shown) == usable and "acme/Huge-MoE-400B" not in shown
    page.usable_only.setChecked(False)
    assert window.detail_page.isHidden()
    card = window.picks.cards[0]
    card.click()
    assert page.selected_model_id() == window.picks.shown[0].model_id
    assert not window.detail_page.isHidden()
    window.detail_page.close_button.click()
    assert page.selected_model_id() is None and window.detail_page.isHidden()


def test_the_serving_tab_shows_per_user_against_total_and_the_doors_beside_it(make_window, qtbot):
    from rigcheck.desktop.serving_bridge import DoorRow, ServingPoint, ServingView

    from .fakes import make_services

    asked = []

    def serving_view(model, quant, machine, catalog, settings):
        asked.append((model.id, quant))
        points = (ServingPoint(1, 90.0, 90.0, 0.3), ServingPoint(8, 600.0, 75.0, 0.8),
                  ServingPoint(64, 2400.0, 37.0, 3.5), ServingPoint(120, 3000.0, 25.0, 9.0, saturated=True))
        doors = (DoorRow("rented", "1x RTX 4090 (rented)", 12.0, 0.9, "16 concurrent; one GPU (vLLM)"),
                 DoorRow("hosted", "cheapco", 0.6, None, ""),
                 DoorRow("owned", "testbox", None, None, "no purchase price"))
        return ServingView("Big 70B Q4_K_M, llama.cpp server: one GPU", points, doors, "workload: 10M in, 1M out",
                           "1,024 in + 512 out per request; at most 120 at once.")

    window = make_window(make_services().with_(serving_view=serving_view))
    detail = window.detail_page
    window.models_page.select_model("acme/Big-70B")
    assert asked == []  # another tab is in view
    detail.tabs.setCurrentIndex(detail_page.SERVING_TAB)
    qtbot.waitUntil(lambda: len(asked) == 1 and bool(detail.serving_chart.items), timeout=3000)
    chart = detail.serving_chart
    # the legend sits in its own row under the plot, outside the plotted area, and names both kinds of point
    legend_labels = [text for _colour, text, _style in chart.legend.entries]
    assert legend_labels == ["first token within 2.0 s", "first token over 2.0 s"]
    assert not chart.plot.isAncestorOf(chart.legend), "a Qt widget under the plot, not an item inside it"
    texts = [item.textItem.toPlainText() for item in chart.items if hasattr(item, "textItem")]
    assert texts == ["1", "8", "64", "120 (max)"]
    assert "at most 120 at once" in chart.note.text()
    # the doors beside it, cheapest first; an unavailable door last
    doors = [detail.door_proxy.index(r, 0).data() for r in range(detail.door_proxy.rowCount())]
    assert doors == ["hosted", "rented", "owned"]
    assert detail.door_proxy.index(1, 2).data() == "$0.90"
    assert detail.door_proxy.index(2, 1).data() == "unavailable"
    assert "workload" in detail.door_view.toolTip()


def test_the_serving_tab_says_when_the_build_has_no_serving_model(make_window, qtbot):
    from .fakes import make_services

    window = make_window(make_services())
    detail = window.detail_page
    window.models_page.select_model("acme/Mid-8B")
    detail.tabs.setCurrentIndex(detail_page.SERVING_TAB)
    qtbot.waitUntil(lambda: "not part of this build" in detail.serving_chart.note.text(), timeout=3000)
    assert detail.door_proxy.rowCount() == 0


def test_narrow_window_cuts_the_pick_and_price_columns_until_the_user_sizes_a_column(window, qtbot):
    from rigcheck.desktop.models.model_table import HOSTED, MODEL, QUANT
    from rigcheck.desktop.pages.models_page import MODEL_MIN_PX

    page = window.models_page
    table = page.table
    window.resize(2400, 900)
    qtbot.wait(10)
    wide = {col: table.columnWidth(col) for col in (QUANT, HOSTED)}
    window.resize(700, 900)
    qtbot.wait(10)
    narrow = {col: table.columnWidth(col) for col in (QUANT, HOSTED)}
    assert narrow[QUANT] <= wide[QUANT] and narrow[HOSTED] <= wide[HOSTED]
    assert narrow != wide, "a narrow table takes width from the pick and price columns first"
    window.resize(2400, 900)
    qtbot.wait(10)
    assert {col: table.columnWidth(col) for col in (QUANT, HOSTED)} == wide
    assert table.columnWidth(MODEL) >= MODEL_MIN_PX
    table.horizontalHeader().resizeSection(QUANT, 333)  # as the user drags it
    window.resize(700, 900)
    qtbot.wait(10)
    assert table.columnWidth(QUANT) == 333, "the user's width stands whatever the window's size"


def test_a_legend_entry_is_whole_when_the_chart_has_the_width_and_cut_to_it_when_not(qtbot):
    # A rented node's name runs long ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition (rented, Q4_K_M)"): it was
    # cut at 60 characters even at 2560 px; it is whole when a row holds it, else cut with "…" to the row's width.
    from rigcheck.desktop.widgets.charts import Legend

    long_text = "rented: NVIDIA RTX PRO 6000 Blackwell Workstation Edition (rented, Q4_K_M)"
    legend = Legend()
    qtbot.addWidget(legend)
    legend.set_entries([("#0072B2", "hosted: lambda_ai", "line"), ("#E69F00", long_text, "line")])
    legend.resize(1600, 60)
    legend.show()
    labels = [label for _key, label in legend._pairs]
    assert [label.text() for label in labels] == ["hosted: lambda_ai", long_text]
    legend.resize(300, 60)
    qtbot.waitUntil(lambda: labels[1].text() != long_text)
    cut = labels[1].text()
    assert cut.endswith("…") and long_text.startswith(cut[:-1]) and labels[1].toolTip() == long_text
    assert labels[1].fontMetrics().horizontalAdvance(cut) <= 300
    assert legend.height_for(300) == 2 * legend.height_for(1600)  # one entry to a row now


def test_column_widths_follow_the_rows_until_the_user_sizes_one_and_then_stay_across_starts(make_window, qtbot):
    # The widths of a start were saved and restored as if the user had set them: a longer text shown later (another
    # machine, setting or catalog) stayed cut. Now they are fitted to each set of rows unless the user sized a column,
    # and only a user's widths are kept across starts.
    import msgspec

    from rigcheck.desktop.models.model_table import PARAMS  # a column never cut to fit the window

    window = make_window(make_services())
    page = window.models_page
    cells = page.model.cells()
    long_text = "1000B / 32B (a longer text)"
    longer = [msgspec.structs.replace(c, display=tuple(long_text if col == PARAMS else t for col, t in enumerate(c.display)))
              if i == len(cells) - 1 else c for i, c in enumerate(cells)]
    needed = page.table.fontMetrics().horizontalAdvance(long_text)
    assert page.table.columnWidth(PARAMS) < needed
    page.set_cells(longer)
    assert page.table.columnWidth(PARAMS) >= needed, "refitted to the new rows"
    window.close()  # saves the header; the widths were not the user's
    again = make_window(make_services())
    assert not again.models_page.user_sized
    again.models_page.set_cells(longer)
    assert again.models_page.table.columnWidth(PARAMS) >= needed
    # The user drags the parameters column narrower: that stands, now and at the next start, whatever the rows.
    again.models_page.table.horizontalHeader().resizeSection(PARAMS, 90)
    assert again.models_page.user_sized
    again.models_page.set_cells(longer)
    assert again.models_page.table.columnWidth(PARAMS) == 90
    again.close()
    third = make_window(make_services())
    assert third.models_page.user_sized and third.models_page.table.columnWidth(PARAMS) == 90
