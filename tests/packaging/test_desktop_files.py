"""Desktop integration files and the PyInstaller spec agree with the code: ids, version, icons, exclusions."""

from __future__ import annotations

import ast
import configparser
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import rigcheck

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.rigcheck.rigcheck"
DESKTOP_FILE = PACKAGING / "linux" / f"{APP_ID}.desktop"
METAINFO_FILE = PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"
ICON_SIZES_PX = (16, 24, 32, 48, 64, 128, 256, 512)


def spec_list(name: str) -> list[str]:
    """The literal list assigned to `name` at the top level of packaging/rigcheck.spec."""
    tree = ast.parse((PACKAGING / "rigcheck.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"packaging/rigcheck.spec has no top-level list {name}")


def imported_names() -> dict[str, set[str]]:
    """Every module name rigcheck's own code imports (both `import a.b` and `from a.b import c` as a.b.c),
    mapped to the files that import it."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "rigcheck").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for name in names:
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_spec_leaves_out_no_qt_module_rigcheck_imports():
    excluded = {f"PySide6.{name}" for name in spec_list("EXCLUDED_QT_MODULES")}
    used = {name: files for name, files in imported_names().items() if name in excluded}
    assert not used, f"rigcheck.spec excludes Qt modules the code imports (remove them from the list): {used}"
    # Dynamic imports by string escape the AST scan; catch the obvious ones too.
    for path in (ROOT / "rigcheck").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in spec_list("EXCLUDED_QT_MODULES"):
            assert not re.search(rf"[\"']PySide6\.{name}[\"']", text), f"{path} names PySide6.{name}"


def test_spec_leaves_out_no_package_rigcheck_imports():
    excluded = spec_list("EXCLUDED_PACKAGES")
    used = {
        name: files
        for name, files in imported_names().items()
        if any(name == pkg or name.startswith(pkg + ".") for pkg in excluded)
    }
    assert not used, f"rigcheck.spec excludes packages the code imports: {used}"


def test_desktop_entry_launches_the_gui_with_the_app_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive in desktop entries
    entry.read(DESKTOP_FILE, encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    # install.sh rewrites the leading "rigcheck" of Exec to the bundle's absolute path.
    assert section["Exec"].split()[0] == "rigcheck" and "gui" in section["Exec"].split()
    assert section["Icon"] == APP_ID
    assert section["Terminal"] == "false"
    assert section["Categories"].endswith(";")


def test_metainfo_names_the_desktop_file_and_this_release():
    root = ET.parse(METAINFO_FILE).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP_FILE.name
    releases = [release.get("version") for release in root.iter("release")]
    # AppStream lists newest first; a version bump without a release entry would ship stale metadata.
    assert releases and releases[0] == rigcheck.__version__, (
        f"metainfo's newest release is {releases[:1]}, the code is {rigcheck.__version__}"
    )
    assert root.find("provides/binary").text == "rigcheck"


@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [
        ("desktop-file-validate", [], DESKTOP_FILE),
        ("appstreamcli", ["validate", "--no-net", "--pedantic"], METAINFO_FILE),
    ],
)
def test_validators_accept_the_desktop_files(tool, args, path):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install desktop-file-utils appstream)")
    proc = subprocess.run([tool, *args, str(path)], capture_output=True, text=True, timeout=60, check=False)
    output = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 0, output
    # Both tools exit 0 with hints and infos; the files are kept free of those too.
    assert not re.search(r"\b(hint|warning|error|I|W|E):", output), output


def test_png_icons_exist_at_every_size():
    for size_px in ICON_SIZES_PX:
        head = (PACKAGING / "icons" / f"rigcheck-{size_px}.png").read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", head[16:24]) == (size_px, size_px)


@pytest.mark.parametrize(
    ("name", "sizes_px"),
    [
        ("rigcheck.ico", [16, 24, 32, 48, 64, 128, 256]),
        ("rigcheck.icns", [16, 32, 64, 128, 256, 512, 32, 64, 256, 512]),
    ],
)
def test_windows_and_macos_icons_hold_every_size(qapp, name, sizes_px):
    from PySide6.QtGui import QImageReader

    reader = QImageReader(str(PACKAGING / "icons" / name))
    read_px = []
    for index in range(reader.imageCount()):
        reader.jumpToImage(index)
        image = reader.read()
        assert not image.isNull(), f"{name} image {index}: {reader.errorString()}"
        read_px.append(image.width())
    assert read_px == sizes_px


def test_png_icons_match_the_svg():
    proc = subprocess.run(
        [sys.executable, str(PACKAGING / "render_icons.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_window_icon_is_the_packaged_icon():
    # The GUI's window icon (rigcheck/desktop/resources) and the desktop/installer icons are one drawing.
    window_icon = ROOT / "rigcheck" / "desktop" / "resources" / "rigcheck.svg"
    if not window_icon.exists():
        pytest.skip("the GUI ships no window icon")
    assert window_icon.read_bytes() == (PACKAGING / "icons" / "rigcheck.svg").read_bytes(), (
        "copy packaging/icons/rigcheck.svg to rigcheck/desktop/resources/ after editing it"
    )
