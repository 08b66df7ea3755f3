/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest RAM: one memfd, mapped once in our address space, exposed to KVM as
 * up to two slots around the 32-bit MMIO hole:
 *
 *   [0, low_size)                  RAM (low_size <= MEM_HOLE_START)
 *   [MEM_HOLE_START, 4 GiB)        MMIO: PCI windows, IOAPIC, LAPIC, TSS
 *   [4 GiB, 4 GiB + high_size)     the rest of RAM
 *
 * Every access the VMM makes on behalf of the guest goes through
 * guest_mem_ptr(), which checks that the whole range is RAM.
 */
#ifndef PHYLLO_BASE_MEMORY_H
#define PHYLLO_BASE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_HOLE_START 0xc0000000ull /* 3 GiB: the 32-bit MMIO hole begins */
#define MEM_4G 0x100000000ull

struct guest_mem {
	int fd;           /* the memfd with shared=on, else -1 */
	uint8_t *host;    /* our mapping of all of RAM, low part first */
	uint64_t size;    /* total RAM */
	uint64_t low_size;
	uint64_t high_size;
};

/*
 * Allocate and map RAM. shared: a memfd mapped MAP_SHARED, so other
 * processes (vhost-user back ends) can map the same pages; otherwise
 * private anonymous memory, which the kernel backs with transparent huge
 * pages (fewer, cheaper nested page faults). Returns 0 or -errno.
 */
int guest_mem_init_opts(struct guest_mem *mem, uint64_t size, bool shared);
/* Shared (memfd) RAM: what unit tests and fuzzers use. */
int guest_mem_init(struct guest_mem *mem, uint64_t size);
void guest_mem_free(struct guest_mem *mem);
/* Register the slots with KVM. */
int guest_mem_register(struct guest_mem *mem, int vm_fd);

/* Host pointer to [gpa, gpa+len) if all of it is RAM in one slot, else NULL. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

#endif
