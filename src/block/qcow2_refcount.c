// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qcow2 reference counts and cluster allocation.
 *
 * Every host cluster has a refcount: 0 free, 1 used once, more when
 * internal snapshots or compressed clusters share it. Refcounts live in
 * refcount blocks (one cluster each, entries 1 to 64 bits wide), found
 * through the refcount table. We keep them right at all times: no lazy
 * refcounts, so the dirty bit is never needed; a crash can leak a cluster
 * (refcount set, nothing pointing at it yet) but never leave one in use
 * with a refcount of 0, because callers only point at a cluster after its
 * refcount is written and flushed.
 *
 * Allocation takes the lowest run of free clusters (refcount 0), so space
 * freed by discard is reused. Past the end of the file is not free by
 * itself: a crash between writing a refcount and the data leaves leaked
 * clusters there, which allocation must go around. Before the refcounts of a run are set, every refcount block they
 * need exists. A missing block goes at the start of the range it covers:
 * all refcounts there are 0 by definition, so that cluster is free, and
 * the new block holds its own refcount; no recursion. When the refcount
 * table itself is too short, grow_refcount_table() writes a longer copy
 * past the end of the file, together with the blocks that cover it, then
 * switches the header to it and frees the old table.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "base/log.h"

/* Refcount entry I of a block, for entries of 2^ORDER bits. */
static uint64_t rb_get(const uint8_t *rb, unsigned order, uint64_t i)
{
	switch (order) {
	case 0: return (rb[i / 8] >> (i % 8)) & 1;
	case 1: return (rb[i / 4] >> (2 * (i % 4))) & 3;
	case 2: return (rb[i / 2] >> (4 * (i % 2))) & 15;
	case 3: return rb[i];
	case 4: return (uint64_t)rb[2 * i] << 8 | rb[2 * i + 1];
	case 5: return be32_at(rb + 4 * i);
	default: return be64_at(rb + 8 * i);
	}
}

static void rb_set(uint8_t *rb, unsigned order, uint64_t i, uint64_t v)
{
	unsigned bits, shift;

	switch (order) {
	case 0:
	case 1:
	case 2:
		bits = 1u << order;
		shift = (unsigned)(i % (8 / bits)) * bits;
		rb[i / (8 / bits)] = (uint8_t)((rb[i / (8 / bits)] & ~(((1u << bits) - 1) << shift)) |
					       (v << shift));
		break;
	case 3: rb[i] = (uint8_t)v; break;
	case 4: rb[2 * i] = (uint8_t)(v >> 8); rb[2 * i + 1] = (uint8_t)v; break;
	case 5: put_be32(rb + 4 * i, (uint32_t)v); break;
	default: put_be64(rb + 8 * i, v); break;
	}
}

/* Bytes of a block holding entries [first, first + n). */
static void rb_bytes(unsigned order, uint64_t first, uint64_t n, uint64_t *start,
		     uint64_t *len)
{
	if (order < 3) {
		*start = first >> (3 - order);
		*len = ((first + n - 1) >> (3 - order)) - *start + 1;
	} else {
		*start = first << (order - 3);
		*len = n << (order - 3);
	}
}

static bool has_block(const struct qcow2 *s, uint64_t r);

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Two refcount table entries naming one block would make updates of one
 * range change another's; it would also let a damaged table make the
 * allocator scan one block over and over. Refused at open.
 */
