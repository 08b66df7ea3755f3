/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keyboard and pointer input between the front ends that take
 * it from people (the VNC server, vm.send-keys, the SDL window) and the
 * devices that give it to the guest (the i8042's PS/2 keyboard, the
 * virtio keyboard and tablet). Keys travel as Linux input key codes (KEY_A, KEY_ENTER
 * ... from <linux/input-event-codes.h>): one code per physical key of a
 * PC keyboard, the names virtio-input sends as they are, and each device
 * turns them into its own scan codes.
 *
 * The VMM owns one struct input per process, as it owns the display; a
 * device attaches as a keyboard or pointer when it is realized (of those
 * ready, the one with the highest priority gets the events, so a virtio
 * keyboard takes over from PS/2 once the guest's driver is up, and the
 * firmware, which has no virtio driver, still gets PS/2) and detaches
 * when it goes. Any thread may send. Pointer positions are absolute, in
 * 0..INPUT_ABS_MAX across the screen, as a tablet reports them.
 */
#ifndef PHYLLO_DEV_INPUT_H
#define PHYLLO_DEV_INPUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define INPUT_KEY_MAX 0x2ff /* KEY_MAX: codes are below it */
#define INPUT_MAX_KEYBOARDS 4 /* and as many pointers */

struct input_keyboard_ops {
	/* A key went down or up; the device queues what the guest reads. */
	void (*key)(void *opaque, unsigned int code, bool down);
	/* Optional: whether the guest drives this keyboard now (a virtio one
	 * only once its driver is up); NULL: always. Must not block. */
	bool (*ready)(void *opaque);
};

/* Pointer buttons (a mask) and the absolute range positions are given in. */
#define INPUT_BTN_LEFT 0x01
#define INPUT_BTN_MIDDLE 0x02
#define INPUT_BTN_RIGHT 0x04
#define INPUT_BTN_SIDE 0x08
#define INPUT_BTN_EXTRA 0x10
#define INPUT_ABS_MAX 32767

/* A position on a side of n pixels (0..n-1, clamped) as 0..INPUT_ABS_MAX:
 * what front ends give input_pointer. */
static inline uint32_t input_scale_abs(int pos, int n)
{
	if (n <= 1 || pos <= 0)
		return 0;
	if (pos >= n - 1)
		return INPUT_ABS_MAX;
	return (uint32_t)((uint64_t)pos * INPUT_ABS_MAX / (uint64_t)(n - 1));
}

struct input_pointer_ops {
	/* Where the pointer is (0..INPUT_ABS_MAX on both axes, across the
	 * screen), which buttons are down, and wheel clicks (up and right
	 * positive) since the last call. */
	void (*pointer)(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int wheel,
			int hwheel);
	bool (*ready)(void *opaque); /* as the keyboard's */
};

/* Devices of one kind (keyboards, or pointers) attached to the hub. */
struct input_sinks {
	unsigned int nr;
	struct input_sink {
		const void *ops; /* struct input_keyboard_ops or input_pointer_ops */
		bool (*ready)(void *opaque);
		void *opaque;
		int priority;
	} s[INPUT_MAX_KEYBOARDS];
};

struct input {
	pthread_mutex_t lock; /* held while a device is called: detach waits for it */
	struct input_sinks kbd, ptr;
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
int input_attach_pointer(struct input *in, const struct input_pointer_ops *ops, void *opaque,
			 int priority);
void input_detach_pointer(struct input *in, const void *opaque);
/* -ENODEV with no pointer device ready; x and y are clamped to INPUT_ABS_MAX. */
int input_pointer(struct input *in, uint32_t x, uint32_t y, uint32_t buttons, int wheel,
		  int hwheel);
/* Release every key held (a front end lost its client). */
void input_release_all(struct input *in);

#endif
