// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-net (--net): one PCI function per --net, one queue pair (queue 0
 * receives, queue 1 transmits), no control queue. Back ends: user-mode
 * networking through libslirp (src/net/slirp.c) or a tap (src/net/tap.c).
 *
 * Features: MAC, STATUS (link always up), MTU 1500. No checksum or
 * segmentation offloads: libslirp wants whole frames with valid checksums,
 * so we say so and the guest computes them. Every packet in either
 * direction starts with a 12-byte struct virtio_net_hdr_v1 (VERSION_1 is
 * always negotiated); without MRG_RXBUF each receive buffer holds one whole
 * frame, and its header is all zero but num_buffers = 1.
 *
 * Transmit: a guest kick pops each chain, checks the header and frame size
 * (a bad frame is dropped and its buffer returned, the queue carries on),
 * and hands the frame to the back end. Receive: the back end calls
 * net_rx() on the event loop thread; the frame goes straight into the next
 * receive buffer, or into a bounded backlog while the guest has posted
 * none; a kick on the receive queue flushes the backlog.
 *
 * Locking: all of it runs on the event loop thread under vp->lock. The
 * back end may answer a transmitted frame at once (ARP, DHCP) from inside
 * the transmit path, which already holds the lock: in_tx says so.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "net/slirp.h"
#include "net/tap.h"
#include "virtio/virtio_pci.h"
#include "vmm/vm.h"

#define NET_QUEUE_SIZE 256
#define RX_QUEUE 0
#define TX_QUEUE 1
#define PCI_CLASS_NETWORK_ETHERNET 0x020000

#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define NET_MTU 1500
#define NET_HDR_LEN 12           /* struct virtio_net_hdr_v1 */
#define ETH_HDR_LEN 14
#define NET_MAX_FRAME (ETH_HDR_LEN + 65535)
#define NET_RX_BACKLOG 256       /* frames kept while the guest posts no buffers */

struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
_Static_assert(sizeof(struct virtio_net_hdr_v1) == NET_HDR_LEN, "virtio_net_hdr_v1");

struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

struct net_frame {
	size_t len;
	uint8_t *data;
};

struct virtio_net {
	char name[16];                 /* "virtio-net0" */
	struct virtio_pci *vp;
	struct virtio_dev_ops ops;     /* per device: the queue size may differ */
	struct virtio_net_config config;
	struct net_slirp *slirp;       /* the back end: one of these two */
	struct net_tap *tap;
	bool in_tx;                    /* inside net_tx(): vp->lock already held */
	/* Frames waiting for receive buffers: a ring, oldest at backlog_head. */
	struct net_frame backlog[NET_RX_BACKLOG];
	unsigned int backlog_head, backlog_len;
	uint64_t rx_dropped;
	bool warned_tx, warned_rx_small, warned_rx_drop;
	struct virtq_elem rx_elem, tx_elem;
	uint8_t tx_buf[NET_MAX_FRAME];
};

/* Put one frame into the next receive buffer. Returns false if there is none. */
static bool net_rx_put(struct virtio_net *n, const void *frame, size_t len)
{
	struct virtq *vq = virtio_pci_vq(n->vp, RX_QUEUE);
	struct virtio_net_hdr_v1 hdr = { .num_buffers = 1 };
	uint32_t written = 0;
	int ret;

	if (!virtio_pci_queue_ready(n->vp, RX_QUEUE))
		return false;
	ret = virtq_pop(vq, &n->rx_elem);
	if (ret < 0)
		virtio_pci_set_needs_reset(n->vp);
	if (ret <= 0)
		return false;
	if (n->rx_elem.writable_len >= NET_HDR_LEN + len) {
		virtq_elem_write(&n->rx_elem, 0, &hdr, sizeof(hdr));
		virtq_elem_write(&n->rx_elem, NET_HDR_LEN, frame, len);
		written = (uint32_t)(NET_HDR_LEN + len);
	} else if (!n->warned_rx_small) {
		pr_warn("%s: receive buffer of %u bytes is too small for a %zu-byte frame; dropped",
			n->name, n->rx_elem.writable_len, len);
		n->warned_rx_small = true;
	}
	virtq_push(vq, &n->rx_elem, written);
	return true;
}

