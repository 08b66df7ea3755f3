#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-net with user-mode networking (libslirp). The guest sees the
# network function (1af4:1041), gets 10.0.2.15 by DHCP and downloads a
# random 1 MiB file from an HTTP server on the box's loopback through
# 10.0.2.2; the checksum must match. It asks 10.0.2.3 for a name (the box
# has no network: that part is reported, not counted). A host port forward
# reaches a server in the guest; with restrict=on the guest cannot reach
# the host. The MAC is QEMU's default or mac=, the MTU 1500. Guest scripts
# live on an ext4 disk written with debugfs.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
disk=$T/net.ext4

# free_port: a TCP port nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
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

web=$T/www
mkdir -p "$web"
head -c 1048576 /dev/urandom >"$web/blob"
want_md5=$(md5sum <"$web/blob" | cut -d' ' -f1)
http_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$web" "$http_port" >"$T/http.log" 2>&1 &
http_pid=$!
vmm_pid=
trap 'kill $http_pid $vmm_pid 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT
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
if timeout 60 wget -q -O /tmp/blob http://10.0.2.2:$http_port/blob; then
	echo \"PHYLLO WGET-MD5 \$(md5sum </tmp/blob | cut -d' ' -f1)\"
else
	echo \"PHYLLO WGET-FAILED \$?\"
fi
if timeout 10 nslookup localhost 10.0.2.3 >/tmp/ns 2>&1; then
	echo PHYLLO DNS-ANSWERED
else
	echo \"PHYLLO DNS-NO-ANSWER \$(tr '\n' ' ' </tmp/ns)\"
fi"
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

# 1. DHCP, then a download from the host's loopback through 10.0.2.2.
log=$(test_log get)
boot_net "$log" get.sh user=on || fail_log "$log" "download boot exited $?"
expect_line "$log" '^PHYLLO PCI .*=1af4:1041'
expect_line "$log" '^PHYLLO DHCP 10\.0\.2\.15 ROUTER 10\.0\.2\.2'
expect_line "$log" "^PHYLLO WGET-MD5 $want_md5"
expect_line "$log" '^PHYLLO NIC 52:54:00:12:34:56 MTU 1500'
echo "ok: DHCP gave 10.0.2.15, 1 MiB through 10.0.2.2 has md5 $want_md5"
if grep -q '^PHYLLO DNS-ANSWERED' "$log"; then
	echo "ok: 10.0.2.3 answered a DNS query"
else
	echo "not tested: DNS through 10.0.2.3 (the box has no resolver): $(grep -a '^PHYLLO DNS' "$log")"
fi

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
