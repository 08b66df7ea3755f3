// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Small helpers every image format needs: a scratch iovec array, data I/O
 * that survives short transfers and EINTR, the choice between the buffered
 * and the O_DIRECT descriptor, and the cluster gate. (iovec walking and
 * exact positioned I/O are base/'s: iov.h, file.h.)
 *
 * Why two descriptors with `direct`: O_DIRECT needs offsets, lengths and
 * buffers aligned to the device's block size, which guest requests and
 * qcow2 metadata updates are not always. Aligned data I/O goes to the
 * O_DIRECT descriptor; the rest goes through the page cache of the same
 * file. Linux keeps the two coherent (a direct write invalidates the cached
 * range, a direct read writes dirty cached pages back first), and fdatasync
 * of either descriptor flushes the inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/blk_int.h"
#include "base/log.h"

/* ---- iovec ---- */

int iov_scratch_init(struct iov_scratch *s, int iovcnt)
{
	s->v = s->small;
	if (iovcnt > (int)ARRAY_SIZE(s->small)) {
		s->v = calloc((size_t)iovcnt, sizeof(*s->v));
		if (!s->v)
			return -ENOMEM;
	}
	return 0;
}

void iov_scratch_free(struct iov_scratch *s)
{
	if (s->v != s->small)
		free(s->v);
	s->v = NULL;
}

/* ---- file I/O ---- */

int file_datasync(int fd)
{
	while (fdatasync(fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Drops the first N bytes of a (mutable) iovec array. */
static void iov_advance(struct iovec **iov, int *iovcnt, uint64_t n)
{
	while (n && *iovcnt) {
		if (n < (*iov)->iov_len) {
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
			return;
		}
		n -= (*iov)->iov_len;
		(*iov)++;
		(*iovcnt)--;
	}
}

static bool iov_is_aligned(const struct iovec *iov, int iovcnt, uint64_t off,
			   uint64_t len)
{
	if ((off | len) & (BLK_DIO_ALIGN - 1))
		return false;
	for (int i = 0; i < iovcnt; i++) {
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (BLK_DIO_ALIGN - 1))
			return false;
	}
	return true;
}

/*
 * preadv/pwritev over a mutable copy V of the iovec, looping until done.
 * Reads stop early at end of file and zero the rest.
 */
static int file_rw_loop(int fd, uint64_t off, struct iovec *v, int cnt, bool write)
{
	while (cnt) {
		int n_iov = cnt < IOV_MAX ? cnt : IOV_MAX;
		ssize_t n = write ? pwritev(fd, v, n_iov, (off_t)off)
				  : preadv(fd, v, n_iov, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (write)
				return -EIO;
			iov_zero(v, cnt, 0, iov_length(v, cnt));
			return 0;
		}
		off += (uint64_t)n;
		iov_advance(&v, &cnt, (uint64_t)n);
		/* Skip emptied entries so the next call sees data. */
		while (cnt && !v->iov_len) {
			v++;
			cnt--;
		}
	}
	return 0;
}

/* Bytes [skip, skip + len) of IOV to or from HOST_OFF of the file: through
 * DIO_FD (O_DIRECT, or -1) when aligned, else through FD. */
static int fd_rw(int fd, int dio_fd, uint64_t host_off, const struct iovec *iov, int iovcnt,
		 uint64_t skip, uint64_t len, bool write)
{
	struct iov_scratch s;
	int cnt, ret;

	if (!len)
		return 0;
	ret = iov_scratch_init(&s, iovcnt);
	if (ret)
		return ret;
	cnt = iov_slice(iov, (unsigned int)iovcnt, skip, len, s.v, (unsigned int)iovcnt);
	if (cnt < 0) {
		ret = cnt;
		goto out;
	}
	if (dio_fd >= 0 && iov_is_aligned(s.v, cnt, host_off, len)) {
		ret = file_rw_loop(dio_fd, host_off, s.v, cnt, write);
		/*
		 * EINVAL: the device wants stricter alignment than we guessed.
		 * Nothing was transferred; go through the page cache instead.
		 */
		if (ret != -EINVAL)
			goto out;
		cnt = iov_slice(iov, (unsigned int)iovcnt, skip, len, s.v, (unsigned int)iovcnt);
	}
	ret = file_rw_loop(fd, host_off, s.v, cnt, write);
out:
	iov_scratch_free(&s);
	return ret;
}

static int blk_data_rw(struct blk *b, uint64_t host_off, const struct iovec *iov,
		       int iovcnt, uint64_t len, bool write)
{
	return fd_rw(b->fd, b->dio_fd, host_off, iov, iovcnt, 0, len, write);
}

int blk_extent_rw(const struct blk_extent *ext, uint64_t skip, const struct iovec *iov,
		  int iovcnt, bool write)
{
	if (ext->kind != BLK_EXTENT_DATA || skip > ext->len)
		return -EINVAL;
	return fd_rw(ext->fd, ext->dio_fd, ext->host_off + skip, iov, iovcnt, skip,
		     ext->len - skip, write);
}

int blk_data_preadv(struct blk *b, uint64_t host_off, const struct iovec *iov,
		    int iovcnt, uint64_t len)
{
	return blk_data_rw(b, host_off, iov, iovcnt, len, false);
}

int blk_data_pwritev(struct blk *b, uint64_t host_off, const struct iovec *iov,
		     int iovcnt, uint64_t len)
{
	return blk_data_rw(b, host_off, iov, iovcnt, len, true);
}

int blk_data_pread(struct blk *b, uint64_t host_off, void *buf, uint64_t len)
{
	struct iovec iov = { buf, len };

	return blk_data_rw(b, host_off, &iov, 1, len, false);
}

int blk_data_pwrite(struct blk *b, uint64_t host_off, const void *buf, uint64_t len)
{
	struct iovec iov = { (void *)buf, len };

	return blk_data_rw(b, host_off, &iov, 1, len, true);
}

/* ---- the cluster gate ---- */

void blk_gate_init(struct blk_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->shared = 0;
	g->exclusive_waiting = 0;
	g->exclusive = false;
}

void blk_gate_destroy(struct blk_gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
}

void blk_gate_enter_shared(struct blk_gate *g)
{
	pthread_mutex_lock(&g->lock);
	/* Waiting exclusive holders go first, or discards could starve. */
	while (g->exclusive || g->exclusive_waiting)
		pthread_cond_wait(&g->cond, &g->lock);
	g->shared++;
	pthread_mutex_unlock(&g->lock);
}

void blk_gate_leave_shared(struct blk_gate *g)
{
	pthread_mutex_lock(&g->lock);
	if (ALWAYS(g->shared > 0))
		g->shared--;
	if (!g->shared)
		pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

void blk_gate_enter_exclusive(struct blk_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->exclusive_waiting++;
	while (g->exclusive || g->shared)
		pthread_cond_wait(&g->cond, &g->lock);
	g->exclusive_waiting--;
	g->exclusive = true;
	pthread_mutex_unlock(&g->lock);
}

void blk_gate_leave_exclusive(struct blk_gate *g)
{
	pthread_mutex_lock(&g->lock);
	(void)ALWAYS(g->exclusive);
	g->exclusive = false;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}
