// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening images and the checks every request passes before a format
 * driver sees it.
 *
 * blk_open() opens the file, refuses what is not a regular file or block
 * device, recognises the format (qcow2 by its magic; a few other formats by
 * theirs, only to name them in a clear refusal; everything else is raw),
 * takes QEMU-compatible locks, and hands over to the driver, which may open
 * a backing file through blk_open_backing(). The backing chain is walked
 * with the (device, inode) of every file in it, so a loop is named instead
 * of recursing, and its depth is bounded.
 *
 * The public calls check ranges and read-only-ness here, once, so drivers
 * see only requests inside the image.
 *
 * A format is recognised only when the user did not name one. An image
 * recognised as raw that way is guarded: its first BLK_PROBE_BYTES belong
 * to the guest, and a guest that wrote a qcow2 header there (naming, say,
 * /etc/shadow as its backing file) would have it believed at the next open.
 * So a write that reaches into those bytes is refused (-EPERM, the guest
 * sees an I/O error) when the sector it leaves behind would no longer be
 * recognised as raw, as QEMU does for probed raw images; blk_map() sends
 * such writes down the checked path. Naming the format (image_type=raw)
 * lifts the guard: then the bytes mean nothing to us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/blk_int.h"
#include "base/log.h"

struct format_magic {
	uint64_t offset;
	const char *magic;
	size_t len;
	const char *name;
};

/* Formats we do not read, recognised only to refuse them by name. */
static const struct format_magic foreign_formats[] = {
	{ 0, "KDMV", 4, "vmdk" },
	{ 0, "# Disk DescriptorFile", 21, "vmdk (descriptor)" },
	{ 0, "QED\0", 4, "qed" },
	{ 0, "vhdxfile", 8, "vhdx" },
	{ 0, "conectix", 8, "vpc (vhd)" },
	{ 0x40, "\x7f\x10\xda\xbe", 4, "vdi" },
	{ 0, "LUKS\xba\xbe", 6, "luks" },
};

static const char qcow2_magic[4] = { 'Q', 'F', 'I', (char)0xfb };

/*
 * What the first N bytes of an image say it is: BLK_FORMAT_QCOW2, or
 * BLK_FORMAT_RAW with *foreign NULL, or a format we refuse, named in
 * *foreign.
 */
static int probe_bytes(const uint8_t *head, size_t n, const char **foreign)
{
	*foreign = NULL;
	if (n >= 4 && !memcmp(head, qcow2_magic, 4))
		return BLK_FORMAT_QCOW2;
	for (size_t i = 0; i < ARRAY_SIZE(foreign_formats); i++) {
		const struct format_magic *m = &foreign_formats[i];

		if ((uint64_t)n >= m->offset + m->len &&
		    !memcmp(head + m->offset, m->magic, m->len)) {
			*foreign = m->name;
			return BLK_FORMAT_RAW;
		}
	}
	return BLK_FORMAT_RAW;
}

