/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bus dispatch: port I/O and MMIO exits from KVM_RUN find their device here.
 *
 * A bus is a sorted array of non-overlapping [base, base+len) ranges, each
 * with an ops struct and the device's own state. Lookups take a read lock,
 * so every vCPU dispatches in parallel; registration (boot, PCI BAR moves)
 * takes the write lock. The device is called after the lock is dropped, so
 * it may register or unregister ranges itself. Devices serialize their own
 * state.
 */
#ifndef PHYLLO_DEV_BUS_H
#define PHYLLO_DEV_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_dev_ops {
	/* offset is relative to the registered base; size is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned int size);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned int size);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_dev_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_range *ranges;
	size_t nr, cap;
};

void bus_init(struct bus *bus, const char *name);
void bus_free(struct bus *bus);
/* Returns 0, -EBUSY when the range overlaps another, -EINVAL or -ENOMEM. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
		 const struct bus_dev_ops *ops, void *opaque);
int bus_unregister(struct bus *bus, uint64_t base);
/*
 * Perform one access. Returns false when no device claims addr; a read then
 * yields all ones, as an undriven bus does on real hardware.
 */
bool bus_access(struct bus *bus, uint64_t addr, void *data, unsigned int size, bool is_write);

/* Little-endian helpers for devices that take 1/2/4/8-byte accesses. */
uint64_t bus_data_get(const void *data, unsigned int size);
void bus_data_set(void *data, unsigned int size, uint64_t value);

#endif
