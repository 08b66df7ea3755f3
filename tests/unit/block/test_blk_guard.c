// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What a guest must not be able to do through its disk, and what a failing
 * host disk must not hide:
 *   - turn a raw image whose format was guessed into a qcow2 image (or any
 *     other recognised format) by writing a header into its first sector:
 *     the next open would believe it and read the backing file it names;
 *   - get a successful flush after one that failed (the pages the kernel
 *     could not write back may be gone). fdatasync is wrapped at link time
 *     (-Wl,--wrap=fdatasync) so the test can make the "disk" fail.
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
#include <unistd.h>

#include "blk_test.h"

/* ---- a fault-injecting fdatasync ---- */
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
static int fail_next_syncs;	/* this many fdatasync calls fail with EIO */

int __wrap_fdatasync(int fd)
{
	if (fail_next_syncs > 0) {
		fail_next_syncs--;
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

/* A sector that qcow2 would take for its header, naming BACKING. */
static void qcow2_header(uint8_t *sec, const char *backing)
{
	static const uint8_t magic[] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	size_t n = strlen(backing);

	memset(sec, 0, 512);
	memcpy(sec, magic, sizeof(magic));
	/* backing_file_offset 0x100, backing_file_size n, big endian */
	sec[15] = 0x01;
	sec[19] = (uint8_t)n;
	sec[23] = 16;	/* cluster_bits */
	sec[31] = 0x10;	/* size: 1 MiB */
	memcpy(sec + 0x100, backing, n);
}

static int write_at(struct blk *b, uint64_t off, const void *buf, size_t len)
{
	struct iovec v = { (void *)buf, len };

	return blk_write(b, off, &v, 1);
}

static void test_guessed_raw_keeps_its_format(void **state)
{
	uint8_t sec[512], back[512], two[1024] = { 0 };
	const char *img = bt_path("guess.raw");
	struct blk_extent ext;
	struct blk *b;
	char *log;

	(void)state;
	memset(back, 0, sizeof(back));
	bt_write_file(img, back, sizeof(back));
	assert_int_equal(truncate(img, 1 << 20), 0);
	b = bt_open(img, false, BLK_FORMAT_AUTO);
	assert_true(blk_format_guessed(b));
	qcow2_header(sec, "/etc/passwd");

	bt_log_capture_start();
	/* Whole sector, a write that only completes the magic, a longer one. */
	assert_int_equal(write_at(b, 0, sec, sizeof(sec)), -EPERM);
	assert_int_equal(write_at(b, 0, sec, 3), 0);
	assert_int_equal(write_at(b, 3, sec + 3, 509), -EPERM);
	memcpy(two, sec, sizeof(sec));
	assert_int_equal(write_at(b, 0, two, sizeof(two)), -EPERM);
	/* Other recognised formats too, vdi's magic at 0x40 included. */
	memset(sec, 0, sizeof(sec));
	memcpy(sec + 0x40, "\x7f\x10\xda\xbe", 4);
	assert_int_equal(write_at(b, 0, sec, sizeof(sec)), -EPERM);
	log = bt_log_capture_end();
	assert_non_null(strstr(log, "guessed as raw"));
	/* Warned once, not per write. */
	assert_null(strstr(strstr(log, "guessed as raw") + 1, "guessed as raw"));
	free(log);

	/* Ordinary data there is fine, and so is anything past the sector. */
	memset(sec, 0xab, sizeof(sec));
	assert_int_equal(write_at(b, 0, sec, sizeof(sec)), 0);
	qcow2_header(sec, "/etc/passwd");
	assert_int_equal(write_at(b, 512, sec, sizeof(sec)), 0);
	/* Asynchronous writers are sent to blk_write for the first sector only. */
	assert_int_equal(blk_map(b, 0, 4096, true, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_OTHER);
	assert_int_equal(ext.len, 512);
	assert_int_equal(blk_map(b, 512, 4096, true, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_DATA);
	blk_unmap(b);
	assert_int_equal(blk_map(b, 0, 4096, false, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_DATA);
	blk_unmap(b);
	blk_close(b);

	/* Reopened: still raw, and the first sector is what was allowed. */
	b = bt_open(img, true, BLK_FORMAT_AUTO);
	assert_string_equal(blk_format_name(b), "raw");
	{
		struct iovec v = { back, sizeof(back) };

		assert_int_equal(blk_read(b, 0, &v, 1), 0);
		memset(sec, 0xab, sizeof(sec));
		assert_memory_equal(back, sec, sizeof(sec));
	}
	blk_close(b);

	/* Named raw: the user said what it is, the bytes mean nothing to us. */
	b = bt_open(img, false, BLK_FORMAT_RAW);
	assert_false(blk_format_guessed(b));
	qcow2_header(sec, "/etc/passwd");
	assert_int_equal(write_at(b, 0, sec, sizeof(sec)), 0);
	assert_int_equal(blk_map(b, 0, 4096, true, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_DATA);
	blk_unmap(b);
	blk_close(b);
	b = bt_open(img, true, BLK_FORMAT_RAW);
	assert_string_equal(blk_format_name(b), "raw");
	blk_close(b);
}

/* A qcow2 image and a raw one: once a flush failed, flushes keep failing. */
static void sticky_flush(const char *name, int format)
{
	uint8_t buf[4096];
	struct blk *b;
	char *log;

	if (format == BLK_FORMAT_QCOW2) {
		assert_int_equal(bt_sh(NULL, 0, "qemu-img create -q -f qcow2 %s 8M",
				       bt_path(name)), 0);
	} else {
		memset(buf, 0, sizeof(buf));
		bt_write_file(bt_path(name), buf, sizeof(buf));
		assert_int_equal(truncate(bt_path(name), 8 << 20), 0);
	}
	b = bt_open(bt_path(name), false, format);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(write_at(b, 65536, buf, sizeof(buf)), 0);
	assert_int_equal(blk_flush(b), 0);

	bt_log_capture_start();
	assert_int_equal(write_at(b, 0, buf, sizeof(buf)), 0);
	fail_next_syncs = 1;
	assert_int_equal(blk_flush(b), -EIO);
	assert_int_equal(fail_next_syncs, 0);
	/* The disk works again, but the lost write-back is not forgotten. */
	assert_int_equal(blk_flush(b), -EIO);
	assert_int_equal(write_at(b, 8192, buf, sizeof(buf)), 0);
	assert_int_equal(blk_flush(b), -EIO);
	log = bt_log_capture_end();
	assert_non_null(strstr(log, "every later flush of this image fails too"));
	free(log);
	blk_close(b);

	/* A new open is the user's decision: flushes work again. */
	b = bt_open(bt_path(name), false, format);
	assert_int_equal(blk_flush(b), 0);
	blk_close(b);
	if (format == BLK_FORMAT_QCOW2)
		bt_qemu_check_clean(bt_path(name));
}

static void test_sticky_flush_raw(void **state)
{
	(void)state;
	sticky_flush("flush.raw", BLK_FORMAT_RAW);
}

static void test_sticky_flush_qcow2(void **state)
{
	(void)state;
	sticky_flush("flush.qcow2", BLK_FORMAT_QCOW2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guessed_raw_keeps_its_format),
		cmocka_unit_test(test_sticky_flush_raw),
		cmocka_unit_test(test_sticky_flush_qcow2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
