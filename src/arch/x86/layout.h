/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where things live in guest physical memory at boot (x86-64).
 *
 * The low megabyte holds what the boot protocols need; Linux reserves it
 * and reuses the rest once it runs. The tables and boot structures sit
 * below the EBDA so real-mode AP trampolines still find free low RAM.
 */
#ifndef PHYLLO_X86_LAYOUT_H
#define PHYLLO_X86_LAYOUT_H

#define BOOT_GDT_ADDR 0x500
#define BOOT_IDT_ADDR 0x520
#define PVH_INFO_ADDR 0x6000   /* hvm_start_info, modlist, memmap */
#define ZERO_PAGE_ADDR 0x7000  /* Linux boot_params */
#define BOOT_STACK_ADDR 0x8ff0
#define PML4_ADDR 0x9000
#define PDPT_ADDR 0xa000
#define PD_ADDR 0xb000         /* four page directories: 4 GiB of 2 MiB pages */
#define CMDLINE_ADDR 0x20000
#define CMDLINE_MAX 0x10000
#define EBDA_START 0x9fc00
#define ACPI_TABLES_ADDR 0xe0000 /* RSDP first: Linux also scans here */
#define ACPI_TABLES_SIZE 0x10000
#define RESET_VECTOR_ADDR 0xffff0  /* where a CPU reset starts: F000:FFF0 */
#define KERNEL_LOAD_ADDR 0x100000

/* PCI: ECAM for bus 0 at the bottom of the hole, then the 32-bit BAR window. */
#define PCI_ECAM_BASE 0xc0000000ull
#define PCI_MMIO32_BASE 0xd0000000ull
#define PCI_MMIO32_END 0xfec00000ull
#define PCI_MMIO64_SIZE (32ull << 30) /* placed after RAM, 1 GiB aligned */

/* The ACPI Generic Event Device's register and GSI: hw/ged.h. */
#include "hw/ged.h"

#define IOAPIC_ADDR 0xfec00000u
#define LAPIC_ADDR 0xfee00000u
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000u /* one page, for VMX real mode */
#define KVM_TSS_ADDR 0xfffbd000u          /* three pages */

/* I/O ports of the ACPI HW-reduced registers: hw/acpi_pm.h. */
#include "hw/acpi_pm.h"

#endif
