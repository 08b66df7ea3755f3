#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A line typed on stdin after the guest prompts reaches the guest through
# the UART and comes back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
log=$(test_log stdin)
fifo=$PHYLLO_TMP/stdin.fifo
mkfifo "$fifo"
"$PHYLLO_VMM" --kernel "$PHYLLO_GUEST/vmlinuz" --initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
	--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=echo" --memory size=256M \
	<"$fifo" >"$log" 2>&1 &
pid=$!
exec 3>"$fifo" # hold the writer open: no EOF for the VMM
for _ in $(seq 1 240); do
	grep -q '^PHYLLO PROMPT' "$log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
expect_line "$log" '^PHYLLO PROMPT'
echo "hello from the host 42" >&3
for _ in $(seq 1 60); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.5
done
kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "guest did not power off after the echo"; }
wait "$pid" || fail "phyllo-vmm exited $?"
expect_line "$log" '^PHYLLO ECHO hello from the host 42'
