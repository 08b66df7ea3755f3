#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-net on a tap: --net tap=NAME,ip=,mask= creates the tap, addresses
# the host side and brings it up; the guest takes a static address on that
# link and downloads a random 1 MiB file from an HTTP server on the host
# side; the checksum must match. Both ways on the same boot: the guest
# pings the host and the host (busybox ping) the guest, and the guest sends
# 300 kB of random data to a host listener (busybox nc), md5 compared.
# Everything runs in a network namespace of its own (the script runs itself
# again under unshare -n), so the taps, addresses and servers touch nothing
# else. Needs root and the tun module (loaded from the test guest's module
# tree when the box lacks it). Then the same through
# the REST API with the net entry of Cloud Hypervisor's documented vm.create
# body (ip, mask, mac and no tap name): phyllo-vmm creates a tap named by
# the kernel (vmtapN), as Cloud Hypervisor does; with num_queues 4 and two
# vCPUs, the guest's driver takes both queue pairs (MQ over the control
# queue; the tap is a multiqueue tap) and the download goes through them.
# timeout: 400
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
if [ -z "${PHYLLO_NETNS:-}" ]; then
	PHYLLO_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up || fail "no loopback in the test's network namespace"
T=$PHYLLO_TMP
disk=$T/net.ext4
tap=phytap$$
host_ip=192.168.249.1
guest_ip=192.168.249.2

if ! python3 -c 'import os; os.close(os.open("/dev/net/tun", os.O_RDWR))' 2>/dev/null; then
	insmod "$PHYLLO_GUEST"/modules/lib/modules/*/kernel/drivers/net/tun.ko 2>/dev/null
	[ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
	python3 -c 'import os; os.close(os.open("/dev/net/tun", os.O_RDWR))' 2>"$T/tun.err" ||
		fail "no usable /dev/net/tun: $(cat "$T/tun.err")"
fi

serve_blob 0.0.0.0
web=$T/www want_md5=$BLOB_MD5 port=$HTTP_PORT http_pid=$HTTP_PID
vmm='' up_pid=''
trap 'kill $http_pid 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT

truncate -s 16M "$disk"
mkfs.ext4 -q -F "$disk" || fail "mkfs.ext4"
printf '%s\n' "ifconfig eth0 $guest_ip netmask 255.255.255.0 up
echo \"PHYLLO NIC \$(cat /sys/class/net/eth0/address)\"
echo \"PHYLLO FEATURES \$(cat /sys/class/net/eth0/device/features)\"
echo \"PHYLLO QUEUES \$(ls /sys/class/net/eth0/queues | tr '\\n' ' ')\"
if timeout 60 wget -q -O /tmp/blob http://$host_ip:$port/blob; then
	echo \"PHYLLO WGET-MD5 \$(md5sum </tmp/blob | cut -d' ' -f1)\"
else
	echo \"PHYLLO WGET-FAILED \$?\"
fi" >"$T/get.sh"
# The first boot also pings both ways and uploads; it waits (at most 120 s)
# for the host to put "go" on the web server once it has pinged the guest.
up_port=$(free_port 0.0.0.0)
{ cat "$T/get.sh"; printf '%s\n' "if ping -c 3 -W 5 $host_ip >/tmp/ping 2>&1; then
	echo \"PHYLLO PING-HOST ok\"
else
	echo \"PHYLLO PING-HOST failed: \$(tr '\\n' ' ' </tmp/ping)\"
fi
head -c 300000 /dev/urandom >/tmp/up
echo \"PHYLLO UP-MD5 \$(md5sum </tmp/up | cut -d' ' -f1)\"
nc $host_ip $up_port </tmp/up && echo \"PHYLLO UP-SENT\"
echo \"PHYLLO WAIT-PING\"
i=0
until wget -q -O /tmp/go http://$host_ip:$port/go 2>/dev/null; do
	i=\$((i + 1))
	[ \$i -lt 120 ] || break
	sleep 1
done
echo \"PHYLLO GO after \$i s\""; } >"$T/both.sh"
debugfs -w -R "write $T/get.sh get.sh" "$disk" >/dev/null 2>&1 || fail "debugfs write"
debugfs -w -R "write $T/both.sh both.sh" "$disk" >/dev/null 2>&1 || fail "debugfs write"
# One connection's bytes, md5'd to a file (python's, so nothing is buffered).
python3 - "$up_port" "$T/up.md5" >"$T/up.err" 2>&1 <<'PY' &
import hashlib, socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", int(sys.argv[1]))); srv.listen(1); srv.settimeout(300)
c, _ = srv.accept(); h = hashlib.md5(); n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b); n += len(b)
open(sys.argv[2], "w").write("%s %d\n" % (h.hexdigest(), n))
PY
up_pid=$!
trap 'kill $http_pid $up_pid $vmm 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT

log=$(test_log get)
timeout -k 5 300 "$PHYLLO_VMM" -v --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M \
	--disk "path=$disk" --net "tap=$tap,ip=$host_ip,mask=255.255.255.0" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/both.sh" \
	</dev/null >"$log" 2>&1 &
vmm=$!
wait_line "$log" '^PHYLLO WAIT-PING' 240 "$vmm" || fail_log "$log" "the guest did not get to its ping wait"
busybox ping -c 3 -W 5 "$guest_ip" >"$T/ping.out" 2>&1 || true
touch "$web/go"
wait "$vmm" || fail_log "$log" "tap boot exited $?"
vmm=
expect_line "$log" '^PHYLLO PCI .*=1af4:1041'
expect_line "$log" '^PHYLLO NIC 52:54:00:12:34:56'
expect_line "$log" '^PHYLLO QUEUES rx-0 tx-0 '
expect_line "$log" "^PHYLLO WGET-MD5 $want_md5"
echo "ok: tap $tap: 1 MiB from $host_ip has md5 $want_md5"
# Offloads negotiated (the virtio feature string, bit N at offset N): CSUM
# 0, GUEST_CSUM 1, GUEST_TSO4 7, GUEST_TSO6 8, HOST_TSO4 11, HOST_TSO6 12.
features=$(sed -n 's/^PHYLLO FEATURES \([01]*\).*/\1/p' "$log" | tr -d '\r')
for bit in 0 1 7 8 11 12; do
	[ "${features:$bit:1}" = 1 ] || fail "offload feature bit $bit not negotiated on the tap: '$features'"
