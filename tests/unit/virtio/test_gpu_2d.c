// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-gpu's 2D commands (src/virtio/gpu_2d.c) as Linux's driver sends
 * them, on real guest memory: what the front ends then see (frames, the
 * rows flushed), every error a bad request must get, the preferred mode
 * in display info and EDID, the cursor, and the snapshot's round trip and
 * refusals.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/memory.h"
#include "display/edid.h"
#include "gpu_cmds.h"
#include "virtio/gpu_2d.h"

#define RAM (8u << 20)
#define W 64
#define H 32

struct fx {
	struct guest_mem mem;
	struct gpu_2d g;
	uint8_t req[256], resp[GPU_RESP_MAX];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(guest_mem_init(&f->mem, RAM), 0);
	gpu_2d_init(&f->g, &f->mem, 1024, 768);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	gpu_2d_reset(&f->g);
	guest_mem_free(&f->mem);
	free(f);
	return 0;
}

/* Send req (n bytes); returns the response's type. */
static uint32_t cmd(struct fx *f, size_t n)
{
	uint32_t type;
	size_t len = gpu_2d_command(&f->g, f->req, n, f->resp);

	assert_true(len >= 24 && len <= GPU_RESP_MAX);
	memcpy(&type, f->resp, 4);
	return type;
}

/* The guest's picture at gpa: pixel (x, y) = 0xXXRRGGBB with a marker. */
static uint32_t px(uint32_t x, uint32_t y)
{
	return 0xff000000u | (x & 0xff) << 16 | (y & 0xff) << 8 | ((x + y) & 0xff);
}

static void fill_guest(struct fx *f, uint64_t gpa, uint32_t w, uint32_t h)
{
	uint32_t *p = guest_mem_ptr(&f->mem, gpa, (uint64_t)w * h * 4);

	assert_non_null(p);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			p[y * w + x] = px(x, y);
}

/* A W x H XRGB resource 1 backed at 1 MiB, on the scanout. */
static void make_screen(struct fx *f)
{
	assert_int_equal(cmd(f, gc_create(f->req, 1, GPU_FORMAT_B8G8R8X8_UNORM, W, H)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_attach(f->req, 1, 1 << 20, W * H * 4)), GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_scanout(f->req, 1, 0, 0, W, H)), GPU_RESP_OK_NODATA);
}

static void test_draw_and_flush(void **state)
{
	struct fx *f = *state;
	struct display_frame fr = { 0 };
	static uint8_t rows[DISPLAY_MAX_HEIGHT];

	make_screen(f);
	fill_guest(f, 1 << 20, W, H);
	assert_int_equal(cmd(f, gc_transfer(f->req, 1, 0, 0, W, H, 0)), GPU_RESP_OK_NODATA);
	/* A new scanout: every row, once. */
	assert_int_equal(gpu_2d_update(&f->g, &fr, rows), H);
	assert_int_equal(fr.width, W);
	assert_int_equal(fr.height, H);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			assert_int_equal(fr.pixels[y * W + x], px(x, y) & 0xffffff);
	/* Still: nothing. */
	assert_int_equal(gpu_2d_update(&f->g, &fr, rows), 0);
	/* A rectangle changes in the guest: not shown before its transfer and flush. */
	{
		uint32_t *p = guest_mem_ptr(&f->mem, 1 << 20, W * H * 4);

		for (uint32_t y = 10; y < 14; y++)
			for (uint32_t x = 5; x < 9; x++)
				p[y * W + x] = 0x123456;
	}
	assert_int_equal(gpu_2d_update(&f->g, &fr, rows), 0);
	/* Linux's offset for the rectangle: its first pixel's in the backing. */
	assert_int_equal(cmd(f, gc_transfer(f->req, 1, 5, 10, 4, 4, (10 * W + 5) * 4)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_flush(f->req, 1, 5, 10, 4, 4)), GPU_RESP_OK_NODATA);
	assert_int_equal(gpu_2d_update(&f->g, &fr, rows), 4);
	for (uint32_t y = 0; y < H; y++)
		assert_int_equal(rows[y], y >= 10 && y < 14);
	assert_int_equal(fr.pixels[11 * W + 6], 0x123456);
	assert_int_equal(fr.pixels[11 * W + 9], px(9, 11) & 0xffffff);
	/* A flush of another resource, or outside the scanout, shows nothing new. */
	assert_int_equal(cmd(f, gc_create(f->req, 2, GPU_FORMAT_B8G8R8X8_UNORM, 8, 8)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_flush(f->req, 2, 0, 0, 8, 8)), GPU_RESP_OK_NODATA);
	assert_int_equal(gpu_2d_update(&f->g, &fr, rows), 0);
	display_frame_free(&fr);
}

