#!/usr/bin/env bash
# Puts the Linux desktop integration files into a bundle folder: BUNDLE/share/{applications,metainfo,icons}
# and BUNDLE/install.sh, the layout install.sh expects. Used by build.sh; tests stage a stand-in bundle.
#
#   bash packaging/linux/stage.sh BUNDLE_DIR
set -euo pipefail
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: stage.sh BUNDLE_DIR (an existing folder)" >&2; exit 2; }
APP_ID=io.github.rigcheck.rigcheck
HERE=$(cd "$(dirname "$0")" && pwd)
ICONS=$HERE/../icons
share=$1/share
mkdir -p "$share/applications" "$share/metainfo" "$share/icons/hicolor/scalable/apps"
cp "$HERE/$APP_ID.desktop" "$share/applications/"
cp "$HERE/$APP_ID.metainfo.xml" "$share/metainfo/"
for png in "$ICONS"/rigcheck-*.png; do
  size=$(basename "$png" .png)
  size=${size#rigcheck-}
  mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
cp "$ICONS/rigcheck.svg" "$share/icons/hicolor/scalable/apps/$APP_ID.svg"
install -m 755 "$HERE/install.sh" "$1/install.sh"
