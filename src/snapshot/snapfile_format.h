/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to src/snapshot: the byte layout of a state file (snapfile.h
 * describes it) and the helpers both its writer (snapfile.c) and its reader
 * (snapfile_read.c) use, so the two cannot disagree.
 */
#ifndef PHYLLO_SNAPSHOT_SNAPFILE_FORMAT_H
#define PHYLLO_SNAPSHOT_SNAPFILE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "snapshot/snapfile.h"

#define FILE_MAGIC "PHYLSNAP"
#define FILE_HEADER_SIZE 80
#define SECTION_HEADER_SIZE 48
#define NAME_FIELD 32
#define PRODUCER_FIELD 44
#define ARCH_FIELD 16

_Static_assert(sizeof(struct snap_blob_header) == 16, "blob header layout");

/* Byte offsets inside the file header. */
enum { FH_MAGIC = 0, FH_VERSION = 8, FH_SIZE = 12, FH_ARCH = 16, FH_PRODUCER = 32, FH_CRC = 76 };
/* ... and inside a section header. */
enum { SH_NAME = 0, SH_LEN = 32, SH_CRC = 40, SH_HCRC = 44 };

static inline void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* zlib's crc32 takes a uInt length: feed it in pieces. */
static inline uint32_t crc_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

static inline uint32_t crc_of(const void *data, size_t len)
{
	return crc_update((uint32_t)crc32(0, Z_NULL, 0), data, len);
}

/*
 * Fuzz builds (libFuzzer's convention) let wrong CRCs pass, or the fuzzer
 * would never get past them to the lengths, names and blobs behind them.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
static inline bool crc_ok(uint32_t stored, uint32_t computed)
{
	(void)stored;
	(void)computed;
	return true;
}
#else
static inline bool crc_ok(uint32_t stored, uint32_t computed)
{
	return stored == computed;
}
#endif

static inline bool name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SNAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

#endif
