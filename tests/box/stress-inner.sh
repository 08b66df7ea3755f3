#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The box's half of stress.sh: boots what OUT/todo lists, one boot at a
# time, saying which in OUT/current while it runs (so the host can tell a
# box death from a failed boot), and appends "MODE I RESULT SECONDS" to
# OUT/results.
# shellcheck disable=SC2054 # commas inside QEMU options
set -uo pipefail
OUT=$1 ISO=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$OUT" || exit 1
qemu_kvm=(qemu-system-x86_64 -enable-kvm -M q35 -cpu host -smp 2 -nodefaults -no-user-config
	-display none -vga none -monitor none)
ovmf=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
	-drive if=pflash,format=raw,file=vars.fd)
while read -r m i; do
	echo "$m $i $(date +%s)" >current
	log=$OUT/$m-$i.serial
	rm -f "$log"
	# OVMF resets once on a fresh variable store: QEMU may reboot.
	case $m in
	linux)
		args=("$TOP/build/phyllo-vmm" --cpus boot=2 --memory size=1024M
			--kernel "$TOP/build/guest/vmlinuz" --initramfs "$TOP/build/guest/initramfs.cpio.gz"
			--cmdline "console=ttyS0 quiet nopvspin phyllo.mode=poweroff" --serial "file=$log")
		want='PHYLLO BOOT-OK' ;;
	shell)
		cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
		args=("${qemu_kvm[@]}" -serial "file:$log" -m 512 "${ovmf[@]}")
		want='Shell> ' ;;
	iso-uefi)
		cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
		args=("${qemu_kvm[@]}" -serial "file:$log" -m 1024 "${ovmf[@]}" -cdrom "$ISO")
		want='PHYLLO BOOT-OK' ;;
	iso-bios)
		args=("${qemu_kvm[@]}" -serial "file:$log" -m 1024 -cdrom "$ISO")
		want='PHYLLO BOOT-OK' ;;
	esac
	t0=$EPOCHREALTIME
	"${args[@]}" </dev/null >"$OUT/$m-$i.vmm" 2>&1 &
	q=$!
	res=fail
	# A boot that has not got there by then counts as failed (the box's
	# heartbeat tells a frozen box apart): firmware ISO boots read the
	# kernel through an emulated CD-ROM, nested, and take minutes.
	end=$((SECONDS + ${STRESS_BOOT_LIMIT:-600}))
	while ((SECONDS < end)); do
		if grep -aq "$want" "$log" 2>/dev/null; then res=ok; break; fi
		kill -0 $q 2>/dev/null || break
		sleep 0.25
	done
	# linux: the boot counts once the guest has powered off and the VMM
	# has exited with status 0.
	if [[ $m == linux && $res == ok ]]; then
		end=$((SECONDS + 60))
		while ((SECONDS < end)) && kill -0 $q 2>/dev/null; do sleep 0.25; done
	fi
	# A VMM stuck in the box's KVM may not die of SIGTERM, nor even of
	# SIGKILL: never wait for it for good.
	st=0
	if kill -0 $q 2>/dev/null; then
		kill $q 2>/dev/null
		end=$((SECONDS + 10))
		while ((SECONDS < end)) && kill -0 $q 2>/dev/null; do sleep 0.25; done
		kill -KILL $q 2>/dev/null
		end=$((SECONDS + 10))
		while ((SECONDS < end)) && kill -0 $q 2>/dev/null; do sleep 0.25; done
		if kill -0 $q 2>/dev/null; then
			res=unkillable
			st=1
		fi
	fi
	[[ $res == unkillable ]] || { wait $q; st=$?; }
	if [[ $m == linux ]]; then
		if grep -aqs 'triple fault' "$OUT/$m-$i.vmm" "$log"; then res=triple
		elif ((st != 0)); then res=fail
		fi
	fi
	dt=$(((${EPOCHREALTIME/./} - ${t0/./}) / 100000))
	echo "$m $i $res $((dt / 10)).$((dt % 10))" >>results
	: >current
	# Keep the logs of what went wrong only.
	[[ $res != ok ]] || rm -f "$log" "$OUT/$m-$i.vmm"
done <todo
