#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Firmware guests in the test box, N times each, to count box deaths
# (issue: the box's QEMU aborted on nested OVMF). Run by hand, never by
# make check:
#
#   tests/box/firmware-stress.sh [-n N] [-m MODES] [-q QEMU]
#
# Modes (comma-separated, all by default), each booted N times (20) with
# QEMU-KVM as the L2 VMM inside the box, so the result does not depend on
# phyllo-vmm's firmware support:
#   shell      OVMF (OVMF_CODE_4M.fd) to the UEFI shell, 2 vCPUs, no disk
#   iso-uefi   OVMF booting a GRUB ISO from the q35 AHCI CD-ROM to the test
#              guest's user space (PHYLLO BOOT-OK), 2 vCPUs
#   iso-bios   SeaBIOS booting the same ISO, 2 vCPUs
# -q QEMU runs the box on that qemu-system-x86_64 (KVMBOX_QEMU), e.g. the
# one tools/qemu-box/build.sh prints.
#
# A box that dies (its QEMU aborts, its kernel panics, it freezes) ends
# the boot it ran: that boot counts as a box death, and a new box takes
# the boots left. Results, one line a boot ("MODE I ok|fail|boxdeath
# SECONDS"), in build/firmware-stress/results, and a table at the end.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=../guest/lib.sh
. "$TOP/tests/guest/lib.sh"
N=20 MODES=shell,iso-uefi,iso-bios QEMU=
while getopts n:m:q: o; do
	case $o in
	n) N=$OPTARG ;;
	m) MODES=$OPTARG ;;
	q) QEMU=$OPTARG ;;
	*) exit 2 ;;
	esac
done
OUT=$TOP/build/firmware-stress
mkdir -p "$OUT"
ensure_pkgs ovmf seabios qemu-system-x86 grub-common grub-pc-bin grub-efi-amd64-bin \
	xorriso mtools || exit 1
"$TOP/tests/guest/build.sh" >/dev/null

# The ISO: GRUB (BIOS and EFI) starting the test guest, which powers off.
iso=$OUT/guest.iso
if [[ ! -s "$iso" || "$TOP/build/guest/.stamp" -nt "$iso" ]]; then
	d=$(mktemp -d)
	mkdir -p "$d/boot/grub"
	cp "$TOP/build/guest/vmlinuz" "$TOP/build/guest/initramfs.cpio.gz" "$d/boot/"
	cat >"$d/boot/grub/grub.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
menuentry "phyllome test guest" {
	echo "GRUB: loading the test guest"
	linux /boot/vmlinuz console=ttyS0 nopvspin phyllo.mode=poweroff
	initrd /boot/initramfs.cpio.gz
}
CFG
	grub-mkrescue -o "$iso.tmp" "$d" >/dev/null 2>&1 || { rm -rf "$d"; echo "grub-mkrescue failed" >&2; exit 1; }
	mv "$iso.tmp" "$iso"
	rm -rf "$d"
fi

# Every boot not yet in results, box after box.
results=$OUT/results
: >"$results"
todo() {
	local m i
	for m in ${MODES//,/ }; do
		for ((i = 1; i <= N; i++)); do
			grep -q "^$m $i " "$results" || echo "$m $i"
		done
	done
}
boxes=0
while [[ -n "$(todo)" ]]; do
	boxes=$((boxes + 1))
	todo >"$OUT/todo"
	: >"$OUT/current"
	rc=0
	KVMBOX_QEMU=$QEMU "$TOP/tools/kvmbox" -m 3072 -c 2 -w 180 -t 7200 -- \
		"$HERE/firmware-stress-inner.sh" "$OUT" "$iso" >"$OUT/box$boxes.log" 2>&1 || rc=$?
	if [[ -s "$OUT/current" ]]; then
		# The box ended during this boot: a box death.
		read -r m i t0 <"$OUT/current"
		echo "$m $i boxdeath $(($(date +%s) - t0)) (kvmbox status $rc)" >>"$results"
		echo "box $boxes died during $m $i (kvmbox status $rc): $(grep -m1 -E 'assert|panic|Kernel panic|stalled|heartbeat' "$OUT/box$boxes.log" || true)" >&2
	elif ((rc != 0)); then
		echo "box $boxes: kvmbox status $rc outside a boot; see $OUT/box$boxes.log" >&2
		((boxes < 3)) || exit 1
	fi
done
echo "| mode | boots | ok | failed | box deaths | median s |"
echo "|---|---|---|---|---|---|"
for m in ${MODES//,/ }; do
	awk -v m="$m" '$1 == m { n++; c[$3]++; if ($3 == "ok") t[++k] = $4 }
		END { asort(t); med = k ? t[int((k + 1) / 2)] : "-";
		      printf "| %s | %d | %d | %d | %d | %s |\n", m, n, c["ok"], c["fail"], c["boxdeath"], med }' "$results"
done
echo "($boxes box(es); results in $results)"
