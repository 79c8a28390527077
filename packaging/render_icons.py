"""Renders packaging/icons/rigcheck.svg to the PNG sizes desktops and installers ask for.

Run after editing the SVG: ``.venv/bin/python packaging/render_icons.py``. The PNGs are committed so the
bundle build needs neither Qt's SVG module at build time nor rsvg-convert; ``--check`` verifies they are
current (the same picture as a fresh render) without writing anything, exit 1 if not.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ICONS_DIR = Path(__file__).resolve().parent / "icons"
SVG_PATH = ICONS_DIR / "rigcheck.svg"
# The hicolor theme sizes (freedesktop icon theme spec) plus 512 for AppStream and macOS/Windows icons.
SIZES_PX = (16, 24, 32, 48, 64, 128, 256, 512)


def png_path(size_px: int) -> Path:
    return ICONS_DIR / f"rigcheck-{size_px}.png"


def render(size_px: int):
    """Returns a transparent ARGB QImage of the icon at size_px square."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG_PATH))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {SVG_PATH} is not a valid SVG")
    image = QImage(size_px, size_px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def _same_picture(committed, fresh) -> bool:
    """True when committed shows the same picture as fresh: equal size and at most 0.2% of the pixels
    (at least 2) differing by more than 64 of 255 in a channel, so another Qt version's anti-aliasing of
    edges does not count as a change while recolouring or moving any part of the drawing does."""
    import numpy as np
    from PySide6.QtGui import QImage

    if committed.isNull() or committed.size() != fresh.size():
        return False

    def pixels(image):
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
        return rows.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].astype(np.int16)

    channel_difference = np.abs(pixels(committed) - pixels(fresh)).reshape(fresh.height(), fresh.width(), 4)
    changed_pixels = int((channel_difference.max(axis=2) > 64).sum())
    return changed_pixels <= max(2, fresh.width() * fresh.height() // 500)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the committed PNGs, write nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImage

    _app = QGuiApplication.instance() or QGuiApplication([])  # QPainter needs a GUI application
    stale: list[str] = []
    for size_px in SIZES_PX:
        image = render(size_px)
        path = png_path(size_px)
        if args.check:
            if not _same_picture(QImage(str(path)), image):
                stale.append(path.name)
        elif not image.save(str(path), "PNG"):
            print(f"render_icons: could not write {path}", file=sys.stderr)
            return 1
    if stale:
        print(
            f"render_icons: out of date: {', '.join(stale)} (run packaging/render_icons.py)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
