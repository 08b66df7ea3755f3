// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Direct kernel boot (Documentation/arch/x86/boot.rst and the PVH ABI).
 *
 * bzImage: the setup header at 0x1f1 says where the protected-mode kernel
 * starts in the file and how much room it needs (init_size). We copy the
 * protected-mode part to 1 MiB, fill a zero page (boot_params) with the
 * header, command line, initramfs location, e820 map and RSDP address, and
 * enter at the 64-bit entry (load address + 0x200) with paging on, as the
 * 64-bit boot protocol allows; the setup code (real mode) never runs.
 *
 * PVH: an uncompressed ELF kernel whose note XEN_ELFNOTE_PHYS32_ENTRY names
 * a 32-bit entry point; we load its PT_LOAD segments at their physical
 * addresses and pass an hvm_start_info in EBX.
 *
 * Everything read from the kernel file is checked against the file size and
 * guest RAM before use: a truncated or hostile image gives an error, never a
 * write outside guest memory.
 */
#include "arch/x86/boot.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "base/file.h"
#include "base/log.h"

/* Offsets in boot_params (the zero page) and in the bzImage setup header. */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SETUP_SECTS 0x1f1
#define BP_VID_MODE 0x1fa
#define BP_BOOT_FLAG 0x1fe
#define BP_JUMP 0x200
#define BP_HEADER 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_CODE32_START 0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_HEAP_END_PTR 0x224
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22c
#define BP_XLOADFLAGS 0x236
#define BP_CMDLINE_SIZE 0x238
#define BP_PREF_ADDRESS 0x258
#define BP_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0

#define LOADFLAG_LOADED_HIGH 0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* hvm_start_info and friends (xen/include/public/arch-x86/hvm/start_info.h). */
#define HVM_START_MAGIC 0x336ec578u
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");

/* file_read_all, with the option's name in front of any error; a file
 * larger than guest memory is said to be so. */
static int read_file(const char *what, const char *path, uint64_t max, uint8_t **out,
		     size_t *len, char *err, size_t errlen)
{
	char why[PATH_MAX + 128];
	int ret = file_read_all(path, max, out, len, why, sizeof(why));

	if (ret == -EFBIG)
		errbuf_set(err, errlen, "%s: '%s' does not fit in guest memory", what, path);
	else if (ret < 0)
		errbuf_set(err, errlen, "%s: %s", what, why);
	return ret;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

unsigned int x86_e820_map(const struct guest_mem *mem, struct e820_entry *map, unsigned int max)
{
	struct e820_entry all[] = {
		{ 0, EBDA_START, E820_RAM },
		{ EBDA_START, 0xa0000 - EBDA_START, E820_RESERVED },
		{ ACPI_TABLES_ADDR, 0x100000 - ACPI_TABLES_ADDR, E820_RESERVED },
		{ 0x100000, mem->low_size - 0x100000, E820_RAM },
		{ MEM_4G, mem->high_size, E820_RAM },
	};
	unsigned int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(all) && n < max; i++)
		if (all[i].size)
			map[n++] = all[i];
	return n;
}

void x86_write_reset_vector(struct guest_mem *mem)
{
	static const uint8_t stub[] = {
		0xb0, ACPI_RESET_VALUE,                  /* mov al, RESET_VALUE */
		0xba, ACPI_RESET_PORT & 0xff, ACPI_RESET_PORT >> 8, /* mov dx, port */
		0xee,                                    /* out dx, al */
		0xf4,                                    /* hlt */
		0xeb, 0xfd,                              /* jmp hlt */
	};
	uint8_t *dst = guest_mem_ptr(mem, RESET_VECTOR_ADDR, 16);

	memset(dst, 0xf4, 16);
	memcpy(dst, stub, sizeof(stub));
}

