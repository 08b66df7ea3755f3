// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The screen and the bochs-display on a real device context: PCI identity
 * and BARs as bochs-drm and OVMF find them, the framebuffer BAR mapped as
 * RAM (and moved with its BAR), the DISPI registers through BAR2, frames
 * read back in every pixel format, panning, modes that do not fit (shown
 * as nothing, never read past the framebuffer), the snapshot round trip,
 * and PNG encoding checked by decoding with libpng.
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "snapshot/snapfile.h"
#include "test_ctx.h"
#include "ui/png.h"
#include "display/edid.h"

extern const struct dev_ops bochs_display_device;

#define RAM (16u << 20)
#define FB_GPA 0xc1000000ull   /* where the test puts BAR0 (16 MiB aligned) */
#define MMIO_GPA 0xc2000000ull /* and BAR2 */
#define VRAM (16u << 20)

enum { ID, XRES, YRES, BPP, ENABLE, BANK, VIRT_WIDTH, VIRT_HEIGHT, X_OFFSET, Y_OFFSET, VMEM64K };

struct bench {
	struct test_ctx t;
	struct dev_registry r;
	unsigned int slot;
	uint8_t *fb;
};

static void up(struct bench *b)
{
	char err[256] = "";

	test_ctx_init(&b->t, RAM);
	b->t.cfg.display.device = DISPLAY_DEVICE_BOCHS;
	if (dev_registry_realize(&b->r, &b->t.ctx, &b->t.cfg, (const struct dev_ops *const[]){
					 &bochs_display_device }, 1, err, sizeof(err)) < 0)
		fail_msg("realize: %s", err);
	b->slot = test_pci_find(&b->t, 0x11111234);
	test_mmio_write(&b->t, TEST_ECAM(&b->t, b->slot, 0x10), (uint32_t)FB_GPA, 4);
	test_mmio_write(&b->t, TEST_ECAM(&b->t, b->slot, 0x18), (uint32_t)MMIO_GPA, 4);
	test_mmio_write(&b->t, TEST_ECAM(&b->t, b->slot, 0x04), 0x0002, 2);
	b->fb = test_ram_at(&b->t, FB_GPA, VRAM);
	assert_non_null(b->fb);
}

static void down(struct bench *b)
{
	dev_registry_unrealize(&b->r);
	test_ctx_fini(&b->t);
}

static uint16_t dispi(struct bench *b, unsigned int reg)
{
	return (uint16_t)test_mmio_read(&b->t, MMIO_GPA + 0x500 + 2 * reg, 2);
}

static void set_dispi(struct bench *b, unsigned int reg, uint16_t v)
{
	test_mmio_write(&b->t, MMIO_GPA + 0x500 + 2 * reg, v, 2);
}

/* What bochs-drm's bochs_hw_setmode() writes. */
static void set_mode(struct bench *b, uint16_t w, uint16_t h, uint16_t bpp)
{
	set_dispi(b, ENABLE, 0);
	set_dispi(b, BPP, bpp);
	set_dispi(b, XRES, w);
	set_dispi(b, YRES, h);
	set_dispi(b, BANK, 0);
	set_dispi(b, VIRT_WIDTH, w);
	set_dispi(b, VIRT_HEIGHT, (uint16_t)(VRAM / (w * ((bpp + 7) / 8))));
	set_dispi(b, X_OFFSET, 0);
	set_dispi(b, Y_OFFSET, 0);
	set_dispi(b, ENABLE, 0x41); /* ENABLED | LFB_ENABLED */
}

