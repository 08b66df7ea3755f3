// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-gpu on a real device context, through its PCI transport and
 * queues as Linux's virtio_gpu drives it: the identity and config space it
 * probes, requests and responses on the control queue, a picture drawn,
 * transferred and flushed reaching the screen (display_update: only the
 * flushed rows), a viewer's resize becoming a display event the driver
 * acknowledges, requests in buffers too small, and the snapshot's round
 * trip through the device registry. The commands' own checks are
 * tests/unit/virtio/test_gpu_2d.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../virtio/gpu_cmds.h"
#include "snapshot/snapfile.h"
#include "test_ctx.h"
#include "virtio_up.h"

extern const struct dev_ops virtio_gpu_device;

#define RAM (16u << 20)
#define BAR 0xc0000000ull
#define RING 0x10000
#define REQ 0x20000   /* request buffers */
#define RESP 0x30000  /* response buffers */
#define PIX 0x100000  /* the picture's backing */
#define W 40
#define H 30

struct bench {
	struct test_ctx t;
	struct dev_registry r;
	struct guest_driver q[2];
	unsigned int slot;
	uint16_t next[2];
};

static void up(struct bench *b, bool driver)
{
	char err[256] = "";

	test_ctx_init(&b->t, RAM);
	b->t.cfg.display.device = DISPLAY_DEVICE_VIRTIO_GPU;
	if (dev_registry_realize(&b->r, &b->t.ctx, &b->t.cfg,
				 (const struct dev_ops *const[]){ &virtio_gpu_device }, 1, err,
				 sizeof(err)) < 0)
		fail_msg("realize: %s", err);
	b->slot = test_pci_find(&b->t, 0x10501af4); /* 1af4:1050: virtio 1.x device 16 */
	b->next[0] = b->next[1] = 0;
	if (driver)
		test_virtio_up(&b->t, b->slot, BAR, b->q, 2, RING);
}

static void down(struct bench *b)
{
	dev_registry_unrealize(&b->r);
	test_ctx_fini(&b->t);
}

/*
 * One request (req, n bytes) on queue q, its response into a buffer of
 * resp_len bytes; returns the used length (-1: not completed) and leaves
 * the response at RESP.
 */
static int request(struct bench *b, unsigned int q, const uint8_t *req, size_t n,
		   uint32_t resp_len)
{
	struct guest_driver *gd = &b->q[q];
	uint16_t d = (uint16_t)(b->next[q] % 8 & ~1u);
	uint32_t id, len;

	memcpy(guest_mem_ptr(&b->t.mem, REQ, n), req, n);
	gd_set_desc(gd, d, REQ, (uint32_t)n, resp_len ? 1 /* NEXT */ : 0, (uint16_t)(d + 1));
	if (resp_len)
		gd_set_desc(gd, (uint16_t)(d + 1), RESP, resp_len, 2 /* WRITE */, 0);
	gd_publish(gd, d);
	b->next[q] = (uint16_t)(b->next[q] + 2);
	test_mmio_write(&b->t, BAR + 0x3000 + 4 * q, q, 2);
	test_loop_drain(&b->t);
	if (!gd_get_used(gd, &id, &len))
		return -1;
	assert_int_equal(id, d);
	return (int)len;
}

/* A control request with a header-sized response; its type. */
static uint32_t ctrl(struct bench *b, const uint8_t *req, size_t n)
{
	uint32_t type;

	assert_int_equal(request(b, 0, req, n, 24), 24);
	memcpy(&type, guest_mem_ptr(&b->t.mem, RESP, 4), 4);
	return type;
}