/* Backing made of pieces (as the driver's scatter list): rows that cross them. */
static void test_scattered_backing(void **state)
{
	struct fx *f = *state;
	struct display_frame fr = { 0 };
	uint8_t req[32 + 16 * 3];
	uint64_t gpa[3] = { 0x300000, 0x100000, 0x200000 };
	uint32_t len[3] = { 1000, 3000, W * H * 4 - 4000 }; /* not on rows or pixels */
	uint8_t *whole = malloc(W * H * 4);

	assert_int_equal(cmd(f, gc_create(f->req, 1, GPU_FORMAT_B8G8R8X8_UNORM, W, H)),
			 GPU_RESP_OK_NODATA);
	gc_hdr(req, GPU_CMD_RESOURCE_ATTACH_BACKING, sizeof(req));
	gc_put32(req + 24, 1);
	gc_put32(req + 28, 3);
	for (int i = 0; i < 3; i++) {
		gc_put64(req + 32 + 16 * i, gpa[i]);
		gc_put32(req + 40 + 16 * i, len[i]);
	}
	assert_int_equal(gpu_2d_command(&f->g, req, sizeof(req), f->resp), 24);
	assert_int_equal(*(uint32_t *)f->resp, GPU_RESP_OK_NODATA);
	for (uint32_t i = 0; i < W * H; i++) {
		uint32_t v = px(i % W, i / W);

		memcpy(whole + 4 * i, &v, 4);
	}
	for (size_t i = 0, off = 0; i < 3; off += len[i], i++)
		memcpy(guest_mem_ptr(&f->mem, gpa[i], len[i]), whole + off, len[i]);
	/* Part of the rows, then all of them. */
	assert_int_equal(cmd(f, gc_transfer(f->req, 1, 3, 2, 50, 20, (2 * W + 3) * 4)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_scanout(f->req, 1, 0, 0, W, H)), GPU_RESP_OK_NODATA);
	assert_int_equal(gpu_2d_read_frame(&f->g, &fr), 0);
	assert_int_equal(fr.pixels[2 * W + 3], px(3, 2) & 0xffffff);
	assert_int_equal(fr.pixels[21 * W + 52], px(52, 21) & 0xffffff);
	assert_int_equal(fr.pixels[0], 0); /* not transferred */
	display_frame_free(&fr);
	assert_int_equal(cmd(f, gc_transfer(f->req, 1, 0, 0, W, H, 0)), GPU_RESP_OK_NODATA);
	assert_int_equal(gpu_2d_read_frame(&f->g, &fr), 0);
	for (uint32_t i = 0; i < W * H; i++)
		assert_int_equal(fr.pixels[i], px(i % W, i / W) & 0xffffff);
	display_frame_free(&fr);
	free(whole);
}

