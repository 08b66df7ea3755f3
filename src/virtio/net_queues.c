// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The virtio-net packet path (see net_queues.h): no PCI, no back end, so
 * that the fuzzer (tests/unit/net/fuzz_net.c) runs exactly this code.
 *
 * Every packet in either direction starts with a 12-byte struct
 * virtio_net_hdr_v1 (net/vnet_hdr.h). Offloads are the device's business
 * (net.c offers them only when the back end can do them); here:
 *
 *   - transmit: the header goes to the back end with the frame when the
 *     driver negotiated VIRTIO_NET_F_CSUM (tx_offload), else it is replaced
 *     by an all-zero one (without CSUM it cannot mean anything); the rest
 *     of the chain's readable bytes is one Ethernet frame. A chain
 *     too short for the header and an Ethernet header, or longer than
 *     NET_MAX_FRAME after the header, is dropped and its buffer returned:
 *     a bad frame is the guest's loss, not a broken queue. Writable
 *     segments in a transmit chain are ignored (used length 0).
 *   - receive: no MRG_RXBUF, so each buffer (one descriptor chain, which
 *     Linux makes 64 KiB+ long when it accepts TSO) holds one whole frame
 *     after the back end's header (all zero if it gave none) with
 *     num_buffers = 1. A buffer too small for the frame is returned
 *     empty (used length 0) and the frame dropped, as Linux's own driver
 *     sizes its buffers for the MTU and would otherwise stall the queue.
 *     Frames that arrive while no buffer is posted wait in a bounded
 *     backlog (NET_RX_BACKLOG frames; beyond that they are dropped).
 *
 * A malformed ring (virtq_pop() < 0) asks the device for NEEDS_RESET
 * through ops->needs_reset; from then on ops->queue() returns NULL and
 * nothing more is popped or pushed until the driver resets the device.
 */
#include "virtio/net_queues.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

void net_queues_init(struct net_queues *nq, const char *name, const struct net_queues_ops *ops,
		     void *opaque)
{
	memset(nq, 0, offsetof(struct net_queues, rx_elem));
	snprintf(nq->name, sizeof(nq->name), "%s", name);
	nq->ops = ops;
	nq->opaque = opaque;
}

static void net_rx_too_small(struct net_queues *nq, size_t len)
{
	nq->rx_dropped++;
	if (!nq->warned_rx_small)
		pr_warn("%s: receive buffer of %u bytes is too small for a %zu-byte frame; dropped",
			nq->name, nq->rx_elem.writable_len, len);
	nq->warned_rx_small = true;
}

/*
 * Put one frame into the next receive buffer. Returns false when there is
 * none (or the queue cannot be used), true when a buffer was consumed,
 * whether the frame fitted or not.
 */
static bool net_rx_put(struct net_queues *nq, const struct vnet_hdr *from, const void *frame,
		       size_t len)
{
	struct virtq *vq = nq->ops->queue(nq->opaque, NET_RX_QUEUE);
	struct vnet_hdr hdr = *from;
	uint32_t written = 0;
	int ret;

	if (!vq)
		return false;
	ret = virtq_pop(vq, &nq->rx_elem);
	if (ret < 0)
		nq->ops->needs_reset(nq->opaque);
	if (ret <= 0)
		return false;
	hdr.num_buffers = htole16(1);
	if (nq->rx_elem.writable_len >= NET_HDR_LEN + len) {
		virtq_elem_write(&nq->rx_elem, 0, &hdr, sizeof(hdr));
		virtq_elem_write(&nq->rx_elem, NET_HDR_LEN, frame, len);
		written = (uint32_t)(NET_HDR_LEN + len);
	} else {
		net_rx_too_small(nq, len);
	}
	virtq_push(vq, &nq->rx_elem, written);
	return true;
}

int net_queues_rx_read(struct net_queues *nq, net_read_fn read, void *ctx, bool has_hdr)
{
	struct virtq *vq = nq->ops->queue(nq->opaque, NET_RX_QUEUE);
	const struct iovec *iov;
	uint16_t one = htole16(1);
	uint32_t written = 0;
	ssize_t n;
	int ret, nr;

	if (!vq)
		return 0;
	ret = virtq_pop(vq, &nq->rx_elem);
	if (ret < 0)
		nq->ops->needs_reset(nq->opaque);
	if (ret <= 0)
		return 0;
	iov = virtq_elem_writable(&nq->rx_elem);
	nr = iov_slice(iov, nq->rx_elem.n_writable, has_hdr ? 0 : NET_HDR_LEN, SIZE_MAX, nq->rx_iov,
		       VIRTQ_ELEM_MAX_SEGS);
	if (nr <= 0) {
		/* No room past the header: the buffer goes back empty, unread. */
		nq->rx_dropped++;
		virtq_push(vq, &nq->rx_elem, 0);
		return 1;
	}
	n = read(ctx, nq->rx_iov, (unsigned int)nr);
	if (n < 0) {
		virtq_unpop(vq, &nq->rx_elem);
		return (int)n;
	}
	if (!has_hdr)
		n += NET_HDR_LEN;
	if (n < NET_HDR_LEN + NET_ETH_HDR_LEN) {
		nq->rx_dropped++;
	} else if ((size_t)n > nq->rx_elem.writable_len) {
		/* The back end cut the frame to the buffer: drop what is left. */
		net_rx_too_small(nq, (size_t)n - NET_HDR_LEN);
	} else {
		/* A tap's header stops before num_buffers (it never writes it). */
		if (has_hdr)
			virtq_elem_write(&nq->rx_elem, offsetof(struct vnet_hdr, num_buffers), &one,
					 sizeof(one));
		else
			virtq_elem_write(&nq->rx_elem, 0, &(struct vnet_hdr){ .num_buffers = one },
					 sizeof(struct vnet_hdr));
		written = (uint32_t)n;
	}
	virtq_push(vq, &nq->rx_elem, written);
	return 1;
}

