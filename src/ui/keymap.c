// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Keysyms, characters and key names to Linux key codes (keymap.h). Tables
 * written out by hand from X11's keysymdef.h values and the US PC layout:
 * small, and no library carries this mapping without pulling in a
 * toolkit (xkbcommon would need a compiled keymap at run time).
 */
#include "ui/keymap.h"

#include <linux/input-event-codes.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const unsigned short letters[26] = {
	KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I, KEY_J, KEY_K, KEY_L, KEY_M,
	KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R, KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X, KEY_Y, KEY_Z,
};
static const unsigned short digits[10] = {
	KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9,
};

/* The rest of printable ASCII on a US keyboard: the character, its key,
 * and whether Shift makes it. */
static const struct {
	char c;
	unsigned short key;
	bool shift;
} punct[] = {
	{ ' ', KEY_SPACE, false }, { '`', KEY_GRAVE, false }, { '~', KEY_GRAVE, true },
	{ '!', KEY_1, true }, { '@', KEY_2, true }, { '#', KEY_3, true }, { '$', KEY_4, true },
	{ '%', KEY_5, true }, { '^', KEY_6, true }, { '&', KEY_7, true }, { '*', KEY_8, true },
	{ '(', KEY_9, true }, { ')', KEY_0, true }, { '-', KEY_MINUS, false },
	{ '_', KEY_MINUS, true }, { '=', KEY_EQUAL, false }, { '+', KEY_EQUAL, true },
	{ '[', KEY_LEFTBRACE, false }, { '{', KEY_LEFTBRACE, true },
	{ ']', KEY_RIGHTBRACE, false }, { '}', KEY_RIGHTBRACE, true },
	{ '\\', KEY_BACKSLASH, false }, { '|', KEY_BACKSLASH, true },
	{ ';', KEY_SEMICOLON, false }, { ':', KEY_SEMICOLON, true },
	{ '\'', KEY_APOSTROPHE, false }, { '"', KEY_APOSTROPHE, true },
	{ ',', KEY_COMMA, false }, { '<', KEY_COMMA, true }, { '.', KEY_DOT, false },
	{ '>', KEY_DOT, true }, { '/', KEY_SLASH, false }, { '?', KEY_SLASH, true },
	{ '\n', KEY_ENTER, false }, { '\t', KEY_TAB, false }, { '\b', KEY_BACKSPACE, false },
};

