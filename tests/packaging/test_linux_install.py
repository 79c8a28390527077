"""packaging/linux/install.sh installs a staged bundle under PREFIX and --uninstall removes exactly that."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.rigcheck.rigcheck"

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or shutil.which("bash") is None, reason="the Linux install script"
)


@pytest.fixture
def bundle(tmp_path) -> Path:
    """A stand-in for dist/rigcheck/: an executable that prints its version, plus the staged share/."""
    folder = tmp_path / "dist" / "rigcheck"
    (folder / "_internal").mkdir(parents=True)
    exe = folder / "rigcheck"
    exe.write_text("#!/bin/sh\necho 'rigcheck stand-in'\n", encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    subprocess.run(["bash", str(ROOT / "packaging" / "linux" / "stage.sh"), str(folder)], check=True)
    return folder


def run_install(bundle: Path, prefix: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PREFIX=str(prefix), PATH="/usr/bin:/bin")
    return subprocess.run(
        ["bash", str(bundle / "install.sh"), *args], env=env, capture_output=True, text=True, check=False
    )


def test_install_puts_the_app_menu_entry_and_icons_in_place(bundle, tmp_path):
    prefix = tmp_path / "prefix with space"
    result = run_install(bundle, prefix)
    assert result.returncode == 0, result.stderr

    launcher = prefix / "bin" / "rigcheck"
    assert subprocess.run([str(launcher)], capture_output=True, text=True).stdout == "rigcheck stand-in\n"
    desktop = (prefix / "share" / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    # The menu entry runs the installed copy by absolute (quoted: the prefix has a space) path, not PATH.
    assert f'Exec="{prefix}/lib/rigcheck/rigcheck" gui\n' in desktop
    assert (prefix / "share" / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    for size_px in (16, 32, 48, 256, 512):
        assert (
            prefix / "share" / "icons" / "hicolor" / f"{size_px}x{size_px}" / "apps" / f"{APP_ID}.png"
        ).is_file()
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(prefix / "share" / "applications" / f"{APP_ID}.desktop")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout


def test_uninstall_removes_what_install_added_and_nothing_else(bundle, tmp_path):
    prefix = tmp_path / "prefix"
    unrelated = prefix / "share" / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png"
    unrelated.parent.mkdir(parents=True)
    unrelated.write_bytes(b"not ours")
    assert run_install(bundle, prefix).returncode == 0

    # Uninstall from the installed copy, as a user would.
    result = run_install(prefix / "lib" / "rigcheck", prefix, "--uninstall")
    assert result.returncode == 0, result.stderr
    left = {
        path.relative_to(prefix).as_posix()
        for path in prefix.rglob("*")
        if (path.is_file() or path.is_symlink()) and path.name not in ("mimeinfo.cache", "icon-theme.cache")
    }
    assert left == {"share/icons/hicolor/48x48/apps/other-app.png"}


def test_install_refuses_a_folder_without_the_app(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    shutil.copy(ROOT / "packaging" / "linux" / "install.sh", folder / "install.sh")
    result = run_install(folder, tmp_path / "prefix")
    assert result.returncode == 1
    assert result.stderr.strip() == "install.sh: run it from the rigcheck bundle folder"
    assert not (tmp_path / "prefix").exists()


def test_install_rejects_unknown_options(bundle, tmp_path):
    result = run_install(bundle, tmp_path / "prefix", "--frobnicate")
    assert result.returncode == 2 and "unknown option --frobnicate" in result.stderr
