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

int input_attach_keyboard(struct input *in, const struct input_keyboard_ops *ops, void *opaque,
			  int priority)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&in->lock);
	if (in->nr < INPUT_MAX_KEYBOARDS) {
		in->kbd[in->nr].ops = ops;
		in->kbd[in->nr].opaque = opaque;
		in->kbd[in->nr].priority = priority;
		in->nr++;
		ret = 0;
	}
	pthread_mutex_unlock(&in->lock);
	return ret;
}

void input_detach_keyboard(struct input *in, const void *opaque)
{
	pthread_mutex_lock(&in->lock);
	for (unsigned int i = 0; i < in->nr; i++) {
		if (in->kbd[i].opaque != opaque)
			continue;
		memmove(&in->kbd[i], &in->kbd[i + 1], (in->nr - i - 1) * sizeof(in->kbd[0]));
		in->nr--;
		break;
	}
	/* What the next keyboard never saw go down must not come up there. */
	memset(in->down, 0, sizeof(in->down));
	pthread_mutex_unlock(&in->lock);
}

/* The ready keyboard with the highest priority (the first attached of equals). */
static int current(const struct input *in)
{
	int best = -1;

	for (unsigned int i = 0; i < in->nr; i++) {
		if (in->kbd[i].ops->ready && !in->kbd[i].ops->ready(in->kbd[i].opaque))
			continue;
		if (best < 0 || in->kbd[i].priority > in->kbd[best].priority)
			best = (int)i;
	}
	return best;
}

int input_key(struct input *in, unsigned int code, bool down)
{
	int k, ret = 0;

	if (code > INPUT_KEY_MAX || !code)
		return -EINVAL;
	pthread_mutex_lock(&in->lock);
	k = current(in);
	if (k < 0) {
		ret = -ENODEV;
	} else if (down || in->down[code]) { /* an up without a down is noise */
		in->down[code] = down;
		in->kbd[k].ops->key(in->kbd[k].opaque, code, down);
	}
	pthread_mutex_unlock(&in->lock);
	return ret;
}

void input_release_all(struct input *in)
{
	int k;

	pthread_mutex_lock(&in->lock);
	k = current(in);
	for (unsigned int code = 1; code <= INPUT_KEY_MAX; code++) {
		if (!in->down[code])
			continue;
		in->down[code] = false;
		if (k >= 0)
			in->kbd[k].ops->key(in->kbd[k].opaque, code, false);
	}
	pthread_mutex_unlock(&in->lock);
}

int input_attach_pointer(struct input *in, const struct input_pointer_ops *ops, void *opaque,
			 int priority)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&in->lock);
	if (in->nr_ptr < INPUT_MAX_KEYBOARDS) {
		in->ptr[in->nr_ptr].ops = ops;
		in->ptr[in->nr_ptr].opaque = opaque;
		in->ptr[in->nr_ptr].priority = priority;
		in->nr_ptr++;
		ret = 0;
	}
	pthread_mutex_unlock(&in->lock);
	return ret;
}

void input_detach_pointer(struct input *in, const void *opaque)
{
	pthread_mutex_lock(&in->lock);
	for (unsigned int i = 0; i < in->nr_ptr; i++) {
		if (in->ptr[i].opaque != opaque)
			continue;
		memmove(&in->ptr[i], &in->ptr[i + 1], (in->nr_ptr - i - 1) * sizeof(in->ptr[0]));
		in->nr_ptr--;
		break;
	}
	pthread_mutex_unlock(&in->lock);
}

int input_pointer(struct input *in, uint32_t x, uint32_t y, uint32_t buttons, int wheel,
		  int hwheel)
{
	int best = -1;

	if (x > INPUT_ABS_MAX)
		x = INPUT_ABS_MAX;
	if (y > INPUT_ABS_MAX)
		y = INPUT_ABS_MAX;
	pthread_mutex_lock(&in->lock);
	for (unsigned int i = 0; i < in->nr_ptr; i++) {
		if (in->ptr[i].ops->ready && !in->ptr[i].ops->ready(in->ptr[i].opaque))
			continue;
		if (best < 0 || in->ptr[i].priority > in->ptr[best].priority)
			best = (int)i;
	}
	if (best >= 0)
		in->ptr[best].ops->pointer(in->ptr[best].opaque, x, y, buttons, wheel, hwheel);
	pthread_mutex_unlock(&in->lock);
	return best < 0 ? -ENODEV : 0;
}