static void test_identity(void **state)
{
	struct bench b;

	(void)state;
	up(&b);
	/* Display controller (other), prefetchable 32-bit BAR0, QEMU's subsystem. */
	assert_int_equal(test_mmio_read(&b.t, TEST_ECAM(&b.t, b.slot, 0x08), 4) >> 8, 0x038000);
	assert_int_equal(test_mmio_read(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), 4) & 0xf, 0x8);
	assert_int_equal(test_mmio_read(&b.t, TEST_ECAM(&b.t, b.slot, 0x2c), 4), 0x11001af4);
	/* BAR sizing: 16 MiB framebuffer, 4 KiB registers. */
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), 0xffffffff, 4);
	assert_int_equal(test_mmio_read(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), 4), 0xff000008);
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), (uint32_t)FB_GPA, 4);
	/* The framebuffer is RAM in a dirty-logged slot, not a bus range. */
	assert_int_equal(b.t.nr_ram, 1);
	assert_true(b.t.ram[0].log_dirty);
	assert_int_equal(b.t.ram[0].gpa, FB_GPA);
	assert_int_equal(b.t.ram[0].size, VRAM);
	/* DISPI: the newest ID, 16 MiB, capabilities on request, QEMU's ext. */
	assert_int_equal(dispi(&b, ID), 0xb0c5);
	assert_int_equal(dispi(&b, VMEM64K), 256);
	set_dispi(&b, ENABLE, 0x02);
	assert_int_equal(dispi(&b, XRES), DISPLAY_MAX_WIDTH);
	assert_int_equal(dispi(&b, BPP), 32);
	set_dispi(&b, ENABLE, 0);
	assert_int_equal(dispi(&b, XRES), 0);
	assert_int_equal(test_mmio_read(&b.t, MMIO_GPA + 0x600, 4), 8);
	assert_int_equal(test_mmio_read(&b.t, MMIO_GPA + 0x604, 4), 0x1e1e1e1e);
	/* An invalid ID is not taken; VIDEO_MEMORY is read-only. */
	set_dispi(&b, ID, 0x1234);
	assert_int_equal(dispi(&b, ID), 0xb0c5);
	set_dispi(&b, VMEM64K, 1);
	assert_int_equal(dispi(&b, VMEM64K), 256);
	/* Moving BAR0 moves the slot; memory decoding off unmaps it. */
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), (uint32_t)FB_GPA + 0x1000000, 4);
	assert_int_equal(b.t.ram[0].gpa, FB_GPA + 0x1000000);
	assert_int_equal(b.t.ram[0].maps, 3); /* up(), after sizing, here */
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x04), 0, 2);
	assert_null(b.t.ram[0].host);
	down(&b);
}

static void test_frames(void **state)
{
	struct display_frame f;
	struct bench b;

	(void)state;
	up(&b);
	/* Nothing enabled yet: nothing shown. */
	assert_int_equal(display_read_frame(&b.t.display, &f), -ENODATA);
	memset(b.fb, 0x55, 4096);
	set_mode(&b, 640, 480, 32);
	assert_int_equal(b.fb[0], 0); /* enabling cleared the framebuffer */
	for (uint32_t i = 0; i < 640 * 480; i++) {
		uint32_t v = 0xff000000u | (i * 2654435761u >> 8);

		memcpy(b.fb + 4 * i, &v, 4);
	}
	assert_int_equal(display_read_frame(&b.t.display, &f), 0);
	assert_int_equal(f.width, 640);
	assert_int_equal(f.height, 480);
	for (uint32_t i = 0; i < 640 * 480; i++)
		if (f.pixels[i] != ((i * 2654435761u >> 8) & 0xffffff))
			fail_msg("pixel %u: %06x", i, f.pixels[i]);
	display_frame_free(&f);

	/* Panning (page flip as bochs-drm does it): Y_OFFSET 480 shows page 2. */
	memset(b.fb + 640 * 4 * 480, 0x80, 4);
	set_dispi(&b, Y_OFFSET, 480);
	assert_int_equal(display_read_frame(&b.t.display, &f), 0);
	assert_int_equal(f.pixels[0], 0x808080);
	display_frame_free(&f);
	/* A page past the framebuffer's end: shown as nothing, not read. */
	set_dispi(&b, Y_OFFSET, (uint16_t)(VRAM / (640 * 4)));
	assert_int_equal(display_read_frame(&b.t.display, &f), -ENODATA);
	set_dispi(&b, Y_OFFSET, 0);
	set_dispi(&b, XRES, 0xffff); /* wider than the limit */
	assert_int_equal(display_read_frame(&b.t.display, &f), -ENODATA);

	/* 16 bpp (RGB565): full red, full green, full blue, white. */
	set_mode(&b, 4, 1, 16);
	{
		static const uint16_t px[4] = { 0xf800, 0x07e0, 0x001f, 0xffff };

		memcpy(b.fb, px, sizeof(px));
	}
	assert_int_equal(display_read_frame(&b.t.display, &f), 0);
	assert_int_equal(f.pixels[0], 0xff0000);
	assert_int_equal(f.pixels[1], 0x00ff00);
	assert_int_equal(f.pixels[2], 0x0000ff);
	assert_int_equal(f.pixels[3], 0xffffff);
	display_frame_free(&f);
	/* 24 bpp (B, G, R bytes) and a mode it cannot show (8 bpp: palette). */
	set_mode(&b, 1, 1, 24);
	b.fb[0] = 0x11, b.fb[1] = 0x22, b.fb[2] = 0x33;
	assert_int_equal(display_read_frame(&b.t.display, &f), 0);
	assert_int_equal(f.pixels[0], 0x332211);
	display_frame_free(&f);
	set_mode(&b, 8, 8, 8);
	assert_int_equal(display_read_frame(&b.t.display, &f), -ENODATA);
	/* Unmapped registers: all ones; odd or wide DISPI accesses ignored. */
	assert_int_equal(test_mmio_read(&b.t, MMIO_GPA + 0x800, 4), 0xffffffff);
	assert_int_equal(test_mmio_read(&b.t, MMIO_GPA + 0x501, 1), 0xff);
	down(&b);
	/* The device is gone: the screen has no source. */
	assert_int_equal(display_read_frame(&b.t.display, &f), -ENODEV);
}

