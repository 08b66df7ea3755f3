// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Compressed clusters: images made by `qemu-img convert -c` read back
 * byte for byte as their raw source, in pieces of every size; writing
 * over compressed clusters (which moves them to fresh clusters and drops
 * the references of the compressed data, several of which may share one
 * host cluster) keeps the image equal to the raw file and clean for
 * `qemu-img check`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk_test.h"

#define MiB (1ull << 20)
#define SIZE (8 * MiB)

struct variant {
	const char *name;
	const char *opts;
};

static const struct variant variants[] = {
	{ "v3-4k", "compat=1.1,cluster_size=4096" },
	{ "v3-64k", "compat=1.1,cluster_size=65536" },
	{ "v2-64k", "compat=0.10,cluster_size=65536" },
	{ "v3-512", "compat=1.1,cluster_size=512" },
	{ "v3-2M", "compat=1.1,cluster_size=2097152" },
};

/* Compressible text-like runs, random runs and zero runs, mixed. */
static uint8_t *make_source(uint64_t *rng)
{
	uint8_t *buf = calloc(1, SIZE);
	static const char words[] = "the quick brown fox jumps over the lazy dog 0123456789 ";

	assert_non_null(buf);
	for (uint64_t off = 0; off < SIZE;) {
		uint64_t n = 1 + bt_rand(rng) % 200000, kind = bt_rand(rng) % 3;

		if (n > SIZE - off)
			n = SIZE - off;
		if (kind == 0) {
			for (uint64_t i = 0; i < n; i++)
				buf[off + i] = (uint8_t)words[(i * 7 + (i >> 9)) % (sizeof(words) - 1)];
		} else if (kind == 1) {
			bt_fill_random(buf + off, n, rng);
		}
		off += n;
	}
	return buf;
}

static void read_in_pieces(struct blk *b, const uint8_t *expect, uint64_t *rng)
{
	uint8_t *buf = malloc(SIZE);
	uint64_t off = 0;

	assert_non_null(buf);
	while (off < SIZE) {
		uint64_t n = 1 + bt_rand(rng) % (bt_rand(rng) & 1 ? 3000 : 300000);
		struct iovec iov;

		if (n > SIZE - off)
			n = SIZE - off;
		iov = (struct iovec){ buf + off, n };
		assert_int_equal(blk_read(b, off, &iov, 1), 0);
		off += n;
	}
	if (memcmp(buf, expect, SIZE))
		fail_msg("compressed image does not read back as its source");
	free(buf);
}

static void test_variant(void **state)
{
	const struct variant *v = *state;
	uint64_t rng = 42;
	uint8_t *src = make_source(&rng), *buf;
	char out[8192];
	struct blk *q, *r;

	bt_require_qemu();
	bt_write_file(bt_path("src.raw"), src, SIZE);
	if (bt_sh(out, sizeof(out), "rm -f '%s'; qemu-img convert -c -f raw -O qcow2 -o %s '%s' '%s'",
		  bt_path("c.qcow2"), v->opts, bt_path("src.raw"), bt_path("c.qcow2")))
		fail_msg("qemu-img convert -c: %s", out);
	/* Make sure there is something compressed to read. */
	if (bt_sh(out, sizeof(out), "qemu-img check '%s'", bt_path("c.qcow2")) ||
	    strstr(out, " 0.00% compressed"))
		fail_msg("no compressed clusters: %s", out);

	q = bt_open(bt_path("c.qcow2"), true, BLK_FORMAT_AUTO);
	assert_string_equal(blk_format_name(q), "qcow2");
	read_in_pieces(q, src, &rng);
	blk_close(q);

	/* Partial writes and discards over compressed clusters. */
	q = bt_open(bt_path("c.qcow2"), false, BLK_FORMAT_QCOW2);
	r = bt_open(bt_path("src.raw"), false, BLK_FORMAT_RAW);
	buf = malloc(256 * 1024);
	assert_non_null(buf);
	for (int i = 0; i < 300; i++) {
		uint64_t len = 1 + bt_rand(&rng) % (256 * 1024);
		uint64_t off = bt_rand(&rng) % (SIZE - len);
		struct iovec iov = { buf, len };

		if (bt_rand(&rng) % 5 == 0) {
			assert_int_equal(blk_discard(q, off, len), 0);
			assert_int_equal(blk_discard(r, off, len), 0);
			continue;
		}
		bt_fill_random(buf, len, &rng);
		assert_int_equal(blk_write(q, off, &iov, 1), 0);
		assert_int_equal(blk_write(r, off, &iov, 1), 0);
	}
	free(buf);
	blk_close(r);
	{
		size_t len;
		uint8_t *now = bt_read_file(bt_path("src.raw"), &len);

		assert_int_equal(len, SIZE);
		read_in_pieces(q, now, &rng);
		free(now);
	}
	blk_close(q);
	bt_qemu_check_clean(bt_path("c.qcow2"));
	if (bt_sh(out, sizeof(out), "qemu-img compare -f qcow2 -F raw '%s' '%s'",
		  bt_path("c.qcow2"), bt_path("src.raw")))
		fail_msg("qemu-img compare: %s", out);
	free(src);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(variants) / sizeof(variants[0])];

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		tests[i] = (struct CMUnitTest){
			.name = variants[i].name,
			.test_func = test_variant,
			.initial_state = (void *)&variants[i],
		};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
