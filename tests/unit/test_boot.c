// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Direct kernel boot loaders, on synthetic images: a bzImage and a PVH ELF
 * land where the protocols say, with the zero page / start info filled in,
 * and every malformed image is refused with a message naming the problem.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"

static char tmpdir[] = "/tmp/phyllo-test-boot-XXXXXX";

static char *write_tmp(const char *name, const void *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return path;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A bzImage with 4 setup sectors + 64 KiB of "kernel". */
static uint8_t *make_bzimage(size_t *len, uint16_t version, uint32_t init_size)
{
	size_t n = 5 * 512 + 65536;
	uint8_t *img = calloc(1, n);

	img[0x1f1] = 4;
	put16(img + 0x1fe, 0xaa55);
	img[0x201] = 0x6a; /* header ends at 0x202 + 0x6a = 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, version);
	put32(img + 0x22c, 0x7fffffff);
	put16(img + 0x236, 0x1); /* XLF_KERNEL_64 */
	put32(img + 0x238, 2047);
	put64(img + 0x258, 0x1000000);
	put32(img + 0x260, init_size);
	for (size_t i = 5 * 512; i < n; i++)
		img[i] = (uint8_t)i;
	*len = n;
	return img;
}

static struct guest_mem mem;

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	return guest_mem_init(&mem, 256ull << 20);
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	guest_mem_free(&mem);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static void test_bzimage(void **state)
{
	size_t len;
	uint8_t *img = make_bzimage(&len, 0x020f, 0x1000000);
	char kpath[256], err[256];
	uint8_t initrd[10000];
	struct boot_entry e;
	struct boot_request req = { .cmdline = "console=ttyS0", .rsdp_addr = 0xe0000 };
	uint8_t *zp = mem.host + ZERO_PAGE_ADDR;
	uint32_t rd_addr, rd_size;

	(void)state;
	strcpy(kpath, write_tmp("bzImage", img, len));
	memset(initrd, 0x5a, sizeof(initrd));
	req.kernel = kpath;
	req.initramfs = write_tmp("initrd", initrd, sizeof(initrd));
	assert_int_equal(x86_load_kernel(&mem, &req, &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, BOOT_LINUX64);
	assert_int_equal(e.entry, KERNEL_LOAD_ADDR + 0x200);
	assert_int_equal(e.info_addr, ZERO_PAGE_ADDR);
	assert_memory_equal(mem.host + KERNEL_LOAD_ADDR, img + 5 * 512, len - 5 * 512);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x210], 0xff);
	assert_string_equal((char *)mem.host + CMDLINE_ADDR, "console=ttyS0");
	memcpy(&rd_addr, zp + 0x218, 4);
	memcpy(&rd_size, zp + 0x21c, 4);
	assert_int_equal(rd_size, sizeof(initrd));
	assert_int_equal(rd_addr & 0xfff, 0);
	assert_true(rd_addr + rd_size <= mem.low_size);
	assert_true(rd_addr >= 0x1000000 + 0x1000000);
	assert_memory_equal(mem.host + rd_addr, initrd, sizeof(initrd));
	assert_int_equal(zp[0x1e8], 4); /* low RAM, EBDA, BIOS area, RAM above 1 MiB */
	free(img);
}

static void expect_error(const char *kernel, const char *initrd, const char *cmdline,
			 const char *needle)
{
	struct boot_request req = { .kernel = kernel, .initramfs = initrd, .cmdline = cmdline };
	struct boot_entry e;
	char err[256] = "";

	assert_true(x86_load_kernel(&mem, &req, &e, err, sizeof(err)) < 0);
	if (!strstr(err, needle))
		fail_msg("'%s' lacks '%s'", err, needle);
}

