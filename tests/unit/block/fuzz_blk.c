// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the virtio-blk request path (src/virtio/blk_queues.c)
 * on real images with a real io_uring: the fuzz input is a guest driver's
 * script of requests (reads, writes, flushes, discards, write-zeroes,
 * GET_ID, unknown types; in range or not, whole sectors or not, split over
 * up to four segments, directly or through an indirect table), kicks and
 * completion reaps, in any mix, so that one batch holds asynchronous
 * requests that pin clusters and synchronous ones that must free them.
 *
 * The image is a copy of one of three templates made with qemu-img at
 * start-up: a qcow2 overlay (4 KiB clusters) on a qcow2 backing file, a
 * qcow2 image with compressed clusters (writes there replace them: the
 * write path that needs every pin gone), a raw image whose format is
 * guessed (its first sector is guarded).
 *
 * Checks, beyond "no crash, no sanitizer report, no leak":
 *   - the watchdog: every input must end within WATCHDOG_MS, all its
 *     requests completed. A request that never completes (the device
 *     waiting on itself) aborts with the number still in flight;
 *   - after the last kick and a drain, the device holds no request: every
 *     published chain is in the used ring, each with one status byte that
 *     is OK, IOERR or UNSUPP; a well-formed, in-range request of a known
 *     type gets OK (IN and OUT too, except an OUT that would put another
 *     format's header on the guarded raw sector, which gets IOERR);
 *   - a used length never exceeds the chain's writable bytes;
 *   - the image, closed and reopened, opens in the same format.
 *
 * Input: 3 header bytes, then up to MAX_OPS operations (missing bytes read
 * as zero):
 *   0  image template (mod 3); bit 7: no io_uring (everything synchronous)
 *   1  log2 queue size (mod 6) + 3: 8..256 entries
 *   2  bit 0 EVENT_IDX, bit 1 INDIRECT_DESC
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../virtio/guest_driver.h"
#include "block/blk.h"
#include "../fuzz_input.h"
#include "base/log.h"
#include "virtio/blk_queues.h"
#include "virtio/virtq.h"
#include "base/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define LOW_RAM (1u << 20)
#define HIGH_RAM (64u << 10)
#define RING_GPA 0x0000
#define BUF_GPA 0x8000
#define IMAGE_BYTES (1u << 20)
#define MAX_OPS 96
#define MAX_REQS 256
#define WATCHDOG_MS 5000

enum op {
	OP_REQ,		/* type, 2-byte sector, sectors, shape: post a request */
	OP_KICK,	/* the guest notifies: the device serves the queue */
	OP_REAP,	/* the ring's eventfd fired: collect what completed */
	OP_CONSUME,	/* the guest takes used buffers and checks them */
	OP_SCRIBBLE,	/* 2-byte offset, byte: the guest writes over its ring */
	OP_COUNT
};

/* Shape byte of OP_REQ. */
#define SHAPE_NSEG 0x03		/* data segments - 1 */
#define SHAPE_INDIRECT 0x04
#define SHAPE_UNALIGNED 0x08	/* data not a whole number of sectors */
#define SHAPE_NO_STATUS 0x10	/* no writable status byte */
#define SHAPE_HIGH 0x20		/* buffers in the high RAM slot */
#define SHAPE_FLAGS 0x40	/* discard/write-zeroes flags set (unmap or junk) */
#define SHAPE_BIG_RANGE 0x80	/* discard/write-zeroes range past the end */

static const char *templates[3];
static const char *template_names[3] = { "qcow2 overlay", "qcow2 compressed", "raw" };
static char work_path[256];
static struct guest_mem mem;
static struct guest_driver gd;
static struct virtq vq;
static struct blk_queues bq;
static bool needs_reset, tainted, again;
static int image_kind;

/* What the oracle knows of each posted request, by head descriptor. */
struct req {
	bool live;
	bool sure_ok;	/* well-formed: the status must be OK */
	bool may_fail;	/* ... unless the guard refuses it */
	bool has_status;	/* its last writable byte is the status byte */
	uint64_t status_gpa;
	uint32_t writable;
};
static struct req reqs[MAX_REQS];
static unsigned int published, consumed;
static uint16_t next_desc;
static uint64_t buf_next, high_next;

/* --- the watchdog ---------------------------------------------------------- */

static atomic_llong deadline_ms;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		long long d = atomic_load(&deadline_ms);

		if (d && now_ms() > d) {
			fprintf(stderr, "fuzz_blk: watchdog: the input did not end within %d ms; "
				"%u requests on the io_uring, %u published "
				"(a request waits for one that never completes?)\n",
				WATCHDOG_MS, bq.in_flight, published);
			abort();
		}
		usleep(50 * 1000);
	}
	return NULL;
}

