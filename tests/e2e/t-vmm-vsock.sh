#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-vsock on the kernel's vhost-vsock, with Cloud Hypervisor's hybrid
# vsock host side (--vsock cid=3,socket=PATH):
#   - host -> guest: a host client connects to PATH, sends "CONNECT 5000\n"
#     (with the first data in the same write), reads "OK <port>" and
#     exchanges 300 kB with an echo server in the guest; a port nobody
#     listens on and a line that is not CONNECT close the client's socket;
#   - guest -> host: the guest connects to CID 2 port 6000 and reaches the
#     host's listener on PATH_6000 (there before boot), and port 6001,
#     whose PATH_6001 listener appears only while the guest runs;
#   - a device reset (the guest unloads and reloads its vsock driver) stops
#     and restarts vhost: port 6002 works afterwards;
#   - clear errors: a CID another VM holds, a socket path in use or not a
#     socket, and no /dev/vhost-vsock (a private /dev without it).
# The guest uses /bin/phyllo-vsock (tests/guest/phyllo-vsock.c).
# timeout: 420
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
sock=$T/v.sock
disk=$T/vsock.ext4

[[ -c /dev/vhost-vsock ]] || modprobe vhost_vsock 2>/dev/null ||
	skip "no /dev/vhost-vsock here (the vhost_vsock module is missing)"
command -v python3 >/dev/null || skip "python3 is needed on the host side"

# The host side's programs: a Unix listener for guest connections and a
# client for host connections.
cat >"$T/host.py" <<'EOF'
import hashlib, os, socket, sys, threading