static void test_probe_and_requests(void **state)
{
	struct bench b;
	uint8_t req[64];
	uint32_t v;

	(void)state;
	up(&b, false);
	/* What Linux's virtio_pci and virtio_gpu probe: a display controller. */
	assert_int_equal(test_mmio_read(&b.t, TEST_ECAM(&b.t, b.slot, 0x08), 4) >> 8, 0x038000);
	test_virtio_up(&b.t, b.slot, BAR, b.q, 2, RING);
	assert_int_equal(test_mmio_read(&b.t, BAR + 0x2000 + 8, 4), 1); /* num_scanouts */
	assert_int_equal(test_mmio_read(&b.t, BAR + 0x2000 + 12, 4), 0); /* num_capsets */
	assert_int_equal(test_mmio_read(&b.t, BAR + 0x2000, 4), 0);      /* no event */
	/* The EDID feature is offered (bit 1). */
	test_mmio_write(&b.t, BAR + 0x00, 0, 4);
	assert_true(test_mmio_read(&b.t, BAR + 0x04, 4) & 2);
	/* GET_DISPLAY_INFO: the preferred mode, 1024x768 by default. */
	assert_int_equal(request(&b, 0, req, gc_hdr(req, GPU_CMD_GET_DISPLAY_INFO, 24), 408), 408);
	memcpy(&v, guest_mem_ptr(&b.t.mem, RESP + 24 + 8, 4), 4);
	assert_int_equal(v, 1024);
	/* A response buffer too small gets nothing written, and the queue goes on. */
	assert_int_equal(request(&b, 0, req, gc_hdr(req, GPU_CMD_GET_DISPLAY_INFO, 24), 100), 0);
	assert_int_equal(request(&b, 0, req, gc_hdr(req, GPU_CMD_GET_DISPLAY_INFO, 24), 0), 0);
	/* A request that is no request: an error response. */
	assert_int_equal(ctrl(&b, req, 3), GPU_RESP_ERR_UNSPEC);
	/* The cursor queue: no response. */
	assert_int_equal(request(&b, 1, req,
				 gc_cursor(req, GPU_CMD_MOVE_CURSOR, 0, 10, 10, 0, 0), 0), 0);
	down(&b);
}

