// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The virtio-blk request path (see blk_queues.h for why it stands alone).
 *
 * Reads and writes whose whole range maps to data already in the image
 * file (always for raw; allocated clusters for qcow2: blk_map()) go to an
 * io_uring and complete asynchronously. Everything else (allocating
 * writes, backing files, compressed clusters, flush, discard, write-zeroes)
 * is done synchronously with blk_read/blk_write, and so is all I/O where
 * io_uring is unavailable (old kernel, seccomp, or PHYLLO_NO_IO_URING=1).
 *
 * An asynchronous request pins its extents (qcow2 frees no cluster under
 * it) until its completion is reaped. A synchronous request may have to
 * wait for every pin to go (a discard, a write replacing a compressed
 * cluster), and it would wait on this very thread, which is the one that
 * reaps: so before a synchronous request on an image whose mappings pin,
 * everything in flight is submitted, waited for and pushed. That costs a
 * synchronous request the latency of the queued ones, never a hang.
 *
 * Every request is checked before it touches the image: the header must be
 * readable, the status byte writable and last, data lengths whole sectors,
 * the range inside the disk; a request that breaks these gets
 * VIRTIO_BLK_S_IOERR (or UNSUPP), never an access outside the image. A
 * chain that is malformed at the virtqueue level breaks the queue instead
 * (NEEDS_RESET, see virtq.c).
 *
 * One kick serves at most BLK_QUEUES_PASS_REQS requests and
 * BLK_QUEUES_PASS_SYNC_BYTES of synchronous I/O, then asks to be called
 * again (ops->kick_later), so a guest that keeps its queue full shares the
 * event loop with the API and the other devices.
 */
#include "virtio/blk_queues.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "block/blk.h"
#include "base/log.h"

#define REQ_MAX_EXTENTS 16
#define DIO_ALIGN 4096

struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct virtio_blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* A request in flight on the io_uring. */
struct blk_req {
	struct virtq_elem elem;
	uint16_t queue;
	uint32_t written;     /* data bytes for the used length */
	int pending;          /* SQEs not yet completed */
	int nr_pinned;        /* DATA extents to blk_unmap() at the end */
	uint32_t expect[REQ_MAX_EXTENTS]; /* bytes each SQE must move */
	struct blk_extent ext[REQ_MAX_EXTENTS];	/* ... where, to finish a short one */
	uint16_t iov_first[REQ_MAX_EXTENTS], iov_n[REQ_MAX_EXTENTS];
	bool failed;
	bool is_write;
	struct blk_req *next_free;
	struct iovec iov[VIRTQ_ELEM_MAX_SEGS + REQ_MAX_EXTENTS];
};

/* [skip, skip + len) of IOV as at most VIRTQ_ELEM_MAX_SEGS entries of OUT
 * (none if it does not fit: the request then fails on its length). */
static int data_slice(const struct iovec *iov, unsigned int n, size_t skip, size_t len,
		      struct iovec *out)
{
	int k = iov_slice(iov, n, skip, len, out, VIRTQ_ELEM_MAX_SEGS);

	return k < 0 ? 0 : k;
}

static bool range_ok(struct blk_queues *bq, uint64_t sector, uint64_t bytes)
{
	uint64_t size = blk_size(bq->image);

	return sector <= size / VIRTIO_BLK_SECTOR && bytes <= size - sector * VIRTIO_BLK_SECTOR;
}

