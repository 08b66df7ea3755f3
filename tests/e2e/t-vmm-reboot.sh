#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A guest reboot boots the guest again in the same process (the boot count
# is kept in CMOS RAM, which survives the reset); then power-off exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
log=$(test_log reboot)
boot_guest "$log" reboot --cpus boot=2 --memory size=256M
status=$?
[ "$status" -eq 0 ] || fail "phyllo-vmm exited $status"
expect_line "$log" '^PHYLLO BOOT-COUNT 1'
expect_line "$log" '^PHYLLO BOOT-COUNT 2'
boots=$(tr -d '\r' <"$log" | grep -c '^PHYLLO BOOT-OK')
[ "$boots" -eq 2 ] || fail "counted $boots boots, expected 2"
