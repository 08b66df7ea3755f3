// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writing snapshot state files (the format is described in snapfile.h),
 * the temporary-file-and-rename that makes them appear whole or not at
 * all, and the blob header checks every state decoder starts with.
 *
 * The writer streams: header, then each section as it comes, keeping a
 * running CRC32 of everything written so the end marker can vouch for the
 * whole file.
 */
#include "snapshot/snapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "phyllome-version.h"
#include "snapshot/snapfile_format.h"

/* --- temporary files ------------------------------------------------------ */

static void tmpfile_free(struct snap_tmpfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	free(t->path);
	free(t->tmp_name);
	free(t->final_name);
	memset(t, 0, sizeof(*t));
	t->fd = t->dir_fd = -1;
}

int snap_tmpfile_open(struct snap_tmpfile *t, const char *dir, const char *file,
		      char *err, size_t errlen)
{
	char *tmp_path = NULL;
	int ret;

	memset(t, 0, sizeof(*t));
	t->fd = t->dir_fd = -1;
	if (!file[0] || strchr(file, '/')) {
		errbuf_set(err, errlen, "snapshot file name '%s' is not a plain name", file);
		return -EINVAL;
	}
	if (asprintf(&t->path, "%s/%s", dir, file) < 0)
		t->path = NULL;
	if (asprintf(&tmp_path, "%s/.%s.XXXXXX", dir, file) < 0)
		tmp_path = NULL;
	t->final_name = strdup(file);
	if (!t->path || !tmp_path || !t->final_name) {
		ret = -ENOMEM;
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	t->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dir_fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "snapshot directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	t->fd = mkostemp(tmp_path, O_CLOEXEC); /* mode 0600 */
	if (t->fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: cannot create a temporary file: %s", t->path,
			   strerror(errno));
		goto fail;
	}
	t->tmp_name = strdup(strrchr(tmp_path, '/') + 1);
	if (!t->tmp_name) {
		ret = -ENOMEM;
		unlink(tmp_path);
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	free(tmp_path);
	return 0;
fail:
	free(tmp_path);
	tmpfile_free(t);
	return ret;
}

int snap_tmpfile_commit(struct snap_tmpfile *t, char *err, size_t errlen)
{
	int ret;

	if (fsync(t->fd) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: fsync failed: %s", t->path, strerror(errno));
		snap_tmpfile_abort(t);
		return ret;
	}
	if (renameat(t->dir_fd, t->tmp_name, t->dir_fd, t->final_name) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: cannot rename the finished file into place: %s",
			   t->path, strerror(errno));
		snap_tmpfile_abort(t);
		return ret;
	}
	/* The rename is durable only once the directory is. */
	ret = fsync(t->dir_fd) < 0 ? -errno : 0;
	if (ret < 0)
		errbuf_set(err, errlen, "%s: fsync of its directory failed: %s", t->path,
			   strerror(-ret));
	tmpfile_free(t);
	return ret;
}

void snap_tmpfile_abort(struct snap_tmpfile *t)
{
	if (t->dir_fd >= 0 && t->fd >= 0 && t->tmp_name)
		unlinkat(t->dir_fd, t->tmp_name, 0);
	tmpfile_free(t);
}

/* --- writer ---------------------------------------------------------------- */

static void writer_free(struct snap_writer *w)
{
	free(w->names);
	w->names = NULL;
	w->names_cap = w->nsections = 0;
}

static int writer_put(struct snap_writer *w, const void *data, size_t len, char *err,
		      size_t errlen)
{
	const uint8_t *p = data;
	size_t left = len;

	while (left) {
		ssize_t n = write(w->file.fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int ret = n < 0 ? -errno : -EIO;

			errbuf_set(err, errlen, "%s: write failed: %s", w->file.path, strerror(-ret));
			return ret;
		}
		p += n;
		left -= (size_t)n;
	}
	w->file_crc = crc_update(w->file_crc, data, len);
	w->offset += len;
	return 0;
}

int snap_writer_open(struct snap_writer *w, const char *dir, const char *file,
		     char *err, size_t errlen)
{
	uint8_t hdr[FILE_HEADER_SIZE] = { 0 };
	char producer[PRODUCER_FIELD];
	int ret;

	memset(w, 0, sizeof(*w));
	ret = snap_tmpfile_open(&w->file, dir, file, err, errlen);
	if (ret < 0)
		return ret;
	memcpy(hdr + FH_MAGIC, FILE_MAGIC, 8);
	put32(hdr + FH_VERSION, SNAP_FORMAT_VERSION);
	put32(hdr + FH_SIZE, FILE_HEADER_SIZE);
	memcpy(hdr + FH_ARCH, SNAP_HOST_ARCH, strlen(SNAP_HOST_ARCH));
	snprintf(producer, sizeof(producer), "phyllome %s", PHYLLOME_VERSION);
	memcpy(hdr + FH_PRODUCER, producer, strlen(producer));
	put32(hdr + FH_CRC, crc_of(hdr, FH_CRC));
	w->file_crc = (uint32_t)crc32(0, Z_NULL, 0);
	ret = writer_put(w, hdr, sizeof(hdr), err, errlen);
	if (ret < 0)
		snap_writer_abort(w);
	return ret;
}