/* Each format's bytes to the same colour; a scanout of part of a resource. */
static void test_formats(void **state)
{
	static const struct {
		uint32_t format;
		uint8_t bytes[4]; /* red 0x11, green 0x22, blue 0x33 as the format stores them */
	} fm[] = {
		{ GPU_FORMAT_B8G8R8A8_UNORM, { 0x33, 0x22, 0x11, 0x80 } },
		{ GPU_FORMAT_B8G8R8X8_UNORM, { 0x33, 0x22, 0x11, 0x00 } },
		{ GPU_FORMAT_A8R8G8B8_UNORM, { 0x80, 0x11, 0x22, 0x33 } },
		{ GPU_FORMAT_X8R8G8B8_UNORM, { 0x00, 0x11, 0x22, 0x33 } },
		{ GPU_FORMAT_R8G8B8A8_UNORM, { 0x11, 0x22, 0x33, 0x80 } },
		{ GPU_FORMAT_R8G8B8X8_UNORM, { 0x11, 0x22, 0x33, 0x00 } },
		{ GPU_FORMAT_A8B8G8R8_UNORM, { 0x80, 0x33, 0x22, 0x11 } },
		{ GPU_FORMAT_X8B8G8R8_UNORM, { 0x00, 0x33, 0x22, 0x11 } },
	};
	struct fx *f = *state;

	for (uint32_t i = 0; i < sizeof(fm) / sizeof(fm[0]); i++) {
		struct display_frame fr = { 0 };
		uint8_t *p = guest_mem_ptr(&f->mem, 0x10000, 16 * 4);

		for (int k = 0; k < 16; k++)
			memcpy(p + 4 * k, fm[i].bytes, 4);
		assert_int_equal(cmd(f, gc_create(f->req, 10 + i, fm[i].format, 4, 4)),
				 GPU_RESP_OK_NODATA);
		assert_int_equal(cmd(f, gc_attach(f->req, 10 + i, 0x10000, 64)), GPU_RESP_OK_NODATA);
		assert_int_equal(cmd(f, gc_transfer(f->req, 10 + i, 0, 0, 4, 4, 0)),
				 GPU_RESP_OK_NODATA);
		assert_int_equal(cmd(f, gc_scanout(f->req, 10 + i, 1, 1, 2, 3)), GPU_RESP_OK_NODATA);
		assert_int_equal(gpu_2d_read_frame(&f->g, &fr), 0);
		assert_int_equal(fr.width, 2);
		assert_int_equal(fr.height, 3);
		assert_int_equal(fr.pixels[5], 0x112233);
		display_frame_free(&fr);
	}
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	uint8_t *req = f->req;

	make_screen(f);
	/* Ids: 0, taken, unknown. */
	assert_int_equal(cmd(f, gc_create(req, 0, GPU_FORMAT_B8G8R8X8_UNORM, 4, 4)),
			 GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(cmd(f, gc_create(req, 1, GPU_FORMAT_B8G8R8X8_UNORM, 4, 4)),
			 GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(cmd(f, gc_id_cmd(req, GPU_CMD_RESOURCE_UNREF, 77)),
			 GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(cmd(f, gc_flush(req, 77, 0, 0, 1, 1)), GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(cmd(f, gc_transfer(req, 77, 0, 0, 1, 1, 0)),
			 GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(cmd(f, gc_scanout(req, 77, 0, 0, 1, 1)), GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* Formats and sizes. */
	assert_int_equal(cmd(f, gc_create(req, 2, 999, 4, 4)), GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_create(req, 2, GPU_FORMAT_B8G8R8X8_UNORM, 0, 4)),
			 GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_create(req, 2, GPU_FORMAT_B8G8R8X8_UNORM, GPU_MAX_DIM + 1, 1)),
			 GPU_RESP_ERR_INVALID_PARAMETER);
	/* Past the images' budget: 16384 x 16384 x 4 is 1 GiB. */
	assert_int_equal(cmd(f, gc_create(req, 2, GPU_FORMAT_B8G8R8X8_UNORM, GPU_MAX_DIM,
					  GPU_MAX_DIM)), GPU_RESP_ERR_OUT_OF_MEMORY);
	/* Rectangles past the resource, and ones whose sum wraps in 32 bits. */
	assert_int_equal(cmd(f, gc_transfer(req, 1, 1, 0, W, 1, 0)), GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_transfer(req, 1, 0xffffffffu, 0, 2, 1, 0)),
			 GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_flush(req, 1, 0, 0xfffffff0u, 1, 0x20)),
			 GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_scanout(req, 1, 0, 1, W, H)), GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_transfer(req, 1, 0, 0, 0, 0, 0)), GPU_RESP_ERR_INVALID_PARAMETER);
	/* Offsets past the backing, and huge ones. */
	assert_int_equal(cmd(f, gc_transfer(req, 1, 0, 0, W, H, 4)), GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_transfer(req, 1, 0, 0, 1, 1, ~0ull - 2)),
			 GPU_RESP_ERR_INVALID_PARAMETER);
	/* Backing: outside RAM, across its end, empty, too many entries, twice. */
	assert_int_equal(cmd(f, gc_create(req, 3, GPU_FORMAT_B8G8R8X8_UNORM, 4, 4)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_attach(req, 3, 0xd0000000ull, 64)),
			 GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_attach(req, 3, RAM - 32, 64)), GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_attach(req, 3, 0, 0)), GPU_RESP_ERR_INVALID_PARAMETER);
	gc_attach(req, 3, 0, 64);
	gc_put32(req + 28, GPU_MAX_BACKING_ENTRIES + 1);
	assert_int_equal(cmd(f, 48), GPU_RESP_ERR_INVALID_PARAMETER);
	gc_put32(req + 28, 2); /* says 2, carries 1 */
	assert_int_equal(cmd(f, 48), GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(cmd(f, gc_transfer(req, 3, 0, 0, 4, 4, 0)), GPU_RESP_ERR_UNSPEC);
	assert_int_equal(cmd(f, gc_attach(req, 3, 0, 64)), GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_attach(req, 3, 0, 64)), GPU_RESP_ERR_UNSPEC);
	assert_int_equal(cmd(f, gc_id_cmd(req, GPU_CMD_RESOURCE_DETACH_BACKING, 3)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_id_cmd(req, GPU_CMD_RESOURCE_DETACH_BACKING, 3)),
			 GPU_RESP_ERR_UNSPEC);
	/* A scanout other than 0. */
	gc_scanout(req, 1, 0, 0, 1, 1);
	gc_put32(req + 40, 1);
	assert_int_equal(cmd(f, 48), GPU_RESP_ERR_INVALID_SCANOUT_ID);
	/* Short requests, unknown and 3D commands, capsets we do not have. */
	assert_int_equal(cmd(f, 10), GPU_RESP_ERR_UNSPEC);
	gc_create(req, 4, GPU_FORMAT_B8G8R8X8_UNORM, 4, 4);
	assert_int_equal(cmd(f, 39), GPU_RESP_ERR_UNSPEC);
	assert_null(gpu_2d_find(&f->g, 4));
	assert_int_equal(cmd(f, gc_hdr(req, 0x0201, 64)), GPU_RESP_ERR_UNSPEC); /* CTX_CREATE */
	assert_int_equal(cmd(f, gc_hdr(req, 0xdead, 24)), GPU_RESP_ERR_UNSPEC);
	assert_int_equal(cmd(f, gc_id_cmd(req, GPU_CMD_GET_CAPSET_INFO, 0)),
			 GPU_RESP_ERR_INVALID_PARAMETER);
	/* After all that, the screen is as it was. */
	assert_int_equal(f->g.scanout.resource_id, 1);
	assert_int_equal(f->g.nres, 2);
}

