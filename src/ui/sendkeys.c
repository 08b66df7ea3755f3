// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vm.send-keys' typist (sendkeys.h): requests are parsed whole first (a
 * bad key name queues nothing), then played from a ring of events by a
 * timerfd on the event loop that runs only while events wait. Any thread
 * may queue (the API on the loop, the VNC server's clipboard on its own).
 */
#include "ui/sendkeys.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <linux/input-event-codes.h>

#include "base/log.h"
#include "ui/keymap.h"

struct key_event {
	uint16_t code;
	bool down;
};

struct sendkeys {
	pthread_mutex_t lock; /* the ring: the VNC thread queues too */
	struct event_loop *loop;
	struct input *input;
	int timer_fd;
	bool armed;
	struct key_event ev[SENDKEYS_MAX_EVENTS];
	size_t head, len;
};

static void arm(struct sendkeys *s, bool on)
{
	struct itimerspec its = { 0 };

	if (on == s->armed)
		return;
	if (on) {
		its.it_value.tv_nsec = SENDKEYS_INTERVAL_MS * 1000000L;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(s->timer_fd, 0, &its, NULL) < 0)
		pr_err("sendkeys: timerfd_settime: %s", strerror(errno));
	s->armed = on;
}

static void on_tick(void *opaque, uint32_t events)
{
	struct sendkeys *s = opaque;
	uint64_t ticks;

	(void)events;
	if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	pthread_mutex_lock(&s->lock);
	if (s->len) {
		struct key_event e = s->ev[s->head];
		int ret = input_key(s->input, e.code, e.down);

		if (ret < 0 && ret != -ENODEV)
			pr_warn("sendkeys: key %u: %s", e.code, strerror(-ret));
		s->head = (s->head + 1) % SENDKEYS_MAX_EVENTS;
		s->len--;
	}
	if (!s->len)
		arm(s, false);
	pthread_mutex_unlock(&s->lock);
}

int sendkeys_new(struct sendkeys **out, struct event_loop *loop, struct input *in)
{
	struct sendkeys *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->input = in;
	pthread_mutex_init(&s->lock, NULL);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0) {
		ret = -errno;
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ret;
	}
	ret = loop_add(loop, s->timer_fd, EPOLLIN, on_tick, s);
	if (ret < 0) {
		close(s->timer_fd);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void sendkeys_free(struct sendkeys *s)
{
	if (!s)
		return;
	loop_del(s->loop, s->timer_fd);
	close(s->timer_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

size_t sendkeys_pending(struct sendkeys *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->len;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Parse "ctrl-alt-delete" into codes; returns how many, or -EINVAL. */
static int parse_combo(const char *combo, unsigned int *codes, char *why, size_t whylen)
{
	char buf[128], *save = NULL, *name;
	int n = 0;

	if (!*combo || strlen(combo) >= sizeof(buf)) {
		errbuf_set(why, whylen, "'%s' is %s", combo, *combo ? "too long" : "empty");
		return -EINVAL;
	}
	memcpy(buf, combo, strlen(combo) + 1);
	for (name = strtok_r(buf, "-", &save); name; name = strtok_r(NULL, "-", &save)) {
		unsigned int code = keymap_from_name(name);

		if (!code) {
			errbuf_set(why, whylen, "unknown key '%s' in '%s'", name, combo);
			return -EINVAL;
		}
		if (n == SENDKEYS_MAX_COMBO) {
			errbuf_set(why, whylen, "'%s' holds more than %d keys", combo,
				   SENDKEYS_MAX_COMBO);
			return -EINVAL;
		}
		codes[n++] = code;
	}
	if (!n) {
		errbuf_set(why, whylen, "'%s' names no key", combo);
		return -EINVAL;
	}
	return n;
}

int sendkeys_queue(struct sendkeys *s, const char *const *combos, size_t n, const char *text,
		   char *why, size_t whylen)
{
	unsigned int codes[SENDKEYS_MAX_COMBO];
	size_t need = 0, at;

	/* First check everything and count: all of it is queued, or none. */
	for (size_t i = 0; i < n; i++) {
		int k = parse_combo(combos[i], codes, why, whylen);

		if (k < 0)
			return k;
		need += 2 * (size_t)k;
	}
	for (size_t i = 0; text && text[i]; i++) {
		bool shift;

		if (!keymap_from_char(text[i], &shift)) {
			errbuf_set(why, whylen,
				   "text: character 0x%02x at %zu has no key on a US keyboard",
				   (unsigned char)text[i], i);
			return -EINVAL;
		}
		need += shift ? 4 : 2;
	}
	pthread_mutex_lock(&s->lock);
	if (need > SENDKEYS_MAX_EVENTS - s->len) {
		errbuf_set(why, whylen, "%zu key events, and %zu still wait: at most %d at once",
			   need, s->len, SENDKEYS_MAX_EVENTS);
		pthread_mutex_unlock(&s->lock);
		return -E2BIG;
	}
	at = (s->head + s->len) % SENDKEYS_MAX_EVENTS;
#define PUSH(c, d) do { \
	s->ev[at] = (struct key_event){ .code = (uint16_t)(c), .down = (d) }; \
	at = (at + 1) % SENDKEYS_MAX_EVENTS; \
	s->len++; \
} while (0)
	for (size_t i = 0; i < n; i++) {
		int k = parse_combo(combos[i], codes, why, whylen);

		for (int j = 0; j < k; j++)
			PUSH(codes[j], true);
		for (int j = k - 1; j >= 0; j--)
			PUSH(codes[j], false);
	}
	for (size_t i = 0; text && text[i]; i++) {
		bool shift;
		unsigned int code = keymap_from_char(text[i], &shift);

		if (shift)
			PUSH(KEY_LEFTSHIFT, true);
		PUSH(code, true);
		PUSH(code, false);
		if (shift)
			PUSH(KEY_LEFTSHIFT, false);
	}
#undef PUSH
	if (s->len)
		arm(s, true);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

char *sendkeys_typable(const char *text, size_t len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		bool shift;

		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		if (text[i] == '\r')
			out[n++] = '\n';
		else if (keymap_from_char(text[i], &shift))
			out[n++] = text[i];
	}
	out[n] = 0;
	return out;
}
