#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-console: with console=hvc0 the guest's console is the virtio port.
# Its output reaches --console file=; over --console socket= a shell on
# hvc0 takes commands and its output comes back. lspci-style: the guest
# sees the console (1af4:1043) and rng (1af4:1044) functions, and reads
# num_queues through the VIRTIO_PCI_CAP_PCI_CFG window.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
K=$PHYLLO_GUEST/vmlinuz
I=$PHYLLO_GUEST/initramfs.cpio.gz
T=$PHYLLO_TMP

timeout 240 "$PHYLLO_VMM" --kernel "$K" --initramfs "$I" --cmdline "console=hvc0 quiet phyllo.pcicfg=1" \
	--memory size=256M --serial null --console "file=$T/hvc.out" </dev/null >"$T/stdout" 2>&1 ||
	fail_log "$T/stdout" "file= console boot exited $?"
expect_line "$T/hvc.out" '^PHYLLO BOOT-OK'
expect_line "$T/hvc.out" '^PHYLLO PCI .*=1af4:1043.*'
expect_line "$T/hvc.out" '^PHYLLO PCI .*=1af4:1044'
# VIRTIO_PCI_CAP_PCI_CFG: each virtio function's num_queues read through
# the config-space window (the console has 2 queues, the rng 1).
expect_line "$T/hvc.out" '^PHYLLO PCICFG( [0-9a-f]+\.0=[0-9]+)+'
grep -a '^PHYLLO PCICFG' "$T/hvc.out" | grep -q none && fail "a virtio function lacks the PCI_CFG capability"
echo "ok: PCI_CFG window: $(grep -a '^PHYLLO PCICFG' "$T/hvc.out" | tr -d '\r')"

timeout 240 "$PHYLLO_VMM" --kernel "$K" --initramfs "$I" --cmdline "console=hvc0 quiet phyllo.mode=shell" \
	--memory size=256M --serial null --console "socket=$T/hvc.sock" </dev/null >"$T/shell.vmm" 2>&1 &
pid=$!
wait_socket "$T/hvc.sock" 120 "$pid" || fail_log "$T/shell.vmm" "no console socket at $T/hvc.sock"
python3 - "$T/hvc.sock" >"$T/shell.out" <<'PY' || fail "console socket client failed: $(tail -c 500 "$T/shell.out")"
import socket, sys, time
for _ in range(100):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("no console socket")
s.settimeout(1)
buf = b""; stage = 0; deadline = time.time() + 200
while time.time() < deadline:
    try:
        chunk = s.recv(4096)
    except socket.timeout:
        chunk = None
    if chunk == b"":
        break
    if chunk:
        buf += chunk
    if stage == 0 and b"PHYLLO PROMPT" in buf:
        time.sleep(1); s.sendall(b"echo answer=$((6*7)); tty\n"); stage = 1
    elif stage == 1 and b"answer=42" in buf:
        s.sendall(b"exit\n"); stage = 2
sys.stdout.write(buf.decode(errors="replace"))
PY
wait "$pid" || fail_log "$T/shell.vmm" "shell boot exited $?; the console said: $(tail -c 300 "$T/shell.out")"
expect_line "$T/shell.out" 'answer=42'
expect_line "$T/shell.out" '/dev/hvc0'