static int probe_format(int fd, int *format, char *err, size_t errlen)
{
	uint8_t head[BLK_PROBE_BYTES];
	const char *foreign;
	ssize_t n;

	do {
		n = pread(fd, head, sizeof(head), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		errbuf_set(err, errlen, "cannot read: %s", strerror(errno));
		return -errno;
	}
	*format = probe_bytes(head, (size_t)n, &foreign);
	if (foreign) {
		errbuf_set(err, errlen,
			   "%s images are not supported (convert with qemu-img convert -O qcow2)",
			   foreign);
		return -ENOTSUP;
	}
	return 0;
}

/*
 * A write of LEN bytes at OFF to a probed raw image: would its first
 * BLK_PROBE_BYTES still be recognised as raw afterwards? 0 if so (or if
 * the write does not reach them), -EPERM if not.
 */
static int probe_guard(struct blk *b, uint64_t off, const struct iovec *iov, int iovcnt,
		       uint64_t len)
{
	uint8_t head[BLK_PROBE_BYTES] = { 0 };
	uint64_t n, keep = b->size < sizeof(head) ? b->size : sizeof(head);
	const char *foreign;
	int ret;

	if (off >= keep)
		return 0;
	ret = b->drv->read(b, 0, &(struct iovec){ head, keep }, 1, keep);
	if (ret)
		return ret;
	n = len < keep - off ? len : keep - off;
	iov_to_buf(iov, iovcnt, 0, head + off, n);
	if (probe_bytes(head, keep, &foreign) == BLK_FORMAT_RAW && !foreign)
		return 0;
	if (!b->warned_probe)
		pr_warn("%s: refused a guest write that would make the image's first sector "
			"look like %s; the format was guessed as raw (give image_type=raw to "
			"allow it)", b->path, foreign ? foreign : "qcow2");
	b->warned_probe = true;
	return -EPERM;
}

/*
 * Opens the file without following it into a FIFO or device that would
 * block (O_NONBLOCK until we know what it is).
 */
static int open_image_file(struct blk *b, const char *path, char *err, size_t errlen)
{
	int flags = (b->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int fd;

	fd = open(path, flags | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		errbuf_set(err, errlen, "cannot open: %s", strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		errbuf_set(err, errlen, "cannot stat: %s", strerror(e));
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		errbuf_set(err, errlen, "not a regular file or block device");
		close(fd);
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, flags & ~O_CLOEXEC) < 0) {
		int e = errno;

		errbuf_set(err, errlen, "fcntl: %s", strerror(e));
		close(fd);
		return -e;
	}
	b->fd = fd;
	b->is_blockdev = S_ISBLK(st.st_mode);
	b->file_size = (uint64_t)st.st_size;
	if (b->is_blockdev) {
		uint64_t bytes;

		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
			int e = errno;

			errbuf_set(err, errlen, "BLKGETSIZE64: %s", strerror(e));
			return -e;
		}
		b->file_size = bytes;
	}
	return 0;
}

static int open_direct(struct blk *b, char *err, size_t errlen)
{
	int flags = (b->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT;

	b->dio_fd = open(b->path, flags);
	if (b->dio_fd < 0) {
		int e = errno;

		errbuf_set(err, errlen, "cannot open with O_DIRECT%s: %s",
			   e == EINVAL ? " (not supported by this file system)" : "",
			   strerror(e));
		return -e;
	}
	return 0;
}

/* Refuses a file already in the chain; adds it otherwise. */
static int chain_add(struct blk_chain *chain, int fd, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		errbuf_set(err, errlen, "cannot stat: %s", strerror(errno));
		return -errno;
	}
	for (unsigned i = 0; i < chain->depth; i++) {
		if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
			errbuf_set(err, errlen,
				   "backing file loop: this file is already in the chain");
			return -ELOOP;
		}
	}
	if (chain->depth > BLK_MAX_CHAIN_DEPTH) {
		errbuf_set(err, errlen, "backing chain deeper than %d files",
			   BLK_MAX_CHAIN_DEPTH);
		return -ELOOP;
	}
	chain->dev[chain->depth] = st.st_dev;
	chain->ino[chain->depth] = st.st_ino;
	chain->depth++;
	return 0;
}

static void blk_free(struct blk *b)
{
	if (b->fd >= 0) {
		blk_unlock_image(b->fd);
		close(b->fd);
	}
	if (b->dio_fd >= 0)
		close(b->dio_fd);
	free(b->path);
	free(b);
}

/*
 * Opens PATH as one link of a chain. The message in ERR is prefixed with
 * the path by the caller (blk_open) or the overlay (blk_open_backing).
 */
