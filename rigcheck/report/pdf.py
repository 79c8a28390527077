"""The report as an A4 PDF: the HTML renderer's Qt flavour laid out by QTextDocument, printed by QPdfWriter.

Charts are the same SVG as the HTML report, rasterised at print resolution by QtSvg and added to the
document as image resources. Each page gets a footer with the title and "page i of n".
Needs a QGuiApplication (fonts); ``ensure_gui_application`` creates an offscreen one when there is none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from rigcheck.report.html import qt_document_parts
from rigcheck.report.records import ReportData

LAYOUT_DPI = 96
"""Layout unit: QTextDocument's pixels are 1/96 inch, so the writer prints at the same resolution
(text and vectors stay vector; charts are embedded at CHART_SCALE times that)."""
CHART_SCALE = 3
"""Raster charts at 288 dpi: sharp in print, a few hundred KB per chart at most."""
MARGIN_MM = 14.0
FOOTER_PX = 22

_app = None  # keep the application we created alive for the process


def ensure_gui_application():
    """The running QGuiApplication, or a new offscreen one when none exists (the CLI, worker scripts)."""
    global _app
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        # No window is ever shown; offscreen avoids needing a display for font rendering.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app = app = QGuiApplication(["rigcheck-report"])
    return app


def _raster(svg: str):
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError("a report chart is not valid SVG")
    size = renderer.defaultSize()
    image = QImage(size.width() * CHART_SCALE, size.height() * CHART_SCALE, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    renderer.render(painter, QRectF(0, 0, image.width(), image.height()))
    painter.end()
    return image


MAX_ROW_MOVES = 200
_TABLE = re.compile(r"<table\b[^>]*>.*?</table>", re.S)


def _tables(frame) -> list:
    """The tables under a frame, in document order (QTextCursor.currentTable() is avoided: in PySide6
    6.12 it drops a reference to None each time it finds no table, which crashes the interpreter)."""
    from PySide6.QtGui import QTextTable

    found = []
    for child in frame.childFrames():
        if isinstance(child, QTextTable):
            found.append(child)
        found += _tables(child)
    return found


def _straddles(doc, block, page_h: float) -> bool:
    lines = block.layout()
    if lines is None or lines.lineCount() < 2:
        return False
    top = doc.documentLayout().blockBoundingRect(block).top()
    first = top + lines.lineAt(0).y()
    last_line = lines.lineAt(lines.lineCount() - 1)
    last = top + last_line.y() + last_line.height()
    return int(first // page_h) != int((last - 0.01) // page_h)


def _straddling_row(doc, page_h: float) -> tuple[int, int] | None:
    """(table number in document order, body row number) of the first table row whose lines start on
    one page and end on the next, or None."""
    doc.pageCount()  # layout is lazy: this lays out the whole document, so every block has its lines
    for number, table in enumerate(_tables(doc.rootFrame())):
        header_rows = table.format().headerRowCount()
        for row in range(header_rows + 1, table.rows()):  # the first body row cannot be cut off
            for column in range(table.columns()):
                cell = table.cellAt(row, column)
                block = doc.findBlock(cell.firstPosition())
                while block.isValid() and block.position() <= cell.lastPosition():
                    if _straddles(doc, block, page_h):
                        return number, row - header_rows
                    block = block.next()
    return None


def _headings(doc) -> list:
    """The document's heading blocks (h1–h6), in order."""
    found = []
    block = doc.begin()
    while block.isValid():
        if block.blockFormat().headingLevel():
            found.append(block)
        block = block.next()
    return found


