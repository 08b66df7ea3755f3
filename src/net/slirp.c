// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libslirp back end for --net user=on (see slirp.h for what it is).
 *
 * libslirp wants a poll()-style host: before sleeping the application asks
 * it which sockets to watch (slirp_pollfds_fill), after waking it reports
 * what they are ready for (slirp_pollfds_poll); it also wants timers and a
 * clock. Our event loop is epoll; the bridge is a "cycle": fill a pollfd
 * array from slirp, poll() it without waiting, hand the results back, fire
 * slirp's expired timers, then make the event loop wake us for exactly
 * what slirp waits for:
 *
 *   - the sockets: an epoll set of our own (sock_epfd, itself watched by
 *     the event loop) holds each socket of the last cycle with the events
 *     slirp asked for. It is brought up to date after every cycle with one
 *     epoll_ctl per socket (MOD, or ADD when the kernel dropped a closed
 *     fd whose number came back), and sockets slirp no longer lists are
 *     removed; so a reused fd number can never be missed;
 *   - the time: a one-shot timerfd armed for the earliest of slirp's own
 *     deadline (2 ms while a delayed ACK is pending, 0.5 s for its slow
 *     timers, at most 1 s: an idle network costs a wakeup a second) and
 *     our timer list.
 *
 * A frame from the guest runs a cycle right after slirp_input(), so what
 * the guest sends goes out at once; slirp's notify callback (it has more
 * to do) gets another cycle when the current one ends, or from the timer.
 * Timers are a short list checked each cycle; the clock is
 * CLOCK_MONOTONIC. Everything here runs on the event loop thread.
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

#include "base/log.h"
#include "base/config.h"
#include "base/loop.h"

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
	int tick_fd;                 /* one-shot timerfd: slirp's next deadline */
	int sock_epfd;               /* slirp's sockets (see the top) */
	int *watch;                  /* the fds sock_epfd holds */
	size_t nr_watch, cap_watch;
	char name[32];
	net_rx_fn rx;
	void *rx_opaque;
	struct pollfd *pfds; /* rebuilt by every cycle */
	size_t nr_pfds, cap_pfds;
	struct slirp_timer *timers;
	bool in_cycle;
	bool again;                  /* notify during a cycle: run one more */
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

static void arm_timer(struct net_slirp *s, uint32_t slirp_timeout_ms);

/*
 * slirp has more to do (socket buffers freed up): another cycle soon. Never
 * one from here: slirp may call this from inside slirp_input(), and a
 * cycle in the middle of its TCP input would work on half-updated state.
 */
