// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Damaged qcow2 images: a table of hand-made corruptions of a good image
 * (made by qemu-img, data written by qemu-io). Each must give the error
 * that names what is wrong, at open or at the first I/O that touches the
 * damage (then -EIO with the reason in the log), and never crash or read
 * out of bounds: the unit tests also run under ASan+UBSan.
 *
 * Damage found while writable also sets the corrupt bit, as QEMU does,
 * so the next writable open refuses the image.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_test.h"

/* Where things are in the pristine image. */
struct layout {
	uint64_t l1, rt, l2, rb, data0, data1m, features;
	uint32_t header_length;
};

static uint8_t *pristine;
static size_t pristine_len;
static struct layout lay;

static uint64_t get64(const uint8_t *p, uint64_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return be64toh(v);
}

static uint32_t get32(const uint8_t *p, uint64_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return be32toh(v);
}

static void set64(uint8_t *p, uint64_t off, uint64_t v)
{
	v = htobe64(v);
	memcpy(p + off, &v, 8);
}

static void set32(uint8_t *p, uint64_t off, uint32_t v)
{
	v = htobe32(v);
	memcpy(p + off, &v, 4);
}

static int make_pristine(void **state)
{
	char out[4096];
	uint64_t pos;

	(void)state;
	bt_require_qemu();
	if (bt_sh(out, sizeof(out),
		  "rm -f '%s' && qemu-img create -q -f qcow2 '%s' 4M && "
		  "qemu-io -c 'write -P 0xaa 0 64k' -c 'write -P 0xbb 1M 64k' '%s'",
		  bt_path("good.qcow2"), bt_path("good.qcow2"), bt_path("good.qcow2")))
		fail_msg("making the image: %s", out);
	pristine = bt_read_file(bt_path("good.qcow2"), &pristine_len);
	lay.header_length = get32(pristine, 100);
	lay.l1 = get64(pristine, 40);
	lay.rt = get64(pristine, 48);
	lay.l2 = get64(pristine, lay.l1) & 0x00fffffffffffe00ull;
	lay.rb = get64(pristine, lay.rt);
	lay.data0 = get64(pristine, lay.l2) & 0x00fffffffffffe00ull;
	lay.data1m = get64(pristine, lay.l2 + 16 * 8) & 0x00fffffffffffe00ull;
	for (pos = lay.header_length; get32(pristine, pos); pos += 8 + ((get32(pristine, pos + 4) + 7) & ~7u)) {
		if (get32(pristine, pos) == 0x6803f857)
			lay.features = pos + 8;
	}
	assert_true(lay.l2 && lay.rb && lay.data0 && lay.data1m && lay.features);
	return 0;
}

static int free_pristine(void **state)
{
	(void)state;
	free(pristine);
	return 0;
}

/* ---- the damage ---- */

static void bad_magic(uint8_t *p) { p[0] = 'X'; }
static void version_4(uint8_t *p) { set32(p, 4, 4); }
static void cluster_bits_8(uint8_t *p) { set32(p, 20, 8); }
static void cluster_bits_30(uint8_t *p) { set32(p, 20, 30); }
static void encrypted(uint8_t *p) { set32(p, 32, 1); }
static void l1_size_huge(uint8_t *p) { set32(p, 36, 0x10000000); }
static void l1_size_zero(uint8_t *p) { set32(p, 36, 0); }
static void l1_unaligned(uint8_t *p) { set64(p, 40, lay.l1 + 512); }
static void l1_past_eof(uint8_t *p) { set64(p, 40, 1ull << 40); }
static void rt_past_eof(uint8_t *p) { set64(p, 48, 1ull << 40); }
static void rt_clusters_zero(uint8_t *p) { set32(p, 56, 0); }
static void rt_clusters_huge(uint8_t *p) { set32(p, 56, 0x100000); }
static void snapshots_many(uint8_t *p) { set32(p, 60, 100000); }
static void incompat_bit5(uint8_t *p) { set64(p, 72, 1ull << 5); }
static void incompat_bit5_named(uint8_t *p)
{
	set64(p, 72, 1ull << 5);
	/* Rename the table's "corrupt bit" entry to bit 5. */
	p[lay.features + 48 + 1] = 5;
	memset(p + lay.features + 48 + 2, 0, 46);
	memcpy(p + lay.features + 48 + 2, "shiny new thing", 15);
}
static void data_file_bit(uint8_t *p) { set64(p, 72, 1ull << 2); }
static void extended_l2(uint8_t *p) { set64(p, 72, 1ull << 4); }
static void dirty_bit(uint8_t *p) { set64(p, 72, 1ull << 0); }
static void corrupt_bit(uint8_t *p) { set64(p, 72, 1ull << 1); }
static void zstd(uint8_t *p) { set64(p, 72, 1ull << 3); p[104] = 1; }
static void compression_bit_zlib(uint8_t *p) { set64(p, 72, 1ull << 3); }
static void refcount_order_7(uint8_t *p) { set32(p, 96, 7); }
static void header_length_100(uint8_t *p) { set32(p, 100, 100); }
static void header_length_huge(uint8_t *p) { set32(p, 100, 0x20000); }
static void ext_too_long(uint8_t *p) { set32(p, lay.header_length + 4, 0xfff00); }
static void backing_name_long(uint8_t *p) { set64(p, 8, 0x1000); set32(p, 16, 2000); }
static void backing_name_outside(uint8_t *p) { set64(p, 8, 0xfff0); set32(p, 16, 100); }
static void size_huge(uint8_t *p) { set64(p, 24, 1ull << 60); }
static void rt_entry_past_eof(uint8_t *p) { set64(p, lay.rt, 1ull << 40); }
static void rt_entry_unaligned(uint8_t *p) { set64(p, lay.rt, lay.rb + 512); }
static void rt_entry_on_l1(uint8_t *p) { set64(p, lay.rt, lay.l1); }
static void rt_entry_twice(uint8_t *p) { set64(p, lay.rt + 8, lay.rb); }

