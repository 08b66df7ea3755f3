#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test box under stress: boots guests N times in kvmbox and counts
# what went wrong, to compare box set-ups (the box's QEMU, its L1 kernel)
# with figures rather than impressions. Run by hand, never by make check
# (docs/testing.md has the tables):
#
#   tests/box/stress.sh [-n N] [-m MODES] [-q QEMU] [-k KERNEL_PKG] [-o DIR]
#
# Modes (comma-separated; default linux), each booted N times (20):
#   linux      phyllo-vmm (build/phyllo-vmm) direct-boots the test guest
#              with 2 vCPUs and 1 GiB to PHYLLO BOOT-OK and power-off: what
#              most end-to-end tests do
#   shell      QEMU-KVM: OVMF (OVMF_CODE_4M.fd) to the UEFI shell, 2 vCPUs
#   iso-uefi   QEMU-KVM: OVMF boots a GRUB ISO from the q35 AHCI CD-ROM to
#              the test guest's user space, 2 vCPUs
#   iso-bios   QEMU-KVM: SeaBIOS boots the same ISO, 2 vCPUs
# The firmware modes use QEMU-KVM as the L2 VMM so that what they show does
# not depend on phyllo-vmm's firmware support.
#   -q QEMU        the box's qemu-system-x86_64 (KVMBOX_QEMU): a path, or
#                  "debian" (/usr/bin's), "backports" (tools/qemu-box/
#                  backports.sh's) or "patched" (tools/qemu-box/build.sh's);
#                  default: patched for the firmware modes, else what
#                  kvmbox uses by default (backports)
#   -k KERNEL_PKG  the box's L1 kernel (KVMBOX_KERNEL_PKG), e.g.
#                  linux-image-6.12-amd64; default: the test guest's
#   -o DIR         results directory (build/box-stress)
#
# A box that dies ends the boot it ran; that boot is counted by how the
# box died, and a new box takes the boots left:
#   abort    the box's QEMU aborted (an assertion of its TCG)
#   panic    the box's kernel panicked or oopsed
#   freeze   the box stopped its heartbeat for 180 s and was killed
#   boxdeath the box ended otherwise
# A boot inside a live box is "ok", "triple" (the L2 guest triple-faulted:
# phyllo-vmm's KVM_EXIT_SHUTDOWN), "fail" (not there within
# STRESS_BOOT_LIMIT seconds, 600 by default, or the VMM failed) or
# "unkillable" (the L2 VMM hung in the box's KVM and survived SIGKILL; the
# box goes on). One line
# a boot ("MODE I RESULT SECONDS") in DIR/results; a table at the end.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=../guest/lib.sh
. "$TOP/tests/guest/lib.sh"
N=20 MODES=linux QEMU='' KPKG='' OUT=$TOP/build/box-stress
usage() { sed -n 's/^#   tests/tests/p' "${BASH_SOURCE[0]}" >&2; exit 2; }
while getopts n:m:q:k:o: o; do
	case $o in
	n) N=$OPTARG ;;
	m) MODES=$OPTARG ;;
	q) QEMU=$OPTARG ;;
	k) KPKG=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*) usage ;;
	esac
done
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "stress: -n takes a positive count, not '$N'" >&2; exit 2; }
for m in ${MODES//,/ }; do
	case $m in linux | shell | iso-uefi | iso-bios) ;;
	*) echo "stress: unknown mode '$m' (linux, shell, iso-uefi, iso-bios)" >&2; exit 2 ;;
	esac
done
case $QEMU in
debian) QEMU=/usr/bin/qemu-system-x86_64 ;;
patched) QEMU=$("$TOP/tools/qemu-box/build.sh") ;;
backports) QEMU=$("$TOP/tools/qemu-box/backports.sh" 2>/dev/null) ;;
'')	# Firmware guests abort every unpatched QEMU (docs/testing.md).
	if [[ ",$MODES," == *,shell,* || ",$MODES," == *,iso-* ]]; then
		QEMU=$("$TOP/tools/qemu-box/build.sh")
	fi ;;
