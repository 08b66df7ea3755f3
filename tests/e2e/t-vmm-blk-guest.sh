#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a hostile guest can do through its disks, and must not:
#  1. Turn its raw disk into a qcow2 image naming a host file as backing
#     file (a qcow2 file written over the disk, its first sector last) and
#     reboot, to read that file as its disk. With the format guessed, the
#     first-sector write fails and the disk stays raw; with image_type=raw
#     the write succeeds and the disk still opens raw. Either way the guest
#     never sees the host file.
#  2. Hang the VMM with discards on qcow2: fstrim and blkdiscard while
#     heavy writes are in flight, on a qcow2 overlay and a qcow2 disk. The
#     API answers vm.info within a second throughout, SIGTERM mid-I/O ends
#     the VMM cleanly (status 0), and qemu-img check finds the images clean.
# timeout: 900
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP

# put_file IMAGE NAME FILE: copy FILE into the ext4 image's root.
put_file() {
	debugfs -w -R "write $3 $2" "$1" >/dev/null 2>&1 || fail "debugfs write $2"
}

# --- 1. a qcow2 header over a raw disk ---------------------------------------
secret=$T/host-secret
for _ in $(seq 1 64); do printf 'PHYLLO-HOST-SECRET-%s\n' "$RANDOM"; done >"$secret"
chmod 600 "$secret"
# The attack image: a qcow2 file whose backing file is the host's secret.
qemu-img create -q -f qcow2 -b "$secret" -F raw "$T/evil.qcow2" 1M || fail "qemu-img create evil"
[ "$(stat -c %s "$T/evil.qcow2")" -gt 1024 ] || fail "evil.qcow2 is too small"
cat >"$T/evil.sh" <<'SCRIPT'
if [ ! -e /mnt/stage1 ]; then
	echo 1 >/mnt/stage1
	# Everything but the first sector first, then the header sector.
	if dd if=/mnt/evil.qcow2 of=/dev/vdb bs=512 skip=1 seek=1 conv=fsync 2>/dev/null; then
		echo "PHYLLO TAIL-WRITE-OK"
	else
		echo "PHYLLO TAIL-WRITE-FAILED"
	fi
	if dd if=/mnt/evil.qcow2 of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; then
		echo "PHYLLO HEAD-WRITE-OK"
	else
		echo "PHYLLO HEAD-WRITE-FAILED"
	fi
	umount /mnt
	sync
	echo "PHYLLO REBOOTING"
	reboot -f
	sleep 60
fi
echo "PHYLLO SECOND-BOOT"
if dd if=/dev/vdb bs=65536 count=4 2>/dev/null | grep -q 'PHYLLO-HOST-SECRET'; then
	echo "PHYLLO SAW-HOST-FILE"
else
	echo "PHYLLO NO-HOST-FILE"
fi
echo "PHYLLO VDB-MAGIC $(dd if=/dev/vdb bs=4 count=1 2>/dev/null | od -An -tx1 | tr -d ' ')"
SCRIPT

# evil_boot NAME VICTIM_DISK_ARG: the two boots; the log is test_log NAME.
evil_boot() {
	local log sys=$T/sys-$1.raw
	log=$(test_log "$1")
	truncate -s 32M "$sys"
	mkfs.ext4 -q -F "$sys" || fail "mkfs.ext4"
	put_file "$sys" evil.sh "$T/evil.sh"
	put_file "$sys" evil.qcow2 "$T/evil.qcow2"
	run_vmm 300 "$log" -v --kernel "$PHYLLO_GUEST/vmlinuz" \
		--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M --cpus boot=1 \
		--disk "path=$sys,image_type=raw" --disk "$2" \
		--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/evil.sh" \
		</dev/null || fail_log "$log" "phyllo-vmm exited $?"
	expect_line "$log" '^PHYLLO TAIL-WRITE-OK'
	expect_line "$log" '^PHYLLO REBOOTING'
	expect_line "$log" 'guest reboot: booting again'
	expect_line "$log" '^PHYLLO SECOND-BOOT'
	expect_line "$log" '^PHYLLO NO-HOST-FILE'
	if grep -q 'PHYLLO SAW-HOST-FILE' "$log"; then
		fail_log "$log" "the guest read the host file through its disk"
	fi
}

