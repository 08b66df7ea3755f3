// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshot and restore of the virtio PCI transport, once for every virtio
 * device (see virtio_pci_save/virtio_pci_load in virtio_pci.h).
 *
 * Why it exists: after a restore the guest's driver must find its device
 * exactly as it left it: BAR where it put it, MSI-X vectors programmed,
 * features negotiated, queues enabled at the same ring positions. The new
 * process built the device from the same configuration, so only what the
 * guest changed is saved, in one fixed-size blob (struct vp_state, host
 * order; snapshot files are x86-64 only) behind a snap_blob_header, in the
 * section "dev.<device name>" ("dev.virtio-blk0").
 *
 * How restore works, in this order:
 *   1. checks: the blob's kind/version/size, the same device type, slot,
 *      queue and vector counts, and the config-space bytes the guest cannot
 *      write must equal the new device's (else the configuration differs);
 *   2. the MSI-X table, PBA, enable and function mask (msix_load), which
 *      also routes the unmasked vectors in KVM;
 *   3. config space through pci_config_write(), the guest's own path:
 *      every writable dword but the command register, then the command
 *      register, so BARs are mapped once, at their final address;
 *   4. the common configuration, and each enabled queue: its virtq is
 *      attached to the rings in the restored RAM (nothing written there),
 *      its indices put back, its ioeventfd assigned at the notify address
 *      in the restored BAR (virtio_pci_queue_started, as at queue enable);
 *   5. the interrupt for used buffers pushed but not yet signalled at the
 *      save (virtio-blk drains its requests, saves, then signals), decided
 *      by virtq_should_notify as always, so the guest gets it once;
 *   6. one kick per enabled queue, on the event loop: a kick the guest sent
 *      before the snapshot may never have been read, and a device finding
 *      nothing new does nothing the guest could see.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/devstate.h"
#include "base/log.h"
#include "snapshot/snapfile.h"
#include "virtio/virtio_pci.h"
#include "dev/dev.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "state blobs are little-endian");

#define VP_STATE_KIND "VPCI"
#define VP_STATE_VERSION 2 /* 2: 32 queues (1 had 16) */

struct vp_queue_state {
	uint16_t size, msix_vector;
	uint8_t enabled, pad[3];
	uint64_t desc, driver, device;
	struct virtq_state vq;
};
_Static_assert(sizeof(struct vp_queue_state) == 80, "vp_queue_state layout");

struct vp_state {
	struct snap_blob_header h;
	uint16_t device_id, nr_queues;
	uint16_t queue_select, config_msix_vector;
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint8_t status, config_generation, isr, devfn;
	uint32_t pad;
	uint8_t cfg[PCI_CFG_SIZE];
	struct msix_state msix;
	struct vp_queue_state q[VIRTIO_PCI_MAX_QUEUES];
};
_Static_assert(sizeof(struct vp_state) == 48 + PCI_CFG_SIZE + sizeof(struct msix_state) +
	       VIRTIO_PCI_MAX_QUEUES * sizeof(struct vp_queue_state), "vp_state layout");

static int section_name(const struct virtio_pci *vp, char *name, size_t len, char *err,
			size_t errlen)
{
	int n = snprintf(name, len, "dev.%s", vp->ops->name);

	if (n < 0 || (size_t)n >= len || n > SNAP_NAME_MAX) {
		errbuf_set(err, errlen, "%s: name too long for a snapshot section", vp->ops->name);
		return -ENAMETOOLONG;
	}
	return 0;
}