static void test_bad_bzimages(void **state)
{
	size_t len;
	uint8_t *img;
	char path[256], *longline;

	(void)state;
	img = make_bzimage(&len, 0x0202, 0x1000000);
	expect_error(write_tmp("old", img, len), NULL, NULL, "boot protocol 2.02");
	free(img);

	img = make_bzimage(&len, 0x020f, 0x1000000);
	img[0x1f1] = 200; /* setup sectors beyond the file */
	expect_error(write_tmp("trunc", img, len), NULL, NULL, "truncated");
	free(img);

	img = make_bzimage(&len, 0x020f, 0x10000000); /* needs 272 MiB */
	expect_error(write_tmp("big", img, len), NULL, NULL, "too little memory");
	free(img);

	img = make_bzimage(&len, 0x020f, 0x1000000);
	strcpy(path, write_tmp("ok", img, len));
	longline = calloc(1, 3000);
	memset(longline, 'a', 2999);
	expect_error(path, NULL, longline, "--cmdline: 2999 bytes");
	free(longline);
	expect_error(path, "/nonexistent/initrd", NULL, "--initramfs: cannot open");
	free(img);

	expect_error("/nonexistent/kernel", NULL, NULL, "--kernel: cannot open");
	expect_error(write_tmp("text", "hello world, not a kernel", 25), NULL, NULL,
		     "is not a kernel");
	expect_error(tmpdir, NULL, NULL, "not a regular file");
}

/* A PVH ELF: one PT_LOAD at 16 MiB, one PT_NOTE with the Xen entry note. */
static uint8_t *make_pvh(size_t *len, bool with_note, uint64_t load_off)
{
	size_t n = 0x3000;
	uint8_t *img = calloc(1, n);
	Elf64_Ehdr *eh = (void *)img;
	Elf64_Phdr *ph = (void *)(img + sizeof(*eh));
	Elf64_Nhdr *note = (void *)(img + 0x200);
	uint32_t entry = 0x1000040;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = load_off, .p_paddr = 0x1000000,
			      .p_filesz = 0x1000, .p_memsz = 0x2000 };
	ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x200,
			      .p_filesz = sizeof(*note) + 4 + 4 };
	note->n_namesz = 4;
	note->n_descsz = 4;
	note->n_type = with_note ? 18 : 5;
	memcpy(note + 1, "Xen", 4);
	memcpy((uint8_t *)(note + 1) + 4, &entry, 4);
	memset(img + 0x1000, 0xc3, 0x1000);
	*len = n;
	return img;
}

static void test_pvh(void **state)
{
	size_t len;
	uint8_t *img = make_pvh(&len, true, 0x1000);
	struct boot_request req = { .cmdline = "pvh", .rsdp_addr = 0xe0000 };
	struct boot_entry e;
	char err[256];
	uint32_t magic, nr_memmap;
	uint64_t rsdp;

	(void)state;
	memset(mem.host + 0x1001000, 0xee, 0x1000); /* .bss must come back zeroed */
	req.kernel = write_tmp("vmlinux", img, len);
	assert_int_equal(x86_load_kernel(&mem, &req, &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, BOOT_PVH);
	assert_int_equal(e.entry, 0x1000040);
	assert_int_equal(mem.host[0x1000000], 0xc3);
	assert_int_equal(mem.host[0x1001000], 0);
	memcpy(&magic, mem.host + PVH_INFO_ADDR, 4);
	assert_int_equal(magic, 0x336ec578);
	memcpy(&rsdp, mem.host + PVH_INFO_ADDR + 32, 8);
	assert_int_equal(rsdp, 0xe0000);
	memcpy(&nr_memmap, mem.host + PVH_INFO_ADDR + 48, 4);
	assert_int_equal(nr_memmap, 4);
	free(img);

	img = make_pvh(&len, false, 0x1000);
	expect_error(write_tmp("nonote", img, len), NULL, NULL, "without a PVH entry note");
	free(img);
	img = make_pvh(&len, true, 0x2800); /* segment runs past the end of file */
	expect_error(write_tmp("badseg", img, len), NULL, NULL, "outside the file");
	free(img);
}

static void test_e820_split(void **state)
{
	struct guest_mem big = { .low_size = MEM_HOLE_START, .high_size = 2ull << 30 };
	struct e820_entry map[E820_MAX];
	unsigned int n = x86_e820_map(&big, map, E820_MAX);

	(void)state;
	assert_int_equal(n, 5);
	assert_int_equal(map[3].addr + map[3].size, MEM_HOLE_START);
	assert_int_equal(map[4].addr, MEM_4G);
	assert_int_equal(map[4].size, 2ull << 30);
	assert_int_equal(map[4].type, E820_RAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage),
		cmocka_unit_test(test_bad_bzimages),
		cmocka_unit_test(test_pvh),
		cmocka_unit_test(test_e820_split),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
