// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libslirp back end for --net user=on (see slirp.h for what it is).
 *
 * libslirp wants a poll()-style host: before sleeping the application asks
 * it which sockets to watch (slirp_pollfds_fill), after waking it reports
 * what they are ready for (slirp_pollfds_poll); it also wants timers and a
 * clock. Our event loop is epoll, so we bridge the two the simplest way
 * that is correct:
 *
 *   - one periodic timerfd (every SLIRP_TICK_MS) on the event loop runs a
 *     "cycle": fill a pollfd array from slirp, poll() it without waiting,
 *     hand the results back, then fire slirp's expired timers;
 *   - every frame from the guest runs a cycle right after slirp_input(), so
 *     what the guest sends goes out to the host at once.
 *
 * Correctness first: the cost is up to SLIRP_TICK_MS of latency on data
 * arriving from host sockets and 1000 / SLIRP_TICK_MS idle wakeups a second
 * per device. Next step: register slirp's sockets with the epoll set
 * (diffing the pollfd set after each cycle) and arm the timerfd only for
 * slirp's next timer, so an idle network costs nothing.
 *
 * Timers are a short list checked each cycle; the clock is CLOCK_MONOTONIC.
 * Everything here runs on the event loop thread.
 */
#include "net/slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/config.h"
#include "vmm/loop.h"

#define SLIRP_TICK_MS 5
#define SLIRP_NETWORK "10.0.2.0"
#define SLIRP_NETMASK "255.255.255.0"
#define SLIRP_HOST "10.0.2.2"
#define SLIRP_DNS "10.0.2.3"
#define SLIRP_GUEST "10.0.2.15"

struct slirp_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
	struct slirp_timer *next;
};

struct net_slirp {
	Slirp *slirp;
	struct event_loop *loop;
	int tick_fd;
	char name[32];
	net_rx_fn rx;
	void *rx_opaque;
	struct pollfd *pfds; /* rebuilt by every cycle */
	size_t nr_pfds, cap_pfds;
	struct slirp_timer *timers;
	bool in_cycle;
	bool warned_guest_error;
};

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;

	s->rx(s->rx_opaque, 0, NULL, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	if (!s->warned_guest_error)
		pr_warn("%s: guest network error: %s", s->name, msg);
	s->warned_guest_error = true;
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return monotonic_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;

	for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	(void)opaque;
	if (t)
		t->expire_ms = expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

/* Socket buffers freed up: the next tick (at most SLIRP_TICK_MS) serves it. */
static void cb_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb slirp_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	short pevents = 0;

	if (s->nr_pfds == s->cap_pfds) {
		size_t cap = s->cap_pfds ? s->cap_pfds * 2 : 16;
		struct pollfd *p = realloc(s->pfds, cap * sizeof(*p));

		if (!p)
			return -1; /* get_revents reports nothing for it */
		s->pfds = p;
		s->cap_pfds = cap;
	}
	if (events & SLIRP_POLL_IN)
		pevents |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		pevents |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		pevents |= POLLPRI;
	s->pfds[s->nr_pfds] = (struct pollfd){ .fd = fd, .events = pevents };
	return (int)s->nr_pfds++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	short r;
	int events = 0;

	if (idx < 0 || (size_t)idx >= s->nr_pfds)
		return 0;
	r = s->pfds[idx].revents;
	if (r & POLLIN)
		events |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		events |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		events |= SLIRP_POLL_PRI;
	if (r & (POLLERR | POLLNVAL))
		events |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		events |= SLIRP_POLL_HUP;
	return events;
}

/* Fire expired timers; a callback may re-arm or free any timer, so rescan. */
static void run_timers(struct net_slirp *s)
{
	int64_t now_ms = monotonic_ns() / 1000000;
	bool fired;

	do {
		fired = false;
		for (struct slirp_timer *t = s->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);
				fired = true;
				break;
			}
		}
	} while (fired);
}

/* One poll cycle over slirp's sockets, without waiting, then its timers. */
static void slirp_cycle(struct net_slirp *s)
{
	uint32_t timeout = UINT32_MAX;
	int n = 0;

	if (s->in_cycle) /* a send_packet inside a cycle fed the guest's reply back */
		return;
	s->in_cycle = true;
	s->nr_pfds = 0;
	slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
	if (s->nr_pfds) {
		do
			n = poll(s->pfds, s->nr_pfds, 0);
		while (n < 0 && errno == EINTR);
	}
	slirp_pollfds_poll(s->slirp, n < 0, cb_get_revents, s);
	run_timers(s);
	s->in_cycle = false;
}

