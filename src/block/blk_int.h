/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the image formats share and the rest of Phyllome does not see:
 * the driver ops a format implements, the open file behind an image,
 * iovec and file I/O helpers, the gate that keeps clusters alive during
 * I/O, and QEMU-compatible image locking.
 *
 * blk.c checks every request (range, read-only) before it reaches a
 * driver, so drivers only see requests that lie inside the image.
 */
#ifndef PHYLLO_BLOCK_BLK_INT_H
#define PHYLLO_BLOCK_BLK_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <sys/types.h>

#include "base/file.h"
#include "base/iov.h"
#include "base/log.h"
#include "block/blk.h"

/* O_DIRECT I/O goes to the direct descriptor only when this aligned. */
#define BLK_DIO_ALIGN 4096

/* The files of one backing chain, to refuse loops and bound the depth. */
struct blk_chain {
	unsigned depth;
	dev_t dev[BLK_MAX_CHAIN_DEPTH + 1];
	ino_t ino[BLK_MAX_CHAIN_DEPTH + 1];
	bool direct;
	bool no_backing;
	bool err_named;		/* the error already names the failing file */
};

struct blk_driver {
	const char *name;
	bool map_pins;		/* a DATA extent holds the image until blk_unmap() */
	/* Called with b->fd open and locked; ERR gets the reason on failure. */
	int (*open)(struct blk *b, struct blk_chain *chain, char *err, size_t errlen);
	void (*close)(struct blk *b);
	int (*read)(struct blk *b, uint64_t off, const struct iovec *iov, int iovcnt,
		    uint64_t len);
	int (*write)(struct blk *b, uint64_t off, const struct iovec *iov, int iovcnt,
		     uint64_t len);
	int (*flush)(struct blk *b);
	int (*discard)(struct blk *b, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk *b, uint64_t off, uint64_t len, bool may_unmap);
	int (*map)(struct blk *b, uint64_t off, uint64_t len, bool write,
		   struct blk_extent *ext);
	void (*unmap)(struct blk *b);
};

extern const struct blk_driver blk_raw_driver;
extern const struct blk_driver blk_qcow2_driver;

struct blk {
	const struct blk_driver *drv;
	char *path;
	int fd;			/* buffered descriptor; holds the image locks */
	int dio_fd;		/* O_DIRECT descriptor of the same file, or -1 */
	bool readonly;
	bool is_blockdev;
	bool probed_raw;	/* raw by guess: the first sector is guarded (blk.c) */
	bool warned_probe;
	int flush_err;		/* the first failed flush's -errno: sticky */
	uint64_t size;		/* virtual size, set by the driver's open */
	uint64_t file_size;	/* host file (or device) size at open */
	void *priv;		/* the driver's state */
};

/*
 * Opens a backing file NAME of OVERLAY read-only (FORMAT as named by the
 * overlay, or BLK_FORMAT_AUTO). A relative NAME is relative to the
 * directory of the overlay's path.
 */
int blk_open_backing(struct blk *overlay, const char *name, int format,
		     struct blk_chain *chain, struct blk **out, char *err,
		     size_t errlen);

/* Reads [off, off+len) of B; the part past blk_size(B) reads as zeros. */
int blk_read_clamped(struct blk *b, uint64_t off, const struct iovec *iov,
		     int iovcnt, uint64_t len);

/* ---- iovec helpers: base/iov.h, and a scratch array (util.c) ---- */
/* A scratch iovec array as long as a request's, on the stack when short. */
struct iov_scratch {
	struct iovec small[16];
	struct iovec *v;
};
int iov_scratch_init(struct iov_scratch *s, int iovcnt);
void iov_scratch_free(struct iov_scratch *s);

/* ---- file I/O (util.c); all loop over short transfers and EINTR ---- */
/* Metadata: base/file.h's file_pread_exact and file_pwrite_all (a short
 * read means a damaged image). */
/* Data: reads past end of file return zeros. Uses B's O_DIRECT fd if aligned. */
int blk_data_preadv(struct blk *b, uint64_t host_off, const struct iovec *iov,
		    int iovcnt, uint64_t len);
int blk_data_pwritev(struct blk *b, uint64_t host_off, const struct iovec *iov,
		     int iovcnt, uint64_t len);
int blk_data_pread(struct blk *b, uint64_t host_off, void *buf, uint64_t len);
int blk_data_pwrite(struct blk *b, uint64_t host_off, const void *buf, uint64_t len);
int file_datasync(int fd);

/*
 * ---- the cluster gate (util.c) ----
 * Data I/O holds the gate shared from mapping a cluster until the I/O on
 * it completes; code that frees clusters holds it exclusive, so a freed
 * cluster is never reused under a read or write still in flight. A
 * pthread rwlock would do, but blk_unmap() may come from another thread
 * than blk_map(), which an rwlock does not allow.
 */
struct blk_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned shared;
	unsigned exclusive_waiting;
	bool exclusive;
};
void blk_gate_init(struct blk_gate *g);
void blk_gate_destroy(struct blk_gate *g);
void blk_gate_enter_shared(struct blk_gate *g);
void blk_gate_leave_shared(struct blk_gate *g);
void blk_gate_enter_exclusive(struct blk_gate *g);
void blk_gate_leave_exclusive(struct blk_gate *g);

/* ---- image locking (lock.c) ---- */
int blk_lock_image(int fd, bool writable, bool resizable, char *err, size_t errlen);
/* Drops FD's image locks now, whoever else still holds its description. */
void blk_unlock_image(int fd);

#endif
