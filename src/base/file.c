// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bounded whole-file reads and file:// URLs; see file.h. The size check
 * comes first so a huge or special file never gets a huge allocation.
 */
#include "base/file.h"

#include <stdbool.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

int file_read_all(const char *path, uint64_t max, uint8_t **out, size_t *len, char *err,
		  size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "'%s' is not a regular file", path);
		ret = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		errbuf_set(err, errlen, "'%s' is too large (%lld bytes, at most %llu)", path,
			   (long long)st.st_size, (unsigned long long)max);
		ret = -EFBIG;
		goto out;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		errbuf_set(err, errlen, "'%s': out of memory", path);
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			errbuf_set(err, errlen, "reading '%s' failed: %s", path,
				   n < 0 ? strerror(errno) : "the file shrank");
			free(buf);
			buf = NULL;
			goto out;
		}
		done += (size_t)n;
	}
	*out = buf;
	*len = done;
	ret = 0;
out:
	close(fd);
	return ret;
}

const char *file_url_path(const char *url)
{
	if (!url || strncmp(url, "file://", 7) || url[7] != '/')
		return NULL;
	return url + 7;
}

static int file_rw_all(int fd, uint8_t *p, size_t len, uint64_t off, bool write)
{
	while (len) {
		ssize_t n = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int file_pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	return file_rw_all(fd, buf, len, off, false);
}

int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	return file_rw_all(fd, (uint8_t *)buf, len, off, true);
}
