/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * EDID for our display devices: the monitor a guest's driver reads to
 * learn what modes it may set (bochs-display's BAR2, virtio-gpu's
 * GET_EDID). One 128-byte EDID 1.4 block: the preferred mode as the first
 * detailed timing, 2560x1600 as the second, the usual standard and
 * established modes, and range limits with CVT so drivers also offer
 * every other mode up to the largest (continuous frequency).
 */
#ifndef PHYLLO_DISPLAY_EDID_H
#define PHYLLO_DISPLAY_EDID_H

#include <stdint.h>

#define EDID_SIZE 128
#define EDID_MAX_WIDTH 4095 /* a detailed timing's 12 bits */
#define EDID_MAX_HEIGHT 4095

/* Fill edid for a monitor whose preferred mode is width x height at
 * 60 Hz (CVT reduced blanking); -EINVAL past EDID_MAX_* or a 60 Hz
 * pixel clock an EDID cannot say (655.35 MHz). */
int edid_build(uint8_t edid[EDID_SIZE], uint32_t width, uint32_t height);

#endif
