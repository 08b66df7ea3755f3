#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds what bench/blk/run.py boots: a guest initramfs that runs fio
# against its virtio-blk disk, and the disk image itself.
#
#   bench/blk/build-guest.sh [OUTDIR]     (default: build/bench-blk)
#
# Why a separate guest: the test guest (tests/guest/) has no fio, and fio is
# the tool people compare virtio-blk numbers with. Debian's fio is dynamically
# linked against about 60 libraries (ceph, glusterfs, rdma, pmem engines), so
# the binary is taken from the host's fio package together with everything
# `ldd` lists for it and the dynamic loader, at the same paths; ldconfig
# writes an ld.so.cache for that tree. Before packing, the tree is checked by
# running `fio --version` in a chroot of it (when we are root).
#
# Output in OUTDIR:
#   initramfs.cpio.gz   busybox-static + the virtio modules of the test guest's
#                       kernel (build/guest, built here by tests/guest/build.sh
#                       when needed) + fio and its libraries + bench/blk/init
#   disk.img            1 GiB raw image, fallocate'd and then filled with
#                       written zeros, so that no run reads unwritten extents
#                       and every VMM finds the same allocated file
#
# Cached like tests/guest/build.sh: OUTDIR/.stamp holds the test guest's
# stamp, fio's version, a signature of the staged libraries and this
# script's own files; a second run with nothing changed only checks and
# exits. The disk image is made once (delete it to get a fresh one;
# BENCH_BLK_DISK_MIB sets its size). Run it on the host, before
# `tools/kvmbox -- bench/blk/run.py`: inside the box the repository is a 9p
# share, where fallocate does not work.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=../../tests/guest/lib.sh
. "$TOP/tests/guest/lib.sh"

OUT=${1:-$TOP/build/bench-blk}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
GUEST=$TOP/build/guest
DISK_MIB=${BENCH_BLK_DISK_MIB:-1024}

# The modules the bench guest loads, in this order (modules.dep adds their
# dependencies): virtio-pci for phyllo-vmm, QEMU pc and microvm,pcie=on;
# virtio-mmio for plain microvm.
BENCH_MODULES=(
	virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	virtio_mmio virtio_blk
)

die() {
	echo "bench/blk/build-guest.sh: $*" >&2
	exit 1
}

ensure_pkgs fio busybox-static cpio kmod gzip ||
	die "cannot install the tools it needs (fio is installed on the host: the guest gets its binary)"

# The kernel and its modules.
"$TOP/tests/guest/build.sh" "$GUEST" || die "tests/guest/build.sh failed"
KVER=$(cat "$GUEST/kernel-version")
MODDIR=$GUEST/modules/lib/modules/$KVER

# One build at a time.
exec 9>"$OUT/.lock"
flock 9

# The disk image: allocated, then written once, so reads hit written blocks.
disk=$OUT/disk.img
if [[ ! -f "$disk" ]]; then
	echo "bench-blk: making $disk ($DISK_MIB MiB)" >&2
	rm -f "$disk.new"
	fallocate -l "${DISK_MIB}M" "$disk.new" || die "fallocate $disk.new failed"
	dd if=/dev/zero of="$disk.new" bs=1M count="$DISK_MIB" conv=notrunc,fsync status=none ||
		die "filling $disk.new failed"
	mv "$disk.new" "$disk"
fi

# fio and the shared objects it needs (staged below).
FIO=$(command -v fio) || die "no fio on the host"
FIO=$(readlink -f "$FIO")
libsig=$(guest_dynamic_sig "$FIO") || die "ldd fails on $FIO"

key="guest $(tr '\n' ' ' <"$GUEST/.stamp")
fio $(dpkg-query -W -f='${Version}' fio) $libsig
busybox-static $(dpkg-query -W -f='${Version}' busybox-static)
scripts $(cd "$HERE" && cat build-guest.sh init "$TOP/tests/guest/lib.sh" | sha256sum | cut -d' ' -f1)"

if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$key" && -f "$OUT/initramfs.cpio.gz" ]]; then
	exit 0
fi
echo "bench-blk: building $OUT/initramfs.cpio.gz (fio $(dpkg-query -W -f='${Version}' fio), kernel $KVER)" >&2

R=$OUT/stage
rm -rf "$R"
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{dev,proc,sys,tmp,mnt,root,etc,lib/modules}
guest_stage_busybox "$R"
guest_stage_modules "$MODDIR" "$R/lib/modules" "${BENCH_MODULES[@]}"

# fio and its libraries at the paths ldd found them, with the loader's cache.
guest_stage_dynamic "$R" "$FIO" || die "staging fio failed"
[[ "$FIO" == /usr/bin/fio ]] || ln -sf "$FIO" "$R/usr/bin/fio"

install -m 0755 "$HERE/init" "$R/init"
mknod -m 600 "$R/dev/console" c 5 1 2>/dev/null || true

# Does the staged fio start with only the staged libraries?
if ((EUID == 0)); then
	v=$(chroot "$R" /usr/bin/fio --version 2>&1) || die "fio does not run in the staged tree: $v"
fi

guest_pack_cpio "$R" "$OUT/initramfs.cpio.gz"
rm -rf "$R"
trap - EXIT
printf '%s\n' "$key" >"$OUT/.stamp"
echo "bench-blk: ready: $OUT/initramfs.cpio.gz ($(du -h "$OUT/initramfs.cpio.gz" | cut -f1))" >&2