static int blk_open_chain(const char *path, bool readonly, int format,
			  struct blk_chain *chain, struct blk **out, char *err,
			  size_t errlen)
{
	struct blk *b;
	int ret;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->fd = -1;
	b->dio_fd = -1;
	b->readonly = readonly;
	b->path = strdup(path);
	if (!b->path) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = open_image_file(b, path, err, errlen);
	if (ret)
		goto fail;
	ret = chain_add(chain, b->fd, err, errlen);
	if (ret)
		goto fail;
	if (format == BLK_FORMAT_AUTO) {
		ret = probe_format(b->fd, &format, err, errlen);
		if (ret)
			goto fail;
		b->probed_raw = format == BLK_FORMAT_RAW;
	}
	switch (format) {
	case BLK_FORMAT_RAW:
		b->drv = &blk_raw_driver;
		break;
	case BLK_FORMAT_QCOW2:
		b->drv = &blk_qcow2_driver;
		break;
	default:
		errbuf_set(err, errlen, "unknown format %d", format);
		ret = -EINVAL;
		goto fail;
	}
	/* qcow2 grows its file: it needs QEMU's "resize" permission too. */
	ret = blk_lock_image(b->fd, !readonly, format == BLK_FORMAT_QCOW2, err, errlen);
	if (ret)
		goto fail;
	if (chain->direct) {
		ret = open_direct(b, err, errlen);
		if (ret)
			goto fail;
	}
	ret = b->drv->open(b, chain, err, errlen);
	if (ret)
		goto fail;
	/* Said once the image is open: a refused open has its own message. */
	if (b->probed_raw && !readonly)
		pr_warn("%s: no format given and none recognised: raw, guessed; a guest "
			"write that would make the first sector look like another format is "
			"refused (give image_type=raw to say it is raw)", path);
	*out = b;
	return 0;
fail:
	blk_free(b);
	return ret;
}

/* Puts PREFIX before the message already in ERR. */
static void err_prefix(char *err, size_t errlen, const char *prefix)
{
	char *tmp;

	if (!err || !errlen)
		return;
	tmp = strdup(err);
	if (tmp)
		errbuf_set(err, errlen, "%s: %s", prefix, tmp);
	free(tmp);
}

int blk_open(const char *path, const struct blk_open_opts *o, struct blk **out,
	     char *err, size_t errlen)
{
	static const struct blk_open_opts defaults;
	struct blk_chain chain = { 0 };
	int ret;

	if (!o)
		o = &defaults;
	if (err && errlen)
		err[0] = '\0';
	chain.direct = o->direct;
	chain.no_backing = o->no_backing;
	ret = blk_open_chain(path, o->readonly, o->format, &chain, out, err, errlen);
	if (ret)
		err_prefix(err, errlen, path);
	return ret;
}

/* True for names like "nbd://..." or "json:{...}" that QEMU resolves itself. */
static bool is_protocol_name(const char *name)
{
	const char *colon = strchr(name, ':');
	const char *slash = strchr(name, '/');

	if (!colon || (slash && slash < colon))
		return false;
	for (const char *p = name; p < colon; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.'))
			return false;
	}
	return colon > name;
}

int blk_open_backing(struct blk *overlay, const char *name, int format,
		     struct blk_chain *chain, struct blk **out, char *err,
		     size_t errlen)
{
	const char *slash;
	char *path;
	int ret;

	if (chain->no_backing) {
		errbuf_set(err, errlen,
			   "image has a backing file ('%s') and backing files are refused here",
			   name);
		return -EPERM;
	}
	if (!name[0]) {
		errbuf_set(err, errlen, "backing file name is empty");
		return -EINVAL;
	}
	if (is_protocol_name(name)) {
		errbuf_set(err, errlen, "backing file '%s' uses a protocol we do not support",
			   name);
		return -ENOTSUP;
	}
	slash = strrchr(overlay->path, '/');
	if (name[0] == '/' || !slash) {
		path = strdup(name);
	} else {
		int dirlen = (int)(slash - overlay->path);

		if (asprintf(&path, "%.*s/%s", dirlen, overlay->path, name) < 0)
			path = NULL;
	}
	if (!path)
		return -ENOMEM;
	ret = blk_open_chain(path, true, format, chain, out, err, errlen);
	/* Name only the file that failed, not every link above it. */
	if (ret && !chain->err_named) {
		char *prefix;

		if (asprintf(&prefix, "backing file %s", path) >= 0) {
			err_prefix(err, errlen, prefix);
			free(prefix);
		}
		chain->err_named = true;
	}
	free(path);
	return ret;
}

