/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one table between what people type and the key codes of
 * dev/input.h, for every front end: X11 keysyms (what VNC clients send),
 * USB HID usages (SDL's scancodes: where the key is, whatever the
 * layout) and characters of text (vm.send-keys), as a US PC keyboard
 * produces them. The keysyms of a 105-key keyboard (letters, digits,
 * punctuation, function keys, the editing block, the numeric pad,
 * modifiers, the 102nd key) and the usual media keys (XF86Audio*, ...)
 * are covered. A keysym the US layout produces only with Shift maps to
 * the unshifted key: the client sent Shift itself.
 */
#ifndef PHYLLO_UI_KEYMAP_H
#define PHYLLO_UI_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

/* The key for an X11 keysym; 0 when no key of ours makes it. */
unsigned int keymap_from_keysym(uint32_t keysym);
/* The key (and whether Shift goes with it) for a character of text, as a
 * US keyboard types it: printable ASCII, '\n' (Enter), '\t', '\b'. 0: none. */
unsigned int keymap_from_char(char c, bool *shift);
/* The key at a USB HID keyboard usage (page 7: 0x04 is 'a', 0xe0 left
 * Ctrl), which SDL's scancodes are, and SDL's media keys past 0xff
 * (258 next track ... 282 sleep). 0: none. */
unsigned int keymap_from_usb_hid(uint32_t usage);
/* A key by its name: "a", "enter", "ctrl", "f1", "kp_7", "volumeup", ...
 * (the lower-case Linux KEY_ name without KEY_, and a few aliases). */
unsigned int keymap_from_name(const char *name);

#endif
