// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Image import, removal and recovery (image.h says what and why).
 *
 * The copy is ours (a read/write loop that hashes each chunk with
 * nettle's SHA-256 and seeks over all-zero chunks so sparse images stay
 * sparse); the checks of what was copied are the block layer's, the same
 * code that will serve the image to a guest, so an image that imports
 * is one phyllo-vmm can open.
 */
#include "manager/image.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "base/file.h"
#include "base/log.h"
#include "block/blk.h"

#define CHUNK (1u << 20)
#define TMP_PREFIX ".import-"

void image_default_tag(const char *path, char *out, size_t outlen)
{
	static const char *const exts[] = { ".qcow2", ".qcow", ".img", ".raw", ".iso" };
	const char *base = strrchr(path, '/');
	char name[65];
	size_t n = 0, len;

	base = base ? base + 1 : path;
	len = strlen(base);
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t el = strlen(exts[i]);

		if (len > el && strcasecmp(base + len - el, exts[i]) == 0) {
			len -= el;
			break;
		}
	}
	for (size_t i = 0; i < len && n < sizeof(name) - 1; i++) {
		char c = (char)tolower((unsigned char)base[i]);

		if (n == 0 && !isalnum((unsigned char)c))
			continue;
		name[n++] = (isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-') ? c : '-';
	}
	name[n] = '\0';
	snprintf(out, outlen, "%s:latest", n ? name : "image");
}

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Copy src to dst (both open), hashing; holes for zero chunks. */
static int copy_hash(int src, int dst, uint64_t size, const struct image_import_req *req,
		     char hex[STORE_ID_LEN + 1], char *err, size_t errlen)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t *buf = malloc(CHUNK), digest[SHA256_DIGEST_SIZE];
	struct sha256_ctx sha;
	uint64_t off = 0;
	int ret = 0;

	if (!buf) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sha256_init(&sha);
	while (off < size) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;

		ret = file_pread_exact(src, buf, n, off);
		if (ret) {
			errbuf_set(err, errlen, "%s: read at %llu: %s", req->path,
				   (unsigned long long)off,
				   ret == -EIO ? "the file shrank while it was copied" :
				   strerror(-ret));
			break;
		}
		sha256_update(&sha, n, buf);
		if (!all_zero(buf, n)) {
			ret = file_pwrite_all(dst, buf, n, off);
			if (ret) {
				errbuf_set(err, errlen, "writing the copy of %s: %s", req->path,
					   strerror(-ret));
				break;
			}
		}
		off += n;
		if (req->progress)
			req->progress(off, size, req->progress_ctx);
	}
	free(buf);
	if (ret)
		return ret;
	if (ftruncate(dst, (off_t)size) < 0 || fsync(dst) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "writing the copy of %s: %s", req->path, strerror(errno));
		return ret;
	}
	sha256_digest(&sha, sizeof(digest), digest);
	for (size_t i = 0; i < sizeof(digest); i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[STORE_ID_LEN] = '\0';
	return 0;
}

/* What the copy is, checked: fills im->format and im->virtual_size. */
static int check_copy(const char *copy, int fd, const struct image_import_req *req,
		      struct store_image *im, char *err, size_t errlen)
{
	uint8_t magic[4] = {0}, cd[5] = {0};
	bool is_qcow2, is_iso;
	const char *fmt = req->format;

	if (im->size >= 4 && file_pread_exact(fd, magic, 4, 0) < 0)
		goto io;
	if (im->size >= 0x8006 && file_pread_exact(fd, cd, 5, 0x8001) < 0)
		goto io;
	is_qcow2 = memcmp(magic, "QFI\xfb", 4) == 0;
	is_iso = memcmp(cd, "CD001", 5) == 0;
	if (!fmt)
		fmt = is_qcow2 ? "qcow2" : is_iso ? "iso" : "raw";
	if (strcmp(fmt, "qcow2") == 0) {
		struct blk_open_opts o = { .readonly = true, .format = BLK_FORMAT_QCOW2,
					   .no_backing = true };
		struct blk *b;
		char why[256];
		int ret;

		if (!is_qcow2) {
			errbuf_set(err, errlen, "%s is not a qcow2 image (no QFI magic)", req->path);
			return -EINVAL;
		}
		ret = blk_open(copy, &o, &b, why, sizeof(why));
		if (ret) {
			/* why names the copy; the user knows the original. */
			const char *w = strstr(why, copy);

			errbuf_set(err, errlen, "%s: not a usable qcow2 image: %s", req->path,
				   w ? w + strlen(copy) + (w[strlen(copy)] == ':' ? 2 : 0) : why);
			return -EINVAL;
		}
		im->virtual_size = blk_size(b);
		blk_close(b);
	} else if (strcmp(fmt, "iso") == 0) {
		if (!is_iso) {
			errbuf_set(err, errlen, "%s is not an ISO 9660 image (no CD001 at byte "
				   "32769)", req->path);
			return -EINVAL;
		}
		im->virtual_size = im->size;
	} else if (strcmp(fmt, "raw") == 0) {
		if (im->size == 0) {
			errbuf_set(err, errlen, "%s is empty", req->path);
			return -EINVAL;
		}
		im->virtual_size = im->size;
	} else {
		errbuf_set(err, errlen, "format '%s': give raw, qcow2 or iso", fmt);
		return -EINVAL;
	}
	snprintf(im->format, sizeof(im->format), "%s", fmt);
	return 0;
io:
	errbuf_set(err, errlen, "reading the copy of %s: %s", req->path, strerror(errno));
	return -EIO;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int image_import(struct store *db, const char *images_dir, const struct image_import_req *req,
		 struct store_image *out, bool *created, char *err, size_t errlen)
{
	char tag[200], tmp[4096], final[4096];
	struct store_image im = {0};
	struct stat st;
	int src = -1, dst = -1, ret;

