"""Smoke test of an installed or bundled ``rigcheck`` executable: version, probe, GUI, fit, PDF report, bad input.

Usage: ``python3 packaging/smoke.py PATH/TO/rigcheck [--keep DIR]``. Standard library only, so it runs with any
Python >= 3.10 against the PyInstaller bundle (dist/rigcheck/rigcheck) or a venv's console script. Each check
runs the executable in a fresh temporary HOME with rigcheck's folders redirected there and the network off, so
the checks neither read nor change the user's settings. Prints one line per check with its wall time; exits 0
when all pass, 1 otherwise (with the failing command's output).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A cold start of the one-folder bundle unpacks nothing but still imports Qt; 120 s covers a slow CI disk.
TIMEOUT_S = 120
MIN_SCREENSHOT_SIDE_PX = 200


class SmokeFailure(Exception):
    """One check failed; the message says which and shows what the executable printed."""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float


def expected_version() -> str:
    text = (ROOT / "rigcheck" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if match is None:
        raise SmokeFailure("cannot read __version__ from rigcheck/__init__.py")
    return match.group(1)


def isolated_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for sub in ("cache", "config", "data"):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[f"RIGCHECK_{sub.upper()}_DIR"] = str(home / sub)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        RIGCHECK_NO_NETWORK="1",
        QT_QPA_PLATFORM="offscreen",
    )
    (home / "runtime").mkdir(mode=0o700, exist_ok=True)
    # PYTHONPATH would let the executable import the development tree instead of what it ships.
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def run(exe: list[str], args: list[str], env: dict[str, str], cwd: Path) -> Result:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [*exe, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"`rigcheck {' '.join(args)}` did not finish within {TIMEOUT_S} s") from exc
    except OSError as exc:
        raise SmokeFailure(f"cannot run {exe[0]}: {exc.strerror}") from exc
    return Result(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)


def expect_ok(result: Result, args: list[str]) -> None:
    if result.returncode != 0:
        raise SmokeFailure(
            f"`rigcheck {' '.join(args)}` exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
    if "Traceback (most recent call last)" in result.stderr:
        raise SmokeFailure(f"`rigcheck {' '.join(args)}` printed a traceback:\n{result.stderr[-3000:]}")


def png_size_px(path: Path) -> tuple[int, int]:
    """Returns (width, height) from a PNG's IHDR chunk; raises SmokeFailure when it is not a PNG."""
    try:
        head = path.read_bytes()[:24]
    except OSError as exc:
        raise SmokeFailure(f"the screenshot {path} was not written ({exc.strerror})") from exc
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise SmokeFailure(f"the screenshot {path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def has_command(exe: list[str], command: str, env: dict[str, str], cwd: Path) -> bool:
    """True when the executable registers `command` (its --help exits 0; an unknown command exits 2)."""
    return run(exe, [command, "--help"], env, cwd).returncode == 0


def check_version(exe, env, cwd, out_dir) -> str:
    result = run(exe, ["--version"], env, cwd)
    expect_ok(result, ["--version"])
    want = f"rigcheck {expected_version()}"
    if result.stdout.strip() != want:
        raise SmokeFailure(f"`rigcheck --version` printed {result.stdout.strip()!r}, expected {want!r}")
    return f"{want} ({result.wall_s:.2f} s, the cold start)"


def check_probe(exe, env, cwd, out_dir) -> str:
    result = run(exe, ["probe", "--json"], env, cwd)
    expect_ok(result, ["probe", "--json"])
    try:
        profile = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise SmokeFailure(
            f"`rigcheck probe --json` did not print JSON: {exc}\n{result.stdout[:500]}"
        ) from exc
    if not isinstance(profile, dict) or profile.get("schema") != "rigcheck.machine/1":
        raise SmokeFailure("`rigcheck probe --json` printed JSON without schema 'rigcheck.machine/1'")
    (out_dir / "machine.json").write_text(result.stdout, encoding="utf-8")
    gpus = profile.get("gpus")
    gpu_count = len(gpus) if isinstance(gpus, list) else "?"
    return f"schema rigcheck.machine/1, {gpu_count} GPU(s) ({result.wall_s:.2f} s)"


def check_gui_screenshot(exe, env, cwd, out_dir) -> str:
    shot = out_dir / "gui.png"
    args = ["gui", "--screenshot", str(shot)]
    result = run(exe, args, env, cwd)
    expect_ok(result, args)
    width_px, height_px = png_size_px(shot)
    if min(width_px, height_px) < MIN_SCREENSHOT_SIDE_PX:
        raise SmokeFailure(f"the GUI screenshot is only {width_px}x{height_px} px")
    return f"{width_px}x{height_px} px PNG ({result.wall_s:.2f} s)"


def check_gui_on_x11(exe, env, cwd, out_dir) -> str:
    """The X11 platform plugin and the xcb libraries it links load (offscreen uses neither): the GUI under
    Xvfb, with Qt's plugin loader saying which platform plugin it loaded."""
    shot = out_dir / "gui-x11.png"
    args = ["gui", "--screenshot", str(shot)]
    x11_env = dict(env, QT_QPA_PLATFORM="xcb", QT_DEBUG_PLUGINS="1")
    xvfb = ["xvfb-run", "--auto-servernum", "--server-args=-screen 0 1920x1200x24"]
    result = run([*xvfb, *exe], args, x11_env, cwd)
    expect_ok(result, args)
    if not re.search(r"platforms/libqxcb\.\w+\S*\s+loaded library", result.stderr):
        raise SmokeFailure(f"the GUI ran under Xvfb without loading the xcb plugin:\n{result.stderr[-2000:]}")
    width_px, height_px = png_size_px(shot)
    return f"{width_px}x{height_px} px PNG through the xcb plugin ({result.wall_s:.2f} s)"


def check_first_look_helper(exe, env, cwd, out_dir) -> str:
    """The executable runs as its own first-look helper (what plain `rigcheck` starts before loading Qt; a
    frozen app has no other Python to start it with): a payload of the expected kind on stdout, exit 0."""
    magic = b"rigcheck first look 1\n"  # rigcheck/desktop/first_look.py MAGIC
    start = time.perf_counter()
    try:
        proc = subprocess.run(exe, env=dict(env, RIGCHECK_FIRST_LOOK_CHILD="1"), cwd=cwd, capture_output=True,
                              timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"the first-look helper did not finish within {TIMEOUT_S} s") from exc
    wall_s = time.perf_counter() - start
    if proc.returncode != 0 or not proc.stdout.startswith(magic) or len(proc.stdout) < 10_000:
        raise SmokeFailure(f"the first-look helper exited {proc.returncode} with {len(proc.stdout)} bytes "
                           f"starting {proc.stdout[:40]!r}\n--- stderr\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return f"{len(proc.stdout) // 1024} KiB first look ({wall_s:.2f} s)"


def check_fit_catalog(exe, env, cwd, out_dir) -> str:
    """The embedded catalog shipped: a described machine gets estimates for the catalog's models."""
    args = ["fit", "--gpu", "RTX 4090", "--ram", "64GB", "--json"]
    result = run(exe, args, env, cwd)
    expect_ok(result, args)
    try:
        rows = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise SmokeFailure(f"`rigcheck {' '.join(args)}` did not print JSON: {exc}") from exc
    if isinstance(rows, dict):  # either a bare list of rows or an object holding them
        rows = next((value for value in rows.values() if isinstance(value, list) and value), [])
    if not rows:
        raise SmokeFailure(f"`rigcheck {' '.join(args)}` returned no estimates: is the catalog bundled?")
    return f"{len(rows)} estimate rows from the embedded catalog ({result.wall_s:.2f} s)"


def check_report_pdf(exe, env, cwd, out_dir) -> str:
    """The PDF report renders in this build (QPdfWriter, fonts, charts, the report schema's data files)."""
    pdf = out_dir / "report.pdf"
    args = ["report", "--gpu", "RTX 4090", "--ram", "64GB", "--format", "pdf", "-o", str(pdf)]
    result = run(exe, args, env, cwd)
    expect_ok(result, args)
    try:
        data = pdf.read_bytes()
    except OSError as exc:
        raise SmokeFailure(f"`rigcheck report` did not write {pdf} ({exc.strerror})") from exc
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise SmokeFailure(f"`rigcheck report` wrote {pdf}, which is not a complete PDF")
    return f"{len(data) / 1024:.0f} KiB PDF ({result.wall_s:.2f} s)"


def check_bad_input(exe, env, cwd, out_dir) -> str:
    """Bad input: exit 2 and one line on stderr, no traceback."""
    args = ["--no-such-option"]
    result = run(exe, args, env, cwd)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.returncode != 2 or len(lines) != 1 or "Traceback" in result.stderr:
        raise SmokeFailure(
            f"`rigcheck --no-such-option` should exit 2 with one line on stderr; got exit "
            f"{result.returncode} and:\n{result.stderr[-2000:]}"
        )
    return "exit 2, one line on stderr"


# (name, check, subcommand it needs or None). Checks whose subcommand the executable does not register fail
# when the subcommand is in REQUIRED_COMMANDS and are skipped (and said so) otherwise.
CHECKS = [
    ("version", check_version, None),
    ("probe --json", check_probe, "probe"),
    ("gui --screenshot", check_gui_screenshot, "gui"),
    ("gui on X11 (Xvfb)", check_gui_on_x11, "gui"),
    ("first-look helper", check_first_look_helper, "gui"),
    ("fit (embedded catalog)", check_fit_catalog, "fit"),
    ("report --format pdf", check_report_pdf, "report"),
    ("bad input", check_bad_input, None),
]
REQUIRED_COMMANDS = {"probe", "gui"}


def smoke(exe: list[str], keep_dir: Path | None = None) -> bool:
    """Runs every check against exe; prints one line each. Returns True when all required checks pass."""
    ok = True
    with tempfile.TemporaryDirectory(prefix="rigcheck-smoke-") as tmp:
        home = Path(tmp) / "home"
        out_dir = keep_dir or Path(tmp) / "out"
        out_dir.mkdir(parents=True, exist_ok=True)
        env = isolated_env(home)
        for name, check, needs in CHECKS:
            if check is check_gui_on_x11 and (
                not sys.platform.startswith("linux") or not shutil.which("xvfb-run")
            ):
                print(f"skip {name}: needs xvfb-run (apt-get install xvfb xauth)")
                continue
            if needs is not None and not has_command(exe, needs, env, Path(tmp)):
                if needs in REQUIRED_COMMANDS:
                    print(f"FAIL {name}: the executable has no `{needs}` command")
                    ok = False
                else:
                    print(f"skip {name}: no `{needs}` command in this build")
                continue
            try:
                detail = check(exe, env, Path(tmp), out_dir)
            except SmokeFailure as exc:
                print(f"FAIL {name}: {exc}")
                ok = False
            else:
                print(f"ok   {name}: {detail}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("executable", help="the rigcheck executable to test")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="keep the screenshot and probe output here")
    args = parser.parse_args(argv)
    path = shutil.which(args.executable) or args.executable
    if not Path(path).is_file() or not os.access(path, os.X_OK):
        print(f"smoke: {args.executable} is not an executable file", file=sys.stderr)
        return 2
    keep_dir = args.keep.resolve() if args.keep else None  # checks run in a temporary folder
    return 0 if smoke([str(Path(path).resolve())], keep_dir) else 1


if __name__ == "__main__":
    sys.exit(main())
