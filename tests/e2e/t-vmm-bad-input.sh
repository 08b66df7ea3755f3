#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input gets one line naming the problem and a non-zero status; never a
# crash (a signal exit status), never a hang.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
K=$PHYLLO_GUEST/vmlinuz
I=$PHYLLO_GUEST/initramfs.cpio.gz
errors=0

# case NEEDLE ARGS...: phyllo-vmm ARGS must exit 1 with one stderr line
# containing NEEDLE.
case_() {
	local needle=$1 out status lines
	shift
	out=$(timeout 30 "$PHYLLO_VMM" "$@" 2>&1 >/dev/null </dev/null)
	status=$?
	lines=$(printf '%s\n' "$out" | grep -c .)
	if [ "$status" -ne 1 ] || [ "$lines" -ne 1 ] || [[ "$out" != *"$needle"* ]]; then
		echo "FAIL: phyllo-vmm $* -> status $status, $lines line(s): $out (expected '$needle')"
		errors=$((errors + 1))
	else
		echo "ok: $out"
	fi
}

case_ "--kernel: cannot open '/nonexistent/bzImage'" --kernel /nonexistent/bzImage
case_ "is not a kernel" --kernel /etc/os-release
case_ "is not a regular file" --kernel /tmp
case_ "--initramfs: cannot open" --kernel "$K" --initramfs /nonexistent.cpio
case_ "no --kernel given" --cpus boot=1
case_ "--memory: size 32M is too little" --kernel "$K" --memory size=32M
case_ "too little memory for this kernel" --kernel "$K" --initramfs "$I" --memory size=64M
case_ "more than this host has" --kernel "$K" --memory size=64T
case_ "--memory: invalid size 'lots'" --kernel "$K" --memory size=lots
case_ "--cpus: boot vCPUs must be 1 to 65535, not 0" --kernel "$K" --cpus boot=0
case_ "--cpus: boot=4000 is more than this host allows" --kernel "$K" --cpus boot=4000
case_ "--cpus: invalid boot='two'" --kernel "$K" --cpus boot=two
case_ "unknown option '--frobnicate'" --kernel "$K" --frobnicate
case_ "--serial: invalid mode 'usb'" --kernel "$K" --serial usb
case_ "--serial: cannot open '/nonexistent/dir/log'" --kernel "$K" --serial file=/nonexistent/dir/log
case_ "option '--kernel' needs a value" --kernel
case_ "--cmdline: 3000 bytes" --kernel "$K" --cmdline "$(printf 'a%.0s' $(seq 1 3000))"
case_ "num_queues=4: user-mode networking has one queue pair" --kernel "$K" --net user=on,num_queues=4
case_ "is one tap queue: num_queues=4 needs tap=NAME" --kernel "$K" --net fd=0,num_queues=4

[ "$errors" -eq 0 ] || fail "$errors bad-input case(s) misbehaved"
