/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the API's socket tests: a real api_server on a Unix socket in
 * a temporary directory, its event loop served by a thread, a fake VMM
 * behind it, and a small blocking HTTP client (5 s timeouts, so a bug hangs
 * nothing). The fake VMM is only touched by the loop thread while a
 * request is being answered, so a test reads it once the answer arrived.
 */
#ifndef PHYLLO_TESTS_API_TEST_H
#define PHYLLO_TESTS_API_TEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/server.h"
#include "fake_vmm.h"
#include "base/loop.h"

struct test_server {
	char dir[64];
	char path[128];
	struct event_loop *loop;
	struct api_server *srv;
	struct fake_vmm vmm;
	pthread_t thread;
	atomic_bool stop;
};

/* Start a server on <tmpdir>/api.sock with ops (NULL: fake_vmm_ops). */
void test_server_start(struct test_server *t, const struct api_vmm_ops *ops);
void test_server_stop(struct test_server *t);

struct test_reply {
	int status;
	char *head;  /* the status line and header fields, NUL-terminated */
	char *body;  /* NUL-terminated */
	size_t body_len;
};

int test_connect(const char *path);
void test_send(int fd, const char *data, size_t len);
/* Read one response from fd; returns 0, or -1 on EOF before one arrived. */
int test_read_reply(int fd, struct test_reply *r);
void test_reply_free(struct test_reply *r);
/* One request on a new connection ("Connection: close"); body may be NULL. */
void test_call(struct test_server *t, const char *method, const char *endpoint,
	       const char *body, struct test_reply *r);
/* Is the peer's side closed (EOF within a second)? */
bool test_closed(int fd);

#endif
