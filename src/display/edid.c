// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The EDID block (edid.h), written from the VESA E-EDID 1.4 layout and
 * the CVT 1.2 reduced-blanking formula. By hand because it is 128 bytes
 * of arithmetic, and no Debian library builds EDIDs.
 */
#include "display/edid.h"

#include <errno.h>
#include <string.h>

#define DPI 96 /* the physical size we claim: a 96 dpi monitor */
#define LARGE_WIDTH 2560
#define LARGE_HEIGHT 1600

struct timing {
	uint32_t clock_10khz, hactive, hblank, hfront, hsync, vactive, vblank, vfront, vsync;
};

/* CVT reduced blanking (v1) at 60 Hz. */
static void cvt_rb(uint32_t w, uint32_t h, struct timing *t)
{
	const double min_vbi_us = 460.0;
	double hperiod_us = (1e6 / 60.0 - min_vbi_us) / h;
	uint32_t vsync, vbi, vmin, htotal, vtotal;
	uint64_t clock_hz;

	/* The sync width says the aspect ratio. */
	if (w * 3 == h * 4)
		vsync = 4;
	else if (w * 9 == h * 16)
		vsync = 5;
	else if (w * 10 == h * 16)
		vsync = 6;
	else if (w * 4 == h * 5 || w * 9 == h * 15)
		vsync = 7;
	else
		vsync = 10;
	vbi = (uint32_t)(min_vbi_us / hperiod_us) + 1;
	vmin = 3 + vsync + 6; /* front porch, sync, least back porch */
	t->vactive = h;
	t->vblank = vbi > vmin ? vbi : vmin;
	t->vfront = 3;
	t->vsync = vsync;
	t->hactive = w;
	t->hblank = 160;
	t->hfront = 48;
	t->hsync = 32;
	htotal = w + t->hblank;
	vtotal = h + t->vblank;
	clock_hz = 60ull * htotal * vtotal;
	clock_hz -= clock_hz % 250000; /* CVT's 0.25 MHz steps, down */
	t->clock_10khz = clock_hz / 10000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(clock_hz / 10000);
}

/* hmm x vmm: the screen's size, the same for every mode shown on it. */
static void put_dtd(uint8_t *d, const struct timing *t, uint32_t hmm, uint32_t vmm)
{
	d[0] = (uint8_t)t->clock_10khz;
	d[1] = (uint8_t)(t->clock_10khz >> 8);
	d[2] = (uint8_t)t->hactive;
	d[3] = (uint8_t)t->hblank;
	d[4] = (uint8_t)((t->hactive >> 8) << 4 | (t->hblank >> 8));
	d[5] = (uint8_t)t->vactive;
	d[6] = (uint8_t)t->vblank;
	d[7] = (uint8_t)((t->vactive >> 8) << 4 | (t->vblank >> 8));
	d[8] = (uint8_t)t->hfront;
	d[9] = (uint8_t)t->hsync;
	d[10] = (uint8_t)((t->vfront & 15) << 4 | (t->vsync & 15));
	d[11] = (uint8_t)((t->hfront >> 8) << 6 | (t->hsync >> 8) << 4 | (t->vfront >> 4) << 2 |
			  (t->vsync >> 4));
	d[12] = (uint8_t)hmm;
	d[13] = (uint8_t)vmm;
	d[14] = (uint8_t)((hmm >> 8) << 4 | (vmm >> 8));
	d[15] = d[16] = 0;
	d[17] = 0x1a; /* digital separate sync, hsync +, vsync - (CVT-RB) */
}

/* A display descriptor: tag, then 13 bytes of text or data. */
static void put_descriptor(uint8_t *d, uint8_t tag, const uint8_t *data)
{
	memset(d, 0, 18);
	d[3] = tag;
	memcpy(d + 5, data, 13);
}

int edid_build(uint8_t e[EDID_SIZE], uint32_t width, uint32_t height)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	/* sRGB primaries and white point, as 10-bit CIE xy. */
	static const uint8_t srgb[10] = { 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50,
					  0x54 };
	/* Standard timings: 1280x800, 1280x1024, 1440x900, 1600x1200, 1680x1050,
	 * 1920x1080, 1920x1200, 1280x720, all at 60 Hz. */
	static const uint8_t standard[16] = { 0x81, 0x00, 0x81, 0x80, 0x95, 0x00, 0xa9, 0x40,
					      0xb3, 0x00, 0xd1, 0xc0, 0xd1, 0x00, 0x81, 0xc0 };
	/* Range limits: 50-75 Hz, 30-160 kHz, up to 600 MHz, CVT supported. */
	static const uint8_t range[13] = {
		50, 75, 30, 160, 60, /* Hz, Hz, kHz, kHz, 10 MHz */
		0x04, 0x11, 0x00, 0x00, /* CVT 1.1, no limit on the line length */
		0xf8, /* 4:3, 16:9, 16:10, 5:4 and 15:9 */
		0x58, /* 16:10 preferred, reduced and standard blanking */
		0x00, 60, /* no scaling; 60 Hz preferred */
	};
	static const uint8_t name[13] = "phyllome\n    ";
	struct timing pref, large;
	uint32_t hmm, vmm;
	uint8_t sum = 0;

	if (width < 320 || height < 200 || width > EDID_MAX_WIDTH || height > EDID_MAX_HEIGHT)
		return -EINVAL;
	cvt_rb(width, height, &pref);
	if (pref.clock_10khz > 65535)
		return -EINVAL;
	/* A 96 dpi screen as large as the larger of the two detailed modes. */
	hmm = (width > LARGE_WIDTH ? width : LARGE_WIDTH) * 254 / (DPI * 10);
	vmm = (height > LARGE_HEIGHT ? height : LARGE_HEIGHT) * 254 / (DPI * 10);
	memset(e, 0, EDID_SIZE);
	memcpy(e, header, sizeof(header));
	e[8] = 0x41; /* manufacturer "PHY": 5-bit letters, big-endian */
	e[9] = 0x19;
	e[10] = 0x01; /* product 1 */
	e[16] = 0;    /* week unknown */
	e[17] = 2026 - 1990;
	e[18] = 1; /* EDID 1.4 */
	e[19] = 4;
	e[20] = 0xa5; /* digital, 8 bits a colour, DisplayPort */
	e[21] = (uint8_t)((hmm + 9) / 10); /* cm, rounded up: the DTDs' mm fit */
	e[22] = (uint8_t)((vmm + 9) / 10);
	e[23] = 120; /* gamma 2.2 */
	e[24] = 0x07; /* RGB 4:4:4, sRGB, preferred mode native, continuous frequency */
	memcpy(e + 25, srgb, sizeof(srgb));
	e[35] = 0x21; /* established: 640x480 and 800x600 at 60 Hz */
	e[36] = 0x08; /* 1024x768 at 60 Hz */
	memcpy(e + 38, standard, sizeof(standard));
	put_dtd(e + 54, &pref, hmm, vmm);
	if (width != LARGE_WIDTH || height != LARGE_HEIGHT) {
		cvt_rb(LARGE_WIDTH, LARGE_HEIGHT, &large);
		put_dtd(e + 72, &large, hmm, vmm);
	} else {
		put_descriptor(e + 72, 0x10, (const uint8_t[13]){ 0 }); /* dummy */
	}
	put_descriptor(e + 90, 0xfd, range);
	put_descriptor(e + 108, 0xfc, name);
	for (int i = 0; i < EDID_SIZE - 1; i++)
		sum = (uint8_t)(sum + e[i]);
	e[127] = (uint8_t)(0x100 - sum);
	return 0;
}
