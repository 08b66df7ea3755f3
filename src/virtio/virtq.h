/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device half of a virtio 1.x split virtqueue, independent of the
 * transport (PCI or MMIO) and of the device type.
 *
 * The guest driver owns the descriptor table and the available ring; we own
 * the used ring. All three live in guest RAM and the guest may rewrite any of
 * them at any time, so everything read from them is untrusted:
 *
 *   - virtq_init() checks that each ring lies wholly in RAM and is aligned
 *     as the spec requires, then keeps host pointers to the rings;
 *   - virtq_pop() reads each guest field exactly once into a local copy,
 *     validates it, and turns a descriptor chain into host iovecs, each one
 *     checked to lie in RAM. A malformed chain logs one warning, sets
 *     q->broken and returns -errno; the device should then set
 *     DEVICE_NEEDS_RESET (through its transport) and stop using the queue.
 *
 * A queue is used by one thread at a time (the device's I/O thread). The
 * transport initialises or resets it only while the device is quiesced.
 *
 * Draining a queue. A device that never calls virtq_disable_notify() just
 * pops until virtq_pop() returns 0: virtq_pop() re-arms guest notifications
 * itself before it reports an empty ring, so no kick is lost. A polling
 * device does:
 *
 *	for (;;) {
 *		virtq_disable_notify(q);
 *		while ((ret = virtq_pop(q, elem)) == 1)
 *			handle(elem);
 *		if (ret < 0)
 *			break;                      (queue broken: NEEDS_RESET)
 *		if (!virtq_enable_notify(q))
 *			break;                      (truly empty, kicks re-armed)
 *	}
 *
 * Completing. virtq_push() hands an element back; after a batch of pushes
 * virtq_should_notify() says whether the guest wants an interrupt.
 */
#ifndef PHYLLO_VIRTIO_VIRTQ_H
#define PHYLLO_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "base/iov.h"

#include "base/memory.h"

/* Largest split queue the spec allows; sizes must be powers of two. */
#define VIRTQ_MAX_SIZE 32768

/*
 * Most segments (descriptors, counting those inside an indirect table) one
 * chain may have. 1024 is the kernel's UIO_MAXIOV, so an element can always
 * go to preadv()/io_uring in one call; QEMU uses the same bound.
 */
#define VIRTQ_ELEM_MAX_SEGS 1024

/* Descriptor flags (virtio 1.2, 2.7.5). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* avail->flags without EVENT_IDX: the driver does not want interrupts. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
/* used->flags without EVENT_IDX: the device does not want kicks. */
#define VIRTQ_USED_F_NO_NOTIFY 1

/* What the transport read from the guest's common config. */
struct virtq_setup {
	uint16_t size;       /* queue_size: a power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc_gpa;   /* queue_desc: 16-byte aligned */
	uint64_t avail_gpa;  /* queue_driver: 2-byte aligned */
	uint64_t used_gpa;   /* queue_device: 4-byte aligned */
	bool event_idx;      /* VIRTIO_F_EVENT_IDX (bit 29) negotiated */
	bool indirect;       /* VIRTIO_F_INDIRECT_DESC (bit 28) negotiated */
};

struct virtq_desc;
struct virtq_avail;
struct virtq_used;

/* One split virtqueue. Fields are read-only outside virtq.c. */
struct virtq {
	struct guest_mem *mem;
	char name[32];              /* "virtio-blk0.q0": used in warnings */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;
	bool indirect;

	bool ready;                 /* virtq_init() succeeded, no reset since */
	bool broken;                /* the guest fed us garbage: NEEDS_RESET */
	bool notify_enabled;        /* we want kicks (virtq_enable_notify) */

	/* Host pointers to the rings, valid while ready. */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;

	uint16_t last_avail;        /* next avail ring slot to pop */
	uint16_t shadow_avail;      /* avail->idx as last read */
	uint16_t used_idx;          /* next used ring slot; published in used->idx */
	uint16_t used_flags;        /* our copy of used->flags */
	uint16_t signalled_used;    /* used_idx when virtq_should_notify() last ran */
	uint32_t unsignalled;       /* pushes since then (a 16-bit window may wrap) */
	uint32_t in_flight;         /* popped, not yet pushed */
	uint32_t gen;               /* bumped by init and reset: stale elements */
};

/* One popped chain: device-readable segments first, then device-writable. */
struct virtq_elem {
	uint16_t head;              /* first descriptor: goes back in the used ring */
	uint16_t n_readable;        /* iov[0, n_readable): driver -> device */
	uint16_t n_writable;        /* iov[n_readable, +n_writable): device -> driver */
	uint32_t readable_len;      /* bytes in the readable segments */
	uint32_t writable_len;      /* bytes in the writable segments */
	uint32_t gen;               /* q->gen at pop time */
	struct iovec iov[VIRTQ_ELEM_MAX_SEGS];
};

/*
 * Validate SETUP and make Q ready, starting at ring index 0 (queue enable
 * after reset). Writes used->flags, used->idx and avail_event to 0 so the
 * rings match our state. NAME appears in warnings. Returns 0, or -EINVAL
 * (bad size or alignment) / -EFAULT (a ring not wholly in RAM) with a
 * warning; Q is then not ready.
 */
int virtq_init(struct virtq *q, struct guest_mem *mem, const char *name,
	       const struct virtq_setup *setup);
/* Device reset: forget the rings. Elements popped before are dropped by push. */
void virtq_reset(struct virtq *q);
/*
 * Restore ring positions (snapshot restore, tests). Publishes USED_IDX in
 * used->idx. Q must be ready and have nothing in flight.
 */
void virtq_set_indices(struct virtq *q, uint16_t last_avail, uint16_t used_idx);

/*
 * Snapshot state of one queue: what virtq_init() was given and every index
 * we keep, in fixed-size fields (host order, which snapshot files only
 * accept on little-endian x86-64). The rings themselves are guest RAM,
 * restored with it.
 */
struct virtq_state {
	uint16_t size;
	uint8_t ready, broken, notify_enabled, event_idx, indirect, pad0;
	uint16_t last_avail, shadow_avail, used_idx, used_flags;
	uint16_t signalled_used, pad1;
	uint32_t unsignalled;
	uint64_t desc_gpa, avail_gpa, used_gpa;
};
_Static_assert(sizeof(struct virtq_state) == 48, "virtq_state layout");

/*
 * Snapshot: Q's state into ST. -EBUSY when elements are in flight (the
 * device must finish them first: a popped element lives only in our memory).
 */
int virtq_save_state(const struct virtq *q, struct virtq_state *st);
/*
 * Restore: make Q what ST says, over guest RAM that already holds the rings
 * as they were at the snapshot. Unlike virtq_init() nothing is written to
 * guest RAM. A not-ready state resets Q. Returns 0, -EINVAL (impossible
 * indices or flags, bad size or alignment) or -EFAULT (a ring outside RAM),
 * with a warning naming the queue.
 */
int virtq_load_state(struct virtq *q, struct guest_mem *mem, const char *name,
		     const struct virtq_state *st);

/*
 * Pop the next available chain into ELEM. Returns 1 when a chain was popped,
 * 0 when the ring is empty (or the queue not ready), -errno when the guest
 * broke the rules (q->broken is then set; every later pop returns -EIO):
 *   -EINVAL    bad index, flags, ordering or indirect table length
 *   -EFAULT    a buffer or indirect table not wholly in guest RAM
 *   -ELOOP     a chain longer than its table can hold (a loop)
 *   -E2BIG     more than VIRTQ_ELEM_MAX_SEGS descriptors
 *   -EOVERFLOW more than 4 GiB - 1 bytes in total
 */
int virtq_pop(struct virtq *q, struct virtq_elem *elem);
/*
 * Return ELEM to the guest with WRITTEN_LEN bytes written into its writable
 * segments, and publish it. Elements from before a reset are dropped.
 */
void virtq_push(struct virtq *q, const struct virtq_elem *elem, uint32_t written_len);
/*
 * Give back ELEM, the last chain popped, unused: the next pop returns it
 * again. For a device that popped a buffer before knowing it has data for
 * it (a receive from a non-blocking back end that turned out empty).
 */
void virtq_unpop(struct virtq *q, const struct virtq_elem *elem);
/* After pushes: does the guest want an interrupt? (EVENT_IDX or NO_INTERRUPT) */
bool virtq_should_notify(struct virtq *q);

/* Ask the guest not to kick us (we are polling). */
void virtq_disable_notify(struct virtq *q);
/*
 * Ask for kicks again. Returns true when buffers arrived meanwhile (or the
 * ring is broken): the caller must pop again, no kick will come for those.
 */
bool virtq_enable_notify(struct virtq *q);

/*
 * Copy LEN bytes at byte OFFSET of the element's readable segments into BUF,
 * or BUF into its writable segments. Returns 0, or -EINVAL (nothing copied)
 * when the range does not fit in readable_len / writable_len. The guest may
 * change its buffers at any time: read a header once, then use the copy.
 */
int virtq_elem_read(const struct virtq_elem *elem, uint32_t offset, void *buf, size_t len);
int virtq_elem_write(const struct virtq_elem *elem, uint32_t offset, const void *buf,
		     size_t len);

/* Slices and copies of an element's segments: base/iov.h. */

static inline const struct iovec *virtq_elem_readable(const struct virtq_elem *elem)
{
	return elem->iov;
}

static inline const struct iovec *virtq_elem_writable(const struct virtq_elem *elem)
{
	return elem->iov + elem->n_readable;
}

#endif
