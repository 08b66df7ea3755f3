// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The qcow2 header: parsing and checking it, the header extensions, the
 * backing file name, and the few header fields we ever write back.
 *
 * Everything the header says is checked against the file before anything
 * else trusts it: tables must be cluster-aligned and lie inside the file,
 * sizes are bounded by QEMU's own limits (so an image we open is one QEMU
 * opens too) and, through the file size, by what the file can hold, which
 * bounds every allocation a damaged or hostile header could ask for. Each
 * refusal names the field at fault.
 *
 * The header, its extensions and the backing file name all live in the
 * first cluster, which is read once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "base/log.h"

struct header_ctx {
	const uint8_t *buf;		/* the first cluster (or the whole file) */
	size_t len;
	const uint8_t *features;	/* feature name table, if present */
	uint32_t features_len;
};

static const char *incompat_names[] = {
	"dirty", "corrupt", "external data file", "compression type",
	"extended L2 entries",
};

/* The image's own name for incompatible feature BIT, if it has a table. */
static void feature_name(const struct header_ctx *h, unsigned bit, char *out, size_t outlen)
{
	snprintf(out, outlen, "unknown");
	for (uint32_t i = 0; i + QCOW2_FEATURE_ENTRY_LEN <= h->features_len;
	     i += QCOW2_FEATURE_ENTRY_LEN) {
		const uint8_t *e = h->features + i;

		if (e[0] == 0 && e[1] == bit) {
			snprintf(out, outlen, "%.46s", (const char *)e + 2);
			return;
		}
	}
}

static int parse_extensions(struct qcow2 *s, struct header_ctx *h, uint64_t end,
			    char *backing_fmt, char *err, size_t errlen)
{
	uint64_t pos = s->header_length;

	/* Each extension takes at least 8 bytes: the loop is bounded by END. */
	while (pos < end) {
		uint32_t type, len;

		if (end - pos < 8) {
			errbuf_set(err, errlen,
				   "header extension at offset %llu is truncated",
				   (unsigned long long)pos);
			return -EINVAL;
		}
		type = be32_at(h->buf + pos);
		len = be32_at(h->buf + pos + 4);
		if (type == QCOW2_EXT_END)
			return 0;
		if (len > end - pos - 8) {
			errbuf_set(err, errlen,
				   "header extension 0x%08x at offset %llu: length %u runs past the header area",
				   type, (unsigned long long)pos, len);
			return -EINVAL;
		}
		switch (type) {
		case QCOW2_EXT_BACKING_FORMAT:
			if (len > QCOW2_MAX_BACKING_FMT) {
				errbuf_set(err, errlen,
					   "backing file format extension too long (%u bytes)", len);
				return -EINVAL;
			}
			memcpy(backing_fmt, h->buf + pos + 8, len);
			backing_fmt[len] = '\0';
			break;
		case QCOW2_EXT_FEATURE_TABLE:
			h->features = h->buf + pos + 8;
			h->features_len = len;
			break;
		default:
			/* Bitmaps, encryption, data file name, unknown: not ours. */
			break;
		}
		pos += 8 + (((uint64_t)len + 7) & ~7ull);
	}
	return 0;
}

