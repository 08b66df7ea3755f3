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
			 !strcmp(argv[3], "wheel") ? argc != 7 : 1)) {
		fprintf(stderr, "usage: vnc-input HOST PORT type TEXT | click X Y | "
				"wheel up|down X Y\n");
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
	} else {
		int x = atoi(argv[5]), y = atoi(argv[6]), b = strcmp(argv[4], "up") ? 16 : 8;

		ok = pointer(c, x, y, 0) && pointer(c, x, y, b) && pointer(c, x, y, 0);
	}
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
	return ok ? 0 : 1;
}
