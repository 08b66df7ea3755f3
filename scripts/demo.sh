#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make demo`: boot the default test guest (Debian's stock kernel and the
# busybox initramfs from tests/guest/) with phyllo-vmm, showing its serial
# console. Runs through tools/kvmbox, which uses /dev/kvm directly where it
# works and otherwise boots a nested-KVM box under QEMU first.
#
# DEMO_MODE=shell gives an interactive shell when /dev/kvm is usable
# directly (kvmbox's box route does not forward a terminal).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=${DEMO_MODE:-poweroff}
echo "demo: booting build/guest/vmlinuz with phyllo-vmm (2 vCPUs, 512 MiB)..." >&2
exec tools/kvmbox -- build/phyllo-vmm -v \
	--kernel build/guest/vmlinuz --initramfs build/guest/initramfs.cpio.gz \
	--cmdline "console=ttyS0 phyllo.mode=$mode" --cpus boot=2 --memory size=512M
