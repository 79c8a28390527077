"""Number formatting shared by every renderer, and the PDF's rules: a table row never splits, a heading is never left
at a page foot, a short section is kept on one page."""

from __future__ import annotations

import pytest

from rigcheck import units
from rigcheck.catalog.records import Quant
from rigcheck.estimate.types import Band, Settings
from rigcheck.report import build_report

from .conftest import GIB, make_catalog, make_machine


@pytest.mark.parametrize(
    "value, expected",
    [
        (131072, "128k"),  # a power-of-two context reads as k
        (4096, "4k"),
        (1048576, "1M"),
        (40960, "40k"),
        (9375, "9.4k"),  # not a multiple of 1024: thousands with one decimal
        (4_664_000, "4.7M"),
        (None, "—"),
    ],
)
def test_tokens(value, expected):
    assert units.tokens_text(value) == expected


@pytest.mark.parametrize(
    "band, fmt, expected",
    [
        (Band(35.2, 42, 50.4), units.rate_text, "35–50"),
        (Band(2167, 3000, 4334), units.rate_text, "2.2k–4.3k"),  # thousands compact in narrow cells
        (Band(10_600, 12_000, 15_100), units.rate_text, "11k–15k"),
        (Band(0.39, 0.5, 0.68), units.rate_text, "0.39–0.68"),
        (Band(4.6, 5.5, 7.8), units.seconds_text, "4.6–7.8 s"),  # a shared unit is said once
        (Band(0.845, 1.0, 1.9), units.seconds_text, "0.84–1.9 s"),  # mixed ms and s: all in s
        (Band(0.1, 0.2, 0.3), units.seconds_text, "100–300 ms"),
        (None, units.rate_text, "—"),
    ],
)
def test_band_range(band, fmt, expected):
    assert units.band_range(band, fmt) == expected


@pytest.mark.parametrize(
    "value, expected",
    [(0.0123, "12 ms"), (0.9999, "1.0 s"), (9.96, "10 s"), (95, "95 s"), (600, "10 min"), (7200, "2.0 h")],
)
def test_seconds(value, expected):
    assert units.seconds_text(value) == expected


def test_sizes_and_rates():
    assert units.bytes_text(24 * GIB) == "24 GiB" and units.bytes_text(380 * GIB) == "380 GiB"
    assert units.bandwidth_text(1008e9) == "1,008 GB/s"
    assert units.rate_text(1840) == "1,840" and units.rate_text(8.44) == "8.4" and units.rate_text(12_880) == "12.9k"
    assert units.params_text(0.6) == "0.6B" and units.params_text(8.0) == "8B" and units.params_text(671) == "671B"


def test_pdf_rows_are_never_split_across_pages(qapp, engine):
    """A long fit table of two-line rows: Qt alone splits some rows at page feet; the layout must not."""
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument

    from rigcheck.report import html, pdf

    catalog = make_catalog()
    base = catalog.models[0]
    catalog.models.extend(
        type(base)(id=f"acme/Filler-{i}B", family="filler", params_total_b=float(i + 1), params_active_b=float(i + 1),
                   max_context_tokens=32768, quants=[Quant(name="Q4_K_M", format="gguf", bits_per_weight=4.85)])
        for i in range(120)
    )
    report = build_report([make_machine()], catalog, Settings(), engine=engine)
    markup, _ = html.render_document(report, for_qt=True)

    def document(page_h: float) -> QTextDocument:
        doc = QTextDocument()
        doc.setPageSize(QSizeF(700, page_h))
        return doc

    # Whether a row lands across a page foot depends on the page height: try a few.
    heights = [900.0 + 17 * k for k in range(6)]
    naive = []
    for page_h in heights:
        doc = document(page_h)
        doc.setHtml(markup)
        naive.append(pdf._straddling_row(doc, page_h))
    assert any(found is not None for found in naive)  # the problem exists without the fix
    for page_h in heights:
        doc = document(page_h)
        pdf._layout(doc, markup, page_h)
        assert pdf._straddling_row(doc, page_h) is None
    # Nothing lost in the cutting: every model is still in the document.
    text = doc.toPlainText()
    assert all(f"Filler-{i}B" in text for i in range(120))


def test_pdf_never_leaves_a_heading_at_the_foot_of_a_page(qapp):
    """A heading whose text would start the next page moves there with it, at whatever height it lands, and
    what follows keeps its order; the document's other headings stay where they were."""
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument

    from rigcheck.report import pdf

    page_h = 400.0
    stranded = []
    for lines in range(8, 30):
        paragraphs = "".join(f"<p>line {i} of the section before</p>" for i in range(lines))
        markup = (f"<html><body><h2>First</h2>{paragraphs}<h3>Second</h3><p>what the second heading introduces</p>"
                  "<p>and more</p></body></html>")
        doc = QTextDocument()
        doc.setPageSize(QSizeF(500, page_h))
        doc.setHtml(markup)
        stranded.append(pdf._stranded_heading(doc, page_h, set()))
        pdf._layout(doc, markup, page_h)
        assert pdf._stranded_heading(doc, page_h, set()) is None, lines
        layout = doc.documentLayout()
        first, second = pdf._headings(doc)
        assert layout.blockBoundingRect(first).top() < page_h  # the first is not moved
        text = doc.toPlainText()
        assert text.index("Second") < text.index("what the second") and f"line {lines - 1} " in text
    assert 1 in stranded  # the problem exists without the fix at some height


@pytest.mark.parametrize(("bullets", "kept_together"), [
    (6, True),  # a short section (a few bullets) moves to the next page whole rather than split
    (40, False),  # a section longer than KEEP_TOGETHER_SHARE of a page flows on across the break
])
def test_pdf_keeps_a_short_section_on_one_page_and_lets_a_long_one_flow(qapp, bullets, kept_together):
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument

    from rigcheck.report import pdf

    page_h = 600.0
    items = "".join(f"<li>bullet {i}</li>" for i in range(bullets))
    split = []
    for lines in range(10, 40):
        before = "".join(f"<p>line {i} of the section before</p>" for i in range(lines))
        markup = f"<html><body><h2>Model</h2>{before}<h3>How the estimate was made</h3><ul>{items}</ul></body></html>"
        doc = QTextDocument()
        doc.setPageSize(QSizeF(500, page_h))
        doc.setHtml(markup)
        layout = doc.documentLayout()
        last = doc.lastBlock()
        while not last.text().strip():
            last = last.previous()
        split.append(int(layout.blockBoundingRect(last).bottom() // page_h) > 0
                     and layout.blockBoundingRect(pdf._headings(doc)[1]).top() < page_h)
        pdf._layout(doc, markup, page_h)
        heading = pdf._headings(doc)[1]
        heading_page = int(layout.blockBoundingRect(heading).top() // page_h)
        last_page = int((layout.blockBoundingRect(last).bottom() - 1) // page_h)
        assert pdf._stranded_heading(doc, page_h, set()) is None
        if kept_together:
            assert heading_page == last_page, lines
        text = doc.toPlainText()
        assert text.index("How the estimate") < text.index("bullet 0") and f"bullet {bullets - 1}" in text
    assert any(split), "the section is split at some height without the rule"
    if not kept_together:
        assert pdf._split_short_section(doc, page_h, set()) is None