	memset(out, 0, sizeof(*out));
	*created = false;
	if (req->format && strcmp(req->format, "raw") && strcmp(req->format, "qcow2") &&
	    strcmp(req->format, "iso")) {
		errbuf_set(err, errlen, "format '%s': give raw, qcow2 or iso", req->format);
		return -EINVAL;
	}
	if (!req->tag)
		image_default_tag(req->path, tag, sizeof(tag));
	else if ((ret = ref_normalize(req->tag, tag, sizeof(tag), err, errlen)))
		return ret;
	if (req->path[0] != '/') {
		errbuf_set(err, errlen, "'%s': the daemon takes absolute paths", req->path);
		return -EINVAL;
	}
	src = open(req->path, O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0) {
		/* The caller's path: not there, or not one we can read (a bad
		 * request, whatever open's reason). */
		ret = errno == ENOENT ? -ENOENT : -EINVAL;
		errbuf_set(err, errlen, "%s: %s", req->path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "%s is not a regular file", req->path);
		ret = -EINVAL;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/" TMP_PREFIX "XXXXXX", images_dir);
	dst = mkostemp(tmp, O_CLOEXEC);
	if (dst < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: %s", images_dir, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	im.size = (uint64_t)st.st_size;
	ret = copy_hash(src, dst, im.size, req, im.id, err, errlen);
	if (!ret)
		ret = check_copy(tmp, dst, req, &im, err, errlen);
	if (ret)
		goto out;
	snprintf(final, sizeof(final), "%s/%s.%s", images_dir, im.id, im.format);
	im.created = (int64_t)time(NULL);
	im.source = (char *)req->path;
	im.path = final;
	store_lock(db);
	ret = store_image_add(db, &im, err, errlen);
	if (ret == -EEXIST) {
		ret = 0; /* the same contents again: the tag below is all that changes */
	} else if (!ret) {
		*created = true;
		if (fchmod(dst, 0444) < 0 || rename(tmp, final) < 0 || fsync_dir(images_dir) < 0) {
			ret = -errno;
			errbuf_set(err, errlen, "%s: %s", final, strerror(errno));
			char why[256];
			if (store_image_remove(db, im.id, why, sizeof(why)))
				pr_warn("image %.12s: %s", im.id, why);
			*created = false;
			store_unlock(db);
			goto out;
		}
		tmp[0] = '\0';
		store_event(db, "image.import", im.id, "imported %s as %s (%s, %llu bytes)",
			    req->path, tag, im.format, (unsigned long long)im.size);
	}
	if (!ret)
		ret = store_tag_set(db, tag, im.id, err, errlen);
	if (!ret)
		ret = store_image_get(db, im.id, out, err, errlen);
	store_unlock(db);
out:
	if (dst >= 0)
		close(dst);
	if (src >= 0)
		close(src);
	if (tmp[0] && dst >= 0)
		unlink(tmp);
	return ret;
}

int image_tag(struct store *db, const char *ref, const char *tag, char *err, size_t errlen)
{
	char id[STORE_ID_LEN + 1], norm[200];
	int ret = ref_normalize(tag, norm, sizeof(norm), err, errlen);

	if (!ret)
		ret = store_image_resolve(db, ref, id, err, errlen);
	if (!ret)
		ret = store_tag_set(db, norm, id, err, errlen);
	if (!ret)
		store_event(db, "image.tag", id, "tagged %s", norm);
	return ret;
}

int image_remove(struct store *db, const char *ref, bool force, char id[STORE_ID_LEN + 1],
		 bool *deleted, char *err, size_t errlen)
{
	struct store_image im;
	char norm[200];
	bool by_tag;
	int ret;

	*deleted = false;
	ret = store_image_resolve(db, ref, id, err, errlen);
	if (ret)
		return ret;
	ret = store_image_get(db, id, &im, err, errlen);
	if (ret)
		return ret;
	by_tag = false;
	if (ref_normalize(ref, norm, sizeof(norm), NULL, 0) == 0) {
		for (size_t i = 0; i < im.ntags; i++)
			by_tag |= strcmp(im.tags[i], norm) == 0;
	}
	if (by_tag && !force && im.ntags > 1) {
		ret = store_tag_remove(db, norm, err, errlen);
		if (!ret)
			store_event(db, "image.untag", id, "untagged %s", norm);
		store_image_clear(&im);
		return ret;
	}
	ret = store_image_remove(db, id, err, errlen);
	if (!ret) {
		*deleted = true;
		if (unlink(im.path) < 0 && errno != ENOENT)
			pr_warn("image %.12s: removing %s: %s", id, im.path, strerror(errno));
		store_event(db, "image.remove", id, "removed");
	}
	store_image_clear(&im);
	return ret;
}

int image_recover(struct store *db, const char *images_dir)
{
	DIR *d = opendir(images_dir);
	struct dirent *e;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[4096], id[STORE_ID_LEN + 1], why[256];
		struct store_image im;
		const char *dot;
		bool orphan = false;

		if (e->d_name[0] == '.' && strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", images_dir, e->d_name);
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			orphan = true;
		} else if ((dot = strchr(e->d_name, '.')) && dot - e->d_name == STORE_ID_LEN) {
			snprintf(id, sizeof(id), "%.*s", STORE_ID_LEN, e->d_name);
			if (store_image_get(db, id, &im, why, sizeof(why)) == -ENOENT)
				orphan = true;
			else
				store_image_clear(&im);
		}
		if (orphan && unlink(path) == 0) {
			pr_info("removed %s, left by an interrupted import", path);
			removed++;
		}
	}
	closedir(d);
	return removed;
}