static int check_blocks_distinct(struct qcow2 *s, char *err, size_t errlen)
{
	uint64_t *sorted = malloc(s->rt_size * sizeof(*sorted)), n = 0;
	int ret = 0;

	if (!sorted)
		return -ENOMEM;
	for (uint64_t i = 0; i < s->rt_size; i++) {
		if (s->rt[i])
			sorted[n++] = s->rt[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_u64);
	for (uint64_t i = 1; i < n; i++) {
		if (sorted[i] == sorted[i - 1]) {
			errbuf_set(err, errlen,
				   "refcount table names the refcount block at 0x%llx twice",
				   (unsigned long long)sorted[i]);
			ret = -EINVAL;
			break;
		}
	}
	free(sorted);
	return ret;
}

/*
 * Moves end_cluster past the last cluster with a refcount. A crash can
 * leave refcounts of clusters that were allocated but never written, past
 * the end of the file (leaks); new tables are placed after them.
 */
static int find_refcount_end(struct qcow2 *s, char *err, size_t errlen)
{
	for (uint64_t r = s->rt_size; r-- > 0;) {
		uint8_t *rb;
		int ret;

		if (!has_block(s, r))
			continue;
		/* Everything this block covers lies below the file end already. */
		if ((r + 1) * s->rb_entries <= s->end_cluster)
			return 0;
		ret = qcow2_cache_get(s, &s->rb_cache, s->rt[r], false, &rb);
		if (ret) {
			errbuf_set(err, errlen, "cannot read refcount block %llu",
				   (unsigned long long)r);
			return ret;
		}
		for (uint64_t i = s->rb_entries; i-- > 0;) {
			if (rb_get(rb, s->refcount_order, i)) {
				if (r * s->rb_entries + i + 1 > s->end_cluster)
					s->end_cluster = r * s->rb_entries + i + 1;
				qcow2_cache_put(&s->rb_cache, rb);
				return 0;
			}
		}
		qcow2_cache_put(&s->rb_cache, rb);
	}
	return 0;
}

int qcow2_refcount_init(struct qcow2 *s, char *err, size_t errlen)
{
	uint64_t bytes = (uint64_t)s->rt_clusters << s->cluster_bits;
	int ret;

	s->rt_size = bytes / 8;
	s->rt = malloc(bytes);
	if (!s->rt)
		return -ENOMEM;
	ret = file_pread_exact(s->b->fd, s->rt, bytes, s->rt_offset);
	if (ret) {
		errbuf_set(err, errlen, "cannot read the refcount table: %s", strerror(-ret));
		return ret;
	}
	qcow2_meta_changed(s);
	for (uint64_t i = 0; i < s->rt_size; i++) {
		uint64_t e = be64toh(s->rt[i]);

		s->rt[i] = e;
		if (!e)
			continue;
		if (e & QCOW2_RTE_RESERVED || e & (s->cluster_size - 1)) {
			errbuf_set(err, errlen,
				   "refcount table entry %llu (0x%llx) is not cluster-aligned",
				   (unsigned long long)i, (unsigned long long)e);
			return -EINVAL;
		}
		if (e >= s->file_size || s->file_size - e < s->cluster_size) {
			errbuf_set(err, errlen,
				   "refcount table entry %llu points past the end of the file (0x%llx)",
				   (unsigned long long)i, (unsigned long long)e);
			return -EINVAL;
		}
		if (qcow2_overlaps_metadata(s, e, s->cluster_size)) {
			errbuf_set(err, errlen,
				   "refcount block %llu (0x%llx) overlaps the %s",
				   (unsigned long long)i, (unsigned long long)e,
				   qcow2_overlaps_metadata(s, e, s->cluster_size));
			return -EINVAL;
		}
	}
	s->free_hint = 0;
	s->end_cluster = (s->file_size + s->cluster_size - 1) >> s->cluster_bits;
	ret = check_blocks_distinct(s, err, errlen);
	if (ret)
		return ret;
	return find_refcount_end(s, err, errlen);
}

static bool has_block(const struct qcow2 *s, uint64_t r)
{
	return r < s->rt_size && s->rt[r];
}

static void punch_clusters(struct qcow2 *s, uint64_t first, uint64_t n)
{
	/* Only space, not correctness: a file system without holes is fine. */
	if (fallocate(s->b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(first << s->cluster_bits), (off_t)(n << s->cluster_bits)) < 0)
		pr_debug("%s: punching freed clusters: %s", s->b->path, strerror(errno));
}

/*
 * Adds DELTA (+1 or -1) to the refcounts of clusters [first, first+n),
 * writing each touched block once. With EXPECT_FREE, each refcount must be
 * 0 before (a fresh allocation). Freed clusters are punched when PUNCH.
 */
static int refcount_update(struct qcow2 *s, uint64_t first, uint64_t n, int delta,
			   bool expect_free, bool punch)
{
	while (n) {
		uint64_t r = first / s->rb_entries, idx = first % s->rb_entries;
		uint64_t count = s->rb_entries - idx < n ? s->rb_entries - idx : n;
		uint64_t start, len, freed_start = 0, freed = 0;
		uint8_t *rb;
		int ret;

		if (!has_block(s, r)) {
			if (delta < 0)
				return qcow2_corrupt(s, "freeing cluster 0x%llx whose refcount is already 0",
						     (unsigned long long)(first << s->cluster_bits));
			(void)NEVER(true);
			return -EIO;
		}
		ret = qcow2_cache_get(s, &s->rb_cache, s->rt[r], false, &rb);
		if (ret)
			return ret;
		for (uint64_t i = idx; i < idx + count; i++) {
			uint64_t old = rb_get(rb, s->refcount_order, i);
			uint64_t c = r * s->rb_entries + i;

			if ((expect_free && old) || (delta < 0 && !old)) {
				qcow2_cache_put(&s->rb_cache, rb);
				return qcow2_corrupt(s, "refcount of cluster 0x%llx is %llu, expected %s",
						     (unsigned long long)(c << s->cluster_bits),
						     (unsigned long long)old,
						     expect_free ? "0" : "more than 0");
			}
			if (delta > 0 && old == s->refcount_max) {
				qcow2_cache_put(&s->rb_cache, rb);
				pr_err("%s: refcount of cluster 0x%llx would overflow",
				       s->b->path, (unsigned long long)(c << s->cluster_bits));
				return -ERANGE;
			}
			rb_set(rb, s->refcount_order, i, delta > 0 ? old + 1 : old - 1);
			if (delta < 0 && old == 1) {
				if (c < s->free_hint)
					s->free_hint = c;
				if (punch && freed && freed_start + freed != c) {
					punch_clusters(s, freed_start, freed);
					freed = 0;
				}
				if (!freed)
					freed_start = c;
				freed++;
			}
		}
		rb_bytes(s->refcount_order, idx, count, &start, &len);
		ret = qcow2_write_meta(s, s->rt[r] + start, rb + start, len);
		qcow2_cache_put(&s->rb_cache, rb);
		if (ret)
			return ret;
		if (punch && freed)
			punch_clusters(s, freed_start, freed);
		first += count;
		n -= count;
	}
	return 0;
}

/* The cluster index holding the header, L1 or refcount table (never free). */
static bool is_fixed_metadata(const struct qcow2 *s, uint64_t c)
{
	return qcow2_overlaps_metadata(s, c << s->cluster_bits, s->cluster_size) != NULL;
}

/*
 * Finds N contiguous free clusters, lowest first. A range without a
 * refcount block is free as a whole and skipped in one step; only ranges
 * with a block are scanned entry by entry, so the scan is bounded by the
 * blocks the file holds, whatever a damaged refcount table says.
 */
static int find_free(struct qcow2 *s, uint64_t n, uint64_t *start, uint64_t *first_free)
{
	uint64_t c = s->free_hint, run = 0, run_start = c;

	*first_free = UINT64_MAX;
	while (run < n) {
		uint64_t r = c / s->rb_entries, range_end = (r + 1) * s->rb_entries;
		uint8_t *rb;
		int ret;

		if (c >= QCOW2_MAX_HOST_OFFSET >> s->cluster_bits) {
			pr_err("%s: image file reached the qcow2 size limit", s->b->path);
			return -ENOSPC;
		}
		if (!has_block(s, r)) {
			uint64_t take = range_end - c < n - run ? range_end - c : n - run;

			if (qcow2_overlaps_metadata(s, c << s->cluster_bits, take << s->cluster_bits))
				return qcow2_corrupt(s, "no refcount block covers cluster 0x%llx, which holds the header, L1 or refcount table",
						     (unsigned long long)(c << s->cluster_bits));
			if (*first_free == UINT64_MAX)
				*first_free = c;
			if (!run)
				run_start = c;
			run += take;
			c += take;
			continue;
		}
		ret = qcow2_cache_get(s, &s->rb_cache, s->rt[r], false, &rb);
		if (ret)
			return ret;
		for (; c < range_end && run < n; c++) {
			if (rb_get(rb, s->refcount_order, c % s->rb_entries)) {
				run = 0;
				continue;
			}
			if (is_fixed_metadata(s, c)) {
				qcow2_cache_put(&s->rb_cache, rb);
				return qcow2_corrupt(s, "cluster 0x%llx holds the header, L1 or refcount table but has refcount 0",
						     (unsigned long long)(c << s->cluster_bits));
			}
			if (*first_free == UINT64_MAX)
				*first_free = c;
			if (!run++)
				run_start = c;
		}
		qcow2_cache_put(&s->rb_cache, rb);
	}
	if (run_start + n > QCOW2_MAX_HOST_OFFSET >> s->cluster_bits) {
		pr_err("%s: image file reached the qcow2 size limit", s->b->path);
		return -ENOSPC;
	}
	*start = run_start;
	return 0;
}

/* How many of the refcount ranges touching [first, first + n) lack a block. */
static uint64_t count_missing_blocks(const struct qcow2 *s, uint64_t first, uint64_t n)
{
	uint64_t missing = 0;

	for (uint64_t r = first / s->rb_entries; r <= (first + n - 1) / s->rb_entries; r++)
		missing += !has_block(s, r);
	return missing;
}

/*
 * Replaces the refcount table by one with at least MIN_ENTRIES entries.
 * The new area, at the end of the file, is K new refcount blocks (for the
 * ranges of the area itself that have none) followed by the T clusters of
 * the table; K and T depend on each other, so iterate until they settle.
 */
static int grow_refcount_table(struct qcow2 *s, uint64_t min_entries)
{
	uint64_t per_cluster = s->cluster_size / 8, entries, t = 0, k = 0;
	uint64_t area, old_offset = s->rt_offset, old_clusters = s->rt_clusters;
	uint64_t *table = NULL;
	uint8_t *buf = NULL, hdr[12];
	int ret = -EIO, i;

	entries = s->rt_size + s->rt_size / 2;
	if (entries < min_entries)
		entries = min_entries;
	area = s->end_cluster;
	for (i = 0; i < 32; i++) {
		uint64_t k_new, last_range;

		entries = (entries + per_cluster - 1) / per_cluster * per_cluster;
		t = entries / per_cluster;
		if (t << s->cluster_bits > QCOW2_MAX_REFTABLE_BYTES) {
			pr_err("%s: refcount table would exceed %llu MiB", s->b->path,
			       QCOW2_MAX_REFTABLE_BYTES >> 20);
			return -EFBIG;
		}
		k_new = count_missing_blocks(s, area, k + t);
		last_range = (area + k_new + t - 1) / s->rb_entries;
		if (last_range >= entries) {
			entries = last_range + 1;
			continue;
		}
		if (k_new == k)
			break;
		k = k_new;
	}
	if (NEVER(i == 32))
		return -EIO;
	if ((area + k + t) > QCOW2_MAX_HOST_OFFSET >> s->cluster_bits)
		return -ENOSPC;

	table = calloc(entries, 8);
	buf = malloc(s->cluster_size);
	if (!table || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(table, s->rt, s->rt_size * 8);

	/* The new blocks, each with the refcounts of the area clusters it covers. */
	uint64_t j = 0;

	for (uint64_t r = area / s->rb_entries; r <= (area + k + t - 1) / s->rb_entries; r++) {
		uint64_t lo, hi;

		if (has_block(s, r))
			continue;
		if (NEVER(j >= k))
			goto out;
		table[r] = (area + j) << s->cluster_bits;
		memset(buf, 0, s->cluster_size);
		lo = r * s->rb_entries > area ? r * s->rb_entries : area;
		hi = (r + 1) * s->rb_entries < area + k + t ? (r + 1) * s->rb_entries : area + k + t;
		for (uint64_t c = lo; c < hi; c++)
			rb_set(buf, s->refcount_order, c - r * s->rb_entries, 1);
		ret = qcow2_write_meta(s, table[r], buf, s->cluster_size);
		if (ret)
			goto out;
		qcow2_cache_forget(&s->rb_cache, table[r]);
		qcow2_cache_forget(&s->l2_cache, table[r]);
		j++;
	}
	for (uint64_t e = 0; e < entries; e++)
		table[e] = htobe64(table[e]);
	ret = qcow2_write_meta(s, (area + k) << s->cluster_bits, table, t << s->cluster_bits);
	for (uint64_t e = 0; e < entries; e++)
		table[e] = be64toh(table[e]);
	if (ret)
		goto out;
	/* Area clusters in ranges that already had a block. */
	for (uint64_t c = area; c < area + k + t; c++) {
		if (!has_block(s, c / s->rb_entries))
			continue;
		ret = refcount_update(s, c, 1, +1, true, false);
		if (ret)
			goto out;
	}
	ret = file_datasync(s->b->fd);
	if (ret)
		goto out;

	/* Switch: offset and cluster count are adjacent, one 12-byte write. */
	put_be64(hdr, (area + k) << s->cluster_bits);
	put_be32(hdr + 8, (uint32_t)t);
	ret = file_pwrite_all(s->b->fd, hdr, sizeof(hdr), QCOW2_HDR_RT_OFFSET);
	if (!ret)
		ret = file_datasync(s->b->fd);
	if (ret) {
		pr_err("%s: cannot switch to the grown refcount table: %s", s->b->path,
		       strerror(-ret));
		goto out;
	}
	free(s->rt);
	s->rt = table;
	table = NULL;
	s->rt_size = entries;
	qcow2_meta_changed(s);
	s->rt_offset = (area + k) << s->cluster_bits;
	s->rt_clusters = (uint32_t)t;
	qcow2_note_file_end(s, (area + k + t) << s->cluster_bits);
	ret = refcount_update(s, old_offset >> s->cluster_bits, old_clusters, -1, false, false);
out:
	free(table);
	free(buf);
	return ret;
}

/* Makes a refcount block for range R, placed at the range's first cluster. */
static int create_refcount_block(struct qcow2 *s, uint64_t r)
{
	uint64_t block = r * s->rb_entries, off;
	uint8_t *rb;
	uint8_t entry[8];
	int ret;

	if (r >= s->rt_size) {
		ret = grow_refcount_table(s, r + 1);
		if (ret || has_block(s, r))
			return ret;
	}
	if (block >= QCOW2_MAX_HOST_OFFSET >> s->cluster_bits)
		return -ENOSPC;
	off = block << s->cluster_bits;
	if (is_fixed_metadata(s, block))
		return qcow2_corrupt(s, "no refcount block covers cluster 0x%llx, which holds the %s",
				     (unsigned long long)off,
				     qcow2_overlaps_metadata(s, off, s->cluster_size));
	qcow2_cache_forget(&s->l2_cache, off);
	ret = qcow2_cache_get(s, &s->rb_cache, off, true, &rb);
	if (ret)
		return ret;
	rb_set(rb, s->refcount_order, 0, 1);
	ret = qcow2_write_meta(s, off, rb, s->cluster_size);
	qcow2_cache_put(&s->rb_cache, rb);
	if (!ret)
		ret = file_datasync(s->b->fd);
	if (ret) {
		qcow2_cache_forget(&s->rb_cache, off);
		return ret;
	}
	put_be64(entry, off);
	ret = file_pwrite_all(s->b->fd, entry, 8, s->rt_offset + r * 8);
	if (ret) {
		qcow2_cache_forget(&s->rb_cache, off);
		return ret;
	}
	s->rt[r] = off;
	qcow2_meta_changed(s);
	return 0;
}

int qcow2_alloc_clusters(struct qcow2 *s, uint64_t n, uint64_t *off)
{
	uint64_t start = 0, first_free = 0;
	int ret;

	if (NEVER(!n))
		return -EINVAL;
	/* Each retry creates a block, and a run touches few ranges. */
	for (unsigned tries = 0; tries < 64; tries++) {
		bool created = false;

		ret = find_free(s, n, &start, &first_free);
		if (ret)
			return ret;
		for (uint64_t r = start / s->rb_entries; r <= (start + n - 1) / s->rb_entries; r++) {
			if (has_block(s, r))
				continue;
			ret = create_refcount_block(s, r);
			if (ret)
				return ret;
			created = true;
			break;
		}
		if (created)
			continue;
		ret = refcount_update(s, start, n, +1, true, false);
		if (ret)
			return ret;
		if (start + n > s->end_cluster)
			s->end_cluster = start + n;
		/* Free clusters too few for N may remain below START. */
		if (first_free == start || first_free == UINT64_MAX)
			s->free_hint = start + n;
		else
			s->free_hint = first_free;
		*off = start << s->cluster_bits;
		return 0;
	}
	pr_err("%s: cannot allocate %llu clusters", s->b->path, (unsigned long long)n);
	return -EIO;
}

int qcow2_free_range(struct qcow2 *s, uint64_t off, uint64_t len, bool punch)
{
	uint64_t first = off >> s->cluster_bits;
	uint64_t last = (off + len - 1) >> s->cluster_bits;

	if (NEVER(!len))
		return 0;
	return refcount_update(s, first, last - first + 1, -1, false, punch);
}
