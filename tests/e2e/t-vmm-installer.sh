#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A real graphical program that nobody here wrote: Debian 12's graphical
# installer (the gtk kernel and initrd of debian-installer-12-netboot-amd64,
# tests/guest/build-installer.sh), booted directly on bochs-display. Its
# initrd's udev loads bochs-drm, Xorg's modesetting driver takes the DRM
# device and cdebconf's gtk frontend draws its first screen ("Select a
# language") with Debian's banner across the top. The test waits for the
# screen (vm.screenshot, decoded by Pillow) to show the banner, byte for
# byte the initrd's logo_debian.png at the top centre, its edges drawn as
# the gtk frontend stretches them, and a light dialog below it; the
# serial console has the installer's text instance meanwhile.
# packages: python3-pil
# guest: installer
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
SOCK=$T/api.sock
SERIAL=$T/serial.out
log=$(test_log vmm)
I=$PHYLLO_INSTALLER
[[ -f "$I/linux" && -f "$I/initrd.gz" && -f "$I/banner.png" ]] ||
	fail "no installer in $I (tests/guest/build-installer.sh)"

# The installer wants 766 MB or more for its graphical frontend.
"$PHYLLO_VMM" -v --api-socket "$SOCK" --kernel "$I/linux" --initramfs "$I/initrd.gz" \
	--cpus boot=2 --memory size=1200M --cmdline "console=ttyS0,115200n8 console=tty0" \
	--display device=bochs --serial "file=$SERIAL" </dev/null >"$log" 2>&1 &
vmm=$!
trap 'kill -9 $vmm 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT
wait_socket "$SOCK" 120 "$vmm" || fail_log "$log" "no API socket"

start=$SECONDS
found=
while ((SECONDS - start < 480)); do
	kill -0 "$vmm" 2>/dev/null || fail_log "$log" "phyllo-vmm ended"
	if [[ "$(curl -s --max-time 30 --unix-socket "$SOCK" -o "$T/screen.png" -w '%{http_code}' \
		http://localhost/api/v1/vm.screenshot)" == 200 ]] &&
		/usr/bin/python3 - "$T/screen.png" "$I/banner.png" >"$T/check.out" 2>&1 <<'PY'; then
import sys
from PIL import Image
shot = Image.open(sys.argv[1]).convert("RGB")
banner = Image.open(sys.argv[2]).convert("RGB")
w, h = shot.size
bw, bh = banner.size
if w < bw or h < 2 * bh:
    sys.exit(f"screen {w}x{h}")
x0 = (w - bw) // 2
# The banner, as it is, centred at the top.
if shot.crop((x0, 0, x0 + bw, bh)).tobytes() != banner.tobytes():
    sys.exit("no banner at the top")
# Left of it, the banner's first column stretched.
for y in range(0, bh, 5):
    for x in range(0, x0, 7):
        if shot.getpixel((x, y)) != banner.getpixel((0, y)):
            sys.exit(f"({x},{y}) left of the banner is {shot.getpixel((x, y))}")
# Below it, the light background of the installer's dialog.
light = sum(1 for y in range(bh + 20, h - 20, 10) for x in range(20, w - 20, 10)
            if min(shot.getpixel((x, y))) > 0xc0)
total = len(range(bh + 20, h - 20, 10)) * len(range(20, w - 20, 10))
if light < total // 2:
    sys.exit(f"only {light} of {total} points below the banner are light")
print(f"ok: {w}x{h}: the installer's banner at ({x0}, 0), {light} of {total} points of its dialog light")
PY
		found=1
		break
	fi
	sleep 5
done
cat "$T/check.out"
[[ -n "$found" ]] || fail_log "$SERIAL" "no installer screen after $((SECONDS - start)) s: $(cat "$T/check.out")"
echo "ok: Debian's graphical installer shows its first screen after $((SECONDS - start)) s"
cp "$T/screen.png" "$PHYLLO_BUILD/e2e-logs/installer-screen.png" 2>/dev/null || true
kill "$vmm"
wait "$vmm" 2>/dev/null || true
