// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qcow2 images (versions 2 and 3): reads, allocating writes, discard and
 * write-zeroes, on top of the header, cache, refcount and mapping code in
 * the other qcow2_*.c files.
 *
 * Reads map a run of clusters under the metadata lock, then do the I/O
 * without it: host data, zeros, the backing file, or a decompressed
 * cluster (raw deflate, as QEMU writes it).
 *
 * Writes to clusters that are allocated and ours alone (COPIED) go straight
 * to the host cluster. Anything else (unallocated, zero, compressed, shared
 * with a snapshot) takes a fresh run of host clusters, with the lock held
 * throughout, in this order, so a crash at any point leaves at worst a
 * leaked cluster and never an L2 entry pointing at unwritten data or at a
 * cluster whose refcount is not on disk:
 *
 *   1. refcounts of the new clusters (qcow2_alloc_clusters)
 *   2. the data, whole clusters: partial ones are completed with the old
 *      contents (backing file, zeros, decompressed or shared data)
 *   3. fdatasync
 *   4. the L2 entries
 *   5. later, after another fdatasync: drop the references of what the
 *      old entries pointed at (compressed data, shared clusters)
 *
 * Step 5 runs with the cluster gate held exclusive, so no read that mapped
 * an old cluster is still reading it when it is freed and reused.
 *
 * Discard and write-zeroes also run with the gate exclusive: they rewrite
 * L2 entries (unallocated, or the v3 zero flag, which also hides the
 * backing file), make that durable, then free. Partial clusters get zeros
 * written through the write path. Version 2 images have no zero flag: over
 * a backing file, zeros are written as data.
 *
 * The dirty bit is never set: refcounts are always written before they are
 * needed (no lazy refcounts), so there is nothing to repair after a crash
 * but leaks, which `qemu-img check` reports and `-r leaks` reclaims.
 * Writable opens refuse images that are dirty (written by QEMU with lazy
 * refcounts and not closed) or marked corrupt, and clear the autoclear
 * feature bits as the spec asks of writers that do not maintain them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "block/qcow2.h"
#include "base/log.h"

/* Metadata cache budget per table kind, and its bounds in slots. */
#define QCOW2_CACHE_BYTES (4u << 20)
#define QCOW2_CACHE_MIN_SLOTS 4
#define QCOW2_CACHE_MAX_SLOTS 256
/* Zeros are written in runs of at most this many clusters. */
#define QCOW2_ZERO_RUN 64

static struct qcow2 *qcow2_of(struct blk *b) { return b->priv; }

/* ---- pending frees ---- */

static int frees_add(struct qcow2_frees *f, uint64_t off, uint64_t len)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		void *v = realloc(f->v, cap * sizeof(*f->v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n].off = off;
	f->v[f->n].len = len;
	f->n++;
	return 0;
}

/* Records what entry OLD referenced, now that nothing points at it. */
static int frees_add_entry(struct qcow2 *s, struct qcow2_frees *f, uint64_t old)
{
	uint64_t off, len;

	switch (qcow2_entry_type(s, old)) {
	case QCOW2_COMPRESSED:
		qcow2_compressed_range(s, old, &off, &len);
		return frees_add(f, off, len);
	case QCOW2_NORMAL:
	case QCOW2_ZERO_ALLOC:
		return frees_add(f, old & QCOW2_OFFSET_MASK, s->cluster_size);
	default:
		return 0;
	}
}

/* Step 5: with the new entries durable, drop the old references. */
static int frees_apply(struct qcow2 *s, struct qcow2_frees *f)
{
	int ret = 0;

	if (!f->n)
		return 0;
	ret = file_datasync(s->b->fd);
	for (size_t i = 0; i < f->n && !ret; i++)
		ret = qcow2_free_range(s, f->v[i].off, f->v[i].len, true);
	f->n = 0;
	return ret;
}

/* ---- reading ---- */

