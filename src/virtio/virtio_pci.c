// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio 1.x PCI transport (see virtio_pci.h).
 *
 * BAR 0 (64-bit, 32 KiB) holds every region the capabilities point at:
 *
 *   0x0000 common configuration      0x3000 queue notify (4 bytes a queue)
 *   0x1000 ISR status                0x4000 MSI-X table
 *   0x2000 device configuration      0x5000 MSI-X pending bits
 *
 * Each queue has an eventfd. Once the driver enables the queue it is
 * registered with KVM as an ioeventfd on the queue's notify address, so a
 * kick costs the guest no exit to user space; the event loop thread reads
 * the eventfd and calls the device. A kick that still arrives as an MMIO
 * exit is forwarded to the same eventfd, so devices see one path only.
 *
 * A device whose queues the kernel serves (vhost-vsock) gets a driver_ok
 * call, takes the queues' kick eventfds away from the event loop and hands
 * them, with the irqfds of their MSI-X vectors, to vhost; its reset hook
 * gives them back. The transport itself does not change for it.
 *
 * Device processing runs under vp->lock, as do the driver's writes to the
 * transport (reset, queue enable), so a queue is never reset under a device
 * that is using it.
 */
#include "virtio/virtio_pci.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop.h"
#include "dev/dev.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040

#define BAR_SIZE 0x8000
#define COMMON_OFF 0x0000
#define COMMON_SIZE 0x40
#define ISR_OFF 0x1000
#define DEVICE_OFF 0x2000
#define DEVICE_MAX 0x1000
#define NOTIFY_OFF 0x3000
#define NOTIFY_MULTIPLIER 4
#define MSIX_TABLE_OFF 0x4000
#define MSIX_PBA_OFF 0x5000

#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_NEEDS_RESET 64
#define STATUS_FAILED 128

/* Common configuration layout (virtio 1.2, 4.1.4.3). */
#define CC_DEVICE_FEATURE_SELECT 0x00
#define CC_DEVICE_FEATURE 0x04
#define CC_DRIVER_FEATURE_SELECT 0x08
#define CC_DRIVER_FEATURE 0x0c
#define CC_CONFIG_MSIX_VECTOR 0x10
#define CC_NUM_QUEUES 0x12
#define CC_DEVICE_STATUS 0x14
#define CC_CONFIG_GENERATION 0x15
#define CC_QUEUE_SELECT 0x16
#define CC_QUEUE_SIZE 0x18
#define CC_QUEUE_MSIX_VECTOR 0x1a
#define CC_QUEUE_ENABLE 0x1c
#define CC_QUEUE_NOTIFY_OFF 0x1e
#define CC_QUEUE_DESC 0x20
#define CC_QUEUE_DRIVER 0x28
#define CC_QUEUE_DEVICE 0x30
#define CC_QUEUE_NOTIFY_DATA 0x38
#define CC_QUEUE_RESET 0x3a

uint64_t virtio_pci_device_features(const struct virtio_pci *vp)
{
	return vp->ops->features | (1ull << VIRTIO_F_VERSION_1) |
	       (1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_F_RING_EVENT_IDX);
}

bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned int bit)
{
	return bit < 64 && (vp->driver_features & (1ull << bit));
}

static uint64_t bar0_addr(const struct virtio_pci *vp)
{
	return (pci_cfg_get32(&vp->pci, PCI_BAR0) & ~0xfull) |
	       (uint64_t)pci_cfg_get32(&vp->pci, PCI_BAR0 + 4) << 32;
}

static int ioeventfd_ctl(struct virtio_pci *vp, struct virtio_pci_queue *q, bool assign)
{
	struct dev_ctx *c = vp->ctx;

	return c->ioeventfd ? c->ioeventfd(c, q->notify_addr, 2, q->ioeventfd, assign) : -ENOSYS;
}

void virtio_pci_queue_done(struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_pci_queue *q = &vp->queues[queue];

	if (!virtq_should_notify(&q->vq))
		return;
	vp->isr |= 1;
	if (q->msix_vector != MSIX_NO_VECTOR)
		msix_notify(&vp->msix, q->msix_vector);
}

void virtio_pci_queue_kick_later(struct virtio_pci *vp, uint16_t queue)
{
	uint64_t one = 1;

	if (NEVER(queue >= vp->ops->nr_queues))
		return;
	/* The kick eventfd is level-triggered in the loop's epoll set. */
	if (write(vp->queues[queue].ioeventfd, &one, sizeof(one)) < 0)
		pr_debug("%s: queue %u: kick lost", vp->ops->name, queue);
}

