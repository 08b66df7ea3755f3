#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-gpu with Linux's own driver: phyllo-vmm --display device=virtio-gpu
# gives the guest a 2D virtio-gpu; its virtio_gpu driver creates the
# resources, and tests/guest/phyllo-draw draws the known pattern in a KMS
# dumb buffer and flushes it (DIRTYFB: transfer and flush commands). The
# API's vm.screenshot and gtk-vnc's gvnccapture must equal the pattern
# pixel for pixel. Resize, as a viewer does it: a VNC client asks for
# 1280x800 (ExtendedDesktopSize's SetDesktopSize, tests/e2e/vnc_input.c),
# the guest gets a display event, and phyllo-draw, following the hotplug
# as a desktop does, sets the new preferred mode and draws again; the
# client sees its framebuffer become 1280x800 and both captures are the
# pattern at that size. The same through the API (phyllo-remote
# resize-display 800x600), a size no EDID can say refused, and the
# picture and mode kept across a snapshot and --restore.
# packages: python3-pil gvncviewer
# timeout: 420
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
. "$(dirname "$0")/display-lib.sh"
T=$PHYLLO_TMP
SOCK=$T/api.sock
SERIAL=$T/serial.out
log=$(test_log vmm)
remote() { "$PHYLLO_BUILD/phyllo-remote" --api-socket "$SOCK" "$@"; }
vnc() { "$PHYLLO_BUILD/tests/e2e/vnc-input" 127.0.0.1 5902 "$@"; }

"$PHYLLO_VMM" -v --api-socket "$SOCK" --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=draw" \
	--display device=virtio-gpu,vnc=127.0.0.1:5902 \
	--serial "file=$SERIAL" </dev/null >"$log" 2>&1 &
vmm=$!
trap 'kill -9 $vmm 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT

# draws N WxH: wait for the guest's Nth "PHYLLO DRAW" line and check it.
draws() {
	local n=$1 want=$2 got
	for _ in $(seq 1 180); do
		[[ $(tr -d '\r' <"$SERIAL" | grep -ac '^PHYLLO DRAW-DONE') -ge $n ]] && break
		grep -aq 'PHYLLO DRAW-FAILED' "$SERIAL" && fail_log "$SERIAL" "phyllo-draw failed"
		kill -0 "$vmm" 2>/dev/null || fail_log "$log" "phyllo-vmm ended"
		sleep 1
	done
	got=$(tr -d '\r' <"$SERIAL" | grep -a '^PHYLLO DRAW [0-9]' | sed -n "${n}p")
	[[ "$got" == "PHYLLO DRAW $want virtio_gpu" ]] ||
		fail_log "$SERIAL" "draw $n: the guest said '$got', not $want on virtio_gpu"
}

draws 1 1024x768
echo "ok: the guest's virtio_gpu set 1024x768 (the preferred mode) and drew"
got=$(shot first)
[[ "$got" == "200 image/png" ]] || fail_log "$log" "vm.screenshot: got '$got'"
compare first 1024x768 || fail_log "$log" "vm.screenshot is not the guest's pattern"
timeout 60 gvnccapture -q localhost:2 "$T/vnc1.png" || fail_log "$log" "gvnccapture failed"
compare vnc1 1024x768 || fail_log "$log" "the VNC capture is not the guest's pattern"

# A viewer asks for 1280x800: the guest follows, the viewer gets the new size.
vnc resize 1280 800 || fail_log "$log" "the VNC client's resize to 1280x800 did not happen"
draws 2 1280x800
echo "ok: a VNC client asked for 1280x800, the guest changed to it and drew again"
shot second >/dev/null
compare second 1280x800 || fail_log "$log" "after the resize, vm.screenshot is not the pattern"
timeout 60 gvnccapture -q localhost:2 "$T/vnc2.png" || fail_log "$log" "gvnccapture failed"
compare vnc2 1280x800 || fail_log "$log" "after the resize, the VNC capture is not the pattern"

# Through the API; a size no EDID can say is refused with a reason.
remote resize-display 800x600 || fail_log "$log" "phyllo-remote resize-display failed"
draws 3 800x600
shot third >/dev/null
compare third 800x600 || fail_log "$log" "after vm.resize-display, not the pattern"
echo "ok: vm.resize-display 800x600: the guest followed"
if remote resize-display 5000x4000 >"$T/bad.out" 2>&1; then fail "5000x4000 was accepted"; fi
grep -q 'HTTP 400' "$T/bad.out" || fail "resize-display 5000x4000: $(cat "$T/bad.out")"
echo "ok: $(cat "$T/bad.out")"

# Snapshot, then a new VMM from it: the same picture at the same mode.
curl -s --unix-socket "$SOCK" -X PUT http://localhost/api/v1/vm.pause >/dev/null
code=$(curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$SOCK" -X PUT \
	-H 'Content-Type: application/json' -d "{\"destination_url\": \"file://$T/snap\"}" \
	http://localhost/api/v1/vm.snapshot)
[[ "$code" == 204 ]] || fail_log "$log" "vm.snapshot: HTTP $code $(cat "$T/body")"
kill -9 "$vmm"
wait "$vmm" 2>/dev/null || true
rm -f "$SOCK"
"$PHYLLO_VMM" -v --api-socket "$SOCK" --restore "source_url=file://$T/snap" \
	</dev/null >"$log.restored" 2>&1 &
vmm=$!
wait_socket "$SOCK" 120 "$vmm" || fail_log "$log.restored" "no API socket after --restore"
shot restored >/dev/null
compare restored 800x600 || fail_log "$log.restored" "after --restore, not the pattern at 800x600"
curl -s --unix-socket "$SOCK" -X PUT http://localhost/api/v1/vm.resume >/dev/null
timeout 60 gvnccapture -q localhost:2 "$T/vnc3.png" || fail_log "$log.restored" "gvnccapture after --restore failed"
compare vnc3 800x600 || fail_log "$log.restored" "after --restore, the VNC capture is not the pattern"
echo "ok: restored from the snapshot: the picture and its 800x600 mode, in vm.screenshot and VNC"
curl -s --unix-socket "$SOCK" -X PUT http://localhost/api/v1/vmm.shutdown >/dev/null || true
wait "$vmm" || true
