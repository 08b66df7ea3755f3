/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The block layer: disk images as the virtio-blk device sees them.
 *
 * A `struct blk` is one open image (raw or qcow2, with its chain of
 * read-only backing files). The calls are synchronous and thread-safe:
 * several virtio queues, each on its own I/O thread, may call them at the
 * same time on one image. Offsets and lengths are bytes; any alignment a
 * guest must respect (sectors) is the device's business, not ours.
 *
 * Every call returns 0 or -errno. Errors about the image itself (a damaged
 * qcow2 table, a failed host write) are logged with pr_err() naming the
 * image and what is wrong, and returned as -EIO; the caller only has to
 * pass the failure on to the guest.
 *
 * Images are locked the way QEMU locks them (OFD byte-range locks, see
 * lock.c), so phyllo-vmm and QEMU never both write one image.
 */
#ifndef PHYLLO_BLOCK_BLK_H
#define PHYLLO_BLOCK_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct blk;

enum blk_format {
	BLK_FORMAT_AUTO = 0,	/* look at the first bytes: qcow2 magic or raw */
	BLK_FORMAT_RAW,
	BLK_FORMAT_QCOW2,
};

struct blk_open_opts {
	bool readonly;		/* open read-only; writes fail with -EROFS */
	bool direct;		/* O_DIRECT for aligned data I/O (see util.c) */
	int format;		/* enum blk_format */
	bool no_backing;	/* refuse images that name a backing file */
};

/* Backing chains deeper than this are refused (loops are caught earlier). */
#define BLK_MAX_CHAIN_DEPTH 32

/*
 * Opens PATH (O may be NULL: writable, buffered, format probed). On failure
 * returns -errno and writes a one-line reason into ERR, naming the file and,
 * for qcow2, the field that is wrong; -EBUSY means another process (QEMU or
 * phyllo-vmm) has the image open in a conflicting way.
 */
int blk_open(const char *path, const struct blk_open_opts *o, struct blk **out,
	     char *err, size_t errlen);
/* Flushes a writable image and closes it and its backing chain. */
void blk_close(struct blk *b);

/*
 * Creates a new qcow2 image at PATH of SIZE bytes (a multiple of 512), empty
 * or, with BACKING, an overlay reading what it has not written from that file
 * (BACKING_FMT "raw" or "qcow2", or NULL to have readers probe it; a relative
 * BACKING is relative to PATH's folder, as in QEMU). Never replaces an
 * existing file (-EEXIST). -errno and a message naming PATH on failure.
 */
int blk_create_qcow2(const char *path, uint64_t size, const char *backing,
		     const char *backing_fmt, char *err, size_t errlen);

uint64_t blk_size(const struct blk *b);	/* virtual size in bytes */
bool blk_is_readonly(const struct blk *b);
const char *blk_format_name(const struct blk *b);	/* "raw" or "qcow2" */
const char *blk_path(const struct blk *b);
/* True when the format was guessed as raw: see blk.c on the first sector. */
bool blk_format_guessed(const struct blk *b);

/* Bytes at the start of an image that say what format it is. */
#define BLK_PROBE_BYTES 512

/*
 * Whole-request I/O: the request [off, off + iov length) must lie inside
 * the image (-EINVAL otherwise); it is done completely or fails.
 */
int blk_read(struct blk *b, uint64_t off, const struct iovec *iov, int iovcnt);
int blk_write(struct blk *b, uint64_t off, const struct iovec *iov, int iovcnt);

/* Durable: everything written before the call survives a host crash. */
int blk_flush(struct blk *b);

/*
 * Discard: the range is deallocated where the format allows and reads as
 * zeros afterwards (raw: punched hole; qcow2: freed or zero-flagged
 * clusters, zeros written into partial clusters).
 */
int blk_discard(struct blk *b, uint64_t off, uint64_t len);

/*
 * The range reads as zeros afterwards. MAY_UNMAP lets the image free the
 * space (as discard does); without it the space stays allocated where the
 * format can express that.
 */
int blk_write_zeroes(struct blk *b, uint64_t off, uint64_t len, bool may_unmap);

/*
 * Mapping guest ranges to host file extents, for a device that submits its
 * own asynchronous I/O (io_uring). blk_map() describes the longest prefix of
 * [off, off + len) that has one kind:
 *
 *   BLK_EXTENT_DATA   the bytes live at [host_off, host_off + len) in fd
 *                     (dio_fd is the O_DIRECT descriptor of the same file
 *                     or -1; use it only for 4 KiB-aligned I/O). For a
 *                     write mapping, writing there is all the write takes.
 *   BLK_EXTENT_ZERO   (reads only) the bytes read as zeros.
 *   BLK_EXTENT_OTHER  anything else (backing file, compressed cluster, a
 *                     write that needs allocation): use blk_read/blk_write.
 *
 * A DATA extent is pinned: until blk_unmap(), the image frees no cluster,
 * so the extent stays valid while the device's I/O on it is in flight.
 * Call blk_unmap() exactly once per DATA extent, from any thread, when that
 * I/O has completed; ZERO and OTHER extents hold nothing. While a DATA
 * extent is pinned, the pinning thread must not call the same image's
 * blk_write(), blk_discard() or blk_write_zeroes(): they may need every pin
 * released first (freeing a cluster does), and would wait for it forever.
 * A device completes what it pinned before it serves a request the
 * synchronous way (virtio/blk.c). For raw images every extent is DATA,
 * except a write reaching the first BLK_PROBE_BYTES of an image whose
 * format was guessed (blk.c), and unmap costs nothing.
 */
enum blk_extent_kind { BLK_EXTENT_DATA, BLK_EXTENT_ZERO, BLK_EXTENT_OTHER };

struct blk_extent {
	enum blk_extent_kind kind;
	int fd;
	int dio_fd;
	uint64_t host_off;
	uint64_t len;
};

int blk_map(struct blk *b, uint64_t off, uint64_t len, bool write,
	    struct blk_extent *ext);
void blk_unmap(struct blk *b);
/*
 * The I/O of a pinned DATA extent the synchronous way, from its byte SKIP
 * on, with IOV holding the extent's bytes: what a device does with the
 * rest of an asynchronous transfer that moved only SKIP bytes (the kernel
 * may split one, as read(2) may) or that O_DIRECT refused. As everywhere
 * here, a read past the file's end reads zeros. 0 or -errno.
 */
int blk_extent_rw(const struct blk_extent *ext, uint64_t skip, const struct iovec *iov,
		  int iovcnt, bool write);
/* True when B's DATA extents pin (qcow2): see the rule above. */
bool blk_map_pins(const struct blk *b);

#endif
