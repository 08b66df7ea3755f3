# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the display end-to-end tests (t-vmm-display*.sh), after lib.sh:
#   shot NAME          GET vm.screenshot from $SOCK into $T/NAME.png; prints
#                      the HTTP status and content type
#   compare NAME WxH   $T/NAME.png (decoded by Pillow, not by us) must be the
#                      test pattern of tests/guest/phyllo-draw.c at WxH,
#                      pixel for pixel (Debian's python3 in /usr/bin, where
#                      python3-pil is)

shot() {
	curl -s --max-time 60 --unix-socket "$SOCK" -o "$T/$1.png" \
		-w '%{http_code} %{content_type}' "http://localhost/api/v1/vm.screenshot"
}

compare() {
	/usr/bin/python3 - "$T/$1.png" "$2" <<'PY'
import sys
from PIL import Image
img = Image.open(sys.argv[1]).convert("RGB")
w, h = map(int, sys.argv[2].split("x"))
if img.size != (w, h):
    sys.exit(f"size {img.size}, the guest has {w}x{h}")
data = img.tobytes()
bad = 0
for y in range(h):
    want = bytes(v for x in range(w) for v in (x & 0xff, y & 0xff, (3 * x + 5 * y) & 0xff))
    got = data[3 * w * y:3 * w * (y + 1)]
    if got != want:
        for x in range(w):
            if got[3 * x:3 * x + 3] != want[3 * x:3 * x + 3]:
                if bad < 5:
                    print(f"({x},{y}): {tuple(got[3 * x:3 * x + 3])}, want {tuple(want[3 * x:3 * x + 3])}",
                          file=sys.stderr)
                bad += 1
if bad:
    sys.exit(f"{bad} of {w * h} pixels differ")
print(f"ok: all {w * h} pixels are the pattern")
PY
}