static void l1e_past_eof(uint8_t *p) { set64(p, lay.l1, (1ull << 40) | 1ull << 63); }
static void l1e_unaligned(uint8_t *p) { set64(p, lay.l1, (lay.l2 + 512) | 1ull << 63); }
static void l1e_reserved(uint8_t *p) { set64(p, lay.l1, lay.l2 | 1ull << 56 | 1ull << 63); }
static void l1e_on_rt(uint8_t *p) { set64(p, lay.l1, lay.rt | 1ull << 63); }
static void l2e_past_eof(uint8_t *p) { set64(p, lay.l2, (1ull << 40) | 1ull << 63); }
static void l2e_unaligned(uint8_t *p) { set64(p, lay.l2, (lay.data0 + 4096) | 1ull << 63); }
static void l2e_reserved(uint8_t *p) { set64(p, lay.l2, lay.data0 | 1ull << 60 | 1ull << 63); }
static void l2e_compressed_garbage(uint8_t *p)
{
	/* 64 KiB clusters: the offset field is 54 bits, sectors above it. */
	set64(p, lay.l2, 1ull << 62 | 3ull << 54 | lay.data0);
}
static void l2e_compressed_past_eof(uint8_t *p) { set64(p, lay.l2, 1ull << 62 | 1ull << 40); }
static void l2e_on_l1(uint8_t *p) { set64(p, lay.l2 + 8 * 2, lay.l1 | 1ull << 63); }
static void l2e_on_rb(uint8_t *p) { set64(p, lay.l2 + 8 * 2, lay.rb | 1ull << 63); }
static void l2e_on_l2(uint8_t *p) { set64(p, lay.l2 + 8 * 2, lay.l2 | 1ull << 63); }
static void header_refcount_zero(uint8_t *p)
{
	/* The first refcount (16 bits) is the header cluster's. */
	p[lay.rb] = 0;
	p[lay.rb + 1] = 0;
}
static void truncate_50(uint8_t *p) { (void)p; }

enum when { AT_OPEN, AT_READ, AT_WRITE, OPENS_FINE };

struct bad_case {
	const char *name;
	void (*damage)(uint8_t *p);
	bool writable;
	enum when when;
	const char *error;		/* in the open error or in the log */
	size_t truncate_to;		/* 0: keep the length */
};

