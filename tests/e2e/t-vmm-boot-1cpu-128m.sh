#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Debian's stock kernel + the busybox initramfs reach user space with 1
# vCPU(s) and 128 MiB; the guest counts the vCPUs and the memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vmm-common.sh"
check_boot 1 128
