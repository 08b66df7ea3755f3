#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The box's half of firmware-stress.sh: boots what OUT/todo lists with
# QEMU-KVM (rebooting allowed: OVMF resets once on a fresh variable store), one boot at a time, saying which in OUT/current while it runs
# (so the host can tell a box death from a failed boot).
set -uo pipefail
# shellcheck disable=SC2054 # commas inside QEMU options
OUT=$1 ISO=$2
cd "$OUT" || exit 1
while read -r m i; do
	echo "$m $i $(date +%s)" >current
	log=$OUT/$m-$i.serial
	rm -f "$log"
	args=(qemu-system-x86_64 -enable-kvm -M q35 -cpu host -smp 2 -nodefaults -no-user-config
		-display none -vga none -monitor none -serial "file:$log")
	case $m in
	shell)
		cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
		args+=(-m 512 -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive if=pflash,format=raw,file=vars.fd)
		want='Shell> ' ;;
	iso-uefi)
		cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
		args+=(-m 1024 -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive if=pflash,format=raw,file=vars.fd -cdrom "$ISO")
		want='PHYLLO BOOT-OK' ;;
	iso-bios)
		args+=(-m 1024 -cdrom "$ISO")
		want='PHYLLO BOOT-OK' ;;
	esac
	t0=$(date +%s)
	"${args[@]}" </dev/null >"$OUT/$m-$i.qemu" 2>&1 &
	q=$!
	res=fail
	for _ in $(seq 1 480); do
		if grep -aq "$want" "$log" 2>/dev/null; then res=ok; break; fi
		kill -0 $q 2>/dev/null || break
		sleep 0.5
	done
	kill $q 2>/dev/null
	wait $q 2>/dev/null
	echo "$m $i $res $(($(date +%s) - t0))" >>results
	: >current
done <todo
