// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vnc-fake: phyllo-vmm's VNC server and web page without a VM, for the
 * browser test (tests/browser/run): the screen shows the display tests'
 * pattern (R = x, G = y, B = 3x + 5y, 640x400), and what a viewer sends
 * comes out on stdout, one line each: "KEY <code> <1|0>" for the
 * keyboard, "PTR <x> <y> <buttons>" for the pointer (0..32767). First
 * line: "READY <vnc address> <web url>". Ends on SIGTERM or SIGINT.
 *
 *   vnc-fake WEB_DIR
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
#include "ui/sendkeys.h"
#include "ui/vnc.h"

#define W 640
#define H 400

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

/* A still picture: all of it once, then nothing changes. */
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

static const struct display_source_ops fake_ops = { .read_frame = fake_read,
						    .update = fake_update };

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
	struct input in;
	struct sendkeys *typist;
	struct vnc *v;
	char err[256];
	int dummy;

	if (argc != 2) {
		fprintf(stderr, "usage: vnc-fake WEB_DIR\n");
		return 2;
	}
	log_set_level(getenv("VNC_FAKE_DEBUG") ? LOG_DEBUG : LOG_WARN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	display_init(&d);
	input_init(&in);
	if (!loop || display_attach(&d, &fake_ops, &dummy) < 0 ||
	    input_attach_keyboard(&in, &kbd_ops, &dummy, 0) < 0 ||
	    input_attach_pointer(&in, &ptr_ops, &dummy, 0) < 0 ||
	    sendkeys_new(&typist, loop, &in) < 0)
		return 1;
	{
		struct vnc_opts o = { .addr = "127.0.0.1:0", .web = "127.0.0.1:0", .web_dir = argv[1],
				      .input = &in, .typist = typist };

		if (vnc_start(&v, &d, &o, err, sizeof(err)) < 0) {
			fprintf(stderr, "vnc-fake: %s\n", err);
			return 1;
		}
	}
	printf("READY %s %s\n", vnc_address(v), vnc_web_url(v));
	fflush(stdout);
	while (!done)
		loop_run_once(loop, 100);
	vnc_stop(v);
	sendkeys_free(typist);
	loop_free(loop);
	input_free(&in);
	display_detach(&d, &dummy);
	display_free(&d);
	return 0;
}
