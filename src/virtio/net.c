// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-net (--net): one PCI function per --net. Back ends: user-mode
 * networking through libslirp (src/net/slirp.c) or a tap (src/net/tap.c).
 *
 * Queues: one pair (queue 0 receives, queue 1 transmits) and no control
 * queue, unless num_queues=2N asks for N > 1 pairs (a tap only: libslirp
 * is one stream of frames): then MQ and CTRL_VQ are offered, queues 2i and
 * 2i+1 are pair i, queue 2N is the control queue, and the driver picks how
 * many pairs it uses (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1 after a reset);
 * the tap detaches the fds of the pairs not in use. Each pair has its own
 * packet path (struct net_pair) and tap fd; all of them run on the one
 * event loop thread, so multiqueue spreads the guest's interrupts and
 * flows, not our CPU time.
 *
 * Features: MAC, STATUS (link always up), MTU 1500, and the checksum and
 * segmentation offloads the back end can honour, nothing more. libslirp
 * wants whole frames with valid checksums: none. A tap with a vnet header
 * takes the guest's offload headers (CSUM, HOST_TSO4/6, HOST_ECN: the host
 * kernel fills checksums and cuts segments, or passes them on whole) and,
 * if TUNSETOFFLOAD works, gives offloaded frames (GUEST_CSUM, GUEST_TSO4/6,
 * GUEST_ECN): at DRIVER_OK (and after a restore of a running driver) the
 * tap is told which kinds the driver accepted, and on a reset, none. No
 * MRG_RXBUF: Linux then posts 64 KiB receive chains when it accepts TSO.
 *
 * This file is the device: the PCI function, the config space, the back
 * end and the locking. The packet path itself (headers, frame sizes, the
 * receive backlog) lives in net_queues.c, which knows neither PCI nor the
 * back ends, so that the fuzzer (tests/unit/net/fuzz_net.c) can drive it
 * on bare virtqueues; the glue here maps its four hooks onto the
 * transport (virtio_pci_queue_ready/vq, queue_done, set_needs_reset) and
 * onto the back end's input function.
 *
 * Transmit: a guest kick pops each chain and hands the frame, as segments
 * of guest memory, to the back end: a tap takes them with one writev(),
 * libslirp gets them gathered into one buffer. Receive from a tap: when
 * its fd is readable, net_tap_ready() reads frames straight into the
 * guest's receive buffers (no copy of ours; a batch per wakeup, one
 * interrupt); with no buffer posted the fd is paused until the guest
 * kicks the receive queue, and frames wait in the tap's own queue.
 * Receive from libslirp: it calls net_rx() with a frame of its own, which
 * is copied into the next receive buffer, or into the backlog while the
 * guest has posted none; a kick on the receive queue flushes it.
 *
 * Locking: all of it runs on the event loop thread under vp->lock. The
 * back end may answer a transmitted frame at once (ARP, DHCP) from inside
 * the transmit path, which already holds the lock: in_tx says so.
 *
 * Snapshots: the transport's state, one section per device
 * ("dev.virtio-net0"), and with several pairs how many are in use
 * ("dev.virtio-net0.mq"). Transmit chains are sent as they are popped and
 * received frames written as they are popped, so nothing is in flight; the
 * receive backlog is not saved (those frames are lost, as a real network
 * loses frames) and neither is the back end's state (slirp's connections).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_tun.h>

#include "dev/devstate.h"
#include "base/log.h"
#include "net/slirp.h"
#include "net/tap.h"
#include "virtio/net_queues.h"
#include "virtio/virtio_pci.h"
#include "dev/dev.h"

#define NET_QUEUE_SIZE 256
#define PCI_CLASS_NETWORK_ETHERNET 0x020000

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1

#define NET_MTU 1500
#define BIT(n) (1ull << (n))
#define NET_HOST_OFFLOADS (BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) | \
			   BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN))
#define NET_GUEST_OFFLOADS (BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_TSO4) | \
			    BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VIRTIO_NET_F_GUEST_ECN))

struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

struct virtio_net;

/* One queue pair: its packet path (queues 2 * index and 2 * index + 1). */
struct net_pair {
	struct virtio_net *n;
	unsigned int index;
	struct net_queues q;
};

