// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qcow2 cluster mapping: guest offset -> L1 entry -> L2 table -> L2 entry.
 *
 * The L1 table lives in memory whole (bounded at open by QEMU's 32 MiB
 * limit and by the file size); L2 tables come through the cache. Every
 * entry is checked when it is used, not trusted: reserved bits clear,
 * offsets cluster-aligned and inside the file. A bad entry is reported as
 * corruption naming the guest offset and the entry, and fails the request.
 *
 * qcow2_map() answers "what backs these guest bytes" for one run of
 * clusters of the same kind within one L2 table, which the read and write
 * paths (qcow2.c) then serve with one I/O each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"
#include "base/log.h"

enum qcow2_cluster_type qcow2_entry_type(const struct qcow2 *s, uint64_t l2e)
{
	if (l2e & QCOW2_OFLAG_COMPRESSED)
		return QCOW2_COMPRESSED;
	if (l2e & QCOW2_OFLAG_ZERO)
		return l2e & QCOW2_OFFSET_MASK ? QCOW2_ZERO_ALLOC : QCOW2_ZERO_PLAIN;
	if (!(l2e & QCOW2_OFFSET_MASK))
		return QCOW2_UNALLOCATED;
	return QCOW2_NORMAL;
}

void qcow2_compressed_range(const struct qcow2 *s, uint64_t l2e, uint64_t *off,
			    uint64_t *len)
{
	uint64_t sectors = ((l2e >> s->csize_shift) & s->csize_mask) + 1;

	*off = l2e & s->coffset_mask;
	*len = sectors * QCOW2_COMPRESSED_SECTOR - (*off & (QCOW2_COMPRESSED_SECTOR - 1));
}

int qcow2_check_l2_entry(struct qcow2 *s, uint64_t l2e, uint64_t guest_off)
{
	uint64_t off, len;

	switch (qcow2_entry_type(s, l2e)) {
	case QCOW2_UNALLOCATED:
	case QCOW2_ZERO_PLAIN:
		if (l2e & QCOW2_L2E_RESERVED)
			goto reserved;
		return 0;
	case QCOW2_COMPRESSED:
		qcow2_compressed_range(s, l2e, &off, &len);
		if (off >= QCOW2_MAX_HOST_OFFSET || off < s->cluster_size ||
		    off >= s->file_size)
			return qcow2_corrupt(s, "compressed cluster for guest offset 0x%llx at 0x%llx is outside the file",
					     (unsigned long long)guest_off,
					     (unsigned long long)off);
		return 0;
	case QCOW2_ZERO_ALLOC:
	case QCOW2_NORMAL:
		if (l2e & QCOW2_L2E_RESERVED)
			goto reserved;
		off = l2e & QCOW2_OFFSET_MASK;
		if (off & (s->cluster_size - 1))
			return qcow2_corrupt(s, "cluster for guest offset 0x%llx at 0x%llx is not cluster-aligned",
					     (unsigned long long)guest_off,
					     (unsigned long long)off);
		if (off >= s->file_size)
			return qcow2_corrupt(s, "cluster for guest offset 0x%llx at 0x%llx is past the end of the file",
					     (unsigned long long)guest_off,
					     (unsigned long long)off);
		return 0;
	}
	return -EIO;
reserved:
	return qcow2_corrupt(s, "L2 entry 0x%016llx for guest offset 0x%llx has reserved bits set",
			     (unsigned long long)l2e, (unsigned long long)guest_off);
}

int qcow2_l2_table_offset(struct qcow2 *s, uint64_t l1_idx, uint64_t *l2_off)
{
	uint64_t l1e, off;

	*l2_off = 0;
	if (l1_idx >= s->l1_size)
		return 0;
	l1e = s->l1[l1_idx];
	off = l1e & QCOW2_OFFSET_MASK;
	if (l1e & QCOW2_L1E_RESERVED)
		return qcow2_corrupt(s, "L1 entry %llu (0x%016llx) has reserved bits set",
				     (unsigned long long)l1_idx, (unsigned long long)l1e);
	if (!off)
		return 0;
	if (off & (s->cluster_size - 1))
		return qcow2_corrupt(s, "L1 entry %llu: L2 table offset 0x%llx is not cluster-aligned",
				     (unsigned long long)l1_idx, (unsigned long long)off);
	if (off >= s->file_size || s->file_size - off < s->cluster_size)
		return qcow2_corrupt(s, "L1 entry %llu: L2 table at 0x%llx is past the end of the file",
				     (unsigned long long)l1_idx, (unsigned long long)off);
	if (qcow2_overlaps_metadata(s, off, s->cluster_size))
		return qcow2_corrupt(s, "L1 entry %llu: L2 table at 0x%llx overlaps the %s",
				     (unsigned long long)l1_idx, (unsigned long long)off,
				     qcow2_overlaps_metadata(s, off, s->cluster_size));
	*l2_off = off;
	return 0;
}

static int write_l1_entry(struct qcow2 *s, uint64_t l1_idx, uint64_t l1e)
{
	uint8_t buf[8];
	int ret;

	put_be64(buf, l1e);
	ret = file_pwrite_all(s->b->fd, buf, 8, s->l1_offset + l1_idx * 8);
	if (ret) {
		pr_err("%s: cannot write L1 entry %llu: %s", s->b->path,
		       (unsigned long long)l1_idx, strerror(-ret));
		return ret;
	}
	s->l1[l1_idx] = l1e;
	qcow2_meta_changed(s);
	return 0;
}

