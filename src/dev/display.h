/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The screen: what stands between a display device (src/display/) and
 * whatever shows the guest's picture (the API's vm.screenshot, and the
 * VNC and SDL front ends). The VMM owns one struct display per VM process
 * (it outlives a guest reboot, as a monitor does); the display device of
 * the running boot attaches itself as its source, and the front ends ask
 * it for frames. Frames are XRGB8888 whatever the guest's mode, so front
 * ends know one format.
 */
#ifndef PHYLLO_DEV_DISPLAY_H
#define PHYLLO_DEV_DISPLAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The largest picture a frame may have (what a device must refuse past). */
#define DISPLAY_MAX_WIDTH 8192
#define DISPLAY_MAX_HEIGHT 8192

struct display_frame {
	uint32_t width, height;
	uint32_t *pixels; /* width * height, row after row, 0x00RRGGBB */
};

struct display_source_ops {
	/*
	 * Fill f with what the guest shows now (malloc'ing f->pixels).
	 * -ENODATA: the device shows nothing (not enabled, or a mode it
	 * cannot show); other -errno: failed.
	 */
	int (*read_frame)(void *opaque, struct display_frame *f);
	/*
	 * Bring f (the caller's, kept between calls) up to date: only rows the
	 * guest may have written since the last call are converted into it,
	 * and flagged in rows[y] (1, else 0; DISPLAY_MAX_HEIGHT entries). A
	 * new mode reallocates f->pixels and flags every row. Returns how many
	 * rows it flagged (0: nothing changed, which must cost next to
	 * nothing), -ENODATA when nothing is shown, other -errno on failure.
	 * NULL: display_update falls back to read_frame (every row flagged).
	 * What "since the last call" means is the source's one consumer's:
	 * the front ends share one refresher (src/ui/).
	 */
	int (*update)(void *opaque, struct display_frame *f, uint8_t *rows);
	/*
	 * Optional: the viewer wants width x height (its window's size); the
	 * device tells the guest, whose driver may follow (or not: it is the
	 * guest's choice). -EINVAL for a size the device cannot offer.
	 * NULL: the device cannot change the monitor it shows (-ENOTSUP).
	 */
	int (*resize)(void *opaque, uint32_t width, uint32_t height);
};

struct display {
	pthread_mutex_t lock; /* held while a source is called: detach waits for it */
	const struct display_source_ops *ops;
	void *opaque;
};

void display_init(struct display *d);
void display_free(struct display *d);
/* -EBUSY when another source is attached. */
int display_attach(struct display *d, const struct display_source_ops *ops, void *opaque);
void display_detach(struct display *d, const void *opaque);
/* -ENODEV with no source; else the source's answer. */
int display_read_frame(struct display *d, struct display_frame *f);
void display_frame_free(struct display_frame *f);
/* -ENODEV with no source; else as display_source_ops.update. */
int display_update(struct display *d, struct display_frame *f, uint8_t *rows);
/* -ENODEV with no source, -ENOTSUP when it cannot; else its answer. */
int display_resize(struct display *d, uint32_t width, uint32_t height);
/* Make f width x height (contents undefined); -ENOMEM leaves it as it was. */
int display_frame_resize(struct display_frame *f, uint32_t width, uint32_t height);

/*
 * Convert width x height pixels of bpp bits (32 XRGB, 24 RGB, 16 RGB565,
 * 15 XRGB1555, all little-endian as the guest stores them) from src, rows
 * stride bytes apart, into f (malloc'd). The caller has checked that the
 * rows lie inside src. -EINVAL for another bpp or a size past the limits.
 */
int display_convert(const uint8_t *src, uint32_t stride, uint32_t width, uint32_t height,
		    unsigned int bpp, struct display_frame *f);
/* One row of width pixels (bpp as above, already checked) into out. */
void display_convert_row(const uint8_t *src, uint32_t width, unsigned int bpp, uint32_t *out);

#endif