static int check_features(struct qcow2 *s, const struct header_ctx *h,
			  uint8_t compression_type, char *err, size_t errlen)
{
	uint64_t unknown = s->incompat & ~QCOW2_INCOMPAT_KNOWN;
	char name[64];

	if (unknown) {
		unsigned bit = (unsigned)__builtin_ctzll(unknown);

		feature_name(h, bit, name, sizeof(name));
		errbuf_set(err, errlen, "unsupported incompatible feature bit %u (%s)",
			   bit, name);
		return -ENOTSUP;
	}
	if (s->incompat & QCOW2_INCOMPAT_DATA_FILE) {
		errbuf_set(err, errlen, "unsupported incompatible feature bit 2 (%s)",
			   incompat_names[2]);
		return -ENOTSUP;
	}
	if (s->incompat & QCOW2_INCOMPAT_EXTL2) {
		errbuf_set(err, errlen, "unsupported incompatible feature bit 4 (%s)",
			   incompat_names[4]);
		return -ENOTSUP;
	}
	if (s->incompat & QCOW2_INCOMPAT_COMPRESSION) {
		if (compression_type == 0) {
			errbuf_set(err, errlen,
				   "incompatible feature bit 3 (compression type) set but compression_type is 0 (zlib)");
			return -EINVAL;
		}
		errbuf_set(err, errlen,
			   "unsupported compression_type %u (%s); only zlib is supported",
			   compression_type, compression_type == 1 ? "zstd" : "unknown");
		return -ENOTSUP;
	}
	if (compression_type != 0) {
		errbuf_set(err, errlen,
			   "compression_type %u without incompatible feature bit 3",
			   compression_type);
		return -EINVAL;
	}
	if (s->b->readonly)
		return 0;
	if (s->incompat & QCOW2_INCOMPAT_DIRTY) {
		errbuf_set(err, errlen,
			   "image has the dirty bit set (refcounts may be wrong after a crash with lazy refcounts); repair it with 'qemu-img check -r all' or open it read-only");
		return -EINVAL;
	}
	if (s->incompat & QCOW2_INCOMPAT_CORRUPT) {
		errbuf_set(err, errlen,
			   "image is marked corrupt; repair it with 'qemu-img check -r all' or open it read-only");
		return -EINVAL;
	}
	return 0;
}

/* A table of LEN bytes at OFF must be cluster-aligned and inside the file. */
static int check_table(struct qcow2 *s, const char *what, uint64_t off, uint64_t len,
		       char *err, size_t errlen)
{
	if (off & (s->cluster_size - 1)) {
		errbuf_set(err, errlen, "%s offset 0x%llx is not aligned to the cluster size",
			   what, (unsigned long long)off);
		return -EINVAL;
	}
	if (off > s->file_size || len > s->file_size - off) {
		errbuf_set(err, errlen,
			   "%s (offset 0x%llx, %llu bytes) extends past the end of the file (%llu bytes)",
			   what, (unsigned long long)off, (unsigned long long)len,
			   (unsigned long long)s->file_size);
		return -EINVAL;
	}
	return 0;
}

static int check_geometry(struct qcow2 *s, uint64_t snapshots_offset, char *err,
			  size_t errlen)
{
	unsigned l2_cover_bits = s->cluster_bits + s->l2_bits;
	uint64_t l1_needed = (s->size >> l2_cover_bits) +
			     !!(s->size & ((1ull << l2_cover_bits) - 1));
	uint64_t rt_bytes = (uint64_t)s->rt_clusters << s->cluster_bits;
	int ret;

	if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
		errbuf_set(err, errlen, "l1_size %u is too large (max %llu entries)",
			   s->l1_size, QCOW2_MAX_L1_BYTES / 8);
		return -EINVAL;
	}
	if (s->l1_size < l1_needed) {
		errbuf_set(err, errlen,
			   "l1_size %u is too small for the virtual size %llu (needs %llu entries)",
			   s->l1_size, (unsigned long long)s->size,
			   (unsigned long long)l1_needed);
		return -EINVAL;
	}
	ret = check_table(s, "L1 table", s->l1_offset, (uint64_t)s->l1_size * 8, err, errlen);
	if (ret)
		return ret;
	if (s->l1_size && !s->l1_offset) {
		errbuf_set(err, errlen, "L1 table offset is 0 (the header cluster)");
		return -EINVAL;
	}
	if (rt_bytes > QCOW2_MAX_REFTABLE_BYTES) {
		errbuf_set(err, errlen, "refcount_table_clusters %u is too large",
			   s->rt_clusters);
		return -EINVAL;
	}
	if (!s->rt_clusters) {
		errbuf_set(err, errlen, "refcount_table_clusters is 0 (no refcount table)");
		return -EINVAL;
	}
	ret = check_table(s, "refcount table", s->rt_offset, rt_bytes, err, errlen);
	if (ret)
		return ret;
	if (!s->rt_offset) {
		errbuf_set(err, errlen, "refcount table offset is 0 (the header cluster)");
		return -EINVAL;
	}
	if (s->nb_snapshots > QCOW2_MAX_SNAPSHOTS) {
		errbuf_set(err, errlen, "nb_snapshots %u is too large", s->nb_snapshots);
		return -EINVAL;
	}
	if (s->nb_snapshots)
		return check_table(s, "snapshot table", snapshots_offset, 1, err, errlen);
	return 0;
}

