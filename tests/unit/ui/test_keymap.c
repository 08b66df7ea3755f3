// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The keymap (src/ui/keymap.c): every printable ASCII character maps to a
 * key, the keysyms of a 105-key keyboard and the media keys are there,
 * shifted keysyms give the unshifted key, names resolve.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/input-event-codes.h>

#include "ui/keymap.h"

static void test_chars(void **state)
{
	bool shift;

	(void)state;
	for (int c = 0x20; c < 0x7f; c++)
		if (!keymap_from_char((char)c, &shift))
			fail_msg("no key types '%c'", c);
	assert_int_equal(keymap_from_char('a', &shift), KEY_A);
	assert_false(shift);
	assert_int_equal(keymap_from_char('Q', &shift), KEY_Q);
	assert_true(shift);
	assert_int_equal(keymap_from_char('?', &shift), KEY_SLASH);
	assert_true(shift);
	assert_int_equal(keymap_from_char('\n', &shift), KEY_ENTER);
	assert_int_equal(keymap_from_char('\x01', &shift), 0);
	assert_int_equal(keymap_from_char((char)0xe9, &shift), 0);
}

static void test_keysyms(void **state)
{
	static const struct {
		uint32_t sym;
		unsigned int key;
	} want[] = {
		{ 'a', KEY_A }, { 'A', KEY_A }, { '!', KEY_1 }, { '~', KEY_GRAVE }, { ' ', KEY_SPACE },
		{ 0xff1b, KEY_ESC }, { 0xff0d, KEY_ENTER }, { 0xff08, KEY_BACKSPACE },
		{ 0xffbe, KEY_F1 }, { 0xffc9, KEY_F12 }, { 0xff63, KEY_INSERT }, { 0xffff, KEY_DELETE },
		{ 0xff50, KEY_HOME }, { 0xff57, KEY_END }, { 0xff55, KEY_PAGEUP },
		{ 0xff56, KEY_PAGEDOWN }, { 0xff51, KEY_LEFT }, { 0xff54, KEY_DOWN },
		{ 0xffb7, KEY_KP7 }, { 0xff95, KEY_KP7 }, { 0xff8d, KEY_KPENTER }, { 0xffab, KEY_KPPLUS },
		{ 0xff7f, KEY_NUMLOCK }, { 0xffe1, KEY_LEFTSHIFT }, { 0xffe4, KEY_RIGHTCTRL },
		{ 0xffe9, KEY_LEFTALT }, { 0xfe03, KEY_RIGHTALT }, { 0xffeb, KEY_LEFTMETA },
		{ 0xff67, KEY_COMPOSE }, { 0xff61, KEY_SYSRQ }, { 0xff13, KEY_PAUSE },
		{ 0x1008ff12, KEY_MUTE }, { 0x1008ff14, KEY_PLAYPAUSE }, { 0x12345, 0 }, { 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (keymap_from_keysym(want[i].sym) != want[i].key)
			fail_msg("keysym 0x%x: %u, want %u", want[i].sym,
				 keymap_from_keysym(want[i].sym), want[i].key);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(keymap_from_name("ctrl"), KEY_LEFTCTRL);
	assert_int_equal(keymap_from_name("ALT"), KEY_LEFTALT);
	assert_int_equal(keymap_from_name("delete"), KEY_DELETE);
	assert_int_equal(keymap_from_name("f10"), KEY_F10);
	assert_int_equal(keymap_from_name("kp_enter"), KEY_KPENTER);
	assert_int_equal(keymap_from_name("x"), KEY_X);
	assert_int_equal(keymap_from_name("5"), KEY_5);
	assert_int_equal(keymap_from_name("!"), 0); /* a shifted character is not a key */
	assert_int_equal(keymap_from_name("nosuchkey"), 0);
	assert_int_equal(keymap_from_name(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chars),
		cmocka_unit_test(test_keysyms),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