/*
 * Decompresses the cluster of entry L2E into OUT (one cluster). FILE_SIZE
 * is the file's size when the entry was read. Returns -EBADMSG for data
 * that does not inflate, which the caller reports with the lock held.
 */
static int read_compressed(struct qcow2 *s, uint64_t l2e, uint64_t file_size, uint8_t *out)
{
	uint64_t off, len;
	z_stream zs = { 0 };
	uint8_t *in;
	int ret, zret;

	qcow2_compressed_range(s, l2e, &off, &len);
	/* The last sector may be cut short by the end of the file. */
	if (NEVER(off >= file_size))
		return -EIO;
	if (len > file_size - off)
		len = file_size - off;
	in = malloc(len);
	if (!in)
		return -ENOMEM;
	ret = blk_data_pread(s->b, off, in, len);
	if (ret)
		goto out;
	if (inflateInit2(&zs, -12) != Z_OK) {
		ret = -ENOMEM;
		goto out;
	}
	zs.next_in = in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)s->cluster_size;
	zret = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	/* Done when the cluster is full; padding may follow the stream. */
	if (zs.avail_out || (zret != Z_STREAM_END && zret != Z_BUF_ERROR && zret != Z_OK))
		ret = -EBADMSG;
out:
	free(in);
	return ret;
}

static int report_bad_compressed(struct qcow2 *s, uint64_t l2e)
{
	uint64_t off, len;

	qcow2_compressed_range(s, l2e, &off, &len);
	return qcow2_corrupt(s, "compressed cluster at 0x%llx does not decompress",
			     (unsigned long long)off);
}

static int read_unallocated(struct qcow2 *s, uint64_t off, const struct iovec *iov,
			    int iovcnt, uint64_t skip, uint64_t len, struct iovec *scratch)
{
	int cnt;

	if (!s->backing) {
		iov_zero(iov, iovcnt, skip, len);
		return 0;
	}
	cnt = iov_slice(iov, (unsigned int)iovcnt, skip, len, scratch, (unsigned int)iovcnt);
	if (cnt < 0)
		return cnt;
	return blk_read_clamped(s->backing, off, scratch, cnt, len);
}

/* Reads one mapped run M at guest OFF into bytes [skip, skip+m->bytes). */
static int read_mapped(struct qcow2 *s, const struct qcow2_mapping *m, uint64_t off,
		       const struct iovec *iov, int iovcnt, uint64_t skip,
		       struct iovec *scratch)
{
	uint8_t *buf;
	int cnt, ret;

	switch (m->type) {
	case QCOW2_NORMAL:
		cnt = iov_slice(iov, (unsigned int)iovcnt, skip, m->bytes, scratch,
				(unsigned int)iovcnt);
		if (cnt < 0)
			return cnt;
		return blk_data_preadv(s->b, m->host, scratch, cnt, m->bytes);
	case QCOW2_ZERO_PLAIN:
	case QCOW2_ZERO_ALLOC:
		iov_zero(iov, iovcnt, skip, m->bytes);
		return 0;
	case QCOW2_UNALLOCATED:
		return read_unallocated(s, off, iov, iovcnt, skip, m->bytes, scratch);
	case QCOW2_COMPRESSED:
		buf = malloc(s->cluster_size);
		if (!buf)
			return -ENOMEM;
		ret = read_compressed(s, m->l2e, m->file_size, buf);
		if (ret == -EBADMSG) {
			pthread_mutex_lock(&s->lock);
			ret = report_bad_compressed(s, m->l2e);
			pthread_mutex_unlock(&s->lock);
		}
		if (!ret)
			iov_from_buf(iov, iovcnt, skip, buf + (off & (s->cluster_size - 1)),
				     m->bytes);
		free(buf);
		return ret;
	}
	return -EIO;
}