victim=$T/victim.raw
truncate -s 16M "$victim"
evil_boot guessed "path=$victim"
log=$(test_log guessed)
expect_line "$log" '^PHYLLO HEAD-WRITE-FAILED'
expect_line "$log" "$victim: no format given and none recognised: raw, guessed"
expect_line "$log" "$victim: refused a guest write that would make the image's first sector look like qcow2"
expect_line "$log" '^PHYLLO VDB-MAGIC 00000000'
[ "$(head -c 4 "$victim" | od -An -tx1 | tr -d ' ')" = 00000000 ] ||
	fail "the guessed-raw image's first sector changed on the host"
echo "ok: guessed raw: the header write failed, the disk stayed raw, no host file seen"

victim2=$T/victim2.raw
truncate -s 16M "$victim2"
evil_boot named "path=$victim2,image_type=raw"
log=$(test_log named)
expect_line "$log" '^PHYLLO HEAD-WRITE-OK'
expect_line "$log" '^PHYLLO VDB-MAGIC 514649fb'
[ "$(head -c 4 "$victim2" | od -An -tx1 | tr -d ' ')" = 514649fb ] ||
	fail "the named-raw image does not hold the guest's header"
echo "ok: image_type=raw: the guest wrote its header, the disk reopened raw, no host file seen"

# --- 2. discards on qcow2 under load -------------------------------------------
base=$T/trim-base.raw
truncate -s 96M "$base"
mkfs.ext4 -q -F "$base" || fail "mkfs.ext4"
cat >"$T/trim.sh" <<'SCRIPT'
echo "PHYLLO IO-START"
# Heavy writes, in the background, counted in /tmp: three direct writers
# on vdb (many requests in flight at once, in place on clusters already
# allocated), one through ext4 on vda.
for w in 1 2 3; do
	( i=0; while :; do
		dd if=/dev/zero of=/dev/vdb bs=64k count=16 oflag=direct \
			seek=$(((i * 7 + w * 13) % 60 * 16)) 2>/dev/null
		i=$((i + 1)); echo $i >/tmp/w$w; done ) &
done
( i=0; while :; do
	dd if=/dev/zero of=/mnt/f$((i % 4)) bs=64k count=32 conv=fsync 2>/dev/null
	rm -f /mnt/f$(((i + 2) % 4)); i=$((i + 1)); echo $i >/tmp/w4; done ) &
# Discards meanwhile (busybox's blkdiscard has no -z), for 40 s: the file system's free
# space, ranges of vdb (unmapping clusters the writers then allocate again).
end=$(($(cut -d. -f1 /proc/uptime) + 40))
j=0
while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
	fstrim /mnt >/dev/null 2>&1 || echo "PHYLLO FSTRIM-FAILED $j"
	blkdiscard -o $((j % 7 * 8388608)) -l 4194304 /dev/vdb 2>/dev/null ||
		echo "PHYLLO BLKDISCARD-FAILED $j"
	blkdiscard -o $((j % 5 * 8388608 + 4194304)) -l 1048576 /dev/vdb 2>/dev/null ||
		echo "PHYLLO BLKDISCARD-FAILED small $j"
	j=$((j + 1))
