"""The command line's contract: --version, unknown commands, exit codes."""

from __future__ import annotations

import json
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


def test_the_command_leaves_after_its_output_and_exit_handlers_without_tear_down():
    """Run as the command, rigcheck skips the interpreter's tear-down (freeing a large catalog object by object)
    but not its output, its exit code or the exit handlers registered in the process."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: sys.stderr.write('handlers ran\\n'))\n"
            "sys.argv = ['rigcheck', *sys.argv[1:]]\n"
            "from rigcheck.__main__ import main\n"
            "sys.exit(main())\n")
    ok = subprocess.run([sys.executable, "-c", code, "fit", "--gpu", "RTX 4090", "--ram", "64GB", "--best", "--json"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["results"], "the whole document was written"
    assert ok.stderr == "handlers ran\n"
    bad = subprocess.run([sys.executable, "-c", code, "fit", "--gpu", "RTX 9999"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.startswith("rigcheck: error: unknown GPU") and bad.stderr.endswith("handlers ran\n")


def test_a_closed_pipe_ends_the_output_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "rigcheck", "fit", "--gpu", "RTX 4090", "--ram", "64GB", "--all"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100)
    proc.stdout.close()
    proc.wait(timeout=120)
    assert proc.returncode == 0
    assert b"Traceback" not in proc.stderr.read()
