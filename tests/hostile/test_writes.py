"""Writes: ``report -o`` never replaces what is not a regular file (a device node, a FIFO, a folder, a socket), never
leaves a partial or temporary file, and an output error (a full disk, a closed pipe, a name too long) ends with one
clear line and exit 1."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys

import pytest

from tests.hostile.conftest import assert_one_clear_line, digest, run

pytestmark = pytest.mark.timeout(120)
WHAT_IF = ("--gpu", "RTX 4090", "--ram", "64GB")


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".part"))


@pytest.mark.parametrize("kind", ["fifo", "folder", "socket", "/dev/null", "symlink-to-fifo"])
@pytest.mark.parametrize("fmt", ["md", "csv", "pdf"])
def test_report_never_replaces_a_non_regular_file(qapp, cli, tmp_path, kind, fmt):
    target = tmp_path / f"out.{fmt}"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
    elif kind == "symlink-to-fifo":
        os.mkfifo(tmp_path / "pipe")
        target.symlink_to(tmp_path / "pipe")
    else:
        target = "/dev/null"
    mode_before = os.lstat(target).st_mode
    code, _, err = cli("report", *WHAT_IF, "--format", fmt, "-o", str(target))
    assert code == 2
    assert_one_clear_line(err, "folder" if kind == "folder" else "not a regular file")
    assert os.lstat(target).st_mode == mode_before, "the special file is still what it was"
    assert not stat.S_ISREG(os.stat(target).st_mode)
    assert _leftovers(tmp_path) == []


def test_a_name_too_long_is_an_output_error(cli, tmp_path):
    target = tmp_path / ("a" * 300 + ".md")
    code, _, err = cli("report", *WHAT_IF, "-o", str(target))
    assert code == 1
    line = assert_one_clear_line(err, "file name too long")
    assert len(line) < 300, "the 300-character name is shortened in the message"
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == []


def test_an_unwritable_folder_leaves_the_old_report(cli, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes through permissions")
    folder = tmp_path / "ro"
    folder.mkdir()
    old = folder / "r.md"
    old.write_text("old report")
    folder.chmod(0o500)
    try:
        code, _, err = cli("report", *WHAT_IF, "-o", str(old))
    finally:
        folder.chmod(0o700)
    assert code == 1
    assert_one_clear_line(err, "permission denied")
    assert old.read_text() == "old report" and _leftovers(folder) == []


@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")  # offscreen, every window
@pytest.mark.parametrize("what", ["report", "screenshot"])
def test_a_full_disk_leaves_the_old_file_and_no_temporary(cli, tmp_path, monkeypatch, what):
    # Both are flushed to the disk before they take the destination's name (write_file), the screenshot too.
    import rigcheck.report.files as files

    old = tmp_path / ("r.md" if what == "report" else "shot.png")
    old.write_text("old file")
    before = digest(old)
    real_fsync = os.fsync

    def full(fd):
        real_fsync(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    argv = ("report", *WHAT_IF, "-o", str(old)) if what == "report" else ("gui", *WHAT_IF, "--screenshot", str(old))
    code, _, err = cli(*argv)
    assert code == 1
    assert_one_clear_line(err, "no space left on device")
    assert digest(old) == before and _leftovers(tmp_path) == []


def test_stdout_to_a_full_device_is_one_line_exit_1():
    with open("/dev/full", "w") as full:
        proc = run("probe", "--json", stdout=full)
    assert proc.returncode == 1
    assert_one_clear_line(proc.stderr, "no space left on device")


@pytest.mark.parametrize("argv", [["devices"], ["fit", *WHAT_IF], ["fit", *WHAT_IF, "--json"], ["hosted"]])
def test_a_closed_pipe_is_one_line_exit_1(argv):
    """The reader goes away before the output is written (``rigcheck ... | head -0``)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RIGCHECK_NO_NETWORK="1")
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "rigcheck", *argv], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, timeout=60, env=env)
    finally:
        os.close(write_end)
    assert proc.returncode == 1
    assert_one_clear_line(proc.stderr, "closed the pipe")


DESTINATIONS = [
    # (where, exit code, words of the one line), why
    (lambda tmp: "/proc/rigcheck-out", 1, "no such file or directory",
     "a folder nothing can be created in: a failed write, with the OS's reason"),
    (lambda tmp: tmp / "nowhere" / "out", 2, "does not exist", "a missing folder: bad input"),
    (lambda tmp: tmp / ("a" * 300), 1, "file name too long", "a name too long: a failed write"),
    (lambda tmp: tmp / "dir", 2, "it is a folder", "a folder of that name: never replaced"),
    (lambda tmp: tmp / "fifo", 2, "not a regular file", "a FIFO: never replaced"),
]


@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints")  # offscreen, every window
@pytest.mark.parametrize(("where", "code", "words", "why"), DESTINATIONS, ids=[d[3] for d in DESTINATIONS])
def test_a_screenshot_and_a_report_refuse_a_destination_alike(qapp, cli, tmp_path, where, code, words, why):
    # `gui --screenshot /proc/x.png` once exited 2 with "could not write the screenshot to /proc/x.png" and no
    # reason, where `report -o /proc/x.md` exited 1 with the OS's reason.
    base = where(tmp_path)
    for argv, suffix in ((["report", *WHAT_IF, "-o"], ".md"), (["gui", *WHAT_IF, "--screenshot"], ".png")):
        target = f"{base}{suffix}"
        if base == tmp_path / "dir":
            os.mkdir(target)
        elif base == tmp_path / "fifo":
            os.mkfifo(target)
        got, _, err = cli(*argv, target)
        assert got == code, (argv[0], err)
        line = assert_one_clear_line(err, words)
        assert f"cannot write {target[:60]}" in line, line
        assert _leftovers(tmp_path) == []
