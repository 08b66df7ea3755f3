#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The screen, with Linux's own driver: phyllo-vmm --display device=bochs
# gives the guest a bochs-display; the guest's bochs-drm drives it, and
# tests/guest/phyllo-draw sets a mode and draws the known pattern in a KMS
# dumb buffer (bochs-drm scans it out of the VRAM BAR). The API's
# vm.screenshot (a PNG, decoded by Pillow, not by us) must equal the
# pattern pixel for pixel, running and paused (Debian's python3 in
# /usr/bin, where python3-pil is); so must the capture of a standard VNC
# client, gtk-vnc's gvnccapture, from our VNC server (vnc=). A headless
# VM's screenshot is a 404 that says why. A line typed through VNC reaches
# a shell on the guest's console through the PS/2 keyboard. The same
# picture in the local window (sdl=on) on an X server (Xvfb), grabbed by
# Pillow.
# packages: python3-pil gvncviewer xvfb
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
. "$(dirname "$0")/display-lib.sh"
T=$PHYLLO_TMP
SOCK=$T/api.sock
SERIAL=$T/serial.out
log=$(test_log vmm)


# The window's X server (-displayfd: a free display number, said on fd 3).
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$T/xdisplay" >"$T/xvfb.log" 2>&1 &
xvfb=$!
# (Up to 30 s: a busy box has been seen to take more than 10.)
for _ in $(seq 300); do [[ -s "$T/xdisplay" ]] && break; sleep 0.1; done
[[ -s "$T/xdisplay" ]] || fail_log "$T/xvfb.log" "Xvfb did not start"
export DISPLAY=:$(cat "$T/xdisplay")
# No OpenGL in the window: Xvfb has no GPU, so OpenGL is Mesa's llvmpipe,
# whose JIT code (an AVX2 gather) segfaulted phyllo-vmm here, under the
# box's TCG emulation of the CPU, in every try (CI and by hand,
# 2026-12-04); the same code on the host's real CPU runs fine. SDL's
# software renderer alone is not enough: SDL then still draws its window
# surface through OpenGL unless SDL_FRAMEBUFFER_ACCELERATION=0.
# tests/browser/sdl-window runs the same window code with SDL's defaults
# (OpenGL) on the host.
export SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0
"$PHYLLO_VMM" -v --api-socket "$SOCK" --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=draw" \
	--display device=bochs,vnc=127.0.0.1:5901,resolution=1280x800,sdl=on \
	--serial "file=$SERIAL" </dev/null >"$log" 2>&1 &
vmm=$!
trap 'kill -9 $vmm $xvfb 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT
wait_line "$SERIAL" 'PHYLLO DRAW-(DONE|FAILED)' 180 "$vmm" || fail_log "$SERIAL" "the guest did not draw"
expect_line "$SERIAL" 'PHYLLO DRAW-DONE'
read -r _ _ size driver _ < <(tr -d '\r' <"$SERIAL" | grep -a '^PHYLLO DRAW [0-9]')
[[ "$driver" == bochs-drm ]] || fail_log "$SERIAL" "the guest's driver is '$driver', not bochs-drm"
# The mode is the EDID's preferred one (resolution=), not bochs-drm's default.
[[ "$size" == 1280x800 ]] || fail_log "$SERIAL" "the guest chose $size, not the EDID's 1280x800"
echo "ok: the guest's bochs-drm set ${size} (the EDID's preferred mode) and drew"


# The guest wrote the scanout buffer itself before it said DONE: the
# first capture must be the pattern.
got=$(shot running)
[[ "$got" == "200 image/png" ]] || fail_log "$log" "vm.screenshot: got '$got'"
compare running "$size" || fail_log "$log" "the capture is not the guest's pattern"

# The same picture through VNC (display :1 is port 5901).
grep -q 'vnc: listening on 127.0.0.1:5901' "$log" || fail_log "$log" "the VNC server did not say where it listens"
timeout 60 gvnccapture -q localhost:1 "$T/vnc.png" || fail_log "$log" "gvnccapture failed"
compare vnc "$size" || fail_log "$log" "the VNC capture is not the guest's pattern"

# The window (no window manager: at 0,0, the size of the guest's mode).
ok=
for _ in $(seq 30); do
	/usr/bin/python3 -c 'import os, sys; from PIL import ImageGrab
ImageGrab.grab(xdisplay=os.environ["DISPLAY"]).save(sys.argv[1])' "$T/window.png" &&
		compare window "$size" >/dev/null 2>&1 && ok=1 && break
	sleep 1
done
[[ -n "$ok" ]] || { compare window "$size"; fail_log "$log" "the SDL window does not show the guest's pattern"; }
echo "ok: the SDL window on $DISPLAY shows the guest's ${size} picture, pixel for pixel"

