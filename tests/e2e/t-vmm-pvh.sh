#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The same kernel as an uncompressed ELF (vmlinux) boots through its PVH
# entry point, as Cloud Hypervisor boots it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
log=$(test_log pvh)
run_vmm 240 "$log" --kernel "$PHYLLO_GUEST/vmlinux" \
	--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
	--cmdline "$GUEST_CMDLINE_BASE" --cpus boot=2 --memory size=256M </dev/null
status=$?
[ "$status" -eq 0 ] || fail "phyllo-vmm exited $status"
expect_line "$log" '^PHYLLO BOOT-OK'
[ "$(report_value "$log" CPUS)" = 2 ] || fail "PVH guest does not see 2 CPUs"
