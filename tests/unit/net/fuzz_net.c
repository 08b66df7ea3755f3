// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the virtio-net packet path (src/virtio/net_queues.c,
 * the code src/virtio/net.c runs for every frame): the fuzz input is a
 * script of what a guest driver and a network back end do, and we check
 * what the device does in between.
 *
 * The guest side builds real chains in a small guest RAM with the test
 * driver (tests/unit/virtio/guest_driver.c): transmit chains of a 12-byte
 * virtio-net header plus a frame of any length (0 to past the 64 KiB
 * limit), split into up to eight segments at fuzzed points, optionally
 * through an indirect table, with a writable segment tacked on or placed
 * in the high RAM slot; receive buffers of fuzzed shapes (segment count
 * and sizes, a stray readable segment first, indirect). The back end side
 * injects frames of fuzzed length, and with the "echo" flag answers each
 * transmitted frame from inside the transmit path, as slirp does for ARP.
 * The script can also reset the device or let the guest scribble over its
 * rings or buffers, which is how descriptor validation and NEEDS_RESET are
 * reached.
 *
 * Checks, beyond "no crash, no sanitizer report, no leak" (the backlog is
 * freed by a reset at the end of every input):
 *   - a transmitted frame is 14..NET_MAX_FRAME bytes and, while the guest
 *     played fair, exactly the next well-formed frame it posted; its
 *     header is the guest's when tx_offload is on, else all zero (always);
 *   - a filled receive buffer carries the back end's header (all zero if
 *     it gave none) with num_buffers = 1 and a frame the back end
 *     injected, in injection order (frames may be dropped, never
 *     reordered or invented); a used
 *     length never exceeds the buffer; buffers are used in posting order;
 *   - after a kick, the device holds no transmit chain, and no frame waits
 *     in the backlog (or, reading, in the back end) while a receive buffer
 *     is posted; a reading back end is handed exactly the buffer's
 *     writable bytes (less the header, if it gives none);
 *   - used transmit buffers report length 0.
 * Once the guest scribbled on shared memory, only the checks that hold for
 * any guest remain, until the next reset.
 *
 * Input: 4 header bytes, then up to MAX_OPS operations of an opcode byte
 * and its arguments (missing bytes read as zero):
 *   0  log2 receive queue size (mod 9)    1  log2 transmit queue size (mod 9)
 *   2  bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 echo transmitted frames,
 *      bit 3 tx_offload (the driver negotiated CSUM), bit 4 injected frames
 *      come with a header (a tap's), bit 5 a reading back end (a tap's
 *      path: frames wait in the back end and net_queues_rx_read() reads
 *      them straight into receive buffers; else net_queues_rx() and its
 *      backlog, slirp's path)
 *   3  unused
 * The operations are listed at enum op.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../virtio/guest_driver.h"
#include "../fuzz_input.h"
#include "base/log.h"
#include "virtio/net_queues.h"
#include "virtio/virtq.h"
#include "base/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define LOW_RAM (1u << 20)
#define HIGH_RAM (128u << 10)
#define RX_RING_GPA 0x0000
#define TX_RING_GPA 0x2000
#define BUF_GPA 0x4000
#define MAX_OPS 256
#define MAX_SEGS 10            /* 8 data segments + a stray one + a spare */
#define MAX_INJECTED 4096      /* frames the oracle follows; more are not sent */
#define MAX_RX_SEG 20000

enum op {
	OP_TX,          /* shape, 3-byte length, seed, split points: post a transmit chain */
	OP_RX,          /* shape, [stray length], 2-byte segment sizes: post a receive buffer */
	OP_INJECT,      /* 3-byte length, seed: the back end delivers a frame */
	OP_KICK_TX,
	OP_KICK_RX,
	OP_CONSUME,     /* the guest takes the used buffers of both queues */
	OP_RESET,       /* the driver resets the device */
	OP_SCRIBBLE,    /* target, 2-byte offset, count, bytes: the guest misbehaves */
	OP_BURST,       /* count, 2-byte length, seed: 1..256 small frames at once */
	OP_COUNT
};

/* Shape byte of OP_TX and OP_RX. */
#define SHAPE_NSEG 0x07        /* data segments - 1 */
#define SHAPE_INDIRECT 0x08
#define SHAPE_EXTRA 0x10       /* TX: a writable segment at the end; RX: a readable one first */
#define SHAPE_HIGH 0x20        /* buffers in the high RAM slot */
#define SHAPE_KICK 0x40        /* kick after posting */
#define SHAPE_EMPTY 0x80       /* a zero-length segment in the middle */

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* What the guest remembers about a chain it posted. */
struct chain {
	bool live;
	uint16_t ndesc;
	uint16_t desc[MAX_SEGS];
	uint16_t nseg;
	struct seg segs[MAX_SEGS];
	uint32_t writable;
};

/* The guest's view of one queue. */
struct gqueue {
	struct guest_driver gd;
	struct virtq vq;
	uint16_t free[256], nfree;
	struct chain chains[256];      /* by head */
	uint16_t order[256];           /* heads in posting order (a ring) */
	uint16_t order_head, order_len;
};

/* A frame the device should transmit, or that the back end injected. */
struct frame_rec {
	uint32_t len;
	uint8_t seed;
	bool stamped;                  /* injected: first 4 bytes hold seq */
	bool hdr;                      /* injected with a header (hdr_of) */
	uint32_t seq;
};

static struct guest_mem mem;
static struct gqueue rxq, txq;
static struct net_queues nq;
static bool event_idx, indirect, echo, tx_offload, inject_hdr, reader;
/* A reading back end's frames not yet read (a tap's queue; beyond: dropped). */
static struct frame_rec pending[1024];
static unsigned int pending_head, pending_len;
static bool needs_reset, tainted;
static uint64_t low_next, high_next, low_mark, high_mark;
static struct frame_rec tx_expect[512];
static unsigned int tx_expect_head, tx_expect_len;
static struct frame_rec injected[MAX_INJECTED];
static unsigned int n_injected, rx_cursor;
static uint32_t next_seq;
static uint8_t frame_buf[NET_MAX_FRAME + 64];
static uint8_t scratch[NET_HDR_LEN + NET_MAX_FRAME + 64];
static uint8_t gathered[NET_MAX_FRAME];
/*
 * Frame contents: frame byte i of seed s is pattern[s + i], so making and
 * checking a frame is one memcpy or memcmp (byte loops here would cost
 * most of the run time and feed the fuzzer our pattern instead of the
 * device's branches).
 */
static uint8_t pattern[256 + NET_HDR_LEN + NET_MAX_FRAME + 64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Dropped frames and broken rings are the point: their warnings are
	 * noise, unless FUZZ_NET_VERBOSE asks which ones a corpus reaches. */
	if (!getenv("FUZZ_NET_VERBOSE"))
		log_set_level(LOG_ERROR);
	if (guest_mem_init(&mem, LOW_RAM + HIGH_RAM) < 0)
		abort();
	mem.low_size = LOW_RAM;
	mem.high_size = HIGH_RAM;
	for (uint32_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8) * 13);
	return 0;
}

