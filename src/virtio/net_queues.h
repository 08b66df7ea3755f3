/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The packet path of virtio-net, without the PCI transport or a back end:
 * what turns the guest's transmit chains into frames and frames into the
 * guest's receive buffers. src/virtio/net.c is the device (PCI function,
 * config space, back ends, locking) and calls in here; the libFuzzer
 * target tests/unit/net/fuzz_net.c drives the same code on bare virtqueues.
 *
 * The caller serialises every call (net.c holds vp->lock). A transmitted
 * frame goes out through ops->transmit, which may feed an answer straight
 * back into net_queues_rx() (slirp answers ARP and DHCP at once): that is
 * allowed, the receive path touches only receive state.
 */
#ifndef PHYLLO_VIRTIO_NET_QUEUES_H
#define PHYLLO_VIRTIO_NET_QUEUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "net/vnet_hdr.h"
#include "virtio/virtq.h"

#define NET_RX_QUEUE 0
#define NET_TX_QUEUE 1

#define NET_HDR_LEN VNET_HDR_LEN /* struct virtio_net_hdr_v1 (VERSION_1) */
#define NET_ETH_HDR_LEN 14
#define NET_MAX_FRAME (NET_ETH_HDR_LEN + 65535)
#define NET_RX_BACKLOG 256       /* frames kept while the guest posts no buffers */
#define NET_TX_PASS_FRAMES 256   /* frames sent per event-loop pass at most */

/* What the packet path needs from its device. */
struct net_queues_ops {
	/* The queue's virtqueue if the device may use it now, else NULL. */
	struct virtq *(*queue)(void *opaque, uint16_t queue);
	/* Used buffers were pushed on queue: interrupt the driver if it wants. */
	void (*queue_done)(void *opaque, uint16_t queue);
	/* The driver's ring is malformed: DEVICE_NEEDS_RESET. */
	void (*needs_reset)(void *opaque);
	/* A pass's budget is spent with chains left: call net_queues_tx again soon. */
	void (*kick_later)(void *opaque, uint16_t queue);
	/*
	 * A frame (NET_ETH_HDR_LEN..NET_MAX_FRAME bytes) the guest sent, with
	 * its header: the guest's own while tx_offload is set, else all zero.
	 * The frame is LEN bytes in IOVCNT segments of guest memory, which the
	 * guest may change at any time: a back end copies it (writev to a tap
	 * does) before it looks at it.
	 */
	void (*transmit)(void *opaque, const struct vnet_hdr *hdr, const struct iovec *frame,
			 unsigned int iovcnt, size_t len);
};

/*
 * A back end that reads frames straight into guest buffers (a tap): read
 * one frame into IOV (IOVCNT segments), preceded by its vnet header when
 * the back end has one. Returns the bytes read (header included, the
 * frame's whole length even when IOV was too short for it), or -errno
 * (-EAGAIN: no frame waiting).
 */
typedef ssize_t (*net_read_fn)(void *ctx, const struct iovec *iov, unsigned int iovcnt);

struct net_frame {
	struct vnet_hdr hdr;
	size_t len;
	uint8_t *data;
};

struct net_queues {
	char name[16];                 /* "virtio-net0": prefixes warnings */
	const struct net_queues_ops *ops;
	void *opaque;
	/* Frames waiting for receive buffers: a ring, oldest at backlog_head. */
	struct net_frame backlog[NET_RX_BACKLOG];
	unsigned int backlog_head, backlog_len;
	uint64_t rx_dropped, tx_dropped;
	/* The driver negotiated VIRTIO_NET_F_CSUM: its headers mean something. */
	bool tx_offload;
	bool warned_tx, warned_rx_small, warned_rx_drop;
	struct virtq_elem rx_elem, tx_elem;
	struct iovec tx_iov[VIRTQ_ELEM_MAX_SEGS];
	struct iovec rx_iov[VIRTQ_ELEM_MAX_SEGS];
};

void net_queues_init(struct net_queues *nq, const char *name, const struct net_queues_ops *ops,
		     void *opaque);
/*
 * The guest kicked the transmit queue: send the chains it holds, up to
 * NET_TX_PASS_FRAMES (then ops->kick_later).
 */
void net_queues_tx(struct net_queues *nq);
/* The guest kicked the receive queue (new buffers): deliver the backlog. */
void net_queues_rx_kick(struct net_queues *nq);
/*
 * A frame from the back end: into the next receive buffer, or the backlog.
 * HDR (NULL: none, the frame is whole and checksummed) is what the back end
 * says of it; the device only lets a back end produce offloaded frames the
 * driver accepted (GUEST_CSUM, GUEST_TSO*).
 */
void net_queues_rx(struct net_queues *nq, const struct vnet_hdr *hdr, const void *frame,
		   size_t len);
/*
 * Receive one frame straight into the next receive buffer: READ(CTX, ...)
 * fills it, with a vnet header first if HAS_HDR, else we write an all-zero
 * one. Returns 1 when a buffer was used (or a bad frame dropped), 0 when
 * the guest has posted no buffer (the back end should stop reading until
 * the next kick on the receive queue), or READ's -errno (the buffer is
 * given back: -EAGAIN means the back end is empty). Only for back ends
 * that never use net_queues_rx() (the backlog would be overtaken).
 */
int net_queues_rx_read(struct net_queues *nq, net_read_fn read, void *ctx, bool has_hdr);
/* After one or more net_queues_rx_read(): interrupt the driver if it wants. */
void net_queues_rx_done(struct net_queues *nq);
/* Device reset or teardown: drop the backlog. */
void net_queues_reset(struct net_queues *nq);

#endif