/* --- the device's hooks ------------------------------------------------------ */

static struct virtq *hook_queue(void *opaque, uint16_t queue)
{
	(void)opaque;
	check(queue == 0);
	return &vq;
}

static void hook_queue_done(void *opaque, uint16_t queue)
{
	(void)opaque;
	check(queue == 0);
	virtq_should_notify(&vq);
}

static void hook_needs_reset(void *opaque)
{
	(void)opaque;
	needs_reset = true;
}

static void hook_kick_later(void *opaque, uint16_t queue)
{
	(void)opaque;
	check(queue == 0);
	again = true;
}

static const struct blk_queues_ops hooks = {
	.queue = hook_queue,
	.queue_done = hook_queue_done,
	.needs_reset = hook_needs_reset,
	.kick_later = hook_kick_later,
};

/* --- set-up ---------------------------------------------------------------- */

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "fuzz_blk: set-up command failed: %s\n", cmd);
		abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[64];
	static char paths[3][300];
	char cmd[2048];
	pthread_t t;

	(void)argc;
	(void)argv;
	if (!getenv("FUZZ_BLK_VERBOSE"))
		log_set_level(LOG_ERROR);
	/* tmpfs when there is one: thousands of copies and fdatasyncs. */
	snprintf(dir, sizeof(dir), "%s/fuzz_blk.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir))
		abort();
	for (int i = 0; i < 3; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/t%d", dir, i);
	snprintf(work_path, sizeof(work_path), "%s/work", dir);
	/* Backing file with data, overlay with some clusters of its own. */
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; qemu-img create -q -f qcow2 -o cluster_size=4096 base 1M; "
		 "qemu-io -f qcow2 -c 'write -P 0x11 0 512k' base >/dev/null; "
		 "qemu-img create -q -f qcow2 -o cluster_size=4096 -b %s/base -F qcow2 t0; "
		 "qemu-io -f qcow2 -c 'write -P 0x22 64k 128k' -c 'write -z 256k 64k' t0 >/dev/null; "
		 "qemu-img create -q -f qcow2 -o cluster_size=4096 t1 1M; "
		 "qemu-io -f qcow2 -c 'write -c -P 0x33 0 256k' -c 'write -P 0x44 512k 64k' t1 >/dev/null; "
		 "head -c 1048576 /dev/zero > t2",
		 dir, dir);
	sh(cmd);
	for (int i = 0; i < 3; i++)
		templates[i] = paths[i];
	if (guest_mem_init(&mem, LOW_RAM + HIGH_RAM) < 0)
		abort();
	mem.low_size = LOW_RAM;
	mem.high_size = HIGH_RAM;
	if (pthread_create(&t, NULL, watchdog, NULL))
		abort();
	pthread_detach(t);
	return 0;
}

