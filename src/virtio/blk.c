// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk: one PCI function per --disk, backed by src/block (raw or
 * qcow2), served on the event loop thread.
 *
 * Reads and writes whose whole range maps to data already in the image
 * file (always for raw; allocated clusters for qcow2: blk_map()) go to an
 * io_uring and complete asynchronously: the ring's eventfd wakes the event
 * loop, which finishes the request and interrupts the guest. Everything
 * else (allocating writes, backing files, compressed clusters, flush,
 * discard) is done synchronously with blk_read/blk_write, and so is all I/O
 * where io_uring is unavailable (old kernel, seccomp, or
 * PHYLLO_NO_IO_URING=1 for tests).
 *
 * Every request is checked before it touches the image: the header must be
 * readable, the status byte writable and last, data lengths whole sectors,
 * the range inside the disk; a request that breaks these gets
 * VIRTIO_BLK_S_IOERR (or UNSUPP), never an access outside the image. A
 * chain that is malformed at the virtqueue level breaks the queue instead
 * (NEEDS_RESET, see virtq.c).
 *
 * Snapshots: first every request on the io_uring is completed and pushed
 * to its used ring (blk_quiesce, bounded by BLK_DRAIN_TIMEOUT_MS;
 * synchronous requests complete before their kick handler returns), then
 * the transport's state is saved, one section per disk ("dev.virtio-blk0"),
 * and only then is the guest interrupted for those completions: the state
 * says they are not yet signalled, so the restored device signals them
 * (virtio_pci_load), whenever the vCPUs' interrupt state was saved.
 * Images are flushed first, so the files hold every write the guest saw
 * complete; keeping them with the snapshot is the user's job.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "block/blk.h"
#include "lib/log.h"
#include "virtio/virtio_pci.h"
#include "vmm/loop.h"
#include "vmm/vm.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define SECTOR 512ull
#define VIRTIO_BLK_ID_BYTES 20
#define SEG_MAX 254
#define MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per range */
#define WRITE_ZEROES_UNMAP 1
#define PCI_CLASS_STORAGE_SCSI 0x010000
#define URING_ENTRIES 256
#define REQ_MAX_EXTENTS 16
#define DIO_ALIGN 4096
#define BLK_DRAIN_TIMEOUT_MS 10000

struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint8_t geometry[4];
	uint32_t blk_size;
	uint8_t topology[8];
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_blk_config) == 60, "virtio_blk_config layout");

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
	bool failed;
	struct blk_req *next_free;
	struct iovec iov[VIRTQ_ELEM_MAX_SEGS + REQ_MAX_EXTENTS];
};

struct virtio_blk {
	struct blk *image;
	struct vm *vm;
	bool uring_ok;
	struct io_uring ring;
	int uring_efd;
	unsigned int in_flight;
	struct blk_req *free_reqs;
	const struct disk_config *cfg;
	struct virtio_pci *vp;
	struct virtio_dev_ops ops;
	char name[24];
	struct virtio_blk_config config;
	struct virtq_elem elem;
	struct iovec data[VIRTQ_ELEM_MAX_SEGS];
};

/*
 * The slice [skip, skip + len) of iov[0..n) as a new iovec array.
 * Returns the number of entries.
 */
static int iov_slice(const struct iovec *iov, int n, size_t skip, size_t len,
		     struct iovec *out)
{
	int k = 0;

	for (int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[k].iov_len = l - skip < len ? l - skip : len;
		len -= out[k].iov_len;
		skip = 0;
		k++;
	}
	return k;
}

static bool range_ok(struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t size = blk_size(b->image);

	return sector <= size / SECTOR && bytes <= size - sector * SECTOR;
}

