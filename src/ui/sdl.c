// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The local window (sdl.h), on SDL2: one thread makes every SDL call. It
 * waits up to REFRESH_MS for window events (keys, pointer, resize, close),
 * then takes what changed on the screen (ui/screen.c: dirty rows only, so
 * a still screen costs nothing but the wait) into a streaming texture and
 * presents it scaled to the window, the picture's aspect kept
 * (SDL_RenderSetLogicalSize, which also maps pointer positions back to
 * the picture's pixels).
 *
 * Keys go by where they are (SDL scancodes, USB HID usages: ui/keymap.c),
 * so the guest's own layout applies, as on a real keyboard; key repeat is
 * the guest's. The pointer is absolute (the virtio tablet).
 */
#include "ui/sdl.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "ui/keymap.h"

#ifdef PHYLLO_HAVE_SDL

#include <SDL.h>

#define REFRESH_MS 16 /* up to ~60 pictures a second */
#define BLANK_WIDTH 640
#define BLANK_HEIGHT 480

struct sdl {
	struct sdl_opts o;
	struct ui_view view;
	pthread_t thread;
	atomic_bool stop;
	/* Start-up handshake: the thread says whether SDL came up. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;
	int start_ret;
	char start_err[200];
	/* The thread's own, from here on. */
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	struct display_frame frame;
	uint8_t rows[DISPLAY_MAX_HEIGHT];
	int set_w, set_h; /* the window size we asked for last */
	bool user_sized;  /* the user resized the window: keep its size */
	bool grabbed;
	bool dirty;       /* present again */
	uint32_t buttons; /* INPUT_BTN_*: down, as the events said */
	int px, py;       /* where the pointer was last */
};

bool sdl_available(void)
{
	return true;
}

static void set_title(struct sdl *s)
{
	char t[256];

	snprintf(t, sizeof(t), "%s%s", s->o.title ? s->o.title : "phyllo-vmm",
		 s->grabbed ? " (Ctrl+Alt+G releases)" : "");
	SDL_SetWindowTitle(s->win, t);
}

static void set_grab(struct sdl *s, bool on)
{
	s->grabbed = on;
	SDL_SetWindowGrab(s->win, on ? SDL_TRUE : SDL_FALSE);
	SDL_SetWindowKeyboardGrab(s->win, on ? SDL_TRUE : SDL_FALSE);
	set_title(s);
}

static void key(struct sdl *s, const SDL_KeyboardEvent *k)
{
	bool down = k->type == SDL_KEYDOWN;
	unsigned int code;

	if (k->repeat)
		return; /* the guest repeats keys itself */
	if (down && k->keysym.scancode == SDL_SCANCODE_G && (k->keysym.mod & KMOD_CTRL) &&
	    (k->keysym.mod & KMOD_ALT)) {
		set_grab(s, !s->grabbed);
		return;
	}
	code = keymap_from_usb_hid((uint32_t)k->keysym.scancode);
	if (code && s->o.input)
		input_key(s->o.input, code, down);
}

/*
 * The pointer at (x, y) of the picture (SDL has mapped window pixels to
 * it: the logical size) with s->buttons down. Events carry their own
 * position and button: SDL's "current" state may already be past them.
 */
static void pointer(struct sdl *s, int x, int y, int wheel, int hwheel)
{
	if (!s->o.input || !s->frame.pixels)
		return;
	s->px = x;
	s->py = y;
	input_pointer(s->o.input, input_scale_abs(x, (int)s->frame.width),
		      input_scale_abs(y, (int)s->frame.height), s->buttons, wheel, hwheel);
}

static uint32_t button_bit(uint8_t b)
{
	switch (b) {
	case SDL_BUTTON_LEFT: return INPUT_BTN_LEFT;
	case SDL_BUTTON_MIDDLE: return INPUT_BTN_MIDDLE;
	case SDL_BUTTON_RIGHT: return INPUT_BTN_RIGHT;
	case SDL_BUTTON_X1: return INPUT_BTN_SIDE;
	case SDL_BUTTON_X2: return INPUT_BTN_EXTRA;
	default: return 0;
	}
}

static void window_event(struct sdl *s, const SDL_WindowEvent *e)
{
	switch (e->event) {
	case SDL_WINDOWEVENT_SIZE_CHANGED:
		s->dirty = true;
		if (e->data1 == s->set_w && e->data2 == s->set_h)
			break; /* ours */
		/* The user's: ask the guest for it (virtio-gpu follows; others scale). */
		s->user_sized = true;
		s->set_w = e->data1;
		s->set_h = e->data2;
		if (e->data1 > 0 && e->data2 > 0)
			(void)display_resize(s->o.screen->display, (uint32_t)e->data1,
					     (uint32_t)e->data2);
		break;
	case SDL_WINDOWEVENT_EXPOSED:
		s->dirty = true;
		break;
	case SDL_WINDOWEVENT_FOCUS_LOST:
		if (s->o.input)
			input_release_all(s->o.input); /* keys held stay held no more */
		s->buttons = 0;
		break;
	default:
		break;
	}
}

static void handle(struct sdl *s, const SDL_Event *e)
{
	switch (e->type) {
	case SDL_QUIT:
		if (s->o.closed)
			s->o.closed(s->o.opaque);
		break;
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		key(s, &e->key);
		break;
	case SDL_MOUSEMOTION:
		pointer(s, e->motion.x, e->motion.y, 0, 0);
		break;
	case SDL_MOUSEBUTTONDOWN:
		s->buttons |= button_bit(e->button.button);
		pointer(s, e->button.x, e->button.y, 0, 0);
		break;
	case SDL_MOUSEBUTTONUP:
		s->buttons &= ~button_bit(e->button.button);
		pointer(s, e->button.x, e->button.y, 0, 0);
		break;
	case SDL_MOUSEWHEEL: {
		int dy = e->wheel.y, dx = e->wheel.x;

		if (e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED) {
			dy = -dy;
			dx = -dx;
		}
		pointer(s, s->px, s->py, dy > 0 ? 1 : dy < 0 ? -1 : 0, dx > 0 ? 1 : dx < 0 ? -1 : 0);
		break;
	}
	case SDL_WINDOWEVENT:
		window_event(s, &e->window);
		break;
	default:
		break;
	}
}

/* A new picture size: a texture of it, and the window too unless the user sized it. */
static int new_mode(struct sdl *s)
{
	int w = (int)s->frame.width, h = (int)s->frame.height;

	if (s->tex)
		SDL_DestroyTexture(s->tex);
	s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, w,
				   h);
	if (!s->tex) {
		pr_warn("sdl: no %dx%d texture: %s", w, h, SDL_GetError());
		return -ENOMEM;
	}
	SDL_RenderSetLogicalSize(s->ren, w, h);
	if (!s->user_sized && (w != s->set_w || h != s->set_h)) {
		s->set_w = w;
		s->set_h = h;
		SDL_SetWindowSize(s->win, w, h);
	}
	return 0;
}