/* Linux's first frame: create, attach, set scanout, transfer, flush. */
static void draw(struct bench *b, uint32_t colour)
{
	uint32_t *p = guest_mem_ptr(&b->t.mem, PIX, W * H * 4);
	uint8_t req[64];

	for (int i = 0; i < W * H; i++)
		p[i] = colour + (uint32_t)i;
	assert_int_equal(ctrl(b, req, gc_create(req, 1, GPU_FORMAT_B8G8R8X8_UNORM, W, H)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(ctrl(b, req, gc_attach(req, 1, PIX, W * H * 4)), GPU_RESP_OK_NODATA);
	assert_int_equal(ctrl(b, req, gc_scanout(req, 1, 0, 0, W, H)), GPU_RESP_OK_NODATA);
	assert_int_equal(ctrl(b, req, gc_transfer(req, 1, 0, 0, W, H, 0)), GPU_RESP_OK_NODATA);
	assert_int_equal(ctrl(b, req, gc_flush(req, 1, 0, 0, W, H)), GPU_RESP_OK_NODATA);
}

static void test_screen(void **state)
{
	struct bench b;
	struct display_frame f = { 0 };
	static uint8_t rows[DISPLAY_MAX_HEIGHT];
	uint8_t req[64];
	uint32_t *p;

	(void)state;
	up(&b, true);
	assert_int_equal(display_update(&b.t.display, &f, rows), -ENODATA); /* nothing yet */
	draw(&b, 0x100000);
	assert_int_equal(display_update(&b.t.display, &f, rows), H);
	assert_int_equal(f.width, W);
	assert_int_equal(f.pixels[W * 2 + 3], 0x100000 + W * 2 + 3);
	assert_int_equal(display_update(&b.t.display, &f, rows), 0); /* still */
	/* Rows 7 and 8 change and are flushed: those two only. */
	p = guest_mem_ptr(&b.t.mem, PIX, W * H * 4);
	p[W * 7] = p[W * 8 + 1] = 0xabcdef;
	assert_int_equal(ctrl(&b, req, gc_transfer(req, 1, 0, 7, 2, 2, W * 7 * 4)),
			 GPU_RESP_OK_NODATA);
	assert_int_equal(ctrl(&b, req, gc_flush(req, 1, 0, 7, 2, 2)), GPU_RESP_OK_NODATA);
	assert_int_equal(display_update(&b.t.display, &f, rows), 2);
	assert_true(rows[7] && rows[8] && !rows[6] && !rows[9]);
	assert_int_equal(f.pixels[W * 8 + 1], 0xabcdef);
	/* A device reset: the driver's resources are gone, the screen is dark. */
	test_mmio_write(&b.t, BAR + 0x14, 0, 1);
	assert_int_equal(display_update(&b.t.display, &f, rows), -ENODATA);
	display_frame_free(&f);
	down(&b);
}

static void test_resize(void **state)
{
	struct bench b;
	uint8_t req[64], gen;
	uint32_t v;

	(void)state;
	up(&b, true);
	gen = (uint8_t)test_mmio_read(&b.t, BAR + 0x15, 1); /* config_generation */
	assert_int_equal(display_resize(&b.t.display, 100, 100), -EINVAL);
	assert_int_equal(display_resize(&b.t.display, 1280, 800), 0);
	/* A display event, in config space and as a config change. */
	assert_int_equal(test_mmio_read(&b.t, BAR + 0x2000, 4), 1);
	assert_int_not_equal((uint8_t)test_mmio_read(&b.t, BAR + 0x15, 1), gen);
	assert_true(test_mmio_read(&b.t, BAR + 0x1000, 1) & 2); /* ISR: config */
	/* The driver reads the new mode and acknowledges the event. */
	assert_int_equal(request(&b, 0, req, gc_hdr(req, GPU_CMD_GET_DISPLAY_INFO, 24), 408), 408);
	memcpy(&v, guest_mem_ptr(&b.t.mem, RESP + 24 + 8, 4), 4);
	assert_int_equal(v, 1280);
	memcpy(&v, guest_mem_ptr(&b.t.mem, RESP + 24 + 12, 4), 4);
	assert_int_equal(v, 800);
	test_mmio_write(&b.t, BAR + 0x2000 + 4, 1, 4);
	assert_int_equal(test_mmio_read(&b.t, BAR + 0x2000, 4), 0);
	/* Only events_clear is the driver's to write. */
	test_mmio_write(&b.t, BAR + 0x2000 + 8, 5, 4);
	assert_int_equal(test_mmio_read(&b.t, BAR + 0x2000 + 8, 4), 1);
	down(&b);
}

static void test_snapshot(void **state)
{
	char dir[] = "/tmp/phyllo-test-vgpu-XXXXXX", path[96], err[256] = "";
	struct display_frame f;
	struct snap_writer w;
	struct snap_reader rd;
	struct bench a, b;
	uint8_t req[64], *ram;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_STATE_FILE);
	up(&a, true);
	draw(&a, 0x200000);
	assert_int_equal(display_resize(&a.t.display, 1280, 800), 0);
	assert_int_equal(snap_writer_open(&w, dir, SNAP_STATE_FILE, err, sizeof(err)), 0);
	assert_int_equal(dev_registry_save(&a.r, &w, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
	ram = malloc(RAM);
	assert_non_null(ram);
	memcpy(ram, guest_mem_ptr(&a.t.mem, 0, RAM), RAM); /* what the memory file keeps */

	/* A fresh device on the guest's RAM as it was, rings and picture. */
	up(&b, false);
	memcpy(guest_mem_ptr(&b.t.mem, 0, RAM), ram, RAM);
	free(ram);
	b.q[0] = a.q[0];
	b.q[0].mem = &b.t.mem;
	b.next[0] = a.next[0];
	down(&a);
	assert_int_equal(snap_reader_open(&rd, path, 0, err, sizeof(err)), 0);
	if (dev_registry_load(&b.r, &rd, err, sizeof(err)) < 0)
		fail_msg("load: %s", err);
	snap_reader_close(&rd);
	assert_int_equal(display_read_frame(&b.t.display, &f), 0);
	assert_int_equal(f.width, W);
	assert_int_equal(f.pixels[5], 0x200005);
	display_frame_free(&f);
	/* Its queues and backing work as before: a transfer, and the new mode. */
	assert_int_equal(ctrl(&b, req, gc_transfer(req, 1, 0, 0, W, H, 0)), GPU_RESP_OK_NODATA);
	assert_int_equal(request(&b, 0, req, gc_hdr(req, GPU_CMD_GET_DISPLAY_INFO, 24), 408), 408);
	assert_int_equal(*(uint32_t *)guest_mem_ptr(&b.t.mem, RESP + 24 + 8, 4), 1280);
	down(&b);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_and_requests),
		cmocka_unit_test(test_screen),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