/* Keysyms past Latin-1 (keysymdef.h and XF86keysym.h values). */
static const struct {
	uint32_t sym;
	unsigned short key;
} syms[] = {
	{ 0xff08, KEY_BACKSPACE }, { 0xff09, KEY_TAB }, { 0xfe20, KEY_TAB }, /* ISO_Left_Tab */
	{ 0xff0d, KEY_ENTER }, { 0xff13, KEY_PAUSE }, { 0xff14, KEY_SCROLLLOCK },
	{ 0xff15, KEY_SYSRQ }, { 0xff1b, KEY_ESC }, { 0xffff, KEY_DELETE },
	{ 0xff50, KEY_HOME }, { 0xff51, KEY_LEFT }, { 0xff52, KEY_UP }, { 0xff53, KEY_RIGHT },
	{ 0xff54, KEY_DOWN }, { 0xff55, KEY_PAGEUP }, { 0xff56, KEY_PAGEDOWN }, { 0xff57, KEY_END },
	{ 0xff61, KEY_SYSRQ }, /* Print */ { 0xff63, KEY_INSERT }, { 0xff67, KEY_COMPOSE },
	{ 0xff7f, KEY_NUMLOCK }, { 0xff8d, KEY_KPENTER },
	{ 0xff95, KEY_KP7 }, { 0xff96, KEY_KP4 }, { 0xff97, KEY_KP8 }, { 0xff98, KEY_KP6 },
	{ 0xff99, KEY_KP2 }, { 0xff9a, KEY_KP9 }, { 0xff9b, KEY_KP3 }, { 0xff9c, KEY_KP1 },
	{ 0xff9d, KEY_KP5 }, { 0xff9e, KEY_KP0 }, { 0xff9f, KEY_KPDOT },
	{ 0xffaa, KEY_KPASTERISK }, { 0xffab, KEY_KPPLUS }, { 0xffac, KEY_KPCOMMA },
	{ 0xffad, KEY_KPMINUS }, { 0xffae, KEY_KPDOT }, { 0xffaf, KEY_KPSLASH },
	{ 0xffb0, KEY_KP0 }, { 0xffb1, KEY_KP1 }, { 0xffb2, KEY_KP2 }, { 0xffb3, KEY_KP3 },
	{ 0xffb4, KEY_KP4 }, { 0xffb5, KEY_KP5 }, { 0xffb6, KEY_KP6 }, { 0xffb7, KEY_KP7 },
	{ 0xffb8, KEY_KP8 }, { 0xffb9, KEY_KP9 }, { 0xffbd, KEY_KPEQUAL },
	{ 0xffbe, KEY_F1 }, { 0xffbf, KEY_F2 }, { 0xffc0, KEY_F3 }, { 0xffc1, KEY_F4 },
	{ 0xffc2, KEY_F5 }, { 0xffc3, KEY_F6 }, { 0xffc4, KEY_F7 }, { 0xffc5, KEY_F8 },
	{ 0xffc6, KEY_F9 }, { 0xffc7, KEY_F10 }, { 0xffc8, KEY_F11 }, { 0xffc9, KEY_F12 },
	{ 0xffe1, KEY_LEFTSHIFT }, { 0xffe2, KEY_RIGHTSHIFT }, { 0xffe3, KEY_LEFTCTRL },
	{ 0xffe4, KEY_RIGHTCTRL }, { 0xffe5, KEY_CAPSLOCK }, { 0xffe7, KEY_LEFTMETA },
	{ 0xffe8, KEY_RIGHTMETA }, { 0xffe9, KEY_LEFTALT }, { 0xffea, KEY_RIGHTALT },
	{ 0xffeb, KEY_LEFTMETA }, { 0xffec, KEY_RIGHTMETA }, /* Super */
	{ 0xfe03, KEY_RIGHTALT }, /* ISO_Level3_Shift (AltGr) */
	{ 0x00a7, KEY_GRAVE }, /* section sign: where ISO keyboards have ` */
	{ 0x1008ff11, KEY_VOLUMEDOWN }, { 0x1008ff12, KEY_MUTE }, { 0x1008ff13, KEY_VOLUMEUP },
	{ 0x1008ff14, KEY_PLAYPAUSE }, { 0x1008ff15, KEY_STOPCD }, { 0x1008ff16, KEY_PREVIOUSSONG },
	{ 0x1008ff17, KEY_NEXTSONG }, { 0x1008ff18, KEY_HOMEPAGE }, { 0x1008ff19, KEY_MAIL },
	{ 0x1008ff1b, KEY_SEARCH }, { 0x1008ff1d, KEY_CALC }, { 0x1008ff26, KEY_BACK },
	{ 0x1008ff27, KEY_FORWARD }, { 0x1008ff28, KEY_STOP }, { 0x1008ff29, KEY_REFRESH },
	{ 0x1008ff2a, KEY_POWER }, { 0x1008ff2b, KEY_WAKEUP }, { 0x1008ff2f, KEY_SLEEP },
	{ 0x1008ff30, KEY_BOOKMARKS }, /* XF86Favorites */ { 0x1008ff32, KEY_MEDIA },
	{ 0x1008ff33, KEY_COMPUTER }, /* XF86MyComputer */
};

unsigned int keymap_from_char(char c, bool *shift)
{
	*shift = false;
	if (c >= 'a' && c <= 'z')
		return letters[c - 'a'];
	if (c >= 'A' && c <= 'Z') {
		*shift = true;
		return letters[c - 'A'];
	}
	if (c >= '0' && c <= '9')
		return digits[c - '0'];
	for (size_t i = 0; i < ARRAY_LEN(punct); i++)
		if (punct[i].c == c) {
			*shift = punct[i].shift;
			return punct[i].key;
		}
	return 0;
}

unsigned int keymap_from_keysym(uint32_t sym)
{
	bool shift;

	/* Latin-1 keysyms are the characters themselves. */
	if (sym >= 0x20 && sym < 0x7f)
		return keymap_from_char((char)sym, &shift);
	for (size_t i = 0; i < ARRAY_LEN(syms); i++)
		if (syms[i].sym == sym)
			return syms[i].key;
	return 0;
}

/*
 * USB HID keyboard usages (page 7, HID Usage Tables 1.3, 10): where a key
 * is, whatever the layout; SDL's scancodes are these numbers. Index =
 * usage, 0x04 ('a') to 0xe7 (right GUI); 0 for no key of ours.
 */
