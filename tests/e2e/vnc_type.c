// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vnc-type HOST PORT TEXT: types TEXT and Enter into a VNC server as a
 * person at a viewer would, through libvncclient: one key event pair per
 * character, wrapped in Shift_L for the characters a US keyboard shifts.
 * For the display end-to-end test (t-vmm-display.sh), which checks that
 * the line arrives at a shell in the guest. Exit 0 when all was sent.
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

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

int main(int argc, char **argv)
{
	rfbClient *c;
	int ok = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: vnc-type HOST PORT TEXT\n");
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
		fprintf(stderr, "vnc-type: cannot connect to %s port %s\n", argv[1], argv[2]);
		return 1;
	}
	for (const char *p = argv[3]; *p && ok; p++) {
		int shift = (*p >= 'A' && *p <= 'Z') || strchr("~!@#$%^&*()_+{}|:\"<>?", *p);

		if (shift)
			ok = SendKeyEvent(c, XK_SHIFT_L, TRUE);
		ok = ok && press(c, (unsigned char)*p);
		if (shift)
			ok = ok && SendKeyEvent(c, XK_SHIFT_L, FALSE);
	}
	ok = ok && press(c, XK_RETURN);
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
	return ok ? 0 : 1;
}