static void on_tick(void *opaque, uint32_t events)
{
	struct net_slirp *s = opaque;
	uint64_t expirations;

	(void)events;
	if (read(s->tick_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	slirp_cycle(s);
}

void net_slirp_input(struct net_slirp *s, const void *frame, size_t len)
{
	if (len > INT_MAX)
		return;
	slirp_input(s->slirp, frame, (int)len);
	slirp_cycle(s);
}

static int parse_port(const char *str, int *port)
{
	char *end;
	long v;

	/* Digits only: strtol alone would take " 80", "+80" and "-0". */
	if (*str < '0' || *str > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(str, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

static int parse_addr(const char *str, const char *dflt, struct in_addr *addr)
{
	return inet_pton(AF_INET, *str ? str : dflt, addr) == 1 ? 0 : -EINVAL;
}

int net_slirp_parse_hostfwd(const char *rule, int *is_udp, struct in_addr *host_addr,
			    int *host_port, struct in_addr *guest_addr, int *guest_port)
{
	char buf[128];
	char *haddr, *hport, *gaddr, *gport;

	if (strlen(rule) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, rule);
	haddr = strchr(buf, ':');
	if (!haddr)
		return -EINVAL;
	*haddr++ = '\0';
	if (!strcmp(buf, "tcp"))
		*is_udp = 0;
	else if (!strcmp(buf, "udp"))
		*is_udp = 1;
	else
		return -EINVAL;
	hport = strchr(haddr, ':');
	if (!hport)
		return -EINVAL;
	*hport++ = '\0';
	gaddr = strchr(hport, '-');
	if (!gaddr)
		return -EINVAL;
	*gaddr++ = '\0';
	gport = strchr(gaddr, ':');
	if (!gport)
		return -EINVAL;
	*gport++ = '\0';
	if (parse_addr(haddr, "0.0.0.0", host_addr) < 0 || parse_port(hport, host_port) < 0 ||
	    parse_addr(gaddr, SLIRP_GUEST, guest_addr) < 0 || parse_port(gport, guest_port) < 0)
		return -EINVAL;
	return 0;
}

static int add_hostfwds(struct net_slirp *s, const struct net_config *cfg, char *err,
			size_t errlen)
{
	for (unsigned int i = 0; i < cfg->nr_hostfwd; i++) {
		const char *rule = cfg->hostfwd[i];
		struct in_addr haddr, gaddr;
		int is_udp, hport, gport;
		char hstr[INET_ADDRSTRLEN];

		if (net_slirp_parse_hostfwd(rule, &is_udp, &haddr, &hport, &gaddr, &gport) < 0) {
			errbuf_set(err, errlen,
				   "--net: bad hostfwd '%s' (want tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)",
				   rule);
			return -EINVAL;
		}
		if (slirp_add_hostfwd(s->slirp, is_udp, haddr, hport, gaddr, gport) < 0) {
			inet_ntop(AF_INET, &haddr, hstr, sizeof(hstr));
			errbuf_set(err, errlen, "--net: hostfwd '%s': cannot listen on %s:%d", rule,
				   hstr, hport);
			return -EADDRINUSE;
		}
	}
	return 0;
}

int net_slirp_create(struct event_loop *loop, const struct net_config *cfg, const char *name,
		     net_rx_fn rx, void *rx_opaque, struct net_slirp **out, char *err,
		     size_t errlen)
{
	struct itimerspec tick = {
		.it_interval = { .tv_nsec = SLIRP_TICK_MS * 1000000 },
		.it_value = { .tv_nsec = SLIRP_TICK_MS * 1000000 },
	};
	SlirpConfig sc = {
		.version = 1,
		.restricted = cfg->restrict_,
		.in_enabled = true,
		.vhostname = "phyllome",
	};
	struct net_slirp *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->rx = rx;
	s->rx_opaque = rx_opaque;
	s->tick_fd = -1;
	snprintf(s->name, sizeof(s->name), "%s", name);
	inet_pton(AF_INET, SLIRP_NETWORK, &sc.vnetwork);
	inet_pton(AF_INET, SLIRP_NETMASK, &sc.vnetmask);
	inet_pton(AF_INET, SLIRP_HOST, &sc.vhost);
	inet_pton(AF_INET, SLIRP_GUEST, &sc.vdhcp_start);
	inet_pton(AF_INET, SLIRP_DNS, &sc.vnameserver);
	s->slirp = slirp_new(&sc, &slirp_callbacks, s);
	if (!s->slirp) {
		errbuf_set(err, errlen, "--net: cannot start user-mode networking (libslirp)");
		ret = -ENOMEM;
		goto fail;
	}
	ret = add_hostfwds(s, cfg, err, errlen);
	if (ret < 0)
		goto fail;
	s->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tick_fd < 0 || timerfd_settime(s->tick_fd, 0, &tick, NULL) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = loop_add(loop, s->tick_fd, EPOLLIN, on_tick, s);
	if (ret < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->tick_fd >= 0)
		close(s->tick_fd);
	if (s->slirp)
		slirp_cleanup(s->slirp);
	free(s->pfds);
	while (s->timers)
		cb_timer_free(s->timers, s);
	free(s);
	return ret;
}

void net_slirp_destroy(struct net_slirp *s)
{
	if (!s)
		return;
	loop_del(s->loop, s->tick_fd);
	close(s->tick_fd);
	slirp_cleanup(s->slirp);
	while (s->timers) /* slirp frees its own; anything left is ours to drop */
		cb_timer_free(s->timers, s);
	free(s->pfds);
	free(s);
}