/* The frame a record stands for, into frame_buf. */
static void frame_of(const struct frame_rec *r)
{
	memcpy(frame_buf, pattern + r->seed, r->len);
	if (r->stamped && r->len >= 4)
		memcpy(frame_buf, &r->seq, 4);
}

/* The header a back end gives with injected frame R (if r->hdr), and
 * the one a guest puts before transmitted frame R. */
static const uint8_t *hdr_of(const struct frame_rec *r)
{
	return pattern + (r->seed ^ 0xa5);
}

static const uint8_t *tx_hdr_of(uint8_t seed)
{
	return pattern + (seed ^ 0x5a);
}

static bool frame_equals(const struct frame_rec *r, const uint8_t *frame, size_t len)
{
	size_t skip = r->stamped && len >= 4 ? 4 : 0;

	if (r->len != len || (skip && memcmp(frame, &r->seq, 4)))
		return false;
	return memcmp(frame + skip, pattern + r->seed + skip, len - skip) == 0;
}

/* --- guest RAM for buffers: two bump allocators, freed when all is idle --- */

static uint64_t buf_alloc(uint32_t len, bool high)
{
	uint64_t *next = high ? &high_next : &low_next;
	uint64_t end = high ? MEM_4G + HIGH_RAM : LOW_RAM;
	uint64_t gpa = (*next + 15) & ~15ull;

	if (gpa > end || len > end - gpa)
		return UINT64_MAX;
	*next = gpa + len;
	if (high && *next > high_mark)
		high_mark = *next;
	if (!high && *next > low_mark)
		low_mark = *next;
	return gpa;
}