static void cb_notify(void *opaque)
{
	struct net_slirp *s = opaque;

	if (s->in_cycle)
		s->again = true;
	else
		arm_timer(s, 0);
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

static uint32_t epoll_events_of(short pevents)
{
	return (pevents & POLLIN ? EPOLLIN : 0) | (pevents & POLLOUT ? EPOLLOUT : 0) |
	       (pevents & POLLPRI ? EPOLLPRI : 0);
}

/*
 * Make sock_epfd hold exactly the sockets of pfds, with their events.
 * Every socket gets its epoll_ctl even if nothing changed on our side: the
 * kernel drops a closed fd by itself, and slirp may have reopened the number.
 */
static void watch_sockets(struct net_slirp *s)
{
	size_t kept = 0;

	if (s->cap_watch < s->nr_pfds) {
		int *w = realloc(s->watch, s->nr_pfds * sizeof(*w));

		if (!w)
			return; /* the timer still runs cycles */
		s->watch = w;
		s->cap_watch = s->nr_pfds;
	}
	/* Gone from slirp's list: out of the set (an error means already out). */
	for (size_t i = 0; i < s->nr_watch; i++) {
		bool listed = false;

		for (size_t j = 0; j < s->nr_pfds && !listed; j++)
			listed = s->pfds[j].fd == s->watch[i];
		if (!listed)
			epoll_ctl(s->sock_epfd, EPOLL_CTL_DEL, s->watch[i], NULL);
	}
	for (size_t j = 0; j < s->nr_pfds; j++) {
		struct epoll_event ev = { .events = epoll_events_of(s->pfds[j].events),
					  .data.fd = s->pfds[j].fd };

		if (epoll_ctl(s->sock_epfd, EPOLL_CTL_MOD, ev.data.fd, &ev) < 0 &&
		    (errno != ENOENT || epoll_ctl(s->sock_epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0))
			continue;
		s->watch[kept++] = ev.data.fd;
	}
	s->nr_watch = kept;
}

/* Arm the one-shot timerfd for slirp's deadline or our earliest timer. */
static void arm_timer(struct net_slirp *s, uint32_t slirp_timeout_ms)
{
	int64_t now_ms = monotonic_ns() / 1000000, wait_ms = -1;
	struct itimerspec its = { 0 };

	if (slirp_timeout_ms != UINT32_MAX)
		wait_ms = slirp_timeout_ms;
	for (struct slirp_timer *t = s->timers; t; t = t->next) {
		if (t->expire_ms < 0)
			continue;
		if (wait_ms < 0 || t->expire_ms - now_ms < wait_ms)
			wait_ms = t->expire_ms > now_ms ? t->expire_ms - now_ms : 0;
	}
	if (wait_ms >= 0) {
		/* 0 would disarm: a deadline already due fires in a microsecond. */
		its.it_value.tv_sec = wait_ms / 1000;
		its.it_value.tv_nsec = wait_ms ? (wait_ms % 1000) * 1000000 : 1000;
	}
	timerfd_settime(s->tick_fd, 0, &its, NULL);
}

/* One poll cycle over slirp's sockets, without waiting, then its timers. */
static void slirp_cycle(struct net_slirp *s)
{
	unsigned int rounds = 0;
	uint32_t timeout;
	int n;

	if (s->in_cycle) { /* a send_packet inside a cycle fed the guest's reply back */
		s->again = true;
		return;
	}
	s->in_cycle = true;
	do {
		s->again = false;
		timeout = UINT32_MAX;
		n = 0;
		s->nr_pfds = 0;
		slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
		if (s->nr_pfds) {
			do
				n = poll(s->pfds, s->nr_pfds, 0);
			while (n < 0 && errno == EINTR);
		}
		slirp_pollfds_poll(s->slirp, n < 0, cb_get_revents, s);
		run_timers(s);
	} while (s->again && ++rounds < 8);
	/* What to wake us for: the sockets as slirp now wants them, and time. */
	s->nr_pfds = 0;
	timeout = UINT32_MAX;
	slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
	watch_sockets(s);
	arm_timer(s, s->again ? 0 : timeout); /* still more to do: soon */
	s->in_cycle = false;
}

static void on_sockets(void *opaque, uint32_t events)
{
	struct net_slirp *s = opaque;

	(void)events;
	slirp_cycle(s);
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
	s->tick_fd = s->sock_epfd = -1;
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
	s->sock_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->tick_fd < 0 || s->sock_epfd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--net: user-mode networking: %s", strerror(errno));
		goto fail;
	}
	ret = loop_add(loop, s->tick_fd, EPOLLIN, on_tick, s);
	if (ret < 0)
		goto fail;
	ret = loop_add(loop, s->sock_epfd, EPOLLIN, on_sockets, s);
	if (ret < 0) {
		loop_del(loop, s->tick_fd);
		goto fail;
	}
	slirp_cycle(s); /* hostfwd listeners into the set */
	*out = s;
	return 0;
fail:
	if (s->tick_fd >= 0)
		close(s->tick_fd);
	if (s->sock_epfd >= 0)
		close(s->sock_epfd);
	if (s->slirp)
		slirp_cleanup(s->slirp);
	free(s->pfds);
	free(s->watch);
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
	loop_del(s->loop, s->sock_epfd);
	close(s->tick_fd);
	close(s->sock_epfd);
	slirp_cleanup(s->slirp);
	while (s->timers) /* slirp frees its own; anything left is ours to drop */
		cb_timer_free(s->timers, s);
	free(s->pfds);
	free(s->watch);
	free(s);
}
