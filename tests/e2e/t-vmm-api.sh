#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The REST API with Cloud Hypervisor's documented curl calls, unchanged but
# for paths: phyllo-vmm started with only --api-socket waits for vm.create;
# vm.boot boots it; vm.info reports it; vm.pause stops the guest's counter
# (and its clock: no jump on resume); vm.resume continues it. Malformed
# requests get the right 4xx and the VM keeps running. vm.power-button
# reaches the guest as a power button press; vm.shutdown, vm.boot again,
# vm.delete, vmm.shutdown. phyllo-remote drives the same calls.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
SOCK=$T/api.sock
REMOTE=$PHYLLO_BUILD/phyllo-remote
SERIAL=$T/serial.out
log=$(test_log vmm)

# api METHOD ENDPOINT [CURL ARGS...]: prints "STATUS BODY".
api() {
	local m=$1 ep=$2
	shift 2
	curl -s --max-time 60 --unix-socket "$SOCK" -X "$m" -o "$T/body" -w '%{http_code}' \
		"http://localhost/api/v1/$ep" "$@" >"$T/code" || echo "curl failed: $?" >"$T/code"
	echo "$(cat "$T/code") $(cat "$T/body" 2>/dev/null)"
}
# expect_status WANT METHOD ENDPOINT [CURL ARGS...]
expect_status() {
	local want=$1 got
	shift
	got=$(api "$@")
	[[ "$got" == "$want"* ]] || fail_log "$log" "$1 $2: expected HTTP $want, got '$got'"
	echo "ok: $1 $2 -> ${got:0:160}"
}
# last_count: the last "PHYLLO COUNT n UPTIME s" line's n and s.
last_count() { tr -d '\r' <"$SERIAL" | grep -a '^PHYLLO COUNT' | tail -n 1 | awk '{print $3, $5}'; }

"$PHYLLO_VMM" -v --api-socket "$SOCK" </dev/null >"$log" 2>&1 &
vmm=$!
trap 'kill -9 $vmm 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT
wait_socket "$SOCK" 120 "$vmm" || fail_log "$log" "no API socket at $SOCK"

# Cloud Hypervisor's documented calls.
expect_status 200 GET vmm.ping
grep -q '"version"' "$T/body" || fail "vmm.ping has no version: $(cat "$T/body")"
expect_status 404 GET vm.info
expect_status 404 PUT vm.boot
expect_status 400 PUT vm.create -H 'Content-Type: application/json' -d '{"cpus": '
expect_status 400 PUT vm.create -H 'Content-Type: application/json' -d '{"cpus": {"boot_vcpus": "two"}}'
expect_status 400 PUT vm.create -H 'Content-Type: application/json' -d '{"no_such_field": 1}'
cat >"$T/vm.json" <<EOF
{
  "cpus": {"boot_vcpus": 2, "max_vcpus": 2},
  "memory": {"size": 268435456},
  "payload": {"kernel": "$PHYLLO_GUEST/vmlinuz",
              "initramfs": "$PHYLLO_GUEST/initramfs.cpio.gz",
              "cmdline": "$GUEST_CMDLINE_BASE phyllo.mode=counter"},
  "rng": {"src": "/dev/urandom"},
  "serial": {"mode": "File", "file": "$SERIAL"},
  "console": {"mode": "Off"}
}
EOF
expect_status 204 PUT vm.create -H 'Accept: application/json' -H 'Content-Type: application/json' \
	-d @"$T/vm.json"
expect_status 409 PUT vm.create -H 'Content-Type: application/json' -d @"$T/vm.json"
got=$(api GET vm.info)
[[ "$got" == 200*'"Created"'* ]] || fail "vm.info before boot: $got"
expect_status 204 PUT vm.boot
wait_line "$SERIAL" '^PHYLLO COUNT 3 ' 200 "$vmm" || fail_log "$log" "the guest's counter did not start"
got=$(api GET vm.info -H 'Accept: application/json')
[[ "$got" == 200*'"Running"'* ]] || fail "vm.info while running: $got"
[[ "$got" == *'"boot_vcpus":2'* || "$got" == *'"boot_vcpus": 2'* ]] ||
	fail "vm.info does not show 2 vCPUs: $got"

