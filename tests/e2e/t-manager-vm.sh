#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The manager runs VMs: the real phyllod supervising the real phyllo-vmm,
# driven by the real phyllo CLI, on a real SQLite file. Two VMs from one
# imported image, each with its own overlay (a counter file the guest
# keeps on its disk goes its own way in each); `logs` shows the serial
# console; phyllod killed with SIGKILL while they run, then a new one
# adopts them; `stop` presses the power button and the guest powers off;
# `start` again sees the file the guest wrote; `kill` ends a VM at once;
# `rm` removes the overlays and the image's checksum never changed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
export PHYLLO_DATA=$T/data PHYLLO_SOCKET=$T/run/phyllod.sock
mkdir -m 0700 "$T/run"
dlog=$(test_log phyllod)
daemon=
trap '[ -n "$daemon" ] && kill -9 $daemon 2>/dev/null; pkill -9 -f "$T/data/vms" 2>/dev/null; rm -rf "$T"' EXIT
P() { "$PHYLLO_BUILD/phyllo" "$@"; }
start_daemon() {
	"$PHYLLO_BUILD/phyllod" >>"$dlog" 2>&1 &
	daemon=$!
	for _ in $(seq 300); do
		P version >/dev/null 2>&1 && return 0
		kill -0 "$daemon" 2>/dev/null || fail_log "$dlog" "phyllod exited at start"
		sleep 0.1
	done
	fail_log "$dlog" "phyllod did not answer in 30 s"
}
# state VM: its state and reason, from inspect.
state() {
	P inspect "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin)[0]; print(v["state"], v["reason"])'
}
# wait_log VM REGEX SECONDS: the VM's serial log gets a line matching REGEX.
wait_log() {
	local end=$((SECONDS + $3))
	while ((SECONDS < end)); do
		P logs "$1" 2>/dev/null | tr -d '\r' | grep -Eq -- "$2" && return 0
		sleep 0.5
	done
	P logs "$1" 2>&1 | tail -n 20 | sed 's/^/  | /' >&2
	return 1
}

# The image: an ext4 disk whose script counts its boots in a file on that
# disk, then waits for the power button and returns (the test guest's init
# then unmounts, syncs and powers off).
cat >"$T/boot.sh" <<'SCRIPT'
n=$(cat /mnt/count 2>/dev/null || echo 0)
echo "PHYLLO DISK-RUN $n"
echo $((n + 1)) >/mnt/count
sync
for e in /sys/class/input/event*; do
	[ "$(cat "$e/device/name" 2>/dev/null)" = "Power Button" ] || continue
	head -c 24 "/dev/input/${e##*/}" >/dev/null
	echo "PHYLLO POWER-BUTTON"
	exit 0
done
echo "PHYLLO NO-POWER-BUTTON"
sleep 3600
SCRIPT
img=$T/app.raw
truncate -s 48M "$img"
mkfs.ext4 -q -F "$img" || fail "mkfs.ext4"
debugfs -w -R "write $T/boot.sh boot.sh" "$img" >/dev/null 2>&1 || fail "debugfs write"

start_daemon
P image import "$img" app:1 >/dev/null || fail_log "$dlog" "image import"
stored=$(P image inspect app:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["path"])')
sum=$(sha256sum "$stored" | cut -d' ' -f1)
boot=(--cpus 1 -m 256m --kernel "$PHYLLO_GUEST/vmlinuz" --initramfs "$PHYLLO_GUEST/initramfs.cpio.gz"
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/boot.sh")
t0=$SECONDS
id=$(P run -d --name app "${boot[@]}" app:1) || fail_log "$dlog" "phyllo run"
P create --name app2 "${boot[@]}" app:1 >/dev/null || fail_log "$dlog" "phyllo create app2"
P start app2 >/dev/null || fail_log "$dlog" "phyllo start app2"
wait_log app '^PHYLLO DISK-RUN 0' 240 || fail "app did not boot to its script"
note "run -d to the guest's script: $((SECONDS - t0)) s"
wait_log app2 '^PHYLLO DISK-RUN 0' 240 || fail "app2 did not boot to its script"
P ps | grep -qE "^${id:0:12} +app +.* running \(started" || fail "ps: $(P ps)"
[ "$(P ps -q | wc -l)" = 2 ] || fail "ps does not list two running VMs: $(P ps)"
expect_err() {
	local want=$1 out
	shift
	if out=$(P "$@" 2>&1); then fail "'phyllo $*' succeeded: $out"; fi
	[[ "$out" == *"$want"* ]] || fail "'phyllo $*' said '$out', not '$want'"
}
expect_err "VM app is running already" start app
expect_err "VM app is running: stop it first" rm app
expect_err "is used by VMs app, app2" rmi -f app:1

# SIGKILL of the daemon: the VMs run on; a new daemon adopts them.
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
daemon=
start_daemon
grep -q "VM app: running as process [0-9]*, adopted" "$dlog" || fail_log "$dlog" "app was not adopted"
[ "$(state app)" = "running " ] || fail "after the restart app is '$(state app)'"

# stop: the power button; the guest powers off (phyllo-vmm exits 0).
t0=$SECONDS
P stop -t 120 app >/dev/null || fail_log "$dlog" "phyllo stop app"
note "stop (power button to power-off): $((SECONDS - t0)) s"
# (app is adopted: its exit status went to its first parent, so phyllod
# says what it knows.)
[ "$(state app)" = "exited ended after its power button was pressed" ] ||
	fail "app after stop: '$(state app)'"

wait_log app '^PHYLLO POWER-BUTTON' 5 || fail "the guest did not see the power button"
# start again: the file the guest wrote on its overlay is still there.
P start app >/dev/null || fail_log "$dlog" "phyllo start app (again)"
wait_log app '^PHYLLO DISK-RUN 1' 240 || fail "app's second boot did not see its first boot's file"
# app2's disk is its own: it counted once.
P logs app2 | grep -q '^PHYLLO DISK-RUN 1' && fail "app2 saw app's write"
# Now app is a child of this phyllod: its exit status says it powered off.
P stop app >/dev/null || fail_log "$dlog" "phyllo stop app (again)"
[ "$(state app)" = "exited powered off" ] || fail "app after its second stop: '$(state app)'"
# kill: at once (app2, adopted, is killed all the same).
P kill app2 >/dev/null || fail_log "$dlog" "phyllo kill"
[[ "$(state app2)" == "exited "* ]] || fail "app2 after kill: '$(state app2)'"
[ -z "$(P ps -q)" ] || fail "ps after kill: $(P ps)"
pgrep -f "$PHYLLO_DATA/vms" >/dev/null && fail "a phyllo-vmm is still running: $(pgrep -af "$PHYLLO_DATA/vms")"

disk=$(P inspect app | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["disk"])')
qemu-img check -q "$disk" || fail "qemu-img check of app's overlay"
P rm app app2 >/dev/null || fail_log "$dlog" "phyllo rm"
[ ! -e "$disk" ] || fail "app's overlay is still there"
[ "$(sha256sum "$stored" | cut -d' ' -f1)" = "$sum" ] || fail "the image changed"
kill "$daemon"
wait "$daemon"
status=$?
daemon=
[ "$status" -eq 0 ] || fail_log "$dlog" "phyllod exited $status on SIGTERM"
echo "ok: run, ps, logs, adoption after SIGKILL, stop by power button, start, kill, rm"
