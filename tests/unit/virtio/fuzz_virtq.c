// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the fuzz input is a guest's virtqueue, and we play the
 * device. The first bytes choose the queue and how the device behaves; the
 * rest is copied to the start of a small guest RAM where, by default, the
 * descriptor table and the rings are laid out, so the fuzzer writes them
 * directly. Then we pop and push until the ring is empty or broken.
 *
 * Guest RAM is 64 KiB low + 64 KiB at 4 GiB, so a hole lies between them
 * like in a real guest (a shrunken guest_mem: memory.h says the mapping holds
 * the low part first, then the high part).
 *
 * Beyond "no crash, no sanitizer report", every popped element is checked:
 * its segments lie inside guest RAM, their counts and lengths add up. The
 * run is bounded: at most RUN_STEPS pops per input, and each pop is bounded
 * by virtq.c itself (the point being tested).
 *
 * Header (8 bytes):
 *   0     log2 of the queue size (mod 9: sizes 1..256)
 *   1     bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 addresses from bytes
 *         4..7 instead of the packed layout, bit 3 the device polls
 *         (disable/enable notify), bit 4 keep one element in flight
 *   2..3  starting index for both rings (virtq_set_indices), little-endian
 *   4..7  with bit 2: desc, avail, used ring at byte*256 + byte 1's top bits
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/virtq.h"
#include "base/memory.h"

#define LOW_RAM (64u << 10)
#define HIGH_RAM (64u << 10)
#define RUN_STEPS 1024
#define HEADER 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct guest_mem mem;
static struct virtq q;
static struct virtq_elem elems[2];
static uint8_t scratch[LOW_RAM + HIGH_RAM];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Malformed rings are the point here: their warnings are noise, unless
	 * FUZZ_VIRTQ_VERBOSE asks which ones a corpus reaches. */
	if (!getenv("FUZZ_VIRTQ_VERBOSE"))
		log_set_level(LOG_ERROR);
	if (guest_mem_init(&mem, LOW_RAM + HIGH_RAM) < 0)
		abort();
	mem.low_size = LOW_RAM;
	mem.high_size = HIGH_RAM;
	return 0;
}

static void layout(struct virtq_setup *s, const uint8_t *hdr)
{
	uint64_t n = s->size;

	if (hdr[1] & 4) {
		/* Anywhere in (or just past) low RAM, often misaligned. */
		s->desc_gpa = hdr[4] * 256ull + (hdr[1] >> 5);
		s->avail_gpa = hdr[5] * 256ull + (hdr[1] >> 5);
		s->used_gpa = hdr[6] * 256ull + (hdr[7] & 0x3c);
		return;
	}
	s->desc_gpa = 0;
	s->avail_gpa = 16 * n;
	s->used_gpa = (s->avail_gpa + 6 + 2 * n + 3) & ~3ull;
}

/* The invariants virtq_pop() promises for a popped element. */
static void check_elem(const struct virtq_elem *e)
{
	uint64_t readable = 0, writable = 0;
	unsigned int n = e->n_readable + e->n_writable;

	if (e->head >= q.size || n > VIRTQ_ELEM_MAX_SEGS)
		abort();
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *b = e->iov[i].iov_base;
		size_t off = (size_t)((uintptr_t)b - (uintptr_t)mem.host);

		if (e->iov[i].iov_len == 0 || (uintptr_t)b < (uintptr_t)mem.host ||
		    off >= mem.size || e->iov[i].iov_len > mem.size - off)
			abort();
		*(i < e->n_readable ? &readable : &writable) += e->iov[i].iov_len;
	}
	if (readable != e->readable_len || writable != e->writable_len)
		abort();
}

/* What a device does with a request: read it all, write some back. */
static uint32_t serve(const struct virtq_elem *e)
{
	uint32_t n = e->writable_len < 64 ? e->writable_len : 64;
	uint32_t r = e->readable_len < sizeof(scratch) ? e->readable_len : sizeof(scratch);

	check_elem(e);
	/* Overlapping segments can add up to more than RAM: read a prefix. */
	if (virtq_elem_read(e, 0, scratch, r) < 0)
		abort();
	memset(scratch, 0xa5, n);
	if (virtq_elem_write(e, 0, scratch, n) < 0)
		abort();
	/* A byte in the middle: the copy must seek across segments. */
	if (e->readable_len && virtq_elem_read(e, e->readable_len / 2, scratch, 1) < 0)
		abort();
	if (virtq_elem_read(e, e->readable_len, scratch, 1) == 0 ||
	    virtq_elem_write(e, e->writable_len, scratch, 1) == 0)
		abort();
	return n;
}

static void run(bool polling, bool hold_one)
{
	unsigned int cur = 0;
	bool held = false;
	int ret;

	if (polling)
		virtq_disable_notify(&q);
	for (unsigned int step = 0; step < RUN_STEPS; step++) {
		ret = virtq_pop(&q, &elems[cur]);
		if (ret < 0) {
			if (!q.broken)
				abort();
			break;
		}
		if (ret == 0) {
			if (polling && virtq_enable_notify(&q)) {
				virtq_disable_notify(&q);
				continue;
			}
			break;
		}
		if (hold_one && !held) {
			/* Complete out of order: this one after the next. */
			held = true;
			cur ^= 1;
			continue;
		}
		virtq_push(&q, &elems[cur], serve(&elems[cur]));
		if (held) {
			virtq_push(&q, &elems[cur ^ 1], serve(&elems[cur ^ 1]));
			held = false;
		}
		virtq_should_notify(&q);
	}
	if (held && !q.broken)
		virtq_push(&q, &elems[cur ^ 1], serve(&elems[cur ^ 1]));
	virtq_should_notify(&q);
	/* A broken queue stays broken and quiet until reset. */
	if (q.broken && (virtq_pop(&q, &elems[0]) != -EIO || !virtq_enable_notify(&q) ||
			 virtq_should_notify(&q)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq_setup setup = { 0 };
	size_t ram_bytes;
	uint16_t start;

	if (size < HEADER)
		return 0;
	memset(mem.host, 0, mem.size);
	ram_bytes = size - HEADER < mem.size ? size - HEADER : mem.size;
	memcpy(mem.host, data + HEADER, ram_bytes);

	setup.size = (uint16_t)(1u << (data[0] % 9));
	setup.event_idx = data[1] & 1;
	setup.indirect = data[1] & 2;
	layout(&setup, data);
	if (virtq_init(&q, &mem, "fuzz.q0", &setup) < 0)
		return 0;
	start = (uint16_t)(data[2] | data[3] << 8);
	if (start)
		virtq_set_indices(&q, start, start);
	run(data[1] & 8, data[1] & 16);
	virtq_reset(&q);
	return 0;
}
