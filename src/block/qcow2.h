/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qcow2 internals shared by qcow2*.c: the on-disk constants (from QEMU's
 * docs/interop/qcow2.txt; all numbers on disk are big-endian) and the
 * state of one open image.
 *
 * Locking: `lock` guards every piece of metadata (L1, the caches, the
 * refcount table, allocation). Data I/O on an already mapped cluster runs
 * without it, under the cluster gate (blk_int.h), which keeps the cluster
 * from being freed meanwhile. Functions named qcow2_* in this header expect
 * `lock` held unless they say otherwise.
 */
#ifndef PHYLLO_BLOCK_QCOW2_H
#define PHYLLO_BLOCK_QCOW2_H

#include <endian.h>
#include <pthread.h>
#include <string.h>

#include "block/blk_int.h"

#define QCOW2_MAGIC 0x514649fbu	/* "QFI\xfb" */
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_BACKING_FMT 31
/* QEMU's limits, so every image we accept QEMU also accepts. */
#define QCOW2_MAX_L1_BYTES (32ull << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8ull << 20)
#define QCOW2_MAX_SNAPSHOTS 65536
/* Host offsets live in bits 9-55 of L1/L2 entries. */
#define QCOW2_MAX_HOST_OFFSET (1ull << 56)

/* Header field offsets we write. */
#define QCOW2_HDR_RT_OFFSET 48		/* refcount_table_offset + _clusters */
#define QCOW2_HDR_INCOMPAT 72
#define QCOW2_HDR_AUTOCLEAR 88

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN 0x1full

#define QCOW2_EXT_END 0u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u
#define QCOW2_FEATURE_ENTRY_LEN 48

#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO 1ull
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull	/* bits 9-55 */
#define QCOW2_L1E_RESERVED 0x7f000000000001ffull	/* bits 0-8, 56-62 */
#define QCOW2_L2E_RESERVED 0x3f000000000001feull	/* bits 1-8, 56-61 */
#define QCOW2_RTE_RESERVED 0x1ffull
#define QCOW2_COMPRESSED_SECTOR 512

enum qcow2_cluster_type {
	QCOW2_UNALLOCATED,	/* backing file or zeros */
	QCOW2_ZERO_PLAIN,	/* zero flag, no host cluster */
	QCOW2_ZERO_ALLOC,	/* zero flag, host cluster kept (preallocated) */
	QCOW2_NORMAL,		/* data in a host cluster */
	QCOW2_COMPRESSED,
};

/* A bounded cache of cluster-sized tables (L2 tables or refcount blocks),
 * kept in on-disk byte order and written through on every change. */
struct qcow2_cache_slot {
	uint64_t offset;	/* host offset of the table; 0 = empty slot */
	uint64_t last_use;
	unsigned pins;
	uint8_t *table;
};

struct qcow2_cache {
	struct qcow2_cache_slot *slots;
	unsigned nslots;
	uint64_t clock;
	size_t table_size;
};

/* Host ranges whose references are dropped once the new L2 entries are
 * durable (see qcow2.c). */
struct qcow2_frees {
	struct { uint64_t off, len; } *v;
	size_t n, cap;
};

struct qcow2 {
	struct blk *b;
	pthread_mutex_t lock;
	struct blk_gate gate;
	struct blk *backing;

	uint32_t version;
	unsigned cluster_bits;
	uint64_t cluster_size;
	unsigned l2_bits;		/* log2 of entries per L2 table */
	uint64_t size;
	uint64_t incompat, compat, autoclear;
	uint32_t header_length;
	uint32_t nb_snapshots;

	uint64_t *l1;			/* host byte order */
	uint32_t l1_size;
	uint64_t l1_offset;

	/* Refcounts: loaded only for writable images. */
	uint64_t *rt;			/* host byte order */
	uint64_t rt_size;		/* entries */
	uint64_t rt_offset;
	uint32_t rt_clusters;
	unsigned refcount_order;
	uint64_t rb_entries;		/* refcounts per refcount block */
	uint64_t refcount_max;
	uint64_t free_hint;		/* no free cluster below this index */
	uint64_t end_cluster;		/* nothing in use at or past this index */

	uint64_t file_size;		/* grows as we allocate */

	/* Compressed descriptors: offset bits, then sector count bits. */
	uint64_t coffset_mask;
	unsigned csize_shift;
	uint64_t csize_mask;

