/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local window (--display sdl=on): the screen in an SDL2 window on
 * the user's desktop (X11 or Wayland, whatever SDL finds), keys and the
 * pointer from it to the guest. Scaled to the window with the picture's
 * aspect kept; a window the user resizes asks the display device for that
 * size (virtio-gpu's guest follows; bochs-display's picture is scaled).
 * Ctrl+Alt+G grabs and releases the keyboard and pointer. Closing the
 * window ends the VM as SIGTERM does.
 *
 * Runs on a thread of its own, which makes every SDL call.
 */
#ifndef PHYLLO_UI_SDL_H
#define PHYLLO_UI_SDL_H

#include <stdbool.h>
#include <stddef.h>

#include "dev/display.h"
#include "dev/input.h"
#include "ui/screen.h"

struct sdl;

struct sdl_opts {
	struct ui_screen *screen; /* the refresher shared with other front ends */
	struct input *input;      /* where keys and the pointer go; NULL: nowhere */
	const char *title;        /* the window's title */
	void (*closed)(void *opaque); /* the window was closed (SDL's thread) */
	void *opaque;
};

/* Open the window; -errno with a message (no display to open it on, SDL
 * not built in). */
int sdl_start(struct sdl **out, const struct sdl_opts *o, char *err, size_t errlen);
/* Close it (NULL: nothing). */
void sdl_stop(struct sdl *s);
/* Whether this build has the window (libSDL2 found at build time). */
bool sdl_available(void);

#endif
