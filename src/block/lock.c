// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Image locking compatible with QEMU, so QEMU and phyllo-vmm never both
 * write one image (and neither reads an image the other is changing).
 *
 * QEMU (block/file-posix.c) expresses "permissions" on an image as shared
 * OFD byte-range locks on single bytes of the image file:
 *
 *   byte 100 + p   held by whoever uses permission p
 *   byte 200 + p   held by whoever does NOT share permission p with others
 *
 * with p = 0 consistent read, 1 write, 2 write-unchanged, 3 resize. All
 * locks are read (shared) locks, so they never conflict among themselves;
 * a conflict is found by asking F_OFD_GETLK whether a *write* lock on the
 * byte would be refused, which it is exactly when another open file
 * description holds a lock there. Measured with QEMU 7.2's qemu-io: a
 * writer of a qcow2 image holds 100, 101, 103 and 201, 203; a reader holds
 * 100 and 201, 203 (it refuses to share write and resize).
 *
 * We take the same: a writer uses consistent-read + write (+ resize for
 * formats that grow the file) and shares only consistent-read and
 * write-unchanged; a reader uses consistent-read and shares the same. So a
 * writer excludes every other user, readers coexist with readers. Like
 * QEMU we first take our locks, then look for conflicts (two racing openers
 * then both fail rather than both succeed). OFD locks belong to the open
 * file description and go away when its last reference does: a close()
 * is not always that (an io_uring request that has just completed, or a
 * child forked meanwhile, may hold the description a little longer), so
 * blk_unlock_image() drops them explicitly before the image's close, and
 * the same process can open the image again at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "block/blk_int.h"
#include "base/log.h"

enum qemu_perm {
	PERM_CONSISTENT_READ,
	PERM_WRITE,
	PERM_WRITE_UNCHANGED,
	PERM_RESIZE,
	PERM_COUNT,
};

#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200

static const char *const perm_names[PERM_COUNT] = {
	"consistent read", "write", "write unchanged", "resize",
};

static int ofd_lock(int fd, int cmd, short type, off_t byte, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = byte;
	fl->l_len = 1;
	if (fcntl(fd, cmd, fl) < 0)
		return -errno;
	return 0;
}

/* Returns 1 if another file description holds a lock on BYTE, 0 if not. */
static int byte_is_locked_by_others(int fd, off_t byte)
{
	struct flock fl;
	int ret = ofd_lock(fd, F_OFD_GETLK, F_WRLCK, byte, &fl);

	if (ret)
		return ret;
	return fl.l_type != F_UNLCK;
}

static bool locking_unsupported(int err)
{
	return err == -EINVAL || err == -ENOLCK || err == -EOPNOTSUPP || err == -ENOSYS;
}

int blk_lock_image(int fd, bool writable, bool resizable, char *err, size_t errlen)
{
	unsigned used = 1u << PERM_CONSISTENT_READ;
	unsigned shared = 1u << PERM_CONSISTENT_READ | 1u << PERM_WRITE_UNCHANGED;
	struct flock fl;
	int ret;

	if (writable)
		used |= 1u << PERM_WRITE;
	if (writable && resizable)
		used |= 1u << PERM_RESIZE;

	for (int p = 0; p < PERM_COUNT; p++) {
		if (used & (1u << p)) {
			ret = ofd_lock(fd, F_OFD_SETLK, F_RDLCK, LOCK_PERM_BASE + p, &fl);
			if (ret)
				goto set_failed;
		}
		if (!(shared & (1u << p))) {
			ret = ofd_lock(fd, F_OFD_SETLK, F_RDLCK, LOCK_SHARED_BASE + p, &fl);
			if (ret)
				goto set_failed;
		}
	}

	for (int p = 0; p < PERM_COUNT; p++) {
		if (used & (1u << p)) {
			ret = byte_is_locked_by_others(fd, LOCK_SHARED_BASE + p);
			if (ret < 0)
				goto set_failed;
			if (ret) {
				errbuf_set(err, errlen,
					   "image is locked by another process (it does not share the \"%s\" permission we need)",
					   perm_names[p]);
				return -EBUSY;
			}
		}
		if (!(shared & (1u << p))) {
			ret = byte_is_locked_by_others(fd, LOCK_PERM_BASE + p);
			if (ret < 0)
				goto set_failed;
			if (ret) {
				errbuf_set(err, errlen,
					   "image is locked by another process (it holds the \"%s\" permission)",
					   perm_names[p]);
				return -EBUSY;
			}
		}
	}
	return 0;

set_failed:
	if (locking_unsupported(ret)) {
		pr_warn("image locking is not supported here (%s); opening without it",
			strerror(-ret));
		return 0;
	}
	if (ret == -EAGAIN || ret == -EACCES) {
		/* Someone holds a write lock on the byte: not QEMU, but in use. */
		errbuf_set(err, errlen, "image is locked by another process");
		return -EBUSY;
	}
	errbuf_set(err, errlen, "cannot lock image: %s", strerror(-ret));
	return ret;
}

void blk_unlock_image(int fd)
{
	struct flock fl = {
		.l_type = F_UNLCK,
		.l_whence = SEEK_SET,
		.l_start = LOCK_PERM_BASE,
		.l_len = LOCK_SHARED_BASE + PERM_COUNT - LOCK_PERM_BASE,
	};

	/* Nothing to do where locking is unsupported; errors change nothing. */
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}
