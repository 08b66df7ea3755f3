#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# virtio-net on a tap: --net tap=NAME,ip=,mask= creates the tap, addresses
# the host side and brings it up; the guest takes a static address on that
# link and downloads a random 1 MiB file from an HTTP server on the host
# side; the checksum must match. Needs root and the tun module (loaded from
# the test guest's module tree when the box lacks it). Then the same through
# the REST API with the net entry of Cloud Hypervisor's documented vm.create
# body (ip, mask, mac and no tap name): phyllo-vmm creates a tap named by
# the kernel (vmtapN), as Cloud Hypervisor does.
# timeout: 400
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
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

web=$T/www
mkdir -p "$web"
head -c 1048576 /dev/urandom >"$web/blob"
want_md5=$(md5sum <"$web/blob" | cut -d' ' -f1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 0.0.0.0 --directory "$web" "$port" >"$T/http.log" 2>&1 &
http_pid=$!
trap 'kill $http_pid 2>/dev/null; rm -rf "$PHYLLO_TMP"' EXIT

truncate -s 16M "$disk"
mkfs.ext4 -q -F "$disk" || fail "mkfs.ext4"
printf '%s\n' "ifconfig eth0 $guest_ip netmask 255.255.255.0 up
echo \"PHYLLO NIC \$(cat /sys/class/net/eth0/address)\"
if timeout 60 wget -q -O /tmp/blob http://$host_ip:$port/blob; then
	echo \"PHYLLO WGET-MD5 \$(md5sum </tmp/blob | cut -d' ' -f1)\"
else
	echo \"PHYLLO WGET-FAILED \$?\"
fi" >"$T/get.sh"
debugfs -w -R "write $T/get.sh get.sh" "$disk" >/dev/null 2>&1 || fail "debugfs write"

log=$(test_log get)
run_vmm 240 "$log" -v --kernel "$PHYLLO_GUEST/vmlinuz" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" --memory size=256M \
	--disk "path=$disk" --net "tap=$tap,ip=$host_ip,mask=255.255.255.0" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/get.sh" \
	</dev/null || fail_log "$log" "tap boot exited $?"
expect_line "$log" '^PHYLLO PCI .*=1af4:1041'
expect_line "$log" '^PHYLLO NIC 52:54:00:12:34:56'
expect_line "$log" "^PHYLLO WGET-MD5 $want_md5"
echo "ok: tap $tap: 1 MiB from $host_ip has md5 $want_md5"

# The API with Cloud Hypervisor's net entry: no tap name, a kernel-named tap.
log=$(test_log api)
cat >"$T/vm.json" <<EOF
{
  "cpus": {"boot_vcpus": 1, "max_vcpus": 1},
  "memory": {"size": 268435456},
  "payload": {"kernel": "$PHYLLO_GUEST/vmlinuz", "initramfs": "$PHYLLO_GUEST/initramfs.cpio.gz",
              "cmdline": "$GUEST_CMDLINE_BASE phyllo.mount=/dev/vda phyllo.mode=run phyllo.run=/mnt/get.sh"},
  "disks": [{"path": "$disk"}],
  "rng": {"src": "/dev/urandom"},
  "net": [{"ip": "$host_ip", "mask": "255.255.255.0", "mac": "12:34:56:78:90:01"}],
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
