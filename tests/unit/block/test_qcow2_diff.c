// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Differential test of the qcow2 driver against a raw file.
 *
 * Each scenario makes a qcow2 image with qemu-img (v2 or v3, a cluster
 * size, a refcount width, optionally a raw or qcow2 backing file, data
 * written by QEMU, an internal snapshot) and a raw file with the same
 * contents. Then thousands of seeded random operations go to both through
 * our block layer: reads, writes, discards, write-zeroes (with and without
 * unmap) and flushes, at byte-granular offsets and lengths (no alignment at
 * all: sectors are the device's concern). Every read must return the same
 * bytes from both. At the end the whole disks must match, `qemu-img
 * compare` must call them identical, `qemu-img check` must find no error
 * and no leak, backing files must be unchanged, and a snapshot must still
 * hold what it held when it was taken.
 *
 * BLK_DIFF_SEED=N changes the seed; a failure prints the seed, scenario and
 * operation number to replay it.
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
#include <unistd.h>

#include "blk_test.h"

enum backing_kind { BACKING_NONE, BACKING_RAW, BACKING_QCOW2 };

struct scenario {
	const char *name;
	const char *compat;		/* "1.1" (v3) or "0.10" (v2) */
	unsigned cluster_size;
	unsigned refcount_bits;		/* 0: qemu-img's default (16) */
	enum backing_kind backing;
	bool prefill;			/* start from data QEMU wrote */
	bool snapshot;			/* internal snapshot before our writes */
	uint64_t size;
	unsigned ops;
};

#define MiB (1ull << 20)

static const struct scenario scenarios[] = {
	{ "v3-64k", "1.1", 65536, 0, BACKING_NONE, true, false, 16 * MiB, 3000 },
	{ "v3-4k", "1.1", 4096, 0, BACKING_NONE, false, false, 8 * MiB, 3000 },
	{ "v2-64k", "0.10", 65536, 0, BACKING_NONE, true, false, 16 * MiB, 2000 },
	{ "v2-4k-over-qcow2", "0.10", 4096, 0, BACKING_QCOW2, false, false, 8 * MiB, 2000 },
	{ "v3-64k-over-raw", "1.1", 65536, 0, BACKING_RAW, false, false, 16 * MiB, 2000 },
	{ "v3-4k-over-qcow2", "1.1", 4096, 0, BACKING_QCOW2, true, false, 8 * MiB, 2000 },
	{ "v3-512-reftable-grows", "1.1", 512, 0, BACKING_NONE, false, false, 24 * MiB, 2500 },
	{ "v3-2M", "1.1", 2 * MiB, 0, BACKING_NONE, true, false, 64 * MiB, 300 },
	{ "v3-64k-refbits-1", "1.1", 65536, 1, BACKING_NONE, true, false, 16 * MiB, 1500 },
	{ "v3-4k-refbits-64", "1.1", 4096, 64, BACKING_RAW, false, false, 8 * MiB, 1500 },
	{ "v3-4k-refbits-2", "1.1", 4096, 2, BACKING_NONE, true, false, 8 * MiB, 800 },
	{ "v3-512-refbits-8", "1.1", 512, 8, BACKING_QCOW2, false, false, 8 * MiB, 800 },
	{ "v3-64k-refbits-32", "1.1", 65536, 32, BACKING_NONE, false, true, 16 * MiB, 800 },
	{ "v3-64k-snapshot", "1.1", 65536, 0, BACKING_NONE, true, true, 16 * MiB, 2000 },
	{ "v2-4k-snapshot", "0.10", 4096, 0, BACKING_NONE, true, true, 8 * MiB, 2000 },
	/* Not a whole number of clusters: the last cluster is partly outside. */
	{ "v3-4k-odd-size", "1.1", 4096, 0, BACKING_RAW, true, false, 8 * MiB + 1536, 1500 },
};

static unsigned total_ops;

/* Random data in about half of the 64 KiB pieces, zeros in the rest. */
static void make_seed_file(const char *path, uint64_t size, uint64_t *rng)
{
	uint8_t *buf = calloc(1, size);

	assert_non_null(buf);
	for (uint64_t off = 0; off < size; off += 65536) {
		uint64_t n = size - off < 65536 ? size - off : 65536;

		if (bt_rand(rng) & 1)
			bt_fill_random(buf + off, n, rng);
	}
	bt_write_file(path, buf, size);
	free(buf);
}

static void sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command that must succeed. */
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

/* Makes img.qcow2 and ref.raw with equal contents; returns backing path. */
static const char *prepare(const struct scenario *sc, uint64_t *rng, char *opts,
			   size_t optslen)
{
	static char backing[512];
	char size[32];

	snprintf(opts, optslen, "compat=%s,cluster_size=%u", sc->compat, sc->cluster_size);
	if (sc->refcount_bits) {
		size_t l = strlen(opts);

		snprintf(opts + l, optslen - l, ",refcount_bits=%u", sc->refcount_bits);
	}
	snprintf(size, sizeof(size), "%" PRIu64, sc->size);
	backing[0] = '\0';
	unlink(bt_path("img.qcow2"));

	if (sc->backing != BACKING_NONE) {
		/* Smaller than the overlay: reads past its end must give zeros. */
		uint64_t bsize = sc->size * 3 / 4 / 512 * 512;
		char *fmt = sc->backing == BACKING_RAW ? "raw" : "qcow2";

		make_seed_file(bt_path("base.raw"), bsize, rng);
		snprintf(backing, sizeof(backing), "%s", bt_path("base.raw"));
		if (sc->backing == BACKING_QCOW2) {
			sh_ok("qemu-img convert -f raw -O qcow2 '%s' '%s'", bt_path("base.raw"),
			      bt_path("base.qcow2"));
			snprintf(backing, sizeof(backing), "%s", bt_path("base.qcow2"));
		}
		/* The reference starts as the backing file, zero-extended. */
		sh_ok("cp '%s' '%s'", bt_path("base.raw"), bt_path("ref.raw"));
		{
			char out[256];

			if (bt_sh(out, sizeof(out), "truncate -s %" PRIu64 " '%s'", sc->size,
				  bt_path("ref.raw")))
				fail_msg("truncate: %s", out);
		}
		{
			char out[4096];

			/* Relative name: resolved against the overlay's directory. */
			if (bt_sh(out, sizeof(out),
				  "cd '%s' && qemu-img create -q -f qcow2 -o %s -b '%s' -F %s img.qcow2 %s",
				  bt_dir(), opts, strrchr(backing, '/') + 1, fmt, size))
				fail_msg("qemu-img create: %s", out);
		}
		if (sc->prefill) {
			char out[4096];

			/* QEMU-written clusters in the overlay too. */
			if (bt_sh(out, sizeof(out),
				  "qemu-io -c 'write -P 0x5a 1000000 300000' -c 'write -z 3000000 200000' '%s'",
				  bt_path("img.qcow2")))
				fail_msg("qemu-io: %s", out);
			if (bt_sh(out, sizeof(out),
				  "qemu-io -f raw -c 'write -P 0x5a 1000000 300000' -c 'write -z 3000000 200000' '%s'",
				  bt_path("ref.raw")))
				fail_msg("qemu-io raw: %s", out);
		}
		return backing;
	}
	if (sc->prefill) {
		make_seed_file(bt_path("ref.raw"), sc->size, rng);
		sh_ok("qemu-img convert -f raw -O qcow2 -o %s '%s' '%s'", opts,
		      bt_path("ref.raw"), bt_path("img.qcow2"));
	} else {
		char out[4096];

		if (bt_sh(out, sizeof(out), "qemu-img create -q -f qcow2 -o %s '%s' %s", opts,
			  bt_path("img.qcow2"), size))
			fail_msg("qemu-img create: %s", out);
		if (bt_sh(out, sizeof(out), "rm -f '%s' && truncate -s %s '%s'", bt_path("ref.raw"),
			  size, bt_path("ref.raw")))
			fail_msg("truncate: %s", out);
	}
	if (sc->snapshot) {
		char out[4096];

		if (bt_sh(out, sizeof(out), "qemu-img snapshot -c s1 '%s' && cp '%s' '%s'",
			  bt_path("img.qcow2"), bt_path("ref.raw"), bt_path("snap-expected.raw")))
			fail_msg("snapshot: %s", out);
	}
	return NULL;
}

static uint64_t pick_len(const struct scenario *sc, uint64_t *rng)
{
	uint64_t r = bt_rand(rng) % 100, max, len;
	uint64_t small = 2ull * sc->cluster_size < 16384 ? 2ull * sc->cluster_size : 16384;

	if (r < 50)
		max = small;
	else if (r < 88)
		max = 128 * 1024;
	else
		max = MiB;
	len = 1 + bt_rand(rng) % max;
	return len < sc->size ? len : sc->size;
}

static uint64_t pick_off(const struct scenario *sc, uint64_t len, uint64_t *rng)
{
	uint64_t r = bt_rand(rng) % 100, off = bt_rand(rng) % (sc->size - len + 1);

	if (r < 15)	/* cluster-aligned start */
		off &= ~(uint64_t)(sc->cluster_size - 1);
	else if (r < 22)	/* touching the end of the disk */
		off = sc->size - len;
	return off;
}

struct pair {
	struct blk *q, *r;
	uint8_t *qbuf, *rbuf;
};

static void check_same(struct pair *p, const struct scenario *sc, uint64_t seed,
		       unsigned op, uint64_t off, uint64_t len)
{
	struct iovec qv[3], rv = { p->rbuf, len };
	uint64_t a = len / 3, b = len / 2;

	/* Split our read in three pieces: iovec handling is under test too. */
	qv[0] = (struct iovec){ p->qbuf, a };
	qv[1] = (struct iovec){ p->qbuf + a, b - a };
	qv[2] = (struct iovec){ p->qbuf + b, len - b };
	assert_int_equal(blk_read(p->q, off, qv, 3), 0);
	assert_int_equal(blk_read(p->r, off, &rv, 1), 0);
	if (memcmp(p->qbuf, p->rbuf, len)) {
		uint64_t i = 0;

		while (p->qbuf[i] == p->rbuf[i])
			i++;
		fail_msg("%s seed %" PRIu64 " op %u: read %" PRIu64 "+%" PRIu64
			 " differs at byte %" PRIu64 " (qcow2 %02x, raw %02x)",
			 sc->name, seed, op, off, len, off + i, p->qbuf[i], p->rbuf[i]);
	}
}

static void run_ops(struct pair *p, const struct scenario *sc, uint64_t seed, uint64_t *rng)
{
	unsigned counts[6] = { 0 };

	for (unsigned op = 0; op < sc->ops; op++) {
		uint64_t kind = bt_rand(rng) % 100;
		uint64_t len = pick_len(sc, rng), off = pick_off(sc, len, rng);
		struct iovec iov = { p->rbuf, len };
		bool unmap = bt_rand(rng) & 1;

		if (kind < 38) {
			check_same(p, sc, seed, op, off, len);
			counts[0]++;
		} else if (kind < 78) {
			if (kind < 41)
				memset(p->rbuf, 0, len);	/* zeros as data */
			else
				bt_fill_random(p->rbuf, len, rng);
			assert_int_equal(blk_write(p->q, off, &iov, 1), 0);
			assert_int_equal(blk_write(p->r, off, &iov, 1), 0);
			counts[1]++;
		} else if (kind < 87) {
			assert_int_equal(blk_discard(p->q, off, len), 0);
			assert_int_equal(blk_discard(p->r, off, len), 0);
			counts[2]++;
		} else if (kind < 96) {
			assert_int_equal(blk_write_zeroes(p->q, off, len, unmap), 0);
			assert_int_equal(blk_write_zeroes(p->r, off, len, unmap), 0);
			counts[3 + unmap]++;
		} else {
			assert_int_equal(blk_flush(p->q), 0);
			assert_int_equal(blk_flush(p->r), 0);
			counts[5]++;
		}
	}
	total_ops += sc->ops;
	print_message("    %s: %u reads, %u writes, %u discards, %u+%u write-zeroes (keep/unmap), %u flushes\n",
		      sc->name, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]);
}

