"""The command line's contract: --version, unknown commands, exit codes."""

from __future__ import annotations

import subprocess
import sys

from rigcheck import __version__
from rigcheck.cli.main import main


def test_version_prints_and_exits_zero(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"rigcheck {__version__}"


def test_unknown_command_exits_2_with_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "rigcheck", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) <= 3
    assert "Traceback" not in proc.stderr