/*
 * display_update converts only rows on pages in KVM's dirty log: a still
 * screen flags nothing, one pixel flags its row (and the others on its
 * page), a mode change or pan flags all, and the device's own writes
 * (enabling clears the framebuffer) count as changes.
 */
static void test_update(void **state)
{
	static uint8_t rows[DISPLAY_MAX_HEIGHT];
	struct display_frame f = { 0 };
	struct bench b;
	uint32_t v = 0x123456;

	(void)state;
	up(&b);
	assert_int_equal(display_update(&b.t.display, &f, rows), -ENODATA);
	set_mode(&b, 1024, 768, 32); /* a row is exactly one page */
	assert_int_equal(display_update(&b.t.display, &f, rows), 768);
	assert_int_equal(f.width, 1024);
	assert_int_equal(f.height, 768);
	assert_int_equal(display_update(&b.t.display, &f, rows), 0); /* still */
	memcpy(b.fb + 100 * 4096 + 40, &v, 4);
	test_ram_dirty(&b.t, FB_GPA + 100 * 4096 + 40, 4);
	assert_int_equal(display_update(&b.t.display, &f, rows), 1);
	assert_int_equal(rows[100], 1);
	assert_int_equal(rows[99] + rows[101], 0);
	assert_int_equal(f.pixels[100 * 1024 + 10], 0x123456);
	/* A write the log does not show is not seen: the log is the truth. */
	memset(b.fb + 200 * 4096, 0xff, 4);
	assert_int_equal(display_update(&b.t.display, &f, rows), 0);
	assert_int_equal(f.pixels[200 * 1024], 0);
	/* Panning one row down: every row is new. */
	set_dispi(&b, Y_OFFSET, 1);
	assert_int_equal(display_update(&b.t.display, &f, rows), 768);
	assert_int_equal(f.pixels[99 * 1024 + 10], 0x123456);
	/* 640x480x16: a row is 1280 bytes; page 1 (4096..8191) holds parts of rows 3 to 6. */
	set_mode(&b, 640, 480, 16);
	assert_int_equal(display_update(&b.t.display, &f, rows), 480);
	test_ram_dirty(&b.t, FB_GPA + 4096, 1);
	assert_int_equal(display_update(&b.t.display, &f, rows), 4);
	assert_int_equal(rows[3] + rows[4] + rows[5] + rows[6], 4);
	assert_int_equal(rows[2] + rows[7], 0);
	/* Re-enabling cleared the framebuffer (not in the log): all rows. */
	set_dispi(&b, ENABLE, 0);
	set_dispi(&b, ENABLE, 0x41);
	assert_int_equal(display_update(&b.t.display, &f, rows), 480);
	display_frame_free(&f);
	down(&b);
	assert_int_equal(display_update(&b.t.display, &f, rows), -ENODEV);
}

/*
 * The EDID: conformant by Debian's edid-decode --check for the default
 * mode, 2560x1600, 4K and odd sizes; refused where an EDID cannot say it;
 * and what bochs-display's BAR2 shows a guest (with its size in DISPI).
 */
