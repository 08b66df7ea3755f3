/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small file helpers more than one part of Phyllome needs: a bounded
 * whole-file read (kernel, initramfs, a snapshot's config.json), the one
 * URL form snapshots use (file:///DIR, as Cloud Hypervisor takes it), and
 * positioned reads and writes that survive short transfers and EINTR
 * (images, snapshot memory).
 */
#ifndef PHYLLO_FILE_H
#define PHYLLO_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Read the regular file PATH into a new buffer (*out, *len; free() it).
 * A file larger than max bytes is refused with -EFBIG before any read.
 * On error returns -errno and says why in err, naming PATH.
 */
int file_read_all(const char *path, uint64_t max, uint8_t **out, size_t *len, char *err,
		  size_t errlen);

/* The absolute path of a "file:///PATH" URL (a pointer into url), or NULL
 * for any other form. */
const char *file_url_path(const char *url);

/*
 * Exactly len bytes at off, retrying short transfers and EINTR: 0, -errno,
 * or -EIO when the file ends (read) or takes nothing (write) first.
 */
int file_pread_exact(int fd, void *buf, size_t len, uint64_t off);
int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

#endif
