/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The driver half of a split virtqueue, as the guest would run it, for the
 * virtqueue tests, fuzz target and benchmark. It writes the rings in guest
 * RAM byte by byte at the offsets the spec gives (not through virtq.c's
 * structs), so a layout mistake in virtq.c cannot hide behind a matching
 * mistake here.
 */
#ifndef PHYLLO_TEST_GUEST_DRIVER_H
#define PHYLLO_TEST_GUEST_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtq.h"
#include "base/memory.h"

struct guest_driver {
	struct guest_mem *mem;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx;   /* next avail idx the driver publishes */
	uint16_t last_used;   /* next used idx the driver consumes */
};

/* Lay out the three rings of a SIZE-entry queue from BASE (16-aligned). */
void gd_layout(struct guest_driver *gd, struct guest_mem *mem, uint16_t size, uint64_t base);
/* The transport's job: hand the layout to virtq_init(). */
int gd_init_virtq(const struct guest_driver *gd, struct virtq *q, bool event_idx,
		  bool indirect);
/* GPA just past the rings: free for buffers and indirect tables. */
uint64_t gd_end(const struct guest_driver *gd);

/* Write descriptor I of the table at TABLE_GPA (the ring's or an indirect one). */
void gd_write_desc(struct guest_driver *gd, uint64_t table_gpa, uint32_t i, uint64_t addr,
		   uint32_t len, uint16_t flags, uint16_t next);
void gd_set_desc(struct guest_driver *gd, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next);
/* Put HEAD in the next avail slot and publish avail->idx. */
void gd_publish(struct guest_driver *gd, uint16_t head);
/* Write avail->idx directly (a driver that lies). */
void gd_set_avail_idx(struct guest_driver *gd, uint16_t idx);
void gd_set_avail_flags(struct guest_driver *gd, uint16_t flags);
void gd_set_used_event(struct guest_driver *gd, uint16_t event);

uint16_t gd_used_idx(const struct guest_driver *gd);
uint16_t gd_used_flags(const struct guest_driver *gd);
uint16_t gd_avail_event(const struct guest_driver *gd);
/* Take the next used element; false when none. */
bool gd_get_used(struct guest_driver *gd, uint32_t *id, uint32_t *len);

/* Guest RAM as the guest sees it: host pointer to [gpa, gpa+len), must be RAM. */
void *gd_ptr(const struct guest_driver *gd, uint64_t gpa, uint64_t len);

#endif
