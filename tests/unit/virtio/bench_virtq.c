// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Micro-benchmark of the virtqueue core: N virtio-blk shaped requests
 * (16-byte header readable, 4 KiB data and a status byte writable) go
 * through a 256-entry queue with EVENT_IDX, BATCH at a time, the way a busy
 * guest submits them. Wall time is printed but noisy; for a repeatable
 * figure count instructions in the device's half only:
 *
 *   valgrind --tool=callgrind --toggle-collect=device_handle_batch \
 *     build/tests/unit/virtio/bench_virtq 100000 32
 *
 * and divide the collected Ir by N. The guest's half (guest_driver.c) is
 * outside device_handle_batch, so it is not counted.
 *
 * usage: bench_virtq [N [BATCH]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "guest_driver.h"
#include "virtio/virtq.h"

#define QSIZE 256
#define RING_BASE 0x1000
#define BUFS 0x100000

static struct virtq_elem elem;

/* Everything the device does for one batch: the part callgrind counts. */
__attribute__((noinline)) unsigned int device_handle_batch(struct virtq *q);

__attribute__((noinline)) unsigned int device_handle_batch(struct virtq *q)
{
	static const uint8_t ok = 0;
	unsigned int served = 0;
	uint8_t hdr[16];

	while (virtq_pop(q, &elem) == 1) {
		if (virtq_elem_read(&elem, 0, hdr, sizeof(hdr)) < 0 ||
		    virtq_elem_write(&elem, elem.writable_len - 1, &ok, 1) < 0)
			abort();
		virtq_push(q, &elem, elem.writable_len);
		served++;
	}
	if (virtq_should_notify(q))
		served |= 1u << 31; /* would inject an interrupt */
	return served;
}

/* The guest builds BATCH three-descriptor chains, heads 0, 3, 6, ... */
static void guest_build_chains(struct guest_driver *gd, unsigned int batch)
{
	for (uint16_t i = 0; i < batch; i++) {
		uint16_t d = (uint16_t)(3 * i);
		uint64_t buf = BUFS + i * 0x2000ull;

		gd_set_desc(gd, d, buf, 16, VIRTQ_DESC_F_NEXT, d + 1);
		gd_set_desc(gd, d + 1, buf + 0x1000, 4096,
			    VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, d + 2);
		gd_set_desc(gd, d + 2, buf + 16, 1, VIRTQ_DESC_F_WRITE, 0);
	}
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 0) : 1000000;
	unsigned int batch = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 32;
	struct guest_mem mem;
	struct guest_driver gd;
	struct virtq q = { 0 };
	struct timespec t0, t1;
	unsigned long done = 0, irqs = 0;
	uint32_t id, len;
	double ns;

	if (batch == 0 || batch > QSIZE / 3) {
		fprintf(stderr, "bench_virtq: BATCH must be 1..%d\n", QSIZE / 3);
		return 1;
	}
	if (guest_mem_init(&mem, 16u << 20) < 0)
		return 1;
	gd_layout(&gd, &mem, QSIZE, RING_BASE);
	if (gd_init_virtq(&gd, &q, true, true) < 0)
		return 1;
	guest_build_chains(&gd, batch);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (done < n) {
		unsigned int served;

		for (uint16_t i = 0; i < batch; i++)
			gd_publish(&gd, (uint16_t)(3 * i));
		/* The guest asks for one interrupt per batch. */
		gd_set_used_event(&gd, (uint16_t)(gd.last_used + batch - 1));
		served = device_handle_batch(&q);
		irqs += served >> 31;
		if ((served & ~(1u << 31)) != batch)
			abort();
		while (gd_get_used(&gd, &id, &len))
			done++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("%lu requests, batch %u: %.1f ns/request (device and guest), %lu interrupts\n",
	       done, batch, ns / (double)done, irqs);
	guest_mem_free(&mem);
	return 0;
}