static int remember_name(struct snap_writer *w, const char *name, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < w->nsections; i++) {
		if (strcmp(w->names[i], name) == 0) {
			errbuf_set(err, errlen, "%s: section '%s' added twice", w->file.path, name);
			return -EEXIST;
		}
	}
	if (w->nsections >= SNAP_MAX_SECTIONS) {
		errbuf_set(err, errlen, "%s: more than %u sections", w->file.path,
			   SNAP_MAX_SECTIONS);
		return -E2BIG;
	}
	if (w->nsections == w->names_cap) {
		unsigned int cap = w->names_cap ? w->names_cap * 2 : 16;
		void *p = realloc(w->names, cap * sizeof(w->names[0]));

		if (!p) {
			errbuf_set(err, errlen, "out of memory");
			return -ENOMEM;
		}
		w->names = p;
		w->names_cap = cap;
	}
	snprintf(w->names[w->nsections], sizeof(w->names[0]), "%s", name);
	return 0;
}

static void section_header(uint8_t *h, const char *name, uint64_t len, uint32_t crc)
{
	memset(h, 0, SECTION_HEADER_SIZE);
	memcpy(h + SH_NAME, name, strlen(name));
	put64(h + SH_LEN, len);
	put32(h + SH_CRC, crc);
	put32(h + SH_HCRC, crc_of(h, SH_HCRC));
}

int snap_writer_add(struct snap_writer *w, const char *name, const void *data, size_t len,
		    char *err, size_t errlen)
{
	static const uint8_t zeros[8];
	uint8_t h[SECTION_HEADER_SIZE];
	int ret;

	if (w->file.fd < 0) {
		errbuf_set(err, errlen, "snapshot writer is not open");
		return -EBADF;
	}
	if (!name_valid(name)) {
		errbuf_set(err, errlen, "%s: invalid section name '%s' (1-%d of A-Z a-z 0-9 . _ -)",
			   w->file.path, name, SNAP_NAME_MAX);
		return -EINVAL;
	}
	if (len && !data)
		return -EINVAL;
	ret = remember_name(w, name, err, errlen);
	if (ret < 0)
		return ret;
	section_header(h, name, len, crc_of(data, len));
	ret = writer_put(w, h, sizeof(h), err, errlen);
	if (ret == 0 && len)
		ret = writer_put(w, data, len, err, errlen);
	if (ret == 0 && (len & 7))
		ret = writer_put(w, zeros, 8 - (len & 7), err, errlen);
	if (ret < 0)
		return ret;
	w->nsections++;
	return 0;
}

int snap_writer_finish(struct snap_writer *w, char *err, size_t errlen)
{
	uint8_t h[SECTION_HEADER_SIZE];
	int ret;

	if (w->file.fd < 0) {
		errbuf_set(err, errlen, "snapshot writer is not open");
		return -EBADF;
	}
	section_header(h, "", w->nsections, w->file_crc);
	ret = writer_put(w, h, sizeof(h), err, errlen);
	if (ret < 0) {
		snap_writer_abort(w);
		return ret;
	}
	writer_free(w);
	return snap_tmpfile_commit(&w->file, err, errlen);
}

void snap_writer_abort(struct snap_writer *w)
{
	snap_tmpfile_abort(&w->file);
	writer_free(w);
}

/* --- blobs ----------------------------------------------------------------- */

void snap_blob_header_init(struct snap_blob_header *h, const char kind[4], uint32_t version,
			   size_t size, uint32_t flags)
{
	memcpy(h->kind, kind, 4);
	h->version = version;
	h->size = (uint32_t)size;
	h->flags = flags;
}

int snap_blob_check(const void *buf, size_t len, const char kind[4], uint32_t max_version,
		    size_t min_size, const char *what, struct snap_blob_header *h,
		    char *err, size_t errlen)
{
	if (len < sizeof(*h)) {
		errbuf_set(err, errlen, "%s: %zu bytes, too short for any state", what, len);
		return -EBADMSG;
	}
	memcpy(h, buf, sizeof(*h));
	if (memcmp(h->kind, kind, 4) != 0) {
		errbuf_set(err, errlen, "%s: holds no %.4s state", what, kind);
		return -EBADMSG;
	}
	if (h->version == 0) {
		errbuf_set(err, errlen, "%s: %.4s state version 0 is invalid", what, kind);
		return -EBADMSG;
	}
	if (h->version > max_version) {
		errbuf_set(err, errlen, "%s: %.4s state version %u is newer than this phyllome "
			   "reads (%u)", what, kind, h->version, max_version);
		return -ENOTSUP;
	}
	if (h->size != len || len < min_size) {
		errbuf_set(err, errlen, "%s: %.4s state of %zu bytes, its header says %u (at least "
			   "%zu expected)", what, kind, len, h->size, min_size);
		return -EBADMSG;
	}
	return 0;
}
