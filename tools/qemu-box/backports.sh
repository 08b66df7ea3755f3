#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test box's QEMU (tools/kvmbox's default since 2026-12-05; why:
# docs/testing.md, "The stress harness"): QEMU 10.0 from Debian's
# bookworm-backports, unpacked into the cache instead of installed, so the
# machine keeps Debian 12's qemu-system-x86 and nothing else changes.
#
#   tools/qemu-box/backports.sh     prints the path of qemu-system-x86_64
#
# Run the binary with the -L options it prints on stderr (its own firmware:
# seabios and qemu-system-data from the same suite). The libraries it links
# are Debian 12's, installed by this script (ensure_pkgs). Fetched through a
# private apt configuration (the machine's sources are not touched); apt
# checks the signatures. Idempotent: a second run only prints the path.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../../tests/guest/lib.sh
. "$HERE/../../tests/guest/lib.sh"
CACHE=${PHYLLO_CACHE:-$HOME/.cache/phyllome}/qemu-backports
die() { echo "qemu-backports: $*" >&2; exit 1; }

APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
cat >"$APT/sources.list" <<SRC
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian-security bookworm-security main
deb http://deb.debian.org/debian bookworm-backports main
SRC
aptc=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
	-o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache")
version() {
	{ apt-cache "${aptc[@]}" madison qemu-system-x86 2>/dev/null || true; } |
		awk -F' *[|] *' '$3 ~ /backports/ { print $2 }' | sort -V | tail -n 1
}
ver=$(version)
if [[ -z "$ver" ]]; then
	apt-get "${aptc[@]}" -qq update >/dev/null 2>&1 || die "apt-get update (bookworm-backports) failed"
	ver=$(version)
fi
[[ -n "$ver" ]] || die "no qemu-system-x86 in bookworm-backports"
OUT=$CACHE/${ver//[:~+]/_}
if [[ ! -f "$OUT/.stamp" ]]; then
	rm -rf "$OUT"
	mkdir -p "$OUT/debs"
	# The emulator and its own data, of the same version; seabios and
	# ipxe from the suite too (it asks for a newer seabios than Debian 12's).
	pkgs=("qemu-system-x86=$ver" "qemu-system-common=$ver" "qemu-system-data=$ver")
	for p in seabios ipxe-qemu; do
		pkgs+=("$p=$({ apt-cache "${aptc[@]}" madison "$p" || true; } | awk -F' *[|] *' 'NR == 1 { print $2 }')")
	done
	(cd "$OUT/debs" && apt-get "${aptc[@]}" -qq download "${pkgs[@]}" >/dev/null 2>&1) ||
		die "apt-get download ${pkgs[*]} failed"
	for d in "$OUT"/debs/*.deb; do dpkg-deb -x "$d" "$OUT/root"; done
	# Its shared libraries are Debian 12's: install the ones missing.
	deps=$(dpkg-deb -f "$OUT"/debs/qemu-system-x86_*.deb Depends | tr ',' '\n' |
		sed -E 's/^ *//; s/ .*//; s/[|].*//' | grep -E '^lib' || true)
	# shellcheck disable=SC2086 # one package name a word
	ensure_pkgs $deps || die "cannot install the libraries it needs"
	"$OUT/root/usr/bin/qemu-system-x86_64" --version >/dev/null || die "the unpacked QEMU does not run"
	echo "$ver" >"$OUT/.stamp"
	rm -rf "$OUT/debs"
fi
echo "qemu-backports: run it with -L $OUT/root/usr/share/seabios -L $OUT/root/usr/share/qemu" >&2
echo "$OUT/root/usr/bin/qemu-system-x86_64"
