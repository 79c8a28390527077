"""The wheel: built offline from a copy of the tree, it carries every module and data file and nothing else.

One wheel is built per test session (about 10 s) from a copy of the working tree, so nothing is written into
the tree itself and concurrent runs do not share setuptools' build/ folder. A second, slower test installs
that wheel into a fresh virtualenv and smoke-tests its ``rigcheck`` console script (packaging/smoke.py).
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "rigcheck"
# What a checkout holds besides the sources: environments and build output at the root, caches anywhere.
ROOT_ONLY_IGNORED = shutil.ignore_patterns(".git", ".venv", ".venv-*", "build", "dist", "*.egg-info", "out")
EVERYWHERE_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


def copy_ignore(folder: str, names: list[str]) -> set[str]:
    ignored = set(EVERYWHERE_IGNORED(folder, names))
    if Path(folder) == ROOT:  # a subpackage may well be called build or dist
        ignored |= set(ROOT_ONLY_IGNORED(folder, names))
    return ignored


# Building the wheel and starting the installed app a few times takes 10-30 s, more on a loaded CI runner.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def source_files(suffix_filter) -> set[str]:
    """Paths (wheel-style, 'rigcheck/...') of the files under rigcheck/ that suffix_filter accepts."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE_DIR.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and suffix_filter(path)
    }


@pytest.fixture(scope="session")
def wheel_path(tmp_path_factory) -> Path:
    """Builds the wheel with `python -m build --wheel --no-isolation` (no network) from a copy of the tree."""
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "src"
    shutil.copytree(ROOT, tree, ignore=copy_ignore, symlinks=True)
    out = work / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"wheel build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    wheels = list(out.glob("rigcheck-*.whl"))
    assert len(wheels) == 1, f"expected one wheel, found {wheels}"
    return wheels[0]


@pytest.fixture(scope="session")
def wheel_names(wheel_path) -> set[str]:
    with zipfile.ZipFile(wheel_path) as archive:
        return set(archive.namelist())


def test_wheel_carries_the_embedded_catalog(wheel_path, wheel_names):
    catalog_files = {name for name in wheel_names if name.startswith("rigcheck/catalog/data/")}
    assert "rigcheck/catalog/data/catalog.json" in catalog_files, sorted(catalog_files)
    # The shipped catalog must be one the app can read, not merely a file with the right name.
    from rigcheck.catalog.records import decode_catalog

    with zipfile.ZipFile(wheel_path) as archive:
        catalog = decode_catalog(archive.read("rigcheck/catalog/data/catalog.json"))
    assert catalog.models, "the embedded catalog in the wheel has no models"


def test_wheel_carries_every_module_and_data_file(wheel_names):
    # A subpackage without __init__.py, or a data file outside the package-data globs, silently goes
    # missing from the wheel while the editable install used by the other tests still works.
    modules = source_files(lambda path: path.suffix == ".py")
    data_files = source_files(lambda path: path.suffix not in (".py", ".pyc"))
    assert not modules - wheel_names, f"modules missing from the wheel: {sorted(modules - wheel_names)}"
    assert not data_files - wheel_names, (
        f"data files missing from the wheel: {sorted(data_files - wheel_names)}"
    )


def test_wheel_carries_no_tests_or_build_litter(wheel_names):
    top_level = {name.split("/", 1)[0] for name in wheel_names}
    dist_info = {name for name in top_level if name.endswith(".dist-info")}
    assert top_level - dist_info == {"rigcheck"}, f"unexpected top-level entries: {sorted(top_level)}"
    litter = [
        name
        for name in wheel_names
        if "/tests/" in f"/{name}" or name.endswith((".pyc", "conftest.py")) or "__pycache__" in name
    ]
    assert not litter, f"the wheel carries test or build files: {litter[:10]}"


def test_wheel_metadata_names_the_version_entry_point_and_runtime_deps(wheel_path, wheel_names):
    import rigcheck

    with zipfile.ZipFile(wheel_path) as archive:
        dist_info = next(name.split("/")[0] for name in wheel_names if name.endswith(".dist-info/METADATA"))
        metadata = email.parser.Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert metadata["Version"] == rigcheck.__version__
    assert "rigcheck = rigcheck.__main__:main" in entry_points
    runtime = [req for req in metadata.get_all("Requires-Dist") if "extra ==" not in req]
    # The distribution name is what precedes any version specifier, marker or extra (PEP 508).
    runtime_names = {re.match(r"[A-Za-z0-9._-]+", req).group(0).lower() for req in runtime}
    assert "pyside6-essentials" in runtime_names
    # Test and build tools are extras, never runtime requirements of the app.
    assert not runtime_names & {"pytest", "pytest-qt", "hypothesis", "ruff", "build", "pyinstaller"}


def test_wheel_installs_into_a_clean_venv_and_runs(wheel_path, tmp_path):
    """`rigcheck --version`, `probe --json` and `gui --screenshot` from a fresh venv holding the wheel.

    The test may not download the dependencies, so the fresh venv borrows them from the running
    interpreter's site-packages through a .pth line; rigcheck itself comes only from the wheel (the
    development tree's editable install is not visible: a .pth line adds a folder, not its .pth files).
    """
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    site_dir = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site_dir / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"pip install of the wheel failed:\n{proc.stderr[-3000:]}"
    where = subprocess.run(
        [str(python), "-c", "import json, rigcheck; print(json.dumps(rigcheck.__file__))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert Path(json.loads(where.stdout)).is_relative_to(site_dir), "rigcheck was not imported from the wheel"

    smoke = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "smoke.py"),
            str(bin_dir / ("rigcheck.exe" if os.name == "nt" else "rigcheck")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=tmp_path,
    )
    assert smoke.returncode == 0, f"smoke test of the installed wheel failed:\n{smoke.stdout}{smoke.stderr}"