static int qcow2_read(struct blk *b, uint64_t off, const struct iovec *iov,
		      int iovcnt, uint64_t len)
{
	struct qcow2 *s = qcow2_of(b);
	struct iov_scratch scratch;
	uint64_t done = 0;
	int ret;

	ret = iov_scratch_init(&scratch, iovcnt);
	if (ret)
		return ret;
	blk_gate_enter_shared(&s->gate);
	while (done < len) {
		struct qcow2_mapping m;

		pthread_mutex_lock(&s->lock);
		ret = qcow2_map(s, off + done, len - done, &m);
		pthread_mutex_unlock(&s->lock);
		if (ret)
			break;
		ret = read_mapped(s, &m, off + done, iov, iovcnt, done, scratch.v);
		if (ret)
			break;
		done += m.bytes;
	}
	blk_gate_leave_shared(&s->gate);
	iov_scratch_free(&scratch);
	if (ret && ret != -EIO)
		pr_err("%s: read of %llu bytes at %llu failed: %s", b->path,
		       (unsigned long long)len, (unsigned long long)off, strerror(-ret));
	return ret;
}

/* ---- writing ---- */

/* The guest cluster at C_GUEST as it reads now, given its entry OLD. */
static int read_old_cluster(struct qcow2 *s, uint64_t old, uint64_t c_guest, uint8_t *buf)
{
	struct iovec iov = { buf, s->cluster_size };
	int ret;

	switch (qcow2_entry_type(s, old)) {
	case QCOW2_UNALLOCATED:
		if (s->backing)
			return blk_read_clamped(s->backing, c_guest, &iov, 1, s->cluster_size);
		/* fall through */
	case QCOW2_ZERO_PLAIN:
	case QCOW2_ZERO_ALLOC:
		memset(buf, 0, s->cluster_size);
		return 0;
	case QCOW2_NORMAL:
		return blk_data_pread(s->b, old & QCOW2_OFFSET_MASK, buf, s->cluster_size);
	case QCOW2_COMPRESSED:
		ret = read_compressed(s, old, s->file_size, buf);
		return ret == -EBADMSG ? report_bad_compressed(s, old) : ret;
	}
	return -EIO;
}

/* Refuses (as corruption) a data write that would hit fixed metadata. */
static int check_data_write(struct qcow2 *s, uint64_t host, uint64_t len)
{
	const char *hit = qcow2_overlaps_any_metadata(s, host, len);

	if (hit)
		return qcow2_corrupt(s, "data write at 0x%llx would overwrite the %s",
				     (unsigned long long)host, hit);
	return 0;
}

/* Called without the lock for in-place writes: touches no metadata. */
static int write_data(struct qcow2 *s, uint64_t host, const struct iovec *iov,
		      int iovcnt, uint64_t skip, uint64_t len, struct iovec *scratch)
{
	int cnt = iov_slice(iov, (unsigned int)iovcnt, skip, len, scratch, (unsigned int)iovcnt);

	if (cnt < 0)
		return cnt;
	return blk_data_pwritev(s->b, host, scratch, cnt, len);
}

/*
 * Steps 1-4 for the run of K guest clusters from C_FIRST (one L2 table)
 * that the write [off, off+len) touches; request bytes start at SKIP.
 */
