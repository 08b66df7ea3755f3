// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * base/iov: the one iovec walker every byte mover uses (virtqueues, image
 * formats, network back ends), at its edges: segment boundaries, empty
 * segments, the very end and past it, too little room for the pieces.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/iov.h"

static void test_iov_slice(void **state)
{
	uint8_t a[10], c[6];
	const struct iovec iov[3] = { { a, sizeof(a) }, { NULL, 0 }, { c, sizeof(c) } };
	struct iovec out[3];

	(void)state;
	/* From the start to the end: the empty segment gives no piece. */
	assert_int_equal(iov_slice(iov, 3, 0, SIZE_MAX, out, 3), 2);
	assert_ptr_equal(out[0].iov_base, a);
	assert_int_equal(out[0].iov_len, 10);
	assert_ptr_equal(out[1].iov_base, c);
	/* Inside the first segment. */
	assert_int_equal(iov_slice(iov, 3, 4, SIZE_MAX, out, 3), 2);
	assert_ptr_equal(out[0].iov_base, a + 4);
	assert_int_equal(out[0].iov_len, 6);
	assert_int_equal(out[1].iov_len, 6);
	/* Exactly at a boundary: the empty segment is skipped, then c. */
	assert_int_equal(iov_slice(iov, 3, 10, SIZE_MAX, out, 3), 1);
	assert_ptr_equal(out[0].iov_base, c);
	assert_int_equal(iov_slice(iov, 3, 12, SIZE_MAX, out, 3), 1);
	assert_ptr_equal(out[0].iov_base, c + 2);
	assert_int_equal(out[0].iov_len, 4);
	/* A length: cut inside a segment, or at a boundary. */
	assert_int_equal(iov_slice(iov, 3, 2, 5, out, 3), 1);
	assert_ptr_equal(out[0].iov_base, a + 2);
	assert_int_equal(out[0].iov_len, 5);
	assert_int_equal(iov_slice(iov, 3, 8, 4, out, 3), 2);
	assert_int_equal(out[0].iov_len, 2);
	assert_int_equal(out[1].iov_len, 2);
	assert_int_equal(iov_slice(iov, 3, 0, 10, out, 3), 1);
	/* More asked than there is: what there is. */
	assert_int_equal(iov_slice(iov, 3, 14, 100, out, 3), 1);
	assert_int_equal(out[0].iov_len, 2);
	/* The very end: nothing left; beyond it: an error. */
	assert_int_equal(iov_slice(iov, 3, 16, SIZE_MAX, out, 3), 0);
	assert_int_equal(iov_slice(iov, 3, 17, SIZE_MAX, out, 3), -EINVAL);
	assert_int_equal(iov_slice(iov, 0, 0, SIZE_MAX, out, 3), 0);
	assert_int_equal(iov_slice(iov, 3, 0, 0, out, 0), 0);
	/* Too little room for the pieces. */
	assert_int_equal(iov_slice(iov, 3, 0, SIZE_MAX, out, 1), -EINVAL);
	assert_int_equal(iov_slice(iov, 3, 0, 10, out, 1), 1);
}

static void test_iov_copies(void **state)
{
	uint8_t a[4] = "abcd", c[3] = "efg", buf[8];
	const struct iovec iov[3] = { { a, sizeof(a) }, { NULL, 0 }, { c, sizeof(c) } };

	(void)state;
	assert_int_equal(iov_length(iov, 3), 7);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(iov_to_buf(iov, 3, 2, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "cdefg", 5);
	assert_int_equal(iov_to_buf(iov, 3, 0, buf, 3), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(iov_to_buf(iov, 3, 7, buf, 4), 0);
	assert_int_equal(iov_to_buf(iov, 3, 9, buf, 4), 0);
	/* Across the boundary and the empty segment. */
	assert_int_equal(iov_from_buf(iov, 3, 3, "XYZ", 3), 3);
	assert_memory_equal(a, "abcX", 4);
	assert_memory_equal(c, "YZg", 3);
	/* Cut at the end. */
	assert_int_equal(iov_from_buf(iov, 3, 6, "12", 2), 1);
	assert_memory_equal(c, "YZ1", 3);
	assert_int_equal(iov_zero(iov, 3, 1, 100), 6);
	assert_memory_equal(a, "a\0\0\0", 4);
	assert_memory_equal(c, "\0\0\0", 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iov_slice),
		cmocka_unit_test(test_iov_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
