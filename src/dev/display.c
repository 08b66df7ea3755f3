// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The screen between display devices and front ends (display.h): one
 * source at a time, and the one conversion from guest pixel formats to
 * the XRGB8888 frames every front end takes.
 */
#include "dev/display.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void display_init(struct display *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
}

void display_free(struct display *d)
{
	pthread_mutex_destroy(&d->lock);
}

int display_attach(struct display *d, const struct display_source_ops *ops, void *opaque)
{
	int ret = -EBUSY;

	pthread_mutex_lock(&d->lock);
	if (!d->ops) {
		d->ops = ops;
		d->opaque = opaque;
		ret = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void display_detach(struct display *d, const void *opaque)
{
	pthread_mutex_lock(&d->lock);
	if (d->opaque == opaque) {
		d->ops = NULL;
		d->opaque = NULL;
	}
	pthread_mutex_unlock(&d->lock);
}

int display_read_frame(struct display *d, struct display_frame *f)
{
	int ret = -ENODEV;

	memset(f, 0, sizeof(*f));
	pthread_mutex_lock(&d->lock);
	if (d->ops)
		ret = d->ops->read_frame(d->opaque, f);
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void display_frame_free(struct display_frame *f)
{
	free(f->pixels);
	f->pixels = NULL;
}

int display_frame_resize(struct display_frame *f, uint32_t width, uint32_t height)
{
	uint32_t *p;

	if (f->pixels && f->width == width && f->height == height)
		return 0;
	p = malloc((size_t)width * height * sizeof(uint32_t));
	if (!p)
		return -ENOMEM;
	free(f->pixels);
	f->pixels = p;
	f->width = width;
	f->height = height;
	return 0;
}

int display_update(struct display *d, struct display_frame *f, uint8_t *rows)
{
	int ret = -ENODEV;

	pthread_mutex_lock(&d->lock);
	if (d->ops && d->ops->update) {
		ret = d->ops->update(d->opaque, f, rows);
	} else if (d->ops) {
		struct display_frame n = { 0 };

		/* No way to know what changed: all of it, into f's own memory. */
		ret = d->ops->read_frame(d->opaque, &n);
		if (ret == 0 && display_frame_resize(f, n.width, n.height) < 0)
			ret = -ENOMEM;
		if (ret == 0) {
			memcpy(f->pixels, n.pixels, (size_t)n.width * n.height * 4);
			memset(rows, 1, f->height);
			ret = (int)f->height;
		}
		display_frame_free(&n);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

int display_resize(struct display *d, uint32_t width, uint32_t height)
{
	int ret = -ENODEV;

	pthread_mutex_lock(&d->lock);
	if (d->ops)
		ret = d->ops->resize ? d->ops->resize(d->opaque, width, height) : -ENOTSUP;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

/* 5 or 6 bits of colour to 8, so full scale stays full scale. */
static uint32_t widen(uint32_t v, unsigned int bits)
{
	return (v << (8 - bits)) | (v >> (2 * bits - 8));
}

static uint32_t pixel_at(const uint8_t *p, unsigned int bpp)
{
	uint32_t v;

	switch (bpp) {
	case 24: /* 32 is taken a word at a time by the caller */
		return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16);
	case 16:
		v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
		return widen(v >> 11, 5) << 16 | widen((v >> 5) & 0x3f, 6) << 8 | widen(v & 0x1f, 5);
	default: /* 15 */
		v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
		return widen((v >> 10) & 0x1f, 5) << 16 | widen((v >> 5) & 0x1f, 5) << 8 |
		       widen(v & 0x1f, 5);
	}
}

int display_convert(const uint8_t *src, uint32_t stride, uint32_t width, uint32_t height,
		    unsigned int bpp, struct display_frame *f)
{
	unsigned int bytes = (bpp + 7) / 8;

	memset(f, 0, sizeof(*f));
	if ((bpp != 32 && bpp != 24 && bpp != 16 && bpp != 15) || !width || !height ||
	    width > DISPLAY_MAX_WIDTH || height > DISPLAY_MAX_HEIGHT ||
	    (uint64_t)width * bytes > stride)
		return -EINVAL;
	if (display_frame_resize(f, width, height) < 0)
		return -ENOMEM;
	for (uint32_t y = 0; y < height; y++)
		display_convert_row(src + (size_t)y * stride, width, bpp, f->pixels + (size_t)y * width);
	return 0;
}

void display_convert_row(const uint8_t *src, uint32_t width, unsigned int bpp, uint32_t *out)
{
	unsigned int bytes = (bpp + 7) / 8;

	if (bpp == 32) {
		for (uint32_t x = 0; x < width; x++) {
			uint32_t v;

			memcpy(&v, src + 4 * (size_t)x, 4); /* little-endian host */
			out[x] = v & 0xffffff;
		}
		return;
	}
	for (uint32_t x = 0; x < width; x++)
		out[x] = pixel_at(src + (size_t)x * bytes, bpp);
}
