// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Raw images: the guest's bytes are the file's bytes.
 *
 * No metadata, so no lock: every call is a positioned syscall on the
 * file, safe from any number of threads. Discard punches a hole (the file
 * system frees the blocks and the range reads as zeros); write-zeroes
 * either punches (may unmap) or asks for FALLOC_FL_ZERO_RANGE, which keeps
 * the blocks allocated, and writes zeros itself where the file system
 * supports neither (tmpfs has no ZERO_RANGE, for one).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_int.h"
#include "base/log.h"

/* Zeros are written in pieces of this size when the file system can't. */
#define RAW_ZERO_CHUNK (1u << 20)

static int raw_open(struct blk *b, struct blk_chain *chain, char *err, size_t errlen)
{
	b->size = b->file_size;
	return 0;
}

static void raw_close(struct blk *b)
{
}

static int raw_read(struct blk *b, uint64_t off, const struct iovec *iov,
		    int iovcnt, uint64_t len)
{
	int ret = blk_data_preadv(b, off, iov, iovcnt, len);

	if (ret)
		pr_err("%s: read of %llu bytes at %llu failed: %s", b->path,
		       (unsigned long long)len, (unsigned long long)off, strerror(-ret));
	return ret;
}

static int raw_write(struct blk *b, uint64_t off, const struct iovec *iov,
		     int iovcnt, uint64_t len)
{
	int ret = blk_data_pwritev(b, off, iov, iovcnt, len);

	if (ret)
		pr_err("%s: write of %llu bytes at %llu failed: %s", b->path,
		       (unsigned long long)len, (unsigned long long)off, strerror(-ret));
	return ret;
}

static int raw_flush(struct blk *b)
{
	return file_datasync(b->fd);
}

static int raw_fallocate(struct blk *b, int mode, uint64_t off, uint64_t len)
{
	while (fallocate(b->fd, mode, (off_t)off, (off_t)len) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int raw_write_zero_bytes(struct blk *b, uint64_t off, uint64_t len)
{
	uint64_t chunk = len < RAW_ZERO_CHUNK ? len : RAW_ZERO_CHUNK;
	void *zeros;
	int ret = 0;

	/* Aligned, so the O_DIRECT descriptor can take it. */
	if (posix_memalign(&zeros, BLK_DIO_ALIGN, chunk))
		return -ENOMEM;
	memset(zeros, 0, chunk);
	while (len && !ret) {
		uint64_t n = len < chunk ? len : chunk;

		ret = blk_data_pwrite(b, off, zeros, n);
		off += n;
		len -= n;
	}
	free(zeros);
	return ret;
}

static bool fallocate_unsupported(int ret)
{
	return ret == -EOPNOTSUPP || ret == -ENOSYS || ret == -EINVAL || ret == -ENODEV;
}

static int raw_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	int ret;

	if (may_unmap) {
		ret = raw_fallocate(b, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
		if (!ret)
			return 0;
		if (!fallocate_unsupported(ret))
			goto fail;
	}
	ret = raw_fallocate(b, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
	if (!ret)
		return 0;
	if (!fallocate_unsupported(ret))
		goto fail;
	ret = raw_write_zero_bytes(b, off, len);
	if (!ret)
		return 0;
fail:
	pr_err("%s: zeroing %llu bytes at %llu failed: %s", b->path,
	       (unsigned long long)len, (unsigned long long)off, strerror(-ret));
	return ret;
}

static int raw_discard(struct blk *b, uint64_t off, uint64_t len)
{
	return raw_write_zeroes(b, off, len, true);
}

static int raw_map(struct blk *b, uint64_t off, uint64_t len, bool write,
		   struct blk_extent *ext)
{
	ext->kind = BLK_EXTENT_DATA;
	ext->fd = b->fd;
	ext->dio_fd = b->dio_fd;
	ext->host_off = off;
	ext->len = len;
	return 0;
}

static void raw_unmap(struct blk *b)
{
}

const struct blk_driver blk_raw_driver = {
	.name = "raw",
	.open = raw_open,
	.close = raw_close,
	.read = raw_read,
	.write = raw_write,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.map = raw_map,
	.unmap = raw_unmap,
};
