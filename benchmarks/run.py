"""Run every benchmark module in this folder (bench_*.py) and print one line per target."""

from __future__ import annotations

import importlib.util
import pathlib
import sys


def main() -> int:
    here = pathlib.Path(__file__).parent
    failed = 0
    for path in sorted(here.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== {path.stem}")
        ok = module.run()
        failed += 0 if ok else 1
    print(f"{failed} benchmark module(s) missed a target" if failed else "all targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
