#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# valgrind memcheck over a whole boot (2 vCPUs, power-off at the end):
# no errors, no leaks. --fair-sched: valgrind runs one thread at a time and
# its default lock is unfair, so one vCPU thread can starve the other; one
# run timed out with the guest reporting a soft lockup.
# timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/install-deps.sh installs it)"
log=$(test_log valgrind)
vlog=$(test_log valgrind-report)
timeout 540 valgrind --fair-sched=yes --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --log-file="$vlog" \
	"$PHYLLO_VMM" --kernel "$PHYLLO_GUEST/vmlinuz" --initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
	--cmdline "$GUEST_CMDLINE_BASE" --cpus boot=2 --memory size=256M </dev/null >"$log" 2>&1
status=$?
[ "$status" -eq 0 ] || { tail -n 40 "$vlog"; fail "valgrind run exited $status"; }
expect_line "$log" '^PHYLLO BOOT-OK'
expect_line "$vlog" 'ERROR SUMMARY: 0 errors'