static int read_backing_name(struct qcow2 *s, const struct header_ctx *h,
			     uint64_t off, uint32_t len, char **name, char *err,
			     size_t errlen)
{
	if (len > QCOW2_MAX_BACKING_NAME) {
		errbuf_set(err, errlen, "backing file name too long (%u bytes, max %d)",
			   len, QCOW2_MAX_BACKING_NAME);
		return -EINVAL;
	}
	if (off < s->header_length || off > h->len || len > h->len - off) {
		errbuf_set(err, errlen,
			   "backing file name (offset %llu, %u bytes) is not inside the first cluster after the header",
			   (unsigned long long)off, len);
		return -EINVAL;
	}
	if (memchr(h->buf + off, '\0', len)) {
		errbuf_set(err, errlen, "backing file name contains a NUL byte");
		return -EINVAL;
	}
	*name = strndup((const char *)h->buf + off, len);
	return *name ? 0 : -ENOMEM;
}

static void compressed_geometry(struct qcow2 *s)
{
	unsigned x = 62 - (s->cluster_bits - 8);

	s->coffset_mask = (1ull << x) - 1;
	s->csize_shift = x;
	s->csize_mask = (1ull << (s->cluster_bits - 8)) - 1;
}

int qcow2_parse_header(struct qcow2 *s, char **backing_name, char *backing_fmt,
		       char *err, size_t errlen)
{
	struct header_ctx h = { 0 };
	uint8_t fixed[QCOW2_V3_HEADER_LEN] = { 0 };
	uint8_t *buf = NULL;
	uint64_t backing_off, snapshots_offset, ext_end;
	uint32_t backing_len;
	uint8_t compression_type = 0;
	int ret;

	*backing_name = NULL;
	backing_fmt[0] = '\0';
	if (s->file_size < QCOW2_V2_HEADER_LEN) {
		errbuf_set(err, errlen, "file too small for a qcow2 header (%llu bytes)",
			   (unsigned long long)s->file_size);
		return -EINVAL;
	}
	ret = file_pread_exact(s->b->fd, fixed,
			       s->file_size < sizeof(fixed) ? QCOW2_V2_HEADER_LEN : sizeof(fixed), 0);
	if (ret) {
		errbuf_set(err, errlen, "cannot read the header: %s", strerror(-ret));
		return ret;
	}
	if (be32_at(fixed) != QCOW2_MAGIC) {
		errbuf_set(err, errlen, "bad magic: not a qcow2 image");
		return -EINVAL;
	}
	s->version = be32_at(fixed + 4);
	if (s->version != 2 && s->version != 3) {
		errbuf_set(err, errlen, "unsupported qcow2 version %u", s->version);
		return -ENOTSUP;
	}
	s->cluster_bits = be32_at(fixed + 20);
	if (s->cluster_bits < QCOW2_MIN_CLUSTER_BITS || s->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
		errbuf_set(err, errlen, "cluster_bits %u out of range (%d to %d)",
			   s->cluster_bits, QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
		return -EINVAL;
	}
	s->cluster_size = 1ull << s->cluster_bits;
	s->l2_bits = s->cluster_bits - 3;
	backing_off = be64_at(fixed + 8);
	backing_len = be32_at(fixed + 16);
	s->size = be64_at(fixed + 24);
	if (be32_at(fixed + 32)) {
		errbuf_set(err, errlen, "encrypted images are not supported (crypt_method %u)",
			   be32_at(fixed + 32));
		return -ENOTSUP;
	}
	s->l1_size = be32_at(fixed + 36);
	s->l1_offset = be64_at(fixed + 40);
	s->rt_offset = be64_at(fixed + 48);
	s->rt_clusters = be32_at(fixed + 56);
	s->nb_snapshots = be32_at(fixed + 60);
	snapshots_offset = be64_at(fixed + 64);

	if (s->version == 2) {
		s->header_length = QCOW2_V2_HEADER_LEN;
		s->refcount_order = 4;
	} else {
		if (s->file_size < QCOW2_V3_HEADER_LEN) {
			errbuf_set(err, errlen, "file too small for a qcow2 v3 header (%llu bytes)",
				   (unsigned long long)s->file_size);
			return -EINVAL;
		}
		s->incompat = be64_at(fixed + 72);
		s->compat = be64_at(fixed + 80);
		s->autoclear = be64_at(fixed + 88);
		s->refcount_order = be32_at(fixed + 96);
		s->header_length = be32_at(fixed + 100);
		if (s->header_length < QCOW2_V3_HEADER_LEN || s->header_length % 8 ||
		    s->header_length > s->cluster_size || s->header_length > s->file_size) {
			errbuf_set(err, errlen, "header_length %u is invalid", s->header_length);
			return -EINVAL;
		}
		if (s->refcount_order > 6) {
			errbuf_set(err, errlen, "refcount_order %u is too large (max 6)",
				   s->refcount_order);
			return -EINVAL;
		}
	}

	/* The first cluster holds the header, its extensions and the backing name. */
	h.len = s->file_size < s->cluster_size ? s->file_size : s->cluster_size;
	buf = malloc(h.len);
	if (!buf)
		return -ENOMEM;
	ret = file_pread_exact(s->b->fd, buf, h.len, 0);
	if (ret) {
		errbuf_set(err, errlen, "cannot read the header cluster: %s", strerror(-ret));
		goto out;
	}
	h.buf = buf;
	if (s->header_length > QCOW2_V3_HEADER_LEN)
		compression_type = buf[QCOW2_V3_HEADER_LEN];

	ext_end = h.len;
	if (backing_off && backing_off > s->header_length && backing_off < ext_end)
		ext_end = backing_off;
	ret = parse_extensions(s, &h, ext_end, backing_fmt, err, errlen);
	if (ret)
		goto out;
	ret = check_features(s, &h, compression_type, err, errlen);
	if (ret)
		goto out;
	ret = check_geometry(s, snapshots_offset, err, errlen);
	if (ret)
		goto out;
	if (backing_off) {
		ret = read_backing_name(s, &h, backing_off, backing_len, backing_name,
					err, errlen);
		if (ret)
			goto out;
	}
	s->rb_entries = 1ull << (s->cluster_bits + 3 - s->refcount_order);
	s->refcount_max = s->refcount_order == 6 ? UINT64_MAX
						  : (1ull << (1u << s->refcount_order)) - 1;
	compressed_geometry(s);
out:
	free(buf);
	return ret;
}

void qcow2_note_file_end(struct qcow2 *s, uint64_t end)
{
	uint64_t end_cluster = (end + s->cluster_size - 1) >> s->cluster_bits;

	if (end > s->file_size)
		s->file_size = end;
	if (end_cluster > s->end_cluster)
		s->end_cluster = end_cluster;
}

int qcow2_corrupt(struct qcow2 *s, const char *fmt, ...)
{
	char msg[256];
	uint8_t field[8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s: corrupt qcow2 image: %s", s->b->path, msg);
	if (s->corrupt || s->b->readonly)
		return -EIO;
	s->corrupt = true;
	/*
	 * As QEMU does: the corrupt bit keeps everyone (us, QEMU) from writing
	 * until `qemu-img check -r` has looked at it. v2 has no such bit.
	 */
	if (s->version >= 3) {
		s->incompat |= QCOW2_INCOMPAT_CORRUPT;
		put_be64(field, s->incompat);
		if (file_pwrite_all(s->b->fd, field, 8, QCOW2_HDR_INCOMPAT) ||
		    file_datasync(s->b->fd))
			pr_err("%s: could not mark the image corrupt", s->b->path);
	}
	return -EIO;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

const char *qcow2_overlaps_metadata(const struct qcow2 *s, uint64_t off, uint64_t len)
{
	if (ranges_overlap(off, len, 0, s->cluster_size))
		return "header";
	if (ranges_overlap(off, len, s->l1_offset, (uint64_t)s->l1_size * 8))
		return "L1 table";
	if (ranges_overlap(off, len, s->rt_offset, (uint64_t)s->rt_clusters << s->cluster_bits))
		return "refcount table";
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The sorted host offsets of every active L2 table and refcount block
 * (bit 0 set for a refcount block: offsets are cluster-aligned), rebuilt
 * after an L1 or refcount table entry changed (qcow2_meta_changed). A
 * rebuild walks both tables once; a lookup is a binary search, so the check
 * costs every guest write next to nothing, however large the tables.
 */
static int meta_rebuild(struct qcow2 *s)
{
	size_t n = 0, cap = (size_t)s->l1_size + (s->rt ? s->rt_size : 0);
	uint64_t *v = malloc((cap ? cap : 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->l1_size; i++)
		if (s->l1[i] & QCOW2_OFFSET_MASK)
			v[n++] = s->l1[i] & QCOW2_OFFSET_MASK;
	for (uint64_t i = 0; s->rt && i < s->rt_size; i++)
		if (s->rt[i] & ~QCOW2_RTE_RESERVED)
			v[n++] = (s->rt[i] & ~QCOW2_RTE_RESERVED) | 1;
	qsort(v, n, sizeof(*v), cmp_u64);
	free(s->meta);
	s->meta = v;
	s->meta_n = n;
	s->meta_stale = false;
	return 0;
}

void qcow2_meta_changed(struct qcow2 *s)
{
	s->meta_stale = true;
}

const char *qcow2_overlaps_any_metadata(struct qcow2 *s, uint64_t off, uint64_t len)
{
	const char *hit = qcow2_overlaps_metadata(s, off, len);
	size_t lo = 0, hi;

	if (hit)
		return hit;
	if (s->meta_stale && meta_rebuild(s) < 0)
		return "metadata (no memory to check)";
	/* The first table whose cluster ends past OFF, then: does it start before the end? */
	hi = s->meta_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((s->meta[mid] & ~1ull) + s->cluster_size <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->meta_n && ranges_overlap(off, len, s->meta[lo] & ~1ull, s->cluster_size))
		return s->meta[lo] & 1 ? "refcount block" : "L2 table";
	return NULL;
}

int qcow2_write_meta(struct qcow2 *s, uint64_t off, const void *buf, size_t len)
{
	const char *hit = qcow2_overlaps_metadata(s, off, len);
	int ret;

	if (hit)
		return qcow2_corrupt(s, "metadata write at 0x%llx would overwrite the %s",
				     (unsigned long long)off, hit);
	ret = file_pwrite_all(s->b->fd, buf, len, off);
	if (ret) {
		pr_err("%s: metadata write at 0x%llx failed: %s", s->b->path,
		       (unsigned long long)off, strerror(-ret));
		return ret;
	}
	qcow2_note_file_end(s, off + len);
	return 0;
}
