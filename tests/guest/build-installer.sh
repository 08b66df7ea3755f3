#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetches Debian 12's graphical installer, a real GUI program nobody here
# wrote, for the display end-to-end test that shows it (t-vmm-installer):
# the gtk kernel and initrd of Debian's debian-installer-12-netboot-amd64
# package (its own 6.1 kernel; the initrd starts Xorg with the modesetting
# driver on the DRM device bochs-drm or virtio_gpu give, and cdebconf's
# gtk frontend), and the banner it draws at the top of every screen.
#
#   tests/guest/build-installer.sh [OUTDIR]     (default: build/installer)
#
# Output: OUTDIR/linux, OUTDIR/initrd.gz (unmodified), OUTDIR/banner.png
# (the initrd's /usr/share/graphics/logo_debian.png, 800x75), OUTDIR/version.
# The package (about 130 MB) is cached in .cache/debs; with the same
# version a second run only checks and exits.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

OUT=${1:-$TOP/build/installer}
DEBS=$TOP/.cache/debs
PKG=debian-installer-12-netboot-amd64
IMG=usr/lib/debian-installer/images/12/amd64/gtk/debian-installer/amd64
die() { echo "build-installer: $*" >&2; exit 1; }

ensure_pkgs cpio || die "cannot install cpio"
ver=$(apt-cache show --no-all-versions "$PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
if [[ -z "$ver" ]]; then
	apt-get update -qq >/dev/null 2>&1 || true
	ver=$(apt-cache show --no-all-versions "$PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
fi
[[ -n "$ver" ]] || die "apt knows no $PKG"
if [[ "$(cat "$OUT/version" 2>/dev/null)" == "$ver" && -f "$OUT/linux" && -f "$OUT/initrd.gz" &&
	-f "$OUT/banner.png" ]]; then
	exit 0
fi
echo "installer: fetching $PKG $ver" >&2
mkdir -p "$DEBS"
deb=$DEBS/${PKG}_${ver//:/%3a}_all.deb
if [[ ! -f "$deb" ]]; then
	(cd "$DEBS" && apt-get download -qq "$PKG=$ver" >/dev/null 2>&1) ||
		die "apt-get download $PKG=$ver failed"
	[[ -f "$deb" ]] || die "apt-get download did not produce $deb"
	find "$DEBS" -maxdepth 1 -name "${PKG}_*.deb" ! -path "$deb" -delete
fi
NEW=$OUT.new
rm -rf "$NEW"
mkdir -p "$NEW"
trap 'rm -rf "$NEW"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$NEW" "./$IMG/linux" "./$IMG/initrd.gz" ||
	die "$deb has no gtk kernel and initrd in $IMG"
mv "$NEW/$IMG/linux" "$NEW/$IMG/initrd.gz" "$NEW/"
# The banner, from the initrd (a symlink logo_installer.png -> logo_debian.png).
(cd "$NEW" && gzip -dc initrd.gz | cpio -id --quiet usr/share/graphics/logo_debian.png) ||
	die "no banner in the initrd"
mv "$NEW/usr/share/graphics/logo_debian.png" "$NEW/banner.png"
rm -rf "$NEW/usr"
echo "$ver" >"$NEW/version"
rm -rf "$OUT"
mv "$NEW" "$OUT"
trap - EXIT
