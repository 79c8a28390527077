"""Item models: qtmodeltester on each, sorting on raw values, filters, formatting."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QTableView

from rigcheck import units
from rigcheck.desktop.models.cells import table_rows
from rigcheck.desktop.models.detail_tables import OffersTableModel, QuantTableModel
from rigcheck.desktop.models.devices import DeviceFilterProxy, DeviceListModel
from rigcheck.desktop.models.model_table import (
    CAPABILITY,
    DECODE,
    HEADERS,
    HOSTED,
    MEMORY,
    MODEL,
    ROW_ROLE,
    VERDICT,
    ModelFilterProxy,
    ModelTableModel,
)
from rigcheck.desktop.models.rows import build_rows
from rigcheck.desktop.pages.models_page import ModelsPage
from rigcheck.estimate.types import Settings

from .fakes import cpu_machine, fake_evaluate, gpu_machine, make_catalog


def rows_for(machine=None, settings=None):
    catalog = make_catalog()
    return build_rows(catalog, fake_evaluate(machine or gpu_machine(), catalog, settings or Settings()))


def table(rows=None):
    model = ModelTableModel()
    model.set_rows(rows if rows is not None else rows_for())
    proxy = ModelFilterProxy()
    proxy.setSourceModel(model)
    return model, proxy


def column(proxy, col, role=Qt.ItemDataRole.DisplayRole):
    return [proxy.index(r, col).data(role) for r in range(proxy.rowCount())]


def test_model_table_passes_qtmodeltester(qtmodeltester):
    model, proxy = table()
    qtmodeltester.check(model, force_py=True)
    model.set_rows(rows_for(cpu_machine()))  # same models: updated in place (dataChanged)
    model.set_rows(rows_for(cpu_machine())[:2])  # other models: a reset
    model.set_rows([])
    qtmodeltester.check(model, force_py=True)


def test_model_table_with_cells_only_passes_qtmodeltester(qtmodeltester):
    model = ModelTableModel()
    model.set_cells(table_rows(rows_for()))
    qtmodeltester.check(model, force_py=True)
    assert not model.has_rows() and model.rows() == [] and model.row_at(0) is None
    rows = rows_for(cpu_machine())
    model.set_rows(rows, table_rows(rows))  # the rows behind the first look, cells computed elsewhere: in place
    assert model.has_rows() and model.row_at(0) is rows[0]
    with pytest.raises(ValueError, match="not for these rows"):
        model.set_rows(rows, table_rows(rows[::-1]))
    model.set_cells(table_rows(rows_for()[:2]))  # other models: a reset
    qtmodeltester.check(model, force_py=True)


def test_first_look_cells_then_rows_keep_the_selection(qtbot):
    rows = rows_for()
    model, proxy = table([])
    model.set_cells(table_rows(rows))
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    proxy.sort(DECODE, Qt.SortOrder.DescendingOrder)
    # A first look paints, sorts and filters from the cells alone; there is no ModelRow behind them yet.
    assert proxy.rowCount() == 4 and column(proxy, MODEL, ROW_ROLE) == [None] * 4
    assert column(proxy, MODEL) == ["Tiny 1B", "Mid 8B", "Big 70B", "Huge MoE"]
    proxy.set_search("acme big")
    assert column(proxy, MODEL) == ["Big 70B"]
    proxy.set_search("")
    idx = proxy.index(1, 0)
    view.selectionModel().setCurrentIndex(
        idx, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.set_rows(rows)
    assert resets == []  # same models in the same order: the view keeps its selection and scroll position
    current = view.selectionModel().currentIndex()
    assert current.data() == "Mid 8B"
    assert view.selectionModel().isRowSelected(current.row())
    assert current.data(ROW_ROLE) is rows[1] and current.data(ROW_ROLE).model.id == "acme/Mid-8B"


def test_filter_choices_come_from_the_cells(qtbot):
    page = ModelsPage()
    qtbot.addWidget(page)
    page.set_cells(table_rows(rows_for()))  # a first look: no ModelRows, yet the boxes offer every choice
    assert page.count.text() == "4 of 4 models" and page.columns_sized
    assert [page.use_case.itemData(i) for i in range(page.use_case.count())] == [
        None, "agentic", "chat", "code", "reasoning", "small"]
    assert [page.license.itemData(i) for i in range(page.license.count())] == [
        None, "apache-2.0", "llama3.1", "other"]


def test_model_filter_proxy_passes_qtmodeltester(qtmodeltester):
    model, proxy = table()
    proxy.sort(MEMORY, Qt.SortOrder.AscendingOrder)
    proxy.set_search("acme")
    qtmodeltester.check(proxy, force_py=True)


def test_detail_and_device_models_pass_qtmodeltester(qtmodeltester):
    rows = rows_for()
    quants = QuantTableModel()
    quants.set_rows(rows[1].estimates)
    offers = OffersTableModel()
    offers.set_rows(rows[1].offers)
    devices = DeviceListModel(make_catalog().devices)
    proxy = DeviceFilterProxy()
    proxy.setSourceModel(devices)
    for m in (quants, offers, devices, proxy):
        qtmodeltester.check(m, force_py=True)
        qtmodeltester._cleanup()  # one tester, several models: detach before the next


def test_reevaluation_updates_in_place_and_resorts():
    model, proxy = table()
    proxy.sort(DECODE, Qt.SortOrder.DescendingOrder)
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    model.set_rows(rows_for(cpu_machine()))
    assert resets == []  # same models: no reset, so the view keeps scroll position and selection
    assert column(proxy, VERDICT) == ["CPU only", "CPU only", "Does not fit", "Does not fit"]  # new figures, re-sorted
    decode = [r.shown.decode_tokens_per_s.expected for r in column(proxy, MODEL, ROW_ROLE)[:2]]
    assert decode == sorted(decode, reverse=True)


def test_memory_sorts_by_bytes_not_text():
    # "900.0 MiB" < "2.5 GiB" < "16.4 GiB" by size; as text "16.4" < "2.5" < "900".
    model, proxy = table()
    proxy.sort(MEMORY, Qt.SortOrder.AscendingOrder)
    sizes = [r.shown.memory.total_bytes for r in column(proxy, MODEL, ROW_ROLE)]
    assert sizes == sorted(sizes)
    texts = column(proxy, MEMORY)
    assert texts != sorted(texts)  # the case that text sorting would get wrong is present


def test_unknown_values_sort_last_in_both_orders():
    model, proxy = table()
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        proxy.sort(DECODE, order)
        values = column(proxy, DECODE)
        assert values[-1] == units.DASH, (order, values)  # the 400B model does not fit: no decode speed
        assert units.DASH not in values[:-1]
    proxy.sort(DECODE, Qt.SortOrder.DescendingOrder)
    decode = [r.shown.decode_tokens_per_s.expected for r in column(proxy, MODEL, ROW_ROLE)[:-1]]
    assert decode == sorted(decode, reverse=True)


def test_verdict_sorts_best_first_and_has_icon_and_text():
    model, proxy = table()
    proxy.sort(VERDICT, Qt.SortOrder.AscendingOrder)
    assert column(proxy, VERDICT) == ["Fits in VRAM", "Fits in VRAM", "GPU + RAM", "Does not fit"]
    icon = proxy.index(0, VERDICT).data(Qt.ItemDataRole.DecorationRole)
    assert icon is not None and not icon.isNull()


def test_search_filter_matches_every_word():
    model, proxy = table()
    proxy.set_search("acme big")
    assert [r.model.id for r in column(proxy, MODEL, ROW_ROLE)] == ["acme/Big-70B"]
    proxy.set_search("nothing-like-this")
    assert proxy.rowCount() == 0
    proxy.set_search("")
    assert proxy.rowCount() == 4


def test_verdict_use_case_license_and_context_filters():
    model, proxy = table()
    proxy.set_verdict_filter("gpu")
    assert {r.model.id for r in column(proxy, MODEL, ROW_ROLE)} == {"acme/Tiny-1B", "acme/Mid-8B"}
    proxy.set_verdict_filter("no_fit")
    assert {r.model.id for r in column(proxy, MODEL, ROW_ROLE)} == {"acme/Huge-MoE-400B"}
    proxy.set_verdict_filter("all")
    proxy.set_use_case("code")
    assert {r.model.id for r in column(proxy, MODEL, ROW_ROLE)} == {"acme/Mid-8B", "acme/Huge-MoE-400B"}
    proxy.set_use_case(None)
    proxy.set_license("llama3.1")
    assert proxy.rowCount() == 2
    proxy.set_license(None)
    proxy.set_min_context(65536)  # Tiny has 32K; the 400B model fits nowhere
    assert {r.model.id for r in column(proxy, MODEL, ROW_ROLE)} == {"acme/Mid-8B", "acme/Big-70B"}


def test_capability_and_hosted_columns_use_the_rules():
    model, proxy = table()
    by_id = {r.model.id: i for i, r in enumerate(column(proxy, MODEL, ROW_ROLE))}
    mid = by_id["acme/Mid-8B"]
    assert proxy.index(mid, CAPABILITY).data() == "100"  # the better of two entries, the only aider score
    assert proxy.index(mid, HOSTED).data() == "$0.058/M ($0.05 in / $0.08 out)"  # cheapco's blend, not pricey
    assert "cheapco" in proxy.index(mid, HOSTED).data(Qt.ItemDataRole.ToolTipRole)


def test_no_fit_row_still_says_what_it_needs():
    rows = rows_for(cpu_machine())
    big = next(r for r in rows if r.model.id == "acme/Huge-MoE-400B")
    assert big.shown.verdict == "no_fit"
    assert big.shown.quant == "Q2_K"
    model, proxy = table(rows)
    i = [r.model.id for r in column(proxy, MODEL, ROW_ROLE)].index("acme/Huge-MoE-400B")
    assert proxy.index(i, MEMORY).data().endswith("GiB")


def test_quant_table_marks_best_and_sorts_by_memory():
    rows = rows_for()
    quants = QuantTableModel()
    quants.set_rows(rows[1].estimates)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(quants)
    from rigcheck.desktop.models.model_table import SORT_ROLE

    proxy.setSortRole(SORT_ROLE)
    proxy.sort(3, Qt.SortOrder.DescendingOrder)
    names = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    # F16 and Q8_0 are both near-lossless: the faster (Q8_0) is the pick, as the rules say everywhere.
    assert names == ["F16", "Q8_0  ★", "Q4_K_M"]


def test_format_helpers():
    assert units.bytes_text(7.2 * 2**30) == "7.2 GiB"
    assert units.bytes_text(900 * 2**20) == "900 MiB"
    assert units.tokens_text(131072) == "128k"
    assert units.tokens_text(1048576) == "1M"
    assert units.params_text(235, 22) == "235B / 22B"
    assert units.params_text(8.03, 8.03) == "8B"
    assert units.seconds_text(0.256) == "256 ms"
    assert units.seconds_text(95) == "95 s"
    assert units.usd_text(0.08) == "$0.08"
    assert units.usd_text(0.035) == "$0.035"
    assert units.bandwidth_text(1008e9) == "1,008 GB/s"


def test_hosted_column_skips_free_tiers_as_the_hosted_command_does():
    from rigcheck.catalog.records import HostedOffer, Model
    from rigcheck.desktop.models.rows import ModelRow

    free = HostedOffer(model_id="acme/X", provider="promo", usd_per_m_input=0.0, usd_per_m_output=0.0)
    paid = HostedOffer(model_id="acme/X", provider="paid", usd_per_m_input=0.1, usd_per_m_output=0.4)
    row = ModelRow(model=Model(id="acme/X", family="acme"), estimates=(), shown=None, offers=(free, paid))
    assert row.cheapest_offer is paid  # a $0 promotion is not a price to plan on
    assert ModelRow(model=row.model, estimates=(), shown=None, offers=(free,)).cheapest_offer is None


def test_reevaluation_that_reorders_rows_keeps_the_selected_model_selected(qtbot):
    model, proxy = table()
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    proxy.sort(DECODE, Qt.SortOrder.AscendingOrder)
    before = column(proxy, MODEL)
    pick = proxy.index(before.index("Big 70B"), 0)
    view.selectionModel().setCurrentIndex(
        pick, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    resets, moves = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.layoutChanged.connect(lambda *a: moves.append(1))
    model.set_rows(rows_for(cpu_machine()))  # other figures: the order changes
    after = column(proxy, MODEL)
    assert after != before and resets == [] and moves == [1]
    current = view.selectionModel().currentIndex()
    assert current.data() == "Big 70B" and view.selectionModel().isRowSelected(current.row())


@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
@pytest.mark.parametrize("col", list(HEADERS))
def test_every_column_sorts_on_raw_values_with_unknowns_last(col, order):
    rows = rows_for(gpu_machine(vram_gib=8, ram_gib=16))
    model, proxy = table(rows)
    proxy.sort(col, order)
    cells = table_rows(rows)
    known = [c for c in cells if c.sort[col] is not None]
    expected = sorted(known, key=lambda c: c.sort[col], reverse=order == Qt.SortOrder.DescendingOrder)
    expected += [c for c in cells if c.sort[col] is None]
    assert column(proxy, MODEL, ROW_ROLE) == [next(r for r in rows if r.model.id == c.model_id) for c in expected]


def test_a_model_usable_only_at_a_heavy_loss_quant_ranks_after_the_others_with_its_tier_shown():
    # Giant scores best on both benchmarks, so by capability alone it would lead; its only quant that runs here is
    # 1.75 bits. The rules list it after every model with a usable pick of 3 bits or more, before those not usable,
    # and the table and the strip write the tier beside each quant.
    from rigcheck.catalog.records import Model, Score
    from rigcheck.desktop.models.model_table import QUANT
    from rigcheck.desktop.models.picks import capacity_line, pick_cards

    from .fakes import q

    catalog = make_catalog()
    catalog.models.append(Model(id="acme/Giant-355B", family="giant", name="Giant 355B", params_total_b=355.0,
                                params_active_b=12.0, max_context_tokens=131072, license="mit",
                                use_cases=["chat", "code"], quants=[q("UD-IQ1_M", 1.75, 355.0)]))
    catalog.scores.extend([Score(model_id="acme/Giant-355B", benchmark="swe_bench_verified", value=80.0, source="t"),
                           Score(model_id="acme/Giant-355B", benchmark="aider_polyglot", value=30.0, source="t")])
    rows = build_rows(catalog, fake_evaluate(gpu_machine(), catalog, Settings()))
    giant = next(r for r in rows if r.model.id == "acme/Giant-355B")
    assert giant.usable and giant.shown.bits_per_weight == 1.75
    assert giant.capability.value > next(r for r in rows if r.model.id == "acme/Mid-8B").capability.value
    model, proxy = table(rows)
    proxy.sort(CAPABILITY, Qt.SortOrder.DescendingOrder)  # the page's default order
    ids = [r.model.id for r in column(proxy, MODEL, ROW_ROLE)]
    assert ids == ["acme/Mid-8B", "acme/Tiny-1B", "acme/Giant-355B", "acme/Big-70B", "acme/Huge-MoE-400B"]
    quants = dict(zip(ids, column(proxy, QUANT), strict=True))
    assert quants["acme/Giant-355B"] == "UD-IQ1_M (heavy loss)"
    assert quants["acme/Mid-8B"] == "Q8_0 (near-lossless)"
    cards = {card.title: card for card in pick_cards(table_rows(rows))}
    assert cards["Chat"].model_id == cards["Coding agent"].model_id == "acme/Mid-8B"
    assert cards["Chat"].lines[2].startswith("Q8_0 (near-lossless) · ")
    # The long-context card says its context first: a narrow card cuts a line's end, not what the card is for.
    assert cards["Long context"].lines[2].split(" · ")[0].endswith(" context"), cards["Long context"].lines
    # The capacity line names the largest model with a usable pick of 3 bits or more, not the 1-bit giant.
    assert capacity_line(table_rows(rows)).startswith("Largest model that runs usably here: Mid 8B (8B parameters), "
                                                      "Q8_0 (near-lossless) at ")


@pytest.mark.parametrize(("available", "expected"), [
    (2000, {2: 200, 3: 100, 11: 240}),  # room for everything: the natural widths
    (740, {2: 200, 3: 100, 11: 240}),  # exactly room: the model column keeps its 200 px
    (700, {2: 181, 3: 100, 11: 219}),  # 40 px short: quant and hosted give it up as they can spare (90:100 px)
    (400, {2: 110, 3: 100, 11: 140}),  # far too narrow: each at its floor (hosted at its header's width), no less
])
def test_columns_shrink_to_leave_the_model_name_room(available, expected):
    from rigcheck.desktop.pages.models_page import shrink_to_fit

    natural = {2: 200, 3: 100, 11: 240}  # QUANT, VERDICT, HOSTED
    assert shrink_to_fit(natural, available, header_px={11: 140}) == expected


@pytest.mark.parametrize(("extra", "legend"), [
    ({}, None),  # nothing rests on the user's runs: no legend, no space taken
    ({"measured": [{"decode_tokens_per_s": 50.0, "engine": "llama-bench"}]}, "m = measured on this machine"),
    ({"correction": {"decode": {"factor": 1.1, "measurements": 2}}}, "c = corrected by your runs of other models"),
])
def test_models_page_legend_names_the_marks_shown(qtbot, extra, legend):
    import dataclasses

    rows = rows_for()
    shown = next(r for r in rows if r.shown is not None and r.shown.fits)
    marked = dataclasses.replace(shown, shown=dataclasses.replace(shown.shown, extra=extra))
    page = ModelsPage()
    qtbot.addWidget(page)
    page.set_rows([marked if r is shown else r for r in rows])
    assert page.marks_legend.isVisibleTo(page) == (legend is not None)
    if legend is not None:
        text = page.marks_legend.text()
        assert text.startswith(legend) and text.endswith("other figures estimated.")
        decode = page.model.cell_at(page.model.row_for(shown.model.id)).display[DECODE]
        assert decode.endswith(" " + legend[0])


def test_columns_fit_the_longest_text_of_every_row_not_only_the_first(qtbot):
    # A long pick 40 rows down (a 229B model's "IQ3_XXS (noticeable loss)" below the catalog's first rows) was cut
    # at any window width: the widths were fitted to the first 30 rows only.
    import msgspec

    from rigcheck.desktop.models.model_table import QUANT

    rows = build_rows(make_catalog(), fake_evaluate(gpu_machine(), make_catalog(), Settings()))
    cells = table_rows(rows) * 10
    long_pick = "IQ3_XXS (noticeable loss, a long tier)"
    last = cells[-1]
    cells[-1] = msgspec.structs.replace(last, model_id="acme/Far-Down", display=tuple(
        long_pick if col == QUANT else text for col, text in enumerate(last.display)))
    page = ModelsPage()
    qtbot.addWidget(page)
    page.resize(2400, 600)
    page.show()
    page.set_cells(cells)
    needed = page.table.fontMetrics().horizontalAdvance(long_pick)
    assert page.table.columnWidth(QUANT) >= needed, (page.table.columnWidth(QUANT), needed)
