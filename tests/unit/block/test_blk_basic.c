// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The block layer's contract outside qcow2's format details: request
 * checks, read-only images, format recognition, O_DIRECT, long iovecs,
 * blk_map() for asynchronous I/O (and that a discard waits for a mapped
 * extent to be released), and several threads writing one image at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_test.h"

#define MiB (1ull << 20)

static void sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh_ok(const char *fmt, ...)
{
	char out[4096], cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (bt_sh(out, sizeof(out), "%s", cmd) != 0)
		fail_msg("command failed: %s\n%s", cmd, out);
}

static void make_qcow2(const char *name, const char *opts, const char *size)
{
	bt_require_qemu();
	sh_ok("rm -f '%s' && qemu-img create -q -f qcow2 -o %s '%s' %s", bt_path(name), opts,
	      bt_path(name), size);
}

static void test_request_checks(void **state)
{
	uint8_t buf[16] = { 0 };
	struct iovec iov = { buf, sizeof(buf) };
	struct blk *b;

	(void)state;
	sh_ok("rm -f '%s' && truncate -s 4096 '%s'", bt_path("r.raw"), bt_path("r.raw"));
	b = bt_open(bt_path("r.raw"), false, BLK_FORMAT_AUTO);
	assert_string_equal(blk_format_name(b), "raw");
	assert_int_equal(blk_size(b), 4096);
	assert_int_equal(blk_read(b, 4096 - 16, &iov, 1), 0);
	assert_int_equal(blk_read(b, 4096 - 15, &iov, 1), -EINVAL);
	assert_int_equal(blk_write(b, UINT64_MAX - 4, &iov, 1), -EINVAL);
	assert_int_equal(blk_discard(b, 4000, 100), -EINVAL);
	assert_int_equal(blk_write_zeroes(b, UINT64_MAX, 2, true), -EINVAL);
	assert_int_equal(blk_read(b, 4096, &iov, 0), 0);
	blk_close(b);
}

/* Read-only images refuse every change and stay byte-identical. */
static void test_readonly(void **state)
{
	const char *names[] = { "ro.qcow2", "ro.raw" };
	uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct blk_extent ext;

	(void)state;
	make_qcow2("ro.qcow2", "cluster_size=4096", "1M");
	sh_ok("qemu-io -c 'write -P 0x42 0 64k' '%s' && qemu-img convert -O raw '%s' '%s'",
	      bt_path("ro.qcow2"), bt_path("ro.qcow2"), bt_path("ro.raw"));
	for (int i = 0; i < 2; i++) {
		uint64_t before = bt_hash_file(bt_path(names[i]));
		struct blk *b = bt_open(bt_path(names[i]), true, BLK_FORMAT_AUTO);

		memset(buf, 0x99, sizeof(buf));
		assert_true(blk_is_readonly(b));
		assert_int_equal(blk_write(b, 0, &iov, 1), -EROFS);
		assert_int_equal(blk_write(b, 70000, &iov, 1), -EROFS);
		assert_int_equal(blk_discard(b, 0, 65536), -EROFS);
		assert_int_equal(blk_write_zeroes(b, 0, 4096, false), -EROFS);
		assert_int_equal(blk_map(b, 0, 512, true, &ext), -EROFS);
		assert_int_equal(blk_flush(b), 0);
		assert_int_equal(blk_read(b, 0, &iov, 1), 0);
		assert_int_equal(buf[0], 0x42);
		blk_close(b);
		assert_true(bt_hash_file(bt_path(names[i])) == before);
	}
}

