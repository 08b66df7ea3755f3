// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bus dispatch by binary search over sorted ranges. Buses hold a few dozen
 * ranges, so a sorted array beats a tree on both code and cache.
 */
#include "dev/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus_free(struct bus *bus)
{
	free(bus->ranges);
	pthread_rwlock_destroy(&bus->lock);
	memset(bus, 0, sizeof(*bus));
}

/* Index of the first range whose end lies above addr. */
static size_t bus_lower_bound(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (r->base + r->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
		 const struct bus_dev_ops *ops, void *opaque)
{
	struct bus_range *r;
	size_t i;
	int ret = 0;

	if (len == 0 || base + len < base || !ops)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base < base + len) {
		pr_err("%s bus: %s at 0x%llx overlaps %s", bus->name, name,
		       (unsigned long long)base, bus->ranges[i].name);
		ret = -EBUSY;
		goto out;
	}
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;

		r = realloc(bus->ranges, cap * sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(*r));
	bus->ranges[i] = (struct bus_range){ base, len, ops, opaque, name };
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_lower_bound(bus, base);
	if (i < bus->nr && bus->ranges[i].base == base) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nr - i - 1) * sizeof(bus->ranges[0]));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

bool bus_access(struct bus *bus, uint64_t addr, void *data, unsigned int size, bool is_write)
{
	struct bus_range r;
	bool found = false;
	size_t i;

	/*
	 * Copy the range and drop the lock before calling the device: a device
	 * may itself change this bus (a PCI config write through ECAM moves a
	 * BAR), and devices outlive every access (they go away only after the
	 * vCPUs have stopped), so a stale copy is harmless.
	 */
	pthread_rwlock_rdlock(&bus->lock);
	i = bus_lower_bound(bus, addr);
	if (i < bus->nr && bus->ranges[i].base <= addr &&
	    addr + size <= bus->ranges[i].base + bus->ranges[i].len) {
		r = bus->ranges[i];
		found = true;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!found) {
		if (!is_write)
			memset(data, 0xff, size);
		pr_debug("%s bus: unclaimed %s of %u bytes at 0x%llx", bus->name,
			 is_write ? "write" : "read", size, (unsigned long long)addr);
		return false;
	}
	if (is_write) {
		if (r.ops->write)
			r.ops->write(r.opaque, addr - r.base, data, size);
	} else if (r.ops->read) {
		r.ops->read(r.opaque, addr - r.base, data, size);
	} else {
		memset(data, 0xff, size);
	}
	return true;
}

uint64_t bus_data_get(const void *data, unsigned int size)
{
	uint64_t v = 0;

	memcpy(&v, data, size > 8 ? 8 : size); /* x86 hosts only: little-endian */
	return v;
}

void bus_data_set(void *data, unsigned int size, uint64_t value)
{
	memcpy(data, &value, size > 8 ? 8 : size);
}