# Pause: the counter stops; resume: it goes on, and the guest's uptime
# continues from where it stood instead of jumping by the pause.
expect_status 204 PUT vm.pause
got=$(api GET vm.info)
[[ "$got" == 200*'"Paused"'* ]] || fail "vm.info while paused: $got"
sleep 1
read -r n1 up1 < <(last_count)
sleep 4
read -r n2 up2 < <(last_count)
[ "$n1" = "$n2" ] || fail "the counter moved while paused: $n1 -> $n2"
echo "ok: paused at count $n1 (uptime $up1), still $n2 four seconds later"
expect_status 405 PUT vm.pause
expect_status 204 PUT vm.resume
wait_line "$SERIAL" "^PHYLLO COUNT $((n1 + 3)) " 120 "$vmm" || fail_log "$log" "the counter did not resume"
read -r n3 up3 < <(tr -d '\r' <"$SERIAL" | grep -a "^PHYLLO COUNT $((n1 + 1)) " | awk '{print $3, $5}')
jump=$(awk -v a="$up1" -v b="$up3" 'BEGIN { printf "%.2f", b - a }')
awk -v j="$jump" 'BEGIN { exit !(j < 2.5) }' ||
	fail "the guest's uptime jumped by $jump s across a 5 s pause"
echo "ok: resumed: count $n1 -> $n3, guest uptime advanced $jump s across the pause"

# Bad requests: the VM keeps running.
expect_status 405 PUT vm.resume
expect_status 404 GET vm.nonexistent
expect_status 404 GET no/such/path
head -c 2000000 /dev/zero | tr '\0' 'x' >"$T/big"
got=$(api PUT vm.create -H 'Content-Type: application/json' --data-binary @"$T/big")
[[ "$got" == 413* ]] || fail "an oversized body got '${got:0:100}', expected 413"
echo "ok: oversized body -> 413"
got=$(printf 'GARBAGE\r\n\r\n' | timeout 100 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
buf = b""
while b"\r\n" not in buf:
    chunk = s.recv(200)
    if not chunk:
        break
    buf += chunk
print(buf.decode(errors="replace").splitlines()[0] if buf else "(connection closed without an answer)")' "$SOCK" 2>&1)
[[ "$got" == *" 400 "* ]] || fail "a garbage request line got '$got', expected 400"
echo "ok: garbage request -> $got"
n_before=$(last_count | cut -d' ' -f1)
wait_line "$SERIAL" "^PHYLLO COUNT $((n_before + 2)) " 60 "$vmm" ||
	fail_log "$log" "the guest stopped after the bad requests"
echo "ok: the guest still counts after the bad requests"

# phyllo-remote, as ch-remote.
"$REMOTE" --api-socket "$SOCK" ping | grep -q version || fail "phyllo-remote ping"
"$REMOTE" --api-socket "$SOCK" info | grep -q Running || fail "phyllo-remote info"
"$REMOTE" --api-socket "$SOCK" pause || fail "phyllo-remote pause"
"$REMOTE" --api-socket "$SOCK" info | grep -q Paused || fail "phyllo-remote info (paused)"
"$REMOTE" --api-socket "$SOCK" resume || fail "phyllo-remote resume"
out=$("$REMOTE" --api-socket "$SOCK" resume 2>&1) && fail "phyllo-remote resume twice succeeded"
echo "ok: phyllo-remote ping/info/pause/resume; resume twice: $out"

# The power button reaches the guest: the GED interrupt runs _EVT, which
# notifies the PNP0C0C button; the guest reads a KEY_POWER input event.
expect_status 204 PUT vm.power-button
wait_line "$SERIAL" '^PHYLLO POWER-BUTTON' 60 "$vmm" || fail_log "$log" "the guest saw no power button press"
echo "ok: vm.power-button: the guest read a power button event"

# Shut down, boot again, delete, and end the VMM.
expect_status 204 PUT vm.shutdown
got=$(api GET vm.info)
[[ "$got" == 200*'"Shutdown"'* ]] || fail "vm.info after vm.shutdown: $got"
: >"$SERIAL"
expect_status 204 PUT vm.boot
wait_line "$SERIAL" '^PHYLLO COUNT 1 ' 200 "$vmm" || fail_log "$log" "the second boot did not count"
echo "ok: booted again after vm.shutdown"
expect_status 204 PUT vm.delete
expect_status 404 GET vm.info
expect_status 204 PUT vmm.shutdown
for _ in $(seq 1 100); do kill -0 "$vmm" 2>/dev/null || break; sleep 0.1; done
wait "$vmm"
status=$?
[ "$status" -eq 0 ] || fail_log "$log" "phyllo-vmm exited $status after vmm.shutdown"
[ ! -e "$SOCK" ] || fail "the API socket was left behind"
echo "ok: vmm.shutdown: exit 0, socket removed"
