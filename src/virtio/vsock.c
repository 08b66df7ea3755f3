// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-vsock (--vsock cid=N,socket=PATH) on the kernel's vhost-vsock,
 * with Cloud Hypervisor's (and Firecracker's) "hybrid vsock" host side.
 *
 * The device. A modern virtio-pci function (1af4:1053) with three queues:
 * rx (0), tx (1) and event (2), and one config field, the guest's CID. We
 * never touch the rx and tx queues: at DRIVER_OK (the transport's
 * driver_ok hook) we hand them to /dev/vhost-vsock: the negotiated
 * features, our guest RAM as its memory table, each ring's size, base and
 * host addresses, the queue's kick eventfd (which KVM's ioeventfd already
 * signals; the transport stops watching it) and the irqfd of its MSI-X
 * vector as the call eventfd, then SET_RUNNING. From then on the guest
 * and the host kernel exchange packets without us. A device reset stops
 * vhost (SET_RUNNING 0), unbinds the eventfds and gives the kicks back to
 * the transport. The event queue is only ever used for a transport reset
 * after migration, which we do not do: its buffers stay posted.
 * /dev/vhost-vsock is opened and the CID claimed (VHOST_VSOCK_SET_GUEST_CID)
 * when the VM is built, so a missing module or a CID another VM holds is
 * a clear error before boot rather than a dead device after it.
 *
 * The host side (host programs reaching the guest over Unix sockets, as
 * Cloud Hypervisor does it) is vsock_relay.c. The vhost part runs under
 * the transport's lock on a vCPU thread.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "base/log.h"
#include "virtio/virtio_pci.h"
#include "virtio/vsock_relay.h"
#include "base/loop.h"
#include "dev/dev.h"

#define VSOCK_QUEUE_SIZE 256
#define VSOCK_RX 0
#define VSOCK_TX 1
#define VSOCK_EVENT 2
#define VIRTIO_VSOCK_F_SEQPACKET 1
#define PCI_CLASS_COMMUNICATION_OTHER 0x078000

struct virtio_vsock {
	struct guest_mem *mem;
	struct virtio_pci *vp;
	struct virtio_dev_ops ops;
	struct event_loop *loop;
	uint64_t cid;
	uint64_t config_cid;           /* config space: le64 guest_cid */
	/* vhost */
	int vhost_fd;
	uint64_t vhost_features;
	bool running;
	bool handed[2];                /* rx/tx kick and call given to vhost */
	struct vsock_relay *relay;     /* the host side */
};

/* --- vhost ------------------------------------------------------------------ */

static int vhost_ioctl(struct virtio_vsock *v, unsigned long req, void *arg, const char *what)
{
	if (ioctl(v->vhost_fd, req, arg) < 0) {
		int ret = -errno;

		pr_warn("virtio-vsock: vhost %s failed: %s", what, strerror(errno));
		return ret;
	}
	return 0;
}

static int vhost_set_mem_table(struct virtio_vsock *v)
{
	const struct guest_mem *mem = v->mem;
	struct vhost_memory *table;
	unsigned int n = 0;
	int ret;

	table = calloc(1, sizeof(*table) + 2 * sizeof(table->regions[0]));
	if (!table)
		return -ENOMEM;
	if (mem->low_size)
		table->regions[n++] = (struct vhost_memory_region){
			.guest_phys_addr = 0, .memory_size = mem->low_size,
			.userspace_addr = (uintptr_t)mem->host,
		};
	if (mem->high_size)
		table->regions[n++] = (struct vhost_memory_region){
			.guest_phys_addr = MEM_4G, .memory_size = mem->high_size,
			.userspace_addr = (uintptr_t)(mem->host + mem->low_size),
		};
	table->nregions = n;
	ret = vhost_ioctl(v, VHOST_SET_MEM_TABLE, table, "SET_MEM_TABLE");
	free(table);
	return ret;
}