static const struct bad_case cases[] = {
	{ "bad magic", bad_magic, false, AT_OPEN, "bad magic: not a qcow2 image", 0 },
	{ "version 4", version_4, false, AT_OPEN, "unsupported qcow2 version 4", 0 },
	{ "cluster_bits 8", cluster_bits_8, false, AT_OPEN, "cluster_bits 8 out of range", 0 },
	{ "cluster_bits 30", cluster_bits_30, false, AT_OPEN, "cluster_bits 30 out of range", 0 },
	{ "encrypted", encrypted, false, AT_OPEN, "encrypted images are not supported", 0 },
	{ "l1_size huge", l1_size_huge, false, AT_OPEN, "l1_size 268435456 is too large", 0 },
	{ "l1_size 0", l1_size_zero, false, AT_OPEN, "l1_size 0 is too small", 0 },
	{ "L1 unaligned", l1_unaligned, false, AT_OPEN, "L1 table offset 0x30200 is not aligned", 0 },
	{ "L1 past EOF", l1_past_eof, false, AT_OPEN, "L1 table (offset 0x10000000000, 8 bytes) extends past the end", 0 },
	{ "refcount table past EOF", rt_past_eof, false, AT_OPEN, "refcount table (offset 0x10000000000", 0 },
	{ "refcount table empty", rt_clusters_zero, false, AT_OPEN, "refcount_table_clusters is 0", 0 },
	{ "refcount table huge", rt_clusters_huge, false, AT_OPEN, "refcount_table_clusters 1048576 is too large", 0 },
	{ "too many snapshots", snapshots_many, false, AT_OPEN, "nb_snapshots 100000 is too large", 0 },
	{ "unknown incompatible bit", incompat_bit5, false, AT_OPEN, "unsupported incompatible feature bit 5 (unknown)", 0 },
	{ "named incompatible bit", incompat_bit5_named, false, AT_OPEN, "unsupported incompatible feature bit 5 (shiny new thing)", 0 },
	{ "external data file", data_file_bit, false, AT_OPEN, "feature bit 2 (external data file)", 0 },
	{ "extended L2", extended_l2, false, AT_OPEN, "feature bit 4 (extended L2 entries)", 0 },
	{ "dirty, writable", dirty_bit, true, AT_OPEN, "dirty bit", 0 },
	{ "dirty, read-only", dirty_bit, false, OPENS_FINE, NULL, 0 },
	{ "corrupt, writable", corrupt_bit, true, AT_OPEN, "marked corrupt", 0 },
	{ "corrupt, read-only", corrupt_bit, false, OPENS_FINE, NULL, 0 },
	{ "zstd", zstd, false, AT_OPEN, "unsupported compression_type 1 (zstd)", 0 },
	{ "compression bit, zlib", compression_bit_zlib, false, AT_OPEN, "compression_type is 0", 0 },
	{ "refcount_order 7", refcount_order_7, false, AT_OPEN, "refcount_order 7 is too large", 0 },
	{ "header_length 100", header_length_100, false, AT_OPEN, "header_length 100 is invalid", 0 },
	{ "header_length huge", header_length_huge, false, AT_OPEN, "header_length 131072 is invalid", 0 },
	{ "extension too long", ext_too_long, false, AT_OPEN, "runs past the header area", 0 },
	{ "backing name too long", backing_name_long, false, AT_OPEN, "backing file name too long (2000 bytes", 0 },
	{ "backing name outside", backing_name_outside, false, AT_OPEN, "is not inside the first cluster", 0 },
	{ "size beyond L1", size_huge, false, AT_OPEN, "l1_size 1 is too small for the virtual size", 0 },
	{ "truncated header", truncate_50, false, AT_OPEN, "file too small for a qcow2 header (50 bytes)", 50 },
	{ "truncated tables", truncate_50, false, AT_OPEN, "L1 table (offset 0x30000, 8 bytes) extends past the end of the file (196608 bytes)", 196608 },
	{ "refcount entry past EOF", rt_entry_past_eof, true, AT_OPEN, "refcount table entry 0 points past the end", 0 },
	{ "refcount entry unaligned", rt_entry_unaligned, true, AT_OPEN, "refcount table entry 0 (0x20200) is not cluster-aligned", 0 },
	{ "refcount block on L1", rt_entry_on_l1, true, AT_OPEN, "refcount block 0 (0x30000) overlaps the L1 table", 0 },
	{ "refcount block twice", rt_entry_twice, true, AT_OPEN, "names the refcount block at 0x20000 twice", 0 },
	{ "L1 entry past EOF", l1e_past_eof, false, AT_READ, "L1 entry 0: L2 table at 0x10000000000 is past the end of the file", 0 },
	{ "L1 entry unaligned", l1e_unaligned, false, AT_READ, "L1 entry 0: L2 table offset 0x40200 is not cluster-aligned", 0 },
	{ "L1 entry reserved bits", l1e_reserved, false, AT_READ, "L1 entry 0 (0x8100000000040000) has reserved bits set", 0 },
	{ "L1 entry on refcount table", l1e_on_rt, false, AT_READ, "L2 table at 0x10000 overlaps the refcount table", 0 },
	{ "L2 entry past EOF", l2e_past_eof, false, AT_READ, "cluster for guest offset 0x0 at 0x10000000000 is past the end of the file", 0 },
	{ "L2 entry unaligned", l2e_unaligned, false, AT_READ, "cluster for guest offset 0x0 at 0x51000 is not cluster-aligned", 0 },
	{ "L2 entry reserved bits", l2e_reserved, false, AT_READ, "has reserved bits set", 0 },
	{ "compressed garbage", l2e_compressed_garbage, false, AT_READ, "compressed cluster at 0x50000 does not decompress", 0 },
	{ "compressed past EOF", l2e_compressed_past_eof, false, AT_READ, "compressed cluster for guest offset 0x0 at 0x10000000000 is outside the file", 0 },
	{ "write lands on L1", l2e_on_l1, true, AT_WRITE, "data write at 0x30000 would overwrite the L1 table", 0 },
	{ "write lands on refcount block", l2e_on_rb, true, AT_WRITE, "data write at 0x20000 would overwrite the refcount block", 0 },
	{ "write lands on L2 table", l2e_on_l2, true, AT_WRITE, "data write at 0x40000 would overwrite the L2 table", 0 },
	{ "header refcount 0", header_refcount_zero, true, AT_WRITE, "cluster 0x0 holds the header, L1 or refcount table but has refcount 0", 0 },
};