static int write_allocating(struct qcow2 *s, uint64_t off, uint64_t len,
			    const struct iovec *iov, int iovcnt, uint64_t skip,
			    struct iovec *scratch, struct qcow2_frees *frees)
{
	uint64_t cs = s->cluster_size;
	uint64_t c_first = off & ~(cs - 1);
	uint64_t k = (off + len - c_first + cs - 1) >> s->cluster_bits;
	uint64_t l1_idx = off >> (s->cluster_bits + s->l2_bits);
	uint64_t l2_idx = (off >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
	uint64_t l2_off, host, *old = NULL, full_start = 0, full_len = 0;
	uint8_t *table, *buf = NULL;
	int ret;

	ret = qcow2_l2_table_for_write(s, l1_idx, &l2_off);
	if (ret)
		return ret;
	old = malloc(k * sizeof(*old));
	if (!old)
		return -ENOMEM;
	ret = qcow2_cache_get(s, &s->l2_cache, l2_off, false, &table);
	if (ret)
		goto out;
	for (uint64_t i = 0; i < k; i++)
		old[i] = be64_at(table + (l2_idx + i) * 8);
	qcow2_cache_put(&s->l2_cache, table);

	ret = qcow2_alloc_clusters(s, k, &host);
	if (ret)
		goto out;
	for (uint64_t i = 0; i < k; i++) {
		uint64_t c = c_first + i * cs;
		uint64_t w_start = off > c ? off : c;
		uint64_t w_end = off + len < c + cs ? off + len : c + cs;

		if (w_start == c && w_end == c + cs) {
			if (!full_len)
				full_start = i;
			full_len += cs;
			continue;
		}
		if (!buf) {
			buf = malloc(cs);
			if (!buf) {
				ret = -ENOMEM;
				goto out;
			}
		}
		ret = read_old_cluster(s, old[i], c, buf);
		if (ret)
			goto out;
		iov_to_buf(iov, iovcnt, skip + (w_start - off), buf + (w_start - c), w_end - w_start);
		ret = check_data_write(s, host + i * cs, cs);
		if (!ret)
			ret = blk_data_pwrite(s->b, host + i * cs, buf, cs);
		if (ret)
			goto out;
		qcow2_note_file_end(s, host + (i + 1) * cs);
	}
	if (full_len) {
		uint64_t c = c_first + full_start * cs;

		ret = check_data_write(s, host + full_start * cs, full_len);
		if (!ret)
			ret = write_data(s, host + full_start * cs, iov, iovcnt,
					 skip + (c - off), full_len, scratch);
		if (ret)
			goto out;
		qcow2_note_file_end(s, host + full_start * cs + full_len);
	}
	ret = file_datasync(s->b->fd);
	if (ret)
		goto out;

	ret = qcow2_cache_get(s, &s->l2_cache, l2_off, false, &table);
	if (ret)
		goto out;
	for (uint64_t i = 0; i < k; i++)
		put_be64(table + (l2_idx + i) * 8, (host + i * cs) | QCOW2_OFLAG_COPIED);
	ret = qcow2_write_meta(s, l2_off + l2_idx * 8, table + l2_idx * 8, k * 8);
	qcow2_cache_put(&s->l2_cache, table);
	for (uint64_t i = 0; i < k && !ret; i++)
		ret = frees_add_entry(s, frees, old[i]);
out:
	if (ret)
		pr_err("%s: allocating write at %llu failed: %s", s->b->path,
		       (unsigned long long)off, strerror(-ret));
	free(buf);
	free(old);
	return ret;
}

/*
 * A whole write request, run by run. Without KEEP_LOCK the lock is taken
 * per run and dropped for in-place data I/O; zeroing, which holds the lock
 * (and the gate, exclusive) already, passes KEEP_LOCK.
 */
static int write_request(struct qcow2 *s, uint64_t off, const struct iovec *iov,
			       int iovcnt, uint64_t len, bool keep_lock,
			       struct qcow2_frees *frees)
{
	struct iov_scratch scratch;
	uint64_t done = 0;
	int ret;

