#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sanity check of the test guest and of the box, with QEMU as the reference
# VMM: QEMU -accel kvm -M microvm boots build/guest (Debian's bzImage and
# the busybox initramfs) and the guest reports PHYLLO BOOT-OK, the right CPU
# count and memory, then powers off. When this fails, suspect the guest
# build or the box, not phyllo-vmm.
# shellcheck source-path=SCRIPTDIR
# timeout: 240
# packages: qemu-system-x86
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -euo pipefail

[[ -f "$PHYLLO_GUEST/vmlinuz" && -f "$PHYLLO_GUEST/initramfs.cpio.gz" ]] ||
	fail "no guest in $PHYLLO_GUEST: run tests/guest/build.sh"
[[ -c /dev/kvm ]] || fail "no /dev/kvm here"

log=$PHYLLO_TMP/console.log
start=$EPOCHREALTIME
rc=0
timeout -k 5 200 qemu-system-x86_64 -accel kvm -M microvm -cpu host -smp 2 -m 256 \
	-nodefaults -no-user-config -display none -no-reboot \
	-serial "file:$log" \
	-kernel "$PHYLLO_GUEST/vmlinuz" -initrd "$PHYLLO_GUEST/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet" </dev/null || rc=$?
note "QEMU microvm: exit $rc after $(secs_since "$start") s wall"
cat "$log"
((rc == 0)) || fail "QEMU exited with $rc"
expect_line "$log" '^PHYLLO BOOT-OK'
expect_line "$log" '^PHYLLO CPUS 2'
expect_line "$log" '^PHYLLO MEM-KB [0-9]+'
expect_line "$log" "^PHYLLO KERNEL $(cat "$PHYLLO_GUEST/kernel-version")"