static void test_edid(void **state)
{
	static const uint32_t sizes[][2] = {
		{ 1024, 768 }, { 2560, 1600 }, { 3840, 2160 }, { 1366, 768 }, { 640, 480 },
		{ 1920, 1200 }, { 4095, 2000 },
	};
	char path[] = "/tmp/phyllo-test-edid-XXXXXX", cmd[128];
	uint8_t e[EDID_SIZE];
	struct bench b;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		FILE *f;

		assert_int_equal(edid_build(e, sizes[i][0], sizes[i][1]), 0);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(e, 1, sizeof(e), f), sizeof(e));
		fclose(f);
		snprintf(cmd, sizeof(cmd), "edid-decode --check %s >/dev/null 2>&1", path);
		if (system(cmd) != 0)
			fail_msg("edid-decode --check refuses the EDID for %ux%u (or is missing: "
				 "scripts/install-deps.sh installs it)", sizes[i][0], sizes[i][1]);
	}
	unlink(path);
	assert_int_equal(edid_build(e, 4095, 4095), -EINVAL); /* a clock past 655 MHz */
	/* Every mode the config's rule lets through has an EDID. */
	for (uint32_t w = 640; w <= DISPLAY_MAX_MODE_WIDTH; w += 5)
		for (uint32_t h = 480; h <= DISPLAY_MAX_MODE_HEIGHT; h += 7) {
			struct display_config d = { .width = w, .height = h,
						    .vram_mib = DISPLAY_MAX_VRAM_MIB };
			char why[256];

			if (config_check_display(&d, why, sizeof(why)) == 0 && edid_build(e, w, h))
				fail_msg("%ux%u passes the config's rule but has no EDID", w, h);
		}
	assert_int_equal(edid_build(e, 4096, 1000), -EINVAL);
	assert_int_equal(edid_build(e, 100, 100), -EINVAL);

	/* As a guest reads it: bytes and words at BAR2's start. */
	test_ctx_init(&b.t, RAM);
	b.t.cfg.display.device = DISPLAY_DEVICE_BOCHS;
	b.t.cfg.display.width = 1920;
	b.t.cfg.display.height = 1080;
	b.t.cfg.display.vram_mib = 32;
	{
		char err[256] = "";

		if (dev_registry_realize(&b.r, &b.t.ctx, &b.t.cfg, (const struct dev_ops *const[]){
						 &bochs_display_device }, 1, err, sizeof(err)) < 0)
			fail_msg("realize: %s", err);
	}
	b.slot = test_pci_find(&b.t, 0x11111234);
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), (uint32_t)FB_GPA, 4);
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x18), (uint32_t)MMIO_GPA, 4);
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x04), 0x0002, 2);
	assert_int_equal(edid_build(e, 1920, 1080), 0);
	assert_int_equal(test_mmio_read(&b.t, MMIO_GPA, 4), 0xffffff00u);
	for (unsigned int i = 0; i < EDID_SIZE; i++)
		assert_int_equal(test_mmio_read(&b.t, MMIO_GPA + i, 1), e[i]);
	assert_int_equal(test_mmio_read(&b.t, MMIO_GPA + 0x80, 4), 0); /* no extension */
	assert_int_equal(e[54] | e[55] << 8, 13850); /* 1920x1080 CVT-RB: 138.50 MHz */
	assert_int_equal(dispi(&b, VMEM64K), 32 * 16);
	/* The BAR is the vram asked for. */
	test_mmio_write(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), 0xffffffff, 4);
	assert_int_equal(test_mmio_read(&b.t, TEST_ECAM(&b.t, b.slot, 0x10), 4) & ~0xfu,
			 ~(32u * 1024 * 1024 - 1));
	down(&b);
}

/* A source with read_frame only: display_update gives all of it, every
 * time, in the caller's frame. */
static int plain_read(void *opaque, struct display_frame *f)
{
	uint32_t *seed = opaque;

	if (display_frame_resize(f, 8, 4) < 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < 32; i++)
		f->pixels[i] = *seed + i;
	return 0;
}

static void test_update_fallback(void **state)
{
	static const struct display_source_ops plain = { .read_frame = plain_read };
	static uint8_t rows[DISPLAY_MAX_HEIGHT];
	struct display_frame f = { 0 };
	struct display d;
	uint32_t seed = 100, *first;

	(void)state;
	display_init(&d);
	assert_int_equal(display_attach(&d, &plain, &seed), 0);
	assert_int_equal(display_update(&d, &f, rows), 4);
	first = f.pixels;
	assert_int_equal(f.pixels[31], 131);
	seed = 7;
	assert_int_equal(display_update(&d, &f, rows), 4);
	assert_ptr_equal(f.pixels, first); /* the caller's memory, kept */
	assert_int_equal(f.pixels[0], 7);
	assert_int_equal(rows[0] + rows[1] + rows[2] + rows[3], 4);
	display_frame_free(&f);
	display_detach(&d, &seed);
	display_free(&d);
}

