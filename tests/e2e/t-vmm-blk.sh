#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-blk: the guest mounts ext4 on a raw image, writes, powers off; a
# second boot finds the writes. The same through a qcow2 overlay on that
# raw base: qemu-img check is clean, the base is unchanged, the overlay
# holds the writes. A read-only disk refuses writes and stays unchanged;
# an image in use is locked against a second VMM.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
raw=$T/base.raw

# put_file IMAGE NAME CONTENT: write a file into the ext4 image's root.
put_file() {
	printf '%s\n' "$3" >"$T/put.tmp"
	debugfs -w -R "write $T/put.tmp $2" "$1" >/dev/null 2>&1 || fail "debugfs write $2"
}
# boot_disk LOG DISKARG SCRIPT [DISKARG...]: boot with the first disk
# mounted, run /mnt/SCRIPT; more disks follow it (vdb, ...).
boot_disk() {
	local log=$1 disk=$2 script=$3
	shift 3
	run_vmm 240 "$log" -v --kernel "$PHYLLO_GUEST/vmlinuz" \
		--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M --cpus boot=2 \
		--disk "$disk" "$@" \
		--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/$script" \
		</dev/null
}

truncate -s 64M "$raw"
mkfs.ext4 -q -F "$raw" || fail "mkfs.ext4"
put_file "$raw" write.sh 'echo hello-from-guest >/mnt/written.txt
dd if=/dev/urandom of=/mnt/blob bs=1k count=2048 2>/dev/null
md5sum /mnt/blob >/mnt/blob.md5
echo "PHYLLO WROTE $(cat /mnt/blob.md5)"'
put_file "$raw" check.sh 'cat /mnt/written.txt
md5sum -c /mnt/blob.md5 && echo PHYLLO CHECK-OK
[ -e /mnt/overlay.txt ] && echo PHYLLO OVERLAY-FILE-PRESENT
echo "PHYLLO DISK-SERIAL $(cat /sys/block/vda/serial 2>/dev/null)"
echo "PHYLLO DISK-QUEUES $(ls /sys/block/vda/mq | wc -l)"
exit 0'
put_file "$raw" overlay.sh 'echo overlay >/mnt/overlay.txt; echo PHYLLO OVERLAY-WROTE'
put_file "$raw" check-ro.sh 'sh /mnt/check.sh
if dd if=/dev/zero of=/dev/vdb bs=4k count=1 seek=100 conv=fsync 2>/dev/null; then echo PHYLLO RO-WRITE-SUCCEEDED; else echo PHYLLO RO-WRITE-FAILED; fi'

# 1. raw: write, then read back in a second boot.
boot_disk "$(test_log raw-write)" "path=$raw" write.sh || fail_log "$(test_log raw-write)" "raw write boot exited $?"
expect_line "$(test_log raw-write)" '^PHYLLO MOUNTED /dev/vda'
expect_line "$(test_log raw-write)" '^PHYLLO WROTE '
expect_line "$(test_log raw-write)" '^PHYLLO PCI .*=1af4:1042'
expect_line "$(test_log raw-write)" 'virtio-blk0: io_uring with'
# The check boot takes the synchronous path (no io_uring), the write boot
# took io_uring: each must read what the other wrote.
PHYLLO_NO_IO_URING=1 boot_disk "$(test_log raw-check)" "path=$raw" check.sh ||
	fail_log "$(test_log raw-check)" "raw check boot exited $?"
expect_line "$(test_log raw-check)" '^PHYLLO CHECK-OK'
[ "$(debugfs -R 'cat /written.txt' "$raw" 2>/dev/null)" = hello-from-guest ] ||
	fail "the host does not see the guest's file in the raw image"

# 2. qcow2 overlay over the raw base.
base_hash=$(sha256sum <"$raw")
ov=$T/overlay.qcow2
qemu-img create -q -f qcow2 -b "$raw" -F raw "$ov" || fail "qemu-img create"
boot_disk "$(test_log qcow2-write)" "path=$ov" overlay.sh || fail_log "$(test_log qcow2-write)" "overlay boot exited $?"
expect_line "$(test_log qcow2-write)" '^PHYLLO OVERLAY-WROTE'
qemu-img check "$ov" >"$T/check.txt" 2>&1 || fail "qemu-img check: $(cat "$T/check.txt")"
grep -q 'No errors were found' "$T/check.txt" || fail "qemu-img check: $(cat "$T/check.txt")"
[ "$(sha256sum <"$raw")" = "$base_hash" ] || fail "the base image changed under the overlay"
# The same boot also has the raw base as a read-only second disk (vdb),
# opened beside the overlay that reads it as its backing file: the
# guest's write to it fails, the image is unchanged.
boot_disk "$(test_log qcow2-check)" "path=$ov,image_type=qcow2,num_queues=2,serial=phyllo-disk-7" \
	check-ro.sh --disk "path=$raw,readonly=on" || fail_log "$(test_log qcow2-check)" "overlay check boot exited $?"
expect_line "$(test_log qcow2-check)" '^PHYLLO DISK-SERIAL phyllo-disk-7'
expect_line "$(test_log qcow2-check)" '^PHYLLO DISK-QUEUES 2'
expect_line "$(test_log qcow2-check)" '^PHYLLO CHECK-OK'
expect_line "$(test_log qcow2-check)" '^PHYLLO OVERLAY-FILE-PRESENT'
qemu-img convert -O raw "$ov" "$T/flat.raw"
[ "$(debugfs -R 'cat /overlay.txt' "$T/flat.raw" 2>/dev/null)" = overlay ] ||
	fail "the overlay does not hold the guest's write"

expect_line "$(test_log qcow2-check)" '^PHYLLO RO-WRITE-FAILED'
[ "$(sha256sum <"$raw")" = "$base_hash" ] || fail "the read-only image changed"

# 3. An image in use is locked: a second VMM may not open it for writing.
run_vmm 240 "$(test_log holder)" --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=128M --disk "path=$raw" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=counter" </dev/null &
holder=$!
for _ in $(seq 1 240); do
	grep -q '^PHYLLO COUNT 1' "$(test_log holder)" 2>/dev/null && break
	sleep 0.5
done
timeout 60 "$PHYLLO_VMM" --kernel "$PHYLLO_GUEST/vmlinuz" --memory size=128M \
	--disk "path=$raw" </dev/null >"$T/second.out" 2>&1
status=$?
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
[ "$status" -eq 1 ] || fail "a second VMM on a locked image exited $status: $(cat "$T/second.out")"
grep -q 'locked' "$T/second.out" || fail "no lock message: $(cat "$T/second.out")"
[ "$(grep -c . "$T/second.out")" -eq 1 ] || fail "expected one line: $(cat "$T/second.out")"
echo "ok: $(cat "$T/second.out")"
