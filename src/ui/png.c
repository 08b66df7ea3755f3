// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PNG encoding of a screen frame (png.h) with libpng's simplified write
 * API: we write no encoder of our own. The frame's XRGB words are turned
 * into RGB bytes row by row into one buffer, which libpng compresses into
 * memory it sizes itself.
 */
#include "ui/png.h"

#include <errno.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int png_encode_frame(const struct display_frame *f, unsigned char **out, size_t *len)
{
	png_image img;
	png_alloc_size_t size = 0;
	size_t n = (size_t)f->width * f->height;
	unsigned char *rgb, *buf;
	int ret = 0;

	*out = NULL;
	*len = 0;
	if (!f->width || !f->height || !f->pixels)
		return -EINVAL;
	rgb = malloc(n * 3);
	if (!rgb)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t p = f->pixels[i];

		rgb[3 * i] = (unsigned char)(p >> 16);
		rgb[3 * i + 1] = (unsigned char)(p >> 8);
		rgb[3 * i + 2] = (unsigned char)p;
	}
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = f->width;
	img.height = f->height;
	img.format = PNG_FORMAT_RGB;
	/* First ask for the size, then write into a buffer of that size. */
	if (!png_image_write_to_memory(&img, NULL, &size, 0, rgb, 0, NULL)) {
		ret = -EIO;
		goto out;
	}
	buf = malloc(size);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	if (!png_image_write_to_memory(&img, buf, &size, 0, rgb, 0, NULL)) {
		free(buf);
		ret = -EIO;
		goto out;
	}
	*out = buf;
	*len = size;
out:
	png_image_free(&img);
	free(rgb);
	return ret;
}
