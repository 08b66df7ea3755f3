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

struct vnc;

/*
 * Listen on addr ("HOST:PORT", port 0 for any free one, or "unix:PATH"),
 * show d and send the clients' keys to in (NULL: nowhere). The address bound is logged ("vnc: listening on ...") and
 * kept for vnc_address(). -errno with a message naming the address.
 */
int vnc_start(struct vnc **out, struct display *d, struct input *in, const char *addr,
	      char *err, size_t errlen);
/* Where clients connect: "HOST:PORT" or "unix:PATH". */
const char *vnc_address(const struct vnc *v);
/* Disconnect every client, stop listening (and remove a Unix socket). */
void vnc_stop(struct vnc *v);

#endif