static uint8_t do_discard_or_zeroes(struct blk_queues *bq, uint32_t type, uint64_t *bytes)
{
	struct virtq_elem *e = &bq->elem;
	uint32_t len = e->readable_len - (uint32_t)sizeof(struct virtio_blk_req_hdr);
	struct virtio_blk_range r;
	uint64_t off, n;
	int ret;

	/* We announce max_*_seg = 1. */
	if (len != sizeof(r))
		return VIRTIO_BLK_S_UNSUPP;
	virtq_elem_read(e, sizeof(struct virtio_blk_req_hdr), &r, sizeof(r));
	n = (uint64_t)r.num_sectors * VIRTIO_BLK_SECTOR;
	off = r.sector * VIRTIO_BLK_SECTOR;
	if (r.num_sectors > VIRTIO_BLK_MAX_DISCARD_SECTORS || !range_ok(bq, r.sector, n))
		return VIRTIO_BLK_S_IOERR;
	/* Discards cost little per byte: count them as one sector's work. */
	*bytes += VIRTIO_BLK_SECTOR;
	if (type == VIRTIO_BLK_T_DISCARD) {
		if (r.flags)
			return VIRTIO_BLK_S_UNSUPP;
		ret = blk_discard(bq->image, off, n);
	} else {
		if (r.flags & ~VIRTIO_BLK_WRITE_ZEROES_UNMAP)
			return VIRTIO_BLK_S_UNSUPP;
		*bytes += n;
		ret = blk_write_zeroes(bq->image, off, n, r.flags & VIRTIO_BLK_WRITE_ZEROES_UNMAP);
	}
	return ret < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/*
 * Serve the popped element synchronously; returns the status byte (data
 * bytes for the used length in *written, bytes of work added to *bytes).
 */
static uint8_t blk_do_request(struct blk_queues *bq, uint32_t *written, uint64_t *bytes)
{
	struct virtq_elem *e = &bq->elem;
	struct virtio_blk_req_hdr hdr;
	uint32_t data_len;
	int n;

	*written = 0;
	if (virtq_elem_read(e, 0, &hdr, sizeof(hdr)) < 0)
		return VIRTIO_BLK_S_IOERR;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		data_len = e->writable_len - 1;
		if (data_len % VIRTIO_BLK_SECTOR || !range_ok(bq, hdr.sector, data_len))
			return VIRTIO_BLK_S_IOERR;
		*bytes += data_len;
		n = data_slice(virtq_elem_writable(e), e->n_writable, 0, data_len, bq->data);
		if (blk_read(bq->image, hdr.sector * VIRTIO_BLK_SECTOR, bq->data, n) < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = data_len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		data_len = e->readable_len - (uint32_t)sizeof(hdr);
		if (blk_is_readonly(bq->image))
			return VIRTIO_BLK_S_IOERR;
		if (data_len % VIRTIO_BLK_SECTOR || !range_ok(bq, hdr.sector, data_len))
			return VIRTIO_BLK_S_IOERR;
		*bytes += data_len;
		n = data_slice(virtq_elem_readable(e), e->n_readable, sizeof(hdr), data_len,
			       bq->data);
		return blk_write(bq->image, hdr.sector * VIRTIO_BLK_SECTOR, bq->data, n) < 0 ?
			VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (blk_is_readonly(bq->image))
			return VIRTIO_BLK_S_OK;
		return blk_flush(bq->image) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = { 0 };
		uint32_t len = e->writable_len - 1 < sizeof(id) ? e->writable_len - 1 : sizeof(id);

		if (bq->serial)
			memcpy(id, bq->serial, strnlen(bq->serial, sizeof(id)));
		if (virtq_elem_write(e, 0, id, len) < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = len;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (blk_is_readonly(bq->image))
			return VIRTIO_BLK_S_IOERR;
		return do_discard_or_zeroes(bq, hdr.type, bytes);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static struct blk_req *req_get(struct blk_queues *bq)
{
	struct blk_req *r = bq->free_reqs;

	if (r) {
		bq->free_reqs = r->next_free;
		return r;
	}
	return malloc(sizeof(*r));
}

static void req_put(struct blk_queues *bq, struct blk_req *r)
{
	r->next_free = bq->free_reqs;
	bq->free_reqs = r;
}

static bool iov_dio_aligned(const struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (DIO_ALIGN - 1))
			return false;
	return true;
}

/*
 * Queue the data transfer of a read or write on the ring, extent by extent.
 * Returns false (with nothing queued and nothing pinned) when the request
 * must go the synchronous way.
 */
static bool blk_submit_async(struct blk_queues *bq, struct blk_req *r, uint32_t type,
			     uint64_t off, const struct iovec *data, int ndata, uint32_t len)
{
	struct blk_extent ext[REQ_MAX_EXTENTS];
	int next_iov = 0, n = 0;
	uint64_t done = 0;

	if (io_uring_sq_space_left(&bq->ring) < REQ_MAX_EXTENTS)
		io_uring_submit(&bq->ring);
	if (io_uring_sq_space_left(&bq->ring) < REQ_MAX_EXTENTS)
		return false;
	while (done < len) {
		if (n == REQ_MAX_EXTENTS ||
		    blk_map(bq->image, off + done, len - done, type == VIRTIO_BLK_T_OUT, &ext[n]) < 0)
			goto unpin;
		if (ext[n].kind != BLK_EXTENT_DATA)
			goto unpin;
		done += ext[n].len;
		n++;
	}
	r->nr_pinned = n;
	r->pending = n;
	r->is_write = type == VIRTIO_BLK_T_OUT;
	done = 0;
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&bq->ring);
		struct iovec *v = &r->iov[next_iov];
		int k = data_slice(data, (unsigned int)ndata, done, ext[i].len, v);
		int fd = ext[i].dio_fd >= 0 && !(ext[i].host_off & (DIO_ALIGN - 1)) &&
			 iov_dio_aligned(v, k) ? ext[i].dio_fd : ext[i].fd;

		if (type == VIRTIO_BLK_T_IN)
			io_uring_prep_readv(sqe, fd, v, (unsigned int)k, ext[i].host_off);
		else
			io_uring_prep_writev(sqe, fd, v, (unsigned int)k, ext[i].host_off);
		/*
		 * user_data: the request, with the SQE's index in the low bits
		 * (requests are malloc'ed, so 16-byte aligned), so a short
		 * transfer can be told from a complete one.
		 */
		r->expect[i] = (uint32_t)ext[i].len;
		r->ext[i] = ext[i];
		r->iov_first[i] = (uint16_t)next_iov;
		r->iov_n[i] = (uint16_t)k;
		io_uring_sqe_set_data(sqe, (void *)((uintptr_t)r | (uintptr_t)i));
		next_iov += k;
		done += ext[i].len;
	}
	bq->in_flight++;
	return true;
unpin:
	/* Only the n DATA extents counted so far hold a pin. */
	for (int i = 0; i < n; i++)
		blk_unmap(bq->image);
	return false;
}

static void blk_finish(struct blk_queues *bq, struct virtq_elem *e, uint16_t queue,
		       uint8_t status, uint32_t written)
{
	struct virtq *vq = bq->ops->queue(bq->opaque, queue);

	virtq_elem_write(e, e->writable_len - 1, &status, 1);
	virtq_push(vq, e, written + 1);
}

/*
 * An SQE that moved fewer bytes than asked (RES of them) or that the kernel
 * gave back (-EAGAIN, -EINTR; -EINVAL from O_DIRECT) is not yet an I/O
 * error: the rest is done here, the synchronous way, as QEMU's io_uring
 * back end resubmits it. Reads past the file's end (a qcow2 cluster
 * allocated there by a write still in flight) read zeros, as they do on
 * the synchronous path. False on a real error.
 */
static bool finish_short(struct blk_req *r, unsigned int i, int res)
{
	if (res < 0 && res != -EAGAIN && res != -EINTR && res != -EINVAL)
		return false;
	return blk_extent_rw(&r->ext[i], res > 0 ? (uint64_t)res : 0, &r->iov[r->iov_first[i]],
			     r->iov_n[i], r->is_write) == 0;
}

void blk_queues_reap(struct blk_queues *bq, bool notify)
{
	bool done_q[BLK_QUEUES_MAX_QUEUES] = { false };
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;

	if (!bq->uring_ok)
		return;
	io_uring_for_each_cqe(&bq->ring, head, cqe) {
		uintptr_t tag = (uintptr_t)io_uring_cqe_get_data(cqe);
		struct blk_req *r = (struct blk_req *)(tag & ~(uintptr_t)(REQ_MAX_EXTENTS - 1));
		unsigned int i = (unsigned int)(tag & (REQ_MAX_EXTENTS - 1));

		seen++;
		if ((cqe->res < 0 || (uint32_t)cqe->res != r->expect[i]) &&
		    !finish_short(r, i, cqe->res))
			r->failed = true;
		if (--r->pending > 0)
			continue;
		for (int i = 0; i < r->nr_pinned; i++)
			blk_unmap(bq->image);
		blk_finish(bq, &r->elem, r->queue, r->failed ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK,
			   r->failed ? 0 : r->written);
		if (r->queue < BLK_QUEUES_MAX_QUEUES)
			done_q[r->queue] = true;
		bq->in_flight--;
		req_put(bq, r);
	}
	io_uring_cq_advance(&bq->ring, seen);
	for (uint16_t q = 0; notify && q < BLK_QUEUES_MAX_QUEUES; q++)
		if (done_q[q])
			bq->ops->queue_done(bq->opaque, q);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Submit, wait for and push everything in flight; with NOTIFY, interrupt
 * the driver for what completes. TIMEOUT_MS < 0 waits as long as it takes;
 * else -ETIMEDOUT once it has passed with requests left.
 */
static int wait_in_flight(struct blk_queues *bq, bool notify, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (bq->uring_ok && bq->in_flight) {
		struct __kernel_timespec ts, *tsp = NULL;
		struct io_uring_cqe *cqe;
		int ret;

		if (timeout_ms >= 0) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tsp = &ts;
		}
		io_uring_submit(&bq->ring);
		ret = io_uring_wait_cqe_timeout(&bq->ring, &cqe, tsp);
		if (ret < 0 && ret != -ETIME && ret != -EINTR)
			return ret;
		blk_queues_reap(bq, notify);
	}
	return 0;
}

/* Everything in flight, however long it takes (errors are only logged). */
static void complete_in_flight(struct blk_queues *bq, bool notify)
{
	int ret = wait_in_flight(bq, notify, -1);

	if (ret < 0)
		pr_err("%s: waiting for %u requests in flight: %s", bq->name, bq->in_flight,
		       strerror(-ret));
}

void blk_queues_drain(struct blk_queues *bq)
{
	complete_in_flight(bq, false);
}

int blk_queues_quiesce(struct blk_queues *bq, int timeout_ms, char *err, size_t errlen)
{
	int ret = wait_in_flight(bq, false, timeout_ms);

	if (ret == -ETIMEDOUT)
		errbuf_set(err, errlen, "%s: %u requests still in flight after %d ms; the disk does "
			   "not answer, no snapshot taken", bq->name, bq->in_flight, timeout_ms);
	else if (ret < 0)
		errbuf_set(err, errlen, "%s: waiting for in-flight requests: %s", bq->name,
			   strerror(-ret));
	return ret;
}

/* Try the request on the ring; false means serve it synchronously. */
static bool blk_try_async(struct blk_queues *bq, uint16_t queue)
{
	struct virtq_elem *e = &bq->elem;
	struct virtio_blk_req_hdr hdr;
	struct blk_req *r;
	uint32_t len;
	int n;

	if (!bq->uring_ok || virtq_elem_read(e, 0, &hdr, sizeof(hdr)) < 0)
		return false;
	if (hdr.type == VIRTIO_BLK_T_IN)
		len = e->writable_len - 1;
	else if (hdr.type == VIRTIO_BLK_T_OUT && !blk_is_readonly(bq->image))
		len = e->readable_len - (uint32_t)sizeof(hdr);
	else
		return false;
	if (!len || len % VIRTIO_BLK_SECTOR || !range_ok(bq, hdr.sector, len))
		return false; /* the synchronous path reports the error */
	r = req_get(bq);
	if (!r)
		return false;
	_Static_assert(REQ_MAX_EXTENTS <= 16, "SQE index must fit malloc's alignment");
	if (hdr.type == VIRTIO_BLK_T_IN)
		n = data_slice(virtq_elem_writable(e), e->n_writable, 0, len, bq->data);
	else
		n = data_slice(virtq_elem_readable(e), e->n_readable, sizeof(hdr), len, bq->data);
	/* The element moves into the request: it must outlive this call. */
	r->elem = *e;
	r->queue = queue;
	r->failed = false;
	r->written = hdr.type == VIRTIO_BLK_T_IN ? len : 0;
	if (!blk_submit_async(bq, r, hdr.type, hdr.sector * VIRTIO_BLK_SECTOR, bq->data, n, len)) {
		req_put(bq, r);
		return false;
	}
	return true;
}

void blk_queues_notify(struct blk_queues *bq, uint16_t queue)
{
	struct virtq *vq = bq->ops->queue(bq->opaque, queue);
	uint64_t sync_bytes = 0;
	unsigned int reqs = 0;
	bool pushed = false;
	int ret;

	if (queue >= BLK_QUEUES_MAX_QUEUES || !vq)
		return;
	while ((ret = virtq_pop(vq, &bq->elem)) > 0) {
		struct virtq_elem *e = &bq->elem;
		uint32_t written = 0;
		uint8_t status;

		/* A header to read and a status byte to write, at the least. */
		if (e->readable_len < sizeof(struct virtio_blk_req_hdr) || e->writable_len < 1) {
			pr_warn("%s: request without a header or status byte", bq->name);
			bq->ops->needs_reset(bq->opaque);
			virtq_push(vq, e, 0);
			pushed = true;
			break;
		}
		if (!blk_try_async(bq, queue)) {
			/* Nothing of ours may hold a pin the request waits for. */
			if (bq->in_flight && blk_map_pins(bq->image))
				complete_in_flight(bq, true);
			status = blk_do_request(bq, &written, &sync_bytes);
			blk_finish(bq, e, queue, status, written);
			pushed = true;
		}
		if (++reqs >= BLK_QUEUES_PASS_REQS || sync_bytes >= BLK_QUEUES_PASS_SYNC_BYTES) {
			bq->ops->kick_later(bq->opaque, queue);
			break;
		}
	}
	if (ret < 0)
		bq->ops->needs_reset(bq->opaque);
	if (bq->uring_ok)
		io_uring_submit(&bq->ring);
	if (pushed)
		bq->ops->queue_done(bq->opaque, queue);
}

void blk_queues_init(struct blk_queues *bq, struct blk *image, const char *name,
		     const char *serial, const struct blk_queues_ops *ops, void *opaque,
		     bool use_uring)
{
	int ret;

	memset(bq, 0, sizeof(*bq));
	bq->image = image;
	bq->name = name;
	bq->serial = serial;
	bq->ops = ops;
	bq->opaque = opaque;
	bq->uring_efd = -1;
	if (!use_uring)
		return;
	ret = io_uring_queue_init(BLK_QUEUES_URING_ENTRIES, &bq->ring, 0);
	if (ret < 0) {
		pr_info("%s: io_uring unavailable (%s): synchronous I/O", name, strerror(-ret));
		return;
	}
	bq->uring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bq->uring_efd < 0 || io_uring_register_eventfd(&bq->ring, bq->uring_efd) < 0) {
		pr_info("%s: io_uring without an eventfd: synchronous I/O", name);
		if (bq->uring_efd >= 0)
			close(bq->uring_efd);
		bq->uring_efd = -1;
		io_uring_queue_exit(&bq->ring);
		return;
	}
	bq->uring_ok = true;
}

int blk_queues_eventfd(const struct blk_queues *bq)
{
	return bq->uring_ok ? bq->uring_efd : -1;
}

void blk_queues_fini(struct blk_queues *bq)
{
	if (bq->uring_ok) {
		blk_queues_drain(bq);
		close(bq->uring_efd);
		io_uring_queue_exit(&bq->ring);
		bq->uring_ok = false;
	}
	while (bq->free_reqs) {
		struct blk_req *r = bq->free_reqs;

		bq->free_reqs = r->next_free;
		free(r);
	}
}