static void refresh(struct sdl *s)
{
	uint32_t ow = s->frame.width, oh = s->frame.height;
	int n = ui_view_update(&s->view, &s->frame, s->rows);

	if (n > 0 && (!s->tex || s->frame.width != ow || s->frame.height != oh) && new_mode(s) < 0)
		return;
	for (uint32_t y = 0; n > 0 && y < s->frame.height;) {
		uint32_t end;

		if (!s->rows[y]) {
			y++;
			continue;
		}
		for (end = y + 1; end < s->frame.height && s->rows[end]; end++)
			;
		SDL_UpdateTexture(s->tex,
				  &(SDL_Rect){ 0, (int)y, (int)s->frame.width, (int)(end - y) },
				  s->frame.pixels + (size_t)y * s->frame.width,
				  (int)s->frame.width * 4);
		y = end;
	}
	if (n > 0)
		s->dirty = true;
	if (!s->dirty)
		return;
	SDL_SetRenderDrawColor(s->ren, 0, 0, 0, 255);
	SDL_RenderClear(s->ren);
	if (s->tex)
		SDL_RenderCopy(s->ren, s->tex, NULL, NULL);
	SDL_RenderPresent(s->ren);
	s->dirty = false;
}

static int sdl_open(struct sdl *s)
{
	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1"); /* ours are the VMM's */
	SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		snprintf(s->start_err, sizeof(s->start_err), "cannot open a window: %s",
			 SDL_GetError());
		return -ENODEV;
	}
	s->set_w = BLANK_WIDTH;
	s->set_h = BLANK_HEIGHT;
	s->win = SDL_CreateWindow(s->o.title ? s->o.title : "phyllo-vmm", 0, 0, BLANK_WIDTH,
				  BLANK_HEIGHT, SDL_WINDOW_RESIZABLE);
	if (s->win)
		s->ren = SDL_CreateRenderer(s->win, -1, 0);
	if (!s->win || !s->ren) {
		snprintf(s->start_err, sizeof(s->start_err), "cannot open a window: %s",
			 SDL_GetError());
		return -ENODEV;
	}
	set_title(s);
	s->dirty = true;
	return 0;
}

