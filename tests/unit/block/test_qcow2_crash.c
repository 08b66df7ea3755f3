// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Crash consistency, the part a test can reach: a child process writes,
 * discards and zeroes at random (512-byte clusters, so nearly every write
 * allocates L2 tables, refcount blocks and grows the refcount table) and is
 * killed with SIGKILL at a random moment, many times over the same image.
 * Metadata is written through, so the file is exactly what the writes
 * issued so far made it: if any update came in the wrong order (an L2
 * entry before its cluster's refcount, a freed cluster still referenced,
 * a header pointing at a table not yet written), `qemu-img check` would
 * find corruption. Leaks are allowed: they are the price of a crash.
 *
 * Losing writes the kernel had not yet made durable (power failure) is
 * not simulated; the fdatasync ordering that covers it is reviewed in
 * qcow2.c instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blk_test.h"

#define ROUNDS 25
#define SIZE (16u << 20)

static void child_writes(const char *path, uint64_t seed)
{
	static uint8_t buf[256 * 1024];
	struct blk *b;
	struct blk_open_opts o = { .format = BLK_FORMAT_QCOW2 };
	char err[512];

	if (blk_open(path, &o, &b, err, sizeof(err))) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	for (;;) {
		uint64_t len = 1 + bt_rand(&seed) % sizeof(buf);
		uint64_t off = bt_rand(&seed) % (SIZE - len);
		uint64_t kind = bt_rand(&seed) % 10;
		struct iovec iov = { buf, len };
		int ret;

		if (kind < 7) {
			bt_fill_random(buf, len, &seed);
			ret = blk_write(b, off, &iov, 1);
		} else if (kind < 9) {
			ret = blk_discard(b, off, len);
		} else {
			ret = blk_write_zeroes(b, off, len, seed & 1);
		}
		if (ret)
			_exit(3);
	}
}

static void test_kill_while_writing(void **state)
{
	const char *img = bt_path("crash.qcow2");
	uint64_t rng = 2024;
	unsigned leaks = 0;
	char out[8192];
	uint8_t *all;
	struct blk *b;

	(void)state;
	bt_require_qemu();
	if (bt_sh(out, sizeof(out), "rm -f '%s' && qemu-img create -q -f qcow2 -o cluster_size=512 '%s' %u",
		  img, img, SIZE))
		fail_msg("qemu-img create: %s", out);
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t seed = bt_rand(&rng);
		struct timespec delay = { 0, (long)(2 + bt_rand(&rng) % 40) * 1000000 };
		int status, rc;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			child_writes(img, seed);
		nanosleep(&delay, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("round %d: the writer exited with %d before the kill", round,
				 WEXITSTATUS(status));
		/* 0: clean; 3: leaked clusters only; anything else: damage. */
		rc = bt_sh(out, sizeof(out), "qemu-img check '%s'", img);
		if (rc != 0 && rc != 3)
			fail_msg("round %d (seed %llu): qemu-img check exit %d\n%s", round,
				 (unsigned long long)seed, rc, out);
		leaks += rc == 3;
	}
	print_message("    %d kills, %u left leaked clusters, none left damage\n", ROUNDS, leaks);
	/* And we can still read all of it. */
	b = bt_open(img, false, BLK_FORMAT_QCOW2);
	all = bt_read_all(b);
	free(all);
	blk_close(b);
	if (bt_sh(out, sizeof(out), "qemu-img check -r leaks '%s'", img))
		fail_msg("qemu-img check -r leaks: %s", out);
	bt_qemu_check_clean(img);
}

/*
 * What a crash between "refcount written" and "data written" leaves at the
 * end of the file: refcounts for clusters past its end. They are leaks,
 * not free clusters, and new allocations must go around them.
 */
static void test_leak_past_end_of_file(void **state)
{
	const char *img = bt_path("leak.qcow2");
	uint8_t *file, buf[70000];
	struct iovec iov = { buf, sizeof(buf) };
	uint64_t rb, past;
	size_t len;
	char out[8192];
	struct blk *b;
	int rc;

	(void)state;
	bt_require_qemu();
	if (bt_sh(out, sizeof(out), "rm -f '%s' && qemu-img create -q -f qcow2 '%s' 16M", img, img))
		fail_msg("qemu-img create: %s", out);
	file = bt_read_file(img, &len);
	/* 64 KiB clusters, 16-bit refcounts: the first block, entries past EOF. */
	rb = be64toh(*(uint64_t *)(file + be64toh(*(uint64_t *)(file + 48))));
	past = (len + 65535) / 65536;	/* the first cluster wholly past the end */
	file[rb + 2 * past] = 0;
	file[rb + 2 * past + 1] = 1;
	file[rb + 2 * (past + 2) + 1] = 1;
	bt_write_file(img, file, len);
	free(file);

	b = bt_open(img, false, BLK_FORMAT_QCOW2);
	memset(buf, 0x6b, sizeof(buf));
	for (int i = 0; i < 8; i++)
		assert_int_equal(blk_write(b, (uint64_t)i << 20, &iov, 1), 0);
	blk_close(b);
	rc = bt_sh(out, sizeof(out), "qemu-img check '%s'", img);
	if (rc != 3 || !strstr(out, "2 leaked clusters"))
		fail_msg("expected exactly the 2 planted leaks: exit %d\n%s", rc, out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_while_writing),
		cmocka_unit_test(test_leak_past_end_of_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
