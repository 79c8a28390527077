#!/usr/bin/env bash
# Builds the one-folder desktop bundle dist/rigcheck/ with PyInstaller and smoke-tests its binary.
#
#   bash packaging/build.sh [--tarball] [--no-smoke]
#
# PyInstaller and the app's dependencies live in their own virtualenv (.venv-dist, created on first use) so
# the development .venv is never changed by a build. The working tree's rigcheck is what gets bundled.
# --tarball also writes dist/rigcheck-VERSION-OS-ARCH.tar.gz (the folder plus desktop integration files).
# Environment: PYTHON (default python3) makes .venv-dist; RIGCHECK_DIST_MAX_MB (default 250) is the size the
# bundle must not exceed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PYTHON=${PYTHON:-python3}
VENV=.venv-dist
STAMP=$VENV/.installed
MAX_MB=${RIGCHECK_DIST_MAX_MB:-250}
TARBALL=0
SMOKE=1
for arg in "$@"; do
  case $arg in
    --tarball) TARBALL=1 ;;
    --no-smoke) SMOKE=0 ;;
    *) echo "build.sh: unknown option $arg (use --tarball, --no-smoke)" >&2; exit 2 ;;
  esac
done

VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' rigcheck/__init__.py)
[ -n "$VERSION" ] || { echo "build.sh: cannot read __version__ from rigcheck/__init__.py" >&2; exit 1; }

step() { printf '\n== %s\n' "$*"; }

# 1. The build environment: reinstalled when the dependency list or the version changes.
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ rigcheck/__init__.py -nt "$STAMP" ]; then
  step "setting up $VENV"
  test -x $VENV/bin/python || "$PYTHON" -m venv $VENV
  $VENV/bin/python -m pip install --quiet --upgrade pip
  # Editable: the package metadata (version, entry point) for copy_metadata; the code comes from the tree.
  $VENV/bin/python -m pip install --quiet "pyinstaller>=6.10,<7" -e .
  touch "$STAMP"
fi

# 2. The committed PNG icons must match the SVG they are rendered from.
step "checking icons"
QT_QPA_PLATFORM=offscreen $VENV/bin/python packaging/render_icons.py --check

# 3. The bundle.
step "running PyInstaller (log: build/pyinstaller.log)"
mkdir -p build
rm -rf dist/rigcheck
start_s=$(date +%s)
if ! $VENV/bin/pyinstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/rigcheck.spec >build/pyinstaller.log 2>&1; then
  tail -n 40 build/pyinstaller.log >&2
  echo "build.sh: PyInstaller failed (full log: build/pyinstaller.log)" >&2
  exit 1
fi
echo "built dist/rigcheck in $(( $(date +%s) - start_s )) s"
# The build machine's libpython may carry debug symbols (16 MB of a 22 MB file here). Strip only that: the
# wheels' libraries are already stripped, and stripping patchelf-edited ones (numpy.libs) breaks them.
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null; then
  for lib in dist/rigcheck/_internal/libpython*.so*; do
    [ -L "$lib" ] || strip --strip-debug "$lib"
  done
fi
# Libraries Qt's plugins link against but this build machine lacks are neither bundled nor checked later
# (offscreen smoke tests do not load the xcb plugin); install them here (packaging/README.md) and rebuild.
# (The GTK3 theme plugin's are expected: the spec leaves that plugin out.)
missing_libs=$(grep "Library not found" build/pyinstaller.log | grep -v "platformthemes/libqgtk3" \
  | sed -n "s/.*could not resolve '\([^']*\)'.*/  \1/p" | sort -u || true)
if [ -n "$missing_libs" ]; then
  echo "warning: not bundled because this machine lacks them (users' systems must then provide them):" >&2
  echo "$missing_libs" >&2
fi

# 4. Desktop integration files travel inside the folder (share/); install.sh puts them in place.
if [ "$(uname -s)" = Linux ]; then
  bash packaging/linux/stage.sh dist/rigcheck
fi

# 5. Size: the target is <= MAX_MB; the largest files show where to cut when it grows. (Python rather than
# GNU find -printf, so the same script runs on macOS.)
step "bundle size"
"$PYTHON" - "$MAX_MB" <<'PY'
import sys
from pathlib import Path

files = [path for path in Path("dist/rigcheck").rglob("*") if path.is_file() and not path.is_symlink()]
total_mb = sum(path.stat().st_size for path in files) / 1048576
print(f"bundle size: {total_mb:.0f} MB in {len(files)} files (target <= {sys.argv[1]} MB); largest files:")
for path in sorted(files, key=lambda p: p.stat().st_size, reverse=True)[:12]:
    print(f"  {path.stat().st_size / 1048576:7.1f} MB  {path.relative_to('dist/rigcheck')}")
if total_mb > float(sys.argv[1]):
    sys.exit(f"build.sh: the bundle is {total_mb:.0f} MB, over the {sys.argv[1]} MB target")
PY

# 6. Smoke test: the bundled binary, not the development tree (smoke.py isolates HOME and the network).
if [ "$SMOKE" = 1 ]; then
  step "smoke-testing dist/rigcheck/rigcheck (screenshot and probe output: build/smoke/)"
  rm -rf build/smoke
  "$PYTHON" packaging/smoke.py dist/rigcheck/rigcheck --keep build/smoke
fi

if [ "$TARBALL" = 1 ]; then
  tarball="dist/rigcheck-${VERSION}-$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m).tar.gz"
  step "writing $tarball"
  tar -C dist -czf "$tarball" rigcheck
  echo "$(( $(wc -c <"$tarball") / 1048576 )) MB compressed"
fi
echo "done: $ROOT/dist/rigcheck/rigcheck"
