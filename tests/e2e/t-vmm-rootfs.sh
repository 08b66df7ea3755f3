#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Root file system on virtio-blk: Debian's kernel boots with root=/dev/vda
# from an ext4 image (the initramfs only loads the drivers and switches
# root) and runs the image's own /sbin/init, which reports from there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
T=$PHYLLO_TMP
mkdir -p "$T/root/bin" "$T/root/sbin" "$T/root/proc" "$T/root/dev" "$T/root/sys"
cp "$(command -v busybox)" "$T/root/bin/busybox" || fail "no busybox on the host"
cat >"$T/root/sbin/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "PHYLLO ROOTFS-INIT $(/bin/busybox awk '$2 == "/" { print $1, $3 }' /proc/mounts | /bin/busybox tail -n 1)"
/bin/busybox sync
/bin/busybox poweroff -f
INIT
chmod +x "$T/root/sbin/init"
mkfs.ext4 -q -F -d "$T/root" "$T/root.img" 32M || fail "mkfs.ext4 -d"
log=$(test_log rootfs)
run_vmm 240 "$log" --kernel "$PHYLLO_GUEST/vmlinuz" --initramfs "$PHYLLO_GUEST/initramfs.cpio.gz" \
	--memory size=256M --disk "path=$T/root.img" \
	--cmdline "$GUEST_CMDLINE_BASE root=/dev/vda" </dev/null || fail_log "$log" "phyllo-vmm exited $?"
expect_line "$log" '^PHYLLO SWITCH-ROOT /dev/vda'
expect_line "$log" '^PHYLLO ROOTFS-INIT /dev/vda ext4'
