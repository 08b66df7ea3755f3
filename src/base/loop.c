// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * epoll event loop. Each watched fd has a small heap-allocated handler
 * found through epoll's data pointer. Handlers removed while a batch of
 * events is being dispatched are parked on a list and freed after the
 * batch, so a callback may delete itself or another watch safely.
 */
#include "base/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/log.h"

struct loop_handler {
	int fd;
	bool dead;
	loop_fn fn;
	void *opaque;
	struct loop_handler *next; /* all handlers, for lookup and freeing */
};

struct event_loop {
	int epfd;
	pthread_mutex_t lock;
	struct loop_handler *handlers;
};

struct event_loop *loop_new(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	pthread_mutex_init(&loop->lock, NULL);
	return loop;
}

static void reap(struct event_loop *loop, bool all)
{
	struct loop_handler **pp = &loop->handlers;

	while (*pp) {
		struct loop_handler *h = *pp;

		if (all || h->dead) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
}

void loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	reap(loop, true);
	close(loop->epfd);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

int loop_add(struct event_loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque)
{
	struct loop_handler *h = calloc(1, sizeof(*h));
	struct epoll_event ev = { .events = events };

	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->fn = fn;
	h->opaque = opaque;
	ev.data.ptr = h;
	pthread_mutex_lock(&loop->lock);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;

		pthread_mutex_unlock(&loop->lock);
		free(h);
		return ret;
	}
	h->next = loop->handlers;
	loop->handlers = h;
	pthread_mutex_unlock(&loop->lock);
	return 0;
}

static struct loop_handler *find(struct event_loop *loop, int fd)
{
	for (struct loop_handler *h = loop->handlers; h; h = h->next)
		if (h->fd == fd && !h->dead)
			return h;
	return NULL;
}

int loop_mod(struct event_loop *loop, int fd, uint32_t events)
{
	struct loop_handler *h;
	struct epoll_event ev = { .events = events };
	int ret = -ENOENT;

	pthread_mutex_lock(&loop->lock);
	h = find(loop, fd);
	if (h) {
		ev.data.ptr = h;
		ret = epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

void loop_del(struct event_loop *loop, int fd)
{
	struct loop_handler *h;

	pthread_mutex_lock(&loop->lock);
	h = find(loop, fd);
	if (h) {
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		h->dead = true; /* freed after the current batch */
	}
	pthread_mutex_unlock(&loop->lock);
}

int loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(loop->epfd, evs, ARRAY_SIZE(evs), timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct loop_handler *h = evs[i].data.ptr;

		if (!h->dead)
			h->fn(h->opaque, evs[i].events);
	}
	pthread_mutex_lock(&loop->lock);
	reap(loop, false);
	pthread_mutex_unlock(&loop->lock);
	return n;
}