static void net_backlog_drop_all(struct virtio_net *n)
{
	while (n->backlog_len) {
		free(n->backlog[n->backlog_head].data);
		n->backlog_head = (n->backlog_head + 1) % NET_RX_BACKLOG;
		n->backlog_len--;
	}
}

/* With vp->lock: move what waits into the guest's buffers. */
static void net_rx_flush(struct virtio_net *n)
{
	bool pushed = false;

	while (n->backlog_len) {
		struct net_frame *f = &n->backlog[n->backlog_head];

		if (!net_rx_put(n, f->data, f->len))
			break;
		free(f->data);
		n->backlog_head = (n->backlog_head + 1) % NET_RX_BACKLOG;
		n->backlog_len--;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(n->vp, RX_QUEUE);
}

/* With vp->lock: deliver a frame from the back end, or keep it for later. */
static void net_rx_locked(struct virtio_net *n, const void *frame, size_t len)
{
	struct net_frame *f;

	if (!n->backlog_len && net_rx_put(n, frame, len)) {
		virtio_pci_queue_done(n->vp, RX_QUEUE);
		return;
	}
	if (n->backlog_len == NET_RX_BACKLOG) {
		n->rx_dropped++;
		if (!n->warned_rx_drop)
			pr_debug("%s: guest posts no receive buffers: dropping frames", n->name);
		n->warned_rx_drop = true;
		return;
	}
	f = &n->backlog[(n->backlog_head + n->backlog_len) % NET_RX_BACKLOG];
	f->data = malloc(len);
	if (!f->data) {
		n->rx_dropped++;
		return;
	}
	memcpy(f->data, frame, len);
	f->len = len;
	n->backlog_len++;
}

/* From the back end (event loop thread). */
static void net_rx(void *opaque, const void *frame, size_t len)
{
	struct virtio_net *n = opaque;

	if (n->in_tx) {
		net_rx_locked(n, frame, len);
		return;
	}
	pthread_mutex_lock(&n->vp->lock);
	net_rx_locked(n, frame, len);
	pthread_mutex_unlock(&n->vp->lock);
}

static void net_tx(struct virtio_net *n)
{
	struct virtq *vq = virtio_pci_vq(n->vp, TX_QUEUE);
	bool pushed = false;

	n->in_tx = true;
	while (virtq_pop(vq, &n->tx_elem) > 0) {
		uint32_t total = n->tx_elem.readable_len;
		uint32_t frame_len = total >= NET_HDR_LEN ? total - NET_HDR_LEN : 0;

		if (total < NET_HDR_LEN || frame_len < ETH_HDR_LEN || frame_len > NET_MAX_FRAME) {
			if (!n->warned_tx)
				pr_warn("%s: dropping a transmitted buffer of %u bytes "
					"(want a %d-byte header and a %d..%d-byte frame)",
					n->name, total, NET_HDR_LEN, ETH_HDR_LEN, NET_MAX_FRAME);
			n->warned_tx = true;
		} else if (virtq_elem_read(&n->tx_elem, NET_HDR_LEN, n->tx_buf, frame_len) == 0) {
			if (n->slirp)
				net_slirp_input(n->slirp, n->tx_buf, frame_len);
			else
				net_tap_input(n->tap, n->tx_buf, frame_len);
		}
		virtq_push(vq, &n->tx_elem, 0);
		pushed = true;
	}
	n->in_tx = false;
	if (pushed)
		virtio_pci_queue_done(n->vp, TX_QUEUE);
}

static void net_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_net *n = opaque;

	(void)vp;
	if (queue == TX_QUEUE)
		net_tx(n);
	else if (queue == RX_QUEUE)
		net_rx_flush(n);
}