int virtio_pci_save(struct virtio_pci *vp, struct snap_writer *w, char *err, size_t errlen)
{
	char name[SNAP_NAME_MAX + 8];
	struct vp_state *st;
	int ret;

	ret = section_name(vp, name, sizeof(name), err, errlen);
	if (ret < 0)
		return ret;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->device_id = vp->ops->device_id;
	st->nr_queues = vp->ops->nr_queues;

	pthread_mutex_lock(&vp->pci.root->lock);
	memcpy(st->cfg, vp->pci.cfg, PCI_CFG_SIZE);
	pthread_mutex_unlock(&vp->pci.root->lock);
	st->devfn = vp->pci.devfn;
	msix_save(&vp->msix, &st->msix);

	pthread_mutex_lock(&vp->lock);
	st->queue_select = vp->queue_select;
	st->config_msix_vector = vp->config_msix_vector;
	st->device_feature_select = vp->device_feature_select;
	st->driver_feature_select = vp->driver_feature_select;
	st->driver_features = vp->driver_features;
	st->status = vp->status;
	st->config_generation = vp->config_generation;
	st->isr = vp->isr;
	for (uint16_t i = 0; i < vp->ops->nr_queues && ret == 0; i++) {
		const struct virtio_pci_queue *q = &vp->queues[i];

		st->q[i].size = q->size;
		st->q[i].msix_vector = q->msix_vector;
		st->q[i].enabled = q->enabled;
		st->q[i].desc = q->desc;
		st->q[i].driver = q->driver;
		st->q[i].device = q->device;
		ret = virtq_save_state(&q->vq, &st->q[i].vq);
		if (ret < 0)
			errbuf_set(err, errlen, "%s: queue %u has %u requests in flight", vp->ops->name,
				   i, q->vq.in_flight);
	}
	pthread_mutex_unlock(&vp->lock);

	if (ret == 0)
		ret = devstate_put(w, name, VP_STATE_KIND, VP_STATE_VERSION, st, sizeof(*st), err,
				   errlen);
	free(st);
	return ret;
}

