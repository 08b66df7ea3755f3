// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk: one PCI function per --disk, backed by src/block (raw or
 * qcow2), served on the event loop thread.
 *
 * The request path (the io_uring, the checks every request passes, what
 * goes synchronously and why that never waits on itself) is in
 * blk_queues.c, apart from the transport so that it is fuzzed alone
 * (tests/unit/block/fuzz_blk.c). This file is the PCI device around it:
 * the config space, the event loop's hold on the ring's eventfd, snapshots.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "block/blk.h"
#include "base/log.h"
#include "virtio/blk_queues.h"
#include "virtio/virtio_pci.h"
#include "base/loop.h"
#include "dev/dev.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define SEG_MAX 254
#define PCI_CLASS_STORAGE_SCSI 0x010000
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
_Static_assert(VIRTIO_PCI_MAX_QUEUES <= BLK_QUEUES_MAX_QUEUES, "queue indices fit blk_queues");

struct virtio_blk {
	struct virtio_pci *vp; /* first: virtio_dev_load */
	struct blk *image;
	struct dev_ctx *ctx;
	struct blk_queues q;
	const struct disk_config *cfg;
	struct virtio_dev_ops ops;
	char name[24];
	struct virtio_blk_config config;
};

static struct virtq *blk_hook_queue(void *opaque, uint16_t queue)
{
	struct virtio_blk *b = opaque;

	return virtio_pci_vq(b->vp, queue);
}

static void blk_hook_queue_done(void *opaque, uint16_t queue)
{
	struct virtio_blk *b = opaque;

	virtio_pci_queue_done(b->vp, queue);
}

static void blk_hook_needs_reset(void *opaque)
{
	struct virtio_blk *b = opaque;

	virtio_pci_set_needs_reset(b->vp);
}

static void blk_hook_kick_later(void *opaque, uint16_t queue)
{
	struct virtio_blk *b = opaque;

	virtio_pci_queue_kick_later(b->vp, queue);
}

static const struct blk_queues_ops blk_hooks = {
	.queue = blk_hook_queue,
	.queue_done = blk_hook_queue_done,
	.needs_reset = blk_hook_needs_reset,
	.kick_later = blk_hook_kick_later,
};

static void blk_on_uring(void *opaque, uint32_t events)
{
	struct virtio_blk *b = opaque;
	uint64_t n;

	(void)events;
	if (read(blk_queues_eventfd(&b->q), &n, sizeof(n)) < 0) {
		/* Spurious wake-up: reap anyway. */
	}
	pthread_mutex_lock(&b->vp->lock);
	blk_queues_reap(&b->q, true);
	pthread_mutex_unlock(&b->vp->lock);
}

/*
 * Snapshot: complete everything in flight and push it, within timeout_ms,
 * without interrupting the guest (blk_signal_all does, after the save).
 * Event loop thread.
 */
static int blk_quiesce(struct virtio_blk *b, int timeout_ms, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&b->vp->lock);
	ret = blk_queues_quiesce(&b->q, timeout_ms, err, errlen);
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

static void blk_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_blk *b = opaque;

	(void)vp;
	blk_queues_notify(&b->q, queue);
}

static void blk_reset(void *opaque)
{
	struct virtio_blk *b = opaque;

	blk_queues_drain(&b->q);
}

static void blk_uring_setup(struct virtio_blk *b)
{
	const char *off = getenv("PHYLLO_NO_IO_URING");
	bool use = !(off && *off && strcmp(off, "0"));
	int efd;

	blk_queues_init(&b->q, b->image, b->name, b->cfg->serial, &blk_hooks, b, use);
	efd = blk_queues_eventfd(&b->q);
	if (efd < 0)
		return;
	if (loop_add(b->ctx->host->loop, efd, EPOLLIN, blk_on_uring, b) < 0) {
		pr_info("%s: cannot watch the io_uring: synchronous I/O", b->name);
		blk_queues_fini(&b->q);
		blk_queues_init(&b->q, b->image, b->name, b->cfg->serial, &blk_hooks, b, false);
		return;
	}
	pr_info("%s: io_uring with %u entries", b->name, BLK_QUEUES_URING_ENTRIES);
}

static void blk_uring_teardown(struct virtio_blk *b)
{
	int efd = blk_queues_eventfd(&b->q);

	if (efd >= 0)
		loop_del(b->ctx->host->loop, efd);
	blk_queues_fini(&b->q); /* drains first */
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

static int virtio_blk_realize(struct dev_ctx *c, const void *slice, unsigned int index,
			      void **state, char *err, size_t errlen)
{
	const struct disk_config *d = slice;
	struct blk_open_opts o = { .readonly = d->readonly, .direct = d->direct,
				   .format = d->image_type };
	struct virtio_blk *b = calloc(1, sizeof(*b));
	char why[400];
	int ret;

	if (!b)
		return -ENOMEM;
	b->cfg = d;
	b->ctx = c;
	snprintf(b->name, sizeof(b->name), "virtio-blk%u", index);
	ret = blk_open(d->path, &o, &b->image, why, sizeof(why));
	if (ret < 0) {
		errbuf_set(err, errlen, "--disk: %s", why);
		free(b);
		return ret;
	}
	b->config.capacity = blk_size(b->image) / VIRTIO_BLK_SECTOR;
	b->config.seg_max = SEG_MAX;
	b->config.blk_size = VIRTIO_BLK_SECTOR;
	b->config.num_queues = (uint16_t)d->num_queues;
	b->config.max_discard_sectors = VIRTIO_BLK_MAX_DISCARD_SECTORS;
	b->config.max_discard_seg = 1;
	b->config.discard_sector_alignment = 1;
	b->config.max_write_zeroes_sectors = VIRTIO_BLK_MAX_DISCARD_SECTORS;
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
	ret = virtio_pci_create(c, &b->ops, b, &b->vp);
	if (ret < 0) {
		blk_uring_teardown(b);
		blk_close(b->image);
		free(b);
		return ret;
	}
	*state = b;
	return 0;
}

static void virtio_blk_free(void *state)
{
	struct virtio_blk *b = state;

	blk_uring_teardown(b);
	virtio_pci_destroy(b->vp);
	blk_close(b->image);
	free(b);
}

/* One device per --disk, each reading its cfg->disks[i]. */
static unsigned int blk_instances(const struct vm_config *cfg, const void *slices[],
				  unsigned int max)
{
	return dev_instances_of_array(cfg->disks, sizeof(cfg->disks[0]), cfg->nr_disks, slices, max);
}

static int blk_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct virtio_blk *b = state;
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
	return ret;
}

const struct dev_ops virtio_blk_device = {
	.name = "virtio-blk",
	.instances = blk_instances,
	.realize = virtio_blk_realize,
	.unrealize = virtio_blk_free,
	.save = blk_save,
	.load = virtio_dev_load,
};