void net_queues_rx_done(struct net_queues *nq)
{
	nq->ops->queue_done(nq->opaque, NET_RX_QUEUE);
}

void net_queues_reset(struct net_queues *nq)
{
	while (nq->backlog_len) {
		free(nq->backlog[nq->backlog_head].data);
		nq->backlog[nq->backlog_head].data = NULL;
		nq->backlog_head = (nq->backlog_head + 1) % NET_RX_BACKLOG;
		nq->backlog_len--;
	}
	nq->backlog_head = 0;
}

void net_queues_rx_kick(struct net_queues *nq)
{
	bool pushed = false;

	while (nq->backlog_len) {
		struct net_frame *f = &nq->backlog[nq->backlog_head];

		if (!net_rx_put(nq, &f->hdr, f->data, f->len))
			break;
		free(f->data);
		f->data = NULL;
		nq->backlog_head = (nq->backlog_head + 1) % NET_RX_BACKLOG;
		nq->backlog_len--;
		pushed = true;
	}
	if (pushed)
		nq->ops->queue_done(nq->opaque, NET_RX_QUEUE);
}

void net_queues_rx(struct net_queues *nq, const struct vnet_hdr *hdr, const void *frame,
		   size_t len)
{
	static const struct vnet_hdr none;
	struct net_frame *f;

	if (!hdr)
		hdr = &none;
	if (len < NET_ETH_HDR_LEN || len > NET_MAX_FRAME) {
		nq->rx_dropped++;
		return;
	}
	/* Older frames first: only an empty backlog lets a frame overtake. */
	if (!nq->backlog_len && net_rx_put(nq, hdr, frame, len)) {
		nq->ops->queue_done(nq->opaque, NET_RX_QUEUE);
		return;
	}
	if (nq->backlog_len == NET_RX_BACKLOG) {
		nq->rx_dropped++;
		if (!nq->warned_rx_drop)
			pr_debug("%s: guest posts no receive buffers: dropping frames", nq->name);
		nq->warned_rx_drop = true;
		return;
	}
	f = &nq->backlog[(nq->backlog_head + nq->backlog_len) % NET_RX_BACKLOG];
	f->data = malloc(len);
	if (!f->data) {
		nq->rx_dropped++;
		return;
	}
	memcpy(f->data, frame, len);
	f->hdr = *hdr;
	f->len = len;
	nq->backlog_len++;
}

void net_queues_tx(struct net_queues *nq)
{
	struct virtq *vq = nq->ops->queue(nq->opaque, NET_TX_QUEUE);
	unsigned int frames = 0;
	bool pushed = false;
	int ret;

	if (!vq)
		return;
	while ((ret = virtq_pop(vq, &nq->tx_elem)) > 0) {
		uint32_t total = nq->tx_elem.readable_len;
		uint32_t frame_len = total >= NET_HDR_LEN ? total - NET_HDR_LEN : 0;

		if (frame_len < NET_ETH_HDR_LEN || frame_len > NET_MAX_FRAME) {
			nq->tx_dropped++;
			if (!nq->warned_tx)
				pr_warn("%s: dropping a transmitted buffer of %u bytes "
					"(want a %d-byte header and a %d..%d-byte frame)",
					nq->name, total, NET_HDR_LEN, NET_ETH_HDR_LEN, NET_MAX_FRAME);
			nq->warned_tx = true;
		} else {
			/* The header is copied: the guest may rewrite its buffer meanwhile. */
			struct vnet_hdr hdr = { 0 };
			int nr = iov_slice(virtq_elem_readable(&nq->tx_elem), nq->tx_elem.n_readable,
					   NET_HDR_LEN, SIZE_MAX, nq->tx_iov, VIRTQ_ELEM_MAX_SEGS);

			if (nr > 0 && (!nq->tx_offload ||
				       virtq_elem_read(&nq->tx_elem, 0, &hdr, sizeof(hdr)) == 0))
				nq->ops->transmit(nq->opaque, &hdr, nq->tx_iov, (unsigned int)nr,
						  frame_len);
		}
		virtq_push(vq, &nq->tx_elem, 0);
		pushed = true;
		if (++frames >= NET_TX_PASS_FRAMES) {
			/* Enough for one pass: the rest after the loop's other work. */
			nq->ops->kick_later(nq->opaque, NET_TX_QUEUE);
			break;
		}
	}
	if (ret < 0)
		nq->ops->needs_reset(nq->opaque);
	if (pushed)
		nq->ops->queue_done(nq->opaque, NET_TX_QUEUE);
}