void virtio_pci_set_needs_reset(struct virtio_pci *vp)
{
	if (vp->status & STATUS_NEEDS_RESET)
		return;
	/* Whoever found the problem has logged it (one line); this only records it. */
	pr_debug("%s: DEVICE_NEEDS_RESET", vp->ops->name);
	vp->status |= STATUS_NEEDS_RESET;
	vp->isr |= 2;
	if (vp->config_msix_vector != MSIX_NO_VECTOR)
		msix_notify(&vp->msix, vp->config_msix_vector);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->config_generation++;
	vp->isr |= 2;
	if (vp->config_msix_vector != MSIX_NO_VECTOR)
		msix_notify(&vp->msix, vp->config_msix_vector);
}

bool virtio_pci_queue_ready(struct virtio_pci *vp, uint16_t queue)
{
	return queue < vp->ops->nr_queues && vp->queues[queue].enabled &&
	       (vp->status & STATUS_DRIVER_OK) && !(vp->status & STATUS_NEEDS_RESET);
}

/* Event loop: a queue was kicked. */
static void virtio_pci_on_kick(struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_pci_queue *q = &vp->queues[queue];
	uint64_t n;

	if (read(q->ioeventfd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&vp->lock);
	if (virtio_pci_queue_ready(vp, queue)) {
		vp->ops->queue_notify(vp->dev, vp, queue);
		if (q->vq.broken)
			virtio_pci_set_needs_reset(vp);
	}
	pthread_mutex_unlock(&vp->lock);
}

/* One loop callback per queue: the opaque pointer encodes which. */
struct kick_ctx {
	struct virtio_pci *vp;
	uint16_t queue;
};
static struct kick_ctx *kick_ctx_of(struct virtio_pci *vp, uint16_t queue);

static void on_kick(void *opaque, uint32_t events)
{
	struct kick_ctx *k = opaque;

	(void)events;
	virtio_pci_on_kick(k->vp, k->queue);
}

static void queue_disable(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	if (q->enabled && q->notify_addr)
		ioeventfd_ctl(vp, q, false);
	q->enabled = false;
	q->notify_addr = 0;
	virtq_reset(&q->vq);
}

static void queue_enable(struct virtio_pci *vp, uint16_t index)
{
	struct virtio_pci_queue *q = &vp->queues[index];
	struct virtq_setup setup = {
		.size = q->size, .desc_gpa = q->desc, .avail_gpa = q->driver,
		.used_gpa = q->device,
		.event_idx = virtio_pci_has_feature(vp, VIRTIO_F_RING_EVENT_IDX),
		.indirect = virtio_pci_has_feature(vp, VIRTIO_F_RING_INDIRECT_DESC),
	};
	char name[32];

	if (q->enabled)
		return;
	snprintf(name, sizeof(name), "%s.q%u", vp->ops->name, index);
	if (virtq_init(&q->vq, vp->ctx->mem, name, &setup) < 0) {
		virtio_pci_set_needs_reset(vp);
		return;
	}
	virtio_pci_queue_started(vp, index);
}

void virtio_pci_queue_started(struct virtio_pci *vp, uint16_t index)
{
	struct virtio_pci_queue *q = &vp->queues[index];

	q->enabled = true;
	q->notify_addr = bar0_addr(vp) + NOTIFY_OFF + (uint64_t)index * NOTIFY_MULTIPLIER;
	if (ioeventfd_ctl(vp, q, true) < 0) {
		/* Kicks then arrive as MMIO exits, forwarded to the same eventfd. */
		pr_debug("%s: no ioeventfd for queue %u", vp->ops->name, index);
		q->notify_addr = 0;
	}
}

static void device_reset(struct virtio_pci *vp)
{
	/* The device first finishes what is in flight, while the queues still exist. */
	if (vp->ops->reset)
		vp->ops->reset(vp->dev);
	for (uint16_t i = 0; i < vp->ops->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];

		queue_disable(vp, q);
		q->size = vp->ops->queue_max_size;
		q->msix_vector = MSIX_NO_VECTOR;
		q->desc = q->driver = q->device = 0;
	}
	vp->driver_features = 0;
	vp->device_feature_select = vp->driver_feature_select = 0;
	vp->queue_select = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->config_msix_vector = MSIX_NO_VECTOR;
}

