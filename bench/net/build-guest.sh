#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Builds what bench/net/run.py boots: a guest initramfs that runs iperf3
# against a server on the host, through its virtio-net.
#
#   bench/net/build-guest.sh [OUTDIR]     (default: build/bench-net)
#
# Why a separate guest: the test guest (tests/guest/) has no iperf3, and
# iperf3 is the tool people compare network numbers with. Debian's iperf3
# is dynamically linked: the host's binary is staged with every library
# ldd lists for it (guest_stage_dynamic), then checked by running
# `iperf3 --version` in a chroot of the tree (when we are root).
#
# Output: OUTDIR/initramfs.cpio.gz: busybox-static, the virtio-net modules
# of the test guest's kernel (build/guest, built here by tests/guest/build.sh
# when needed), iperf3 and its libraries, bench/net/init. Cached: OUTDIR/.stamp
# holds the test guest's stamp, iperf3's version, a signature of the staged
# files and this script's own; a second run with nothing changed exits.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=../../tests/guest/lib.sh
. "$TOP/tests/guest/lib.sh"

OUT=${1:-$TOP/build/bench-net}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
GUEST=$TOP/build/guest

# virtio-pci for phyllo-vmm and QEMU's pc machine, then the NIC.
BENCH_MODULES=(
	virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_net
)

die() {
	echo "bench/net/build-guest.sh: $*" >&2
	exit 1
}

ensure_pkgs iperf3 busybox-static cpio kmod gzip ||
	die "cannot install the tools it needs (iperf3 runs on the host and in the guest)"
"$TOP/tests/guest/build.sh" "$GUEST" || die "tests/guest/build.sh failed"
KVER=$(cat "$GUEST/kernel-version")

exec 9>"$OUT/.lock"
flock 9

IPERF=$(command -v iperf3) || die "no iperf3 on the host"
IPERF=$(readlink -f "$IPERF")
sig=$(guest_dynamic_sig "$IPERF") || die "ldd fails on $IPERF"
key="guest $(tr '\n' ' ' <"$GUEST/.stamp")
iperf3 $(dpkg-query -W -f='${Version}' iperf3) $sig
busybox-static $(dpkg-query -W -f='${Version}' busybox-static)
scripts $(cd "$HERE" && cat build-guest.sh init "$TOP/tests/guest/lib.sh" | sha256sum | cut -d' ' -f1)"
if [[ -f "$OUT/.stamp" && "$(cat "$OUT/.stamp")" == "$key" && -f "$OUT/initramfs.cpio.gz" ]]; then
	exit 0
fi
echo "bench-net: building $OUT/initramfs.cpio.gz (iperf3 $(dpkg-query -W -f='${Version}' iperf3), kernel $KVER)" >&2

R=$OUT/stage
rm -rf "$R"
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{dev,proc,sys,tmp,root,etc,lib/modules}
guest_stage_busybox "$R"
guest_stage_modules "$GUEST/modules/lib/modules/$KVER" "$R/lib/modules" "${BENCH_MODULES[@]}"
guest_stage_dynamic "$R" "$IPERF" || die "staging iperf3 failed"
[[ "$IPERF" == /usr/bin/iperf3 ]] || ln -sf "$IPERF" "$R/usr/bin/iperf3"
install -m 0755 "$HERE/init" "$R/init"
mknod -m 600 "$R/dev/console" c 5 1 2>/dev/null || true
if ((EUID == 0)); then
	v=$(chroot "$R" /usr/bin/iperf3 --version 2>&1) || die "iperf3 does not run in the staged tree: $v"
fi
guest_pack_cpio "$R" "$OUT/initramfs.cpio.gz"
rm -rf "$R"
trap - EXIT
printf '%s\n' "$key" >"$OUT/.stamp"
echo "bench-net: ready: $OUT/initramfs.cpio.gz ($(du -h "$OUT/initramfs.cpio.gz" | cut -f1))" >&2
