#!/usr/bin/env bash
# Installs (or removes) the unpacked rigcheck bundle for one user, or system-wide with PREFIX=/usr/local.
#
#   ./install.sh             copy this folder to ~/.local/lib/rigcheck, link ~/.local/bin/rigcheck,
#                            add the menu entry, icons and AppStream metainfo under ~/.local/share
#   ./install.sh --uninstall remove exactly those files
#   PREFIX=/usr/local sudo -E ./install.sh     the same under /usr/local
#
# Runs from the bundle folder (dist/rigcheck/ or the unpacked tarball); needs nothing but coreutils.
set -euo pipefail
APP_ID=io.github.rigcheck.rigcheck
BUNDLE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
LIB_DIR=$PREFIX/lib/rigcheck
BIN_LINK=$PREFIX/bin/rigcheck
SHARE=$PREFIX/share

uninstall() {
  rm -rf "$LIB_DIR"
  rm -f "$BIN_LINK" "$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml"
  rm -f "$SHARE"/icons/hicolor/*/apps/"$APP_ID".png "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
}

refresh_caches() {
  # Menus pick the entry up without these on most desktops; they only speed it up, so failures are fine.
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$SHARE/applications" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
}

case ${1:-} in
  --uninstall) uninstall; refresh_caches; echo "removed rigcheck from $PREFIX"; exit 0 ;;
  "") ;;
  *) echo "install.sh: unknown option $1 (use --uninstall)" >&2; exit 2 ;;
esac

[ -x "$BUNDLE/rigcheck" ] || { echo "install.sh: run it from the rigcheck bundle folder" >&2; exit 1; }
if [ "$BUNDLE" != "$LIB_DIR" ]; then
  rm -rf "$LIB_DIR"
  mkdir -p "$(dirname "$LIB_DIR")"
  cp -a "$BUNDLE" "$LIB_DIR"
fi
mkdir -p "$PREFIX/bin" "$SHARE/applications" "$SHARE/metainfo"
ln -sfn "$LIB_DIR/rigcheck" "$BIN_LINK"
# The menu entry must not depend on PATH (~/.local/bin is not on it for every session): absolute Exec.
sed "s|^Exec=rigcheck|Exec=\"$LIB_DIR/rigcheck\"|" "$BUNDLE/share/applications/$APP_ID.desktop" \
  >"$SHARE/applications/$APP_ID.desktop"
cp "$BUNDLE/share/metainfo/$APP_ID.metainfo.xml" "$SHARE/metainfo/"
(cd "$BUNDLE/share" && find icons -type f) | while read -r icon; do
  mkdir -p "$SHARE/$(dirname "$icon")"
  cp "$BUNDLE/share/$icon" "$SHARE/$icon"
done
refresh_caches
echo "installed rigcheck in $LIB_DIR; run it from the application menu or as $BIN_LINK"
