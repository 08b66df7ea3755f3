// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest RAM to and from the snapshot memory file.
 *
 * Saving scans RAM a page at a time and writes only runs of non-zero pages
 * (pwrite at their offset) into a file already ftruncate'd to the full
 * size, so zero pages stay holes. Scanning RAM the guest never touched
 * costs no memory: untouched private anonymous memory reads as the shared
 * zero page, and with a memfd behind RAM (shared=on) only the memfd's data
 * extents are scanned, since reading its holes would allocate them.
 *
 * Loading asks the file system where the data is (SEEK_DATA/SEEK_HOLE) and
 * reads only that, through a small bounce buffer, copying only the pages
 * that are not zero. Both halves matter: some file systems (9p, FUSE) say
 * "all data" and hand back zeros, and writing zeros into fresh guest RAM
 * would allocate every page of it. The new guest's RAM stays as sparse as
 * the old one was.
 */
#include "snapshot/memfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"

#define LAYOUT_KIND "MEMR"
#define LAYOUT_VERSION 1
#define MAX_WRITE_RUN (64ull << 20) /* bytes per pwrite */
#define BOUNCE_SIZE (1u << 20)
#define MAX_RAM (1ull << 46)         /* what guest_mem accepts */

/* The "memory" section, version 1. */
struct layout_blob {
	struct snap_blob_header hdr;
	uint32_t nregions;
	uint32_t reserved;
	uint64_t file_size;
	struct snap_mem_region regions[];
};
_Static_assert(sizeof(struct layout_blob) == 32, "layout blob header");
_Static_assert(sizeof(struct snap_mem_region) == 24, "layout blob region");

void snap_mem_layout_of(const struct guest_mem *mem, struct snap_mem_layout *layout)
{
	memset(layout, 0, sizeof(*layout));
	layout->regions[0] = (struct snap_mem_region){ 0, mem->low_size, 0 };
	layout->nregions = 1;
	if (mem->high_size) {
		layout->regions[1] = (struct snap_mem_region){ MEM_4G, mem->high_size, mem->low_size };
		layout->nregions = 2;
	}
	layout->file_size = mem->low_size + mem->high_size;
}

uint64_t snap_mem_layout_ram_size(const struct snap_mem_layout *layout)
{
	return layout->file_size;
}

int snap_mem_layout_decode(const void *buf, size_t len, const char *what,
			   struct snap_mem_layout *layout, char *err, size_t errlen)
{
	struct snap_blob_header h;
	struct layout_blob fixed;
	uint64_t next_gpa = 0, offset = 0;
	int ret;

	memset(layout, 0, sizeof(*layout));
	ret = snap_blob_check(buf, len, LAYOUT_KIND, LAYOUT_VERSION, sizeof(fixed), what, &h,
			      err, errlen);
	if (ret < 0)
		return ret;
	memcpy(&fixed, buf, sizeof(fixed));
	if (fixed.nregions == 0 || fixed.nregions > SNAP_MEM_MAX_REGIONS || fixed.reserved || h.flags ||
	    len != sizeof(fixed) + fixed.nregions * sizeof(struct snap_mem_region)) {
		errbuf_set(err, errlen, "%s: %u memory regions in %zu bytes (1 to %d expected)",
			   what, fixed.nregions, len, SNAP_MEM_MAX_REGIONS);
		return -EBADMSG;
	}
	layout->nregions = fixed.nregions;
	memcpy(layout->regions, (const uint8_t *)buf + sizeof(fixed),
	       fixed.nregions * sizeof(struct snap_mem_region));
	for (uint32_t i = 0; i < layout->nregions; i++) {
		const struct snap_mem_region *r = &layout->regions[i];

		if (r->size == 0 || r->gpa % SNAP_MEM_PAGE || r->size % SNAP_MEM_PAGE ||
		    r->gpa < next_gpa || r->size > MAX_RAM || r->gpa > UINT64_MAX - r->size ||
		    r->file_offset != offset || offset + r->size > MAX_RAM) {
			errbuf_set(err, errlen, "%s: memory region %u (gpa 0x%llx, 0x%llx bytes at "
				   "file offset 0x%llx) is not page-aligned, sorted and packed", what,
				   i, (unsigned long long)r->gpa, (unsigned long long)r->size,
				   (unsigned long long)r->file_offset);
			return -EBADMSG;
		}
		next_gpa = r->gpa + r->size;
		offset += r->size;
	}
	if (fixed.file_size != offset) {
		errbuf_set(err, errlen, "%s: memory file size 0x%llx, the regions add up to 0x%llx",
			   what, (unsigned long long)fixed.file_size, (unsigned long long)offset);
		return -EBADMSG;
	}
	layout->file_size = offset;
	return 0;
}