static void test_unref_and_fence(void **state)
{
	struct fx *f = *state;
	struct display_frame fr = { 0 };
	struct gpu_ctrl_hdr h;
	uint64_t hostmem;

	make_screen(f);
	hostmem = f->g.hostmem;
	assert_int_equal(hostmem, W * H * 4);
	/* A fenced request: its response carries the fence back. */
	gc_id_cmd(f->req, GPU_CMD_RESOURCE_UNREF, 1);
	gc_put32(f->req + 4, GPU_FLAG_FENCE | GPU_FLAG_INFO_RING_IDX);
	gc_put64(f->req + 8, 0x1122334455667788ull);
	f->req[20] = 3;
	assert_int_equal(cmd(f, 32), GPU_RESP_OK_NODATA);
	memcpy(&h, f->resp, sizeof(h));
	assert_int_equal(h.flags, GPU_FLAG_FENCE | GPU_FLAG_INFO_RING_IDX);
	assert_int_equal(h.fence_id, 0x1122334455667788ull);
	assert_int_equal(h.ring_idx, 3);
	/* Its resource was on the scanout: the screen goes dark, its memory back. */
	assert_int_equal(f->g.scanout.resource_id, 0);
	assert_int_equal(f->g.hostmem, 0);
	assert_int_equal(gpu_2d_read_frame(&f->g, &fr), -ENODATA);
	/* A scanout turned off by resource 0. */
	make_screen(f);
	assert_int_equal(cmd(f, gc_scanout(f->req, 0, 0, 0, 0, 0)), GPU_RESP_OK_NODATA);
	assert_int_equal(gpu_2d_read_frame(&f->g, &fr), -ENODATA);
}

