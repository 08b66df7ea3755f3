// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blk_create_qcow2 against the reference: the images it writes pass
 * `qemu-img check`, `qemu-img info` reads back their size, backing file and
 * backing format; QEMU writes into them and we read QEMU's data (and the
 * reverse); an overlay reads its backing file until written, and writing it
 * leaves the backing file untouched; sizes that need several L1 clusters
 * work; bad sizes, bad names and existing files are refused with a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "blk_test.h"

#define MiB (1ull << 20)

static void create_ok(const char *path, uint64_t size, const char *backing, const char *fmt)
{
	char err[512] = "";
	int ret = blk_create_qcow2(path, size, backing, fmt, err, sizeof(err));

	if (ret)
		fail_msg("blk_create_qcow2 %s: %d %s", path, ret, err);
}

static void info_has(const char *path, const char *needle)
{
	char out[4096];

	if (bt_sh(out, sizeof(out), "qemu-img info --output=json '%s'", path) != 0)
		fail_msg("qemu-img info %s failed:\n%s", path, out);
	if (!strstr(out, needle))
		fail_msg("qemu-img info %s does not say %s:\n%s", path, needle, out);
}

static void test_empty(void **state)
{
	const char *p = bt_path("empty.qcow2");
	struct stat st;
	struct blk *b;
	uint8_t *data;
	char out[4096];

	bt_require_qemu();
	unlink(p);
	create_ok(p, 64 * MiB, NULL, NULL);
	bt_qemu_check_clean(p);
	info_has(p, "\"virtual-size\": 67108864");
	info_has(p, "\"format\": \"qcow2\"");
	info_has(p, "\"compat\": \"1.1\"");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Reads as zeros in our reader. */
	b = bt_open(p, true, 0);
	assert_int_equal(blk_size(b), 64 * MiB);
	data = bt_read_all(b);
	for (size_t i = 0; i < 64 * MiB; i++)
		if (data[i])
			fail_msg("byte %zu of a new image is %u", i, data[i]);
	free(data);
	blk_close(b);

	/* QEMU writes into it; the image stays clean and we read QEMU's data. */
	if (bt_sh(out, sizeof(out), "qemu-io -f qcow2 -c 'write -P 0x5a 1M 128k' '%s'", p))
		fail_msg("qemu-io write: %s", out);
	bt_qemu_check_clean(p);
	b = bt_open(p, false, 0);
	{
		uint8_t buf[4096], mine[4096];
		struct iovec iov = { buf, sizeof(buf) };

		assert_int_equal(blk_read(b, 1 * MiB + 8192, &iov, 1), 0);
		for (size_t i = 0; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0x5a);
		memset(mine, 0xc3, sizeof(mine));
		iov.iov_base = mine;
		assert_int_equal(blk_write(b, 40 * MiB, &iov, 1), 0);
	}
	blk_close(b);
	bt_qemu_check_clean(p);
	if (bt_sh(out, sizeof(out), "qemu-io -f qcow2 -c 'read -P 0xc3 40M 4k' '%s'", p))
		fail_msg("qemu-io does not read our write: %s", out);
	unlink(p);
}

