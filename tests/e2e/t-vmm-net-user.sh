#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-net with user-mode networking (libslirp). The guest sees the
# network function (1af4:1041), gets 10.0.2.15 by DHCP and downloads a
# random 1 MiB file from an HTTP server on the box's loopback through
# 10.0.2.2; the checksum must match. It resolves a name through 10.0.2.3:
# libslirp relays to the host's resolver, here a tiny DNS server on the
# box's 127.0.0.1:53 that the VMM's /etc/resolv.conf names (a private mount
# namespace binds a resolv.conf over it for that VMM only; needs root, as
# the box gives). A host port forward
# reaches a server in the guest; with restrict=on the guest cannot reach
# the host. The MAC is QEMU's default or mac=, the MTU 1500. Guest scripts
# live on an ext4 disk written with debugfs.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
disk=$T/net.ext4

put_file() {
	printf '%s\n' "$3" >"$T/put.tmp"
	debugfs -w -R "write $T/put.tmp $2" "$1" >/dev/null 2>&1 || fail "debugfs write $2"
}
# boot_net LOG SCRIPT NETARG: boot with the disk mounted and one --net.
boot_net() {
	run_vmm 240 "$1" -v --kernel "$PHYLLO_GUEST/vmlinuz" \
		--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M \
		--disk "path=$disk" --net "$3" \
		--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/$2" \
		</dev/null
}

serve_blob 127.0.0.1
want_md5=$BLOB_MD5 http_port=$HTTP_PORT http_pid=$HTTP_PID
dns_pid=
# A DNS server that knows one name (A 10.9.8.7) and says NXDOMAIN otherwise.
cat >"$T/dns.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace")); i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    print("query", name, qtype, flush=True)
    known = name == "phyllo-dns.test"
    flags = 0x8180 if known else 0x8183
    answers = b""
    if known and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 9, 8, 7])
    s.sendto(q[:2] + struct.pack(">HHHHH", flags, 1, 1 if answers else 0, 0, 0) + question + answers, peer)
PY
vmm_pid=
trap 'kill $http_pid $vmm_pid $dns_pid 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT
for _ in $(seq 1 600); do
	curl -s -o /dev/null "http://127.0.0.1:$http_port/" && break
	sleep 0.1
done
curl -s -o /dev/null "http://127.0.0.1:$http_port/" || fail "the host's HTTP server did not start"