static void set_status(struct virtio_pci *vp, uint8_t status)
{
	uint8_t old = vp->status;

	if (status == 0) {
		device_reset(vp);
		return;
	}
	if ((status & STATUS_FEATURES_OK) && !(vp->status & STATUS_FEATURES_OK)) {
		uint64_t extra = vp->driver_features & ~virtio_pci_device_features(vp);

		/* Refuse what we did not offer, and legacy drivers. */
		if (extra || !virtio_pci_has_feature(vp, VIRTIO_F_VERSION_1))
			status &= (uint8_t)~STATUS_FEATURES_OK;
	}
	vp->status = (uint8_t)(status | (vp->status & STATUS_NEEDS_RESET));
	if ((vp->status & STATUS_DRIVER_OK) && !(old & STATUS_DRIVER_OK) &&
	    !(vp->status & STATUS_NEEDS_RESET) && vp->ops->driver_ok)
		vp->ops->driver_ok(vp->dev, vp);
}

static void common_read(struct virtio_pci *vp, uint64_t off, void *data, unsigned int size)
{
	uint8_t cc[COMMON_SIZE] = { 0 };
	struct virtio_pci_queue *q = vp->queue_select < vp->ops->nr_queues ?
		&vp->queues[vp->queue_select] : NULL;
	uint64_t feat = vp->device_feature_select < 2 ?
		virtio_pci_device_features(vp) >> (32 * vp->device_feature_select) : 0;
	uint64_t drv = vp->driver_feature_select < 2 ?
		vp->driver_features >> (32 * vp->driver_feature_select) : 0;
	uint16_t v16;
	uint32_t v32;

#define PUT(o, v) memcpy(cc + (o), &(v), sizeof(v))
	PUT(CC_DEVICE_FEATURE_SELECT, vp->device_feature_select);
	v32 = (uint32_t)feat;
	PUT(CC_DEVICE_FEATURE, v32);
	PUT(CC_DRIVER_FEATURE_SELECT, vp->driver_feature_select);
	v32 = (uint32_t)drv;
	PUT(CC_DRIVER_FEATURE, v32);
	PUT(CC_CONFIG_MSIX_VECTOR, vp->config_msix_vector);
	PUT(CC_NUM_QUEUES, vp->ops->nr_queues);
	cc[CC_DEVICE_STATUS] = vp->status;
	cc[CC_CONFIG_GENERATION] = vp->config_generation;
	PUT(CC_QUEUE_SELECT, vp->queue_select);
	if (q) {
		PUT(CC_QUEUE_SIZE, q->size);
		PUT(CC_QUEUE_MSIX_VECTOR, q->msix_vector);
		v16 = q->enabled;
		PUT(CC_QUEUE_ENABLE, v16);
		v16 = vp->queue_select;
		PUT(CC_QUEUE_NOTIFY_OFF, v16);
		PUT(CC_QUEUE_DESC, q->desc);
		PUT(CC_QUEUE_DRIVER, q->driver);
		PUT(CC_QUEUE_DEVICE, q->device);
	}
#undef PUT
	if (off + size <= COMMON_SIZE)
		memcpy(data, cc + off, size);
	else
		memset(data, 0, size);
}