	ret = iov_scratch_init(&scratch, iovcnt);
	if (ret)
		return ret;
	while (done < len) {
		struct qcow2_mapping m;

		if (!keep_lock)
			pthread_mutex_lock(&s->lock);
		ret = s->corrupt ? -EIO : qcow2_map(s, off + done, len - done, &m);
		if (!ret && m.type == QCOW2_NORMAL && m.copied) {
			ret = check_data_write(s, m.host, m.bytes);
			if (!keep_lock)
				pthread_mutex_unlock(&s->lock);
			if (!ret)
				ret = write_data(s, m.host, iov, iovcnt, done, m.bytes, scratch.v);
		} else {
			if (!ret)
				ret = write_allocating(s, off + done, m.bytes, iov, iovcnt,
						       done, scratch.v, frees);
			if (!keep_lock)
				pthread_mutex_unlock(&s->lock);
		}
		if (ret)
			break;
		done += m.bytes;
	}
	iov_scratch_free(&scratch);
	return ret;
}

static int qcow2_write(struct blk *b, uint64_t off, const struct iovec *iov,
		       int iovcnt, uint64_t len)
{
	struct qcow2 *s = qcow2_of(b);
	struct qcow2_frees frees = { 0 };
	int ret, ret2;

	blk_gate_enter_shared(&s->gate);
	ret = write_request(s, off, iov, iovcnt, len, false, &frees);
	blk_gate_leave_shared(&s->gate);
	if (frees.n) {
		/* Even after a failure: the entries written so far are final. */
		blk_gate_enter_exclusive(&s->gate);
		pthread_mutex_lock(&s->lock);
		ret2 = frees_apply(s, &frees);
		pthread_mutex_unlock(&s->lock);
		blk_gate_leave_exclusive(&s->gate);
		if (!ret)
			ret = ret2;
	}
	free(frees.v);
	return ret;
}

/* ---- discard and write-zeroes ---- */

static int ensure_zero_cluster(struct qcow2 *s)
{
	if (!s->zero_cluster)
		s->zero_cluster = calloc(1, s->cluster_size);
	return s->zero_cluster ? 0 : -ENOMEM;
}

/* Writes zeros over [off, off+len) as data, through the write path. */
static int write_zero_data(struct qcow2 *s, uint64_t off, uint64_t len,
			   struct qcow2_frees *frees)
{
	struct iovec iov[QCOW2_ZERO_RUN];
	int ret = ensure_zero_cluster(s);

	while (!ret && len) {
		uint64_t n = 0;
		int cnt = 0;

		while (cnt < QCOW2_ZERO_RUN && n < len) {
			uint64_t piece = len - n < s->cluster_size ? len - n : s->cluster_size;

			iov[cnt].iov_base = s->zero_cluster;
			iov[cnt++].iov_len = piece;
			n += piece;
		}
		ret = write_request(s, off, iov, cnt, n, true, frees);
		off += n;
		len -= n;
	}
	return ret;
}

static bool reads_as_zero(const struct qcow2 *s, enum qcow2_cluster_type t)
{
	return t == QCOW2_ZERO_PLAIN || t == QCOW2_ZERO_ALLOC ||
	       (t == QCOW2_UNALLOCATED && !s->backing);
}

/* Part of one cluster: zeros as data, unless it already reads as zeros. */
static int zero_partial(struct qcow2 *s, uint64_t off, uint64_t len,
			struct qcow2_frees *frees)
{
	struct qcow2_mapping m;
	int ret = qcow2_map(s, off, len, &m);