static void buf_free_all_if_idle(void)
{
	if (rxq.nfree == rxq.gd.size && txq.nfree == txq.gd.size) {
		low_next = BUF_GPA;
		high_next = MEM_4G;
	}
}

/* --- the device's side: net_queues' hooks -------------------------------- */

static struct virtq *hook_queue(void *opaque, uint16_t queue)
{
	struct virtq *q = queue == NET_RX_QUEUE ? &rxq.vq : queue == NET_TX_QUEUE ? &txq.vq : NULL;

	(void)opaque;
	check(q);
	return q->ready && !needs_reset ? q : NULL;
}

static void hook_queue_done(void *opaque, uint16_t queue)
{
	(void)opaque;
	check(queue == NET_RX_QUEUE || queue == NET_TX_QUEUE);
	/* What the transport does; interrupts go nowhere here. */
	virtq_should_notify(queue == NET_RX_QUEUE ? &rxq.vq : &txq.vq);
}

static void hook_needs_reset(void *opaque)
{
	(void)opaque;
	/* Only a guest that scribbled on its rings can earn this. */
	check(tainted);
	needs_reset = true;
}

/* The device's budget for a pass ran out: the transport would kick again. */
static bool tx_again;

static void hook_kick_later(void *opaque, uint16_t queue)
{
	(void)opaque;
	check(queue == NET_TX_QUEUE);
	tx_again = true;
}

static void inject(const struct frame_rec *r, const uint8_t *frame);

