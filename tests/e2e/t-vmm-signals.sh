#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGTERM and SIGINT shut a running guest down cleanly: exit status 0, a
# message saying why, within a few seconds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
for sig in TERM INT; do
	log=$(test_log "sig$sig")
	"$PHYLLO_VMM" -v --kernel "$PHYLLO_GUEST/vmlinuz" \
		--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
		--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=counter" --cpus boot=2 \
		--memory size=256M </dev/null >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 1 240); do
		grep -q '^PHYLLO COUNT 3' "$log" && break
		sleep 0.5
	done
	expect_line "$log" '^PHYLLO COUNT 3'
	kill -s "$sig" "$pid"
	for _ in $(seq 1 20); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "SIG$sig did not stop phyllo-vmm"; }
	wait "$pid"
	status=$?
	[ "$status" -eq 0 ] || fail "exit status $status after SIG$sig, expected 0"
	expect_line "$log" 'shutting down'
done
