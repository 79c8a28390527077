"""Renders packaging/icons/rigcheck.svg to the PNG sizes desktops ask for, and the Windows .ico and macOS .icns.

Run after editing the SVG: ``.venv/bin/python packaging/render_icons.py``. The outputs are committed so a
bundle build needs neither Qt's SVG module nor rsvg-convert, Pillow or iconutil; ``--check`` verifies they
are current (PNGs: the same picture as a fresh render; .ico/.icns: built from those PNGs) without writing
anything, exit 1 if not. Both icon containers simply hold the PNGs (Windows Vista+ and macOS 10.7+ read
PNG-compressed entries), so they are assembled here byte by byte.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ICONS_DIR = Path(__file__).resolve().parent / "icons"
SVG_PATH = ICONS_DIR / "rigcheck.svg"
# The hicolor theme sizes (freedesktop icon theme spec) plus 512 for AppStream and macOS/Windows icons.
SIZES_PX = (16, 24, 32, 48, 64, 128, 256, 512)


ICO_PATH = ICONS_DIR / "rigcheck.ico"
ICNS_PATH = ICONS_DIR / "rigcheck.icns"
# Windows uses 16-48 in lists and the taskbar, 256 in large views; the ICO format tops out at 256.
ICO_SIZES_PX = (16, 24, 32, 48, 64, 128, 256)
# Apple's PNG-capable icns element types and the pixel size each holds (the @2x types reuse larger PNGs).
ICNS_TYPES_PX = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)


def png_path(size_px: int) -> Path:
    return ICONS_DIR / f"rigcheck-{size_px}.png"


def ico_bytes(png_by_size: dict[int, bytes]) -> bytes:
    """A Windows .ico holding the given PNGs (ICONDIR, one ICONDIRENTRY each, then the PNG data)."""
    sizes = sorted(png_by_size)
    offset = 6 + 16 * len(sizes)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    entries, images = b"", b""
    for size_px in sizes:
        data = png_by_size[size_px]
        side = 0 if size_px >= 256 else size_px  # 0 means 256 in a one-byte field
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset + len(images))
        images += data
    return header + entries + images


def icns_bytes(png_by_size: dict[int, bytes]) -> bytes:
    """A macOS .icns holding the given PNGs ('icns', total length, then type + length + PNG per element)."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(png_by_size[size_px])) + png_by_size[size_px]
        for kind, size_px in ICNS_TYPES_PX
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


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
    parser.add_argument("--check", action="store_true", help="verify the committed icons, write nothing")
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
    # The containers are built from the PNG files as committed, so they are byte-for-byte reproducible.
    png_by_size = {
        size_px: png_path(size_px).read_bytes() for size_px in SIZES_PX if png_path(size_px).exists()
    }
    containers = {
        ICO_PATH: ico_bytes(
            {size_px: png_by_size[size_px] for size_px in ICO_SIZES_PX if size_px in png_by_size}
        ),
        ICNS_PATH: icns_bytes(png_by_size) if all(size in png_by_size for _, size in ICNS_TYPES_PX) else b"",
    }
    for path, data in containers.items():
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(path.name)
        else:
            path.write_bytes(data)
    if stale:
        print(
            f"render_icons: out of date: {', '.join(stale)} (run packaging/render_icons.py)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
