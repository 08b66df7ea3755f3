#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Debian's stock kernel + the busybox initramfs reach user space with 4
# vCPU(s) and 5120 MiB; the guest counts the vCPUs and the memory (this size crosses the 32-bit MMIO hole).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
check_boot 4 5120
