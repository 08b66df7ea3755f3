// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Backing chains: an overlay over a raw base takes every write while the
 * base stays byte-identical; relative backing names are resolved against
 * the overlay's directory; a three-file chain reads as the layers stacked
 * (zero clusters hide what is below); loops, over-deep chains, missing
 * files, foreign formats and protocols are refused with a clear error.
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

/* Opens PATH expecting failure with NEEDLE in the message. */
static void expect_open_error(const char *path, const struct blk_open_opts *o,
			      const char *needle)
{
	struct blk *b = NULL;
	char err[1024];
	int ret = blk_open(path, o, &b, err, sizeof(err));

	if (!ret) {
		blk_close(b);
		fail_msg("%s opened, expected an error with \"%s\"", path, needle);
	}
	if (!strstr(err, needle))
		fail_msg("%s: error \"%s\" does not say \"%s\"", path, err, needle);
	print_message("    refused as expected: %s\n", err);
}

static uint8_t *make_base(const char *name, uint64_t size, uint64_t seed)
{
	uint8_t *buf = malloc(size);

	assert_non_null(buf);
	bt_fill_random(buf, size, &seed);
	bt_write_file(bt_path(name), buf, size);
	return buf;
}

static void write_both(struct blk *b, uint8_t *model, uint64_t off, uint64_t len,
		       uint64_t *rng)
{
	struct iovec iov = { model + off, len };

	bt_fill_random(model + off, len, rng);
	assert_int_equal(blk_write(b, off, &iov, 1), 0);
}

static void test_overlay_over_raw_base(void **state)
{
	uint64_t size = 4 * MiB, rng = 7, base_hash;
	uint8_t *model = make_base("base.raw", size, 1), *now;
	struct blk *b;

	(void)state;
	bt_require_qemu();
	base_hash = bt_hash_file(bt_path("base.raw"));
	sh_ok("cd '%s' && rm -f ov.qcow2 && qemu-img create -q -f qcow2 -b base.raw -F raw ov.qcow2",
	      bt_dir());
	b = bt_open(bt_path("ov.qcow2"), false, BLK_FORMAT_AUTO);
	assert_int_equal(blk_size(b), size);
	write_both(b, model, 0, 100, &rng);
	write_both(b, model, 65536 - 10, 20, &rng);
	write_both(b, model, MiB + 3, 300000, &rng);
	write_both(b, model, size - 5, 5, &rng);
	assert_int_equal(blk_write_zeroes(b, 2 * MiB + 100, 70000, false), 0);
	memset(model + 2 * MiB + 100, 0, 70000);
	assert_int_equal(blk_discard(b, 3 * MiB, 131072 + 7), 0);
	memset(model + 3 * MiB, 0, 131072 + 7);
	now = bt_read_all(b);
	assert_memory_equal(now, model, size);
	free(now);
	blk_close(b);

	assert_true(bt_hash_file(bt_path("base.raw")) == base_hash);
	bt_qemu_check_clean(bt_path("ov.qcow2"));
	bt_write_file(bt_path("expect.raw"), model, size);
	sh_ok("qemu-img compare -f qcow2 -F raw '%s' '%s'", bt_path("ov.qcow2"),
	      bt_path("expect.raw"));
	free(model);
}

static void test_relative_backing_name(void **state)
{
	uint64_t size = MiB;
	uint8_t *base = make_base("rel-base.raw", size, 2), *now;
	struct blk *b;
	char cwd[1024];

	(void)state;
	bt_require_qemu();
	sh_ok("mkdir -p '%s/sub' && cd '%s/sub' && rm -f ov.qcow2 && "
	      "qemu-img create -q -f qcow2 -b ../rel-base.raw -F raw ov.qcow2",
	      bt_dir(), bt_dir());
	/* Through an absolute path to the overlay ... */
	b = bt_open(bt_path("sub/ov.qcow2"), true, BLK_FORMAT_QCOW2);
	now = bt_read_all(b);
	assert_memory_equal(now, base, size);
	free(now);
	blk_close(b);
	/* ... and a relative one, from another working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(bt_dir()), 0);
	b = bt_open("sub/ov.qcow2", true, BLK_FORMAT_QCOW2);
	assert_int_equal(chdir(cwd), 0);
	now = bt_read_all(b);
	assert_memory_equal(now, base, size);
	free(now);
	blk_close(b);
	free(base);
}

static void test_three_layer_chain(void **state)
{
	uint64_t size = 2 * MiB, rng = 3;
	uint8_t *model = make_base("c-base.raw", size, 3), *now;
	struct blk *b;

	(void)state;
	bt_require_qemu();
	sh_ok("cd '%s' && rm -f c-mid.qcow2 c-top.qcow2 && "
	      "qemu-img create -q -f qcow2 -o compat=0.10 -b c-base.raw -F raw c-mid.qcow2 && "
	      "qemu-io -c 'write -P 0x11 4096 8192' -c 'write -z 65536 65536' c-mid.qcow2 >/dev/null && "
	      "qemu-img create -q -f qcow2 -o cluster_size=4096 -b c-mid.qcow2 -F qcow2 c-top.qcow2",
	      bt_dir());
	memset(model + 4096, 0x11, 8192);
	memset(model + 65536, 0, 65536);	/* v2 has no zero flag: written as data */
	b = bt_open(bt_path("c-top.qcow2"), false, BLK_FORMAT_QCOW2);
	write_both(b, model, 5000, 10, &rng);
	write_both(b, model, 65536 + 1000, 1000, &rng);
	now = bt_read_all(b);
	assert_memory_equal(now, model, size);
	free(now);
	blk_close(b);
	bt_qemu_check_clean(bt_path("c-top.qcow2"));
	bt_qemu_check_clean(bt_path("c-mid.qcow2"));
	free(model);
}

