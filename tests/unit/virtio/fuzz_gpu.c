// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for virtio-gpu's 2D command set (src/virtio/gpu_2d.c):
 * what a guest's driver can send on the control and cursor queues, in any
 * order, over guest RAM it also writes, with the front ends reading the
 * screen and snapshots taken and restored in between. The input is a list
 * of records:
 *
 *   byte 0     what: 0 a control request, 1 a cursor request, 2 bytes
 *              written into guest RAM (u32 address, then the bytes),
 *              3 a frame update, 4 a frame read, 5 a save and a load of the
 *              state, 6 a load of the record as a state (a hostile file),
 *              7 a new preferred mode (u32 width, u32 height)
 *   bytes 1-2  the record's length n (little-endian), then n bytes
 *
 * Beyond the sanitizers: every response is at least a header and at most
 * GPU_RESP_MAX; a frame has the scanout's size; a saved state loads back;
 * the images' total never passes the (fuzzer's smaller) budget.
 * Seeds: fuzz_gpu_seeds.py.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/memory.h"
#include "virtio/gpu_2d.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define RAM (4u << 20)
#define HOSTMEM (8u << 20)

static struct guest_mem mem;
static uint8_t resp[GPU_RESP_MAX];
static uint8_t rows[DISPLAY_MAX_HEIGHT];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	if (guest_mem_init(&mem, RAM) < 0)
		abort();
	return 0;
}

static uint32_t u32_at(const uint8_t *p, size_t n, size_t off)
{
	uint32_t v = 0;

	if (off + 4 <= n)
		memcpy(&v, p + off, 4);
	return v;
}

static void check_frame(const struct gpu_2d *g, const struct display_frame *f)
{
	if (f->width != g->scanout.r.width || f->height != g->scanout.r.height)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct display_frame upd = { 0 }, rd;
	char err[256];
	struct gpu_2d g;

	memset(mem.host, 0, RAM);
	gpu_2d_init(&g, &mem, 1024, 768);
	g.max_hostmem = HOSTMEM;
	while (size >= 3) {
		uint8_t what = data[0] % 8;
		size_t n = (size_t)data[1] | (size_t)data[2] << 8;
		const uint8_t *p = data + 3;

		if (n > size - 3)
			n = size - 3;
		data += 3 + n;
		size -= 3 + n;
		switch (what) {
		case 0: {
			size_t len = gpu_2d_command(&g, p, n, resp);

			if (len < 24 || len > GPU_RESP_MAX)
				abort();
			break;
		}
		case 1:
			gpu_2d_cursor_command(&g, p, n);
			break;
		case 2: {
			uint32_t addr = u32_at(p, n, 0) % RAM;

			if (n > 4) {
				size_t len = n - 4 < RAM - addr ? n - 4 : RAM - addr;

				memcpy(mem.host + addr, p + 4, len);
			}
			break;
		}
		case 3:
			if (gpu_2d_update(&g, &upd, rows) >= 0)
				check_frame(&g, &upd);
			break;
		case 4:
			if (gpu_2d_read_frame(&g, &rd) == 0) {
				check_frame(&g, &rd);
				display_frame_free(&rd);
			}
			break;
		case 5: {
			uint8_t *buf;
			size_t len;

			if (gpu_2d_save(&g, &buf, &len) < 0)
				break;
			if (gpu_2d_load(&g, buf, len, err, sizeof(err)) < 0)
				abort(); /* what we saved must load */
			free(buf);
			break;
		}
		case 6:
			(void)gpu_2d_load(&g, p, n, err, sizeof(err));
			break;
		default:
			(void)gpu_2d_set_preferred(&g, u32_at(p, n, 0), u32_at(p, n, 4));
			break;
		}
		if (g.hostmem > HOSTMEM)
			abort();
	}
	display_frame_free(&upd);
	gpu_2d_reset(&g);
	return 0;
}
