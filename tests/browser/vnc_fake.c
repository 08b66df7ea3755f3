// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vnc-fake: phyllo-vmm's front ends without a VM, for the host's front-end
 * tests (tests/browser/run: the VNC server and web page in Chromium;
 * tests/browser/sdl-window: the SDL window in Xvfb): the screen shows the
 * display tests' pattern (R = x, G = y, B = 3x + 5y, 640x400 at first; a
 * viewer's resize makes it that size, as virtio-gpu's guest would), and
 * what a viewer sends comes out on stdout, one line each: "KEY <code>
 * <1|0>" for the keyboard, "PTR <x> <y> <buttons>" for the pointer
 * (0..32767), "SIZE <w>x<h>" for a resize. First line: "READY <vnc
 * address> <web url>". Ends on SIGTERM or SIGINT (or the window closed).
 *
 *   vnc-fake [--sdl] [--password PW] WEB_DIR
 *
 * --password: viewers must pass VNC authentication with PW.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/loop.h"
#include "dev/display.h"
#include "dev/input.h"
#include "ui/screen.h"
#include "ui/sdl.h"
#include "ui/sendkeys.h"
#include "ui/vnc.h"

/* The picture's size: the display's lock guards them (every source op
 * runs under it). */
static uint32_t W = 640, H = 400;

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

static int fake_read(void *opaque, struct display_frame *f)
{
	(void)opaque;
	if (display_frame_resize(f, W, H) < 0)
		return -ENOMEM;
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			f->pixels[y * W + x] = (x & 0xff) << 16 | (y & 0xff) << 8 | ((3 * x + 5 * y) & 0xff);
	return 0;
}

/* A still picture: all of it once (and after a resize), then nothing changes. */
static int fake_update(void *opaque, struct display_frame *f, uint8_t *rows)
{
	int ret;

	if (f->pixels && f->width == W && f->height == H)
		return 0;
	ret = fake_read(opaque, f);
	if (ret < 0)
		return ret;
	memset(rows, 1, H);
	return H;
}

static int fake_resize(void *opaque, uint32_t w, uint32_t h)
{
	(void)opaque;
	if (w < 64 || h < 64 || w > 4096 || h > 4096)
		return -EINVAL;
	W = w;
	H = h;
	printf("SIZE %ux%u\n", w, h);
	fflush(stdout);
	return 0;
}

static const struct display_source_ops fake_ops = { .read_frame = fake_read,
						    .update = fake_update,
						    .resize = fake_resize };

static void on_closed(void *opaque)
{
	(void)opaque;
	done = 1;
}

static void on_key(void *opaque, unsigned int code, bool down)
{
	(void)opaque;
	printf("KEY %u %d\n", code, down);
	fflush(stdout);
}

static void on_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int wheel,
		       int hwheel)
{
	(void)opaque;
	(void)wheel;
	(void)hwheel;
	printf("PTR %u %u %u\n", x, y, buttons);
	fflush(stdout);
}

static const struct input_keyboard_ops kbd_ops = { .key = on_key };
static const struct input_pointer_ops ptr_ops = { .pointer = on_pointer };

int main(int argc, char **argv)
{
	struct event_loop *loop = loop_new();
	struct display d;
	struct ui_screen screen;
	struct input in;
	struct sendkeys *typist;
	struct sdl *sdl = NULL;
	struct vnc *v;
	char err[256];
	bool want_sdl = false;
	const char *password = NULL;
	int dummy, i;

	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--sdl"))
			want_sdl = true;
		else if (!strcmp(argv[i], "--password") && i + 2 < argc)
			password = argv[++i];
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: vnc-fake [--sdl] [--password PW] WEB_DIR\n");
		return 2;
	}
	log_set_level(getenv("VNC_FAKE_DEBUG") ? LOG_DEBUG : LOG_WARN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	display_init(&d);
	ui_screen_init(&screen, &d);
	input_init(&in);
	if (!loop || display_attach(&d, &fake_ops, &dummy) < 0 ||
	    input_attach_keyboard(&in, &kbd_ops, &dummy, 0) < 0 ||
	    input_attach_pointer(&in, &ptr_ops, &dummy, 0) < 0 ||
	    sendkeys_new(&typist, loop, &in) < 0)
		return 1;
	{
		struct vnc_opts o = { .addr = "127.0.0.1:0", .web = "127.0.0.1:0",
				      .web_dir = argv[argc - 1], .input = &in, .typist = typist,
				      .screen = &screen, .password = password };
		struct sdl_opts so = { .screen = &screen, .input = &in, .title = "vnc-fake",
				       .closed = on_closed };

		if (vnc_start(&v, &d, &o, err, sizeof(err)) < 0 ||
		    (want_sdl && sdl_start(&sdl, &so, err, sizeof(err)) < 0)) {
			fprintf(stderr, "vnc-fake: %s\n", err);
			return 1;
		}
	}
	printf("READY %s %s\n", vnc_address(v), vnc_web_url(v));
	fflush(stdout);
	while (!done)
		loop_run_once(loop, 100);
	sdl_stop(sdl);
	vnc_stop(v);
	ui_screen_free(&screen);
	sendkeys_free(typist);
	loop_free(loop);
	input_free(&in);
	display_detach(&d, &dummy);
	display_free(&d);
	return 0;
}
