/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iovec arrays, walked one way for every part that moves bytes between
 * guest buffers and anything else: virtqueues (virtio/), image formats
 * (block/), the network back ends. One copy of the walking, so an
 * off-by-one at a segment edge is fixed once (it was written three times).
 *
 * Every function takes the segment count as unsigned and byte offsets as
 * size_t, and stops at the end of the array: asking for more than is there
 * is not an error, the return value says how much was done.
 */
#ifndef PHYLLO_BASE_IOV_H
#define PHYLLO_BASE_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* The bytes of the N segments, summed. */
uint64_t iov_length(const struct iovec *iov, unsigned int n);

/* Bytes [skip, skip + len) of IOV into buf / from buf / set to zero;
 * return the bytes done (less than len where IOV ends first). */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip, const void *buf,
		    size_t len);
size_t iov_zero(const struct iovec *iov, unsigned int n, size_t skip, size_t len);

/*
 * Bytes [skip, skip + len) of IOV (len SIZE_MAX: to the end) as pieces in
 * out, at most max of them; empty segments give no piece. Returns the
 * count, or -EINVAL when skip is beyond the end or more than max pieces
 * would be needed.
 */
int iov_slice(const struct iovec *iov, unsigned int n, size_t skip, size_t len, struct iovec *out,
	      unsigned int max);

#endif
