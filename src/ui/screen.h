/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One refresher for every front end (VNC, SDL) of a screen: what changed
 * since "the last call" (display_update's dirty rows: KVM's dirty log,
 * virtio-gpu's flushes) can have only one consumer, so the front ends do
 * not call display_update themselves. Each has a view; ui_view_update
 * asks the display for what changed, keeps it in the screen's frame, adds
 * those rows to every view's pending rows, and hands the calling view
 * its own: a front end that refreshes seldom gets everything it missed,
 * one that refreshes often costs the others nothing.
 *
 * Thread-safe: each front end calls from its own thread.
 */
#ifndef PHYLLO_UI_SCREEN_H
#define PHYLLO_UI_SCREEN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/display.h"

#define UI_MAX_VIEWS 4

struct ui_view;

struct ui_screen {
	struct display *display;
	pthread_mutex_t lock;
	struct display_frame frame; /* the display's picture as last updated */
	uint8_t rows[DISPLAY_MAX_HEIGHT];
	struct ui_view *views[UI_MAX_VIEWS];
	unsigned int nviews;
};

struct ui_view {
	struct ui_screen *screen;
	bool full;                        /* every row is pending */
	uint8_t pending[DISPLAY_MAX_HEIGHT];
};

void ui_screen_init(struct ui_screen *s, struct display *d);
void ui_screen_free(struct ui_screen *s);
/* -ENOSPC past UI_MAX_VIEWS. A new view gets every row at first. */
int ui_view_add(struct ui_screen *s, struct ui_view *v);
void ui_view_remove(struct ui_view *v);
/*
 * As display_update (dev/display.h) for this view: bring f (the view's,
 * kept between calls) up to date, flagging in rows[] what it copied;
 * returns how many rows, 0 when nothing changed for it, -ENODATA when
 * nothing is shown, -ENODEV without a display device.
 */
int ui_view_update(struct ui_view *v, struct display_frame *f, uint8_t *rows);

#endif
