// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A minimal guest-side split virtqueue driver; see guest_driver.h. Stores
 * that publish an index are release stores, like the driver's wmb().
 */
#include "guest_driver.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

void *gd_ptr(const struct guest_driver *gd, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(gd->mem, gpa, len);

	if (!p)
		abort(); /* a test bug, not a device bug */
	return p;
}

static void put16(struct guest_driver *gd, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(gd_ptr(gd, gpa, 2), &v, 2);
}

static void put16_release(struct guest_driver *gd, uint64_t gpa, uint16_t v)
{
	__atomic_store_n((uint16_t *)gd_ptr(gd, gpa, 2), htole16(v), __ATOMIC_RELEASE);
}

static uint16_t get16(const struct guest_driver *gd, uint64_t gpa)
{
	return le16toh(__atomic_load_n((uint16_t *)gd_ptr(gd, gpa, 2), __ATOMIC_ACQUIRE));
}

static uint32_t get32(const struct guest_driver *gd, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, gd_ptr(gd, gpa, 4), 4);
	return le32toh(v);
}

void gd_layout(struct guest_driver *gd, struct guest_mem *mem, uint16_t size, uint64_t base)
{
	memset(gd, 0, sizeof(*gd));
	gd->mem = mem;
	gd->size = size;
	gd->desc_gpa = base;
	gd->avail_gpa = base + 16ull * size;
	gd->used_gpa = (gd->avail_gpa + 6 + 2ull * size + 3) & ~3ull;
	memset(gd_ptr(gd, base, gd_end(gd) - base), 0, gd_end(gd) - base);
}

uint64_t gd_end(const struct guest_driver *gd)
{
	return (gd->used_gpa + 6 + 8ull * gd->size + 15) & ~15ull;
}

int gd_init_virtq(const struct guest_driver *gd, struct virtq *q, bool event_idx,
		  bool indirect)
{
	struct virtq_setup setup = {
		.size = gd->size,
		.desc_gpa = gd->desc_gpa,
		.avail_gpa = gd->avail_gpa,
		.used_gpa = gd->used_gpa,
		.event_idx = event_idx,
		.indirect = indirect,
	};

	return virtq_init(q, gd->mem, "test.q0", &setup);
}

void gd_write_desc(struct guest_driver *gd, uint64_t table_gpa, uint32_t i, uint64_t addr,
		   uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = gd_ptr(gd, table_gpa + 16ull * i, 16);
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 12, &f, 2);
	memcpy(d + 14, &n, 2);
}

void gd_set_desc(struct guest_driver *gd, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	gd_write_desc(gd, gd->desc_gpa, i, addr, len, flags, next);
}

void gd_publish(struct guest_driver *gd, uint16_t head)
{
	put16(gd, gd->avail_gpa + 4 + 2ull * (gd->avail_idx % gd->size), head);
	gd->avail_idx++;
	put16_release(gd, gd->avail_gpa + 2, gd->avail_idx);
}

void gd_set_avail_idx(struct guest_driver *gd, uint16_t idx)
{
	gd->avail_idx = idx;
	put16_release(gd, gd->avail_gpa + 2, idx);
}

void gd_set_avail_flags(struct guest_driver *gd, uint16_t flags)
{
	put16(gd, gd->avail_gpa, flags);
}

void gd_set_used_event(struct guest_driver *gd, uint16_t event)
{
	put16(gd, gd->avail_gpa + 4 + 2ull * gd->size, event);
}

uint16_t gd_used_idx(const struct guest_driver *gd)
{
	return get16(gd, gd->used_gpa + 2);
}

uint16_t gd_used_flags(const struct guest_driver *gd)
{
	return get16(gd, gd->used_gpa);
}

uint16_t gd_avail_event(const struct guest_driver *gd)
{
	return get16(gd, gd->used_gpa + 4 + 8ull * gd->size);
}

bool gd_get_used(struct guest_driver *gd, uint32_t *id, uint32_t *len)
{
	uint64_t slot;

	if (gd->last_used == gd_used_idx(gd))
		return false;
	slot = gd->used_gpa + 4 + 8ull * (gd->last_used % gd->size);
	*id = get32(gd, slot);
	*len = get32(gd, slot + 4);
	gd->last_used++;
	return true;
}