static void copy_file(const char *from, const char *to)
{
	static uint8_t buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	check(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		check(write(out, buf, (size_t)n) == n);
	check(n == 0);
	close(in);
	close(out);
}

/* --- the guest's side -------------------------------------------------------- */

static uint64_t alloc_buf(uint32_t len, bool high)
{
	uint64_t *next = high ? &high_next : &buf_next;
	uint64_t end = high ? MEM_4G + HIGH_RAM : LOW_RAM;
	uint64_t gpa = (*next + 15) & ~15ull;

	if (gpa + len > end)
		return UINT64_MAX;
	*next = gpa + len;
	return gpa;
}

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* Write the chain's descriptors, directly or via an indirect table. */
static bool post_chain(const struct seg *s, unsigned int n, bool indirect)
{
	uint16_t head = next_desc;

	if (indirect) {
		uint64_t table = alloc_buf(16 * n, false);

		if (table == UINT64_MAX || next_desc >= gd.size)
			return false;
		for (unsigned int i = 0; i < n; i++)
			gd_write_desc(&gd, table, i, s[i].gpa, s[i].len,
				      (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
						 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				      (uint16_t)(i + 1));
		gd_set_desc(&gd, head, table, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
		next_desc++;
	} else {
		if (next_desc + n > gd.size)
			return false;
		for (unsigned int i = 0; i < n; i++)
			gd_set_desc(&gd, (uint16_t)(head + i), s[i].gpa, s[i].len,
				    (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					       (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
				    (uint16_t)(head + i + 1));
		next_desc = (uint16_t)(next_desc + n);
	}
	gd_publish(&gd, head);
	published++;
	return true;
}

static const uint32_t types[] = {
	VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
	VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, 99,
};

static void op_req(struct input *in, bool indirect_ok)
{
	uint8_t tsel = get8(in);
	uint32_t type = types[tsel % (sizeof(types) / sizeof(types[0]))];
	uint64_t sector = get16(in);
	uint32_t nsect = get8(in) % 33;
	uint8_t shape = get8(in);
	bool high = shape & SHAPE_HIGH, indirect = indirect_ok && (shape & SHAPE_INDIRECT);
	uint32_t data = nsect * 512 + ((shape & SHAPE_UNALIGNED) ? 100 : 0);
	uint64_t sectors = IMAGE_BYTES / 512;
	struct seg s[8];
	unsigned int n = 0, nseg = 1 + (shape & SHAPE_NSEG);
	uint64_t hdr_gpa = alloc_buf(16, high), status_gpa;
	struct req *r;
	uint8_t *p;
	bool in_range;

	/* Sectors mostly inside the 2048 of the image, now and then past it. */
	sector %= tsel & 0x80 ? 4096 : 2048;
	in_range = sector + nsect <= sectors;
	if (hdr_gpa == UINT64_MAX)
		return;
	p = gd_ptr(&gd, hdr_gpa, 16);
	memset(p, 0, 16);
	memcpy(p, &type, 4);
	memcpy(p + 8, &sector, 8);
	s[n++] = (struct seg){ hdr_gpa, 16, false };
	if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
		uint64_t g = alloc_buf(16, high);
		uint32_t cnt = (shape & SHAPE_BIG_RANGE) ? 0x7fffffffu : nsect;
		uint32_t flags = (shape & SHAPE_FLAGS) ? (tsel & 0x40 ? 1 : 6) : 0;

		if (g == UINT64_MAX)
			return;
		p = gd_ptr(&gd, g, 16);
		memcpy(p, &sector, 8);
		memcpy(p + 8, &cnt, 4);
		memcpy(p + 12, &flags, 4);
		s[n++] = (struct seg){ g, 16, false };
		in_range = in_range && !(shape & SHAPE_BIG_RANGE) &&
			   (flags == 0 || (type == VIRTIO_BLK_T_WRITE_ZEROES && flags == 1));
		data = 0;
	} else if (type == VIRTIO_BLK_T_FLUSH || type == 99) {
		data = 0;
	} else if (type == VIRTIO_BLK_T_GET_ID) {
		data = 20;
	}
	/* Data in up to NSEG pieces, split evenly; readable for OUT only. */
	for (unsigned int i = 0; i < nseg && data; i++) {
		uint32_t len = i + 1 == nseg ? data - (data / nseg) * i : data / nseg;
		uint64_t g;

		if (!len)
			continue;
		g = alloc_buf(len, high);
		if (g == UINT64_MAX)
			return;
		p = gd_ptr(&gd, g, len);
		memset(p, (int)(tsel ^ i), len);
		s[n++] = (struct seg){ g, len, type != VIRTIO_BLK_T_OUT };
	}
	status_gpa = alloc_buf(1, high);
	if (status_gpa == UINT64_MAX)
		return;
	*(uint8_t *)gd_ptr(&gd, status_gpa, 1) = 0xee;
	if (!(shape & SHAPE_NO_STATUS))
		s[n++] = (struct seg){ status_gpa, 1, true };
	r = &reqs[next_desc];
	if (!post_chain(s, n, indirect))
		return;
	*r = (struct req){ .live = true, .status_gpa = status_gpa,
			   .has_status = !(shape & SHAPE_NO_STATUS) };
	for (unsigned int i = 0; i < n; i++)
		if (s[i].write)
			r->writable += s[i].len;
	r->sure_ok = !(shape & SHAPE_NO_STATUS) && !(shape & SHAPE_UNALIGNED) && type != 99 &&
		     (in_range || type == VIRTIO_BLK_T_FLUSH || type == VIRTIO_BLK_T_GET_ID);
	/* The guarded raw sector refuses headers; other writes there succeed. */
	r->may_fail = image_kind == 2 && type == VIRTIO_BLK_T_OUT && sector == 0;
}

static void kick(void)
{
	int passes = 0;

	do {
		again = false;
		blk_queues_notify(&bq, 0);
		check(++passes <= MAX_REQS);
	} while (again);
}

/* The guest takes its used buffers: lengths and status bytes must add up. */
static void consume(void)
{
	uint32_t id, len;

	while (gd_get_used(&gd, &id, &len)) {
		struct req *r;
		uint8_t status;

		if (tainted || needs_reset)
			continue;
		check(id < gd.size);
		r = &reqs[id];
		check(r->live);
		r->live = false;
		consumed++;
		if (!r->writable) {
			check(len == 0);
			continue;
		}
		check(len <= r->writable);
		if (!r->has_status)
			continue;
		status = *(uint8_t *)gd_ptr(&gd, r->status_gpa, 1);
		check(status == VIRTIO_BLK_S_OK || status == VIRTIO_BLK_S_IOERR ||
		      status == VIRTIO_BLK_S_UNSUPP);
		if (r->sure_ok && !r->may_fail)
			check(status == VIRTIO_BLK_S_OK);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct blk_open_opts o = { 0 };
	uint8_t h0 = get8(&in), h1 = get8(&in), h2 = get8(&in);
	uint16_t qsize = (uint16_t)(1u << (h1 % 6 + 3));
	bool event_idx = h2 & 1, indirect = h2 & 2;
	struct blk *image;
	char err[512];
	const char *fmt;

	image_kind = h0 % 3;
	copy_file(templates[image_kind], work_path);
	if (blk_open(work_path, &o, &image, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_blk: %s (%s): %s\n", work_path, template_names[image_kind], err);
		abort();
	}
	fmt = blk_format_name(image);
	memset(reqs, 0, sizeof(reqs));
	published = consumed = 0;
	next_desc = 0;
	needs_reset = tainted = false;
	buf_next = BUF_GPA;
	high_next = MEM_4G;
	memset(guest_mem_ptr(&mem, 0, LOW_RAM), 0, LOW_RAM);
	gd_layout(&gd, &mem, qsize, RING_GPA);
	check(gd_init_virtq(&gd, &vq, event_idx, indirect) == 0);
	blk_queues_init(&bq, image, "fuzz-blk", "serial-0123456789abcdef", &hooks, NULL,
			!(h0 & 0x80));
	atomic_store(&deadline_ms, now_ms() + WATCHDOG_MS);

	for (int n = 0; n < MAX_OPS && in.left; n++) {
		switch (get8(&in) % OP_COUNT) {
		case OP_REQ:
			op_req(&in, indirect);
			break;
		case OP_KICK:
			kick();
			break;
		case OP_REAP:
			blk_queues_reap(&bq, true);
			break;
		case OP_CONSUME:
			consume();
			break;
		case OP_SCRIBBLE: {
			uint32_t off = get16(&in) % BUF_GPA;

			*(uint8_t *)gd_ptr(&gd, off, 1) = get8(&in);
			tainted = true;
			break;
		}
		}
	}
	/* The guest's last kick; then every request must come back. */
	kick();
	blk_queues_drain(&bq);
	check(bq.in_flight == 0);
	consume();
	if (!tainted && !needs_reset)
		check(consumed == published);
	blk_queues_fini(&bq);
	blk_close(image);
	atomic_store(&deadline_ms, 0);

	/* Still the same format: the guest cannot have changed what it is. */
	if (blk_open(work_path, &o, &image, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_blk: reopening %s (%s) after the input: %s\n", work_path,
			template_names[image_kind], err);
		abort();
	}
	check(!strcmp(blk_format_name(image), fmt));
	blk_close(image);
	return 0;
}