static void hook_transmit(void *opaque, const struct vnet_hdr *hdr, const struct iovec *iov,
			  unsigned int iovcnt, size_t len)
{
	static const struct vnet_hdr zero;
	const uint8_t *frame = gathered;
	size_t off = 0;

	(void)opaque;
	check(len >= NET_ETH_HDR_LEN && len <= NET_MAX_FRAME);
	/* The segments hold exactly the frame. */
	for (unsigned int i = 0; i < iovcnt; i++) {
		check(iov[i].iov_len <= len - off);
		memcpy(gathered + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	check(off == len);
	if (!nq.tx_offload)
		check(!memcmp(hdr, &zero, sizeof(zero)));
	if (!tainted) {
		check(tx_expect_len > 0);
		check(frame_equals(&tx_expect[tx_expect_head], frame, len));
		if (nq.tx_offload)
			check(!memcmp(hdr, tx_hdr_of(tx_expect[tx_expect_head].seed), sizeof(*hdr)));
		if (echo)
			inject(&tx_expect[tx_expect_head], frame);
		tx_expect_head = (tx_expect_head + 1) % ARRAY_SIZE(tx_expect);
		tx_expect_len--;
	} else if (echo && !reader) {
		/* Unknown content: answered, but not followed by the oracle. */
		net_queues_rx(&nq, NULL, frame, len);
	}
}

/* The reading back end: the oldest pending frame into IOV, as a tap does. */
static ssize_t backend_read(void *ctx, const struct iovec *iov, unsigned int iovcnt)
{
	const struct frame_rec *r;
	size_t room = 0, total, off = 0;
	uint8_t *bytes = scratch;

	(void)ctx;
	if (!pending_len)
		return -EAGAIN;
	r = &pending[pending_head];
	pending_head = (pending_head + 1) % ARRAY_SIZE(pending);
	pending_len--;
	for (unsigned int i = 0; i < iovcnt; i++)
		room += iov[i].iov_len;
	/* Exactly the buffer's writable bytes, less the header we write. */
	if (!tainted) {
		uint32_t w = nq.rx_elem.writable_len;

		check(room == (inject_hdr ? w : w - NET_HDR_LEN));
	}
	/* A tap writes its 10-byte header and skips num_buffers. */
	if (inject_hdr) {
		memcpy(bytes, hdr_of(r), NET_HDR_LEN - 2);
		off = NET_HDR_LEN;
	}
	frame_of(r);
	memcpy(bytes + off, frame_buf, r->len);
	total = off + r->len;
	for (unsigned int i = 0, done = 0; i < iovcnt && done < total; i++) {
		size_t n = iov[i].iov_len < total - done ? iov[i].iov_len : total - done;

		/* The tap leaves num_buffers as it was: keep the guest's bytes. */
		for (size_t k = 0; k < n; k++)
			if (!inject_hdr || done + k < NET_HDR_LEN - 2 || done + k >= NET_HDR_LEN)
				((uint8_t *)iov[i].iov_base)[k] = bytes[done + k];
		done += n;
	}
	return (ssize_t)total;
}

/* Read pending frames while the guest has buffers, as net.c does. */
static void backend_drain(void)
{
	int ret = 1, got = 0;

	while (pending_len && (ret = net_queues_rx_read(&nq, backend_read, NULL, inject_hdr)) > 0)
		got++;
	if (got)
		net_queues_rx_done(&nq);
	/* Frames wait only while no posted buffer is free. */
	if (!tainted && !needs_reset && pending_len)
		check(ret == 0 && rxq.gd.avail_idx == gd_used_idx(&rxq.gd));
}

static const struct net_queues_ops hooks = {
	.queue = hook_queue,
	.queue_done = hook_queue_done,
	.needs_reset = hook_needs_reset,
	.kick_later = hook_kick_later,
	.transmit = hook_transmit,
};

/* The back end delivers the frame of record R (already built in FRAME). */
static void inject(const struct frame_rec *from, const uint8_t *frame)
{
	struct frame_rec rec = *from, *r = &rec;
	bool valid = r->len >= NET_ETH_HDR_LEN && r->len <= NET_MAX_FRAME;

	/* A reading back end (a tap) gives every frame its header, or none. */
	if (reader)
		rec.hdr = inject_hdr;
	if (valid) {
		if (n_injected == MAX_INJECTED)
			return; /* the oracle could not follow it */
		injected[n_injected++] = *r;
	}
	if (!reader) {
		net_queues_rx(&nq, r->hdr ? (const struct vnet_hdr *)hdr_of(r) : NULL, frame,
			      r->len);
		return;
	}
	/* A tap hands over only whole Ethernet frames. */
	if (valid && pending_len < ARRAY_SIZE(pending))
		pending[(pending_head + pending_len++) % ARRAY_SIZE(pending)] = *r;
	backend_drain();
}

/* --- the guest's side ---------------------------------------------------- */

static void gq_init(struct gqueue *g, uint16_t size, uint64_t gpa)
{
	memset(g, 0, sizeof(*g));
	gd_layout(&g->gd, &mem, size, gpa);
	for (unsigned int i = 0; i < size; i++)
		g->free[g->nfree++] = (uint16_t)(size - 1 - i);
	check(gd_init_virtq(&g->gd, &g->vq, event_idx, indirect) == 0);
}

/* Copy LEN bytes between BUF and the chain's segments (the guest's view). */
static void chain_copy(struct gqueue *g, const struct chain *c, bool to_guest, bool writable,
		       uint32_t off, uint8_t *buf, uint32_t len)
{
	for (unsigned int i = 0; i < c->nseg && len; i++) {
		const struct seg *s = &c->segs[i];
		uint32_t n;
		uint8_t *p;

		if (s->write != writable || !s->len)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off < len ? s->len - off : len;
		p = (uint8_t *)gd_ptr(&g->gd, s->gpa + off, n);
		if (to_guest)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		buf += n;
		len -= n;
		off = 0;
	}
	check(len == 0);
}

/* Write the chain's descriptors, directly or through an indirect table. */
static bool post(struct gqueue *g, struct chain *c, bool use_indirect)
{
	uint16_t need = use_indirect ? 1 : c->nseg;
	uint16_t head;

	if (use_indirect && !indirect)
		use_indirect = false, need = c->nseg;
	if (g->nfree < need || need == 0)
		return false;
	if (use_indirect) {
		uint64_t table = buf_alloc(16u * c->nseg, false);

		if (table == UINT64_MAX)
			return false;
		for (uint16_t i = 0; i < c->nseg; i++)
			gd_write_desc(&g->gd, table, i, c->segs[i].gpa, c->segs[i].len,
				      (uint16_t)((c->segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
						 (i + 1 < c->nseg ? VIRTQ_DESC_F_NEXT : 0)),
				      (uint16_t)(i + 1 < c->nseg ? i + 1 : 0));
		c->desc[0] = g->free[--g->nfree];
		c->ndesc = 1;
		gd_set_desc(&g->gd, c->desc[0], table, 16u * c->nseg, VIRTQ_DESC_F_INDIRECT, 0);
	} else {
		for (uint16_t i = 0; i < c->nseg; i++)
			c->desc[i] = g->free[--g->nfree];
		c->ndesc = c->nseg;
		for (uint16_t i = 0; i < c->nseg; i++)
			gd_set_desc(&g->gd, c->desc[i], c->segs[i].gpa, c->segs[i].len,
				    (uint16_t)((c->segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					       (i + 1 < c->nseg ? VIRTQ_DESC_F_NEXT : 0)),
				    i + 1 < c->nseg ? c->desc[i + 1] : 0);
	}
	head = c->desc[0];
	c->live = true;
	g->chains[head] = *c;
	g->order[(g->order_head + g->order_len) % 256] = head;
	g->order_len++;
	gd_publish(&g->gd, head);
	return true;
}

/* Split TOTAL bytes into the chain's NSEG data segments at fuzzed points. */
static bool add_data_segs(struct input *in, struct chain *c, unsigned int nseg, uint32_t total,
			  bool write, bool high, bool empty_mid)
{
	uint32_t left = total;

	for (unsigned int i = 0; i < nseg; i++) {
		uint32_t len = left;
		uint64_t gpa;

		if (i + 1 < nseg) {
			uint8_t s = get8(in);

			/* Small cuts find off-by-ones at the header; big ones share. */
			len = s < 32 ? s : (uint32_t)(((uint64_t)left * s) >> 8);
			if (len > left)
				len = left;
		}
		if (empty_mid && i == nseg / 2 && c->nseg < MAX_SEGS)
			c->segs[c->nseg++] = (struct seg){ .gpa = BUF_GPA, .len = 0, .write = write };
		gpa = buf_alloc(len, high);
		if (gpa == UINT64_MAX)
			return false;
		c->segs[c->nseg++] = (struct seg){ .gpa = gpa, .len = len, .write = write };
		left -= len;
	}
	return true;
}

static void kick_tx(void)
{
	/* Pass after pass, as the event loop would (a queue holds 256 at most). */
	int passes = 0;

	do {
		tx_again = false;
		net_queues_tx(&nq);
		check(++passes <= 2);
	} while (tx_again);
	/* The device takes every chain it is given. */
	if (!tainted && !needs_reset)
		check(txq.gd.avail_idx == gd_used_idx(&txq.gd));
}

static void kick_rx(void)
{
	if (reader) {
		backend_drain();
		return;
	}
	net_queues_rx_kick(&nq);
	/* No frame waits while a posted buffer is free. */
	if (!tainted && !needs_reset && nq.backlog_len)
		check(rxq.gd.avail_idx == gd_used_idx(&rxq.gd));
}

/* A transmit chain's bytes: the header (ignored: no offloads), the frame. */
static void tx_bytes(uint8_t *bytes, uint32_t total, uint8_t seed)
{
	uint32_t hdr = total < NET_HDR_LEN ? total : NET_HDR_LEN;

	memcpy(bytes, tx_hdr_of(seed), hdr);
	memcpy(bytes + hdr, pattern + seed, total - hdr);
}

static void op_tx(struct input *in)
{
	uint8_t shape = get8(in);
	uint32_t total = get24(in) % (NET_HDR_LEN + NET_MAX_FRAME + 32);
	struct frame_rec r = { .seed = get8(in) };
	struct chain c = { 0 };
	bool high = shape & SHAPE_HIGH;

	if (!add_data_segs(in, &c, (shape & SHAPE_NSEG) + 1u, total, false, high,
			   shape & SHAPE_EMPTY))
		return;
	if (shape & SHAPE_EXTRA) {
		uint64_t gpa = buf_alloc(64, false);

		if (gpa == UINT64_MAX)
			return;
		c.segs[c.nseg++] = (struct seg){ .gpa = gpa, .len = 64, .write = true };
	}
	tx_bytes(scratch, total, r.seed);
	chain_copy(&txq, &c, true, false, 0, scratch, total);
	if (!post(&txq, &c, shape & SHAPE_INDIRECT))
		return;
	r.len = total >= NET_HDR_LEN ? total - NET_HDR_LEN : 0;
	if (r.len >= NET_ETH_HDR_LEN && r.len <= NET_MAX_FRAME) {
		check(tx_expect_len < ARRAY_SIZE(tx_expect));
		tx_expect[(tx_expect_head + tx_expect_len++) % ARRAY_SIZE(tx_expect)] = r;
	}
	if (shape & SHAPE_KICK)
		kick_tx();
}

static void op_rx(struct input *in)
{
	uint8_t shape = get8(in);
	struct chain c = { 0 };
	bool high = shape & SHAPE_HIGH;
	unsigned int nseg = (shape & SHAPE_NSEG) + 1u;

	if (shape & SHAPE_EXTRA) {
		uint32_t len = get8(in);
		uint64_t gpa = buf_alloc(len, false);

		if (gpa == UINT64_MAX)
			return;
		c.segs[c.nseg++] = (struct seg){ .gpa = gpa, .len = len, .write = false };
	}
	for (unsigned int i = 0; i < nseg; i++) {
		uint32_t len = get16(in) % MAX_RX_SEG;
		uint64_t gpa;

		if ((shape & SHAPE_EMPTY) && i == nseg / 2)
			c.segs[c.nseg++] = (struct seg){ .gpa = BUF_GPA, .len = 0, .write = true };
		gpa = buf_alloc(len, high);
		if (gpa == UINT64_MAX)
			return;
		c.segs[c.nseg++] = (struct seg){ .gpa = gpa, .len = len, .write = true };
		c.writable += len;
	}
	if (!post(&rxq, &c, shape & SHAPE_INDIRECT))
		return;
	if (shape & SHAPE_KICK)
		kick_rx();
}

static void op_inject(struct input *in)
{
	struct frame_rec r = {
		.len = get24(in) % (NET_MAX_FRAME + 32), .seed = get8(in), .stamped = true,
		.hdr = inject_hdr, .seq = next_seq++,
	};

	frame_of(&r);
	inject(&r, frame_buf);
}

/* Many frames while the guest is slow: fills the backlog and beyond. */
static void op_burst(struct input *in)
{
	unsigned int count = get8(in) + 1u;
	struct frame_rec r = { .len = get16(in) % 2048, .seed = get8(in), .stamped = true,
			       .hdr = inject_hdr };

	for (unsigned int i = 0; i < count; i++) {
		r.seq = next_seq++;
		frame_of(&r);
		inject(&r, frame_buf);
	}
}

/* The guest takes back one used buffer of G and checks what it says. */
static bool take_used(struct gqueue *g, bool is_rx)
{
	uint8_t *got = scratch;
	struct chain *c;
	uint32_t id, len;
	uint16_t head;

	if (!gd_get_used(&g->gd, &id, &len))
		return false;
	if (tainted) {
		/* The rings may say anything now: free what can be freed. */
		if (id < g->gd.size && g->chains[id].live) {
			c = &g->chains[id];
			c->live = false;
			for (uint16_t i = 0; i < c->ndesc; i++)
				g->free[g->nfree++] = c->desc[i];
		}
		return true;
	}
	/* In order: the oldest chain the guest posted. */
	check(g->order_len > 0);
	head = g->order[g->order_head];
	g->order_head = (uint16_t)((g->order_head + 1) % 256);
	g->order_len--;
	check(id == head && g->chains[head].live);
	c = &g->chains[head];
	c->live = false;
	for (uint16_t i = 0; i < c->ndesc; i++)
		g->free[g->nfree++] = c->desc[i];
	if (!is_rx) {
		check(len == 0);
		return true;
	}
	check(len <= c->writable);
	if (len == 0) {
		/* Only a frame too big for the buffer leaves it empty. */
		check(c->writable < NET_HDR_LEN + NET_MAX_FRAME);
		return true;
	}
	check(len >= NET_HDR_LEN + NET_ETH_HDR_LEN);
	chain_copy(g, c, false, true, 0, got, len);
	check(got[NET_HDR_LEN - 2] == 1 && got[NET_HDR_LEN - 1] == 0); /* num_buffers */
	/* Frames may be dropped, not reordered: find it at or after the cursor. */
	while (rx_cursor < n_injected &&
	       !frame_equals(&injected[rx_cursor], got + NET_HDR_LEN, len - NET_HDR_LEN))
		rx_cursor++;
	check(rx_cursor < n_injected);
	/* The back end's header as it gave it, or all zero. */
	for (unsigned int i = 0; i < NET_HDR_LEN - 2; i++)
		check(got[i] == (injected[rx_cursor].hdr ? hdr_of(&injected[rx_cursor])[i] : 0));
	rx_cursor++;
	return true;
}

static void op_consume(void)
{
	/* Bounded: a scribbled used->idx could claim 65535 entries. */
	for (unsigned int i = 0; i < rxq.gd.size && take_used(&rxq, true); i++)
		;
	for (unsigned int i = 0; i < txq.gd.size && take_used(&txq, false); i++)
		;
	buf_free_all_if_idle();
}

static void device_reset(void)
{
	uint16_t rx_size = rxq.gd.size, tx_size = txq.gd.size;

	net_queues_reset(&nq);
	virtq_reset(&rxq.vq);
	virtq_reset(&txq.vq);
	needs_reset = false;
	tainted = false;
	tx_expect_head = tx_expect_len = 0;
	rx_cursor = n_injected; /* the backlog is gone: nothing older will come */
	pending_head = pending_len = 0; /* (a tap would keep them: the oracle cannot) */
	low_next = BUF_GPA;
	high_next = MEM_4G;
	gq_init(&rxq, rx_size, RX_RING_GPA);
	gq_init(&txq, tx_size, TX_RING_GPA);
}

static void op_scribble(struct input *in)
{
	uint8_t target = get8(in);
	uint32_t off = get16(in);
	unsigned int n = get8(in) % 17;
	uint64_t base, span;

	switch (target % 3) {
	case 0: /* a ring of either queue */
		base = target & 0x80 ? TX_RING_GPA : RX_RING_GPA;
		span = gd_end(target & 0x80 ? &txq.gd : &rxq.gd) - base;
		break;
	case 1: /* buffers in low RAM */
		base = BUF_GPA;
		span = low_next > BUF_GPA ? low_next - BUF_GPA : 1;
		break;
	default: /* buffers in high RAM */
		base = MEM_4G;
		span = high_next > MEM_4G ? high_next - MEM_4G : 1;
		break;
	}
	off %= span;
	if (n > span - off)
		n = (unsigned int)(span - off);
	for (unsigned int i = 0; i < n; i++)
		*(uint8_t *)gd_ptr(&rxq.gd, base + off + i, 1) = get8(in);
	tainted = true;
	/* What the device already copied is safe; the guest's bookkeeping is not. */
	if (target & 0x40)
		kick_tx();
	else
		kick_rx();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { .p = data, .left = size };
	uint16_t rx_size, tx_size;

	if (size < 4)
		return 0;
	rx_size = (uint16_t)(1u << (get8(&in) % 9));
	tx_size = (uint16_t)(1u << (get8(&in) % 9));
	event_idx = in.p[0] & 1;
	indirect = in.p[0] & 2;
	echo = in.p[0] & 4;
	tx_offload = in.p[0] & 8;
	inject_hdr = in.p[0] & 16;
	reader = in.p[0] & 32;
	get8(&in);
	get8(&in);

	memset(mem.host, 0, low_mark);
	memset(mem.host + LOW_RAM, 0, high_mark > MEM_4G ? high_mark - MEM_4G : 0);
	low_mark = BUF_GPA;
	high_mark = MEM_4G;
	needs_reset = tainted = false;
	tx_expect_head = tx_expect_len = 0;
	n_injected = rx_cursor = 0;
	pending_head = pending_len = 0;
	next_seq = 0;
	low_next = BUF_GPA;
	high_next = MEM_4G;
	net_queues_init(&nq, "fuzz-net", &hooks, NULL);
	nq.tx_offload = tx_offload;
	gq_init(&rxq, rx_size, RX_RING_GPA);
	gq_init(&txq, tx_size, TX_RING_GPA);

	for (unsigned int step = 0; step < MAX_OPS && in.left; step++) {
		switch (get8(&in) % OP_COUNT) {
		case OP_TX: op_tx(&in); break;
		case OP_RX: op_rx(&in); break;
		case OP_INJECT: op_inject(&in); break;
		case OP_KICK_TX: kick_tx(); break;
		case OP_KICK_RX: kick_rx(); break;
		case OP_CONSUME: op_consume(); break;
		case OP_RESET: device_reset(); break;
		case OP_SCRIBBLE: op_scribble(&in); break;
		case OP_BURST: op_burst(&in); break;
		}
	}
	/* Drain what a fair guest left, then tear down: the backlog is freed. */
	kick_tx();
	kick_rx();
	op_consume();
	net_queues_reset(&nq);
	check(nq.backlog_len == 0);
	virtq_reset(&rxq.vq);
	virtq_reset(&txq.vq);
	return 0;
}