/* Write the low or high half (or all) of a 64-bit queue address. */
static void set_addr(uint64_t *field, uint64_t off, uint64_t base, uint64_t v, unsigned int size)
{
	if (size == 8)
		*field = v;
	else if (off == base)
		*field = (*field & ~0xffffffffull) | (uint32_t)v;
	else
		*field = (*field & 0xffffffffull) | v << 32;
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint64_t v, unsigned int size)
{
	struct virtio_pci_queue *q = vp->queue_select < vp->ops->nr_queues ?
		&vp->queues[vp->queue_select] : NULL;
	/* Queue configuration is frozen once the queue is enabled. */
	bool q_writable = q && !q->enabled;

	switch (off) {
	case CC_DEVICE_FEATURE_SELECT: vp->device_feature_select = (uint32_t)v; break;
	case CC_DRIVER_FEATURE_SELECT: vp->driver_feature_select = (uint32_t)v; break;
	case CC_DRIVER_FEATURE:
		if (vp->driver_feature_select < 2 && !(vp->status & STATUS_FEATURES_OK)) {
			unsigned int shift = 32 * vp->driver_feature_select;

			vp->driver_features &= ~(0xffffffffull << shift);
			vp->driver_features |= (v & 0xffffffffull) << shift;
		}
		break;
	case CC_CONFIG_MSIX_VECTOR:
		vp->config_msix_vector = (uint16_t)v < vp->msix.nr ? (uint16_t)v : MSIX_NO_VECTOR;
		break;
	case CC_DEVICE_STATUS: set_status(vp, (uint8_t)v); break;
	case CC_QUEUE_SELECT: vp->queue_select = (uint16_t)v; break;
	case CC_QUEUE_SIZE:
		/* A power of two up to our maximum; virtq_init checks again. */
		if (q_writable && v && v <= vp->ops->queue_max_size)
			q->size = (uint16_t)v;
		break;
	case CC_QUEUE_MSIX_VECTOR:
		if (q)
			q->msix_vector = (uint16_t)v < vp->msix.nr ? (uint16_t)v : MSIX_NO_VECTOR;
		break;
	case CC_QUEUE_ENABLE:
		if (q && v == 1)
			queue_enable(vp, vp->queue_select);
		break;
	case CC_QUEUE_DESC: case CC_QUEUE_DESC + 4:
		if (q_writable)
			set_addr(&q->desc, off, CC_QUEUE_DESC, v, size);
		break;
	case CC_QUEUE_DRIVER: case CC_QUEUE_DRIVER + 4:
		if (q_writable)
			set_addr(&q->driver, off, CC_QUEUE_DRIVER, v, size);
		break;
	case CC_QUEUE_DEVICE: case CC_QUEUE_DEVICE + 4:
		if (q_writable)
			set_addr(&q->device, off, CC_QUEUE_DEVICE, v, size);
		break;
	default: /* read-only fields */
		break;
	}
}

static void vp_bar_read(struct pci_device *dev, int bar, uint64_t off, void *data,
			unsigned int size)
{
	struct virtio_pci *vp = dev->opaque;

	(void)bar;
	memset(data, 0, size);
	if (off >= MSIX_PBA_OFF) {
		msix_pba_read(&vp->msix, off - MSIX_PBA_OFF, data, size);
		return;
	}
	if (off >= MSIX_TABLE_OFF) {
		msix_table_read(&vp->msix, off - MSIX_TABLE_OFF, data, size);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off < COMMON_OFF + COMMON_SIZE) {
		common_read(vp, off - COMMON_OFF, data, size);
	} else if (off == ISR_OFF) {
		*(uint8_t *)data = vp->isr; /* reading acknowledges */
		vp->isr = 0;
	} else if (off >= DEVICE_OFF && off < DEVICE_OFF + vp->ops->config_size &&
		   off + size <= DEVICE_OFF + vp->ops->config_size && vp->ops->config_read) {
		vp->ops->config_read(vp->dev, (uint32_t)(off - DEVICE_OFF), data, size);
	}
	pthread_mutex_unlock(&vp->lock);
}

