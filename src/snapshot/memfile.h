/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The snapshot memory file: guest RAM as one flat file, region after
 * region, in which pages that are all zero are holes. A 4 GiB guest that
 * touched 300 MiB costs about 300 MiB of disk, and restoring it touches only
 * those pages of the new guest's RAM.
 *
 * The layout (each region's guest physical address, size and offset in the
 * file) goes into the state file as the "memory" section, so restore can
 * check it builds RAM of the same shape before loading anything into it.
 */
#ifndef PHYLLO_SNAPSHOT_MEMFILE_H
#define PHYLLO_SNAPSHOT_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapfile.h"
#include "base/memory.h"

#define SNAP_MEM_MAX_REGIONS 8
#define SNAP_MEM_PAGE 4096u
#define SNAP_MEM_SECTION "memory"

struct snap_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t file_offset;
};

struct snap_mem_layout {
	uint32_t nregions;
	uint64_t file_size; /* sum of the region sizes */
	struct snap_mem_region regions[SNAP_MEM_MAX_REGIONS];
};

struct snap_mem_stats {
	uint64_t ram_bytes;     /* guest RAM covered */
	uint64_t data_bytes;    /* non-zero pages written, or read back */
	uint64_t disk_bytes;    /* blocks the file occupies (st_blocks * 512) */
};

/* The regions of mem, in guest physical order, packed back to back in the file. */
void snap_mem_layout_of(const struct guest_mem *mem, struct snap_mem_layout *layout);
/* Total RAM a layout describes (what guest_mem_init_opts() needs to rebuild it). */
uint64_t snap_mem_layout_ram_size(const struct snap_mem_layout *layout);

/* The "memory" section: a fixed header plus one entry per region. */
int snap_mem_layout_write(const struct snap_mem_layout *layout, struct snap_writer *w,
			  char *err, size_t errlen);
int snap_mem_layout_read(const struct snap_reader *r, struct snap_mem_layout *layout,
			 char *err, size_t errlen);
/* Decode and check a layout blob (sorted, page-aligned, packed, bounded). */
int snap_mem_layout_decode(const void *buf, size_t len, const char *what,
			   struct snap_mem_layout *layout, char *err, size_t errlen);

/*
 * Write all of mem's RAM to DIR/FILE (atomically, like the state file),
 * skipping zero pages, and fill *layout (and *stats if not NULL). The vCPUs
 * must be stopped and devices quiet: nothing may write RAM meanwhile.
 */
int snap_mem_save(const struct guest_mem *mem, const char *dir, const char *file,
		  struct snap_mem_layout *layout, struct snap_mem_stats *stats,
		  char *err, size_t errlen);
/*
 * Load DIR/FILE into mem, which must be freshly allocated (all zero: holes
 * are not written) and have exactly layout's shape. Only the file's data
 * extents are read (SEEK_DATA), so zero pages stay untouched.
 */
int snap_mem_load(struct guest_mem *mem, const char *dir, const char *file,
		  const struct snap_mem_layout *layout, struct snap_mem_stats *stats,
		  char *err, size_t errlen);

#endif