/* Bytes the guest cannot change must match: else the configuration differs. */
static int check_fixed_cfg(const struct virtio_pci *vp, const struct vp_state *st,
			   const char *what, char *err, size_t errlen)
{
	for (uint32_t o = 0; o < PCI_CFG_SIZE; o++) {
		uint8_t fixed = (uint8_t)~(vp->pci.wmask[o] | vp->pci.w1cmask[o]);

		if ((st->cfg[o] ^ vp->pci.cfg[o]) & fixed) {
			errbuf_set(err, errlen, "%s: PCI config byte 0x%x is 0x%02x, this device has "
				   "0x%02x (was the VM configured differently?)", what, o, st->cfg[o],
				   vp->pci.cfg[o]);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_state(const struct virtio_pci *vp, const struct vp_state *st, const char *what,
		       char *err, size_t errlen)
{
	uint64_t extra = st->driver_features & ~virtio_pci_device_features(vp);

	if (st->device_id != vp->ops->device_id || st->nr_queues != vp->ops->nr_queues ||
	    st->devfn != vp->pci.devfn) {
		errbuf_set(err, errlen, "%s: saved for virtio device type %u with %u queues in slot "
			   "%u, this is type %u with %u queues in slot %u", what, st->device_id,
			   st->nr_queues, st->devfn >> 3, vp->ops->device_id, vp->ops->nr_queues,
			   vp->pci.devfn >> 3);
		return -EINVAL;
	}
	if (st->msix.nr != vp->msix.nr) {
		errbuf_set(err, errlen, "%s: %u MSI-X vectors saved, the device has %u", what,
			   st->msix.nr, vp->msix.nr);
		return -EINVAL;
	}
	if (extra) {
		errbuf_set(err, errlen, "%s: the driver's features 0x%llx include 0x%llx, which this "
			   "device does not offer (was the VM configured differently?)", what,
			   (unsigned long long)st->driver_features, (unsigned long long)extra);
		return -EINVAL;
	}
	if (st->config_msix_vector != MSIX_NO_VECTOR && st->config_msix_vector >= vp->msix.nr) {
		errbuf_set(err, errlen, "%s: config MSI-X vector %u out of range", what,
			   st->config_msix_vector);
		return -EINVAL;
	}
	for (uint16_t i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		const struct vp_queue_state *q = &st->q[i];
		bool unused = i >= vp->ops->nr_queues;

		if (unused ? (q->enabled || q->vq.ready) :
		    (q->size == 0 || q->size > vp->ops->queue_max_size || q->enabled > 1 ||
		     (q->msix_vector != MSIX_NO_VECTOR && q->msix_vector >= vp->msix.nr) ||
		     q->enabled != q->vq.ready ||
		     (q->enabled && (q->vq.size != q->size || q->vq.desc_gpa != q->desc ||
				     q->vq.avail_gpa != q->driver ||
				     q->vq.used_gpa != q->device)))) {
			errbuf_set(err, errlen, "%s: queue %u state is inconsistent", what, i);
			return -EINVAL;
		}
	}
	return check_fixed_cfg(vp, st, what, err, errlen);
}

/* Step 3: config space through the guest's write path, command register last. */
static void restore_config(struct virtio_pci *vp, const struct vp_state *st)
{
	/* Replayed bytes of the PCI_CFG window's data register are not accesses. */
	vp->cfg_window_off = true;
	pci_device_replay_cfg(&vp->pci, st->cfg);
	vp->cfg_window_off = false;
}

int virtio_pci_load(struct virtio_pci *vp, const struct snap_reader *r, char *err,
		    size_t errlen)
{
	char name[SNAP_NAME_MAX + 8], what[sizeof(name) + 16];
	struct vp_state *st;
	int ret;

	ret = section_name(vp, name, sizeof(name), err, errlen);
	if (ret < 0)
		return ret;
	snprintf(what, sizeof(what), "section '%s'", name);
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	ret = devstate_get(r, name, VP_STATE_KIND, VP_STATE_VERSION, st, sizeof(*st), err, errlen);
	if (ret < 0)
		goto out;
	ret = check_state(vp, st, what, err, errlen);
	if (ret < 0)
		goto out;
	pthread_mutex_lock(&vp->lock);
	for (uint16_t i = 0; i < vp->ops->nr_queues; i++)
		if (vp->queues[i].enabled)
			ret = -EBUSY;
	if (vp->status)
		ret = -EBUSY;
	pthread_mutex_unlock(&vp->lock);
	if (ret < 0) {
		errbuf_set(err, errlen, "%s: the device is in use; restore needs a new one", what);
		goto out;
	}

	ret = msix_load(&vp->msix, &st->msix);
	if (ret < 0) {
		errbuf_set(err, errlen, "%s: invalid MSI-X state", what);
		goto out;
	}
	restore_config(vp, st);

	pthread_mutex_lock(&vp->lock);
	vp->queue_select = st->queue_select;
	vp->config_msix_vector = st->config_msix_vector;
	vp->device_feature_select = st->device_feature_select;
	vp->driver_feature_select = st->driver_feature_select;
	vp->driver_features = st->driver_features;
	vp->status = st->status;
	vp->config_generation = st->config_generation;
	vp->isr = st->isr;
	for (uint16_t i = 0; i < vp->ops->nr_queues; i++) {
		struct virtio_pci_queue *q = &vp->queues[i];
		const struct vp_queue_state *qs = &st->q[i];
		char qname[32];

		q->size = qs->size;
		q->msix_vector = qs->msix_vector;
		q->desc = qs->desc;
		q->driver = qs->driver;
		q->device = qs->device;
		if (!qs->enabled)
			continue;
		snprintf(qname, sizeof(qname), "%s.q%u", vp->ops->name, i);
		ret = virtq_load_state(&q->vq, vp->ctx->mem, qname, &qs->vq);
		if (ret < 0) {
			errbuf_set(err, errlen, "%s: queue %u: rings not usable (%s)", what, i,
				   strerror(-ret));
			break;
		}
		virtio_pci_queue_started(vp, i);
	}
	/* Step 5: completions the saved process had not signalled yet. */
	for (uint16_t i = 0; i < vp->ops->nr_queues && ret == 0; i++)
		if (vp->queues[i].enabled && vp->queues[i].vq.unsignalled)
			virtio_pci_queue_done(vp, i);
	pthread_mutex_unlock(&vp->lock);
	if (ret < 0)
		goto out;

	/* Step 6: one kick per enabled queue (read by the event loop later). */
	for (uint16_t i = 0; i < vp->ops->nr_queues; i++) {
		uint64_t one = 1;

		if (vp->queues[i].enabled && write(vp->queues[i].ioeventfd, &one, sizeof(one)) < 0)
			pr_warn("%s: cannot kick queue %u after restore", vp->ops->name, i);
	}
out:
	free(st);
	return ret;
}

int virtio_dev_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	return virtio_pci_save(*(struct virtio_pci **)state, w, err, errlen);
}

int virtio_dev_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	return virtio_pci_load(*(struct virtio_pci **)state, r, err, errlen);
}
