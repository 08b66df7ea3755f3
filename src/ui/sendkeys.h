/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Typing for programs (the API's vm.send-keys): text, and key
 * combinations by name ("ctrl-alt-delete", "enter", "shift-f10"), turned
 * into key events for the input hub and played at a person's pace, one
 * event every SENDKEYS_INTERVAL_MS on the event loop, so the guest's
 * keyboard queue (the PS/2 one holds 64 bytes) never overflows. A new
 * request queues behind what is still playing.
 */
#ifndef PHYLLO_UI_SENDKEYS_H
#define PHYLLO_UI_SENDKEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/loop.h"
#include "dev/input.h"

#define SENDKEYS_INTERVAL_MS 10
#define SENDKEYS_MAX_EVENTS 8192 /* waiting at once */
#define SENDKEYS_MAX_COMBO 8     /* keys held together */

struct sendkeys;

int sendkeys_new(struct sendkeys **out, struct event_loop *loop, struct input *in);
void sendkeys_free(struct sendkeys *s);
/*
 * Queue combos[0..n) (each "KEY" or "MOD-...-KEY", names of
 * keymap_from_name) and then text (NULL: none), as a US keyboard types
 * it. Nothing is queued if any of it is wrong: -EINVAL with why naming
 * the culprit; -E2BIG past SENDKEYS_MAX_EVENTS waiting.
 */
int sendkeys_queue(struct sendkeys *s, const char *const *combos, size_t n, const char *text,
		   char *why, size_t whylen);
/* Keep of text only what a US keyboard types, "\r\n" as one Enter:
 * a clipboard's text made typable. Returns a malloc'd string or NULL. */
char *sendkeys_typable(const char *text, size_t len);
/* Events still waiting to be played. */
size_t sendkeys_pending(struct sendkeys *s);

#endif