static void test_one_source(void **state)
{
	static const struct display_source_ops other = { 0 };
	struct test_ctx t;
	struct dev_registry r;
	char err[256] = "";
	int dummy;

	(void)state;
	test_ctx_init(&t, RAM);
	t.cfg.display.device = DISPLAY_DEVICE_BOCHS;
	assert_int_equal(display_attach(&t.display, &other, &dummy), 0);
	assert_true(dev_registry_realize(&r, &t.ctx, &t.cfg, (const struct dev_ops *const[]){
						 &bochs_display_device }, 1, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "display device already"));
	display_detach(&t.display, &dummy);
	/* Headless (the default): no instance. */
	t.cfg.display.device = DISPLAY_DEVICE_NONE;
	assert_int_equal(dev_registry_realize(&r, &t.ctx, &t.cfg, (const struct dev_ops *const[]){
						      &bochs_display_device }, 1, err, sizeof(err)), 0);
	assert_int_equal(r.nr, 0);
	test_ctx_fini(&t);
}

static void test_snapshot(void **state)
{
	char dir[] = "/tmp/phyllo-test-bochs-XXXXXX", path[96], err[256] = "";
	struct snap_writer w;
	struct snap_reader rd;
	struct display_frame f;
	struct bench a, b;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_STATE_FILE);
	up(&a);
	set_mode(&a, 320, 200, 32);
	memset(a.fb + 4 * 320 * 10, 0x42, 4 * 320);
	set_dispi(&a, Y_OFFSET, 5);
	assert_int_equal(snap_writer_open(&w, dir, SNAP_STATE_FILE, err, sizeof(err)), 0);
	assert_int_equal(dev_registry_save(&a.r, &w, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
	down(&a);

	/* A fresh device, BARs not programmed: restore puts them back. */
	test_ctx_init(&b.t, RAM);
	b.t.cfg.display.device = DISPLAY_DEVICE_BOCHS;
	assert_int_equal(dev_registry_realize(&b.r, &b.t.ctx, &b.t.cfg, (const struct dev_ops *const[]){
							  &bochs_display_device }, 1, err, sizeof(err)), 0);
	assert_int_equal(snap_reader_open(&rd, path, 0, err, sizeof(err)), 0);
	if (dev_registry_load(&b.r, &rd, err, sizeof(err)) < 0)
		fail_msg("load: %s", err);
	snap_reader_close(&rd);
	assert_non_null(test_ram_at(&b.t, FB_GPA, VRAM));
	assert_int_equal(dispi(&b, ID), 0xb0c5);
	assert_int_equal(test_mmio_read(&b.t, MMIO_GPA + 0x500 + 2 * Y_OFFSET, 2), 5);
	assert_int_equal(display_read_frame(&b.t.display, &f), 0);
	assert_int_equal(f.width, 320);
	assert_int_equal(f.pixels[320 * 5], 0x424242); /* row 10, shown as row 5 */
	assert_int_equal(f.pixels[0], 0);
	display_frame_free(&f);
	dev_registry_unrealize(&b.r);
	test_ctx_fini(&b.t);
	unlink(path);
	rmdir(dir);
}

static void test_png(void **state)
{
	struct display_frame f = { .width = 3, .height = 2 };
	uint32_t px[6] = { 0xff0000, 0x00ff00, 0x0000ff, 0x123456, 0xffffff, 0 };
	unsigned char *data, rgb[18];
	png_image img;
	size_t len;

	(void)state;
	f.pixels = px;
	assert_int_equal(png_encode_frame(&f, &data, &len), 0);
	assert_memory_equal(data, "\x89PNG\r\n\x1a\n", 8);
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&img, data, len));
	assert_int_equal(img.width, 3);
	assert_int_equal(img.height, 2);
	img.format = PNG_FORMAT_RGB;
	assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	for (int i = 0; i < 6; i++) {
		assert_int_equal(rgb[3 * i], (px[i] >> 16) & 0xff);
		assert_int_equal(rgb[3 * i + 1], (px[i] >> 8) & 0xff);
		assert_int_equal(rgb[3 * i + 2], px[i] & 0xff);
	}
	free(data);
	f.width = 0;
	assert_int_equal(png_encode_frame(&f, &data, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_edid),
		cmocka_unit_test(test_update_fallback),
		cmocka_unit_test(test_one_source),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_png),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