done
echo "PHYLLO TRIMS-DONE $j rounds, $(cat /tmp/w1 /tmp/w2 /tmp/w3 /tmp/w4 | tr '\n' ' ')writes"
sleep 3600
SCRIPT
put_file "$base" trim.sh "$T/trim.sh"
ov=$T/trim-overlay.qcow2
data=$T/trim-data.qcow2
qemu-img create -q -f qcow2 -b "$base" -F raw "$ov" || fail "qemu-img create overlay"
qemu-img create -q -f qcow2 -o cluster_size=65536 "$data" 64M || fail "qemu-img create data"
# Allocated from the start, so the writers' requests go to the io_uring.
qemu-io -f qcow2 -c 'write -P 0x5a 0 64M' "$data" >/dev/null || fail "qemu-io write data"
SOCK=$T/api.sock
log=$(test_log trim)
"$PHYLLO_VMM" -v --api-socket "$SOCK" --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M --cpus boot=2 \
	--disk "path=$ov" --disk "path=$data" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/trim.sh" \
	</dev/null >"$log" 2>&1 &
vmm=$!
trap 'kill -9 $vmm 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT
wait_socket "$SOCK" 120 "$vmm" || fail_log "$log" "no API socket at $SOCK"
wait_line "$log" '^PHYLLO IO-START' 240 "$vmm" || fail_log "$log" "the guest did not start its I/O"
# Poll vm.info while the guest writes and discards: every answer within
# 1 s by curl's own clock (forking curl in the nested box takes a while
# itself, which is not the VMM's time).
polls=0 slowest=0
end=$((SECONDS + 300))
while ((SECONDS < end)); do
	out=$(curl -s --max-time 1 --unix-socket "$SOCK" -o "$T/info" \
		-w '%{http_code} %{time_total}' http://localhost/api/v1/vm.info) || out="curl-exit-$? $out"
	polls=$((polls + 1))
	[[ "$out" == "200 "* ]] || fail_log "$log" "vm.info poll $polls: '$out' (no answer within 1 s)"
	t=${out#200 }
	slowest=$(awk -v a="$t" -v b="$slowest" 'BEGIN { print (a + 0 > b + 0) ? a : b }')
	grep -q '"state":"Running"' "$T/info" || fail_log "$log" "vm.info: $(cat "$T/info")"
	grep -q '^PHYLLO TRIMS-DONE' "$log" && break
	kill -0 "$vmm" 2>/dev/null || fail_log "$log" "phyllo-vmm died"
	sleep 0.2
done
grep -q '^PHYLLO TRIMS-DONE' "$log" || fail_log "$log" "the guest's discards did not finish within 300 s"
if grep -Eq '^PHYLLO (FSTRIM|BLKDISCARD)-FAILED' "$log"; then
	fail_log "$log" "a discard failed in the guest: $(grep -m1 -E 'FAILED' "$log")"
fi
[ "$polls" -ge 10 ] || fail_log "$log" "only $polls vm.info polls during the discards"
echo "ok: $polls vm.info polls during $(grep -m1 '^PHYLLO TRIMS-DONE' "$log" | cut -d' ' -f3-), slowest ${slowest} s"
# SIGTERM while the writers may still run: a clean end.
kill -TERM "$vmm"
for _ in $(seq 1 100); do kill -0 "$vmm" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$vmm" 2>/dev/null; then
	fail_log "$log" "phyllo-vmm still runs 20 s after SIGTERM"
fi
wait "$vmm"
status=$?
trap 'rm -rf "$PHYLLO_TMP"' EXIT
[ "$status" -eq 0 ] || fail_log "$log" "phyllo-vmm exited $status after SIGTERM"
for img in "$ov" "$data"; do
	qemu-img check "$img" >"$T/check.txt" 2>&1 || fail "qemu-img check $img: $(cat "$T/check.txt")"
	grep -q 'No errors were found' "$T/check.txt" || fail "qemu-img check $img: $(cat "$T/check.txt")"
	if grep -q 'leaked' "$T/check.txt"; then fail "qemu-img check $img: $(cat "$T/check.txt")"; fi
done
echo "ok: SIGTERM ended the VMM (status 0); qemu-img check clean on both images"
