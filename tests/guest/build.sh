#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds the Phyllome test guest from Debian packages only, so tests boot a
# real distribution kernel without touching the host's /boot:
#
#   tests/guest/build.sh [OUTDIR]        (default: build/guest at the repo top)
#
# How: `apt-get download` fetches the concrete kernel package behind
# linux-image-amd64 (linux-image-6.1.0-NN-amd64) into .cache/debs/,
# `dpkg-deb -x` unpacks it, depmod indexes its modules. Output in OUTDIR:
#
#   vmlinuz              Debian's bzImage, unmodified
#   vmlinux              the ELF inside it (for PVH boot; has the Xen note)
#   vmlinux.notes        `readelf -n vmlinux`, for the curious
#   kernel-version       e.g. 6.1.0-56-amd64
#   modules/lib/modules/<ver>/...   the module tree (with modules.dep)
#   initramfs.cpio.gz    busybox-static + virtio/ext4/vsock modules + tests/guest/init
#                        + /bin/phyllo-vsock (tests/guest/phyllo-vsock.c, built here)
#                        + /bin/phyllo-draw (phyllo-draw.c, KMS; libdrm-dev headers) and, in lib/modules/display/,
#                          bochs-drm for phyllo.mode=draw; /bin/phyllo-evdev and, in
#                          lib/modules/input/, virtio_input
#
# Everything is keyed by the package versions and this script's own files
# (OUTDIR/.stamp): a second run with nothing changed only checks and exits.
# PHYLLO_GUEST_KERNEL_PKG=linux-image-... picks another kernel package (a
# meta package such as linux-image-6.12-amd64 is followed to its image).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

OUT=${1:-$TOP/build/guest}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
DEBS=$TOP/.cache/debs

# Modules the guest loads at boot, in this order (dependencies are added
# from modules.dep). crc32c_generic is only a soft dependency of ext4 and
# jbd2 (modules.softdep), so it is named here.
GUEST_MODULES=(
	virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	virtio_mmio virtio_blk virtio_net virtio_console virtio_rng
	vmw_vsock_virtio_transport crc32c_generic ext4
	button evdev
)
# Loaded only by phyllo.mode=draw (the display tests: bochs-display and
# virtio-gpu): the DRM stack is
# some 2 MB, and other tests have no display.
DISPLAY_MODULES=(bochs virtio_gpu)
# Loaded by phyllo.mode=draw once the PS/2 keyboard has been tried.
INPUT_MODULES=(virtio_input)

die() {
	echo "guest/build.sh: $*" >&2
	exit 1
}

ensure_pkgs busybox-static cpio kmod xz-utils zstd gzip binutils gcc libc6-dev ||
	die "cannot install the tools it needs"

# One build at a time per OUTDIR.
exec 9>"$OUT.lock"
flock 9

