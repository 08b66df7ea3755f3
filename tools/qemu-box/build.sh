#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds the test box's QEMU (L0): Debian's own qemu source package, the
# version Debian 12 installs as qemu-system-x86, with its Debian patches
# and ours (*.patch here) applied, x86_64-softmmu only, with just what
# tools/kvmbox uses (TCG, 9p, serial). Why: Debian's QEMU aborts
# ("tcg_handle_interrupt: assertion failed") when a firmware guest runs
# nested in the box; svm-cr8-vintr-bql.patch says how, docs/testing.md
# what it changes.
#
#   tools/qemu-box/build.sh           prints the path of qemu-system-x86_64
#   tools/qemu-box/build.sh --cached  the same, but never builds: exit 1
#                                     when it is not built yet
#
# Firmware blobs are not installed: run it with -L /usr/share/qemu (Debian's
# qemu-system-data, which tools/kvmbox installs anyway).
#
# Built once per machine into $PHYLLO_CACHE (default ~/.cache/phyllome),
# in a directory named after the source version and a hash of the
# patches, so a changed patch builds anew and an unchanged one never
# again. Idempotent; the Debian packages it needs are installed by it.
# The source comes through a private apt configuration (deb-src lines of
# its own), so the machine's apt sources are not touched; apt checks the
# package's signatures and hashes.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../tests/guest/lib.sh
. "$HERE/../../tests/guest/lib.sh"

CACHED_ONLY=0
[[ "${1:-}" != --cached ]] || CACHED_ONLY=1
SUITE=${QEMU_BOX_SUITE:-bookworm}
CACHE=${PHYLLO_CACHE:-$HOME/.cache/phyllome}/qemu-box
die() { echo "qemu-box: $*" >&2; exit 1; }

built() { [[ -x "$OUT/bin/qemu-system-x86_64" && -f "$OUT/.stamp" ]]; }
if ((CACHED_ONLY)); then
	# Without apt: the newest complete build of the current patches.
	sum=$(cat "$HERE"/*.patch | sha256sum | cut -c1-12)
	for OUT in $(ls -d "$CACHE"/*-"$sum" 2>/dev/null | sort -V -r); do
		if built; then echo "$OUT/bin/qemu-system-x86_64"; exit 0; fi
	done
	exit 1
fi

ensure_pkgs dpkg-dev ninja-build meson pkg-config gcc make flex bison python3 \
	python3-venv libglib2.0-dev libpixman-1-dev zlib1g-dev libcap-ng-dev \
	libattr1-dev libfdt-dev xz-utils ca-certificates ||
	die "cannot install the build dependencies"

# A private apt: deb-src lines for the suite, its own lists and cache.
APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
cat >"$APT/sources.list" <<SRC
deb-src http://deb.debian.org/debian $SUITE main
deb-src http://deb.debian.org/debian-security $SUITE-security main
deb-src http://deb.debian.org/debian $SUITE-updates main
SRC
aptc=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
	-o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache")
# The newest qemu source of the suite: the binary package's version.
version() {
	{ apt-cache "${aptc[@]}" showsrc qemu 2>/dev/null || true; } |
		sed -n 's/^Version: //p' | sort -V | tail -n 1
}
ver=$(version)
if [[ -z "$ver" ]]; then
	apt-get "${aptc[@]}" -qq update >/dev/null 2>&1 || die "apt-get update (deb-src $SUITE) failed"
	ver=$(version)
fi
[[ -n "$ver" ]] || die "no qemu source package in $SUITE"
sum=$(cat "$HERE"/*.patch | sha256sum | cut -c1-12)
OUT=$CACHE/${ver//[:~+]/_}-$sum
if built; then
	echo "$OUT/bin/qemu-system-x86_64"
	exit 0
fi
# One build at a time (two kvmbox runs may ask at once); the second waits
# and finds it built.
exec 9>"$CACHE/build.lock"
flock 9
if built; then
	echo "$OUT/bin/qemu-system-x86_64"
	exit 0
fi

echo "qemu-box: building QEMU $ver with $(ls "$HERE"/*.patch | wc -l) patch(es) in $OUT (once; about 15-20 min on 2 idle cores)" >&2
SRC=$CACHE/src-$sum
rm -rf "$SRC" "$OUT"
mkdir -p "$SRC"
(cd "$SRC" && apt-get "${aptc[@]}" -qq source "qemu=$ver" >/dev/null 2>&1) ||
	die "apt-get source qemu=$ver failed"
dir=$(find "$SRC" -maxdepth 1 -mindepth 1 -type d -name 'qemu-*' | head -n 1)
[[ -d "$dir" ]] || die "no unpacked source in $SRC"
for p in "$HERE"/*.patch; do
	patch -d "$dir" -p1 --forward --batch <"$p" >/dev/null || die "$(basename "$p") does not apply to $ver"
done
mkdir -p "$dir/build"
(cd "$dir/build" &&
	../configure --prefix="$OUT" --target-list=x86_64-softmmu \
		--without-default-features --enable-tcg --enable-virtfs --enable-attr \
		--enable-cap-ng --enable-fdt=system --disable-docs --disable-werror --disable-install-blobs \
		>"$SRC/configure.log" 2>&1) || { tail -n 30 "$SRC/configure.log" >&2; die "configure failed"; }
# Only the emulator (about 1500 steps of the 2300 the whole tree has).
ninja -C "$dir/build" qemu-system-x86_64 >"$SRC/build.log" 2>&1 ||
	{ tail -n 30 "$SRC/build.log" >&2; die "build failed"; }
install -D -m 0755 "$dir/build/qemu-system-x86_64" "$OUT/bin/qemu-system-x86_64" || die "install failed"
# The stamp last: a build cut short is redone, never used.
printf '%s %s\n' "$ver" "$sum" >"$OUT/.stamp"
rm -rf "$SRC"
echo "qemu-box: ready: $OUT/bin/qemu-system-x86_64" >&2
echo "$OUT/bin/qemu-system-x86_64"
