// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk: one PCI function per --disk, backed by src/block (raw or
 * qcow2). Requests are served on the event loop thread, synchronously,
 * through blk_read/blk_write; io_uring submission is the next step (see
 * blk_map() in src/block/blk.h).
 *
 * Every request is checked before it touches the image: the header must be
 * readable, the status byte writable and last, data lengths whole sectors,
 * the range inside the disk; a request that breaks these gets
 * VIRTIO_BLK_S_IOERR (or UNSUPP), never an access outside the image. A
 * chain that is malformed at the virtqueue level breaks the queue instead
 * (NEEDS_RESET, see virtq.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/blk.h"
#include "lib/log.h"
#include "virtio/virtio_pci.h"
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

struct virtio_blk {
	struct blk *image;
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
		status = blk_do_request(b, &written);
		virtq_elem_write(e, e->writable_len - 1, &status, 1);
		virtq_push(vq, e, written + 1);
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(vp, queue);
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
	};
	ret = virtio_pci_create(vm, &b->ops, b, &b->vp);
	if (ret < 0) {
		blk_close(b->image);
		free(b);
		return ret;
	}
	*out = b;
	return 0;
}

static void virtio_blk_free(struct virtio_blk *b)
{
	virtio_pci_destroy(b->vp);
	blk_close(b->image);
	free(b);
}

/* All --disk devices, as one entry in the VM's device list. */
struct virtio_blk_set {
	unsigned int nr;
	struct virtio_blk *disks[VM_MAX_DISKS];
};

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
};