# A line typed through VNC (tests/e2e/vnc_input.c, on libvncclient) goes
# through the i8042's PS/2 keyboard to the guest's tty1, where a shell reads it.
vnc() { "$PHYLLO_BUILD/tests/e2e/vnc-input" 127.0.0.1 5901 "$@"; }
line='Hello, guest 42! ~/a_b'
vnc type "$line" || fail_log "$log" "vnc-input type failed"
wait_line "$SERIAL" 'PHYLLO TYPED' 60 "$vmm" || fail_log "$SERIAL" "the typed line did not arrive"
got=$(tr -d '\r' <"$SERIAL" | grep -a '^PHYLLO TYPED' | head -1)
[[ "$got" == "PHYLLO TYPED $line" ]] || fail_log "$SERIAL" "typed '$line', the guest read '${got#PHYLLO TYPED }'"
echo "ok: the guest read the line typed through VNC (PS/2)"

# Now the guest loads virtio-input: its keyboard takes the keys from PS/2.
wait_line "$SERIAL" 'PHYLLO EVDEV-READY' 60 "$vmm" || fail_log "$SERIAL" "phyllo-evdev did not start"
expect_line "$SERIAL" 'PHYLLO EVDEV-READY 2'

# The same through the API: vm.send-keys (phyllo-remote type / send-keys),
# and a screenshot by phyllo-remote.
remote() { "$PHYLLO_BUILD/phyllo-remote" --api-socket "$SOCK" "$@"; }
remote type 'echo $HOME | (x)' || fail_log "$log" "phyllo-remote type failed"
remote send-keys shift-a 7 minus enter || fail_log "$log" "phyllo-remote send-keys failed"
wait_line "$SERIAL" 'PHYLLO TYPED echo' 60 "$vmm" || fail_log "$SERIAL" "the line sent by vm.send-keys did not arrive"
got=$(tr -d '\r' <"$SERIAL" | grep -a '^PHYLLO TYPED echo' | head -1)
[[ "$got" == 'PHYLLO TYPED echo $HOME | (x)A7-' ]] || fail_log "$SERIAL" "vm.send-keys: the guest read '${got#PHYLLO TYPED }'"
grep -aq '^PHYLLO EV keyboard 1 30 1' "$SERIAL" || fail_log "$SERIAL" "the keys did not come through the virtio keyboard"
echo "ok: the guest read the line sent by vm.send-keys (virtio keyboard)"

# The tablet: a click at (640, 400) of the 1280x800 screen arrives at
# (x, y) scaled to the tablet's 0..32767; the wheel clicks up and down.
vnc click 640 400 || fail_log "$log" "vnc-input click failed"
vnc wheel up 640 400 || fail_log "$log" "vnc-input wheel failed"
vnc wheel down 640 400 || fail_log "$log" "vnc-input wheel failed"
want_x=$((640 * 32767 / 1279)) want_y=$((400 * 32767 / 799))
for want in "3 0 $want_x" "3 1 $want_y" "1 272 1" "1 272 0" "2 8 1" "2 8 -1"; do
	wait_line "$SERIAL" "PHYLLO EV tablet $want[[:space:]]*$" 30 "$vmm" ||
		fail_log "$SERIAL" "the guest's tablet did not report '$want' (type code value)"
done
echo "ok: the tablet's click arrived at ($want_x, $want_y) of 32767, and the wheel"
remote screenshot "$T/remote.png" || fail_log "$log" "phyllo-remote screenshot failed"
# bochs-display's monitor is fixed: a resize is refused, saying which device can.
if remote resize-display 1024x768 >"$T/resize.out" 2>&1; then fail "bochs-display took a resize"; fi
grep -q 'virtio-gpu' "$T/resize.out" || fail "resize-display on bochs-display: $(cat "$T/resize.out")"
echo "ok: bochs-display refuses a resize: $(head -1 "$T/resize.out")"
compare remote "$size" || fail "phyllo-remote screenshot: not the guest's pattern"
curl -s --unix-socket "$SOCK" -X PUT http://localhost/api/v1/vm.pause >/dev/null
got=$(shot paused)
[[ "$got" == "200 image/png" ]] || fail_log "$log" "vm.screenshot when paused: got '$got'"
compare paused "$size" || fail "paused: the screenshot is not the guest's pattern"
curl -s --unix-socket "$SOCK" -X PUT http://localhost/api/v1/vmm.shutdown >/dev/null || true
wait "$vmm" || true

# Headless (no --display): 404, naming what is missing.
rm -f "$SOCK"
"$PHYLLO_VMM" --api-socket "$SOCK" --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=128M \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=counter" --serial off </dev/null >"$log.2" 2>&1 &
vmm=$!
wait_socket "$SOCK" 120 "$vmm" || fail_log "$log.2" "no API socket"
got=$(shot headless)
[[ "$got" == 404* ]] || fail "headless vm.screenshot: got '$got'"
grep -q 'no display' "$T/headless.png" || fail "headless vm.screenshot: $(cat "$T/headless.png")"
echo "ok: headless: $(cat "$T/headless.png")"
kill "$vmm"
wait "$vmm" || true
