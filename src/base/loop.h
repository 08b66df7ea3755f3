/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event loop: one epoll set, served by the main thread, for everything
 * that is not a vCPU: console input, signals, the VM's exit requests and,
 * later, the API socket and device back ends.
 */
#ifndef PHYLLO_BASE_LOOP_H
#define PHYLLO_BASE_LOOP_H

#include <stdint.h>

typedef void (*loop_fn)(void *opaque, uint32_t events);

struct event_loop;

struct event_loop *loop_new(void);
void loop_free(struct event_loop *loop);
/* Watch fd for events (EPOLLIN...). Any thread may call these. */
int loop_add(struct event_loop *loop, int fd, uint32_t events, loop_fn fn, void *opaque);
int loop_mod(struct event_loop *loop, int fd, uint32_t events);
void loop_del(struct event_loop *loop, int fd);
/* Wait up to timeout_ms (-1: forever) and run the callbacks that are ready. */
int loop_run_once(struct event_loop *loop, int timeout_ms);

#endif
