/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device state in snapshot files: one fixed-size blob per section, behind
 * a struct snap_blob_header (kind, version, size), so that restore refuses
 * a missing, short, foreign or newer section with a message naming it.
 * Devices lay their blob out as a struct whose first member is the header
 * and whose size is pinned by a _Static_assert; host order is little-endian
 * (snapshot files are x86-64 only). See devstate.c.
 */
#ifndef PHYLLO_DEV_DEVSTATE_H
#define PHYLLO_DEV_DEVSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapfile.h"

/*
 * Fill the header at the start of blob (size bytes, kind, version) and add
 * it as section name.
 */
int devstate_put(struct snap_writer *w, const char *name, const char kind[4], uint32_t version,
		 void *blob, size_t size, char *err, size_t errlen);
/*
 * Copy section name into blob (size bytes): it must exist and be a blob of
 * this kind, exactly this version and size. -ENOENT, -EBADMSG, -ENOTSUP
 * with a message naming the section.
 */
int devstate_get(const struct snap_reader *r, const char *name, const char kind[4],
		 uint32_t version, void *blob, size_t size, char *err, size_t errlen);

#endif