static const unsigned short hid_usages[0xe8] = {
	[0x04] = KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_G, KEY_H, KEY_I, KEY_J, KEY_K,
	KEY_L, KEY_M, KEY_N, KEY_O, KEY_P, KEY_Q, KEY_R, KEY_S, KEY_T, KEY_U, KEY_V, KEY_W, KEY_X,
	KEY_Y, KEY_Z,
	[0x1e] = KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9, KEY_0,
	[0x28] = KEY_ENTER, KEY_ESC, KEY_BACKSPACE, KEY_TAB, KEY_SPACE, KEY_MINUS, KEY_EQUAL,
	KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_BACKSLASH,
	[0x32] = KEY_BACKSLASH, /* non-US # and ~: the ISO key left of Enter */
	KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE, KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_CAPSLOCK,
	[0x3a] = KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8, KEY_F9, KEY_F10,
	KEY_F11, KEY_F12,
	[0x46] = KEY_SYSRQ, KEY_SCROLLLOCK, KEY_PAUSE, KEY_INSERT, KEY_HOME, KEY_PAGEUP,
	KEY_DELETE, KEY_END, KEY_PAGEDOWN, KEY_RIGHT, KEY_LEFT, KEY_DOWN, KEY_UP,
	[0x53] = KEY_NUMLOCK, KEY_KPSLASH, KEY_KPASTERISK, KEY_KPMINUS, KEY_KPPLUS, KEY_KPENTER,
	KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9, KEY_KP0,
	KEY_KPDOT,
	[0x64] = KEY_102ND, KEY_COMPOSE, KEY_POWER, KEY_KPEQUAL,
	[0x68] = KEY_F13, KEY_F14, KEY_F15, KEY_F16, KEY_F17, KEY_F18, KEY_F19, KEY_F20, KEY_F21,
	KEY_F22, KEY_F23, KEY_F24,
	[0x74] = KEY_OPEN, KEY_HELP, KEY_PROPS, KEY_FRONT, KEY_STOP, KEY_AGAIN, KEY_UNDO, KEY_CUT,
	KEY_COPY, KEY_PASTE, KEY_FIND, KEY_MUTE, KEY_VOLUMEUP, KEY_VOLUMEDOWN,
	[0x85] = KEY_KPCOMMA,
	[0x87] = KEY_RO, KEY_KATAKANAHIRAGANA, KEY_YEN, KEY_HENKAN, KEY_MUHENKAN,
	[0x90] = KEY_HANGEUL, KEY_HANJA,
	[0xe0] = KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_LEFTALT, KEY_LEFTMETA, KEY_RIGHTCTRL,
	KEY_RIGHTSHIFT, KEY_RIGHTALT, KEY_RIGHTMETA,
};

/* Media keys past the HID page, as SDL numbers them (SDL_SCANCODE_AUDIONEXT = 258, ...). */
static const struct {
	uint32_t code;
	unsigned short key;
} sdl_media[] = {
	{ 258, KEY_NEXTSONG }, { 259, KEY_PREVIOUSSONG }, { 260, KEY_STOPCD },
	{ 261, KEY_PLAYPAUSE }, { 262, KEY_MUTE }, { 263, KEY_MEDIA }, { 264, KEY_WWW },
	{ 265, KEY_MAIL }, { 266, KEY_CALC }, { 267, KEY_COMPUTER }, { 268, KEY_SEARCH },
	{ 269, KEY_HOMEPAGE }, { 270, KEY_BACK }, { 271, KEY_FORWARD }, { 272, KEY_STOP },
	{ 273, KEY_REFRESH }, { 274, KEY_BOOKMARKS }, { 282, KEY_SLEEP },
};

unsigned int keymap_from_usb_hid(uint32_t usage)
{
	if (usage < ARRAY_LEN(hid_usages))
		return hid_usages[usage];
	for (size_t i = 0; i < ARRAY_LEN(sdl_media); i++)
		if (sdl_media[i].code == usage)
			return sdl_media[i].key;
	return 0;
}