/* Identity-map the first 4 GiB with 2 MiB pages for the 64-bit entry. */
static void write_page_tables(struct guest_mem *mem)
{
	uint64_t *pml4 = guest_mem_ptr(mem, PML4_ADDR, 0x1000);
	uint64_t *pdpt = guest_mem_ptr(mem, PDPT_ADDR, 0x1000);
	uint64_t *pd = guest_mem_ptr(mem, PD_ADDR, 4 * 0x1000);

	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = PDPT_ADDR | 0x3; /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (PD_ADDR + i * 0x1000) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */
}

static int place_cmdline(struct guest_mem *mem, const char *cmdline, uint32_t max_len,
			 char *err, size_t errlen)
{
	size_t len = cmdline ? strlen(cmdline) : 0;
	char *dst = guest_mem_ptr(mem, CMDLINE_ADDR, CMDLINE_MAX);

	if (len > max_len || len >= CMDLINE_MAX) {
		errbuf_set(err, errlen, "--cmdline: %zu bytes, this kernel accepts at most %u",
			len, max_len);
		return -E2BIG;
	}
	memset(dst, 0, len + 1);
	if (len)
		memcpy(dst, cmdline, len);
	return 0;
}

/*
 * Put the initramfs as high as allowed in low RAM (as bootloaders do), but
 * above everything the kernel will use, and page-aligned.
 */
static int place_initramfs(struct guest_mem *mem, const char *path, uint64_t addr_max,
			   uint64_t kernel_end, uint64_t *addr, uint64_t *size,
			   char *err, size_t errlen)
{
	uint8_t *data;
	size_t len;
	uint64_t top, start;
	int ret;

	*addr = *size = 0;
	if (!path)
		return 0;
	ret = read_file("--initramfs", path, mem->low_size, &data, &len, err, errlen);
	if (ret < 0)
		return ret;
	top = mem->low_size;
	if (addr_max && addr_max + 1 < top)
		top = addr_max + 1;
	start = len > top ? 0 : (top - len) & ~0xfffull;
	if (len > top || start < kernel_end) {
		errbuf_set(err, errlen, "--memory: too little memory for the kernel and a "
			"%zu MiB initramfs (needs at least %llu MiB)", len >> 20,
			(unsigned long long)((kernel_end + len + (1 << 20) - 1) >> 20) + 1);
		free(data);
		return -ENOMEM;
	}
	memcpy(guest_mem_ptr(mem, start, len), data, len);
	free(data);
	*addr = start;
	*size = len;
	return 0;
}

