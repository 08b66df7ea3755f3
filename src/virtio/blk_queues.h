/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-blk request path: what src/virtio/blk.c runs for every request
 * a guest queues, kept apart from the PCI transport, the event loop and the
 * VM so that a fuzz target (tests/unit/block/fuzz_blk.c) drives it alone,
 * with a real image and a real io_uring.
 *
 * A device owns one struct blk_queues per disk. A kick calls
 * blk_queues_notify(); when the ring's eventfd (blk_queues_eventfd) fires,
 * blk_queues_reap(). Everything is called under the device's lock, on one
 * thread.
 */
#ifndef PHYLLO_VIRTIO_BLK_QUEUES_H
#define PHYLLO_VIRTIO_BLK_QUEUES_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtq.h"

struct blk;

/* The request types, status bytes and limits of the virtio-blk spec we use. */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_SECTOR 512ull
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WRITE_ZEROES_UNMAP 1
#define VIRTIO_BLK_MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per range */
#define BLK_QUEUES_MAX_QUEUES 32
#define BLK_QUEUES_URING_ENTRIES 256

/* Up to this many requests, or this many bytes served synchronously, per kick. */
#define BLK_QUEUES_PASS_REQS 128
#define BLK_QUEUES_PASS_SYNC_BYTES (8u << 20)

/* What the request path needs from its device. */
struct blk_queues_ops {
	/* The queue's virtqueue. */
	struct virtq *(*queue)(void *opaque, uint16_t queue);
	/* Used buffers were pushed on queue: interrupt the driver if it wants. */
	void (*queue_done)(void *opaque, uint16_t queue);
	/* The driver's ring is malformed: DEVICE_NEEDS_RESET. */
	void (*needs_reset)(void *opaque);
	/* This pass's budget is spent: call blk_queues_notify again soon. */
	void (*kick_later)(void *opaque, uint16_t queue);
};

struct blk_req;

struct blk_queues {
	struct blk *image;
	const char *name;
	const char *serial;	/* GET_ID's answer, or NULL */
	const struct blk_queues_ops *ops;
	void *opaque;
	bool uring_ok;
	struct io_uring ring;
	int uring_efd;
	unsigned int in_flight;
	struct blk_req *free_reqs;
	struct virtq_elem elem;
	struct iovec data[VIRTQ_ELEM_MAX_SEGS];
};

/*
 * Sets up the request path for IMAGE; with USE_URING, an io_uring whose
 * completions signal blk_queues_eventfd() (without it, or when the kernel
 * refuses one, all I/O is synchronous). NAME and SERIAL must outlive BQ.
 */
void blk_queues_init(struct blk_queues *bq, struct blk *image, const char *name,
		     const char *serial, const struct blk_queues_ops *ops, void *opaque,
		     bool use_uring);
/* The eventfd to watch for completions, or -1 without an io_uring. */
int blk_queues_eventfd(const struct blk_queues *bq);
/* The guest kicked QUEUE: serve what it queued, up to one pass's budget. */
void blk_queues_notify(struct blk_queues *bq, uint16_t queue);
/* Collect completions and push them; with NOTIFY, interrupt the driver. */
void blk_queues_reap(struct blk_queues *bq, bool notify);
/* Wait for everything in flight and push it, without interrupting (reset). */
void blk_queues_drain(struct blk_queues *bq);
/*
 * The same, within TIMEOUT_MS (a snapshot): -ETIMEDOUT, with ERR saying how
 * many requests remain, when the disk does not answer.
 */
int blk_queues_quiesce(struct blk_queues *bq, int timeout_ms, char *err, size_t errlen);
/* Drains and frees the ring and the request cache (not the image). */
void blk_queues_fini(struct blk_queues *bq);

#endif
