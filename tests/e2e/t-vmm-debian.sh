#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A whole Debian 12 system as users run one (tests/guest/build-debian.sh):
# its own kernel and initramfs-tools initrd find the root file system by
# label on virtio-blk, in a qcow2 overlay over a compressed qcow2 base (as
# distributions ship cloud images); systemd and udev start every unit,
# systemd-networkd gets 10.0.2.15 by DHCP from user-mode networking, curl
# downloads a file from the box's loopback through 10.0.2.2 (checksum must
# match), /dev/hwrng gives bytes, and the system powers off through ACPI
# (phyllo-vmm exits 0). Afterwards qemu-img check finds the overlay clean
# and the base untouched.
# guest: debian
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
D=${PHYLLO_DEBIAN:-$PHYLLO_BUILD/debian}
[[ -f "$D/rootfs.qcow2" ]] || fail "no Debian system in $D (tests/guest/build-debian.sh builds it)"
log=$(test_log boot)

serve_blob 127.0.0.1
want_md5=$BLOB_MD5 port=$HTTP_PORT
trap 'kill $HTTP_PID 2>/dev/null' EXIT

base_mtime=$(stat -c %Y "$D/rootfs.qcow2")
ov=$T/overlay.qcow2
qemu-img create -q -f qcow2 -b "$D/rootfs.qcow2" -F qcow2 "$ov" || fail "qemu-img create"

rc=0
run_vmm 500 "$log" -v --kernel "$D/vmlinuz" --initramfs "$D/initrd.img" \
	--cmdline "console=ttyS0 root=LABEL=root rw nopvspin phyllo.url=http://10.0.2.2:$port/blob" \
	--cpus boot=2 --memory size=1G --disk "path=$ov" --net user=on \
	--rng src=/dev/urandom </dev/null || rc=$?
[[ $rc -eq 0 ]] || fail_log "$log" "phyllo-vmm exited $rc (expected 0 after the system powered off)"
# The report lines (kernel messages may share a line with them).
out=$T/serial.txt
tr -d '\r' <"$log" >"$out"
expect_line "$out" 'PHYLLO CHECK-DONE'
expect_line "$out" "PHYLLO KERNEL $(cat "$D/kernel-version")\$"
expect_line "$out" 'PHYLLO ROOT /dev/vda$'
expect_line "$out" 'PHYLLO CPUS 2$'
expect_line "$out" 'PHYLLO IP 10\.0\.2\.15/24$'
expect_line "$out" "PHYLLO DOWNLOAD $want_md5\$"
expect_line "$out" 'PHYLLO HWRNG [0-9a-f]{16}$'
failed=$(grep 'PHYLLO FAILED-UNIT' "$out" || true)
[[ -z "$failed" ]] || fail_log "$log" "systemd units failed: $failed"
expect_line "$out" 'Reached target.*Multi-User System'
expect_line "$out" 'guest powered off'

qemu-img check "$ov" >"$T/check.txt" 2>&1 || fail "qemu-img check: $(cat "$T/check.txt")"
grep -q 'No errors were found' "$T/check.txt" || fail "qemu-img check: $(cat "$T/check.txt")"
[[ "$(stat -c %Y "$D/rootfs.qcow2")" == "$base_mtime" ]] || fail "the base image was written"
echo "ok: Debian $(cat "$D/kernel-version") booted to multi-user, network and download fine"
