#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The same kernel as an uncompressed ELF (vmlinux) boots through its PVH
# entry point, as Cloud Hypervisor boots it. This boot has taken 18 s in
# some suite runs and 108-139 s in others (the guest's own clock: 25 s);
# the likely cost is reading the 66 MB ELF through the box's 9p share with
# cold caches (the runner drops them before each test): long limits.
# timeout: 500
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
log=$(test_log pvh)
run_vmm 420 "$log" --kernel "$PHYLLO_GUEST/vmlinux" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
	--cmdline "$GUEST_CMDLINE_BASE" --cpus boot=2 --memory size=256M </dev/null
status=$?
[ "$status" -eq 0 ] || fail "phyllo-vmm exited $status"
expect_line "$log" '^PHYLLO BOOT-OK'
[ "$(report_value "$log" CPUS)" = 2 ] || fail "PVH guest does not see 2 CPUs"
