/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A frame of the screen as a PNG file in memory (the API's vm.screenshot):
 * 8-bit RGB, no alpha, encoded by libpng.
 */
#ifndef PHYLLO_UI_PNG_H
#define PHYLLO_UI_PNG_H

#include <stddef.h>

#include "dev/display.h"

/* *out (malloc'd, *len bytes) or -errno (-ENOMEM, -EIO from libpng). */
int png_encode_frame(const struct display_frame *f, unsigned char **out, size_t *len);

#endif