esac
[[ -z "$QEMU" || -x "$QEMU" ]] || { echo "stress: no executable QEMU at '$QEMU'" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
"$TOP/tests/guest/build.sh" >/dev/null
iso=
if [[ ",$MODES," == *,iso-* ]]; then
	ensure_pkgs grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools || exit 1
	# GRUB (BIOS and EFI) starting the test guest, which powers off.
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
		grub-mkrescue -o "$iso.tmp" "$d" >/dev/null 2>&1 ||
			{ rm -rf "$d"; echo "stress: grub-mkrescue failed" >&2; exit 1; }
		mv "$iso.tmp" "$iso"
		rm -rf "$d"
	fi
fi
if [[ ",$MODES," =~ ,(shell|iso-uefi|iso-bios), ]]; then
	ensure_pkgs ovmf seabios qemu-system-x86 || exit 1
fi
if [[ ",$MODES," == *,linux,* && ! -x "$TOP/build/phyllo-vmm" ]]; then
	echo "stress: mode linux needs build/phyllo-vmm (meson setup build && ninja -C build)" >&2
	exit 2
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
# how_died LOG: abort, panic, freeze or boxdeath, from kvmbox's output.
how_died() {
	# A frozen box's last words are soft lockups ("BUG: soft lockup"):
	# the watchdog's verdict comes before the panic patterns.
	if grep -qE 'assertion failed|Aborted|core dumped' "$1"; then echo abort
	elif grep -q 'stopped responding' "$1"; then echo freeze
	elif grep -qE 'Kernel panic|BUG:|Oops|corrupted stack' "$1"; then echo panic
	else echo boxdeath
	fi
}
boxes=0 outside=0
t_start=$SECONDS
while [[ -n "$(todo)" ]]; do
	boxes=$((boxes + 1))
	todo >"$OUT/todo"
	: >"$OUT/current"
	rc=0
	KVMBOX_QEMU=$QEMU KVMBOX_KERNEL_PKG=$KPKG KVMBOX_MODE=box "$TOP/tools/kvmbox" -m 3072 -c 2 -w 180 -t 14400 -- \
		"$HERE/stress-inner.sh" "$OUT" "$iso" >"$OUT/box$boxes.log" 2>&1 || rc=$?
	if [[ -s "$OUT/current" ]]; then
		read -r m i t0 <"$OUT/current"
		how=$(how_died "$OUT/box$boxes.log")
		echo "$m $i $how $(($(date +%s) - t0)) (kvmbox status $rc)" >>"$results"
		echo "box $boxes: $how during $m $i (kvmbox status $rc): $(grep -m1 -E 'assert|panic|BUG:|stopped responding' "$OUT/box$boxes.log" || true)" >&2
	elif ((rc != 0)); then
		outside=$((outside + 1))
		echo "box $boxes: kvmbox status $rc outside a boot; see $OUT/box$boxes.log" >&2
		((outside < 3)) || { echo "stress: 3 boxes failed outside a boot; giving up" >&2; exit 1; }
	fi
done
echo "box QEMU: $("${QEMU:-qemu-system-x86_64}" --version | head -n 1); box kernel: ${KPKG:-the test guest kernel}"
echo "| mode | boots | ok | failed | L2 VMM unkillable | L2 triple faults | box aborts | box panics | box freezes | other box deaths | median s | max s |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for m in ${MODES//,/ }; do
	# Sorted by time first (mawk has no asort): the ok times come in order.
	sort -k4,4n "$results" | awk -v m="$m" '$1 == m { n++; c[$3]++; if ($3 == "ok") t[++k] = $4 }
		END { med = k ? t[int((k + 1) / 2)] : "-"; mx = k ? t[k] : "-"
		      printf "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s |\n", m, n, c["ok"], c["fail"],
		             c["unkillable"], c["triple"], c["abort"], c["panic"], c["freeze"], c["boxdeath"], med, mx }'
done
echo "($boxes box(es), $((SECONDS - t_start)) s in all; results in $results)"