/* Hand queue Q (rx or tx) to vhost. */
static int vhost_set_vring(struct virtio_vsock *v, unsigned int q)
{
	struct virtq *vq = virtio_pci_vq(v->vp, (uint16_t)q);
	struct vhost_vring_state num = { .index = q, .num = vq->size };
	struct vhost_vring_state base = { .index = q, .num = 0 };
	struct vhost_vring_addr addr = {
		.index = q,
		.desc_user_addr = (uintptr_t)vq->desc,
		.avail_user_addr = (uintptr_t)vq->avail,
		.used_user_addr = (uintptr_t)vq->used,
	};
	struct vhost_vring_file kick = { .index = q }, call = { .index = q };
	int ret;

	if (!v->vp->queues[q].enabled || !vq->ready) {
		pr_warn("virtio-vsock: the driver set DRIVER_OK without enabling queue %u", q);
		return -EINVAL;
	}
	ret = vhost_ioctl(v, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE");
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
	if (ret < 0)
		return ret;
	v->handed[q] = true;
	kick.fd = virtio_pci_queue_take_kick(v->vp, (uint16_t)q);
	call.fd = virtio_pci_queue_irqfd(v->vp, (uint16_t)q);
	ret = vhost_ioctl(v, VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK");
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL");
	return ret;
}

/* Stop vhost and take the queues back; safe to call in any state. */
static void vhost_stop(struct virtio_vsock *v)
{
	int zero = 0;

	if (v->running)
		vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &zero, "SET_RUNNING 0");
	v->running = false;
	for (unsigned int q = VSOCK_RX; q <= VSOCK_TX; q++) {
		struct vhost_vring_file unbind = { .index = q, .fd = -1 };

		if (!v->handed[q])
			continue;
		vhost_ioctl(v, VHOST_SET_VRING_KICK, &unbind, "SET_VRING_KICK -1");
		vhost_ioctl(v, VHOST_SET_VRING_CALL, &unbind, "SET_VRING_CALL -1");
		virtio_pci_queue_return_kick(v->vp, (uint16_t)q);
		v->handed[q] = false;
	}
}

static int vhost_start(struct virtio_vsock *v)
{
	uint64_t features = v->vp->driver_features;
	int one = 1, ret;

	if (features & ~v->vhost_features) {
		pr_warn("virtio-vsock: driver features 0x%llx are not all vhost's 0x%llx",
			(unsigned long long)features, (unsigned long long)v->vhost_features);
		return -ENOTSUP;
	}
	ret = vhost_ioctl(v, VHOST_SET_FEATURES, &features, "SET_FEATURES");
	if (ret == 0)
		ret = vhost_set_mem_table(v);
	if (ret == 0)
		ret = vhost_set_vring(v, VSOCK_RX);
	if (ret == 0)
		ret = vhost_set_vring(v, VSOCK_TX);
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &one, "SET_RUNNING 1");
	if (ret == 0)
		v->running = true;
	return ret;
}

/* The transport's hooks (vp->lock held). */
static void vsock_driver_ok(void *opaque, struct virtio_pci *vp)
{
	struct virtio_vsock *v = opaque;

	if (vhost_start(v) < 0) {
		vhost_stop(v);
		virtio_pci_set_needs_reset(vp);
		return;
	}
	pr_debug("virtio-vsock: vhost serves guest CID %llu", (unsigned long long)v->cid);
}

static void vsock_reset(void *opaque)
{
	struct virtio_vsock *v = opaque;

	/* Also called while the transport is being built, before v->vp is set. */
	if (v->vp)
		vhost_stop(v);
}

/* Kicks reach us only on the event queue (and on rx/tx before DRIVER_OK). */
static void vsock_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	(void)opaque;
	(void)vp;
	(void)queue;
}

static void vsock_config_read(void *opaque, uint32_t off, void *data, unsigned int size)
{
	struct virtio_vsock *v = opaque;

	if (off <= sizeof(v->config_cid) && size <= sizeof(v->config_cid) - off)
		memcpy(data, (uint8_t *)&v->config_cid + off, size);
}

static const struct virtio_dev_ops vsock_ops_template = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.class_code = PCI_CLASS_COMMUNICATION_OTHER,
	.nr_queues = 3,
	.queue_max_size = VSOCK_QUEUE_SIZE,
	.config_size = sizeof(uint64_t),
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.driver_ok = vsock_driver_ok,
};

