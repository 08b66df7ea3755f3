/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Direct kernel boot: load a Linux bzImage (64-bit boot protocol) or a PVH
 * ELF (vmlinux with a XEN_ELFNOTE_PHYS32_ENTRY note) into guest RAM, with
 * its initramfs, command line and memory map, and say how to enter it.
 */
#ifndef PHYLLO_X86_BOOT_H
#define PHYLLO_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/memory.h"

enum boot_kind { BOOT_LINUX64, BOOT_PVH };

struct boot_entry {
	enum boot_kind kind;
	uint64_t entry;     /* guest RIP / EIP */
	uint64_t info_addr; /* boot_params (RSI) or hvm_start_info (EBX) */
};

struct boot_request {
	const char *kernel;
	const char *initramfs; /* may be NULL */
	const char *cmdline;   /* may be NULL */
	uint64_t rsdp_addr;
};

/* Returns 0, or -errno with err naming what is wrong. */
int x86_load_kernel(struct guest_mem *mem, const struct boot_request *req,
		    struct boot_entry *out, char *err, size_t errlen);

/*
 * Put a firmware-style reset vector at 0xffff0 that pulls our ACPI reset
 * line. Linux reboots through it when it picks the "BIOS" method (its
 * default on HW-reduced ACPI without EFI), jumping to F000:FFF0 in real mode.
 */
void x86_write_reset_vector(struct guest_mem *mem);

/* The e820 map for this RAM layout. Returns the number of entries. */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 128
unsigned int x86_e820_map(const struct guest_mem *mem, struct e820_entry *map, unsigned int max);

#endif
