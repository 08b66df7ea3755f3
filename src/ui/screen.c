// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The front ends' shared refresher (screen.h): one consumer of the
 * display's dirty rows, fanned out to every view.
 */
#include "ui/screen.h"

#include <errno.h>
#include <string.h>

void ui_screen_init(struct ui_screen *s, struct display *d)
{
	memset(s, 0, sizeof(*s));
	s->display = d;
	pthread_mutex_init(&s->lock, NULL);
}

void ui_screen_free(struct ui_screen *s)
{
	display_frame_free(&s->frame);
	pthread_mutex_destroy(&s->lock);
}

int ui_view_add(struct ui_screen *s, struct ui_view *v)
{
	int ret = -ENOSPC;

	memset(v, 0, sizeof(*v));
	v->screen = s;
	v->full = true;
	pthread_mutex_lock(&s->lock);
	if (s->nviews < UI_MAX_VIEWS) {
		s->views[s->nviews++] = v;
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void ui_view_remove(struct ui_view *v)
{
	struct ui_screen *s = v->screen;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned int i = 0; i < s->nviews; i++) {
		if (s->views[i] == v) {
			s->views[i] = s->views[--s->nviews];
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	v->screen = NULL;
}

int ui_view_update(struct ui_view *v, struct display_frame *f, uint8_t *rows)
{
	struct ui_screen *s = v->screen;
	uint32_t w, h;
	int n;

	pthread_mutex_lock(&s->lock);
	n = display_update(s->display, &s->frame, s->rows);
	if (n < 0) {
		pthread_mutex_unlock(&s->lock);
		return n;
	}
	w = s->frame.width;
	h = s->frame.height;
	for (unsigned int i = 0; n > 0 && i < s->nviews; i++)
		for (uint32_t y = 0; y < h; y++)
			s->views[i]->pending[y] |= s->rows[y];
	if (!s->frame.pixels) { /* nothing shown since the start */
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	if (v->full || !f->pixels || f->width != w || f->height != h) {
		if (display_frame_resize(f, w, h) < 0) {
			pthread_mutex_unlock(&s->lock);
			return -ENOMEM;
		}
		v->full = false;
		memset(v->pending, 1, h);
	}
	n = 0;
	for (uint32_t y = 0; y < h; y++) {
		rows[y] = v->pending[y];
		if (!rows[y])
			continue;
		memcpy(f->pixels + (size_t)y * w, s->frame.pixels + (size_t)y * w, (size_t)w * 4);
		n++;
	}
	memset(v->pending, 0, h);
	pthread_mutex_unlock(&s->lock);
	return n;
}