static void compare_whole(struct pair *p, const struct scenario *sc, uint64_t seed)
{
	for (uint64_t off = 0; off < sc->size; off += MiB) {
		uint64_t len = sc->size - off < MiB ? sc->size - off : MiB;

		check_same(p, sc, seed, sc->ops, off, len);
	}
}

/* Closed by the teardown even when a check fails, so the image locks
 * of one failed scenario do not fail the next ones. */
static struct pair open_pair;

static int close_pair(void **state)
{
	(void)state;
	blk_close(open_pair.q);
	blk_close(open_pair.r);
	free(open_pair.qbuf);
	free(open_pair.rbuf);
	memset(&open_pair, 0, sizeof(open_pair));
	return 0;
}

static void run_scenario(void **state)
{
	const struct scenario *sc = *state;
	uint64_t seed = getenv("BLK_DIFF_SEED") ? strtoull(getenv("BLK_DIFF_SEED"), NULL, 0) : 1;
	uint64_t rng = seed * 1000003 + sc->size + sc->cluster_size;
	uint64_t backing_hash = 0;
	const char *backing;
	struct pair *p = &open_pair;
	char opts[128], out[8192];

	bt_require_qemu();
	backing = prepare(sc, &rng, opts, sizeof(opts));
	if (backing)
		backing_hash = bt_hash_file(backing);

	p->q = bt_open(bt_path("img.qcow2"), false, BLK_FORMAT_QCOW2);
	p->r = bt_open(bt_path("ref.raw"), false, BLK_FORMAT_RAW);
	assert_int_equal(blk_size(p->q), sc->size);
	assert_int_equal(blk_size(p->r), sc->size);
	p->qbuf = malloc(MiB);
	p->rbuf = malloc(MiB);
	assert_non_null(p->qbuf);
	assert_non_null(p->rbuf);

	compare_whole(p, sc, seed);
	run_ops(p, sc, seed, &rng);
	compare_whole(p, sc, seed);
	close_pair(NULL);

	bt_qemu_check_clean(bt_path("img.qcow2"));
	if (bt_sh(out, sizeof(out), "qemu-img compare -f qcow2 -F raw '%s' '%s'",
		  bt_path("img.qcow2"), bt_path("ref.raw")))
		fail_msg("%s: qemu-img compare: %s", sc->name, out);
	if (backing)
		assert_true(bt_hash_file(backing) == backing_hash);
	if (sc->snapshot) {
		if (bt_sh(out, sizeof(out),
			  "qemu-img convert -l snapshot.name=s1 -O raw '%s' '%s' && cmp '%s' '%s'",
			  bt_path("img.qcow2"), bt_path("snap.raw"), bt_path("snap.raw"),
			  bt_path("snap-expected.raw")))
			fail_msg("%s: snapshot changed: %s", sc->name, out);
	}
}

static int report(void **state)
{
	(void)state;
	print_message("differential test: %u random operations in %zu scenarios\n",
		      total_ops, sizeof(scenarios) / sizeof(scenarios[0]));
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[sizeof(scenarios) / sizeof(scenarios[0])];
	const char *only = getenv("BLK_DIFF_ONLY");

	/* BLK_DIFF_ONLY=name (a glob) runs only matching scenarios. */
	if (only)
		cmocka_set_test_filter(only);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		tests[i] = (struct CMUnitTest){
			.name = scenarios[i].name,
			.test_func = run_scenario,
			.initial_state = (void *)&scenarios[i],
			.teardown_func = close_pair,
		};
	}
	return cmocka_run_group_tests(tests, NULL, report);
}