static void test_display_info_and_edid(void **state)
{
	struct fx *f = *state;
	uint8_t want[EDID_SIZE];
	uint32_t v;

	assert_int_equal(cmd(f, gc_hdr(f->req, GPU_CMD_GET_DISPLAY_INFO, 24)),
			 GPU_RESP_OK_DISPLAY_INFO);
	memcpy(&v, f->resp + 24 + 8, 4);
	assert_int_equal(v, 1024);
	memcpy(&v, f->resp + 24 + 12, 4);
	assert_int_equal(v, 768);
	memcpy(&v, f->resp + 24 + 16, 4);
	assert_int_equal(v, 1); /* enabled */
	/* The viewer wants 1280x800: both answers follow. */
	assert_int_equal(gpu_2d_set_preferred(&f->g, 1280, 800), 0);
	assert_int_equal(gpu_2d_set_preferred(&f->g, 5000, 800), -EINVAL);
	assert_int_equal(gpu_2d_set_preferred(&f->g, 100, 100), -EINVAL);
	assert_int_equal(cmd(f, gc_hdr(f->req, GPU_CMD_GET_DISPLAY_INFO, 24)),
			 GPU_RESP_OK_DISPLAY_INFO);
	memcpy(&v, f->resp + 24 + 8, 4);
	assert_int_equal(v, 1280);
	assert_int_equal(cmd(f, gc_id_cmd(f->req, GPU_CMD_GET_EDID, 0)), GPU_RESP_OK_EDID);
	memcpy(&v, f->resp + 24, 4);
	assert_int_equal(v, EDID_SIZE);
	assert_int_equal(edid_build(want, 1280, 800), 0);
	assert_memory_equal(f->resp + 32, want, EDID_SIZE);
	assert_int_equal(cmd(f, gc_id_cmd(f->req, GPU_CMD_GET_EDID, 1)),
			 GPU_RESP_ERR_INVALID_SCANOUT_ID);
}

