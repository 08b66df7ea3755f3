// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading snapshot state files (the format is described in snapfile.h).
 *
 * The reader loads the file whole (state files are small; RAM lives in
 * its own file), walks it once checking every length against what is left
 * before trusting it, every CRC, the padding and the end marker, and only
 * then exposes the sections. Nothing in the file is trusted before it has
 * been checked: it may come from anywhere.
 */
#include "snapshot/snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "snapshot/snapfile_format.h"

static void copy_field(char *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A fixed-size text field: NUL-terminated inside, nothing but NULs after. */
static bool field_is_text(const uint8_t *p, size_t n)
{
	size_t len = strnlen((const char *)p, n);

	if (len == n)
		return false;
	for (size_t i = len; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int parse_header(struct snap_reader *r, char *err, size_t errlen)
{
	const uint8_t *b = r->buf;
	uint32_t version, hsize;
	bool intact;

	if (r->size < 8 || memcmp(b, FILE_MAGIC, 8) != 0) {
		errbuf_set(err, errlen, "%s: not a phyllome snapshot state file (bad magic)", r->path);
		return -EINVAL;
	}
	if (r->size < FILE_HEADER_SIZE) {
		errbuf_set(err, errlen, "%s: truncated: %zu bytes, the header alone is %d",
			   r->path, r->size, FILE_HEADER_SIZE);
		return -EBADMSG;
	}
	version = get32(b + FH_VERSION);
	hsize = get32(b + FH_SIZE);
	intact = crc_ok(get32(b + FH_CRC), crc_of(b, FH_CRC)) &&
		 field_is_text(b + FH_PRODUCER, PRODUCER_FIELD) && field_is_text(b + FH_ARCH, ARCH_FIELD);
	r->format_version = version;
	/* Magic and version stay where they are in every format version, so a
	 * newer file is named as such even if the rest of its header moved. */
	if (version > SNAP_FORMAT_VERSION) {
		if (intact)
			copy_field(r->producer, b + FH_PRODUCER, PRODUCER_FIELD);
		errbuf_set(err, errlen, "%s: format version %u%s%s%s is newer than this phyllome "
			   "reads (%d)%s", r->path, version, intact ? " (written by " : "",
			   intact ? r->producer : "", intact ? ")" : "", SNAP_FORMAT_VERSION,
			   intact ? "" : ", or the header is damaged");
		return -ENOTSUP;
	}
	if (!intact) {
		errbuf_set(err, errlen, "%s: file header damaged (CRC mismatch)", r->path);
		return -EBADMSG;
	}
	copy_field(r->producer, b + FH_PRODUCER, PRODUCER_FIELD);
	copy_field(r->arch, b + FH_ARCH, ARCH_FIELD);
	if (version == 0 || hsize != FILE_HEADER_SIZE) {
		errbuf_set(err, errlen, "%s: file header damaged (version %u, header size %u)",
			   r->path, version, hsize);
		return -EBADMSG;
	}
	if (strcmp(r->arch, SNAP_HOST_ARCH) != 0) {
		errbuf_set(err, errlen, "%s: snapshot of an %s machine, this host is %s", r->path,
			   r->arch, SNAP_HOST_ARCH);
		return -EINVAL;
	}
	return 0;
}

static int add_section(struct snap_reader *r, unsigned int *cap, const char *name,
		       const uint8_t *data, size_t len, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < r->nsections; i++) {
		if (strcmp(r->sections[i].name, name) == 0) {
			errbuf_set(err, errlen, "%s: section '%s' appears twice", r->path, name);
			return -EBADMSG;
		}
	}
	if (r->nsections == *cap) {
		unsigned int n = *cap ? *cap * 2 : 16;
		void *p = realloc(r->sections, n * sizeof(r->sections[0]));

		if (!p) {
			errbuf_set(err, errlen, "out of memory");
			return -ENOMEM;
		}
		r->sections = p;
		*cap = n;
	}
	snprintf(r->sections[r->nsections].name, sizeof(r->sections[0].name), "%s", name);
	r->sections[r->nsections].data = data;
	r->sections[r->nsections].len = len;
	r->nsections++;
	return 0;
}

/* Walk the sections up to and including the end marker. */
static int parse_sections(struct snap_reader *r, char *err, size_t errlen)
{
	size_t off = FILE_HEADER_SIZE;
	unsigned int cap = 0;
	char name[NAME_FIELD + 1];

	for (;;) {
		const uint8_t *h = r->buf + off;
		uint64_t len, padded;
		size_t left = r->size - off;
		int ret;

		if (left < SECTION_HEADER_SIZE) {
			errbuf_set(err, errlen, "%s: truncated after %u section(s): no end marker "
				   "(%zu bytes left at offset %zu)", r->path, r->nsections, left, off);
			return -EBADMSG;
		}
		if (!crc_ok(get32(h + SH_HCRC), crc_of(h, SH_HCRC))) {
			errbuf_set(err, errlen, "%s: header of section %u (offset %zu) damaged "
				   "(CRC mismatch)", r->path, r->nsections + 1, off);
			return -EBADMSG;
		}
		if (!field_is_text(h + SH_NAME, NAME_FIELD)) {
			errbuf_set(err, errlen, "%s: section %u has a damaged name", r->path,
				   r->nsections + 1);
			return -EBADMSG;
		}
		copy_field(name, h + SH_NAME, NAME_FIELD);
		len = get64(h + SH_LEN);
		if (!name[0]) { /* the end marker */
			if (len != r->nsections || !crc_ok(get32(h + SH_CRC), crc_of(r->buf, off))) {
				errbuf_set(err, errlen, "%s: end marker does not match the file "
					   "(%u sections read, marker says %llu; or the whole-file CRC "
					   "differs)", r->path, r->nsections, (unsigned long long)len);
				return -EBADMSG;
			}
			if (left != SECTION_HEADER_SIZE) {
				errbuf_set(err, errlen, "%s: %zu unexpected bytes after the end marker",
					   r->path, left - SECTION_HEADER_SIZE);
				return -EBADMSG;
			}
			return 0;
		}
		if (!name_valid(name)) {
			errbuf_set(err, errlen, "%s: section %u has an invalid name", r->path,
				   r->nsections + 1);
			return -EBADMSG;
		}
		if (r->nsections >= SNAP_MAX_SECTIONS) {
			errbuf_set(err, errlen, "%s: more than %u sections", r->path, SNAP_MAX_SECTIONS);
			return -EBADMSG;
		}
		left -= SECTION_HEADER_SIZE;
		off += SECTION_HEADER_SIZE;
		padded = (len + 7) & ~7ull;
		if (len > left || padded > left) {
			errbuf_set(err, errlen, "%s: section '%s' claims %llu bytes, only %zu are left "
				   "(truncated or damaged)", r->path, name, (unsigned long long)len, left);
			return -EBADMSG;
		}
		if (!crc_ok(get32(h + SH_CRC), crc_of(r->buf + off, (size_t)len))) {
			errbuf_set(err, errlen, "%s: section '%s' damaged (payload CRC mismatch)",
				   r->path, name);
			return -EBADMSG;
		}
		for (uint64_t i = len; i < padded; i++) {
			if (r->buf[off + i]) {
				errbuf_set(err, errlen, "%s: section '%s' has non-zero padding", r->path,
					   name);
				return -EBADMSG;
			}
		}
		ret = add_section(r, &cap, name, r->buf + off, (size_t)len, err, errlen);
		if (ret < 0)
			return ret;
		off += (size_t)padded;
	}
}

static int reader_check(struct snap_reader *r, char *err, size_t errlen)
{
	int ret = parse_header(r, err, errlen);

	if (ret == 0)
		ret = parse_sections(r, err, errlen);
	if (ret < 0)
		snap_reader_close(r);
	return ret;
}

int snap_reader_parse(struct snap_reader *r, const void *buf, size_t len, const char *label,
		      char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->path = strdup(label ? label : "(buffer)");
	r->buf = malloc(len ? len : 1);
	if (!r->path || !r->buf) {
		snap_reader_close(r);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(r->buf, buf, len);
	r->size = len;
	return reader_check(r, err, errlen);
}

int snap_reader_open(struct snap_reader *r, const char *path, size_t max_size,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	if (!max_size)
		max_size = SNAP_STATE_MAX_SIZE;
	r->path = strdup(path);
	if (!r->path) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		errbuf_set(err, errlen, "%s: not a regular file", path);
		goto fail_fd;
	}
	if ((uint64_t)st.st_size > max_size) {
		ret = -EFBIG;
		errbuf_set(err, errlen, "%s: %lld bytes, more than the %zu a state file may have",
			   path, (long long)st.st_size, max_size);
		goto fail_fd;
	}
	r->size = (size_t)st.st_size;
	r->buf = malloc(r->size ? r->size : 1);
	if (!r->buf) {
		ret = -ENOMEM;
		errbuf_set(err, errlen, "out of memory");
		goto fail_fd;
	}
	while (got < r->size) {
		ssize_t n = pread(fd, r->buf + got, r->size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			errbuf_set(err, errlen, "%s: read failed: %s", path, strerror(errno));
			goto fail_fd;
		}
		if (n == 0)
			break; /* shrank under us: parse what is there, it will say truncated */
		got += (size_t)n;
	}
	r->size = got;
	close(fd);
	return reader_check(r, err, errlen);
fail_fd:
	close(fd);
fail:
	snap_reader_close(r);
	return ret;
}

const struct snap_section *snap_reader_find(const struct snap_reader *r, const char *name)
{
	for (unsigned int i = 0; i < r->nsections; i++)
		if (strcmp(r->sections[i].name, name) == 0)
			return &r->sections[i];
	return NULL;
}

int snap_reader_need(const struct snap_reader *r, const char *name,
		     const struct snap_section **section, char *err, size_t errlen)
{
	*section = snap_reader_find(r, name);
	if (!*section) {
		errbuf_set(err, errlen, "%s: no section '%s'", r->path, name);
		return -ENOENT;
	}
	return 0;
}

void snap_reader_close(struct snap_reader *r)
{
	free(r->path);
	free(r->buf);
	free(r->sections);
	memset(r, 0, sizeof(*r));
}
