"""Run every benchmark module in this folder (bench_*.py), each in a process of its own, and print one line per
target.

A process each: what one benchmark leaves behind (a QGuiApplication made for the PDF reports, which a window cannot
be built beside; a catalog in memory; a warmed cache) never changes the next one's figures or aborts it.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys


def main() -> int:
    here = pathlib.Path(__file__).parent
    failed = 0
    for path in sorted(here.glob("bench_*.py")):
        print(f"== {path.stem}", flush=True)
        done = subprocess.run([sys.executable, str(path)], check=False)
        if done.returncode != 0:
            failed += 1
            if done.returncode not in (0, 1):  # 1: a target missed; anything else: the benchmark itself broke
                print(f"{path.stem} ended with exit code {done.returncode}", flush=True)
    print(f"{failed} benchmark module(s) missed a target" if failed else "all targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
