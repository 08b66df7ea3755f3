/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The architectural state a vCPU starts with: MSRs, FPU, local APIC, and
 * for the boot vCPU the registers of the boot protocol's entry.
 */
#ifndef PHYLLO_X86_REGS_H
#define PHYLLO_X86_REGS_H

#include "arch/x86/boot.h"

/* State every vCPU needs before its first KVM_RUN. Returns 0 or -errno. */
int x86_vcpu_init_common(int vcpu_fd);
/* The boot vCPU's registers for entry (also writes GDT/IDT to RAM). */
int x86_vcpu_init_boot(int vcpu_fd, struct guest_mem *mem, const struct boot_entry *entry);

#endif