static int load_bzimage(struct guest_mem *mem, const struct boot_request *req,
			const uint8_t *img, size_t len, struct boot_entry *out,
			char *err, size_t errlen)
{
	uint8_t *zp = guest_mem_ptr(mem, ZERO_PAGE_ADDR, 0x1000);
	unsigned int setup_sects, hdr_end;
	uint64_t pm_off, pm_len, kernel_end, initrd_addr, initrd_size;
	uint32_t cmdline_max, init_size;
	uint16_t version;
	struct e820_entry map[E820_MAX];
	unsigned int nr;
	int ret;

	version = get16(img + BP_VERSION);
	if (version < 0x020c || !(get16(img + BP_XLOADFLAGS) & XLF_KERNEL_64)) {
		errbuf_set(err, errlen, "--kernel: '%s' uses boot protocol %u.%02u without a "
			"64-bit entry point (needs 2.12 or later, a 64-bit kernel)",
			req->kernel, version >> 8, version & 0xff);
		return -ENOEXEC;
	}
	setup_sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
	pm_off = (uint64_t)(setup_sects + 1) * 512;
	hdr_end = BP_JUMP + 2 + img[BP_JUMP + 1];
	if (pm_off >= len || hdr_end > 0x1000 || hdr_end > len) {
		errbuf_set(err, errlen, "--kernel: '%s' is truncated or its setup header is damaged",
			req->kernel);
		return -ENOEXEC;
	}
	pm_len = len - pm_off;
	init_size = get32(img + BP_INIT_SIZE);
	/* The decompressor runs at pref_address (if relocatable) and needs init_size. */
	kernel_end = KERNEL_LOAD_ADDR + pm_len;
	if (get64(img + BP_PREF_ADDRESS) + init_size > kernel_end)
		kernel_end = get64(img + BP_PREF_ADDRESS) + init_size;
	if (kernel_end > mem->low_size) {
		errbuf_set(err, errlen, "--memory: too little memory for this kernel "
			"(needs at least %llu MiB)",
			(unsigned long long)(kernel_end >> 20) + 16);
		return -ENOMEM;
	}
	memcpy(guest_mem_ptr(mem, KERNEL_LOAD_ADDR, pm_len), img + pm_off, pm_len);

	cmdline_max = version >= 0x0206 ? get32(img + BP_CMDLINE_SIZE) : 255;
	ret = place_cmdline(mem, req->cmdline, cmdline_max, err, errlen);
	if (ret < 0)
		return ret;
	ret = place_initramfs(mem, req->initramfs, get32(img + BP_INITRD_ADDR_MAX),
			      kernel_end, &initrd_addr, &initrd_size, err, errlen);
	if (ret < 0)
		return ret;

	memset(zp, 0, 0x1000);
	memcpy(zp + BP_SETUP_SECTS, img + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
	put16(zp + BP_VID_MODE, 0xffff); /* "normal" text mode */
	zp[BP_TYPE_OF_LOADER] = 0xff;    /* undefined boot loader */
	zp[BP_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP | LOADFLAG_LOADED_HIGH;
	put16(zp + BP_HEAP_END_PTR, 0xfe00);
	put32(zp + BP_CODE32_START, KERNEL_LOAD_ADDR);
	put32(zp + BP_CMD_LINE_PTR, CMDLINE_ADDR);
	put32(zp + BP_EXT_CMD_LINE_PTR, 0);
	put32(zp + BP_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	put32(zp + BP_RAMDISK_SIZE, (uint32_t)initrd_size);
	put32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_addr >> 32));
	put32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));
	put64(zp + BP_ACPI_RSDP, req->rsdp_addr);
	nr = x86_e820_map(mem, map, E820_MAX);
	zp[BP_E820_ENTRIES] = (uint8_t)nr;
	memcpy(zp + BP_E820_TABLE, map, nr * sizeof(map[0]));

	write_page_tables(mem);
	out->kind = BOOT_LINUX64;
	out->entry = KERNEL_LOAD_ADDR + 0x200;
	out->info_addr = ZERO_PAGE_ADDR;
	return 0;
}

/* Find XEN_ELFNOTE_PHYS32_ENTRY in one PT_NOTE segment. */
static int find_pvh_entry(const uint8_t *p, uint64_t len, uint64_t *entry)
{
	while (len >= sizeof(Elf64_Nhdr)) {
		const Elf64_Nhdr *n = (const void *)p;
		uint64_t namesz = (n->n_namesz + 3ull) & ~3ull;
		uint64_t descsz = (n->n_descsz + 3ull) & ~3ull;
		uint64_t total = sizeof(*n) + namesz + descsz;

		if (total > len)
			return -1;
		if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
		    !memcmp(p + sizeof(*n), "Xen", 4) && n->n_descsz >= 4) {
			const uint8_t *d = p + sizeof(*n) + namesz;

			*entry = n->n_descsz >= 8 ? get64(d) : get32(d);
			return 0;
		}
		p += total;
		len -= total;
	}
	return -1;
}

