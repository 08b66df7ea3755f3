// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The front ends' shared refresher (src/ui/screen.c): two views of one
 * display, refreshing at different times, each get every row that
 * changed since their own last refresh, once; a mode change reaches both
 * as every row; no display and a blank display say so.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ui/screen.h"

/* A source whose rows change when the test says: rows[] flags what
 * changed since its one consumer (the screen) last asked. */
struct src {
	uint32_t w, h, gen;
	uint8_t changed[64];
	bool resized, blank;
};

static int src_update(void *opaque, struct display_frame *f, uint8_t *rows)
{
	struct src *s = opaque;
	int n = 0;

	if (s->blank)
		return -ENODATA;
	if (s->resized || f->width != s->w || f->height != s->h) {
		assert_int_equal(display_frame_resize(f, s->w, s->h), 0);
		memset(s->changed, 1, s->h);
		s->resized = false;
	}
	for (uint32_t y = 0; y < s->h; y++) {
		rows[y] = s->changed[y];
		if (rows[y]) {
			for (uint32_t x = 0; x < s->w; x++)
				f->pixels[y * s->w + x] = s->gen << 8 | y;
			n++;
		}
	}
	memset(s->changed, 0, sizeof(s->changed));
	return n;
}

static int src_read(void *opaque, struct display_frame *f)
{
	(void)opaque;
	(void)f;
	return -ENOTSUP;
}

static const struct display_source_ops ops = { .read_frame = src_read, .update = src_update };

static unsigned int flagged(const uint8_t *rows, unsigned int h)
{
	unsigned int n = 0;

	for (unsigned int y = 0; y < h; y++)
		n += rows[y];
	return n;
}

static void test_two_views(void **state)
{
	static uint8_t rows[DISPLAY_MAX_HEIGHT];
	struct display d;
	struct ui_screen s;
	struct ui_view a, b, c[UI_MAX_VIEWS];
	struct display_frame fa = { 0 }, fb = { 0 };
	struct src k = { .w = 8, .h = 16, .gen = 1 };

	(void)state;
	display_init(&d);
	ui_screen_init(&s, &d);
	assert_int_equal(ui_view_add(&s, &a), 0);
	assert_int_equal(ui_view_update(&a, &fa, rows), -ENODEV); /* no device */
	assert_int_equal(display_attach(&d, &ops, &k), 0);
	assert_int_equal(ui_view_add(&s, &b), 0);
	for (int i = 0; i < UI_MAX_VIEWS - 2; i++)
		assert_int_equal(ui_view_add(&s, &c[i]), 0);
	assert_int_equal(ui_view_add(&s, &c[UI_MAX_VIEWS - 2]), -ENOSPC);
	for (int i = 0; i < UI_MAX_VIEWS - 2; i++)
		ui_view_remove(&c[i]);
	/* The first refresh of each: every row. */
	assert_int_equal(ui_view_update(&a, &fa, rows), 16);
	assert_int_equal(ui_view_update(&b, &fb, rows), 16);
	assert_int_equal(fb.pixels[8 * 3], 1 << 8 | 3);
	assert_int_equal(ui_view_update(&a, &fa, rows), 0);
	/* Rows 2 and 5 change; a takes them; then row 9; b gets all three. */
	k.gen = 2;
	k.changed[2] = k.changed[5] = 1;
	assert_int_equal(ui_view_update(&a, &fa, rows), 2);
	assert_true(rows[2] && rows[5] && !rows[3]);
	assert_int_equal(fa.pixels[8 * 5], 2 << 8 | 5);
	k.changed[9] = 1;
	assert_int_equal(ui_view_update(&a, &fa, rows), 1);
	assert_true(rows[9]);
	assert_int_equal(ui_view_update(&b, &fb, rows), 3);
	assert_int_equal(flagged(rows, 16), 3);
	assert_true(rows[2] && rows[5] && rows[9]);
	assert_int_equal(fb.pixels[8 * 9 + 7], 2 << 8 | 9);
	assert_int_equal(ui_view_update(&b, &fb, rows), 0);
	/* A new mode: both views get every row of it. */
	k.w = 4;
	k.h = 20;
	k.resized = true;
	assert_int_equal(ui_view_update(&b, &fb, rows), 20);
	assert_int_equal(fb.width, 4);
	assert_int_equal(ui_view_update(&a, &fa, rows), 20);
	assert_int_equal(fa.height, 20);
	/* A blank display: said, and the views keep their picture. */
	k.blank = true;
	assert_int_equal(ui_view_update(&a, &fa, rows), -ENODATA);
	assert_non_null(fa.pixels);
	ui_view_remove(&a);
	ui_view_remove(&b);
	display_frame_free(&fa);
	display_frame_free(&fb);
	display_detach(&d, &k);
	ui_screen_free(&s);
	display_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_views),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