def serve(path, reply, out):
    """Accept one connection on PATH, read to EOF, answer REPLY (MD5 is
    replaced by the md5 of what came), record the md5 in OUT."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    conn, _ = srv.accept()
    conn.settimeout(120)
    data = bytearray()
    while True:
        b = conn.recv(65536)
        if not b:
            break
        data += b
    md5 = hashlib.md5(data).hexdigest()
    with open(out, "w") as f:
        f.write(md5 + "\n")
    conn.sendall(reply.replace("MD5", md5).encode())
    conn.close()
    srv.close()

def client(path, command, nbytes):
    """Connect to PATH, send COMMAND and the first of NBYTES random bytes
    in one write, expect "OK <port>", check the echo of all NBYTES."""
    blob = os.urandom(nbytes)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(path)
    first = blob[:1000]
    s.sendall(command.encode() + first)
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            print("CLIENT CLOSED-WITHOUT-OK %r" % line)
            return
        line += b
    print("CLIENT ANSWER %s" % line.decode().strip())
    def send():
        s.sendall(blob[len(first):])
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = bytearray()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    t.join()
    print("CLIENT ECHO %s %d" % ("SAME" if got == blob else "DIFFERENT", len(got)))

if sys.argv[1] == "serve":
    serve(sys.argv[2], sys.argv[3], sys.argv[4])
else:
    client(sys.argv[2], sys.argv[3].replace("\\n", "\n"), int(sys.argv[4]))
EOF


python3 "$T/host.py" serve "${sock}_6000" "md5:MD5" "$T/g2h.md5" 2>"$T/g2h.err" &
g2h_pid=$!
python3 "$T/host.py" serve "${sock}_6002" "after-reset-ok" "$T/again.md5" 2>"$T/again.err" &
again_pid=$!
if ! wait_socket "${sock}_6000" 60 "$g2h_pid" || ! wait_socket "${sock}_6002" 60 "$again_pid"; then
	fail "the host listeners did not start"
fi
trap 'kill $g2h_pid $again_pid $late_pid $vmm_pid 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT

truncate -s 16M "$disk"
mkfs.ext4 -q -F "$disk" || fail "mkfs.ext4"
cat >"$T/vsock.sh" <<'EOF'
phyllo-vsock echo 5000 &
echo_pid=$!
head -c 300000 /dev/urandom >/tmp/g2h
echo "PHYLLO G2H-MD5 $(md5sum </tmp/g2h | cut -d' ' -f1)"
if phyllo-vsock connect 2 6000 </tmp/g2h >/tmp/reply; then
	echo "PHYLLO G2H-REPLY $(cat /tmp/reply)"
else
	echo "PHYLLO G2H-FAILED"
fi
i=0
while [ $i -lt 240 ]; do
	if phyllo-vsock connect 2 6001 </dev/null >/tmp/late 2>/dev/null && [ -s /tmp/late ]; then
		break
	fi
	i=$((i + 1))
	sleep 0.5
done
echo "PHYLLO G2H-LATE $(cat /tmp/late 2>/dev/null) after $i tries"
wait $echo_pid
echo "PHYLLO ECHO-EXIT $?"
# A device reset: the driver goes (the device is reset) and comes back.
i=0
until rmmod vmw_vsock_virtio_transport 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 30 ] || break
	sleep 1 # closed sockets may hold the module for a few seconds
done
insmod /lib/modules/vmw_vsock_virtio_transport.ko && echo "PHYLLO VSOCK-RELOADED after $i"
i=0
while [ $i -lt 60 ]; do
	if phyllo-vsock connect 2 6002 </dev/null >/tmp/again 2>/dev/null && [ -s /tmp/again ]; then
		break
	fi
	i=$((i + 1))
	sleep 0.5
done
echo "PHYLLO G2H-AFTER-RESET $(cat /tmp/again 2>/dev/null)"
EOF
debugfs -w -R "write $T/vsock.sh vsock.sh" "$disk" >/dev/null 2>&1 || fail "debugfs write"

log=$(test_log boot)
timeout -k 5 300 "$PHYLLO_VMM" -v --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M \
	--disk "path=$disk" --vsock "cid=3,socket=$sock" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/vsock.sh" \
	</dev/null >"$log" 2>&1 &
vmm_pid=$!
wait_line "$log" '^PHYLLO VSOCK-LISTEN 5000' 240 "$vmm_pid" ||
	fail_log "$log" "the guest's echo server did not start"

# Guest -> host on a port whose listener appears now (found by inotify).
python3 "$T/host.py" serve "${sock}_6001" "late-ok" "$T/late.md5" 2>"$T/late.err" &
late_pid=$!

# While it runs: its CID and its socket are taken.
errlog=$(test_log cid-taken)
run_vmm 60 "$errlog" --kernel "$PHYLLO_GUEST/vmlinuz" --serial off \
	--vsock "cid=3,socket=$T/other.sock"
status=$?
[[ $status -eq 1 ]] || fail_log "$errlog" "a second VM with cid=3 exited $status, expected 1"
expect_line "$errlog" 'cid=3 is already used by another VM'
errlog=$(test_log socket-taken)
run_vmm 60 "$errlog" --kernel "$PHYLLO_GUEST/vmlinuz" --serial off --vsock "cid=4,socket=$sock"
status=$?
[[ $status -eq 1 ]] || fail_log "$errlog" "a second VM on $sock exited $status, expected 1"
expect_line "$errlog" "is in use \\(another VMM listens there\\)"

# Host -> guest: refused, malformed, then the real exchange.
python3 "$T/host.py" client "$sock" 'CONNECT 5999\n' 0 >"$T/refused.out" 2>&1
grep -q '^CLIENT CLOSED-WITHOUT-OK' "$T/refused.out" ||
	fail "CONNECT to a port nobody listens on: $(cat "$T/refused.out")"
python3 "$T/host.py" client "$sock" 'HELLO 5000\n' 0 >"$T/bad.out" 2>&1
grep -q '^CLIENT CLOSED-WITHOUT-OK' "$T/bad.out" || fail "a bad command line: $(cat "$T/bad.out")"
python3 "$T/host.py" client "$sock" 'CONNECT 5000\n' 300000 >"$T/h2g.out" 2>&1
grep -Eq '^CLIENT ANSWER OK [0-9]+$' "$T/h2g.out" || fail "host -> guest: $(cat "$T/h2g.out")"
grep -q '^CLIENT ECHO SAME 300000$' "$T/h2g.out" || fail "host -> guest echo: $(cat "$T/h2g.out")"

wait "$vmm_pid"
status=$?
vmm_pid=
[[ $status -eq 0 ]] || fail_log "$log" "phyllo-vmm exited $status (expected 0 after power-off)"
expect_line "$log" '^PHYLLO PCI .*=1af4:1053'
expect_line "$log" '^PHYLLO VSOCK-ECHOED 300000'
expect_line "$log" '^PHYLLO ECHO-EXIT 0'
g2h_md5=$(report_value "$log" G2H-MD5)
[[ -n "$g2h_md5" ]] || fail_log "$log" "no G2H-MD5 line"
[[ "$(cat "$T/g2h.md5" 2>/dev/null)" == "$g2h_md5" ]] ||
	fail_log "$log" "the host got md5 '$(cat "$T/g2h.md5" 2>/dev/null)' from the guest, which sent $g2h_md5"
expect_line "$log" "^PHYLLO G2H-REPLY md5:$g2h_md5"
expect_line "$log" '^PHYLLO G2H-LATE late-ok'
expect_line "$log" '^PHYLLO VSOCK-RELOADED'
expect_line "$log" '^PHYLLO G2H-AFTER-RESET after-reset-ok'
if grep -q 'warning: virtio-vsock' "$log"; then
	fail_log "$log" "virtio-vsock warned: $(grep -m1 'warning: virtio-vsock' "$log")"
fi
[[ ! -e "$sock" ]] || fail "$sock is still there after the VMM exited"
echo "ok: host -> guest 300 kB echoed ($(grep -m1 '^CLIENT ANSWER' "$T/h2g.out"));" \
	"guest -> host 300 kB (md5 $g2h_md5), a late listener ($(report_value "$log" G2H-LATE))," \
	"and again after a device reset"

# A path that is not a socket.
touch "$T/file.sock"
errlog=$(test_log not-a-socket)
run_vmm 60 "$errlog" --kernel "$PHYLLO_GUEST/vmlinuz" --serial off \
	--vsock "cid=5,socket=$T/file.sock"
[[ $? -eq 1 ]] || fail_log "$errlog" "a regular file as the socket was accepted"
expect_line "$errlog" "file.sock' exists and is not a socket"

# No /dev/vhost-vsock: a private /dev with only what the VMM needs.
if command -v unshare >/dev/null; then
	kvm_dev=$(stat -c '%t %T' /dev/kvm)
	cat >"$T/nodev.sh" <<EOF
mount -t tmpfs tmpfs /dev || exit 90
mknod /dev/kvm c $((16#${kvm_dev% *})) $((16#${kvm_dev#* })) || exit 91
mknod /dev/null c 1 3 && mknod /dev/urandom c 1 9 || exit 92
exec "$PHYLLO_VMM" --kernel "$PHYLLO_GUEST/vmlinuz" --serial off --vsock "cid=6,socket=$T/nodev.sock"
EOF
	errlog=$(test_log no-vhost)
	timeout -k 5 60 unshare -m bash "$T/nodev.sh" </dev/null >"$errlog" 2>&1
	status=$?
	[[ $status -eq 1 ]] || fail_log "$errlog" "without /dev/vhost-vsock the VMM exited $status, expected 1"
	expect_line "$errlog" '/dev/vhost-vsock does not exist \(load the vhost_vsock kernel module'
	echo "ok: clear errors for a taken CID, a taken or bad socket path, no /dev/vhost-vsock"
else
	echo "ok: clear errors for a taken CID, a taken or bad socket path (no unshare: /dev/vhost-vsock case not run)"
fi