static void sdl_close(struct sdl *s)
{
	if (s->tex)
		SDL_DestroyTexture(s->tex);
	if (s->ren)
		SDL_DestroyRenderer(s->ren);
	if (s->win)
		SDL_DestroyWindow(s->win);
	SDL_Quit();
}

static void *sdl_thread(void *opaque)
{
	struct sdl *s = opaque;
	int ret = sdl_open(s);

	pthread_mutex_lock(&s->lock);
	s->start_ret = ret;
	s->started = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	while (ret == 0 && !atomic_load(&s->stop)) {
		SDL_Event e;

		if (SDL_WaitEventTimeout(&e, REFRESH_MS)) {
			handle(s, &e);
			while (SDL_PollEvent(&e))
				handle(s, &e);
		}
		refresh(s);
	}
	sdl_close(s);
	return NULL;
}

static void sdl_free(struct sdl *s)
{
	ui_view_remove(&s->view);
	display_frame_free(&s->frame);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

int sdl_start(struct sdl **out, const struct sdl_opts *o, char *err, size_t errlen)
{
	struct sdl *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->o = *o;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (ui_view_add(o->screen, &s->view) < 0) {
		errbuf_set(err, errlen, "sdl: the screen has %d viewers already", UI_MAX_VIEWS);
		sdl_free(s);
		return -ENOSPC;
	}
	ret = -pthread_create(&s->thread, NULL, sdl_thread, s);
	if (ret < 0) {
		errbuf_set(err, errlen, "sdl: cannot start its thread: %s", strerror(-ret));
		sdl_free(s);
		return ret;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->started)
		pthread_cond_wait(&s->cond, &s->lock);
	ret = s->start_ret;
	pthread_mutex_unlock(&s->lock);
	if (ret < 0) {
		errbuf_set(err, errlen, "sdl: %s", s->start_err);
		pthread_join(s->thread, NULL);
		sdl_free(s);
		return ret;
	}
	pr_info("sdl: window open");
	*out = s;
	return 0;
}

void sdl_stop(struct sdl *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	sdl_free(s);
}

#else /* built without SDL2 */

bool sdl_available(void)
{
	return false;
}

int sdl_start(struct sdl **out, const struct sdl_opts *o, char *err, size_t errlen)
{
	(void)out;
	(void)o;
	errbuf_set(err, errlen, "sdl: this phyllo-vmm was built without SDL2 (libsdl2-dev)");
	return -ENOTSUP;
}

void sdl_stop(struct sdl *s)
{
	(void)s;
}

#endif
