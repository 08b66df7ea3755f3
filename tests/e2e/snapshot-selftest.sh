#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Snapshot and restore at the KVM level, with the building blocks phyllo-vmm
# will use (src/snapshot, src/arch/x86/cpu_state.c, vm_state.c): a guest
# saved by one process carries on in another from exactly where it stopped,
# KVM reads back the state that was saved, the guest's clock does not show
# the time in between, and damaged snapshots are refused with a message
# that names the damage. The program is tests/e2e/snapshot_selftest.c.
#
# Not part of `make check` (hence no t- prefix): in the nested TCG box its
# restores have frozen the whole box about 3 times in 100 runs (never
# explained; see docs/testing.md), and a frozen box only ends at the
# suite's outer time limit. Run it by hand:
#   tools/kvmbox -- tests/e2e/snapshot-selftest.sh
# phyllo-vmm's own snapshot and restore are tested by t-vmm-snapshot.sh.
# shellcheck source-path=SCRIPTDIR
# timeout: 400
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -euo pipefail

bin=$PHYLLO_BUILD/tests/e2e/snapshot-selftest
[[ -x "$bin" ]] || fail "no $bin: build first"
[[ -c /dev/kvm ]] || fail "no /dev/kvm here"

snap=$PHYLLO_TMP/snap
mkdir -p "$snap"
"$bin" save "$snap" || fail "saving failed"
ls -ls "$snap"
[[ -f "$snap/state" && -f "$snap/memory" ]] || fail "the snapshot lacks its state or memory file"
[[ $(find "$snap" -name '.*' | wc -l) == 0 ]] || fail "temporary files left in $snap"

# Two seconds of downtime that kvmclock must not show (restore checks it
# continues within 1 s of the saved value).
sleep 2
note "restore in a new process"
"$bin" restore "$snap" || fail "restoring in a new process failed"
note "the same snapshot again: restoring does not consume it"
"$bin" restore "$snap" || fail "restoring a second time failed"

note "save, destroy, restore in one process"
mkdir -p "$PHYLLO_TMP/one"
"$bin" roundtrip "$PHYLLO_TMP/one" || fail "the round trip in one process failed"

# refused DIR REGEX: restoring DIR fails with a message matching REGEX.
refused() {
	local out
	if out=$("$bin" restore "$1" 2>&1); then
		fail "restored $1, which is damaged"
	fi
	echo "$out" | tail -n 1
	grep -Eq -- "$2" <<<"$out" || fail "restoring $1: expected /$2/, got: $out"
}

note "a flipped bit in vCPU 0's state"
cp -r "$snap" "$PHYLLO_TMP/bit"
"$bin" corrupt "$PHYLLO_TMP/bit" vcpu.0
refused "$PHYLLO_TMP/bit" "bit/state: section 'vcpu.0' damaged \(payload CRC mismatch\)"

note "a flipped bit in the irqchip state"
cp -r "$snap" "$PHYLLO_TMP/irq"
"$bin" corrupt "$PHYLLO_TMP/irq" irqchip
refused "$PHYLLO_TMP/irq" "irq/state: section 'irqchip' damaged"

note "a truncated state file"
cp -r "$snap" "$PHYLLO_TMP/short"
truncate -s -100 "$PHYLLO_TMP/short/state"
refused "$PHYLLO_TMP/short" "short/state: (truncated|.*no end marker)"

note "not a state file"
cp -r "$snap" "$PHYLLO_TMP/magic"
printf 'NOTASNAP' | dd of="$PHYLLO_TMP/magic/state" conv=notrunc status=none
refused "$PHYLLO_TMP/magic" "magic/state: not a phyllome snapshot state file \(bad magic\)"

note "a truncated memory file"
cp -r "$snap" "$PHYLLO_TMP/mem"
truncate -s 32M "$PHYLLO_TMP/mem/memory"
refused "$PHYLLO_TMP/mem" "mem/memory: .*truncated or not this snapshot's memory file"
echo "snapshot-selftest: ok"
