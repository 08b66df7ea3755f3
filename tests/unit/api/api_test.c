// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The socket test helpers of api_test.h: a served api_server and a small
 * blocking HTTP client that parses just enough of a response (status,
 * Content-Length) to hand the test its status and body.
 */
#include "api_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static void *serve(void *opaque)
{
	struct test_server *t = opaque;

	while (!atomic_load(&t->stop))
		loop_run_once(t->loop, 20);
	return NULL;
}

void test_server_start(struct test_server *t, const struct api_vmm_ops *ops)
{
	struct api_config cfg = { .fd = -1 };
	char err[256];

	memset(t, 0, sizeof(*t));
	strcpy(t->dir, "/tmp/phyllo-api-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/api.sock", t->dir);
	cfg.path = t->path;
	fake_vmm_init(&t->vmm);
	t->loop = loop_new();
	assert_non_null(t->loop);
	if (api_server_open(&t->srv, t->loop, &cfg, ops ? ops : &fake_vmm_ops, &t->vmm, err,
			    sizeof(err)) < 0)
		fail_msg("api_server_open: %s", err);
	assert_int_equal(pthread_create(&t->thread, NULL, serve, t), 0);
}

void test_server_stop(struct test_server *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	api_server_close(t->srv);
	assert_int_equal(access(t->path, F_OK), -1); /* the socket file is gone */
	loop_free(t->loop);
	fake_vmm_free(&t->vmm);
	rmdir(t->dir);
}

int test_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

void test_send(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		assert_true(n > 0);
		data += n;
		len -= (size_t)n;
	}
}

/* Read exactly one byte at a time until the head ends: never past it, so
 * pipelined responses stay in the socket for the next call. */
int test_read_reply(int fd, struct test_reply *r)
{
	size_t cap = 1024, len = 0;
	char *head = malloc(cap);
	const char *cl;
	long long length = 0;

	memset(r, 0, sizeof(*r));
	assert_non_null(head);
	while (len < 4 || memcmp(head + len - 4, "\r\n\r\n", 4)) {
		ssize_t n = recv(fd, head + len, 1, 0);

		if (n <= 0) {
			free(head);
			return -1;
		}
		if (++len == cap) {
			head = realloc(head, cap *= 2);
			assert_non_null(head);
		}
	}
	head[len] = '\0';
	assert_int_equal(sscanf(head, "HTTP/1.1 %3d ", &r->status), 1);
	for (cl = head; (cl = strchr(cl, '\n')); cl++)
		if (!strncasecmp(cl + 1, "Content-Length:", 15))
			length = atoll(cl + 16);
	r->head = head;
	r->body = calloc(1, (size_t)length + 1);
	assert_non_null(r->body);
	while (r->body_len < (size_t)length) {
		ssize_t n = recv(fd, r->body + r->body_len, (size_t)length - r->body_len, 0);

		assert_true(n > 0);
		r->body_len += (size_t)n;
	}
	return 0;
}

void test_reply_free(struct test_reply *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

void test_call(struct test_server *t, const char *method, const char *endpoint,
	       const char *body, struct test_reply *r)
{
	char head[512];
	int fd = test_connect(t->path), n;

	n = snprintf(head, sizeof(head), "%s /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n"
		     "Connection: close\r\n%s%zu\r\n\r\n", method, endpoint,
		     body ? "Content-Length: " : "X-No-Body: ", body ? strlen(body) : 0);
	test_send(fd, head, (size_t)n);
	if (body)
		test_send(fd, body, strlen(body));
	assert_int_equal(test_read_reply(fd, r), 0);
	assert_true(test_closed(fd));
	close(fd);
}

bool test_closed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, 1000) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}