static void test_format_recognition(void **state)
{
	struct blk_open_opts o = { .readonly = true };
	struct blk *b = NULL;
	char err[512];
	uint8_t vmdk[512] = "KDMV";

	(void)state;
	bt_write_file(bt_path("x.vmdk"), vmdk, sizeof(vmdk));
	assert_int_equal(blk_open(bt_path("x.vmdk"), &o, &b, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "vmdk images are not supported"));
	/* Forced raw, the same file is just bytes. */
	o.format = BLK_FORMAT_RAW;
	assert_int_equal(blk_open(bt_path("x.vmdk"), &o, &b, err, sizeof(err)), 0);
	blk_close(b);
	o.format = BLK_FORMAT_QCOW2;
	assert_int_equal(blk_open(bt_path("x.vmdk"), &o, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad magic"));

	o.format = BLK_FORMAT_AUTO;
	assert_int_equal(blk_open(bt_dir(), &o, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file or block device"));
	/* A FIFO must be refused, not block the open. */
	unlink(bt_path("fifo"));
	assert_int_equal(mkfifo(bt_path("fifo"), 0600), 0);
	assert_int_equal(blk_open(bt_path("fifo"), &o, &b, err, sizeof(err)), -EINVAL);
	assert_int_equal(blk_open(bt_path("nope"), &o, &b, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nope: cannot open: No such file"));
}

/* Many small iovec pieces (more than IOV_MAX) and O_DIRECT. */
static void test_iovecs_and_direct(void **state)
{
	const char *dir = getenv("BLK_TEST_DIRECT_DIR") ?: "/var/tmp";
	char qpath[512], rpath[512];
	enum { PIECES = 3000 };
	struct iovec *iov = calloc(PIECES, sizeof(*iov));
	uint8_t *data = malloc(2 * MiB), *back = malloc(2 * MiB), *al = NULL;
	uint64_t rng = 5;

	(void)state;
	bt_require_qemu();
	assert_true(iov && data && back);
	assert_int_equal(posix_memalign((void **)&al, 4096, MiB), 0);
	snprintf(qpath, sizeof(qpath), "%s/phyllo-blk-direct-%d.qcow2", dir, getpid());
	snprintf(rpath, sizeof(rpath), "%s/phyllo-blk-direct-%d.raw", dir, getpid());
	sh_ok("qemu-img create -q -f qcow2 '%s' 4M && truncate -s 4M '%s'", qpath, rpath);
	for (int direct = 0; direct < 2; direct++) {
		for (int f = 0; f < 2; f++) {
			struct blk_open_opts o = { .direct = direct };
			struct blk *b;
			char err[512];
			struct iovec one = { al, MiB };

			if (blk_open(f ? rpath : qpath, &o, &b, err, sizeof(err)))
				fail_msg("open: %s", err);
			/* Unaligned offset, 3000 pieces of 1 to 700 bytes. */
			bt_fill_random(data, 2 * MiB, &rng);
			uint64_t total = 0;

			for (int i = 0; i < PIECES; i++) {
				iov[i].iov_base = data + total;
				iov[i].iov_len = 1 + bt_rand(&rng) % 700;
				total += iov[i].iov_len;
			}
			assert_int_equal(blk_write(b, 12345, iov, PIECES), 0);
			for (int i = 0; i < PIECES; i++)
				iov[i].iov_base = back + ((uint8_t *)iov[i].iov_base - data);
			assert_int_equal(blk_read(b, 12345, iov, PIECES), 0);
			assert_memory_equal(back, data, total);
			/* Aligned: goes through the O_DIRECT descriptor when direct. */
			memcpy(al, data, MiB);
			assert_int_equal(blk_write(b, 2 * MiB, &one, 1), 0);
			memset(al, 0, MiB);
			assert_int_equal(blk_read(b, 2 * MiB, &one, 1), 0);
			assert_memory_equal(al, data, MiB);
			assert_int_equal(blk_flush(b), 0);
			blk_close(b);
		}
	}
	bt_qemu_check_clean(qpath);
	unlink(qpath);
	unlink(rpath);
	free(al);
	free(iov);
	free(data);
	free(back);
}

struct discard_arg {
	struct blk *b;
	int done;
};

static void *discard_thread(void *p)
{
	struct discard_arg *a = p;

	assert_int_equal(blk_discard(a->b, 0, 65536), 0);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_map(void **state)
{
	uint8_t buf[4096], host[4096];
	struct iovec iov = { buf, sizeof(buf) };
	struct blk_extent ext;
	struct discard_arg arg = { 0 };
	pthread_t t;
	struct blk *b;

	(void)state;
	make_qcow2("map.qcow2", "cluster_size=65536", "4M");
	make_qcow2("map-ov.qcow2", "cluster_size=65536", "4M");
	sh_ok("qemu-img rebase -u -b map.qcow2 -F qcow2 '%s'", bt_path("map-ov.qcow2"));
	b = bt_open(bt_path("map.qcow2"), false, BLK_FORMAT_QCOW2);
	/* Unallocated, no backing: zeros; a write there needs allocation. */
	assert_int_equal(blk_map(b, 100, 3 * MiB, false, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_ZERO);
	assert_int_equal(ext.len, 3 * MiB);
	assert_int_equal(blk_map(b, 100, 1000, true, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_OTHER);

	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(blk_write(b, 0, &iov, 1), 0);
	assert_int_equal(blk_map(b, 100, 3 * MiB, true, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_DATA);
	assert_int_equal(ext.len, 65536 - 100);
	assert_int_equal(pread(ext.fd, host, 100, (off_t)ext.host_off - 100), 100);
	assert_int_equal(host[0], 0x3c);

	/* A discard of the mapped cluster waits for blk_unmap(). */
	arg.b = b;
	assert_int_equal(pthread_create(&t, NULL, discard_thread, &arg), 0);
	usleep(100000);
	assert_int_equal(__atomic_load_n(&arg.done, __ATOMIC_ACQUIRE), 0);
	blk_unmap(b);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(arg.done, 1);
	blk_close(b);

	/* Over a backing file, unallocated clusters are the backing's business. */
	b = bt_open(bt_path("map-ov.qcow2"), true, BLK_FORMAT_QCOW2);
	assert_int_equal(blk_map(b, 0, 4096, false, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_OTHER);
	blk_close(b);

	sh_ok("rm -f '%s' && truncate -s 1M '%s'", bt_path("map.raw"), bt_path("map.raw"));
	b = bt_open(bt_path("map.raw"), false, BLK_FORMAT_RAW);
	assert_int_equal(blk_map(b, 1000, 5000, true, &ext), 0);
	assert_int_equal(ext.kind, BLK_EXTENT_DATA);
	assert_int_equal(ext.host_off, 1000);
	assert_int_equal(ext.len, 5000);
	blk_unmap(b);
	blk_close(b);
}

/*
 * Threads own interleaved clusters (so they share L2 tables and refcount
 * blocks) and write, discard, zero and read them, each checking its own
 * model; one more thread reads everything meanwhile.
 */
#define THREADS 4
#define THREAD_OPS 400

struct worker {
	struct blk *b;
	uint64_t cs, size;
	int id;
	uint8_t *model;		/* the whole disk; each thread touches its own clusters */
	int *stop;
};

static void *worker_thread(void *p)
{
	struct worker *w = p;
	uint64_t rng = 100 + w->id, clusters = w->size / w->cs;
	uint8_t *buf = malloc(w->cs);

	for (int op = 0; op < THREAD_OPS; op++) {
		uint64_t c = (bt_rand(&rng) % (clusters / THREADS)) * THREADS + w->id;
		uint64_t in = bt_rand(&rng) % w->cs, len = 1 + bt_rand(&rng) % (w->cs - in);
		uint64_t off = c * w->cs + in, kind = bt_rand(&rng) % 10;
		struct iovec iov = { buf, len };

		if (kind < 4) {
			bt_fill_random(buf, len, &rng);
			memcpy(w->model + off, buf, len);
			if (blk_write(w->b, off, &iov, 1))
				return (void *)"write failed";
		} else if (kind < 5) {
			memset(w->model + off, 0, len);
			if (blk_discard(w->b, off, len))
				return (void *)"discard failed";
		} else if (kind < 6) {
			memset(w->model + off, 0, len);
			if (blk_write_zeroes(w->b, off, len, kind & 1))
				return (void *)"write-zeroes failed";
		} else {
			if (blk_read(w->b, off, &iov, 1))
				return (void *)"read failed";
			if (memcmp(buf, w->model + off, len))
				return (void *)"read returned other data";
		}
	}
	free(buf);
	return NULL;
}

static void *reader_thread(void *p)
{
	struct worker *w = p;
	uint8_t *buf = malloc(MiB);
	uint64_t rng = 99;

	while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t len = 1 + bt_rand(&rng) % MiB, off = bt_rand(&rng) % (w->size - len);
		struct iovec iov = { buf, len };

		if (blk_read(w->b, off, &iov, 1))
			return (void *)"concurrent read failed";
	}
	free(buf);
	return NULL;
}

static void run_threads(const char *opts, uint64_t cs)
{
	uint64_t size = 8 * MiB;
	uint8_t *model = calloc(1, size), *now;
	struct worker w[THREADS + 1];
	pthread_t t[THREADS + 1];
	int stop = 0;
	struct blk *b;

	make_qcow2("mt.qcow2", opts, "8M");
	b = bt_open(bt_path("mt.qcow2"), false, BLK_FORMAT_QCOW2);
	for (int i = 0; i <= THREADS; i++) {
		w[i] = (struct worker){ b, cs, size, i, model, &stop };
		assert_int_equal(pthread_create(&t[i], NULL,
						i < THREADS ? worker_thread : reader_thread, &w[i]), 0);
	}
	for (int i = 0; i <= THREADS; i++) {
		void *res;

		if (i == THREADS)
			__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
		assert_int_equal(pthread_join(t[i], &res), 0);
		if (res)
			fail_msg("thread %d: %s", i, (const char *)res);
	}
	now = bt_read_all(b);
	assert_memory_equal(now, model, size);
	blk_close(b);
	bt_qemu_check_clean(bt_path("mt.qcow2"));
	free(now);
	free(model);
}

static void test_threads(void **state)
{
	(void)state;
	run_threads("cluster_size=65536", 65536);
	run_threads("cluster_size=4096,compat=0.10", 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_checks),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_format_recognition),
		cmocka_unit_test(test_iovecs_and_direct),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