static uint8_t do_discard_or_zeroes(struct virtio_blk *b, uint32_t type)
{
	struct virtq_elem *e = &b->elem;
	uint32_t len = e->readable_len - (uint32_t)sizeof(struct virtio_blk_req_hdr);
	uint32_t n = len / sizeof(struct virtio_blk_range);

	if (!n || len % sizeof(struct virtio_blk_range) || n > 1)
		return VIRTIO_BLK_S_UNSUPP; /* we announce max_*_seg = 1 */
	for (uint32_t i = 0; i < n; i++) {
		struct virtio_blk_range r;
		int ret;

		virtq_elem_read(e, sizeof(struct virtio_blk_req_hdr) + i * sizeof(r), &r, sizeof(r));
		if (r.num_sectors > MAX_DISCARD_SECTORS ||
		    !range_ok(b, r.sector, (uint64_t)r.num_sectors * SECTOR))
			return VIRTIO_BLK_S_IOERR;
		if (type == VIRTIO_BLK_T_DISCARD) {
			if (r.flags)
				return VIRTIO_BLK_S_UNSUPP;
			ret = blk_discard(b->image, r.sector * SECTOR, (uint64_t)r.num_sectors * SECTOR);
		} else {
			if (r.flags & ~WRITE_ZEROES_UNMAP)
				return VIRTIO_BLK_S_UNSUPP;
			ret = blk_write_zeroes(b->image, r.sector * SECTOR,
					       (uint64_t)r.num_sectors * SECTOR,
					       r.flags & WRITE_ZEROES_UNMAP);
		}
		if (ret < 0)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/* Serve the popped element; returns the status byte (bytes written in *written). */
static uint8_t blk_do_request(struct virtio_blk *b, uint32_t *written)
{
	struct virtq_elem *e = &b->elem;
	struct virtio_blk_req_hdr hdr;
	uint32_t data_len;
	int n;

	*written = 0;
	if (virtq_elem_read(e, 0, &hdr, sizeof(hdr)) < 0)
		return VIRTIO_BLK_S_IOERR;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		data_len = e->writable_len - 1;
		if (data_len % SECTOR || !range_ok(b, hdr.sector, data_len))
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(virtq_elem_writable(e), e->n_writable, 0, data_len, b->data);
		if (blk_read(b->image, hdr.sector * SECTOR, b->data, n) < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = data_len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		data_len = e->readable_len - (uint32_t)sizeof(hdr);
		if (blk_is_readonly(b->image))
			return VIRTIO_BLK_S_IOERR;
		if (data_len % SECTOR || !range_ok(b, hdr.sector, data_len))
			return VIRTIO_BLK_S_IOERR;
		n = iov_slice(virtq_elem_readable(e), e->n_readable, sizeof(hdr), data_len, b->data);
		return blk_write(b->image, hdr.sector * SECTOR, b->data, n) < 0 ?
			VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (blk_is_readonly(b->image))
			return VIRTIO_BLK_S_OK;
		return blk_flush(b->image) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = { 0 };
		uint32_t len = e->writable_len - 1 < sizeof(id) ? e->writable_len - 1 : sizeof(id);

		if (b->cfg->serial)
			memcpy(id, b->cfg->serial, strnlen(b->cfg->serial, sizeof(id)));
		if (virtq_elem_write(e, 0, id, len) < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = len;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (blk_is_readonly(b->image))
			return VIRTIO_BLK_S_IOERR;
		return do_discard_or_zeroes(b, hdr.type);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static struct blk_req *req_get(struct virtio_blk *b)
{
	struct blk_req *r = b->free_reqs;

	if (r) {
		b->free_reqs = r->next_free;
		return r;
	}
	return malloc(sizeof(*r));
}

static void req_put(struct virtio_blk *b, struct blk_req *r)
{
	r->next_free = b->free_reqs;
	b->free_reqs = r;
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
static bool blk_submit_async(struct virtio_blk *b, struct blk_req *r, uint32_t type,
			     uint64_t off, const struct iovec *data, int ndata, uint32_t len)
{
	struct blk_extent ext[REQ_MAX_EXTENTS];
	int next_iov = 0, n = 0;
	uint64_t done = 0;

	if (!b->uring_ok || io_uring_sq_space_left(&b->ring) < REQ_MAX_EXTENTS)
		return false;
	while (done < len) {
		if (n == REQ_MAX_EXTENTS ||
		    blk_map(b->image, off + done, len - done, type == VIRTIO_BLK_T_OUT, &ext[n]) < 0)
			goto unpin;
		if (ext[n].kind != BLK_EXTENT_DATA)
			goto unpin;
		done += ext[n].len;
		n++;
	}
	r->nr_pinned = n;
	r->pending = n;
	done = 0;
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
		struct iovec *v = &r->iov[next_iov];
		int k = iov_slice(data, ndata, done, ext[i].len, v);
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
		io_uring_sqe_set_data(sqe, (void *)((uintptr_t)r | (uintptr_t)i));
		next_iov += k;
		done += ext[i].len;
	}
	b->in_flight++;
	return true;
unpin:
	/* Only the n DATA extents counted so far hold a pin. */
	for (int i = 0; i < n; i++)
		blk_unmap(b->image);
	return false;
}

static void blk_finish(struct virtio_blk *b, struct virtq_elem *e, uint16_t queue,
		       uint8_t status, uint32_t written)
{
	struct virtq *vq = virtio_pci_vq(b->vp, queue);

	virtq_elem_write(e, e->writable_len - 1, &status, 1);
	virtq_push(vq, e, written + 1);
}

/* Reap completions (event loop thread, vp->lock held). */
static void blk_reap(struct virtio_blk *b, bool notify)
{
	bool done_q[VIRTIO_PCI_MAX_QUEUES] = { false };
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;

	io_uring_for_each_cqe(&b->ring, head, cqe) {
		uintptr_t tag = (uintptr_t)io_uring_cqe_get_data(cqe);
		struct blk_req *r = (struct blk_req *)(tag & ~(uintptr_t)(REQ_MAX_EXTENTS - 1));
		unsigned int i = (unsigned int)(tag & (REQ_MAX_EXTENTS - 1));

		seen++;
		if (cqe->res < 0 || (uint32_t)cqe->res != r->expect[i])
			r->failed = true;
		if (--r->pending > 0)
			continue;
		for (int i = 0; i < r->nr_pinned; i++)
			blk_unmap(b->image);
		blk_finish(b, &r->elem, r->queue, r->failed ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK,
			   r->failed ? 0 : r->written);
		done_q[r->queue] = true;
		b->in_flight--;
		req_put(b, r);
	}
	io_uring_cq_advance(&b->ring, seen);
	for (uint16_t q = 0; notify && q < VIRTIO_PCI_MAX_QUEUES; q++)
		if (done_q[q])
			virtio_pci_queue_done(b->vp, q);
}

static void blk_on_uring(void *opaque, uint32_t events)
{
	struct virtio_blk *b = opaque;
	uint64_t n;

	(void)events;
	if (read(b->uring_efd, &n, sizeof(n)) < 0) {
		/* Spurious wake-up: reap anyway. */
	}
	pthread_mutex_lock(&b->vp->lock);
	blk_reap(b, true);
	pthread_mutex_unlock(&b->vp->lock);
}

/* Wait for everything in flight (device reset and teardown). */
static void blk_drain(struct virtio_blk *b)
{
	while (b->uring_ok && b->in_flight) {
		struct io_uring_cqe *cqe;

		io_uring_submit(&b->ring);
		if (io_uring_wait_cqe(&b->ring, &cqe) < 0)
			break;
		blk_reap(b, false);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Snapshot: complete everything in flight and push it, within timeout_ms,
 * without interrupting the guest (blk_signal_all does, after the save).
 * Event loop thread.
 */
static int blk_quiesce(struct virtio_blk *b, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + timeout_ms;
	int ret = 0;

	pthread_mutex_lock(&b->vp->lock);
	while (b->uring_ok && b->in_flight) {
		int64_t left = deadline - now_ms();
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;

		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		io_uring_submit(&b->ring);
		ret = io_uring_wait_cqe_timeout(&b->ring, &cqe, &ts);
		if (ret < 0 && ret != -ETIME && ret != -EINTR)
			break;
		ret = 0;
		blk_reap(b, false);
	}
	if (ret == -ETIMEDOUT)
		errbuf_set(err, errlen, "%s: %u requests still in flight after %d ms; the disk does "
			   "not answer, no snapshot taken", b->name, b->in_flight, timeout_ms);
	else if (ret < 0)
		errbuf_set(err, errlen, "%s: waiting for in-flight requests: %s", b->name,
			   strerror(-ret));
	pthread_mutex_unlock(&b->vp->lock);
	return ret;
}

/* After a snapshot: the interrupts blk_quiesce held back. */
static void blk_signal_all(struct virtio_blk *b)
{
	pthread_mutex_lock(&b->vp->lock);
	for (uint16_t q = 0; q < b->ops.nr_queues; q++)
		virtio_pci_queue_done(b->vp, q);
	pthread_mutex_unlock(&b->vp->lock);
}

/* Try the request on the ring; false means serve it synchronously. */
static bool blk_try_async(struct virtio_blk *b, uint16_t queue)
{
	struct virtq_elem *e = &b->elem;
	struct virtio_blk_req_hdr hdr;
	struct blk_req *r;
	uint32_t len;
	int n;

	if (!b->uring_ok || virtq_elem_read(e, 0, &hdr, sizeof(hdr)) < 0)
		return false;
	if (hdr.type == VIRTIO_BLK_T_IN)
		len = e->writable_len - 1;
	else if (hdr.type == VIRTIO_BLK_T_OUT && !blk_is_readonly(b->image))
		len = e->readable_len - (uint32_t)sizeof(hdr);
	else
		return false;
	if (!len || len % SECTOR || !range_ok(b, hdr.sector, len))
		return false; /* the synchronous path reports the error */
	r = req_get(b);
	if (!r)
		return false;
	_Static_assert(REQ_MAX_EXTENTS <= 16, "SQE index must fit malloc's alignment");
	if (hdr.type == VIRTIO_BLK_T_IN)
		n = iov_slice(virtq_elem_writable(e), e->n_writable, 0, len, b->data);
	else
		n = iov_slice(virtq_elem_readable(e), e->n_readable, sizeof(hdr), len, b->data);
	/* The element moves into the request: it must outlive this call. */
	r->elem = *e;
	r->queue = queue;
	r->failed = false;
	r->written = hdr.type == VIRTIO_BLK_T_IN ? len : 0;
	if (!blk_submit_async(b, r, hdr.type, hdr.sector * SECTOR, b->data, n, len)) {
		req_put(b, r);
		return false;
	}
	return true;
}

static void blk_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_blk *b = opaque;
	struct virtq *vq = virtio_pci_vq(vp, queue);
	bool pushed = false;

	while (virtq_pop(vq, &b->elem) > 0) {
		struct virtq_elem *e = &b->elem;
		uint32_t written = 0;
		uint8_t status;

		/* A header to read and a status byte to write, at the least. */
		if (e->readable_len < sizeof(struct virtio_blk_req_hdr) || e->writable_len < 1) {
			pr_warn("%s: request without a header or status byte", b->name);
			virtio_pci_set_needs_reset(vp);
			virtq_push(vq, e, 0);
			pushed = true;
			break;
		}
		if (blk_try_async(b, queue))
			continue;
		status = blk_do_request(b, &written);
		blk_finish(b, e, queue, status, written);
		pushed = true;
	}
	if (b->uring_ok)
		io_uring_submit(&b->ring);
	if (pushed)
		virtio_pci_queue_done(vp, queue);
}

static void blk_reset(void *opaque)
{
	blk_drain(opaque);
}

static void blk_uring_setup(struct virtio_blk *b)
{
	const char *off = getenv("PHYLLO_NO_IO_URING");
	int ret;

	b->uring_efd = -1;
	if (off && *off && strcmp(off, "0"))
		return;
	ret = io_uring_queue_init(URING_ENTRIES, &b->ring, 0);
	if (ret < 0) {
		pr_info("%s: io_uring unavailable (%s): synchronous I/O", b->name, strerror(-ret));
		return;
	}
	b->uring_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->uring_efd < 0 || io_uring_register_eventfd(&b->ring, b->uring_efd) < 0 ||
	    loop_add(b->vm->host->loop, b->uring_efd, EPOLLIN, blk_on_uring, b) < 0) {
		if (b->uring_efd >= 0)
			close(b->uring_efd);
		b->uring_efd = -1;
		io_uring_queue_exit(&b->ring);
		return;
	}
	b->uring_ok = true;
	pr_info("%s: io_uring with %u entries", b->name, URING_ENTRIES);
}

static void blk_uring_teardown(struct virtio_blk *b)
{
	if (!b->uring_ok)
		return;
	blk_drain(b);
	loop_del(b->vm->host->loop, b->uring_efd);
	close(b->uring_efd);
	io_uring_queue_exit(&b->ring);
	b->uring_ok = false;
}

static void blk_config_read(void *opaque, uint32_t off, void *data, unsigned int size)
{
	struct virtio_blk *b = opaque;

	if (off + size <= sizeof(b->config))
		memcpy(data, (uint8_t *)&b->config + off, size);
}

static void blk_config_write(void *opaque, uint32_t off, const void *data, unsigned int size)
{
	struct virtio_blk *b = opaque;

	/* Only writeback is writable (and we are always write-through: ignore). */
	(void)b;
	(void)off;
	(void)data;
	(void)size;
}

static int virtio_blk_add(struct vm *vm, const struct disk_config *d, unsigned int index,
			  struct virtio_blk **out, char *err, size_t errlen)
{
	struct blk_open_opts o = { .readonly = d->readonly, .direct = d->direct,
				   .format = d->image_type };
	struct virtio_blk *b = calloc(1, sizeof(*b));
	char why[400];
	int ret;

	if (!b)
		return -ENOMEM;
	b->cfg = d;
	b->vm = vm;
	snprintf(b->name, sizeof(b->name), "virtio-blk%u", index);
	ret = blk_open(d->path, &o, &b->image, why, sizeof(why));
	if (ret < 0) {
		errbuf_set(err, errlen, "--disk: %s", why);
		free(b);
		return ret;
	}
	b->config.capacity = blk_size(b->image) / SECTOR;
	b->config.seg_max = SEG_MAX;
	b->config.blk_size = SECTOR;
	b->config.num_queues = (uint16_t)d->num_queues;
	b->config.max_discard_sectors = MAX_DISCARD_SECTORS;
	b->config.max_discard_seg = 1;
	b->config.discard_sector_alignment = 1;
	b->config.max_write_zeroes_sectors = MAX_DISCARD_SECTORS;
	b->config.max_write_zeroes_seg = 1;
	b->config.write_zeroes_may_unmap = 1;
	b->ops = (struct virtio_dev_ops){
		.name = b->name,
		.device_id = VIRTIO_ID_BLOCK,
		.class_code = PCI_CLASS_STORAGE_SCSI,
		.nr_queues = (uint16_t)d->num_queues,
		.queue_max_size = (uint16_t)d->queue_size,
		.features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |
			    (1ull << VIRTIO_BLK_F_WRITE_ZEROES) |
			    (d->num_queues > 1 ? 1ull << VIRTIO_BLK_F_MQ : 0) |
			    (blk_is_readonly(b->image) ? 1ull << VIRTIO_BLK_F_RO : 0),
		.config_size = sizeof(b->config),
		.config_read = blk_config_read,
		.config_write = blk_config_write,
		.queue_notify = blk_queue_notify,
		.reset = blk_reset,
	};
	blk_uring_setup(b);
	ret = virtio_pci_create(vm, &b->ops, b, &b->vp);
	if (ret < 0) {
		blk_uring_teardown(b);
		blk_close(b->image);
		free(b);
		return ret;
	}
	*out = b;
	return 0;
}

static void virtio_blk_free(struct virtio_blk *b)
{
	blk_uring_teardown(b);
	virtio_pci_destroy(b->vp);
	while (b->free_reqs) {
		struct blk_req *r = b->free_reqs;

		b->free_reqs = r->next_free;
		free(r);
	}
	blk_close(b->image);
	free(b);
}

/* All --disk devices, as one entry in the VM's device list. */
struct virtio_blk_set {
	unsigned int nr;
	struct virtio_blk *disks[VM_MAX_DISKS];
};

static int blk_set_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct virtio_blk_set *set = state;

	for (unsigned int i = 0; i < set->nr; i++) {
		struct virtio_blk *b = set->disks[i];
		int ret = blk_quiesce(b, BLK_DRAIN_TIMEOUT_MS, err, errlen);

		/* What the guest saw completed is on disk before the state says so. */
		if (ret == 0 && !blk_is_readonly(b->image)) {
			ret = blk_flush(b->image);
			if (ret < 0)
				errbuf_set(err, errlen, "%s: flushing '%s': %s", b->name, b->cfg->path,
					   strerror(-ret));
		}
		if (ret == 0)
			ret = virtio_pci_save(b->vp, w, err, errlen);
		blk_signal_all(b);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int blk_set_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct virtio_blk_set *set = state;

	for (unsigned int i = 0; i < set->nr; i++) {
		int ret = virtio_pci_load(set->disks[i]->vp, r, err, errlen);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static void blk_set_destroy(void *state)
{
	struct virtio_blk_set *set = state;

	for (unsigned int i = 0; i < set->nr; i++)
		virtio_blk_free(set->disks[i]);
	free(set);
}

static int blk_set_create(struct vm *vm, void **state, char *err, size_t errlen)
{
	struct virtio_blk_set *set;

	*state = NULL;
	if (!vm->cfg->nr_disks)
		return 0;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->cfg->nr_disks; i++) {
		int ret = virtio_blk_add(vm, &vm->cfg->disks[i], i, &set->disks[i], err, errlen);

		if (ret < 0) {
			blk_set_destroy(set);
			return ret;
		}
		set->nr++;
	}
	*state = set;
	return 0;
}

const struct device_ops virtio_blk_device = {
	.name = "virtio-blk",
	.create = blk_set_create,
	.destroy = blk_set_destroy,
	.save = blk_set_save,
	.load = blk_set_load,
};