static const struct {
	const char *name;
	unsigned short key;
} names[] = {
	{ "esc", KEY_ESC }, { "escape", KEY_ESC }, { "minus", KEY_MINUS }, { "equal", KEY_EQUAL },
	{ "backspace", KEY_BACKSPACE }, { "tab", KEY_TAB }, { "leftbrace", KEY_LEFTBRACE },
	{ "rightbrace", KEY_RIGHTBRACE }, { "enter", KEY_ENTER }, { "return", KEY_ENTER },
	{ "ctrl", KEY_LEFTCTRL }, { "leftctrl", KEY_LEFTCTRL }, { "rightctrl", KEY_RIGHTCTRL },
	{ "semicolon", KEY_SEMICOLON }, { "apostrophe", KEY_APOSTROPHE }, { "grave", KEY_GRAVE },
	{ "shift", KEY_LEFTSHIFT }, { "leftshift", KEY_LEFTSHIFT }, { "rightshift", KEY_RIGHTSHIFT },
	{ "backslash", KEY_BACKSLASH }, { "comma", KEY_COMMA }, { "dot", KEY_DOT },
	{ "slash", KEY_SLASH }, { "alt", KEY_LEFTALT }, { "leftalt", KEY_LEFTALT },
	{ "rightalt", KEY_RIGHTALT }, { "altgr", KEY_RIGHTALT }, { "space", KEY_SPACE },
	{ "capslock", KEY_CAPSLOCK }, { "numlock", KEY_NUMLOCK }, { "scrolllock", KEY_SCROLLLOCK },
	{ "f1", KEY_F1 }, { "f2", KEY_F2 }, { "f3", KEY_F3 }, { "f4", KEY_F4 }, { "f5", KEY_F5 },
	{ "f6", KEY_F6 }, { "f7", KEY_F7 }, { "f8", KEY_F8 }, { "f9", KEY_F9 }, { "f10", KEY_F10 },
	{ "f11", KEY_F11 }, { "f12", KEY_F12 }, { "kp_0", KEY_KP0 }, { "kp_1", KEY_KP1 },
	{ "kp_2", KEY_KP2 }, { "kp_3", KEY_KP3 }, { "kp_4", KEY_KP4 }, { "kp_5", KEY_KP5 },
	{ "kp_6", KEY_KP6 }, { "kp_7", KEY_KP7 }, { "kp_8", KEY_KP8 }, { "kp_9", KEY_KP9 },
	{ "kp_dot", KEY_KPDOT }, { "kp_plus", KEY_KPPLUS }, { "kp_minus", KEY_KPMINUS },
	{ "kp_asterisk", KEY_KPASTERISK }, { "kp_slash", KEY_KPSLASH }, { "kp_enter", KEY_KPENTER },
	{ "kp_equal", KEY_KPEQUAL }, { "102nd", KEY_102ND }, { "less", KEY_102ND },
	{ "sysrq", KEY_SYSRQ }, { "print", KEY_SYSRQ }, { "home", KEY_HOME }, { "up", KEY_UP },
	{ "pageup", KEY_PAGEUP }, { "left", KEY_LEFT }, { "right", KEY_RIGHT }, { "end", KEY_END },
	{ "down", KEY_DOWN }, { "pagedown", KEY_PAGEDOWN }, { "insert", KEY_INSERT },
	{ "delete", KEY_DELETE }, { "del", KEY_DELETE }, { "pause", KEY_PAUSE },
	{ "meta", KEY_LEFTMETA }, { "leftmeta", KEY_LEFTMETA }, { "rightmeta", KEY_RIGHTMETA },
	{ "super", KEY_LEFTMETA }, { "menu", KEY_COMPOSE }, { "compose", KEY_COMPOSE },
	{ "mute", KEY_MUTE }, { "volumedown", KEY_VOLUMEDOWN }, { "volumeup", KEY_VOLUMEUP },
	{ "power", KEY_POWER }, { "sleep", KEY_SLEEP }, { "wakeup", KEY_WAKEUP },
	{ "playpause", KEY_PLAYPAUSE }, { "stopcd", KEY_STOPCD }, { "nextsong", KEY_NEXTSONG },
	{ "previoussong", KEY_PREVIOUSSONG }, { "calc", KEY_CALC }, { "mail", KEY_MAIL },
	{ "homepage", KEY_HOMEPAGE }, { "search", KEY_SEARCH }, { "back", KEY_BACK },
	{ "forward", KEY_FORWARD }, { "stop", KEY_STOP }, { "refresh", KEY_REFRESH },
};

unsigned int keymap_from_name(const char *name)
{
	bool shift;

	if (name[0] && !name[1]) { /* one character: the key that types it */
		unsigned int k = keymap_from_char(name[0], &shift);

		return shift && !(name[0] >= 'A' && name[0] <= 'Z') ? 0 : k;
	}
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (!strcasecmp(names[i].name, name))
			return names[i].key;
	return 0;
}
