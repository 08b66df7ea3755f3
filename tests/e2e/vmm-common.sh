# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the t-vmm-*.sh tests: boot the test guest with phyllo-vmm and
# check the guest's "PHYLLO ..." report lines. Sourced after lib.sh.

# nopvspin: in the nested box a guest's paravirtual spinlock waiter halts
# with interrupts off until the holder's KVM_HC_KICK_CPU, and one kick the
# box loses (its lost wakeups, docs/testing.md) hangs the guest for good:
# seen as vCPU 0 in native_halt and vCPU 1 in the PV slow path. Plain
# spinning turns such a loss into a delay. The kick is KVM's, not ours.
GUEST_CMDLINE_BASE="console=ttyS0 quiet nopvspin"

# boot_guest LOG MODE [VMM ARGS...]: boot the bzImage with the initramfs.
boot_guest() {
	local log=$1 mode=$2
	shift 2
	run_vmm 240 "$log" --kernel "$PHYLLO_GUEST/vmlinuz" \
		--initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
		--cmdline "$GUEST_CMDLINE_BASE phyllo.mode=$mode" "$@" </dev/null
}

# report_value LOG KEY: the value of the guest's "PHYLLO KEY value" line.
report_value() {
	tr -d '\r' <"$1" | sed -n "s/^PHYLLO $2 //p" | head -n 1
}

# check_boot CPUS MEM_MIB [VMM ARGS...]: boot, expect CPUS vCPUs and about
# MEM_MIB of memory in the guest, and a clean power-off (status 0).
check_boot() {
	local cpus=$1 mib=$2 log status got_cpus got_kb want_kb
	shift 2
	log=$(test_log "boot-$cpus-$mib")
	boot_guest "$log" poweroff --cpus "boot=$cpus" --memory "size=${mib}M" "$@"
	status=$?
	[ "$status" -eq 0 ] || fail "phyllo-vmm exited $status (expected 0 after power-off)"
	expect_line "$log" '^PHYLLO BOOT-OK'
	got_cpus=$(report_value "$log" CPUS)
	[ "$got_cpus" = "$cpus" ] || fail "guest counts '$got_cpus' CPUs, expected $cpus"
	got_kb=$(report_value "$log" MEM-KB)
	want_kb=$((mib * 1024))
	# MemTotal is RAM less what the kernel keeps for itself: its image and
	# initramfs (about 50 MiB for Debian's) and its page structs (1.6%).
	[ -n "$got_kb" ] && [ "$got_kb" -le "$want_kb" ] &&
		[ "$got_kb" -ge $((want_kb * 97 / 100 - 65536)) ] ||
		fail "guest MemTotal is '$got_kb' kB, expected a little under $want_kb kB"
	# The PCI host bridge (Q35 IDs) is found through ECAM/0xCF8.
	expect_line "$log" '^PHYLLO PCI .*00\.0=8086:29c0'
	check_acpi "$log" "$cpus" "$mib"
	echo "ok: $cpus vCPUs, ${mib} MiB: guest sees $got_cpus CPUs and $got_kb kB"
}

# check_acpi LOG CPUS MEM_MIB: the ACPI tables the guest saw (its "PHYLLO
# ACPI" line) are byte for byte those of tests/e2e/acpi/<CPUS>cpu-<MIB>m.sums,
# recorded from a known-good build: a change to them must be deliberate (and
# the file updated with it), never a side effect of moving code around.
check_acpi() {
	local got want f="$PHYLLO_TOP/tests/e2e/acpi/${2}cpu-${3}m.sums"
	got=$(report_value "$1" ACPI)
	[ -n "$got" ] || fail "the guest reported no ACPI tables"
	[ -f "$f" ] || fail "no recorded ACPI tables in $f; the guest saw: $got"
	want=$(grep -v '^#' "$f" | tr '\n' ' ' | sed 's/ *$//')
	[ "$got" = "$want" ] || fail "the guest's ACPI tables differ from $f: got '$got', want '$want'"
}

# test_log NAME: a log file path for this test.
test_log() {
	echo "${PHYLLO_LOGDIR:-$PHYLLO_BUILD/e2e-logs}/$(basename "$0" .sh)-$1.log"
}