def _stranded_heading(doc, page_h: float, moved: set[int]) -> int | None:
    """Number (among the headings) of the first heading left at the foot of a page: what follows it starts on
    a later page. None when every heading shares its page with what it introduces, but for those already
    ``moved`` (what follows them is taller than a page)."""
    doc.pageCount()  # lays the whole document out
    layout = doc.documentLayout()
    for number, block in enumerate(_headings(doc)):
        if number in moved:
            continue
        following = block.next()
        while following.isValid() and not following.text().strip():  # empty paragraphs say nothing
            following = following.next()
        if not following.isValid():
            continue
        page = int(layout.blockBoundingRect(block).top() // page_h)
        if int(layout.blockBoundingRect(following).top() // page_h) > page:
            return number
    return None


KEEP_TOGETHER_SHARE = 0.3
"""A section (a heading and what follows it, up to the next heading) no taller than this share of a page is kept
on one page: split across a break, it moves to the next page whole. A longer one flows across pages."""


def _split_short_section(doc, page_h: float, moved: set[int]) -> int | None:
    """Number (among the headings) of the first short section (``KEEP_TOGETHER_SHARE``) that a page break splits;
    None when there is none but for those already ``moved``."""
    doc.pageCount()  # lays the whole document out
    layout = doc.documentLayout()
    headings = _headings(doc)
    for number, block in enumerate(headings):
        if number in moved:
            continue
        end = headings[number + 1] if number + 1 < len(headings) else None
        last, following = block, block.next()
        while following.isValid() and (end is None or following.position() < end.position()):
            if following.text().strip():
                last = following
            following = following.next()
        top = layout.blockBoundingRect(block).top()
        bottom = layout.blockBoundingRect(last).bottom()
        if bottom - top <= KEEP_TOGETHER_SHARE * page_h and int(top // page_h) < int((bottom - 1) // page_h):
            return number
    return None


def _break_before_headings(doc, numbers: set[int]) -> None:
    """Start a new page at each of these headings (by number among the headings)."""
    from PySide6.QtGui import QTextCursor, QTextFormat

    for number, block in enumerate(_headings(doc)):
        if number in numbers:
            fmt = block.blockFormat()
            fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
            QTextCursor(block).setBlockFormat(fmt)


def _split_tables(markup: str, breaks: set[tuple[int, int]]) -> str:
    """Markup with each table cut before the given body rows: the rest goes on a new page as a new
    table under the same header."""
    counter = iter(range(1 << 30))

    def cut(match: re.Match[str]) -> str:
        number = next(counter)
        rows = sorted(r for t, r in breaks if t == number)
        if not rows:
            return match.group(0)
        text = match.group(0)
        opening = text[: text.index(">") + 1]
        head = text[text.index("<thead>") : text.index("</thead>") + len("</thead>")]
        body = text[text.index("<tbody>") + len("<tbody>") : text.rindex("</tbody>")]
        trs = [tr + "</tr>" for tr in body.split("</tr>") if tr.strip()]
        parts, start = [], 0
        for r in rows + [len(trs)]:
            chunk = "".join(trs[start:r])
            if chunk:
                style = ' style="page-break-before:always"' if start else ""
                parts.append(f"{opening[:-1]}{style}>{head}<tbody>{chunk}</tbody></table>")
            start = r
        return "".join(parts)

    return _TABLE.sub(cut, markup)


def _layout(doc, markup: str, page_h: float) -> None:
    """Lay the markup out, cutting tables so no row is split across a page break, and moving a heading left at
    the foot of a page to the next, with what it introduces, as well as a short section a break would split
    (``KEEP_TOGETHER_SHARE``).

    Qt lays a cell out line by line, so a two-line cell can leave its first line at the foot of a page
    and its second on the next. Each cut shifts everything after it, so rows and headings are fixed one at a time.
    """
    breaks: set[tuple[int, int]] = set()
    headings: set[int] = set()
    originals = len(_TABLE.findall(markup))
    doc.setHtml(markup)
    for _ in range(MAX_ROW_MOVES):
        found = _straddling_row(doc, page_h)
        if found is None:
            heading = _stranded_heading(doc, page_h, headings)
            if heading is None:
                heading = _split_short_section(doc, page_h, headings)
            if heading is None:
                return
            headings.add(heading)
            _break_before_headings(doc, {heading})
            continue
        # Qt numbers the tables as laid out, cuts included; map back to (original table, original row).
        pieces = [(t, start) for t in range(originals) for start in [0, *sorted(r for u, r in breaks if u == t)]]
        if found[0] >= len(pieces):
            return
        table, start = pieces[found[0]]
        cut = (table, start + found[1])
        if cut in breaks:
            return  # a row taller than a page: cutting again would not help
        breaks.add(cut)
        doc.setHtml(_split_tables(markup, breaks))
        _break_before_headings(doc, headings)


_SHELL_PARTS = 4
"""The document's opening parts (doctype, html, head with the style, body): each section repeats them."""


def render_sections(report: ReportData) -> tuple[list[str], dict[str, str]]:
    """The Qt markup cut into standalone documents, one per section that starts a printed page (each major
    section does), and the charts they reference. Each is laid out on its own: laying a document out costs time
    in its length, and keeping its table rows whole lays it out again for every row it moves, so one document
    of a hundred machines' sections took minutes where a hundred small ones take seconds."""
    parts, breaks, charts = qt_document_parts(report)
    head, body = parts[:_SHELL_PARTS], parts[_SHELL_PARTS:-1]
    bounds = [0, *(b - _SHELL_PARTS for b in breaks), len(body)]
    sections = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        chunk = body[start:end]
        if start:  # the page break is the section's own start now
            chunk = [chunk[0].replace('<h2 class="pb"', '<h2 class="first"', 1), *chunk[1:]]
        sections.append("\n".join([*head, *chunk, "</body></html>"]))
    return sections, charts


def write(report: ReportData, path: str, progress: Callable[[float, str], None] | None = None) -> int:
    """Write the PDF to ``path`` and return its page count.

    Raises OSError when the file cannot be written (QPdfWriter only says so by failing to paint).
    """
    ensure_gui_application()
    from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, QUrl
    from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

    def step(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    sections, chart_svgs = render_sections(report)
    writer = QPdfWriter(path)
    writer.setResolution(LAYOUT_DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(report.title)
    writer.setCreator(f"rigcheck {report.app_version}")

    base_font = QFont("Helvetica")
    base_font.setPointSizeF(8.5)
    images = {}
    for n, (key, svg) in enumerate(chart_svgs.items()):
        step(0.1 + 0.4 * n / max(len(chart_svgs), 1), "drawing charts")
        images[key] = _raster(svg)
    paint_rect = writer.pageLayout().paintRectPixels(LAYOUT_DPI)
    page_w, page_h = float(paint_rect.width()), float(paint_rect.height() - FOOTER_PX)
    # Each section (each starts a page) is its own document: layout, and keeping rows whole, stay linear
    # in the report's length (see render_sections).
    docs = []
    for n, markup in enumerate(sections):
        step(0.5 + 0.05 * n / len(sections), "laying out pages")
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(base_font)
        for key, image in images.items():
            if f"rigcheck:{key}" in markup:
                doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"rigcheck:{key}"), image)
        doc.setPageSize(QSizeF(page_w, page_h))
        _layout(doc, markup, page_h)
        docs.append(doc)
    pages = sum(doc.pageCount() for doc in docs)

    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write PDF to {path}")
    try:
        footer_font = QFont("Helvetica")
        footer_font.setPointSizeF(7)
        number = 0
        for doc in docs:
            for i in range(doc.pageCount()):
                step(0.55 + 0.45 * number / pages, f"printing page {number + 1} of {pages}")
                if number and not writer.newPage():
                    raise OSError(f"cannot write PDF to {path}")
                painter.save()
                painter.translate(QPointF(0, -i * page_h))
                doc.drawContents(painter, QRectF(0, i * page_h, page_w, page_h))
                painter.restore()
                painter.setFont(footer_font)
                painter.setPen(QColor("#66707a"))
                painter.drawLine(QPointF(0, page_h + 6), QPointF(page_w, page_h + 6))
                painter.drawText(QPointF(0, page_h + 18),
                                 f"{report.title} · rigcheck {report.app_version} · {report.generated_at}")
                label = f"page {number + 1} of {pages}"
                width = painter.fontMetrics().horizontalAdvance(label)
                painter.drawText(QPointF(page_w - width, page_h + 18), label)
                number += 1
    finally:
        painter.end()
    step(1.0, "PDF written")
    return pages