struct virtio_net {
	char name[16];                 /* "virtio-net0" */
	struct virtio_pci *vp;
	struct virtio_dev_ops ops;     /* per device: queues and features differ */
	struct virtio_net_config config;
	struct net_slirp *slirp;       /* the back end: one of these two */
	struct net_tap *tap;
	bool in_tx;                    /* inside a transmit: vp->lock already held */
	unsigned int nr_pairs;         /* max_virtqueue_pairs */
	unsigned int active_pairs;     /* what the driver uses (VQ_PAIRS_SET) */
	uint16_t ctrl_queue;           /* 2 * nr_pairs, if nr_pairs > 1 */
	struct virtq_elem ctrl_elem;
	struct net_pair pairs[NET_TAP_MAX_QUEUES];
	uint8_t *slirp_buf;            /* a transmitted frame, gathered for libslirp */
};

#define NET_TAP_RX_BATCH 64            /* frames read per wakeup of a tap fd */

/* --- the packet path's hooks, called with vp->lock held ------------------- */

static uint16_t pair_queue(const struct net_pair *p, uint16_t queue)
{
	return (uint16_t)(2 * p->index + queue);
}

static struct virtq *net_hook_queue(void *opaque, uint16_t queue)
{
	struct net_pair *p = opaque;
	struct virtio_net *n = p->n;

	/* A pair the driver does not use is not ours to touch. */
	if (p->index >= n->active_pairs)
		return NULL;
	queue = pair_queue(p, queue);
	return virtio_pci_queue_ready(n->vp, queue) ? virtio_pci_vq(n->vp, queue) : NULL;
}

static void net_hook_queue_done(void *opaque, uint16_t queue)
{
	struct net_pair *p = opaque;

	virtio_pci_queue_done(p->n->vp, pair_queue(p, queue));
}

static void net_hook_needs_reset(void *opaque)
{
	struct net_pair *p = opaque;

	virtio_pci_set_needs_reset(p->n->vp);
}

static void net_hook_kick_later(void *opaque, uint16_t queue)
{
	struct net_pair *p = opaque;

	virtio_pci_queue_kick_later(p->n->vp, pair_queue(p, queue));
}

static void net_hook_transmit(void *opaque, const struct vnet_hdr *hdr,
			      const struct iovec *frame, unsigned int iovcnt, size_t len)
{
	struct net_pair *p = opaque;
	struct virtio_net *n = p->n;

	if (n->tap) {
		net_tap_input(n->tap, p->index, hdr, frame, iovcnt);
		return;
	}
	/* libslirp takes one contiguous frame. */
	net_slirp_input(n->slirp, n->slirp_buf,
			iov_to_buf(frame, iovcnt, 0, n->slirp_buf, len));
}

static const struct net_queues_ops net_hooks = {
	.queue = net_hook_queue,
	.queue_done = net_hook_queue_done,
	.needs_reset = net_hook_needs_reset,
	.kick_later = net_hook_kick_later,
	.transmit = net_hook_transmit,
};

static ssize_t net_tap_read_fn(void *ctx, const struct iovec *iov, unsigned int iovcnt)
{
	struct net_pair *p = ctx;

	return net_tap_read(p->n->tap, p->index, iov, iovcnt);
}

/*
 * The tap's fd QUEUE has frames (event loop thread): read them straight
 * into the pair's receive buffers, a bounded batch per wakeup so the loop
 * stays fair, one interrupt for the batch. With no buffer left, the fd is
 * paused until the guest kicks the receive queue.
 */
static void net_tap_ready(void *opaque, unsigned int queue)
{
	struct virtio_net *n = opaque;
	struct net_pair *p = &n->pairs[queue < n->nr_pairs ? queue : 0];
	bool has_hdr = net_tap_has_vnet_hdr(n->tap);
	int ret = 1, got = 0;

	pthread_mutex_lock(&n->vp->lock);
	while (got < NET_TAP_RX_BATCH &&
	       (ret = net_queues_rx_read(&p->q, net_tap_read_fn, p, has_hdr)) > 0)
		got++;
	if (ret == 0)
		net_tap_pause_rx(n->tap, p->index, true);
	if (got)
		net_queues_rx_done(&p->q);
	pthread_mutex_unlock(&n->vp->lock);
}