	if (ret)
		return ret;
	if (reads_as_zero(s, m.type))
		return 0;
	return write_zero_data(s, off, len, frees);
}

/*
 * The entry a fully zeroed cluster should get instead of E, or E itself
 * when it can stay; *AS_DATA when only writing zeros as data will do (v2).
 */
static uint64_t zeroed_entry(const struct qcow2 *s, uint64_t e, bool unmap, bool *as_data)
{
	enum qcow2_cluster_type t = qcow2_entry_type(s, e);

	*as_data = false;
	if (unmap) {
		if (!s->backing)
			return 0;
		if (s->version >= 3)
			return QCOW2_OFLAG_ZERO;
		*as_data = !reads_as_zero(s, t);
		return e;
	}
	if (reads_as_zero(s, t))
		return e;
	if (s->version < 3) {
		*as_data = true;
		return e;
	}
	/* Keep our own allocation, zero-flagged (QEMU's "zero, allocated"). */
	if (t == QCOW2_NORMAL && (e & QCOW2_OFLAG_COPIED))
		return e | QCOW2_OFLAG_ZERO;
	return QCOW2_OFLAG_ZERO;
}

/* Whole clusters [c_first, c_first + n*cs), all in one L2 table. */
static int zero_clusters(struct qcow2 *s, uint64_t c_first, uint64_t n, bool unmap,
			 struct qcow2_frees *frees)
{
	uint64_t l1_idx = c_first >> (s->cluster_bits + s->l2_bits);
	uint64_t l2_idx = (c_first >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
	uint64_t l2_off, lo = UINT64_MAX, hi = 0;
	bool any_as_data = false;
	uint8_t *table;
	int ret;

	ret = qcow2_l2_table_offset(s, l1_idx, &l2_off);
	if (ret)
		return ret;
	/* Without a table, all clusters are unallocated. */
	if (!l2_off && reads_as_zero(s, QCOW2_UNALLOCATED))
		return 0;
	if (!l2_off && s->version < 3)
		return write_zero_data(s, c_first, n << s->cluster_bits, frees);
	ret = qcow2_l2_table_for_write(s, l1_idx, &l2_off);
	if (ret)
		return ret;
	ret = qcow2_cache_get(s, &s->l2_cache, l2_off, false, &table);
	if (ret)
		return ret;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = be64_at(table + (l2_idx + i) * 8), z;
		bool as_data;

		ret = qcow2_check_l2_entry(s, e, c_first + (i << s->cluster_bits));
		if (ret)
			break;
		z = zeroed_entry(s, e, unmap, &as_data);
		any_as_data |= as_data;
		if (as_data || z == e)
			continue;
		put_be64(table + (l2_idx + i) * 8, z);
		if ((z & QCOW2_OFFSET_MASK) != (e & QCOW2_OFFSET_MASK) ||
		    qcow2_entry_type(s, e) == QCOW2_COMPRESSED) {
			ret = frees_add_entry(s, frees, e);
			if (ret)
				break;
		}
		if (i < lo)
			lo = i;
		hi = i + 1;
	}
	if (hi)
		ret = qcow2_write_meta(s, l2_off + (l2_idx + lo) * 8,
				       table + (l2_idx + lo) * 8, (hi - lo) * 8) ?: ret;
	qcow2_cache_put(&s->l2_cache, table);
	if (ret)
		return ret;
	ret = frees_apply(s, frees);
	if (ret)
		return ret;

