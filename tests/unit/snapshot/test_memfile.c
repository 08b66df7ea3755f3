// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The snapshot memory file: RAM comes back byte for byte, zero pages are
 * neither written nor, on load, touched (the new guest's RAM stays sparse),
 * both RAM kinds (memfd and private anonymous) and both regions (below and
 * above the 32-bit hole) work, and a layout or memory file that does not
 * fit is refused with a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "snap_test.h"
#include "snapshot/memfile.h"

#define RAM (64ull << 20)
#define PAGE 4096u

/* Write a pattern into some pages; return how many pages are non-zero. */
static unsigned int fill(struct guest_mem *mem)
{
	static const uint64_t pages[] = { 0, 1, 100, 5000, 16383 };
	unsigned int n = 0;

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		memset(mem->host + pages[i] * PAGE, (int)(0x11 * (i + 1)), PAGE);
		n++;
	}
	/* A page whose only non-zero byte is its last one. */
	mem->host[200 * PAGE + PAGE - 1] = 0xee;
	n++;
	/* A run of 300 pages. */
	for (uint64_t p = 1000; p < 1300; p++)
		mem->host[p * PAGE + (p % PAGE)] = (uint8_t)p | 1;
	return n + 300;
}

static size_t resident_pages(const struct guest_mem *mem)
{
	size_t pages = mem->size / PAGE, n = 0;
	unsigned char *vec = malloc(pages);

	assert_int_equal(mincore(mem->host, mem->size, vec), 0);
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n;
}

/* 2 MiB chunks of mem that hold a non-zero byte. */
static size_t data_chunks(const struct guest_mem *mem)
{
	size_t n = 0;

	for (uint64_t c = 0; c < mem->size; c += 2u << 20)
		for (uint64_t i = 0; i < (2u << 20); i++)
			if (mem->host[c + i]) {
				n++;
				break;
			}
	return n;
}

static void roundtrip(bool shared_src, bool shared_dst)
{
	struct snap_mem_layout layout;
	struct snap_mem_stats saved, loaded;
	struct guest_mem src, dst;
	char *dir = scratch_dir(), err[256] = "", *path;
	unsigned int pages;
	struct stat st;

	assert_int_equal(guest_mem_init_opts(&src, RAM, shared_src), 0);
	pages = fill(&src);
	assert_int_equal(snap_mem_save(&src, dir, SNAP_MEMORY_FILE, &layout, &saved, err,
				       sizeof(err)), 0);
	assert_int_equal(scratch_count(dir), 1);
	assert_int_equal(layout.nregions, 1);
	assert_int_equal(layout.file_size, RAM);
	assert_int_equal(saved.ram_bytes, RAM);
	assert_int_equal(saved.data_bytes, (uint64_t)pages * PAGE);
	assert_int_equal(asprintf(&path, "%s/%s", dir, SNAP_MEMORY_FILE) > 0, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, RAM);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Holes: the file occupies about what was written (file systems
	 * without holes would fail here, none we run on). */
	assert_true((uint64_t)st.st_blocks * 512 <= saved.data_bytes + (1u << 20));

	assert_int_equal(guest_mem_init_opts(&dst, RAM, shared_dst), 0);
	assert_int_equal(snap_mem_load(&dst, dir, SNAP_MEMORY_FILE, &layout, &loaded, err,
				       sizeof(err)), 0);
	/* Loading touched only the 2 MiB chunks (transparent huge pages) that
	 * hold data: checked before anything else reads dst, since mincore
	 * counts zero-page mappings as resident. */
	if (!shared_dst)
		assert_true(resident_pages(&dst) <= data_chunks(&src) * 512);
	assert_memory_equal(dst.host, src.host, RAM);
	assert_int_equal(loaded.data_bytes, saved.data_bytes);

	guest_mem_free(&src);
	guest_mem_free(&dst);
	free(path);
	scratch_remove(dir);
}

static void test_memfd_to_anon(void **state)
{
	(void)state;
	roundtrip(true, false);
}

static void test_anon_to_memfd(void **state)
{
	(void)state;
	roundtrip(false, true);
}

/* A guest_mem whose mapping holds 2 MiB below the hole and 2 MiB at 4 GiB
 * (the mapping is low part first: memory.h). */
static void two_regions(struct guest_mem *mem)
{
	assert_int_equal(guest_mem_init(mem, 4u << 20), 0);
	mem->low_size = 2u << 20;
	mem->high_size = 2u << 20;
}

static void test_two_regions(void **state)
{
	struct guest_mem src, dst;
	struct snap_mem_layout layout;
	char *dir = scratch_dir(), err[256] = "";

	(void)state;
	two_regions(&src);
	memset(guest_mem_ptr(&src, 0x1000, 16), 0xaa, 16);
	memset(guest_mem_ptr(&src, MEM_4G + 0x3000, 16), 0xbb, 16);
	assert_int_equal(snap_mem_save(&src, dir, "mem", &layout, NULL, err, sizeof(err)), 0);
	assert_int_equal(layout.nregions, 2);
	assert_int_equal(layout.regions[1].gpa, MEM_4G);
	assert_int_equal(layout.regions[1].file_offset, 2u << 20);
	two_regions(&dst);
	assert_int_equal(snap_mem_load(&dst, dir, "mem", &layout, NULL, err, sizeof(err)), 0);
	assert_memory_equal(dst.host, src.host, 4u << 20);
	assert_int_equal(*(uint8_t *)guest_mem_ptr(&dst, MEM_4G + 0x3000, 1), 0xbb);
	guest_mem_free(&src);
	guest_mem_free(&dst);
	scratch_remove(dir);
}