/* Every fd of the tap is watched again: the queues may have changed. */
static void net_tap_resume_all(struct virtio_net *n)
{
	for (unsigned int i = 0; n->tap && i < n->nr_pairs; i++)
		net_tap_pause_rx(n->tap, i, false);
}

/* From libslirp (event loop thread). */
static void net_rx(void *opaque, unsigned int queue, const struct vnet_hdr *hdr,
		   const void *frame, size_t len)
{
	struct virtio_net *n = opaque;
	struct net_queues *q = &n->pairs[queue < n->nr_pairs ? queue : 0].q;

	if (n->in_tx) {
		net_queues_rx(q, hdr, frame, len);
		return;
	}
	pthread_mutex_lock(&n->vp->lock);
	net_queues_rx(q, hdr, frame, len);
	pthread_mutex_unlock(&n->vp->lock);
}

/* How many pairs the driver uses: the packet paths and the tap follow. */
static void net_set_active_pairs(struct virtio_net *n, unsigned int active)
{
	int ret;

	for (unsigned int i = active; i < n->active_pairs; i++)
		net_queues_reset(&n->pairs[i].q);
	n->active_pairs = active;
	if (n->tap && n->nr_pairs > 1) {
		ret = net_tap_set_queues(n->tap, active);
		if (ret < 0)
			pr_warn("%s: cannot attach %u tap queue(s): %s", n->name, active,
				strerror(-ret));
	}
	net_tap_resume_all(n);
	pr_debug("%s: %u of %u queue pair(s) in use", n->name, active, n->nr_pairs);
}

/*
 * The control queue: each chain is a class and command byte, the command's
 * data, and one writable status byte. Only MQ's VQ_PAIRS_SET is offered
 * (no CTRL_RX, CTRL_VLAN, GUEST_ANNOUNCE or CTRL_GUEST_OFFLOADS); anything
 * else, or a bad pair count, is answered VIRTIO_NET_ERR.
 */
static void net_ctrl(struct virtio_net *n)
{
	struct virtq *vq;
	bool pushed = false;
	int ret;

	if (!virtio_pci_queue_ready(n->vp, n->ctrl_queue))
		return;
	vq = virtio_pci_vq(n->vp, n->ctrl_queue);
	while ((ret = virtq_pop(vq, &n->ctrl_elem)) > 0) {
		struct virtq_elem *e = &n->ctrl_elem;
		uint8_t cmd[2], ack = VIRTIO_NET_ERR;
		uint16_t pairs;

		if (e->writable_len < 1 || e->readable_len < sizeof(cmd) ||
		    virtq_elem_read(e, 0, cmd, sizeof(cmd)) < 0) {
			virtq_push(vq, e, 0);
			pushed = true;
			continue;
		}
		if (cmd[0] == VIRTIO_NET_CTRL_MQ && cmd[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    e->readable_len == sizeof(cmd) + sizeof(pairs) &&
		    virtq_elem_read(e, sizeof(cmd), &pairs, sizeof(pairs)) == 0) {
			pairs = le16toh(pairs);
			if (pairs >= 1 && pairs <= n->nr_pairs) {
				net_set_active_pairs(n, pairs);
				ack = VIRTIO_NET_OK;
			}
		}
		virtq_elem_write(e, 0, &ack, sizeof(ack));
		virtq_push(vq, e, sizeof(ack));
		pushed = true;
	}
	if (ret < 0)
		virtio_pci_set_needs_reset(n->vp);
	if (pushed)
		virtio_pci_queue_done(n->vp, n->ctrl_queue);
}

/*
 * Make the packet path and the tap follow what the driver negotiated
 * (vp->lock held): at DRIVER_OK, after a restore, and (all off) on reset.
 */
static void net_apply_features(struct virtio_net *n, bool on)
{
	struct virtio_pci *vp = n->vp;
	unsigned int tun = 0;
	int ret;

	for (unsigned int i = 0; i < n->nr_pairs; i++)
		n->pairs[i].q.tx_offload = on && virtio_pci_has_feature(vp, VIRTIO_NET_F_CSUM);
	if (!n->tap)
		return;
	if (on && virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_CSUM)) {
		tun = TUN_F_CSUM;
		if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_TSO4))
			tun |= TUN_F_TSO4;
		if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_TSO6))
			tun |= TUN_F_TSO6;
		if (virtio_pci_has_feature(vp, VIRTIO_NET_F_GUEST_ECN))
			tun |= TUN_F_TSO_ECN;
	}
	ret = net_tap_set_offload(n->tap, tun);
	if (ret < 0)
		pr_warn("%s: the tap refused offloads 0x%x: %s", n->name, tun, strerror(-ret));
}

