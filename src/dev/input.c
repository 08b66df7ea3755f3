// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The input hub (input.h): which keyboard device gets the keys (and which
 * pointer the pointer), and which
 * keys are held, so that a keyboard that goes away, or a client that
 * disconnects with Ctrl held, does not leave the guest with a stuck key.
 */
#include "dev/input.h"

#include <errno.h>
#include <string.h>

void input_init(struct input *in)
{
	memset(in, 0, sizeof(*in));
	pthread_mutex_init(&in->lock, NULL);
}

void input_free(struct input *in)
{
	pthread_mutex_destroy(&in->lock);
}

static int sink_attach(struct input *in, struct input_sinks *l, const void *ops,
		       bool (*ready)(void *), void *opaque, int priority)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&in->lock);
	if (l->nr < INPUT_MAX_KEYBOARDS) {
		l->s[l->nr++] = (struct input_sink){ ops, ready, opaque, priority };
		ret = 0;
	}
	pthread_mutex_unlock(&in->lock);
	return ret;
}

/* Called with in->lock held. */
static void sink_detach(struct input_sinks *l, const void *opaque)
{
	for (unsigned int i = 0; i < l->nr; i++) {
		if (l->s[i].opaque != opaque)
			continue;
		memmove(&l->s[i], &l->s[i + 1], (l->nr - i - 1) * sizeof(l->s[0]));
		l->nr--;
		return;
	}
}

/* The ready sink with the highest priority (the first attached of equals). */
static const struct input_sink *current(const struct input_sinks *l)
{
	const struct input_sink *best = NULL;

	for (unsigned int i = 0; i < l->nr; i++) {
		if (l->s[i].ready && !l->s[i].ready(l->s[i].opaque))
			continue;
		if (!best || l->s[i].priority > best->priority)
			best = &l->s[i];
	}
	return best;
}

int input_attach_keyboard(struct input *in, const struct input_keyboard_ops *ops, void *opaque,
			  int priority)
{
	return sink_attach(in, &in->kbd, ops, ops->ready, opaque, priority);
}

void input_detach_keyboard(struct input *in, const void *opaque)
{
	pthread_mutex_lock(&in->lock);
	sink_detach(&in->kbd, opaque);
	/* What the next keyboard never saw go down must not come up there. */
	memset(in->down, 0, sizeof(in->down));
	pthread_mutex_unlock(&in->lock);
}

int input_attach_pointer(struct input *in, const struct input_pointer_ops *ops, void *opaque,
			 int priority)
{
	return sink_attach(in, &in->ptr, ops, ops->ready, opaque, priority);
}

void input_detach_pointer(struct input *in, const void *opaque)
{
	pthread_mutex_lock(&in->lock);
	sink_detach(&in->ptr, opaque);
	pthread_mutex_unlock(&in->lock);
}

static void send_key(const struct input_sink *k, unsigned int code, bool down)
{
	((const struct input_keyboard_ops *)k->ops)->key(k->opaque, code, down);
}

int input_key(struct input *in, unsigned int code, bool down)
{
	const struct input_sink *k;
	int ret = 0;

	if (code > INPUT_KEY_MAX || !code)
		return -EINVAL;
	pthread_mutex_lock(&in->lock);
	k = current(&in->kbd);
	if (!k) {
		ret = -ENODEV;
	} else if (down || in->down[code]) { /* an up without a down is noise */
		in->down[code] = down;
		send_key(k, code, down);
	}
	pthread_mutex_unlock(&in->lock);
	return ret;
}

void input_release_all(struct input *in)
{
	const struct input_sink *k;

	pthread_mutex_lock(&in->lock);
	k = current(&in->kbd);
	for (unsigned int code = 1; code <= INPUT_KEY_MAX; code++) {
		if (!in->down[code])
			continue;
		in->down[code] = false;
		if (k)
			send_key(k, code, false);
	}
	pthread_mutex_unlock(&in->lock);
}

int input_pointer(struct input *in, uint32_t x, uint32_t y, uint32_t buttons, int wheel,
		  int hwheel)
{
	const struct input_sink *p;

	if (x > INPUT_ABS_MAX)
		x = INPUT_ABS_MAX;
	if (y > INPUT_ABS_MAX)
		y = INPUT_ABS_MAX;
	pthread_mutex_lock(&in->lock);
	p = current(&in->ptr);
	if (p)
		((const struct input_pointer_ops *)p->ops)->pointer(p->opaque, x, y, buttons, wheel,
								  hwheel);
	pthread_mutex_unlock(&in->lock);
	return p ? 0 : -ENODEV;
}