int snap_mem_layout_write(const struct snap_mem_layout *layout, struct snap_writer *w,
			  char *err, size_t errlen)
{
	uint8_t buf[sizeof(struct layout_blob) + SNAP_MEM_MAX_REGIONS * sizeof(struct snap_mem_region)];
	struct layout_blob fixed = { .nregions = layout->nregions, .file_size = layout->file_size };
	size_t len = sizeof(fixed) + layout->nregions * sizeof(struct snap_mem_region);

	if (layout->nregions == 0 || layout->nregions > SNAP_MEM_MAX_REGIONS) {
		errbuf_set(err, errlen, "memory layout with %u regions", layout->nregions);
		return -EINVAL;
	}
	snap_blob_header_init(&fixed.hdr, LAYOUT_KIND, LAYOUT_VERSION, len, 0);
	memcpy(buf, &fixed, sizeof(fixed));
	memcpy(buf + sizeof(fixed), layout->regions,
	       layout->nregions * sizeof(struct snap_mem_region));
	return snap_writer_add(w, SNAP_MEM_SECTION, buf, len, err, errlen);
}

int snap_mem_layout_read(const struct snap_reader *r, struct snap_mem_layout *layout,
			 char *err, size_t errlen)
{
	const struct snap_section *s;
	char what[256];
	int ret = snap_reader_need(r, SNAP_MEM_SECTION, &s, err, errlen);

	if (ret < 0)
		return ret;
	snprintf(what, sizeof(what), "%s: section '%s'", r->path, s->name);
	return snap_mem_layout_decode(s->data, s->len, what, layout, err, errlen);
}

/* --- pages ----------------------------------------------------------------- */

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (unsigned int i = 0; i < SNAP_MEM_PAGE / 8; i += 8) {
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	}
	return true;
}

/* Write the non-zero pages of host[from, to) at file offset base + from. */
static int write_nonzero(int fd, const uint8_t *host, uint64_t from, uint64_t to, uint64_t base,
			 uint64_t *data_bytes)
{
	uint64_t off = from;

	while (off < to) {
		uint64_t start;
		int ret;

		while (off < to && page_is_zero(host + off))
			off += SNAP_MEM_PAGE;
		if (off >= to)
			break;
		start = off;
		while (off < to && off - start < MAX_WRITE_RUN && !page_is_zero(host + off))
			off += SNAP_MEM_PAGE;
		ret = file_pwrite_all(fd, host + start, off - start, base + start);
		if (ret < 0)
			return ret;
		*data_bytes += off - start;
	}
	return 0;
}

/*
 * Write a region of size bytes at host (file offset base). With a memfd
 * behind RAM (src_fd, the region at src_base in it), only its data extents
 * are scanned: reading a shared mapping's hole would allocate a page.
 * Private anonymous RAM reads its untouched pages as the zero page.
 */