static void net_driver_ok(void *opaque, struct virtio_pci *vp)
{
	(void)vp;
	net_apply_features(opaque, true);
	net_tap_resume_all(opaque);
}

/* A kick (event loop thread, vp->lock held). */
static void net_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_net *n = opaque;
	struct net_pair *p;

	(void)vp;
	if (n->nr_pairs > 1 && queue == n->ctrl_queue) {
		net_ctrl(n);
		return;
	}
	if (queue / 2 >= n->nr_pairs)
		return;
	p = &n->pairs[queue / 2];
	if (queue % 2 == NET_TX_QUEUE) {
		n->in_tx = true;
		net_queues_tx(&p->q);
		n->in_tx = false;
	} else if (n->tap) {
		net_tap_pause_rx(n->tap, p->index, false); /* new buffers */
	} else {
		net_queues_rx_kick(&p->q);
	}
}

static void net_reset(void *opaque)
{
	struct virtio_net *n = opaque;

	for (unsigned int i = 0; i < n->nr_pairs; i++)
		net_queues_reset(&n->pairs[i].q);
	net_apply_features(n, false);
	/* The spec: after a reset, the driver uses one pair until it says more. */
	if (n->active_pairs != 1)
		net_set_active_pairs(n, 1);
	net_tap_resume_all(n);
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
	.nr_queues = 2,                /* 2 * pairs + 1 with several pairs */
	.queue_max_size = NET_QUEUE_SIZE,
	.features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS) |
		    (1ull << VIRTIO_NET_F_MTU),
	.config_size = sizeof(struct virtio_net_config),
	.config_read = net_config_read,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
	.driver_ok = net_driver_ok,
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
	for (unsigned int i = 0; i < n->nr_pairs; i++)
		net_queues_reset(&n->pairs[i].q);
	free(n->slirp_buf);
	free(n);
}

static int virtio_net_realize(struct dev_ctx *c, const void *slice, unsigned int index,
			      void **state, char *err, size_t errlen)
{
	const struct net_config *cfg = slice;
	struct virtio_net *n;
	unsigned int offloads;
	int ret;

	*state = NULL;
	if (cfg->num_queues > 2 && cfg->user) {
		errbuf_set(err, errlen, "--net: num_queues=%u: user-mode networking has one queue "
			   "pair (several need a tap)", cfg->num_queues);
		return -EINVAL;
	}
	if (cfg->num_queues > 2 * NET_TAP_MAX_QUEUES) {
		errbuf_set(err, errlen, "--net: num_queues=%u: at most %d", cfg->num_queues,
			   2 * NET_TAP_MAX_QUEUES);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snprintf(n->name, sizeof(n->name), "virtio-net%u", index);
	n->nr_pairs = cfg->num_queues > 2 ? cfg->num_queues / 2 : 1;
	n->active_pairs = 1;
	for (unsigned int i = 0; i < n->nr_pairs; i++) {
		n->pairs[i] = (struct net_pair){ .n = n, .index = i };
		net_queues_init(&n->pairs[i].q, n->name, &net_hooks, &n->pairs[i]);
	}
	n->ops = net_ops_template;
	if (n->nr_pairs > 1) {
		n->ctrl_queue = (uint16_t)(2 * n->nr_pairs);
		n->ops.nr_queues = (uint16_t)(2 * n->nr_pairs + 1);
		n->ops.features |= BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_MQ);
	}
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
	n->config.max_virtqueue_pairs = (uint16_t)n->nr_pairs;
	n->config.mtu = NET_MTU;
	if (cfg->user && !(n->slirp_buf = malloc(NET_MAX_FRAME))) {
		free(n);
		return -ENOMEM;
	}
	if (cfg->user)
		ret = net_slirp_create(c->host->loop, cfg, n->name, net_rx, n, &n->slirp, err,
				       errlen);
	else
		ret = net_tap_create(c->host->loop, cfg, n->name, net_tap_ready, n, &n->tap, err,
				     errlen);
	if (ret < 0) {
		free(n->slirp_buf);
		free(n);
		return ret;
	}
	if (n->tap && n->nr_pairs > 1)
		net_tap_set_queues(n->tap, 1); /* until the driver says more */
	offloads = n->tap ? net_tap_offloads(n->tap) : 0;
	if (offloads & NET_TAP_HOST_OFFLOAD)
		n->ops.features |= NET_HOST_OFFLOADS;
	if (offloads & NET_TAP_GUEST_OFFLOAD)
		n->ops.features |= NET_GUEST_OFFLOADS;
	ret = virtio_pci_create(c, &n->ops, n, &n->vp);
	if (ret < 0) {
		n->vp = NULL;
		virtio_net_free(n);
		return ret;
	}
	*state = n;
	return 0;
}