# The concrete kernel package and its version, e.g. linux-image-6.1.0-56-amd64
# 6.1.192-2, from linux-image-amd64's "Depends: PKG (= VERSION)". apt-cache
# takes about a second here (no pkgcache), so the answer is remembered in
# OUT.apt next to a signature of apt's package lists and asked again only
# when those change. On a fresh machine with empty lists: update once.
apt_sig() {
	{ stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* /etc/apt/sources.list \
		/etc/apt/sources.list.d/* /etc/apt/preferences.d/* 2>/dev/null || true; } |
		sha256sum | cut -d' ' -f1
}
# PKG VERSION of a kernel package; a meta package (linux-image-amd64,
# linux-image-6.12-amd64) is followed to the image it depends on.
resolve_kernel() {
	apt-cache show --no-all-versions "${PHYLLO_GUEST_KERNEL_PKG:-linux-image-amd64}" 2>/dev/null |
		awk -v pkg="${PHYLLO_GUEST_KERNEL_PKG:-linux-image-amd64}" '
		$1 == "Version:" && !ver { ver = $2 }
		$1 == "Depends:" { for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-/) {
			v = $(i + 2); sub(/\)$/, "", v); sub(/,$/, "", v); print $i, v; done = 1; exit } }
		END { if (!done && ver) print pkg, ver }'
}
sig="$(apt_sig) ${PHYLLO_GUEST_KERNEL_PKG:-}"
resolved=
if [[ -f "$OUT.apt" && "$(head -n 1 "$OUT.apt")" == "$sig" ]]; then
	resolved=$(sed -n 2p "$OUT.apt")
fi
if [[ -z "$resolved" ]]; then
	resolved=$(resolve_kernel)
	if [[ -z "$resolved" ]]; then
		apt-get update -qq >/dev/null 2>&1 || true
		sig="$(apt_sig) ${PHYLLO_GUEST_KERNEL_PKG:-}"
		resolved=$(resolve_kernel)
	fi
	[[ -n "$resolved" ]] || die "cannot find the kernel package behind linux-image-amd64"
	printf '%s\n%s\n' "$sig" "$resolved" >"$OUT.apt"
fi
read -r kpkg kver <<<"$resolved"
[[ -n "$kpkg" && -n "$kver" ]] || die "bad kernel package answer: $resolved"
bbver=$(dpkg-query -W -f='${Version}' busybox-static)

key="kernel $kpkg $kver
busybox-static $bbver
scripts $(cd "$HERE" && cat build.sh lib.sh init phyllo-vsock.c phyllo-draw.c phyllo-evdev.c | sha256sum | cut -d' ' -f1)"

if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$key" &&
	-f "$OUT/initramfs.cpio.gz" && -f "$OUT/vmlinux" ]]; then
	exit 0
fi
echo "guest: building $OUT from $kpkg $kver" >&2

# 1. The package, cached.
mkdir -p "$DEBS"
deb=$DEBS/${kpkg}_${kver//:/%3a}_amd64.deb
if [[ ! -f "$deb" ]]; then
	download() { (cd "$DEBS" && apt-get download -qq "$kpkg=$kver" >/dev/null 2>&1); }
	download || { apt-get update -qq >/dev/null 2>&1 && download; } ||
		die "apt-get download $kpkg=$kver failed"
	[[ -f "$deb" ]] || die "apt-get download did not produce $deb"
	# Older kernels of the same series (6.1, 6.12, ...) are of no more use.
	series=$(sed -E 's/^(linux-image-[0-9]+[.][0-9]+)[^0-9].*/\1/' <<<"$kpkg")
	find "$DEBS" -maxdepth 1 -name "${series}[.+-]*.deb" ! -path "$deb" -delete
fi

NEW=$OUT.new
rm -rf "$NEW"
mkdir -p "$NEW"
trap 'rm -rf "$NEW"' EXIT

# 2. Unpack; keep the kernel and the modules.
dpkg-deb -x "$deb" "$NEW/pkg"
vmlinuz=$(find "$NEW/pkg/boot" -name 'vmlinuz-*' | head -n 1)
[[ -n "$vmlinuz" ]] || die "no /boot/vmlinuz-* in $deb"
ver=${vmlinuz##*/vmlinuz-}
mv "$vmlinuz" "$NEW/vmlinuz"
[[ -f "$NEW/pkg/boot/config-$ver" ]] && mv "$NEW/pkg/boot/config-$ver" "$NEW/config"
echo "$ver" >"$NEW/kernel-version"
mkdir -p "$NEW/modules/lib/modules"
for d in "$NEW/pkg/lib/modules/$ver" "$NEW/pkg/usr/lib/modules/$ver"; do
	[[ -d "$d" ]] && mv "$d" "$NEW/modules/lib/modules/$ver"
done
[[ -d "$NEW/modules/lib/modules/$ver" ]] || die "no module tree for $ver in $deb"
rm -rf "$NEW/pkg"
# Debian's package ships no modules.dep: its postinst runs depmod.
depmod -b "$NEW/modules" "$ver"

# 3. vmlinux: decompress the payload of the bzImage (like the kernel's
# scripts/extract-vmlinux). The boot protocol header says where it is:
# setup_sects at 0x1f1, payload_offset at 0x248, payload_length at 0x24c.
u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
is_elf() { [[ -s "$1" && "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]]; }
# try_payload BZIMAGE OFFSET LENGTH OUT: decompress by the magic found there.
try_payload() {
	local in=$1 off=$2 len=$3 out=$4 magic
	magic=$(tail -c +"$((off + 1))" "$in" | head -c 6 | od -An -tx1 | tr -d ' ')
	local dec
	case "$magic" in
	1f8b*) dec=(gzip -dc) ;;
	fd377a585a00) dec=(xz -dc --single-stream) ;;
	28b52ffd*) dec=(zstd -qdc) ;;
	5d0000*) dec=(xz -dc --format=lzma) ;;
	425a68*) dec=(bzip2 -dc) ;;
	*) return 1 ;;
	esac
	# Errors are expected (a 4-byte size trails most payloads): judge by
	# the result.
	tail -c +"$((off + 1))" "$in" | head -c "$len" | "${dec[@]}" >"$out" 2>/dev/null || true
	is_elf "$out"
}
extract_vmlinux() {
	local in=$1 out=$2 sects off len start pos
	sects=$(u8 "$in" $((0x1f1)))
	((sects == 0)) && sects=4
	off=$(u32 "$in" $((0x248)))
	len=$(u32 "$in" $((0x24c)))
	start=$(((sects + 1) * 512 + off))
	if ((len > 0)) && try_payload "$in" "$start" "$len" "$out"; then
		return 0
	fi
	# Fallback: scan for every known magic, as extract-vmlinux does.
	local size
	size=$(stat -c %s "$in")
	while IFS=: read -r pos _; do
		try_payload "$in" "$pos" "$((size - pos))" "$out" && return 0
	done < <(LC_ALL=C grep -aboP '\x1f\x8b\x08|\xfd7zXZ\x00|\x28\xb5\x2f\xfd|\x5d\x00\x00\x00' "$in")
	return 1
}
extract_vmlinux "$NEW/vmlinuz" "$NEW/vmlinux" || die "cannot extract vmlinux from $NEW/vmlinuz"
readelf -n "$NEW/vmlinux" >"$NEW/vmlinux.notes"
# The PVH entry point: an ELF note of owner "Xen", type 18
# (XEN_ELFNOTE_PHYS32_ENTRY).
grep -Eq '^ *Xen[[:space:]]+0x[0-9a-f]+[[:space:]]+(Unknown note type: \(0x00000012\)|.*PHYS32)' "$NEW/vmlinux.notes" ||
	die "vmlinux has no Xen PVH note (type 18)"

