"""Report files: the formats and their suffixes, the text renderings, and ``export``, which writes atomically.

``export`` never leaves a half-written file: it writes a temporary file in the destination folder and
renames it over the destination only once complete (``write_file``, which the app's screenshot uses too). Call it from the main thread or a QThread
(a QThreadPool worker, as the GUI does), not a plain Python thread: Qt's text layout behind the PDF
starts timers, which need a Qt event dispatcher. The renderers are imported when a format is asked for,
so naming the formats (the CLI's ``--format`` choices) loads neither them nor Qt.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from rigcheck.report.records import ReportData

FORMATS = ("pdf", "html", "md", "json", "csv")
SUFFIXES = {".pdf": "pdf", ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json",
            ".csv": "csv"}


class ExportError(Exception):
    """The file (a report, a screenshot) could not be written; one sentence naming it and why. Nothing was left
    behind."""


class ExportTargetError(ExportError):
    """The destination itself is wrong (bad input, found before writing anything): an unknown format, a
    missing folder, or a path that is a folder, a device, a FIFO or a socket rather than a regular file."""


def format_for_path(path: str | os.PathLike[str]) -> str | None:
    """The format a file name implies (``r.pdf`` -> ``"pdf"``), or None when the suffix says nothing."""
    return SUFFIXES.get(Path(path).suffix.lower())


def render_text(report_data: ReportData, fmt: str) -> str:
    """The report as text for the text formats (html, md, json, csv). Raises ValueError for pdf/unknown."""
    from rigcheck.report.csv import render as render_csv
    from rigcheck.report.html import render as render_html
    from rigcheck.report.json import render as render_json
    from rigcheck.report.md import render as render_md

    renderers = {"html": render_html, "md": render_md, "json": render_json, "csv": render_csv}
    if fmt not in renderers:
        raise ValueError(f"{fmt!r} is not a text report format (one of {', '.join(renderers)})")
    return renderers[fmt](report_data)


def export(
    report_data: ReportData,
    fmt: str,
    path: str | os.PathLike[str],
    progress: Callable[[float, str], None] | None = None,
) -> Path:
    """Write the report to ``path`` in ``fmt`` ("pdf", "html", "md", "json", "csv") and return the path.

    ``progress(fraction 0..1, message)`` is called as the work goes on (from the calling thread).
    Raises ExportTargetError for an unknown format, and as ``write_file`` does (a missing folder, a destination
    that is not a regular file), and ExportError for a failed write (``write_file``).
    """
    if fmt not in FORMATS:
        raise ExportTargetError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")

    def step(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    def write(tmp: Path) -> None:
        step(0.0, f"writing {fmt.upper()}")
        if fmt == "pdf":
            from rigcheck.report.pdf import write as write_pdf

            write_pdf(report_data, str(tmp), progress=lambda f, m: step(0.05 + 0.9 * f, m))
            with open(tmp, "rb") as fh:
                if fh.read(5) != b"%PDF-":
                    raise OSError("the PDF writer produced no output")
        else:
            text = render_text(report_data, fmt)
            step(0.7, "saving")
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)

    target = write_file(path, write)
    step(1.0, f"saved {target.name}")
    return target


def _flush_to_disk(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Write a file atomically: ``write(tmp)`` writes it complete to a temporary file in the destination folder,
    which is flushed to the disk and then replaces ``path``; return the path. Reports and the app's screenshot are written this way, so a
    destination that cannot be written is refused alike, with the reason.

    Raises ExportTargetError for a destination that is bad input, found before anything is written: a missing
    folder, or a path that is a folder, a device node, a FIFO or a socket (never replaced); and ExportError for
    a failed write (an unwritable folder, a full disk, a name too long, an OSError from ``write``), naming the
    file and the reason. An existing file at ``path`` is then left as it was, and no temporary file is left
    behind.
    """
    target = Path(path).expanduser()
    folder = target.parent
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # a name too long, a path through a file, a loop of links
        raise ExportError(f"cannot write {_shown(target)}: {_reason(exc)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise ExportTargetError(f"cannot write {target}: it is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        raise ExportTargetError(f"cannot write {target}: it is not a regular file (a device, FIFO or socket), "
                                "and rigcheck never replaces one")
    if not folder.is_dir():
        raise ExportTargetError(f"cannot write {target}: folder {folder} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise ExportError(f"cannot write {_shown(target)}: {_reason(exc)}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        _flush_to_disk(tmp)  # complete on the disk before it takes the destination's name
        _set_mode(tmp, target)
        os.replace(tmp, target)
    except OSError as exc:
        _discard(tmp)
        raise ExportError(f"cannot write {_shown(target)}: {_reason(exc)}") from None
    except BaseException:
        _discard(tmp)
        raise
    return target


def _set_mode(tmp: Path, target: Path) -> None:
    # mkstemp makes 0600 files; give the report the mode a plain open() would (or the old file's).
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    os.chmod(tmp, mode)


def _umask() -> int:
    # os.umask() can only be read by setting it, which races with other threads; Linux shows it here.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _discard(tmp: Path) -> None:
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass  # best effort: the original error is the one worth reporting


def _shown(target: Path) -> str:
    """The path for a message: a name of hundreds of characters is cut in the middle, not printed whole."""
    text = str(target)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-40:]} ({len(text)} characters)"


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