done
echo "ok: checksum and TSO offloads negotiated both ways (features $features)"
expect_line "$log" '^PHYLLO PING-HOST ok'
grep -q ' 0% packet loss' "$T/ping.out" || fail "the host could not ping the guest: $(cat "$T/ping.out")"
echo "ok: ping both ways: $(grep 'packet loss' "$T/ping.out")"
expect_line "$log" '^PHYLLO UP-SENT'
up_md5=$(sed -n 's/^PHYLLO UP-MD5 \([0-9a-f]*\).*/\1/p' "$log" | tr -d '\r')
wait "$up_pid" || fail "the upload listener failed: $(cat "$T/up.err")"
[ "$(cat "$T/up.md5")" = "$up_md5 300000" ] ||
	fail "guest -> host upload: host got '$(cat "$T/up.md5")', guest sent md5 $up_md5 of 300000 bytes"
echo "ok: guest -> host: 300000 bytes, md5 $up_md5"

# The API with Cloud Hypervisor's net entry: no tap name, a kernel-named tap.
log=$(test_log api)
cat >"$T/vm.json" <<EOF
{
  "cpus": {"boot_vcpus": 2, "max_vcpus": 2},
  "memory": {"size": 268435456},
  "payload": {"kernel": "$PHYLLO_GUEST/vmlinuz", "initramfs": "$PHYLLO_GUEST/initramfs.cpio.gz",
              "cmdline": "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/get.sh"},
  "disks": [{"path": "$disk"}],
  "rng": {"src": "/dev/urandom"},
  "net": [{"ip": "$host_ip", "mask": "255.255.255.0", "mac": "12:34:56:78:90:01", "num_queues": 4}],
  "serial": {"mode": "Tty"}
}
EOF
"$PHYLLO_VMM" -v --api-socket "$T/api.sock" </dev/null >"$log" 2>&1 &
vmm=$!
wait_socket "$T/api.sock" 120 "$vmm" || fail_log "$log" "no API socket"
code=$(curl -s --max-time 60 --unix-socket "$T/api.sock" -X PUT -o "$T/body" -w '%{http_code}' \
	-H 'Content-Type: application/json' -d @"$T/vm.json" http://localhost/api/v1/vm.create)
[ "$code" = 204 ] || fail_log "$log" "vm.create: HTTP $code $(cat "$T/body")"
code=$(curl -s --max-time 60 --unix-socket "$T/api.sock" -X PUT -o "$T/body" -w '%{http_code}' \
	http://localhost/api/v1/vm.boot)
[ "$code" = 204 ] || fail_log "$log" "vm.boot: HTTP $code $(cat "$T/body")"
wait "$vmm" || fail_log "$log" "the API-created VM exited $?"
expect_line "$log" 'created tap vmtap[0-9]+'
expect_line "$log" '^PHYLLO NIC 12:34:56:78:90:01'
expect_line "$log" "^PHYLLO WGET-MD5 $want_md5"
echo "ok: vm.create with Cloud Hypervisor's net entry: $(grep -o 'created tap vmtap[0-9]*' "$log"), 1 MiB md5 $want_md5"
expect_line "$log" '^PHYLLO QUEUES rx-0 rx-1 tx-0 tx-1'
features=$(sed -n 's/^PHYLLO FEATURES \([01]*\).*/\1/p' "$log" | tr -d '\r')
[ "${features:17:1}${features:22:1}" = 11 ] || fail "CTRL_VQ and MQ not negotiated: '$features'"
echo "ok: multiqueue: the guest uses 2 queue pairs (CTRL_VQ, MQ negotiated)"