static void test_backing_loops_and_depth(void **state)
{
	struct blk_open_opts o = { .readonly = true };
	char name[64], prev[64];

	(void)state;
	bt_require_qemu();
	/* a -> b -> a */
	sh_ok("cd '%s' && rm -f la.qcow2 lb.qcow2 && qemu-img create -q -f qcow2 la.qcow2 1M && "
	      "qemu-img create -q -f qcow2 -b la.qcow2 -F qcow2 lb.qcow2 && "
	      "qemu-img rebase -u -b lb.qcow2 -F qcow2 la.qcow2", bt_dir());
	expect_open_error(bt_path("lb.qcow2"), &o, "backing file loop");
	/* a -> a */
	sh_ok("cd '%s' && qemu-img rebase -u -b la.qcow2 -F qcow2 la.qcow2", bt_dir());
	expect_open_error(bt_path("la.qcow2"), &o, "backing file loop");

	/* 34 files: one more than the top plus BLK_MAX_CHAIN_DEPTH backings. */
	sh_ok("cd '%s' && rm -f d*.qcow2 && qemu-img create -q -f qcow2 d0.qcow2 1M", bt_dir());
	snprintf(prev, sizeof(prev), "d0.qcow2");
	for (int i = 1; i <= BLK_MAX_CHAIN_DEPTH + 1; i++) {
		snprintf(name, sizeof(name), "d%d.qcow2", i);
		sh_ok("cd '%s' && qemu-img create -q -u -f qcow2 -b %s -F qcow2 %s 1M", bt_dir(),
		      prev, name);
		snprintf(prev, sizeof(prev), "%s", name);
	}
	expect_open_error(bt_path(name), &o, "deeper than");
	/* One less is fine. */
	snprintf(name, sizeof(name), "d%d.qcow2", BLK_MAX_CHAIN_DEPTH);
	blk_close(bt_open(bt_path(name), true, BLK_FORMAT_QCOW2));
}

static void test_backing_refusals(void **state)
{
	struct blk_open_opts o = { .readonly = true };

	(void)state;
	bt_require_qemu();
	sh_ok("cd '%s' && rm -f r*.qcow2 && "
	      "qemu-img create -q -u -f qcow2 -b missing.raw -F raw r1.qcow2 1M && "
	      "qemu-img create -q -u -f qcow2 -b base.raw -F vpc r2.qcow2 1M && "
	      "qemu-img create -q -u -f qcow2 -b nbd://localhost/x -F raw r3.qcow2 1M",
	      bt_dir());
	free(make_base("base.raw", MiB, 4));
	expect_open_error(bt_path("r1.qcow2"), &o, "missing.raw: cannot open: No such file");
	expect_open_error(bt_path("r2.qcow2"), &o, "backing file format 'vpc' is not supported");
	expect_open_error(bt_path("r3.qcow2"), &o, "uses a protocol we do not support");
	sh_ok("cd '%s' && qemu-img create -q -f qcow2 -b base.raw -F raw r4.qcow2", bt_dir());
	o.no_backing = true;
	expect_open_error(bt_path("r4.qcow2"), &o, "backing files are refused");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlay_over_raw_base),
		cmocka_unit_test(test_relative_backing_name),
		cmocka_unit_test(test_three_layer_chain),
		cmocka_unit_test(test_backing_loops_and_depth),
		cmocka_unit_test(test_backing_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