# 4. The initramfs.
R=$NEW/initramfs
mkdir -p "$R"/{dev,proc,sys,tmp,mnt,root,etc,lib/modules}
guest_stage_busybox "$R"
# Tools busybox lacks, from our own sources (static: the guest has no libc).
gcc -static -s -Os -std=gnu11 -Wall -Wextra -Werror -o "$R/bin/phyllo-vsock" \
	"$HERE/phyllo-vsock.c" || die "cannot build phyllo-vsock"
gcc -static -s -Os -std=gnu11 -Wall -Wextra -Werror -I/usr/include/libdrm -o "$R/bin/phyllo-draw" \
	"$HERE/phyllo-draw.c" || die "cannot build phyllo-draw"
gcc -static -s -Os -std=gnu11 -Wall -Wextra -Werror -o "$R/bin/phyllo-evdev" \
	"$HERE/phyllo-evdev.c" || die "cannot build phyllo-evdev"
guest_stage_modules "$NEW/modules/lib/modules/$ver" "$R/lib/modules" "${GUEST_MODULES[@]}"
guest_stage_modules "$NEW/modules/lib/modules/$ver" "$R/lib/modules/display" "${DISPLAY_MODULES[@]}"
guest_stage_modules "$NEW/modules/lib/modules/$ver" "$R/lib/modules/input" "${INPUT_MODULES[@]}"
install -m 0755 "$HERE/init" "$R/init"
# The kernel opens /dev/console for init before anything is mounted.
mknod -m 600 "$R/dev/console" c 5 1 2>/dev/null || true
guest_pack_cpio "$R" "$NEW/initramfs.cpio.gz"
rm -rf "$R"

# 5. Swap in the new build, then stamp it.
rm -rf "$OUT"
mv "$NEW" "$OUT"
trap - EXIT
printf '%s\n' "$key" >"$OUT/.stamp"
echo "guest: $ver ready in $OUT ($(du -h "$OUT/initramfs.cpio.gz" | cut -f1) initramfs)" >&2
