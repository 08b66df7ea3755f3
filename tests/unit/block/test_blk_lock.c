// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Image locking against a real QEMU (qemu-io from qemu-utils), both ways:
 * while QEMU writes an image we cannot open it; while QEMU reads it we can
 * read but not write; while we write it QEMU can do neither; while we read
 * it (or use it as a backing file) QEMU can read but not write. Two of our
 * own writers exclude each other too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blk_test.h"

static pid_t qemu_pid = -1;

/* Starts qemu-io holding IMG open (writable unless READONLY) in the background. */
static void qemu_hold(const char *img, bool readonly, const char *fmt)
{
	qemu_pid = fork();
	assert_true(qemu_pid >= 0);
	if (qemu_pid == 0) {
		freopen("/dev/null", "w", stdout);
		if (readonly)
			execlp("qemu-io", "qemu-io", "-f", fmt, "-r", "-c", "sleep 20000", img, NULL);
		else
			execlp("qemu-io", "qemu-io", "-f", fmt, "-c", "sleep 20000", img, NULL);
		_exit(127);
	}
}

static void qemu_release(void)
{
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGTERM);
		waitpid(qemu_pid, NULL, 0);
	}
	qemu_pid = -1;
}

static int try_open(const char *path, bool readonly, char *err, size_t errlen)
{
	struct blk_open_opts o = { .readonly = readonly };
	struct blk *b;
	int ret = blk_open(path, &o, &b, err, errlen);

	if (!ret)
		blk_close(b);
	return ret;
}

/*
 * Waits (up to 10 s) until qemu-io has the image open: someone holds byte
 * 100 (the "consistent read" permission every user takes). Asked with
 * F_OFD_GETLK, which takes no lock: probing with an open of ours would
 * hold locks for a moment, and a qemu-io starting just then fails on them
 * (seen under ASan: "Failed to get shared "write" lock").
 */
static void wait_for_qemu(const char *img)
{
	int fd = open(img, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	for (int i = 0; i < 1000; i++) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 100, .l_len = 1 };

		assert_int_equal(fcntl(fd, F_OFD_GETLK, &fl), 0);
		if (fl.l_type != F_UNLCK) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	close(fd);
	fail_msg("qemu-io did not take its locks on %s", img);
}

static void make_image(const char *name, const char *fmt)
{
	char out[4096];

	bt_require_qemu();
	if (bt_sh(out, sizeof(out), "rm -f '%s' && qemu-img create -q -f %s '%s' 1M",
		  bt_path(name), fmt, bt_path(name)))
		fail_msg("qemu-img create: %s", out);
}

static void expect_busy(const char *img, bool readonly, const char *needle)
{
	char err[512];
	int ret = try_open(img, readonly, err, sizeof(err));

	assert_int_equal(ret, -EBUSY);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
	print_message("    %s open refused: %s\n", readonly ? "read-only" : "writable",
		      strstr(err, ": ") + 2);
}

/* Runs qemu-io with ARGS on IMG; returns its exit status, output in OUT. */
static int qemu_io(char *out, size_t outlen, const char *args, const char *img)
{
	return bt_sh(out, outlen, "qemu-io %s '%s'", args, img);
}

static void test_qemu_writer_excludes_us(void **state)
{
	const char *img = bt_path("lock-w.qcow2");
	char err[512];

	(void)state;
	make_image("lock-w.qcow2", "qcow2");
	qemu_hold(img, false, "qcow2");
	wait_for_qemu(img);
	expect_busy(img, false, "image is locked by another process");
	expect_busy(img, true, "image is locked by another process (it holds the \"write\" permission)");
	qemu_release();
	assert_int_equal(try_open(img, false, err, sizeof(err)), 0);
}

static void test_qemu_reader_allows_only_readers(void **state)
{
	const char *img = bt_path("lock-r.qcow2");
	char err[512];

	(void)state;
	make_image("lock-r.qcow2", "qcow2");
	qemu_hold(img, true, "qcow2");
	wait_for_qemu(img);
	expect_busy(img, false, "does not share the \"write\" permission");
	assert_int_equal(try_open(img, true, err, sizeof(err)), 0);
	qemu_release();
}

static void test_our_writer_excludes_qemu(void **state)
{
	const char *img = bt_path("lock-ours.qcow2");
	struct blk *b;
	char out[4096];

	(void)state;
	make_image("lock-ours.qcow2", "qcow2");
	b = bt_open(img, false, BLK_FORMAT_AUTO);
	assert_int_not_equal(qemu_io(out, sizeof(out), "-r -c 'read 0 512'", img), 0);
	assert_non_null(strstr(out, "Failed to get shared \"write\" lock"));
	assert_int_not_equal(qemu_io(out, sizeof(out), "-c 'write 0 512'", img), 0);
	assert_non_null(strstr(out, "Failed to get \"write\" lock"));
	print_message("    qemu-io refused: %.*s\n", (int)strcspn(out, "\n"), out);
	/* And another writer of ours. */
	expect_busy(img, false, "image is locked by another process");
	blk_close(b);
	assert_int_equal(qemu_io(out, sizeof(out), "-c 'write 0 512'", img), 0);
}

static void test_our_reader_and_backing_exclude_qemu_writers(void **state)
{
	const char *base = bt_path("lock-base.raw");
	const char *top = bt_path("lock-top.qcow2");
	struct blk *b;
	char out[4096];

	(void)state;
	make_image("lock-base.raw", "raw");
	if (bt_sh(out, sizeof(out), "cd '%s' && rm -f lock-top.qcow2 && "
		  "qemu-img create -q -f qcow2 -b lock-base.raw -F raw lock-top.qcow2", bt_dir()))
		fail_msg("qemu-img create: %s", out);

	b = bt_open(base, true, BLK_FORMAT_RAW);
	assert_int_not_equal(qemu_io(out, sizeof(out), "-f raw -c 'write 0 512'", base), 0);
	assert_int_equal(qemu_io(out, sizeof(out), "-f raw -r -c 'read 0 512'", base), 0);
	blk_close(b);

	/* Writing the overlay opens the base read-only: QEMU may read it only. */
	b = bt_open(top, false, BLK_FORMAT_QCOW2);
	assert_int_not_equal(qemu_io(out, sizeof(out), "-f raw -c 'write 0 512'", base), 0);
	assert_non_null(strstr(out, "Failed to get \"write\" lock"));
	assert_int_equal(qemu_io(out, sizeof(out), "-f raw -r -c 'read 0 512'", base), 0);
	blk_close(b);
	assert_int_equal(qemu_io(out, sizeof(out), "-f raw -c 'write 0 512'", base), 0);
}

static void test_raw_image_locked_too(void **state)
{
	const char *img = bt_path("lock.raw");

	(void)state;
	make_image("lock.raw", "raw");
	qemu_hold(img, false, "raw");
	wait_for_qemu(img);
	expect_busy(img, false, "image is locked by another process");
	qemu_release();
}

static int teardown(void **state)
{
	(void)state;
	qemu_release();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_qemu_writer_excludes_us, teardown),
		cmocka_unit_test_teardown(test_qemu_reader_allows_only_readers, teardown),
		cmocka_unit_test_teardown(test_our_writer_excludes_qemu, teardown),
		cmocka_unit_test_teardown(test_our_reader_and_backing_exclude_qemu_writers, teardown),
		cmocka_unit_test_teardown(test_raw_image_locked_too, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