static void test_overlay(void **state)
{
	const char *base = bt_path("base.raw"), *ov = bt_path("overlay.qcow2");
	uint64_t seed = 7, before;
	size_t len = 8 * MiB;
	uint8_t *want = malloc(len), *got;
	struct blk *b;

	bt_require_qemu();
	unlink(ov);
	assert_non_null(want);
	bt_fill_random(want, len, &seed);
	bt_write_file(base, want, len);
	before = bt_hash_file(base);

	/* Relative to the overlay's folder, as QEMU resolves it. */
	create_ok(ov, len, "base.raw", "raw");
	bt_qemu_check_clean(ov);
	info_has(ov, "\"backing-filename\": \"base.raw\"");
	info_has(ov, "\"backing-filename-format\": \"raw\"");

	b = bt_open(ov, false, 0);
	got = bt_read_all(b);
	assert_memory_equal(got, want, len);
	free(got);
	{
		uint8_t buf[65536];
		struct iovec iov = { buf, sizeof(buf) };

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(blk_write(b, 3 * MiB + 512, &iov, 1), 0);
		memcpy(want + 3 * MiB + 512, buf, sizeof(buf));
	}
	blk_close(b);
	bt_qemu_check_clean(ov);
	assert_true(bt_hash_file(base) == before);

	/* QEMU sees the same stack. */
	{
		char out[4096];

		if (bt_sh(out, sizeof(out), "qemu-io -f qcow2 -c 'read -P 0xee 3146240 4096' '%s'",
			  ov))
			fail_msg("qemu-io does not read the overlay's write: %s", out);
	}
	b = bt_open(ov, true, 0);
	got = bt_read_all(b);
	assert_memory_equal(got, want, len);
	free(got);
	blk_close(b);
	unlink(ov);

	/* No format given: readers probe the backing file. */
	create_ok(ov, len, base, NULL);
	bt_qemu_check_clean(ov);
	b = bt_open(ov, true, 0);
	blk_close(b);
	unlink(ov);
	free(want);
}

/* A size whose L1 table needs more than one cluster (> 4 TiB of disk). */
static void test_large(void **state)
{
	const char *p = bt_path("large.qcow2");
	struct blk *b;
	char out[4096];

	bt_require_qemu();
	unlink(p);
	create_ok(p, 5ull << 40, NULL, NULL);
	bt_qemu_check_clean(p);
	info_has(p, "\"virtual-size\": 5497558138880");
	if (bt_sh(out, sizeof(out), "qemu-io -f qcow2 -c 'write -P 0x11 4.5T 64k' '%s'", p))
		fail_msg("qemu-io write at 4.5T: %s", out);
	bt_qemu_check_clean(p);
	b = bt_open(p, true, 0);
	{
		uint8_t buf[512];
		struct iovec iov = { buf, sizeof(buf) };

		assert_int_equal(blk_read(b, (9ull << 39), &iov, 1), 0);
		assert_int_equal(buf[0], 0x11);
		assert_int_equal(buf[511], 0x11);
	}
	blk_close(b);
	unlink(p);
}

static void expect_fail(const char *path, uint64_t size, const char *backing,
			const char *fmt, int want, const char *needle)
{
	char err[512] = "";
	int ret = blk_create_qcow2(path, size, backing, fmt, err, sizeof(err));

	if (ret != want || !strstr(err, needle) || !strstr(err, path))
		fail_msg("create %s: %d \"%s\", want %d with \"%s\"", path, ret, err, want, needle);
	print_message("    refused as expected: %s\n", err);
}

static void test_bad(void **state)
{
	const char *p = bt_path("bad.qcow2");
	char longname[1100];
	uint64_t h;

	unlink(p);
	expect_fail(p, 0, NULL, NULL, -EINVAL, "multiple of 512");
	expect_fail(p, 1000, NULL, NULL, -EINVAL, "multiple of 512");
	expect_fail(p, (1ull << 50) + 512, NULL, NULL, -EINVAL, "at most");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_fail(p, MiB, longname, NULL, -EINVAL, "backing file name");
	expect_fail(p, MiB, "", NULL, -EINVAL, "backing file name");
	expect_fail(p, MiB, NULL, "raw", -EINVAL, "backing");
	assert_int_equal(access(p, F_OK), -1);

	/* An existing file is never replaced, and no temporary is left. */
	bt_write_file(p, "keep me", 7);
	h = bt_hash_file(p);
	expect_fail(p, MiB, NULL, NULL, -EEXIST, "exists already");
	assert_true(bt_hash_file(p) == h);
	{
		char out[1024];

		assert_int_equal(bt_sh(out, sizeof(out), "ls '%s' | grep -c create-", bt_dir()), 1);
		assert_string_equal(out, "0\n");
	}
	unlink(p);
	expect_fail("/nonexistent-dir/x.qcow2", MiB, NULL, NULL, -ENOENT, "No such file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
