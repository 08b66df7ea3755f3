// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vnc-input HOST PORT COMMAND...: drives a VNC server as a person at a
 * viewer would, through libvncclient, for the display end-to-end test
 * (t-vmm-display.sh):
 *
 *   type TEXT          one key event pair per character, wrapped in Shift_L
 *                      for what a US keyboard shifts, then Enter
 *   click X Y          move to (X, Y) on the framebuffer, left button down, up
 *   wheel up|down X Y  one wheel click at (X, Y)
 *   resize W H         ask for a W x H desktop (ExtendedDesktopSize's
 *                      SetDesktopSize, as a viewer whose window changed),
 *                      then wait up to 120 s for the server's framebuffer
 *                      to become that size (the guest changed its mode)
 *
 * Exit 0 when all was sent.
 */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XK_SHIFT_L 0xffe1
#define XK_RETURN 0xff0d

static int press(rfbClient *c, uint32_t sym)
{
	int ok = SendKeyEvent(c, sym, TRUE) && SendKeyEvent(c, sym, FALSE);

	usleep(20000); /* a person's pace: the guest's keyboard queue is small */
	return ok;
}

static int type(rfbClient *c, const char *text)
{
	int ok = 1;

	for (const char *p = text; *p && ok; p++) {
		int shift = (*p >= 'A' && *p <= 'Z') || strchr("~!@#$%^&*()_+{}|:\"<>?", *p);

		if (shift)
			ok = SendKeyEvent(c, XK_SHIFT_L, TRUE);
		ok = ok && press(c, (unsigned char)*p);
		if (shift)
			ok = ok && SendKeyEvent(c, XK_SHIFT_L, FALSE);
	}
	return ok && press(c, XK_RETURN);
}

/* RFB's pointer message: a position and the buttons down (1 left, 8 and
 * 16 the wheel's up and down). */
static int pointer(rfbClient *c, int x, int y, int mask)
{
	int ok = SendPointerEvent(c, x, y, mask);

	usleep(50000);
	return ok;
}

/* Read the server's messages for up to ms milliseconds or until done(c). */
static int pump(rfbClient *c, int ms, int (*done)(rfbClient *c, int w, int h), int w, int h)
{
	for (int waited = 0; waited < ms && !done(c, w, h); waited += 100) {
		int n = WaitForMessage(c, 100000);

		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c)))
			return 0;
	}
	return done(c, w, h);
}

static int has_screen(rfbClient *c, int w, int h)
{
	(void)w;
	(void)h;
	return c->screen.width != 0; /* the server's ExtendedDesktopSize came */
}

static int has_size(rfbClient *c, int w, int h)
{
	return c->width == w && c->height == h;
}

static int resize(rfbClient *c, int w, int h)
{
	if (!pump(c, 10000, has_screen, 0, 0)) {
		fprintf(stderr, "vnc-input: the server sent no ExtendedDesktopSize\n");
		return 0;
	}
	if (!SendExtDesktopSize(c, (uint16_t)w, (uint16_t)h))
		return 0;
	if (!pump(c, 120000, has_size, w, h)) {
		fprintf(stderr, "vnc-input: the desktop is %dx%d, not %dx%d\n", c->width, c->height,
			w, h);
		return 0;
	}
	return 1;
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

int main(int argc, char **argv)
{
	rfbClient *c;
	int ok;

	if (argc < 5 || (!strcmp(argv[3], "type") ? argc != 5 :
			 !strcmp(argv[3], "click") ? argc != 6 :
			 !strcmp(argv[3], "wheel") ? argc != 7 :
			 !strcmp(argv[3], "resize") ? argc != 6 : 1)) {
		fprintf(stderr, "usage: vnc-input HOST PORT type TEXT | click X Y | "
				"wheel up|down X Y | resize W H\n");
		return 2;
	}
	rfbClientLog = quiet; /* errors (rfbClientErr) still go to stderr */
	c = rfbGetClient(8, 3, 4);
	if (!c)
		return 1;
	free(c->serverHost);
	c->serverHost = strdup(argv[1]);
	c->serverPort = atoi(argv[2]);
	if (!rfbInitClient(c, NULL, NULL)) { /* frees c */
		fprintf(stderr, "vnc-input: cannot connect to %s port %s\n", argv[1], argv[2]);
		return 1;
	}
	if (!strcmp(argv[3], "type")) {
		ok = type(c, argv[4]);
	} else if (!strcmp(argv[3], "click")) {
		int x = atoi(argv[4]), y = atoi(argv[5]);

		ok = pointer(c, x, y, 0) && pointer(c, x, y, 1) && pointer(c, x, y, 0);
	} else if (!strcmp(argv[3], "resize")) {
		ok = resize(c, atoi(argv[4]), atoi(argv[5]));
	} else {
		int x = atoi(argv[5]), y = atoi(argv[6]), b = strcmp(argv[4], "up") ? 16 : 8;

		ok = pointer(c, x, y, 0) && pointer(c, x, y, b) && pointer(c, x, y, 0);
	}
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
	return ok ? 0 : 1;
}
