// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshot state files: what is written reads back the same, the writer
 * leaves either the finished file or nothing, and every kind of damage
 * (truncation at any length, any flipped byte, wrong magic, newer version,
 * foreign arch, duplicate section, oversized length, trailing bytes, a file
 * over the size limit) is refused with -errno and a message naming the file
 * and, where there is one, the section.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "snap_test.h"
#include "snapshot/snapfile.h"

#define PAYLOAD0 1000

struct fixture {
	char *dir;
	char *path;
	unsigned char payload0[PAYLOAD0];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = scratch_dir();
	if (asprintf(&f->path, "%s/state", f->dir) < 0)
		return -1;
	for (int i = 0; i < PAYLOAD0; i++)
		f->payload0[i] = (unsigned char)(i * 7 + 3);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	scratch_remove(f->dir);
	free(f->path);
	free(f);
	return 0;
}

/* vcpu.0 (1000 bytes), irqchip (empty), dev.serial0 (7 bytes: padded). */
static void write_sample(struct fixture *f)
{
	struct snap_writer w;
	char err[256] = "";

	assert_int_equal(snap_writer_open(&w, f->dir, "state", err, sizeof(err)), 0);
	assert_int_equal(snap_writer_add(&w, "vcpu.0", f->payload0, PAYLOAD0, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_add(&w, "irqchip", NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_add(&w, "dev.serial0", "serial!", 7, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
}

static void test_roundtrip(void **state)
{
	struct fixture *f = *state;
	const struct snap_section *s;
	struct snap_reader r;
	char err[256] = "";

	write_sample(f);
	assert_int_equal(scratch_count(f->dir), 1); /* no temporary file left */
	assert_int_equal(snap_reader_open(&r, f->path, 0, err, sizeof(err)), 0);
	assert_int_equal(r.format_version, SNAP_FORMAT_VERSION);
	assert_string_equal(r.arch, SNAP_HOST_ARCH);
	assert_non_null(strstr(r.producer, "phyllome "));
	assert_int_equal(r.nsections, 3);
	assert_string_equal(r.sections[0].name, "vcpu.0");
	assert_string_equal(r.sections[1].name, "irqchip");
	assert_string_equal(r.sections[2].name, "dev.serial0");
	s = snap_reader_find(&r, "vcpu.0");
	assert_non_null(s);
	assert_int_equal(s->len, PAYLOAD0);
	assert_memory_equal(s->data, f->payload0, PAYLOAD0);
	assert_int_equal(snap_reader_find(&r, "irqchip")->len, 0);
	s = snap_reader_find(&r, "dev.serial0");
	assert_int_equal(s->len, 7);
	assert_memory_equal(s->data, "serial!", 7);
	assert_null(snap_reader_find(&r, "pit"));
	assert_int_equal(snap_reader_need(&r, "pit", &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no section 'pit'"));
	assert_non_null(strstr(err, f->path));
	snap_reader_close(&r);
}

static void test_writer_refuses(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "a/b", "vcpu 0", "0123456789012345678901234567890123", "caf\xc3\xa9",
	};
	struct snap_writer w;
	char err[256] = "";

	assert_int_equal(snap_writer_open(&w, f->dir, "state", err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(snap_writer_add(&w, bad[i], "x", 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(snap_writer_add(&w, "pit", "x", 1, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_add(&w, "pit", "y", 1, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "'pit' added twice"));
	/* Abandoned: nothing stays behind, not even the temporary file. */
	assert_int_equal(scratch_count(f->dir), 1);
	snap_writer_abort(&w);
	assert_int_equal(scratch_count(f->dir), 0);

	assert_int_equal(snap_writer_open(&w, "/nonexistent/dir", "state", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/dir"));
	assert_int_equal(snap_writer_open(&w, f->dir, "a/b", err, sizeof(err)), -EINVAL);
}

static void test_replace_is_atomic(void **state)
{
	struct fixture *f = *state;
	struct snap_writer w;
	struct snap_reader r;
	char err[256] = "";

	write_sample(f);
	/* A second snapshot that is abandoned half way leaves the first intact. */
	assert_int_equal(snap_writer_open(&w, f->dir, "state", err, sizeof(err)), 0);
	assert_int_equal(snap_writer_add(&w, "other", "zz", 2, err, sizeof(err)), 0);
	snap_writer_abort(&w);
	assert_int_equal(snap_reader_open(&r, f->path, 0, err, sizeof(err)), 0);
	assert_int_equal(r.nsections, 3);
	snap_reader_close(&r);
	/* A finished one replaces it. */
	assert_int_equal(snap_writer_open(&w, f->dir, "state", err, sizeof(err)), 0);
	assert_int_equal(snap_writer_add(&w, "other", "zz", 2, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
	assert_int_equal(snap_reader_open(&r, f->path, 0, err, sizeof(err)), 0);
	assert_int_equal(r.nsections, 1);
	assert_string_equal(r.sections[0].name, "other");
	snap_reader_close(&r);
	assert_int_equal(scratch_count(f->dir), 1);
}

static int parse(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
	struct snap_reader r;
	int ret = snap_reader_parse(&r, buf, len, "test-file", err, errlen);

	if (ret == 0)
		snap_reader_close(&r);
	return ret;
}

static void test_every_truncation(void **state)
{
	struct fixture *f = *state;
	unsigned char *buf;
	char err[256];
	size_t len = 0;

	write_sample(f);
	buf = slurp(f->path, &len);
	assert_non_null(buf);
	assert_int_equal(parse(buf, len, err, sizeof(err)), 0);
	for (size_t n = 0; n < len; n++) {
		err[0] = '\0';
		assert_true(parse(buf, n, err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "test-file"));
	}
	parse(buf, 0, err, sizeof(err));
	assert_non_null(strstr(err, "bad magic"));
	parse(buf, 40, err, sizeof(err));
	assert_non_null(strstr(err, "truncated"));
	parse(buf, 80 + 48 + 500, err, sizeof(err));
	assert_non_null(strstr(err, "section 'vcpu.0' claims 1000 bytes"));
	parse(buf, len - 48, err, sizeof(err));
	assert_non_null(strstr(err, "no end marker"));
	free(buf);
}

static void test_every_flipped_byte(void **state)
{
	struct fixture *f = *state;
	unsigned char *buf;
	char err[256];
	size_t len = 0;

	write_sample(f);
	buf = slurp(f->path, &len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			buf[i] ^= (unsigned char)(1u << bit);
			assert_true(parse(buf, len, err, sizeof(err)) < 0);
			buf[i] ^= (unsigned char)(1u << bit);
		}
	}
	buf[0] ^= 1;
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad magic"));
	buf[0] ^= 1;
	buf[80 + 48 + 10] ^= 0x40; /* inside vcpu.0's payload */
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "section 'vcpu.0' damaged"));
	free(buf);
}

/* Recompute the CRCs a test's edit broke, so only the edit itself is wrong. */
static void fix_file_header(unsigned char *b)
{
	uint32_t crc = (uint32_t)crc32(0, b, 76);

	memcpy(b + 76, &crc, 4);
}

static void fix_section_header(unsigned char *h)
{
	uint32_t crc = (uint32_t)crc32(0, h, 44);

	memcpy(h + 44, &crc, 4);
}

static void fix_all(unsigned char *b, size_t len)
{
	size_t off = 80;

	fix_file_header(b);
	while (off + 48 <= len) {
		uint64_t n;
		uint32_t crc;

		memcpy(&n, b + off + 32, 8);
		if (!b[off]) {
			crc = (uint32_t)crc32(0, b, (uInt)off);
			memcpy(b + off + 40, &crc, 4);
			fix_section_header(b + off);
			return;
		}
		crc = (uint32_t)crc32(0, b + off + 48, (uInt)n);
		memcpy(b + off + 40, &crc, 4);
		fix_section_header(b + off);
		off += 48 + ((n + 7) & ~7ull);
	}
}

static void test_header_damage(void **state)
{
	struct fixture *f = *state;
	unsigned char *buf, *longer;
	char err[256];
	uint32_t v;
	size_t len = 0;

	write_sample(f);
	buf = slurp(f->path, &len);

	v = SNAP_FORMAT_VERSION + 1; /* a newer format */
	memcpy(buf + 8, &v, 4);
	fix_all(buf, len);
	assert_int_equal(parse(buf, len, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "format version 2 (written by phyllome "));
	assert_non_null(strstr(err, "newer"));
	buf[12] ^= 1; /* newer, and the header CRC does not match ours */
	assert_int_equal(parse(buf, len, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "or the header is damaged"));
	buf[12] ^= 1;
	v = SNAP_FORMAT_VERSION;
	memcpy(buf + 8, &v, 4);

	memcpy(buf + 16, "aarch64\0", 8); /* another machine's snapshot */
	fix_all(buf, len);
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "aarch64"));
	memcpy(buf + 16, SNAP_HOST_ARCH, sizeof(SNAP_HOST_ARCH));
	fix_all(buf, len);
	assert_int_equal(parse(buf, len, err, sizeof(err)), 0);

	/* Trailing bytes after the end marker. */
	longer = calloc(1, len + 8);
	memcpy(longer, buf, len);
	assert_int_equal(parse(longer, len + 8, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "8 unexpected bytes after the end marker"));
	free(longer);
	free(buf);
}

static void test_section_damage(void **state)
{
	struct fixture *f = *state;
	size_t irqchip = 80 + 48 + 1000;      /* vcpu.0: header + 1000 bytes */
	size_t serial = irqchip + 48;         /* irqchip: empty */
	unsigned char *buf, *orig;
	uint64_t huge = 1ull << 40;
	char err[256];
	size_t len = 0;

	write_sample(f);
	orig = slurp(f->path, &len);
	buf = malloc(len);

	/* Two sections of the same name. */
	memcpy(buf, orig, len);
	memset(buf + serial, 0, 32);
	memcpy(buf + serial, "irqchip", 7);
	fix_all(buf, len);
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "section 'irqchip' appears twice"));

	/* A length far beyond the file, with a header CRC that vouches for it. */
	memcpy(buf, orig, len);
	memcpy(buf + 80 + 32, &huge, 8);
	fix_section_header(buf + 80);
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "section 'vcpu.0' claims 1099511627776 bytes"));

	/* A damaged length without the CRC fixed: the header itself is damaged. */
	memcpy(buf, orig, len);
	buf[80 + 33] ^= 1;
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "header of section 1"));

	/* Non-zero padding after dev.serial0's 7 bytes. */
	memcpy(buf, orig, len);
	buf[serial + 48 + 7] = 1;
	fix_all(buf, len);
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "section 'dev.serial0' has non-zero padding"));

	/* A section dropped out of the middle: the end marker's count says so. */
	memcpy(buf, orig, len);
	memmove(buf + irqchip, buf + serial, len - serial);
	assert_true(parse(buf, len - 48, err, sizeof(err)) == -EBADMSG);
	assert_non_null(strstr(err, "end marker"));

	/* An invalid name. */
	memcpy(buf, orig, len);
	buf[serial + 3] = '/';
	fix_all(buf, len);
	assert_int_equal(parse(buf, len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "invalid name"));
	free(buf);
	free(orig);
}

static void test_open_limits(void **state)
{
	struct fixture *f = *state;
	struct snap_reader r;
	char err[256], *missing;

	write_sample(f);
	assert_int_equal(snap_reader_open(&r, f->path, 100, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, f->path));
	assert_int_equal(asprintf(&missing, "%s/nothing", f->dir) > 0, 1);
	assert_int_equal(snap_reader_open(&r, missing, 0, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, missing));
	free(missing);
	assert_int_equal(snap_reader_open(&r, f->dir, 0, err, sizeof(err)), -EINVAL);
}

static void test_blob_check(void **state)
{
	struct snap_blob_header h, got;
	unsigned char buf[64] = { 0 };
	char err[256];

	(void)state;
	snap_blob_header_init(&h, "TEST", 2, sizeof(buf), 5);
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(snap_blob_check(buf, sizeof(buf), "TEST", 2, 32, "blob", &got, err,
					 sizeof(err)), 0);
	assert_int_equal(got.flags, 5);
	assert_int_equal(snap_blob_check(buf, sizeof(buf), "TEST", 1, 32, "blob", &got, err,
					 sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "version 2 is newer"));
	assert_int_equal(snap_blob_check(buf, sizeof(buf), "OTHR", 2, 32, "blob", &got, err,
					 sizeof(err)), -EBADMSG);
	assert_int_equal(snap_blob_check(buf, sizeof(buf) - 1, "TEST", 2, 32, "blob", &got, err,
					 sizeof(err)), -EBADMSG);
	assert_int_equal(snap_blob_check(buf, 8, "TEST", 2, 32, "blob", &got, err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(snap_blob_check(buf, sizeof(buf), "TEST", 2, 128, "blob", &got, err,
					 sizeof(err)), -EBADMSG);
	h.version = 0;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(snap_blob_check(buf, sizeof(buf), "TEST", 2, 32, "blob", &got, err,
					 sizeof(err)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_flipped_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_limits, setup, teardown),
		cmocka_unit_test(test_blob_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