static void vp_bar_write(struct pci_device *dev, int bar, uint64_t off, const void *data,
			 unsigned int size)
{
	struct virtio_pci *vp = dev->opaque;
	uint64_t v = bus_data_get(data, size);

	(void)bar;
	if (off >= MSIX_PBA_OFF)
		return;
	if (off >= MSIX_TABLE_OFF) {
		msix_table_write(&vp->msix, off - MSIX_TABLE_OFF, data, size);
		return;
	}
	if (off >= NOTIFY_OFF && off < NOTIFY_OFF + (uint64_t)vp->ops->nr_queues * NOTIFY_MULTIPLIER) {
		/* No ioeventfd for this queue: hand the kick to the loop thread. */
		uint64_t one = 1;
		struct virtio_pci_queue *q = &vp->queues[(off - NOTIFY_OFF) / NOTIFY_MULTIPLIER];

		if (write(q->ioeventfd, &one, sizeof(one)) < 0)
			pr_debug("%s: kick lost", vp->ops->name);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off < COMMON_OFF + COMMON_SIZE)
		common_write(vp, off - COMMON_OFF, v, size);
	else if (off >= DEVICE_OFF && off + size <= DEVICE_OFF + vp->ops->config_size &&
		 vp->ops->config_write)
		vp->ops->config_write(vp->dev, (uint32_t)(off - DEVICE_OFF), data, size);
	pthread_mutex_unlock(&vp->lock);
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG (virtio 1.2, 4.1.4.9): a window into BAR 0 through
 * config space, for drivers (firmware) that cannot map BARs yet. The
 * driver sets cap.bar, cap.offset and cap.length (1, 2 or 4), then reads
 * or writes pci_cfg_data, which accesses the BAR there. Anything else
 * (another BAR, a misaligned or out-of-range window) reads as zero and
 * drops writes, as the spec leaves it undefined.
 */
static bool pci_cfg_window(struct virtio_pci *vp, uint32_t *off, unsigned int *len)
{
	const uint8_t *cap = &vp->pci.cfg[vp->pci_cfg_cap];
	uint32_t o, l;

	memcpy(&o, cap + 8, 4);
	memcpy(&l, cap + 12, 4);
	o = le32toh(o);
	l = le32toh(l);
	if (cap[4] != 0 || (l != 1 && l != 2 && l != 4) || (o & (l - 1)) ||
	    o + l > vp->pci.bars[0].size)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool touches_cfg_data(struct virtio_pci *vp, uint32_t offset, unsigned int size)
{
	uint32_t data = (uint32_t)vp->pci_cfg_cap + 16;

	return vp->pci_cfg_cap && !vp->cfg_window_off && offset < data + 4 &&
	       offset + size > data;
}

static void vp_config_read(struct pci_device *dev, uint32_t offset, unsigned int size)
{
	struct virtio_pci *vp = dev->opaque;
	uint8_t buf[4] = { 0 };
	unsigned int len;
	uint32_t off;

	if (!touches_cfg_data(vp, offset, size))
		return;
	if (pci_cfg_window(vp, &off, &len))
		vp_bar_read(dev, 0, off, buf, len);
	memcpy(&dev->cfg[vp->pci_cfg_cap + 16], buf, sizeof(buf));
}

static void vp_config_written(struct pci_device *dev, uint32_t offset, unsigned int size)
{
	struct virtio_pci *vp = dev->opaque;
	unsigned int len;
	uint32_t off;

	msix_config_written(&vp->msix, offset, size);
	if (touches_cfg_data(vp, offset, size) && pci_cfg_window(vp, &off, &len))
		vp_bar_write(dev, 0, off, &dev->cfg[vp->pci_cfg_cap + 16], len);
}

static const struct pci_device_ops virtio_pci_dev_ops = {
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.config_written = vp_config_written,
	.config_read = vp_config_read,
};

static int add_vendor_cap(struct pci_device *dev, uint8_t type, uint32_t off, uint32_t len,
			  bool notify)
{
	int cap = pci_device_add_cap(dev, PCI_CAP_ID_VNDR, notify ? 20 : 16);

	if (cap < 0)
		return cap;
	dev->cfg[cap + 2] = notify ? 20 : 16; /* cap_len */
	dev->cfg[cap + 3] = type;
	dev->cfg[cap + 4] = 0;                /* BAR 0 */
	pci_cfg_set32(dev, (uint32_t)cap + 8, off);
	pci_cfg_set32(dev, (uint32_t)cap + 12, len);
	if (notify)
		pci_cfg_set32(dev, (uint32_t)cap + 16, NOTIFY_MULTIPLIER);
	return 0;
}

/* The PCI configuration access capability: window registers writable. */
static int add_pci_cfg_cap(struct virtio_pci *vp)
{
	struct pci_device *dev = &vp->pci;
	int cap = pci_device_add_cap(dev, PCI_CAP_ID_VNDR, 20);

	if (cap < 0)
		return cap;
	dev->cfg[cap + 2] = 20;
	dev->cfg[cap + 3] = VIRTIO_PCI_CAP_PCI_CFG;
	dev->wmask[cap + 4] = 0xff; /* bar */
	memset(&dev->wmask[cap + 8], 0xff, 12); /* offset, length, pci_cfg_data */
	vp->pci_cfg_cap = cap;
	return 0;
}

struct virtio_pci_alloc {
	struct virtio_pci vp;
	struct kick_ctx kicks[VIRTIO_PCI_MAX_QUEUES];
};

static struct kick_ctx *kick_ctx_of(struct virtio_pci *vp, uint16_t queue)
{
	return &((struct virtio_pci_alloc *)vp)->kicks[queue];
}

int virtio_pci_queue_take_kick(struct virtio_pci *vp, uint16_t queue)
{
	if (NEVER(queue >= vp->ops->nr_queues))
		return -1;
	loop_del(vp->ctx->host->loop, vp->queues[queue].ioeventfd);
	return vp->queues[queue].ioeventfd;
}

void virtio_pci_queue_return_kick(struct virtio_pci *vp, uint16_t queue)
{
	int fd;

	if (NEVER(queue >= vp->ops->nr_queues))
		return;
	fd = vp->queues[queue].ioeventfd;
	loop_del(vp->ctx->host->loop, fd); /* not watched twice */
	if (loop_add(vp->ctx->host->loop, fd, EPOLLIN, on_kick, kick_ctx_of(vp, queue)) < 0)
		pr_warn("%s: cannot watch queue %u again; its kicks are lost", vp->ops->name,
			queue);
}

int virtio_pci_queue_irqfd(struct virtio_pci *vp, uint16_t queue)
{
	if (NEVER(queue >= vp->ops->nr_queues) || vp->queues[queue].msix_vector == MSIX_NO_VECTOR)
		return -1;
	return msix_vector_irqfd(&vp->msix, vp->queues[queue].msix_vector);
}

int virtio_pci_create(struct dev_ctx *c, const struct virtio_dev_ops *ops, void *dev,
		      struct virtio_pci **out)
{
	struct virtio_pci_alloc *a;
	struct virtio_pci *vp;
	int ret;

	if (ops->nr_queues == 0 || ops->nr_queues > VIRTIO_PCI_MAX_QUEUES ||
	    ops->config_size > DEVICE_MAX)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	vp = &a->vp;
	vp->ctx = c;
	vp->ops = ops;
	vp->dev = dev;
	pthread_mutex_init(&vp->lock, NULL);
	for (uint16_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->queues[i].ioeventfd = -1;

	pci_device_init(&vp->pci, ops->name, VIRTIO_PCI_VENDOR,
			(uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id), ops->class_code,
			&virtio_pci_dev_ops, vp);
	vp->pci.cfg[PCI_REVISION_ID] = 1; /* modern-only devices have revision >= 1 */
	pci_cfg_set16(&vp->pci, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR);
	pci_cfg_set16(&vp->pci, PCI_SUBSYSTEM_ID, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + ops->device_id));
	ret = pci_device_add_bar(&vp->pci, 0, BAR_SIZE, true);
	if (ret == 0)
		ret = add_vendor_cap(&vp->pci, VIRTIO_PCI_CAP_COMMON_CFG, COMMON_OFF, COMMON_SIZE, false);
	if (ret == 0)
		ret = add_vendor_cap(&vp->pci, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_OFF,
				     (uint32_t)ops->nr_queues * NOTIFY_MULTIPLIER, true);
	if (ret == 0)
		ret = add_vendor_cap(&vp->pci, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFF, 1, false);
	if (ret == 0 && ops->config_size)
		ret = add_vendor_cap(&vp->pci, VIRTIO_PCI_CAP_DEVICE_CFG, DEVICE_OFF,
				     ops->config_size, false);
	if (ret == 0)
		ret = add_pci_cfg_cap(vp);
	if (ret == 0)
		ret = msix_init(&vp->msix, &vp->pci, c->irq, (uint16_t)(ops->nr_queues + 1), 0,
				MSIX_TABLE_OFF, MSIX_PBA_OFF);
	if (ret < 0)
		goto fail;
	for (uint16_t i = 0; i < ops->nr_queues; i++) {
		struct kick_ctx *k = kick_ctx_of(vp, i);

		vp->queues[i].ioeventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->queues[i].ioeventfd < 0) {
			ret = -errno;
			goto fail;
		}
		k->vp = vp;
		k->queue = i;
		ret = loop_add(c->host->loop, vp->queues[i].ioeventfd, EPOLLIN, on_kick, k);
		if (ret < 0) {
			close(vp->queues[i].ioeventfd);
			vp->queues[i].ioeventfd = -1;
			goto fail;
		}
	}
	device_reset(vp);
	ret = pci_root_add_device(c->pci, &vp->pci);
	if (ret < 0)
		goto fail;
	*out = vp;
	return 0;
fail:
	virtio_pci_destroy(vp);
	return ret;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	pci_root_remove_device(vp->pci.root, &vp->pci);
	for (uint16_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];

		if (q->ioeventfd < 0)
			continue;
		queue_disable(vp, q);
		loop_del(vp->ctx->host->loop, q->ioeventfd);
		close(q->ioeventfd);
	}
	if (vp->msix.nr)
		msix_free(&vp->msix);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}