static void test_cursor(void **state)
{
	struct fx *f = *state;
	uint32_t *p = guest_mem_ptr(&f->mem, 0x40000, 64 * 64 * 4);
	uint32_t serial;

	for (int i = 0; i < 64 * 64; i++)
		p[i] = 0x80112233; /* B8G8R8A8: alpha 0x80 */
	assert_int_equal(cmd(f, gc_create(f->req, 5, GPU_FORMAT_B8G8R8A8_UNORM, 64, 64)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_attach(f->req, 5, 0x40000, 64 * 64 * 4)), GPU_RESP_OK_NODATA);
	assert_int_equal(cmd(f, gc_transfer(f->req, 5, 0, 0, 64, 64, 0)), GPU_RESP_OK_NODATA);
	gpu_2d_cursor_command(&f->g, f->req,
			      gc_cursor(f->req, GPU_CMD_UPDATE_CURSOR, 5, 100, 200, 3, 4));
	assert_int_equal(f->g.cursor.resource_id, 5);
	assert_int_equal(f->g.cursor.hot_x, 3);
	assert_int_equal(f->g.cursor.x, 100);
	assert_int_equal(f->g.cursor.image[77], 0x80112233);
	serial = f->g.cursor.serial;
	gpu_2d_cursor_command(&f->g, f->req, gc_cursor(f->req, GPU_CMD_MOVE_CURSOR, 0, 7, 8, 0, 0));
	assert_int_equal(f->g.cursor.y, 8);
	assert_int_equal(f->g.cursor.resource_id, 5);
	assert_true(f->g.cursor.serial != serial);
	/* Not a 64x64 resource, a hot spot outside it, a short request. */
	assert_int_equal(cmd(f, gc_create(f->req, 6, GPU_FORMAT_B8G8R8A8_UNORM, 32, 32)),
			 GPU_RESP_OK_NODATA);
	gpu_2d_cursor_command(&f->g, f->req,
			      gc_cursor(f->req, GPU_CMD_UPDATE_CURSOR, 6, 0, 0, 0, 0));
	assert_int_equal(f->g.cursor.resource_id, 0);
	gpu_2d_cursor_command(&f->g, f->req,
			      gc_cursor(f->req, GPU_CMD_UPDATE_CURSOR, 5, 0, 0, 999, 999));
	assert_int_equal(f->g.cursor.hot_x, 0);
	gpu_2d_cursor_command(&f->g, f->req, 30);
}

static void test_snapshot(void **state)
{
	struct fx *f = *state;
	struct display_frame a = { 0 }, b = { 0 };
	uint8_t *buf, *bad;
	size_t len;
	char err[256];

	make_screen(f);
	fill_guest(f, 1 << 20, W, H);
	assert_int_equal(cmd(f, gc_transfer(f->req, 1, 0, 0, W, H, 0)), GPU_RESP_OK_NODATA);
	assert_int_equal(gpu_2d_set_preferred(&f->g, 1280, 800), 0);
	assert_int_equal(gpu_2d_read_frame(&f->g, &a), 0);
	assert_int_equal(gpu_2d_save(&f->g, &buf, &len), 0);
	gpu_2d_reset(&f->g);
	assert_int_equal(gpu_2d_load(&f->g, buf, len, err, sizeof(err)), 0);
	assert_int_equal(f->g.width, 1280);
	assert_int_equal(gpu_2d_read_frame(&f->g, &b), 0);
	assert_int_equal(a.width, b.width);
	assert_memory_equal(a.pixels, b.pixels, (size_t)W * H * 4);
	/* The backing came back: a transfer works. */
	assert_int_equal(cmd(f, gc_transfer(f->req, 1, 0, 0, W, H, 0)), GPU_RESP_OK_NODATA);
	/* Every cut is refused, with the section named. */
	for (size_t cut = 0; cut < len; cut += 97) {
		assert_int_equal(gpu_2d_load(&f->g, buf, cut, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "dev.virtio-gpu.2d"));
		assert_int_equal(f->g.nres, 0);
	}
	bad = malloc(len + 1);
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_int_equal(gpu_2d_load(&f->g, bad, len + 1, err, sizeof(err)), -EBADMSG);
	/* A resource too big, a backing outside RAM, a scanout off the resource. */
	{
		size_t res = 60 + 64 * 64 * 4; /* the first resource's record */
		uint32_t v;

		memcpy(bad, buf, len);
		v = GPU_MAX_DIM + 1;
		memcpy(bad + res + 8, &v, 4);
		assert_int_equal(gpu_2d_load(&f->g, bad, len, err, sizeof(err)), -EBADMSG);
		memcpy(bad, buf, len);
		memset(bad + res + 24, 0xff, 8);
		assert_int_equal(gpu_2d_load(&f->g, bad, len, err, sizeof(err)), -EBADMSG);
		memcpy(bad, buf, len);
		v = W + 1;
		memcpy(bad + 24, &v, 4); /* the scanout's x */
		assert_int_equal(gpu_2d_load(&f->g, bad, len, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "scanout"));
	}
	free(bad);
	free(buf);
	display_frame_free(&a);
	display_frame_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_draw_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scattered_backing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unref_and_fence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_info_and_edid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
