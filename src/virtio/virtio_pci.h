/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio 1.x PCI transport (modern only, no legacy I/O BAR).
 *
 * A device model (blk, console, rng, ...) fills a struct virtio_dev_ops
 * and calls virtio_pci_create(); the transport provides the PCI function
 * (vendor 0x1af4, device 0x1040 + type), the common/notify/ISR/device
 * configuration regions in BAR 0, MSI-X, feature negotiation, queue setup
 * through src/virtio/virtq.c, ioeventfds for queue kicks and irqfds for
 * interrupts. Queue kicks reach the device on the event loop thread.
 */
#ifndef PHYLLO_VIRTIO_VIRTIO_PCI_H
#define PHYLLO_VIRTIO_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio/virtq.h"

struct dev_ctx;

#define VIRTIO_PCI_MAX_QUEUES 32 /* 16 net queue pairs and a control queue fit */

#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_GPU 16
#define VIRTIO_ID_VSOCK 19

struct virtio_pci;

struct virtio_dev_ops {
	const char *name;        /* "virtio-rng": for messages */
	uint16_t device_id;      /* VIRTIO_ID_* */
	uint32_t class_code;     /* PCI class for lspci (base << 16 | sub << 8) */
	uint16_t nr_queues;
	uint16_t queue_max_size;
	uint64_t features;       /* device feature bits; the transport adds its own */
	uint32_t config_size;    /* device-specific config space, bytes */
	void (*config_read)(void *dev, uint32_t off, void *data, unsigned int size);
	void (*config_write)(void *dev, uint32_t off, const void *data, unsigned int size);
	/* A queue was kicked (event loop thread). */
	void (*queue_notify)(void *dev, struct virtio_pci *vp, uint16_t queue);
	/* The driver reset the device: drop in-flight work. */
	void (*reset)(void *dev);
	/*
	 * Optional: the driver set DRIVER_OK (vp->lock held, a vCPU thread):
	 * the negotiated features are final. For devices whose queues a kernel
	 * back end serves (vhost), or whose back end must be told what the
	 * driver accepted (a tap's offloads); a device that cannot start sets
	 * NEEDS_RESET.
	 */
	void (*driver_ok)(void *dev, struct virtio_pci *vp);
};

struct virtio_pci {
	struct pci_device pci;
	struct msix msix;
	int pci_cfg_cap;     /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	bool cfg_window_off; /* restoring config space: the window does nothing */
	struct dev_ctx *ctx;
	const struct virtio_dev_ops *ops;
	void *dev;
	pthread_mutex_t lock;      /* transport state below */
	uint32_t device_feature_select, driver_feature_select;
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	uint16_t queue_select;
	uint16_t config_msix_vector;
	struct virtio_pci_queue {
		uint16_t size;
		uint16_t msix_vector;
		bool enabled;
		uint64_t desc, driver, device;
		int ioeventfd;     /* -1 until the queue is enabled */
		uint64_t notify_addr;
		struct virtq vq;
	} queues[VIRTIO_PCI_MAX_QUEUES];
};

/* Create the device's PCI function and put it on the VM's root bus. */
int virtio_pci_create(struct dev_ctx *c, const struct virtio_dev_ops *ops, void *dev,
		      struct virtio_pci **out);
void virtio_pci_destroy(struct virtio_pci *vp);
/* After pushing used buffers on queue: interrupt the driver if it wants one. */
void virtio_pci_queue_done(struct virtio_pci *vp, uint16_t queue);
/*
 * The device stopped serving QUEUE with work left (its budget for one
 * event-loop pass is spent): call its queue_notify again on a later pass,
 * after the loop has served whatever else is ready.
 */
void virtio_pci_queue_kick_later(struct virtio_pci *vp, uint16_t queue);
/* The device found the driver's data unusable: DEVICE_NEEDS_RESET. */
void virtio_pci_set_needs_reset(struct virtio_pci *vp);
/* With vp->lock held: the device's config space changed (a config
 * change interrupt, and a new config_generation). */
void virtio_pci_config_changed(struct virtio_pci *vp);
/* Whether the driver negotiated feature bit. */
bool virtio_pci_has_feature(struct virtio_pci *vp, unsigned int bit);
/* With vp->lock held: may the device use this queue now? */
bool virtio_pci_queue_ready(struct virtio_pci *vp, uint16_t queue);
/*
 * Kernel back ends (vhost), with vp->lock held. take_kick: the event loop
 * stops reading the queue's kick eventfd and returns it, for the back end
 * to wait on (KVM's ioeventfd keeps signalling it); return_kick undoes
 * that (device reset). queue_irqfd: the irqfd of the queue's MSI-X vector,
 * or -1 when it has none.
 */
int virtio_pci_queue_take_kick(struct virtio_pci *vp, uint16_t queue);
void virtio_pci_queue_return_kick(struct virtio_pci *vp, uint16_t queue);
int virtio_pci_queue_irqfd(struct virtio_pci *vp, uint16_t queue);
/* The feature bits the device offers (its own and the transport's). */
uint64_t virtio_pci_device_features(const struct virtio_pci *vp);
/*
 * With vp->lock held, after queue's virtq was set up: mark it enabled and
 * route its kicks (ioeventfd on its notify address in BAR 0 as the BAR
 * stands now). Queue enable and snapshot restore share it.
 */
void virtio_pci_queue_started(struct virtio_pci *vp, uint16_t queue);

/*
 * Snapshots (virtio_pci_state.c), event loop thread, every vCPU parked.
 * save: the transport's whole state as section "dev.<ops->name>": PCI
 * config space, MSI-X table and PBA, common config, each queue's setup and
 * virtq indices. The device must have nothing in flight (-EBUSY otherwise).
 * load: onto a device just created from the same configuration: config
 * space goes through the guest's write path (BARs mapped, MSI-X routes
 * installed), enabled queues are set up over the restored RAM without
 * writing to it, completions saved as not yet signalled get their
 * interrupt (MSI-X: load after the vCPUs' LAPIC state, or it is lost), and
 * each queue gets one kick so that nothing the guest queued before the
 * snapshot waits for a kick that already happened.
 */
struct snap_writer;
struct snap_reader;
int virtio_pci_save(struct virtio_pci *vp, struct snap_writer *w, char *err, size_t errlen);
int virtio_pci_load(struct virtio_pci *vp, const struct snap_reader *r, char *err,
		    size_t errlen);
/*
 * The registry's save and load (dev.h) for a device whose state struct
 * has its struct virtio_pci * as first member and nothing else to keep.
 */
int virtio_dev_save(void *state, struct snap_writer *w, char *err, size_t errlen);
int virtio_dev_load(void *state, const struct snap_reader *r, char *err, size_t errlen);

static inline struct virtq *virtio_pci_vq(struct virtio_pci *vp, uint16_t queue)
{
	return &vp->queues[queue].vq;
}

#endif