static int write_region(int fd, const uint8_t *host, uint64_t size, uint64_t base, int src_fd,
			uint64_t src_base, uint64_t *data_bytes)
{
	uint64_t off = 0;

	while (src_fd >= 0 && off < size) {
		off_t data = lseek(src_fd, (off_t)(src_base + off), SEEK_DATA);
		off_t hole;
		uint64_t from, to;
		int ret;

		if (data < 0 && errno == ENXIO)
			return 0;
		if (data < 0)
			break; /* no SEEK_DATA: scan the rest */
		if ((uint64_t)data >= src_base + size)
			return 0;
		hole = lseek(src_fd, data, SEEK_HOLE);
		to = hole < 0 || (uint64_t)hole > src_base + size ? size : (uint64_t)hole - src_base;
		from = ((uint64_t)data - src_base) & ~(uint64_t)(SNAP_MEM_PAGE - 1);
		to = (to + SNAP_MEM_PAGE - 1) & ~(uint64_t)(SNAP_MEM_PAGE - 1);
		if (to > size)
			to = size;
		ret = write_nonzero(fd, host, from, to, base, data_bytes);
		if (ret < 0)
			return ret;
		off = to;
	}
	return write_nonzero(fd, host, off, size, base, data_bytes);
}

int snap_mem_save(const struct guest_mem *mem, const char *dir, const char *file,
		  struct snap_mem_layout *layout, struct snap_mem_stats *stats,
		  char *err, size_t errlen)
{
	struct snap_mem_stats st = { 0 };
	struct snap_tmpfile t;
	struct stat sb;
	int ret;

	snap_mem_layout_of(mem, layout);
	ret = snap_tmpfile_open(&t, dir, file, err, errlen);
	if (ret < 0)
		return ret;
	if (ftruncate(t.fd, (off_t)layout->file_size) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: cannot size it to %llu bytes: %s", t.path,
			   (unsigned long long)layout->file_size, strerror(errno));
		goto fail;
	}
	for (uint32_t i = 0; i < layout->nregions; i++) {
		const struct snap_mem_region *r = &layout->regions[i];
		const uint8_t *host = guest_mem_ptr(mem, r->gpa, r->size);

		if (NEVER(!host)) {
			ret = -EFAULT;
			errbuf_set(err, errlen, "%s: memory region %u is not guest RAM", t.path, i);
			goto fail;
		}
		ret = write_region(t.fd, host, r->size, r->file_offset, mem->fd,
				   (uint64_t)(host - mem->host), &st.data_bytes);
		if (ret < 0) {
			errbuf_set(err, errlen, "%s: write failed: %s", t.path, strerror(-ret));
			goto fail;
		}
		st.ram_bytes += r->size;
	}
	if (fstat(t.fd, &sb) == 0)
		st.disk_bytes = (uint64_t)sb.st_blocks * 512;
	ret = snap_tmpfile_commit(&t, err, errlen);
	if (ret == 0 && stats)
		*stats = st;
	return ret;
fail:
	snap_tmpfile_abort(&t);
	return ret;
}

/* Copy the non-zero pages of buf (len bytes, from file offset off) to host. */
static uint64_t copy_nonzero(uint8_t *host, const uint8_t *buf, size_t len)
{
	uint64_t copied = 0;

	for (size_t i = 0; i < len; i += SNAP_MEM_PAGE) {
		size_t n = len - i < SNAP_MEM_PAGE ? len - i : SNAP_MEM_PAGE;

		if (n == SNAP_MEM_PAGE && page_is_zero(buf + i))
			continue;
		memcpy(host + i, buf + i, n);
		copied += n;
	}
	return copied;
}

/* Read file bytes [from, to) into host (which corresponds to file offset base). */
static int load_range(int fd, uint8_t *host, uint64_t base, uint64_t from, uint64_t to,
		      uint8_t *bounce, uint64_t *data_bytes)
{
	/* Keep chunks page-aligned relative to the region so zero checks see whole pages. */
	from -= (from - base) % SNAP_MEM_PAGE;
	while (from < to) {
		size_t want = to - from < BOUNCE_SIZE ? (size_t)(to - from) : BOUNCE_SIZE;
		int ret = file_pread_exact(fd, bounce, want, from);

		if (ret < 0)
			return ret; /* -EIO also when the file shrank under us */
		*data_bytes += copy_nonzero(host + (from - base), bounce, want);
		from += want;
	}
	return 0;
}