	/* What only data can zero (v2 images): written as zeros, in place if ours. */
	for (uint64_t i = 0; i < n && any_as_data; i++) {
		struct qcow2_mapping m;
		uint64_t c = c_first + (i << s->cluster_bits);
		bool as_data;

		ret = qcow2_map(s, c, s->cluster_size, &m);
		if (ret)
			return ret;
		zeroed_entry(s, m.l2e, unmap, &as_data);
		if (as_data) {
			ret = write_zero_data(s, c, s->cluster_size, frees);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int zero_range(struct qcow2 *s, uint64_t off, uint64_t len, bool unmap)
{
	uint64_t cs = s->cluster_size, end = off + len, a, z;
	struct qcow2_frees frees = { 0 };
	int ret = 0;

	/* Bytes past the virtual size are invisible: the last cluster is whole. */
	if (end == s->size)
		end = (end + cs - 1) & ~(cs - 1);
	a = (off + cs - 1) & ~(cs - 1);
	z = end & ~(cs - 1);
	if (a > z) {
		/* Inside one cluster. */
		ret = zero_partial(s, off, len, &frees);
		goto out;
	}
	if (off < a)
		ret = zero_partial(s, off, (a < off + len ? a : off + len) - off, &frees);
	while (!ret && a < z) {
		uint64_t l2_idx = (a >> s->cluster_bits) & (qcow2_l2_entries(s) - 1);
		uint64_t n = qcow2_l2_entries(s) - l2_idx;

		if (n > (z - a) >> s->cluster_bits)
			n = (z - a) >> s->cluster_bits;
		ret = zero_clusters(s, a, n, unmap, &frees);
		a += n << s->cluster_bits;
	}
	if (!ret && z < end && z < off + len)
		ret = zero_partial(s, z, off + len - z, &frees);
out:
	ret = frees_apply(s, &frees) ?: ret;
	free(frees.v);
	return ret;
}

static int qcow2_zero(struct blk *b, uint64_t off, uint64_t len, bool unmap)
{
	struct qcow2 *s = qcow2_of(b);
	int ret;

	blk_gate_enter_exclusive(&s->gate);
	pthread_mutex_lock(&s->lock);
	ret = s->corrupt ? -EIO : zero_range(s, off, len, unmap);
	pthread_mutex_unlock(&s->lock);
	blk_gate_leave_exclusive(&s->gate);
	if (ret && ret != -EIO)
		pr_err("%s: zeroing %llu bytes at %llu failed: %s", b->path,
		       (unsigned long long)len, (unsigned long long)off, strerror(-ret));
	return ret;
}

static int qcow2_discard(struct blk *b, uint64_t off, uint64_t len)
{
	return qcow2_zero(b, off, len, true);
}

static int qcow2_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	return qcow2_zero(b, off, len, may_unmap);
}

static int qcow2_flush(struct blk *b)
{
	return file_datasync(b->fd);
}

/* ---- mapping for asynchronous I/O ---- */

static int qcow2_blk_map(struct blk *b, uint64_t off, uint64_t len, bool write,
			 struct blk_extent *ext)
{
	struct qcow2 *s = qcow2_of(b);
	struct qcow2_mapping m;
	int ret;

	blk_gate_enter_shared(&s->gate);
	pthread_mutex_lock(&s->lock);
	ret = qcow2_map(s, off, len, &m);
	if (!ret && write && (s->corrupt || qcow2_overlaps_any_metadata(s, m.host, m.bytes)))
		m.copied = false;	/* let blk_write() refuse it */
	pthread_mutex_unlock(&s->lock);
	if (ret)
		goto release;
	memset(ext, 0, sizeof(*ext));
	ext->fd = -1;
	ext->dio_fd = -1;
	ext->len = m.bytes;
	if (m.type == QCOW2_NORMAL && (!write || m.copied)) {
		ext->kind = BLK_EXTENT_DATA;
		ext->fd = b->fd;
		ext->dio_fd = b->dio_fd;
		ext->host_off = m.host;
		return 0;	/* the gate stays held until blk_unmap() */
	}
	ext->kind = !write && reads_as_zero(s, m.type) ? BLK_EXTENT_ZERO : BLK_EXTENT_OTHER;
release:
	blk_gate_leave_shared(&s->gate);
	return ret;
}

static void qcow2_blk_unmap(struct blk *b)
{
	blk_gate_leave_shared(&qcow2_of(b)->gate);
}

/* ---- open and close ---- */

static unsigned cache_slots(uint64_t cluster_size)
{
	uint64_t n = QCOW2_CACHE_BYTES / cluster_size;

	if (n < QCOW2_CACHE_MIN_SLOTS)
		return QCOW2_CACHE_MIN_SLOTS;
	return n > QCOW2_CACHE_MAX_SLOTS ? QCOW2_CACHE_MAX_SLOTS : (unsigned)n;
}

static int load_l1(struct qcow2 *s, char *err, size_t errlen)
{
	int ret;

	s->l1 = calloc(s->l1_size ? s->l1_size : 1, 8);
	if (!s->l1)
		return -ENOMEM;
	if (!s->l1_size)
		return 0;
	ret = file_pread_exact(s->b->fd, s->l1, (size_t)s->l1_size * 8, s->l1_offset);
	if (ret) {
		errbuf_set(err, errlen, "cannot read the L1 table: %s", strerror(-ret));
		return ret;
	}
	for (uint32_t i = 0; i < s->l1_size; i++)
		s->l1[i] = be64toh(s->l1[i]);
	qcow2_meta_changed(s);
	return 0;
}

static int clear_autoclear(struct qcow2 *s, char *err, size_t errlen)
{
	uint8_t zero[8] = { 0 };
	int ret;

	if (!s->autoclear)
		return 0;
	ret = file_pwrite_all(s->b->fd, zero, 8, QCOW2_HDR_AUTOCLEAR);
	if (!ret)
		ret = file_datasync(s->b->fd);
	if (ret) {
		errbuf_set(err, errlen, "cannot clear autoclear features: %s", strerror(-ret));
		return ret;
	}
	s->autoclear = 0;
	return 0;
}

static int open_backing(struct qcow2 *s, const char *name, const char *fmt,
			struct blk_chain *chain, char *err, size_t errlen)
{
	int format = BLK_FORMAT_AUTO;

	if (!strcmp(fmt, "raw") || !strcmp(fmt, "file"))
		format = BLK_FORMAT_RAW;
	else if (!strcmp(fmt, "qcow2"))
		format = BLK_FORMAT_QCOW2;
	else if (fmt[0]) {
		errbuf_set(err, errlen, "backing file format '%s' is not supported", fmt);
		return -ENOTSUP;
	}
	return blk_open_backing(s->b, name, format, chain, &s->backing, err, errlen);
}

static void qcow2_close(struct blk *b)
{
	struct qcow2 *s = qcow2_of(b);

	if (!s)
		return;
	blk_close(s->backing);
	qcow2_cache_destroy(&s->l2_cache);
	qcow2_cache_destroy(&s->rb_cache);
	free(s->l1);
	free(s->rt);
	free(s->meta);
	free(s->zero_cluster);
	blk_gate_destroy(&s->gate);
	pthread_mutex_destroy(&s->lock);
	free(s);
	b->priv = NULL;
}

static int qcow2_open(struct blk *b, struct blk_chain *chain, char *err, size_t errlen)
{
	char backing_fmt[QCOW2_MAX_BACKING_FMT + 1];
	char *backing_name = NULL;
	struct qcow2 *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->b = b;
	b->priv = s;
	pthread_mutex_init(&s->lock, NULL);
	blk_gate_init(&s->gate);
	s->file_size = b->file_size;

	ret = qcow2_parse_header(s, &backing_name, backing_fmt, err, errlen);
	if (ret)
		goto fail;
	s->end_cluster = (s->file_size + s->cluster_size - 1) >> s->cluster_bits;
	ret = qcow2_cache_init(&s->l2_cache, cache_slots(s->cluster_size), s->cluster_size);
	if (!ret)
		ret = qcow2_cache_init(&s->rb_cache, cache_slots(s->cluster_size), s->cluster_size);
	if (ret)
		goto fail;
	ret = load_l1(s, err, errlen);
	if (ret)
		goto fail;
	if (!b->readonly) {
		ret = qcow2_refcount_init(s, err, errlen);
		if (!ret)
			ret = clear_autoclear(s, err, errlen);
		if (ret)
			goto fail;
	}
	if (backing_name) {
		ret = open_backing(s, backing_name, backing_fmt, chain, err, errlen);
		if (ret)
			goto fail;
	}
	b->size = s->size;
	free(backing_name);
	return 0;
fail:
	free(backing_name);
	qcow2_close(b);
	return ret;
}

const struct blk_driver blk_qcow2_driver = {
	.name = "qcow2",
	.map_pins = true,
	.open = qcow2_open,
	.close = qcow2_close,
	.read = qcow2_read,
	.write = qcow2_write,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.map = qcow2_blk_map,
	.unmap = qcow2_blk_unmap,
};
