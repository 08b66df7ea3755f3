// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Creating a qcow2 image: an empty disk, or an overlay on a backing file
 * (the manager gives every VM a copy-on-write overlay on its image, as
 * `qemu-img create -f qcow2 -b IMAGE -F FMT` does).
 *
 * The smallest valid v3 image, every cluster written once: the header
 * with the backing format extension and the backing file's name
 * (cluster 0), the refcount table (1), the L1 table (2 ...), one
 * refcount block counting those clusters; 64 KiB clusters and 16-bit
 * refcounts, QEMU's defaults. The file is written to a temporary name and
 * linked to its own (never over an existing file: EEXIST), so a
 * half-written image never exists under its name. Mode 0600: a VM's disk
 * is its owner's (the manager's data folder is private too). The
 * reader (qcow2_header.c) and `qemu-img check` in the unit tests are its
 * judges.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "block/blk.h"
#include "block/qcow2.h"

#define CREATE_CLUSTER_BITS 16
#define CREATE_CLUSTER (1u << CREATE_CLUSTER_BITS)
#define EXT_BACKING_FORMAT 0xe2792acau

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

int blk_create_qcow2(const char *path, uint64_t size, const char *backing,
		     const char *backing_fmt, char *err, size_t errlen)
{
	/* Entries an L2 table maps, bytes an L2 table covers. */
	const uint64_t l2_cover = (uint64_t)CREATE_CLUSTER * (CREATE_CLUSTER / 8);
	uint64_t l1_entries, l1_clusters, total;
	uint8_t *img = NULL;
	char *tmp = NULL;
	size_t off, blen = backing ? strlen(backing) : 0;
	size_t flen = backing_fmt ? strlen(backing_fmt) : 0;
	int fd = -1, ret;

	if (size == 0 || size % 512 || size > (1ull << 50)) {
		errbuf_set(err, errlen, "%s: size %llu: a multiple of 512 bytes, at most 1 PiB",
			   path, (unsigned long long)size);
		return -EINVAL;
	}
	if (blen > QCOW2_MAX_BACKING_NAME || flen > QCOW2_MAX_BACKING_FMT ||
	    (backing && !blen) || (backing_fmt && !backing)) {
		errbuf_set(err, errlen, "%s: backing file name (1 to %d bytes) or format (up to "
			   "%d) out of range", path, QCOW2_MAX_BACKING_NAME, QCOW2_MAX_BACKING_FMT);
		return -EINVAL;
	}
	l1_entries = (size + l2_cover - 1) / l2_cover;
	l1_clusters = (l1_entries * 8 + CREATE_CLUSTER - 1) / CREATE_CLUSTER;
	total = 3 + l1_clusters; /* header, refcount table, L1, refcount block */
	img = calloc(total, CREATE_CLUSTER);
	if (!img || asprintf(&tmp, "%s.create-XXXXXX", path) < 0) {
		free(img);
		errbuf_set(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}

	/* Cluster 0: the header, its extensions, the backing file's name. */
	put32(img + 0, QCOW2_MAGIC);
	put32(img + 4, 3);
	put32(img + 20, CREATE_CLUSTER_BITS);
	put64(img + 24, size);
	put32(img + 36, (uint32_t)l1_entries);
	put64(img + 40, 2ull * CREATE_CLUSTER);
	put64(img + 48, 1ull * CREATE_CLUSTER);
	put32(img + 56, 1);
	put32(img + 96, 4);
	put32(img + 100, QCOW2_V3_HEADER_LEN);
	off = QCOW2_V3_HEADER_LEN;
	if (flen) {
		put32(img + off, EXT_BACKING_FORMAT);
		put32(img + off + 4, (uint32_t)flen);
		memcpy(img + off + 8, backing_fmt, flen);
		off += 8 + ((flen + 7) & ~(size_t)7);
	}
	off += 8; /* the end of the extensions: type 0, length 0 */
	if (blen) {
		put64(img + 8, off);
		put32(img + 16, (uint32_t)blen);
		memcpy(img + off, backing, blen);
	}
	/* Cluster 1: the refcount table, pointing at the last cluster. */
	put64(img + CREATE_CLUSTER, (total - 1) * CREATE_CLUSTER);
	/* The L1 table stays zero: nothing allocated, all reads go to the
	 * backing file (or read zeros). The refcount block: one for each
	 * cluster of the file. */
	for (uint64_t c = 0; c < total; c++) {
		uint16_t one = htobe16(1);

		memcpy(img + (total - 1) * CREATE_CLUSTER + c * 2, &one, 2);
	}

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	/* Sparse: only the header, the table entry and the refcounts are
	 * written; the rest (the zero L1 table) stays a hole. */
	if (ftruncate(fd, (off_t)(total * CREATE_CLUSTER)) < 0)
		ret = -errno;
	else
		ret = file_pwrite_all(fd, img, off + blen, 0);
	if (!ret)
		ret = file_pwrite_all(fd, img + CREATE_CLUSTER, 8, CREATE_CLUSTER);
	if (!ret)
		ret = file_pwrite_all(fd, img + (total - 1) * CREATE_CLUSTER, total * 2,
				      (total - 1) * CREATE_CLUSTER);
	if (!ret && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
		ret = -errno;
	if (!ret && link(tmp, path) < 0)
		ret = -errno;
	if (ret)
		errbuf_set(err, errlen, "%s: %s", path,
			   ret == -EEXIST ? "exists already" : strerror(-ret));
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(img);
	return ret;
}