static void test_load_refuses(void **state)
{
	struct guest_mem src, small;
	struct snap_mem_layout layout;
	char *dir = scratch_dir(), err[256] = "", *path;

	(void)state;
	assert_int_equal(guest_mem_init(&src, 8u << 20), 0);
	src.host[0] = 1;
	assert_int_equal(snap_mem_save(&src, dir, "mem", &layout, NULL, err, sizeof(err)), 0);

	assert_int_equal(guest_mem_init(&small, 4u << 20), 0);
	assert_int_equal(snap_mem_load(&small, dir, "mem", &layout, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "differs"));
	guest_mem_free(&small);

	assert_int_equal(asprintf(&path, "%s/mem", dir) > 0, 1);
	assert_int_equal(truncate(path, 4u << 20), 0);
	assert_int_equal(snap_mem_load(&src, dir, "mem", &layout, NULL, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "truncated"));
	assert_non_null(strstr(err, path));
	unlink(path);
	assert_int_equal(snap_mem_load(&src, dir, "mem", &layout, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	free(path);
	guest_mem_free(&src);
	scratch_remove(dir);
}

static void test_layout_section(void **state)
{
	struct snap_mem_layout layout = {
		.nregions = 2, .file_size = 3ull << 30,
		.regions = { { 0, 2ull << 30, 0 }, { MEM_4G, 1ull << 30, 2ull << 30 } },
	}, got;
	struct snap_writer w;
	struct snap_reader r;
	char *dir = scratch_dir(), err[256] = "", *path;

	(void)state;
	assert_int_equal(snap_writer_open(&w, dir, "state", err, sizeof(err)), 0);
	assert_int_equal(snap_mem_layout_write(&layout, &w, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
	assert_int_equal(asprintf(&path, "%s/state", dir) > 0, 1);
	assert_int_equal(snap_reader_open(&r, path, 0, err, sizeof(err)), 0);
	assert_int_equal(snap_mem_layout_read(&r, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got, &layout, sizeof(got));
	assert_int_equal(snap_mem_layout_ram_size(&got), 3ull << 30);
	snap_reader_close(&r);
	free(path);
	scratch_remove(dir);
}

/* The blob of a layout, to damage. */
static size_t layout_blob(unsigned char *buf, const struct snap_mem_layout *l)
{
	struct snap_blob_header h;
	size_t len = 32 + l->nregions * 24;
	uint32_t n = l->nregions, zero = 0;

	snap_blob_header_init(&h, "MEMR", 1, len, 0);
	memcpy(buf, &h, 16);
	memcpy(buf + 16, &n, 4);
	memcpy(buf + 20, &zero, 4);
	memcpy(buf + 24, &l->file_size, 8);
	memcpy(buf + 32, l->regions, l->nregions * 24);
	return len;
}

static void test_layout_damage(void **state)
{
	struct snap_mem_layout good = {
		.nregions = 2, .file_size = 0x3000,
		.regions = { { 0, 0x1000, 0 }, { 0x10000, 0x2000, 0x1000 } },
	}, l, got;
	unsigned char buf[32 + 9 * 24];
	char err[256];
	size_t len;

	(void)state;
	len = layout_blob(buf, &good);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), 0);
	for (size_t n = 0; n < len; n++)
		assert_true(snap_mem_layout_decode(buf, n, "m", &got, err, sizeof(err)) < 0);

	l = good; l.regions[1].gpa = 0x10800;               /* misaligned */
	len = layout_blob(buf, &l);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "region 1"));
	l = good; l.regions[1].gpa = 0;                     /* overlaps region 0 */
	len = layout_blob(buf, &l);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), -EBADMSG);
	l = good; l.regions[1].file_offset = 0x2000;        /* not packed */
	len = layout_blob(buf, &l);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), -EBADMSG);
	l = good; l.file_size = 0x4000;                     /* sizes do not add up */
	len = layout_blob(buf, &l);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "add up"));
	l = good; l.regions[1].size = UINT64_MAX & ~0xfffull; /* wraps */
	len = layout_blob(buf, &l);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), -EBADMSG);
	l = good; l.nregions = 0;
	len = layout_blob(buf, &l);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), -EBADMSG);
	/* Nine regions: one more than a layout holds. */
	memset(buf, 0, sizeof(buf));
	len = layout_blob(buf, &good);
	len = 32 + 9 * 24;
	buf[16] = 9;
	buf[8] = (unsigned char)len;
	buf[9] = (unsigned char)(len >> 8);
	assert_int_equal(snap_mem_layout_decode(buf, len, "m", &got, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "9 memory regions"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memfd_to_anon),
		cmocka_unit_test(test_anon_to_memfd),
		cmocka_unit_test(test_two_regions),
		cmocka_unit_test(test_load_refuses),
		cmocka_unit_test(test_layout_section),
		cmocka_unit_test(test_layout_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
