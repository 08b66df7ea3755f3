// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iovec walking (base/iov.h says why it exists once). The one loop is
 * iov_walk(): every other function is a use of it.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/iov.h"

uint64_t iov_length(const struct iovec *iov, unsigned int n)
{
	uint64_t len = 0;

	for (unsigned int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

enum iov_op { IOV_TO_BUF, IOV_FROM_BUF, IOV_ZERO };

static size_t iov_walk(const struct iovec *iov, unsigned int n, size_t skip, uint8_t *buf,
		       size_t len, enum iov_op op)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		uint8_t *p = (uint8_t *)iov[i].iov_base + skip;
		size_t k = iov[i].iov_len - skip;

		if (k > len - done)
			k = len - done;
		if (op == IOV_TO_BUF)
			memcpy(buf + done, p, k);
		else if (op == IOV_FROM_BUF)
			memcpy(p, buf + done, k);
		else
			memset(p, 0, k);
		done += k;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip, void *buf, size_t len)
{
	return iov_walk(iov, n, skip, buf, len, IOV_TO_BUF);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip, const void *buf,
		    size_t len)
{
	return iov_walk(iov, n, skip, (uint8_t *)buf, len, IOV_FROM_BUF);
}

size_t iov_zero(const struct iovec *iov, unsigned int n, size_t skip, size_t len)
{
	return iov_walk(iov, n, skip, NULL, len, IOV_ZERO);
}

int iov_slice(const struct iovec *iov, unsigned int n, size_t skip, size_t len, struct iovec *out,
	      unsigned int max)
{
	unsigned int i = 0, k = 0;

	while (i < n && skip >= iov[i].iov_len)
		skip -= iov[i++].iov_len;
	if (i == n && skip)
		return -EINVAL;
	for (; i < n && len; i++, skip = 0) {
		size_t piece = iov[i].iov_len - skip;

		if (!piece)
			continue;
		if (k == max)
			return -EINVAL;
		if (piece > len)
			piece = len;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[k].iov_len = piece;
		k++;
		len -= piece;
	}
	return (int)k;
}
