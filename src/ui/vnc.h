/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VNC server (--display vnc=...): shows the screen (dev/display.h) to
 * RFB clients and, through the same port, to noVNC over WebSockets.
 * Built on libvncserver; runs on a thread of its own, so a slow or
 * hostile client never holds up the event loop or a vCPU.
 */
#ifndef PHYLLO_UI_VNC_H
#define PHYLLO_UI_VNC_H

#include <stddef.h>

#include "dev/display.h"
#include "dev/input.h"
#include "ui/screen.h"

struct vnc;

struct sendkeys;

struct vnc_opts {
	const char *addr;      /* "HOST:PORT" (port 0: any free one) or "unix:PATH" */
	const char *web;       /* NULL, or "HOST:PORT" for the web page (noVNC) */
	const char *web_dir;   /* the page's files (scripts/build-web.sh), with web */
	struct input *input;   /* where viewers' keys and pointer go; NULL: nowhere */
	struct sendkeys *typist; /* types viewers' clipboard text; NULL: not */
	struct ui_screen *screen; /* the refresher shared with other front ends
				   * (on d); NULL: the server has its own */
	const char *password;  /* VNC authentication (1-8 characters); NULL: none */
};

#define VNC_PASSWORD_MAX 8 /* RFB's VNC authentication: a DES key of 8 bytes */

/*
 * The password in the first line of the file at path (without its line
 * end) into out[VNC_PASSWORD_MAX + 1]. -errno with a message naming the
 * file: missing, unreadable, empty or longer than VNC_PASSWORD_MAX.
 */
int vnc_password_load(const char *path, char *out, char *err, size_t errlen);

/*
 * Listen on o->addr (and o->web) and show d. The addresses bound are
 * logged ("vnc: listening on ...", "vnc: web page at http://...") and
 * kept for vnc_address(). -errno with a message naming the address.
 */
int vnc_start(struct vnc **out, struct display *d, const struct vnc_opts *o, char *err,
	      size_t errlen);
/* Where clients connect: "HOST:PORT" or "unix:PATH". */
const char *vnc_address(const struct vnc *v);
/* The web page's URL ("http://HOST:PORT/"), NULL without web. */
const char *vnc_web_url(const struct vnc *v);
/* Disconnect every client, stop listening (and remove a Unix socket). */
void vnc_stop(struct vnc *v);

#endif