static int vhost_open(struct virtio_vsock *v, char *err, size_t errlen)
{
	/* The transport always offers these; vhost must take them. */
	const uint64_t needed = (1ull << VIRTIO_F_VERSION_1) |
		(1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_F_RING_EVENT_IDX);
	uint64_t cid = v->cid;

	v->vhost_fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (v->vhost_fd < 0) {
		int ret = -errno;

		if (errno == ENOENT)
			errbuf_set(err, errlen, "--vsock: /dev/vhost-vsock does not exist "
				   "(load the vhost_vsock kernel module: modprobe vhost_vsock)");
		else
			errbuf_set(err, errlen, "--vsock: cannot open /dev/vhost-vsock: %s%s",
				   strerror(errno), errno == EACCES ?
				   " (this user needs read-write access to it)" : "");
		return ret;
	}
	if (ioctl(v->vhost_fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->vhost_fd, VHOST_GET_FEATURES, &v->vhost_features) < 0) {
		int ret = -errno;

		errbuf_set(err, errlen, "--vsock: /dev/vhost-vsock refuses us: %s", strerror(errno));
		return ret;
	}
	if ((v->vhost_features & needed) != needed) {
		errbuf_set(err, errlen, "--vsock: this kernel's vhost-vsock lacks virtio 1.0 "
			   "features (it offers 0x%llx)", (unsigned long long)v->vhost_features);
		return -ENOTSUP;
	}
	if (ioctl(v->vhost_fd, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0) {
		int ret = -errno;

		if (errno == EADDRINUSE)
			errbuf_set(err, errlen, "--vsock: cid=%llu is already used by another VM "
				   "on this host", (unsigned long long)v->cid);
		else
			errbuf_set(err, errlen, "--vsock: the kernel refuses cid=%llu: %s",
				   (unsigned long long)v->cid, strerror(errno));
		return ret;
	}
	return 0;
}

/* --- the device --------------------------------------------------------------- */

static void vsock_destroy(void *state)
{
	struct virtio_vsock *v = state;

	if (!v)
		return;
	if (v->vp) {
		pthread_mutex_lock(&v->vp->lock);
		vhost_stop(v);
		pthread_mutex_unlock(&v->vp->lock);
	}
	if (v->vhost_fd >= 0)
		close(v->vhost_fd); /* releases the CID */
	vsock_relay_close(v->relay);
	virtio_pci_destroy(v->vp);
	free(v);
}

/*
 * vhost serves the rings and writes guest RAM and the irqfds behind our
 * back, and its ring positions live in the kernel: not snapshotted.
 */
static int vsock_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	(void)state;
	(void)w;
	errbuf_set(err, errlen, "virtio-vsock (vhost) cannot be snapshotted");
	return -EOPNOTSUPP;
}

static int vsock_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	(void)state;
	(void)r;
	errbuf_set(err, errlen, "virtio-vsock (vhost) cannot be restored");
	return -EOPNOTSUPP;
}

/* One device with --vsock, reading cfg->vsock. */
static unsigned int vsock_instances(const struct vm_config *cfg, const void *slices[],
				    unsigned int max)
{
	if (!cfg->vsock.enabled || !max)
		return 0;
	slices[0] = &cfg->vsock;
	return 1;
}

static int vsock_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			 char *err, size_t errlen)
{
	const struct vsock_config *cfg = slice;
	struct virtio_vsock *v;
	int ret;

	*state = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->mem = c->mem;
	v->loop = c->host->loop;
	v->cid = cfg->cid;
	v->config_cid = htole64(cfg->cid);
	v->vhost_fd = -1;
	v->ops = vsock_ops_template;

	ret = vhost_open(v, err, errlen);
	if (ret == 0) {
		v->ops.features = v->vhost_features & (1ull << VIRTIO_VSOCK_F_SEQPACKET);
		ret = vsock_relay_open(v->loop, v->cid, cfg->socket, &v->relay, err, errlen);
	}
	if (ret == 0)
		ret = virtio_pci_create(c, &v->ops, v, &v->vp);
	if (ret < 0) {
		v->vp = NULL;
		vsock_destroy(v);
		return ret;
	}
	pr_info("virtio-vsock: guest CID %llu; host side on %s", (unsigned long long)v->cid,
		vsock_relay_path(v->relay));
	*state = v;
	return 0;
}

const struct dev_ops virtio_vsock_device = {
	.name = "virtio-vsock",
	.instances = vsock_instances,
	.realize = vsock_realize,
	.unrealize = vsock_destroy,
	.save = vsock_save,
	.load = vsock_load,
};
