// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm.send-keys' typist (src/ui/sendkeys.c) on a real event loop: combos
 * press in order and release in reverse, text types with Shift where a US
 * keyboard needs it, at one event a tick; a bad key or character queues
 * nothing and names the culprit; too much at once is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <linux/input-event-codes.h>

#include "base/loop.h"
#include "dev/input.h"
#include "ui/sendkeys.h"

struct rec {
	unsigned int n;
	unsigned int code[64];
	bool down[64];
};

static void rec_key(void *opaque, unsigned int code, bool down)
{
	struct rec *r = opaque;

	if (r->n < 64) {
		r->code[r->n] = code;
		r->down[r->n++] = down;
	}
}

static const struct input_keyboard_ops rec_ops = { .key = rec_key };

static void test_typing(void **state)
{
	static const struct {
		unsigned int code;
		bool down;
	} want[] = {
		{ KEY_LEFTCTRL, true }, { KEY_LEFTALT, true }, { KEY_DELETE, true },
		{ KEY_DELETE, false }, { KEY_LEFTALT, false }, { KEY_LEFTCTRL, false },
		{ KEY_ENTER, true }, { KEY_ENTER, false },
		{ KEY_LEFTSHIFT, true }, { KEY_H, true }, { KEY_H, false }, { KEY_LEFTSHIFT, false },
		{ KEY_I, true }, { KEY_I, false },
		{ KEY_LEFTSHIFT, true }, { KEY_1, true }, { KEY_1, false }, { KEY_LEFTSHIFT, false },
	};
	static const char *const combos[] = { "ctrl-alt-delete", "Enter" };
	static const char *const bad[] = { "ctrl-nokey" };
	struct event_loop *loop = loop_new();
	struct input in;
	struct rec r = { 0 };
	struct sendkeys *s;
	struct timespec t0, t1;
	char why[256] = "";

	(void)state;
	assert_non_null(loop);
	input_init(&in);
	assert_int_equal(input_attach_keyboard(&in, &rec_ops, &r, 0), 0);
	assert_int_equal(sendkeys_new(&s, loop, &in), 0);
	/* Nothing queued when any part is wrong. */
	assert_int_equal(sendkeys_queue(s, bad, 1, "ok", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "unknown key 'nokey' in 'ctrl-nokey'"));
	assert_int_equal(sendkeys_queue(s, combos, 2, "caf\xc3\xa9", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "character 0xc3 at 3"));
	assert_int_equal(sendkeys_pending(s), 0);
	{
		static char big[SENDKEYS_MAX_EVENTS];

		memset(big, 'a', sizeof(big) - 1);
		assert_int_equal(sendkeys_queue(s, NULL, 0, big, why, sizeof(why)), -E2BIG);
	}
	/* Played one event a tick, in order. */
	assert_int_equal(sendkeys_queue(s, combos, 2, "Hi!", why, sizeof(why)), 0);
	assert_int_equal(sendkeys_pending(s), 18);
	assert_int_equal(r.n, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1000 && sendkeys_pending(s); i++)
		loop_run_once(loop, 100);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(r.n, 18);
	for (unsigned int i = 0; i < 18; i++) {
		assert_int_equal(r.code[i], want[i].code);
		assert_int_equal(r.down[i], want[i].down);
	}
	/* 18 events at 10 ms: not all at once. */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >=
		    17 * SENDKEYS_INTERVAL_MS);
	sendkeys_free(s);
	input_detach_keyboard(&in, &r);
	input_free(&in);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
