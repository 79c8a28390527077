"""The PyInstaller bundle: `make dist`'s build script builds dist/rigcheck/ and smoke-tests its binary.

Slow (a minute or more, and it writes build/ and dist/ in the checkout), so it runs only on request:
RIGCHECK_TEST_DIST=1 make test, or RIGCHECK_TEST_DIST=1 pytest tests/packaging/test_bundle.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("RIGCHECK_TEST_DIST") != "1", reason="set RIGCHECK_TEST_DIST=1 to build"
    ),
    pytest.mark.skipif(shutil.which("bash") is None, reason="packaging/build.sh needs bash"),
]


@pytest.mark.timeout(1800)
def test_build_script_builds_a_bundle_that_passes_its_smoke_test():
    # build.sh fails on a PyInstaller error, a bundle over the size target, or any failed smoke check.
    proc = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1700,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    size_mb = int(re.search(r"bundle size: (\d+) MB", output).group(1))
    assert size_mb <= 250
    for check in ("version", "probe --json", "gui --screenshot"):
        assert re.search(rf"^ok +{re.escape(check)}:", output, re.MULTILINE), output[-3000:]
    shot = ROOT / "build" / "smoke" / "gui.png"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
