#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The serial back ends other than tty: file= gets the guest's output,
# socket= serves it to a client that connects, pty gives a terminal whose
# path is printed on stderr, off boots without COM1 (and without output).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
K=$PHYLLO_GUEST/vmlinuz
I=$PHYLLO_GUEST/initramfs.cpio.gz

# file=
out=$PHYLLO_TMP/serial.out
timeout 240 "$PHYLLO_VMM" --kernel "$K" --initramfs "$I" --cmdline "$GUEST_CMDLINE_BASE" \
	--memory size=256M --serial "file=$out" </dev/null >"$PHYLLO_TMP/stdout" 2>&1 ||
	fail_log "$PHYLLO_TMP/stdout" "file= boot exited $?"
expect_line "$out" '^PHYLLO BOOT-OK'
[ ! -s "$PHYLLO_TMP/stdout" ] || fail "file= mode also wrote to stdout: $(head -c 200 "$PHYLLO_TMP/stdout")"

# socket=: a client connects, reads the boot, sends a line for echo mode.
sock=$PHYLLO_TMP/serial.sock
timeout 240 "$PHYLLO_VMM" --kernel "$K" --initramfs "$I" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=echo" --memory size=256M \
	--serial "socket=$sock" </dev/null >"$PHYLLO_TMP/socket.vmm" 2>&1 &
pid=$!
wait_socket "$sock" 120 "$pid" || fail_log "$PHYLLO_TMP/socket.vmm" "no serial socket at $sock"
python3 - "$sock" >"$PHYLLO_TMP/sock.out" <<'PY' || fail "socket client failed: $(cat "$PHYLLO_TMP/sock.out")"
import socket, sys, time
path = sys.argv[1]
for _ in range(100):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(path); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("could not connect to " + path)
buf = b""; deadline = time.time() + 200; sent = False
s.settimeout(1)
while time.time() < deadline:
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        continue
    if not chunk:
        break
    buf += chunk
    if not sent and b"PHYLLO PROMPT" in buf:
        s.sendall(b"over the socket\n"); sent = True
sys.stdout.write(buf.decode(errors="replace"))
PY
wait "$pid" || fail_log "$PHYLLO_TMP/socket.vmm" "socket= boot exited $?"
expect_line "$PHYLLO_TMP/sock.out" '^PHYLLO ECHO over the socket'

# pty: read the guest's output from the pty named on stderr.
timeout 240 "$PHYLLO_VMM" --kernel "$K" --initramfs "$I" --cmdline "$GUEST_CMDLINE_BASE phyllo.mode=counter" \
	--memory size=256M --serial pty </dev/null >/dev/null 2>"$PHYLLO_TMP/pty.err" &
pid=$!
wait_line "$PHYLLO_TMP/pty.err" 'pty: /dev/pts/' 120 "$pid" || true
pty=$(sed -n 's/^phyllo-vmm: pty: //p' "$PHYLLO_TMP/pty.err")
[ -c "$pty" ] || { kill "$pid"; fail "no pty path on stderr: $(cat "$PHYLLO_TMP/pty.err")"; }
timeout 200 grep -m1 -a 'PHYLLO COUNT 2' "$pty" >"$PHYLLO_TMP/pty.out"
kill "$pid"
wait "$pid"
expect_line "$PHYLLO_TMP/pty.out" 'PHYLLO COUNT 2'

# off: no COM1; the guest still boots and powers off (exit 0), silently.
timeout 240 "$PHYLLO_VMM" --kernel "$K" --initramfs "$I" --cmdline "$GUEST_CMDLINE_BASE" \
	--memory size=256M --serial off </dev/null >"$PHYLLO_TMP/off.out" 2>&1 ||
	fail "--serial off boot exited $?"
[ ! -s "$PHYLLO_TMP/off.out" ] || fail "--serial off printed: $(head -c 200 "$PHYLLO_TMP/off.out")"