static int load_pvh(struct guest_mem *mem, const struct boot_request *req,
		    const uint8_t *img, size_t len, struct boot_entry *out,
		    char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = (const void *)img;
	uint64_t entry = 0, kernel_end = 0, initrd_addr, initrd_size;
	struct hvm_start_info *si;
	struct hvm_modlist_entry *mod;
	struct e820_entry map[E820_MAX];
	struct hvm_memmap_entry *mm;
	unsigned int nr;
	bool have_entry = false;
	int ret;

	if (len < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff) {
		errbuf_set(err, errlen, "--kernel: '%s' is not a valid x86-64 ELF kernel", req->kernel);
		return -ENOEXEC;
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff + i * sizeof(*ph));

		if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset) {
			errbuf_set(err, errlen, "--kernel: '%s': segment %u lies outside the file",
				req->kernel, i);
			return -ENOEXEC;
		}
		if (ph->p_type == PT_NOTE && !have_entry)
			have_entry = find_pvh_entry(img + ph->p_offset, ph->p_filesz, &entry) == 0;
		if (ph->p_type != PT_LOAD)
			continue;
		uint8_t *dst = ph->p_filesz <= ph->p_memsz ?
			guest_mem_ptr(mem, ph->p_paddr, ph->p_memsz) : NULL;
		if (!dst || ph->p_paddr < KERNEL_LOAD_ADDR) {
			errbuf_set(err, errlen, "--memory: segment %u of '%s' (0x%llx, %llu KiB) "
				"does not fit in guest RAM", i, req->kernel,
				(unsigned long long)ph->p_paddr,
				(unsigned long long)ph->p_memsz >> 10);
			return -ENOMEM;
		}
		memcpy(dst, img + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		if (ph->p_paddr + ph->p_memsz > kernel_end)
			kernel_end = ph->p_paddr + ph->p_memsz;
	}
	if (!have_entry) {
		errbuf_set(err, errlen, "--kernel: '%s' is an ELF file without a PVH entry note "
			"(XEN_ELFNOTE_PHYS32_ENTRY); build the kernel with CONFIG_PVH=y",
			req->kernel);
		return -ENOEXEC;
	}
	ret = place_cmdline(mem, req->cmdline, CMDLINE_MAX - 1, err, errlen);
	if (ret < 0)
		return ret;
	ret = place_initramfs(mem, req->initramfs, 0, kernel_end, &initrd_addr,
			      &initrd_size, err, errlen);
	if (ret < 0)
		return ret;

	si = guest_mem_ptr(mem, PVH_INFO_ADDR, 0x1000);
	memset(si, 0, 0x1000);
	mod = (void *)(si + 1);
	mm = (void *)(mod + 1);
	nr = x86_e820_map(mem, map, (0x1000 - sizeof(*si) - sizeof(*mod)) / sizeof(*mm));
	for (unsigned int i = 0; i < nr; i++)
		mm[i] = (struct hvm_memmap_entry){ map[i].addr, map[i].size, map[i].type, 0 };
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = CMDLINE_ADDR;
	si->rsdp_paddr = req->rsdp_addr;
	si->memmap_paddr = PVH_INFO_ADDR + ((uint8_t *)mm - (uint8_t *)si);
	si->memmap_entries = nr;
	if (initrd_size) {
		mod->paddr = initrd_addr;
		mod->size = initrd_size;
		si->nr_modules = 1;
		si->modlist_paddr = PVH_INFO_ADDR + sizeof(*si);
	}
	out->kind = BOOT_PVH;
	out->entry = entry;
	out->info_addr = PVH_INFO_ADDR;
	return 0;
}

int x86_load_kernel(struct guest_mem *mem, const struct boot_request *req,
		    struct boot_entry *out, char *err, size_t errlen)
{
	uint8_t *img;
	size_t len;
	int ret;

	ret = read_file("--kernel", req->kernel, mem->size, &img, &len, err, errlen);
	if (ret < 0)
		return ret;
	if (len >= 0x1000 && !memcmp(img + BP_HEADER, "HdrS", 4) &&
	    get16(img + BP_BOOT_FLAG) == 0xaa55)
		ret = load_bzimage(mem, req, img, len, out, err, errlen);
	else if (len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG))
		ret = load_pvh(mem, req, img, len, out, err, errlen);
	else {
		errbuf_set(err, errlen, "--kernel: '%s' is not a kernel: neither a bzImage "
			"nor an ELF vmlinux", req->kernel);
		ret = -ENOEXEC;
	}
	free(img);
	return ret;
}
