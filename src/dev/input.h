/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keyboard (and, next, pointer) input between the front ends that take
 * it from people (the VNC server, vm.send-keys, the SDL window) and the
 * devices that give it to the guest (the i8042's PS/2 keyboard, next
 * virtio-input). Keys travel as Linux input key codes (KEY_A, KEY_ENTER
 * ... from <linux/input-event-codes.h>): one code per physical key of a
 * PC keyboard, the names virtio-input sends as they are, and each device
 * turns them into its own scan codes.
 *
 * The VMM owns one struct input per process, as it owns the display; a
 * device attaches as the keyboard when it is realized (the one attached
 * with the highest priority gets the keys, so a virtio keyboard can take
 * over from PS/2) and detaches when it goes. Any thread may send.
 */
#ifndef PHYLLO_DEV_INPUT_H
#define PHYLLO_DEV_INPUT_H

#include <pthread.h>
#include <stdbool.h>

#define INPUT_KEY_MAX 0x2ff /* KEY_MAX: codes are below it */
#define INPUT_MAX_KEYBOARDS 4

struct input_keyboard_ops {
	/* A key went down or up; the device queues what the guest reads. */
	void (*key)(void *opaque, unsigned int code, bool down);
};

struct input {
	pthread_mutex_t lock; /* held while a device is called: detach waits for it */
	unsigned int nr;
	struct {
		const struct input_keyboard_ops *ops;
		void *opaque;
		int priority;
	} kbd[INPUT_MAX_KEYBOARDS];
	bool down[INPUT_KEY_MAX + 1]; /* what is held, to release on detach */
};

void input_init(struct input *in);
void input_free(struct input *in);
/* -ENOSPC when INPUT_MAX_KEYBOARDS are attached. */
int input_attach_keyboard(struct input *in, const struct input_keyboard_ops *ops, void *opaque,
			  int priority);
void input_detach_keyboard(struct input *in, const void *opaque);
/* -ENODEV with no keyboard, -EINVAL for a code past INPUT_KEY_MAX. */
int input_key(struct input *in, unsigned int code, bool down);
/* Release every key held (a front end lost its client). */
void input_release_all(struct input *in);

#endif
