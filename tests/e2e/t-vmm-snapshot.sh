#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Snapshot and restore, Cloud Hypervisor style: a guest counts every 200 ms
# and logs each count to an ext4 disk. Paused, its counter stops; snapshot
# to file:///DIR; the VMM is killed with SIGKILL; a new phyllo-vmm
# --restore's it (Paused) and vm.resume continues the count where it
# stopped, with no second boot; the guest's later writes land on the disk
# and the file system stays clean. A damaged snapshot is refused with one
# line naming the problem.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
SERIAL=$T/serial.out
disk=$T/disk.ext4
log=$(test_log first)
log2=$(test_log restored)

api() { # SOCK METHOD ENDPOINT [CURL ARGS...]: prints the HTTP status, body in $T/body
	local s=$1 m=$2 ep=$3
	shift 3
	curl -s --max-time 120 --unix-socket "$s" -X "$m" -o "$T/body" -w '%{http_code}' \
		"http://localhost/api/v1/$ep" "$@"
}
count_now() { tr -d '\r' <"$SERIAL" | grep -a '^PHYLLO COUNT' | tail -n 1 | awk '{print $3}'; }

truncate -s 32M "$disk"
mkfs.ext4 -q -F "$disk" || fail "mkfs.ext4"
# shellcheck disable=SC2016 # the guest's shell expands these
printf '%s\n' 'i=0
while [ $i -le 60 ]; do
	read -r up _ </proc/uptime
	echo "PHYLLO COUNT $i UPTIME $up"
	echo "$i" >>/mnt/counts
	[ $((i % 5)) -eq 0 ] && sync
	i=$((i + 1))
	usleep 200000
done
sync
echo "PHYLLO COUNT-DONE"' >"$T/count.sh"
debugfs -w -R "write $T/count.sh count.sh" "$disk" >/dev/null 2>&1 || fail "debugfs write"

"$PHYLLO_VMM" -v --api-socket "$T/api1.sock" --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --cpus boot=2 --memory size=256M \
	--disk "path=$disk" --serial "file=$SERIAL" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/count.sh" \
	</dev/null >"$log" 2>&1 &
vmm=$!
trap 'kill -9 $vmm 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT
wait_line "$SERIAL" '^PHYLLO COUNT 8 ' 240 "$vmm" || fail_log "$log" "the guest did not count"

code=$(api "$T/api1.sock" PUT vm.snapshot -d "{\"destination_url\": \"file://$T/snap\"}")
[ "$code" = 405 ] || fail "vm.snapshot of a running VM: HTTP $code, expected 405"
[ "$(api "$T/api1.sock" PUT vm.pause)" = 204 ] || fail_log "$log" "vm.pause: $(cat "$T/body")"
sleep 1
n1=$(count_now)
code=$(api "$T/api1.sock" PUT vm.snapshot -d "{\"destination_url\": \"file://$T/snap\"}")
[ "$code" = 204 ] || fail_log "$log" "vm.snapshot: HTTP $code $(cat "$T/body")"
[ "$(count_now)" = "$n1" ] || fail "the counter moved while paused"
kill -9 "$vmm"
wait "$vmm" 2>/dev/null
echo "ok: paused at count $n1, snapshot written, first VMM killed with SIGKILL"
ls -ls "$T/snap" | sed 's/^/# /'
ram_kb=$(du -k "$T/snap/memory" | cut -f1)
[ "$ram_kb" -lt $((256 * 1024)) ] || fail "the memory file is not sparse: $ram_kb KiB on disk for 256 MiB"
echo "ok: memory file uses $ram_kb KiB on disk for 256 MiB of RAM"

# A damaged snapshot is refused, in one line.
cp -r "$T/snap" "$T/bad"
printf 'XXXX' | dd of="$T/bad/state" bs=1 seek=200 conv=notrunc 2>/dev/null
"$PHYLLO_VMM" --restore "source_url=file://$T/bad" </dev/null >"$T/bad.out" 2>&1
status=$?
[ "$status" -eq 1 ] || fail "restoring a damaged snapshot exited $status: $(cat "$T/bad.out")"
[ "$(grep -c . "$T/bad.out")" -eq 1 ] || fail "expected one line: $(cat "$T/bad.out")"
echo "ok: damaged snapshot: $(cat "$T/bad.out")"

# Restore in a new process: Paused until vm.resume, then the count goes on.
"$PHYLLO_VMM" -v --api-socket "$T/api2.sock" --restore "source_url=file://$T/snap" \
	</dev/null >"$log2" 2>&1 &
vmm=$!
wait_socket "$T/api2.sock" 120 "$vmm" || fail_log "$log2" "no API socket after --restore"
[ "$(api "$T/api2.sock" GET vm.info)" = 200 ] || fail_log "$log2" "vm.info after restore failed"
grep -q '"Paused"' "$T/body" || fail "restored VM is not Paused: $(cat "$T/body")"
[ "$(api "$T/api2.sock" PUT vm.resume)" = 204 ] || fail_log "$log2" "vm.resume: $(cat "$T/body")"
wait_line "$SERIAL" '^PHYLLO COUNT-DONE' 300 "$vmm" || fail_log "$log2" "the restored guest did not finish counting"
wait "$vmm"
status=$?
[ "$status" -eq 0 ] || fail_log "$log2" "the restored VMM exited $status"
tr -d '\r' <"$SERIAL" | grep -a '^PHYLLO COUNT [0-9]' | awk '{print $3}' >"$T/seq"
after=$(awk -v n="$n1" 'found { print; exit } $1 == n { found = 1 }' "$T/seq")
[ "$after" = $((n1 + 1)) ] || fail "after the restore the count went $n1 -> '$after'"
[ "$(grep -ac '^PHYLLO BOOT-OK' "$SERIAL")" -eq 1 ] || fail "the guest booted again"
echo "ok: restored: the count went on $n1 -> $after up to 60, one boot"

e2fsck -fn "$disk" >"$T/fsck.out" 2>&1 || fail "e2fsck after the restore: $(tail -5 "$T/fsck.out")"
debugfs -R 'cat /counts' "$disk" 2>/dev/null >"$T/counts"
tail -n 1 "$T/counts" | grep -qx 60 || fail "the disk lacks the writes made after the restore: $(tail -n 3 "$T/counts")"
echo "ok: the disk holds the counts written after the restore (last $(tail -n 1 "$T/counts")), fsck clean"