/*
 * A new L2 table, empty or a copy of OLD_OFF (copy-on-write when the old
 * one is shared with a snapshot). Its refcount and contents are durable
 * before the L1 entry points at it; the old table's reference is dropped
 * only once the new L1 entry is durable.
 */
int qcow2_l2_table_for_write(struct qcow2 *s, uint64_t l1_idx, uint64_t *l2_off)
{
	uint64_t old_off, new_off;
	uint8_t *old_table = NULL, *new_table;
	int ret;

	if (NEVER(l1_idx >= s->l1_size))
		return -EIO;
	ret = qcow2_l2_table_offset(s, l1_idx, &old_off);
	if (ret)
		return ret;
	if (old_off && (s->l1[l1_idx] & QCOW2_OFLAG_COPIED)) {
		*l2_off = old_off;
		return 0;
	}
	ret = qcow2_alloc_clusters(s, 1, &new_off);
	if (ret)
		return ret;
	if (old_off) {
		ret = qcow2_cache_get(s, &s->l2_cache, old_off, false, &old_table);
		if (ret)
			return ret;
	}
	qcow2_cache_forget(&s->rb_cache, new_off);
	ret = qcow2_cache_get(s, &s->l2_cache, new_off, true, &new_table);
	if (ret)
		goto out_old;
	if (old_table)
		memcpy(new_table, old_table, s->cluster_size);
	ret = qcow2_write_meta(s, new_off, new_table, s->cluster_size);
	qcow2_cache_put(&s->l2_cache, new_table);
	if (!ret)
		ret = file_datasync(s->b->fd);
	if (ret) {
		qcow2_cache_forget(&s->l2_cache, new_off);
		goto out_old;
	}
	ret = write_l1_entry(s, l1_idx, new_off | QCOW2_OFLAG_COPIED);
	if (ret)
		goto out_old;
	*l2_off = new_off;
	if (old_table) {
		qcow2_cache_put(&s->l2_cache, old_table);
		old_table = NULL;
		qcow2_cache_forget(&s->l2_cache, old_off);
		ret = file_datasync(s->b->fd);
		if (!ret)
			ret = qcow2_free_range(s, old_off, s->cluster_size, false);
	}
out_old:
	if (old_table)
		qcow2_cache_put(&s->l2_cache, old_table);
	return ret;
}

/* Whether entry E continues a run that started with FIRST, N clusters on. */
static bool same_run(const struct qcow2 *s, uint64_t first, uint64_t e, uint64_t n)
{
	enum qcow2_cluster_type t = qcow2_entry_type(s, first);

	if (qcow2_entry_type(s, e) != t)
		return false;
	switch (t) {
	case QCOW2_NORMAL:
		return (e & QCOW2_OFLAG_COPIED) == (first & QCOW2_OFLAG_COPIED) &&
		       (e & QCOW2_OFFSET_MASK) ==
			       (first & QCOW2_OFFSET_MASK) + (n << s->cluster_bits);
	case QCOW2_COMPRESSED:
		return false;	/* one at a time: each decompresses alone */
	case QCOW2_ZERO_ALLOC:
		return false;	/* each has its own host cluster to free */
	default:
		return true;
	}
}

int qcow2_map(struct qcow2 *s, uint64_t off, uint64_t len, struct qcow2_mapping *m)
{
	uint64_t in_cluster = off & (s->cluster_size - 1);
	uint64_t l1_idx = off >> (s->cluster_bits + s->l2_bits);
	uint64_t l2_idx = (off >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
	uint64_t to_table_end = ((qcow2_l2_entries(s) - l2_idx) << s->cluster_bits) - in_cluster;
	uint64_t l2_off, first, covered, n;
	uint8_t *table;
	int ret;

	memset(m, 0, sizeof(*m));
	m->file_size = s->file_size;
	if (len > to_table_end)
		len = to_table_end;
	m->type = QCOW2_UNALLOCATED;
	m->bytes = len;
	ret = qcow2_l2_table_offset(s, l1_idx, &l2_off);
	if (ret || !l2_off)
		return ret;
	ret = qcow2_cache_get(s, &s->l2_cache, l2_off, false, &table);
	if (ret)
		return ret;
	first = be64_at(table + l2_idx * 8);
	ret = qcow2_check_l2_entry(s, first, off);
	if (ret)
		goto out;
	covered = s->cluster_size - in_cluster;
	for (n = 1; covered < len; n++) {
		uint64_t e = be64_at(table + (l2_idx + n) * 8);

		if (!same_run(s, first, e, n))
			break;
		ret = qcow2_check_l2_entry(s, e, (off - in_cluster) + (n << s->cluster_bits));
		if (ret)
			goto out;
		covered += s->cluster_size;
	}
	m->type = qcow2_entry_type(s, first);
	m->bytes = covered < len ? covered : len;
	m->l2e = first;
	if (m->type == QCOW2_NORMAL) {
		m->host = (first & QCOW2_OFFSET_MASK) + in_cluster;
		m->copied = first & QCOW2_OFLAG_COPIED;
	}
out:
	qcow2_cache_put(&s->l2_cache, table);
	return ret;
}