truncate -s 16M "$disk"
mkfs.ext4 -q -F "$disk" || fail "mkfs.ext4"
# udhcpc applies nothing itself: its script does. (Busybox 1.35 wget -T
# segfaults, hence timeout(1) around wget.)
# shellcheck disable=SC2016 # the guest's shell expands these
put_file "$disk" dhcp.sh 'case "$1" in
bound|renew)
	ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
	[ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
	echo "PHYLLO DHCP $ip ROUTER $router DNS $dns"
	;;
esac
exit 0'
dhcp='cp /mnt/dhcp.sh /tmp/dhcp.sh; chmod +x /tmp/dhcp.sh
ifconfig eth0 up
udhcpc -i eth0 -n -q -t 5 -T 2 -s /tmp/dhcp.sh || echo "PHYLLO DHCP-FAILED"'
put_file "$disk" get.sh "$dhcp
echo \"PHYLLO NIC \$(cat /sys/class/net/eth0/address) MTU \$(cat /sys/class/net/eth0/mtu)\"
echo \"PHYLLO FEATURES \$(cat /sys/class/net/eth0/device/features)\"
if timeout 60 wget -q -O /tmp/blob http://10.0.2.2:$http_port/blob; then
	echo \"PHYLLO WGET-MD5 \$(md5sum </tmp/blob | cut -d' ' -f1)\"
else
	echo \"PHYLLO WGET-FAILED \$?\"
fi
timeout 20 nslookup phyllo-dns.test 10.0.2.3 >/tmp/ns 2>&1
echo \"PHYLLO DNS \$(tr '\n' ' ' </tmp/ns)\""
put_file "$disk" serve.sh "$dhcp
mkdir -p /tmp/www && echo served-from-the-guest-42 >/tmp/www/index.html
httpd -p 8080 -h /tmp/www && echo PHYLLO HTTPD-UP
sleep 120"
put_file "$disk" restricted.sh "$dhcp
echo \"PHYLLO NIC \$(cat /sys/class/net/eth0/address)\"
if timeout 15 wget -q -O /tmp/blob http://10.0.2.2:$http_port/blob; then
	echo PHYLLO RESTRICTED-WGET-SUCCEEDED
else
	echo PHYLLO RESTRICTED-WGET-FAILED
fi"

# 1. DHCP, then a download from the host's loopback through 10.0.2.2, and
# a name through 10.0.2.3.
((EUID == 0)) || fail "the DNS part needs root (a DNS server on 127.0.0.1:53, a mount namespace)"
python3 "$T/dns.py" >"$T/dns.log" 2>&1 &
dns_pid=$!
wait_line "$T/dns.log" '^ready' 30 "$dns_pid" || fail "the test's DNS server did not start: $(cat "$T/dns.log")"
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
printf '#!/bin/bash\nexec unshare -m --propagation private bash -c %s %q %q "$@"\n' \
	"'mount --bind \"\$0\" /etc/resolv.conf && exec \"\$@\"'" "$T/resolv.conf" "$PHYLLO_VMM" \
	>"$T/vmm-dns.sh"
chmod +x "$T/vmm-dns.sh"
log=$(test_log get)
PHYLLO_VMM=$T/vmm-dns.sh boot_net "$log" get.sh user=on || fail_log "$log" "download boot exited $?"
expect_line "$log" '^PHYLLO PCI .*=1af4:1041'
expect_line "$log" '^PHYLLO DHCP 10\.0\.2\.15 ROUTER 10\.0\.2\.2'
expect_line "$log" "^PHYLLO WGET-MD5 $want_md5"
expect_line "$log" '^PHYLLO NIC 52:54:00:12:34:56 MTU 1500'
echo "ok: DHCP gave 10.0.2.15, 1 MiB through 10.0.2.2 has md5 $want_md5"
# libslirp wants whole, checksummed frames: no offload may be offered.
features=$(sed -n 's/^PHYLLO FEATURES \([01]*\).*/\1/p' "$log" | tr -d '\r')
[ ${#features} -ge 16 ] || fail "no feature string from the guest: '$features'"
for bit in 0 1 7 8 9 11 12 13; do
	[ "${features:$bit:1}" = 0 ] || fail "user mode offers offload bit $bit: '$features'"
done
expect_line "$log" '^PHYLLO DNS .*Address:? *(1: *)?10\.9\.8\.7'
grep -q '^query phyllo-dns.test' "$T/dns.log" || fail "the host's resolver never saw the query"
echo "ok: phyllo-dns.test resolved through 10.0.2.3 by the host's resolver: 10.9.8.7"
kill "$dns_pid" 2>/dev/null

# 2. A host port forward to a server in the guest.
fwd_port=$(free_port)
log=$(test_log hostfwd)
"$PHYLLO_VMM" -v --kernel "$PHYLLO_GUEST/vmlinuz" --initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
	--memory size=256M --disk "path=$disk" --net "user=on,hostfwd=tcp:127.0.0.1:$fwd_port-:8080" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/serve.sh" \
	</dev/null >"$log" 2>&1 &
vmm_pid=$!
wait_line "$log" '^PHYLLO HTTPD-UP' 200 "$vmm_pid" || fail_log "$log" "the guest's httpd did not start"
got=$(curl -s --max-time 20 "http://127.0.0.1:$fwd_port/index.html") ||
	fail "curl through hostfwd to the guest failed"
[ "$got" = served-from-the-guest-42 ] || fail "hostfwd returned '$got'"
kill -TERM "$vmm_pid"
wait "$vmm_pid"
status=$?
vmm_pid=
[ "$status" -eq 0 ] || fail_log "$log" "the VMM exited $status after SIGTERM"
echo "ok: 127.0.0.1:$fwd_port -> guest:8080 served '$got'"

# 3. restrict=on: DHCP works, the host cannot be reached.
log=$(test_log restricted)
boot_net "$log" restricted.sh user=on,restrict=on,mac=52:54:00:ab:cd:ef ||
	fail_log "$log" "restricted boot exited $?"
expect_line "$log" '^PHYLLO NIC 52:54:00:ab:cd:ef'
expect_line "$log" '^PHYLLO DHCP 10\.0\.2\.15'
expect_line "$log" '^PHYLLO RESTRICTED-WGET-FAILED'
echo "ok: restrict=on: the guest's wget to 10.0.2.2 fails"

# 4. Bad rules, a host port in use and an fd that is no tap fail cleanly, in one line.
for bad in "user=on,hostfwd=tcp:127.0.0.1:notaport-:80" "user=on,hostfwd=icmp::1-:2" \
	"user=on,hostfwd=tcp:127.0.0.1:$http_port-:80" "fd=3"; do
	"$PHYLLO_VMM" --kernel "$PHYLLO_GUEST/vmlinuz" --memory size=128M --net "$bad" \
		</dev/null >"$T/bad.out" 2>&1
	status=$?
	[ "$status" -eq 1 ] || fail "--net $bad exited $status: $(cat "$T/bad.out")"
	[ "$(grep -c . "$T/bad.out")" -eq 1 ] || fail "--net $bad: expected one line: $(cat "$T/bad.out")"
	echo "ok: --net $bad: $(cat "$T/bad.out")"
done