static void net_reset(void *opaque)
{
	net_backlog_drop_all(opaque);
}

static void net_config_read(void *opaque, uint32_t off, void *data, unsigned int size)
{
	struct virtio_net *n = opaque;

	if (off <= sizeof(n->config) && size <= sizeof(n->config) - off)
		memcpy(data, (uint8_t *)&n->config + off, size);
}

static const struct virtio_dev_ops net_ops_template = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET,
	.class_code = PCI_CLASS_NETWORK_ETHERNET,
	.nr_queues = 2,
	.queue_max_size = NET_QUEUE_SIZE,
	.features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
		    (1ull << VIRTIO_NET_F_MTU),
	.config_size = sizeof(struct virtio_net_config),
	.config_read = net_config_read,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
};

static int parse_mac(const char *str, uint8_t mac[6])
{
	char tail;

	if (sscanf(str, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%c", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5], &tail) != 6)
		return -EINVAL;
	return 0;
}

static void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	if (n->vp)
		virtio_pci_destroy(n->vp);
	net_slirp_destroy(n->slirp);
	net_tap_destroy(n->tap);
	net_backlog_drop_all(n);
	free(n);
}

static int virtio_net_add(struct vm *vm, const struct net_config *cfg, unsigned int index,
			  struct virtio_net **out, char *err, size_t errlen)
{
	struct virtio_net *n;
	int ret;

	*out = NULL;
	if (cfg->num_queues > 2) {
		errbuf_set(err, errlen, "--net: num_queues=%u: multiqueue is not supported yet",
			   cfg->num_queues);
		return -ENOTSUP;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snprintf(n->name, sizeof(n->name), "virtio-net%u", index);
	n->ops = net_ops_template;
	if (cfg->queue_size)
		n->ops.queue_max_size = (uint16_t)cfg->queue_size;
	if (cfg->mac) {
		if (parse_mac(cfg->mac, n->config.mac) < 0 || (n->config.mac[0] & 1)) {
			errbuf_set(err, errlen, "--net: mac '%s' is not a unicast MAC address",
				   cfg->mac);
			free(n);
			return -EINVAL;
		}
	} else {
		/* QEMU's default: 52:54:00:12:34:56, the next device one higher. */
		const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + index) };

		memcpy(n->config.mac, mac, sizeof(mac));
	}
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	n->config.mtu = NET_MTU;
	if (cfg->user)
		ret = net_slirp_create(vm->host->loop, cfg, n->name, net_rx, n, &n->slirp, err,
				       errlen);
	else
		ret = net_tap_create(vm->host->loop, cfg, n->name, net_rx, n, &n->tap, err, errlen);
	if (ret < 0) {
		free(n);
		return ret;
	}
	ret = virtio_pci_create(vm, &n->ops, n, &n->vp);
	if (ret < 0) {
		n->vp = NULL;
		virtio_net_free(n);
		return ret;
	}
	*out = n;
	return 0;
}

struct virtio_net_set {
	unsigned int nr;
	struct virtio_net *nets[VM_MAX_NETS];
};

static void net_set_destroy(void *state)
{
	struct virtio_net_set *set = state;

	for (unsigned int i = 0; i < set->nr; i++)
		virtio_net_free(set->nets[i]);
	free(set);
}

static int net_set_create(struct vm *vm, void **state, char *err, size_t errlen)
{
	struct virtio_net_set *set;

	*state = NULL;
	if (!vm->cfg->nr_nets)
		return 0;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->cfg->nr_nets; i++) {
		int ret = virtio_net_add(vm, &vm->cfg->nets[i], i, &set->nets[i], err, errlen);

		if (ret < 0) {
			net_set_destroy(set);
			return ret;
		}
		set->nr++;
	}
	*state = set;
	return 0;
}

const struct device_ops virtio_net_device = {
	.name = "virtio-net",
	.create = net_set_create,
	.destroy = net_set_destroy,
};