/* With several pairs, how many the driver uses ("dev.virtio-netN.mq"). */
#define NET_MQ_KIND "NTMQ"
#define NET_MQ_VERSION 1
struct net_mq_state {
	struct snap_blob_header h;
	uint32_t active_pairs, nr_pairs;
};
_Static_assert(sizeof(struct net_mq_state) == 24, "net_mq_state layout");

static int net_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct virtio_net *n = state;
	struct net_mq_state st = { .nr_pairs = n->nr_pairs };
	char name[32];
	int ret = virtio_pci_save(n->vp, w, err, errlen);

	if (ret < 0 || n->nr_pairs == 1)
		return ret;
	pthread_mutex_lock(&n->vp->lock);
	st.active_pairs = n->active_pairs;
	pthread_mutex_unlock(&n->vp->lock);
	snprintf(name, sizeof(name), "dev.%s.mq", n->name);
	return devstate_put(w, name, NET_MQ_KIND, NET_MQ_VERSION, &st, sizeof(st), err, errlen);
}

static int net_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct virtio_net *n = state;
	struct net_mq_state st;
	char name[32];
	int ret = virtio_pci_load(n->vp, r, err, errlen);

	if (ret < 0)
		return ret;
	if (n->nr_pairs > 1) {
		snprintf(name, sizeof(name), "dev.%s.mq", n->name);
		ret = devstate_get(r, name, NET_MQ_KIND, NET_MQ_VERSION, &st, sizeof(st), err,
				   errlen);
		if (ret < 0)
			return ret;
		if (st.nr_pairs != n->nr_pairs || !st.active_pairs || st.active_pairs > n->nr_pairs) {
			errbuf_set(err, errlen, "%s: %u of %u queue pairs in use in the snapshot, "
				   "%u configured", name, st.active_pairs, st.nr_pairs, n->nr_pairs);
			return -EINVAL;
		}
	}
	pthread_mutex_lock(&n->vp->lock);
	if (n->nr_pairs > 1)
		net_set_active_pairs(n, st.active_pairs);
	net_apply_features(n, virtio_pci_queue_ready(n->vp, NET_RX_QUEUE));
	pthread_mutex_unlock(&n->vp->lock);
	return 0;
}

/* One device per --net, each reading its cfg->nets[i]. */
static unsigned int net_instances(const struct vm_config *cfg, const void *slices[],
				  unsigned int max)
{
	return dev_instances_of_array(cfg->nets, sizeof(cfg->nets[0]), cfg->nr_nets, slices, max);
}

static void net_unrealize(void *state)
{
	virtio_net_free(state);
}

const struct dev_ops virtio_net_device = {
	.name = "virtio-net",
	.instances = net_instances,
	.realize = virtio_net_realize,
	.unrealize = net_unrealize,
	.save = net_save,
	.load = net_load,
};