void blk_close(struct blk *b)
{
	if (!b)
		return;
	if (!b->readonly) {
		int ret = b->drv->flush(b);

		if (ret)
			pr_err("%s: flush on close failed: %s", b->path, strerror(-ret));
	}
	b->drv->close(b);
	blk_free(b);
}

uint64_t blk_size(const struct blk *b) { return b->size; }
bool blk_is_readonly(const struct blk *b) { return b->readonly; }
const char *blk_format_name(const struct blk *b) { return b->drv->name; }
bool blk_format_guessed(const struct blk *b) { return b->probed_raw; }
const char *blk_path(const struct blk *b) { return b->path; }

static bool range_ok(const struct blk *b, uint64_t off, uint64_t len)
{
	return off <= b->size && len <= b->size - off;
}

int blk_read(struct blk *b, uint64_t off, const struct iovec *iov, int iovcnt)
{
	uint64_t len = iov_length(iov, iovcnt);

	if (iovcnt < 0 || !range_ok(b, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	return b->drv->read(b, off, iov, iovcnt, len);
}

int blk_read_clamped(struct blk *b, uint64_t off, const struct iovec *iov,
		     int iovcnt, uint64_t len)
{
	uint64_t inside = 0;
	int ret;

	if (off < b->size)
		inside = len < b->size - off ? len : b->size - off;
	if (inside) {
		ret = b->drv->read(b, off, iov, iovcnt, inside);
		if (ret)
			return ret;
	}
	iov_zero(iov, iovcnt, inside, len - inside);
	return 0;
}

int blk_write(struct blk *b, uint64_t off, const struct iovec *iov, int iovcnt)
{
	uint64_t len = iov_length(iov, iovcnt);

	if (b->readonly)
		return -EROFS;
	if (iovcnt < 0 || !range_ok(b, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	if (b->probed_raw) {
		int ret = probe_guard(b, off, iov, iovcnt, len);

		if (ret)
			return ret;
	}
	return b->drv->write(b, off, iov, iovcnt, len);
}

/*
 * A failed flush is remembered: the kernel may have dropped the dirty pages
 * it could not write back and forgotten the error, so a second fdatasync
 * would succeed over lost data. From the first failure on, every flush of
 * the image fails with that error (QEMU does the same); only reopening the
 * image, after the user has looked at the host, clears it.
 */
int blk_flush(struct blk *b)
{
	int ret;

	if (b->readonly)
		return 0;
	if (b->flush_err)
		return b->flush_err;
	ret = b->drv->flush(b);
	if (ret) {
		pr_err("%s: flush failed: %s; every later flush of this image fails too",
		       b->path, strerror(-ret));
		b->flush_err = ret;
	}
	return ret;
}

int blk_discard(struct blk *b, uint64_t off, uint64_t len)
{
	if (b->readonly)
		return -EROFS;
	if (!range_ok(b, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	return b->drv->discard(b, off, len);
}

int blk_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap)
{
	if (b->readonly)
		return -EROFS;
	if (!range_ok(b, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	return b->drv->write_zeroes(b, off, len, may_unmap);
}

int blk_map(struct blk *b, uint64_t off, uint64_t len, bool write,
	    struct blk_extent *ext)
{
	if (write && b->readonly)
		return -EROFS;
	if (!len || !range_ok(b, off, len))
		return -EINVAL;
	if (write && b->probed_raw && off < BLK_PROBE_BYTES) {
		/* Through blk_write() and its guard, never straight to the file. */
		ext->kind = BLK_EXTENT_OTHER;
		ext->fd = ext->dio_fd = -1;
		ext->host_off = 0;
		ext->len = len < BLK_PROBE_BYTES - off ? len : BLK_PROBE_BYTES - off;
		return 0;
	}
	return b->drv->map(b, off, len, write, ext);
}

void blk_unmap(struct blk *b)
{
	b->drv->unmap(b);
}

bool blk_map_pins(const struct blk *b)
{
	return b->drv->map_pins;
}