/* Closed by the teardown if a check fails, so its lock goes too. */
static struct blk *open_blk;

static int close_open_blk(void **state)
{
	(void)state;
	blk_close(open_blk);
	open_blk = NULL;
	return 0;
}

static void run_case(void **state)
{
	const struct bad_case *c = *state;
	size_t len = c->truncate_to ? c->truncate_to : pristine_len;
	uint8_t *img = malloc(pristine_len);
	struct blk_open_opts o = { .readonly = !c->writable, .format = BLK_FORMAT_QCOW2 };
	struct blk *b = NULL;
	char err[1024] = "", *log;
	uint8_t buf[4096];
	struct iovec iov = { buf, sizeof(buf) };
	int ret;

	assert_non_null(img);
	memcpy(img, pristine, pristine_len);
	c->damage(img);
	bt_write_file(bt_path("bad.qcow2"), img, len);
	free(img);

	bt_log_capture_start();
	ret = blk_open(bt_path("bad.qcow2"), &o, &b, err, sizeof(err));
	if (c->when == AT_OPEN) {
		log = bt_log_capture_end();
		free(log);
		if (!ret) {
			blk_close(b);
			fail_msg("%s: opened, expected \"%s\"", c->name, c->error);
		}
		if (!strstr(err, c->error))
			fail_msg("%s: error \"%s\" does not say \"%s\"", c->name, err, c->error);
		print_message("    %-28s %s\n", c->name, strstr(err, ": ") + 2);
		return;
	}
	if (ret) {
		bt_log_capture_end();
		fail_msg("%s: open failed: %s", c->name, err);
	}
	if (c->when == AT_READ) {
		open_blk = b;
		assert_int_equal(blk_read(b, 0, &iov, 1), -EIO);
		/* Past a damaged L2 entry (not L1: it maps the whole disk), the
		 * image still reads. */
		if (strncmp(c->name, "L1", 2)) {
			assert_int_equal(blk_read(b, 1 << 20, &iov, 1), 0);
			assert_int_equal(buf[0], 0xbb);
		}
	} else if (c->when == AT_WRITE) {
		open_blk = b;
		memset(buf, 0x77, sizeof(buf));
		/* Into the damaged cluster, or a new one (which allocates). */
		assert_int_equal(blk_write(b, 2 * 65536, &iov, 1), -EIO);
		assert_int_equal(blk_write(b, 3 << 20, &iov, 1), -EIO);
	} else {
		assert_int_equal(blk_read(b, 0, &iov, 1), 0);
		assert_int_equal(buf[0], 0xaa);
	}
	blk_close(b);
	open_blk = NULL;
	log = bt_log_capture_end();
	if (c->error && !strstr(log, c->error))
		fail_msg("%s: log \"%s\" does not say \"%s\"", c->name, log, c->error);
	if (c->error) {
		char *line = strstr(log, "corrupt qcow2 image: ") ?: log;

		print_message("    %-28s %.*s\n", c->name, (int)strcspn(line, "\n"), line);
	}
	free(log);
	if (c->writable && c->when == AT_WRITE) {
		/* The corrupt bit now keeps writers out. */
		ret = blk_open(bt_path("bad.qcow2"), &o, &b, err, sizeof(err));
		if (!ret)
			blk_close(b);
		assert_int_not_equal(ret, 0);
		assert_non_null(strstr(err, "marked corrupt"));
	}
}

int main(void)
{
	struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0])];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_case,
			.initial_state = (void *)&cases[i],
			.teardown_func = close_open_blk,
		};
	return cmocka_run_group_tests(tests, make_pristine, free_pristine);
}