static int load_region(int fd, uint8_t *host, const struct snap_mem_region *r,
		       uint8_t *bounce, uint64_t *data_bytes)
{
	uint64_t off = r->file_offset, end = r->file_offset + r->size;

	while (off < end) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA);
		off_t hole;
		int ret;

		if (data < 0 && errno == ENXIO)
			return 0; /* nothing but holes from here on */
		if (data < 0) /* no SEEK_DATA here: treat it all as data */
			return load_range(fd, host, r->file_offset, off, end, bounce, data_bytes);
		if ((uint64_t)data >= end)
			return 0;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > end)
			hole = (off_t)end;
		ret = load_range(fd, host, r->file_offset, (uint64_t)data, (uint64_t)hole, bounce,
				 data_bytes);
		if (ret < 0)
			return ret;
		off = (uint64_t)hole;
	}
	return 0;
}

/* mem must have exactly the regions of layout. */
static int check_shape(const struct guest_mem *mem, const struct snap_mem_layout *layout,
		       const char *path, char *err, size_t errlen)
{
	struct snap_mem_layout cur;

	snap_mem_layout_of(mem, &cur);
	for (uint32_t i = 0; i < layout->nregions || i < cur.nregions; i++) {
		const struct snap_mem_region *a = &layout->regions[i], *b = &cur.regions[i];

		if (i >= layout->nregions || i >= cur.nregions || a->gpa != b->gpa ||
		    a->size != b->size || a->file_offset != b->file_offset) {
			errbuf_set(err, errlen, "%s: the snapshot's RAM layout (%u regions, %llu MiB) "
				   "differs from this VM's (%u regions, %llu MiB) at region %u", path,
				   layout->nregions, (unsigned long long)(layout->file_size >> 20),
				   cur.nregions, (unsigned long long)(cur.file_size >> 20), i);
			return -EINVAL;
		}
	}
	return 0;
}

int snap_mem_load(struct guest_mem *mem, const char *dir, const char *file,
		  const struct snap_mem_layout *layout, struct snap_mem_stats *stats,
		  char *err, size_t errlen)
{
	struct snap_mem_stats st = { 0 };
	uint8_t *bounce = NULL;
	char *path = NULL;
	struct stat sb;
	int fd = -1, ret;

	if (asprintf(&path, "%s/%s", dir, file) < 0) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = check_shape(mem, layout, path, err, errlen);
	if (ret < 0)
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != layout->file_size) {
		ret = -EBADMSG;
		errbuf_set(err, errlen, "%s: %lld bytes, the snapshot's RAM is %llu (truncated or "
			   "not this snapshot's memory file)", path, (long long)sb.st_size,
			   (unsigned long long)layout->file_size);
		goto out;
	}
	bounce = malloc(BOUNCE_SIZE);
	if (!bounce) {
		ret = -ENOMEM;
		errbuf_set(err, errlen, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < layout->nregions; i++) {
		const struct snap_mem_region *r = &layout->regions[i];
		uint8_t *host = guest_mem_ptr(mem, r->gpa, r->size);

		if (NEVER(!host)) {
			ret = -EFAULT;
			errbuf_set(err, errlen, "%s: memory region %u is not guest RAM", path, i);
			goto out;
		}
		ret = load_region(fd, host, r, bounce, &st.data_bytes);
		if (ret < 0) {
			errbuf_set(err, errlen, "%s: read failed: %s", path, strerror(-ret));
			goto out;
		}
		st.ram_bytes += r->size;
	}
	st.disk_bytes = (uint64_t)sb.st_blocks * 512;
	if (stats)
		*stats = st;
out:
	free(bounce);
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}