	struct qcow2_cache l2_cache;
	struct qcow2_cache rb_cache;
	uint8_t *zero_cluster;		/* for writing zeros; allocated on use */
	bool corrupt;			/* found damage: no more writes */
	/* Offsets of the L2 tables and refcount blocks, sorted (qcow2_header.c). */
	uint64_t *meta;
	size_t meta_n;
	bool meta_stale;
};

static inline uint64_t be64_at(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static inline uint32_t be32_at(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static inline void put_be64(void *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static inline void put_be32(void *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline uint64_t qcow2_l2_entries(const struct qcow2 *s)
{
	return 1ull << s->l2_bits;
}

/* qcow2_header.c */
int qcow2_parse_header(struct qcow2 *s, char **backing_name, char *backing_fmt,
		       char *err, size_t errlen);
/* Logs damage, marks the image corrupt (header bit, if writable v3) and
 * refuses further writes. Returns -EIO for the caller to pass on. */
int qcow2_corrupt(struct qcow2 *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Names the fixed metadata (header, L1, refcount table) [off, off+len) would hit, or NULL. */
const char *qcow2_overlaps_metadata(const struct qcow2 *s, uint64_t off, uint64_t len);
/* The same, and any active L2 table or refcount block: for guest data writes. */
const char *qcow2_overlaps_any_metadata(struct qcow2 *s, uint64_t off, uint64_t len);
/* An L1 or refcount table entry changed: the tables' offsets are looked up anew. */
void qcow2_meta_changed(struct qcow2 *s);
/* Writes metadata (not header, L1 or refcount table) after the overlap check. */
int qcow2_write_meta(struct qcow2 *s, uint64_t off, const void *buf, size_t len);
void qcow2_note_file_end(struct qcow2 *s, uint64_t end);

/* qcow2_cache.c */
int qcow2_cache_init(struct qcow2_cache *c, unsigned nslots, size_t table_size);
void qcow2_cache_destroy(struct qcow2_cache *c);
/* Pins the table at OFFSET (read on a miss; zero-filled if FRESH). */
int qcow2_cache_get(struct qcow2 *s, struct qcow2_cache *c, uint64_t offset,
		    bool fresh, uint8_t **table);
void qcow2_cache_put(struct qcow2_cache *c, uint8_t *table);
void qcow2_cache_forget(struct qcow2_cache *c, uint64_t offset);

/* qcow2_refcount.c */
int qcow2_refcount_init(struct qcow2 *s, char *err, size_t errlen);
/* Allocates N contiguous clusters with refcount 1; *OFF gets the offset. */
int qcow2_alloc_clusters(struct qcow2 *s, uint64_t n, uint64_t *off);
/* Drops one reference from every cluster touching [off, off+len); freed
 * data clusters are punched out of the file when PUNCH. */
int qcow2_free_range(struct qcow2 *s, uint64_t off, uint64_t len, bool punch);

/* qcow2_cluster.c */
struct qcow2_mapping {
	enum qcow2_cluster_type type;
	uint64_t bytes;		/* guest bytes from the start with this mapping */
	uint64_t host;		/* QCOW2_NORMAL: host offset of the first byte */
	bool copied;		/* QCOW2_NORMAL: refcount 1, writable in place */
	uint64_t l2e;		/* the first cluster's L2 entry */
	uint64_t file_size;	/* the file's size when mapped */
};
enum qcow2_cluster_type qcow2_entry_type(const struct qcow2 *s, uint64_t l2e);
int qcow2_check_l2_entry(struct qcow2 *s, uint64_t l2e, uint64_t guest_off);
/* Host range of a compressed cluster's data (may end past end of file). */
void qcow2_compressed_range(const struct qcow2 *s, uint64_t l2e, uint64_t *off,
			    uint64_t *len);
/* The L2 table of L1 index IDX, or 0 if none; checks the L1 entry. */
int qcow2_l2_table_offset(struct qcow2 *s, uint64_t l1_idx, uint64_t *l2_off);
/* A writable (refcount 1) L2 table for L1 index IDX: allocates or copies. */
int qcow2_l2_table_for_write(struct qcow2 *s, uint64_t l1_idx, uint64_t *l2_off);
/* Describes the longest run from OFF (at most LEN, within one L2 table). */
int qcow2_map(struct qcow2 *s, uint64_t off, uint64_t len, struct qcow2_mapping *m);

#endif
