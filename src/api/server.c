// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The REST API's Unix-socket server, on the VMM's epoll loop.
 *
 * Nothing here blocks: the listener and every connection are non-blocking,
 * and each connection keeps its own input buffer, parser and output buffer.
 * A connection serves one request at a time: while an answer is still
 * being written it waits for EPOLLOUT and reads nothing more, so a client
 * that pipelines without reading only fills its own socket buffers, never
 * our memory. Input is bounded by the parser's limits (head 16 KiB, body
 * 1 MiB); a malformed request is answered with its status and the
 * connection closed. At most API_MAX_CONNECTIONS are open (a new client
 * pushes out the one idle the longest), and a timerfd, ticking only while
 * connections are open, closes those idle for API_IDLE_TIMEOUT_MS.
 *
 * The socket file is created mode 0600 whatever the umask, and every
 * connection's peer must be our own uid or root (SO_PEERCRED), so neither
 * a widened mode nor a leaked descriptor lets another user in.
 *
 * vmm.shutdown is the one request whose effect must wait: ops->shutdown_vmm
 * is called only once its 204 has been written (or the client has gone),
 * so the client sees the answer before the process ends.
 */
#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/endpoints.h"
#include "api/http.h"
#include "base/sock.h"
#include "base/log.h"
#include "base/loop.h"

#define API_INPUT_MAX (HTTP_MAX_HEAD_BYTES + HTTP_MAX_BODY_BYTES)
#define API_READ_CHUNK (16 * 1024)

struct api_conn {
	struct api_server *srv;
	int fd;
	char *in;                  /* received bytes; in[in_off..in_len) not yet answered */
	size_t in_off, in_len, in_cap;
	struct http_parser parser;
	struct http_buf out;       /* answers not yet written */
	size_t out_off;
	uint32_t events;           /* what epoll watches now */
	uint64_t last_active_ms;
	bool sent_continue;        /* "100 Continue" written for this request */
	bool close_after_flush;
	bool peer_done;            /* the client shut its side down */
	bool shutdown_vmm_after;   /* vmm.shutdown answered: call ops->shutdown_vmm */
};

struct api_server {
	struct event_loop *loop;
	const struct api_vmm_ops *ops;
	void *vmm;
	int listen_fd, timer_fd;
	char *bound_path;          /* the socket file we created, removed on close */
	unsigned int idle_timeout_ms;
	struct api_conn *conns[API_MAX_CONNECTIONS];
	unsigned int nr_conns;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int arm_timer(struct api_server *s);

/*
 * Closing a Unix socket with unread bytes in its receive queue makes the
 * peer's next read fail with ECONNRESET, even when our answer (a 400 for a
 * request we stopped reading halfway) is already in its queue. So what has
 * arrived is read and dropped first, within a bound, and our side is shut
 * for writing so the client sees the end of the answer.
 */
static void conn_discard_input(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t n;

	shutdown(fd, SHUT_WR);
	while (total < 4 * sizeof(buf) && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += (size_t)n;
}

/* Close c. Returns whether ops->shutdown_vmm is now due (the caller calls
 * it last, after it no longer touches anything the VMM might free). */
static bool conn_close(struct api_conn *c)
{
	struct api_server *s = c->srv;
	bool shutdown_vmm = c->shutdown_vmm_after;

	for (unsigned int i = 0; i < s->nr_conns; i++) {
		if (s->conns[i] == c) {
			s->conns[i] = s->conns[--s->nr_conns];
			break;
		}
	}
	if (!s->nr_conns)
		arm_timer(s);
	loop_del(s->loop, c->fd);
	conn_discard_input(c->fd);
	close(c->fd);
	free(c->in);
	http_buf_free(&c->out);
	free(c);
	return shutdown_vmm;
}

static int conn_watch(struct api_conn *c, uint32_t events)
{
	if (events == c->events)
		return 0;
	c->events = events;
	return loop_mod(c->srv->loop, c->fd, events);
}

/* Write what we can. Returns -1 when the connection is broken. */
static int conn_flush(struct api_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
		c->last_active_ms = now_ms();
	}
	c->out.len = c->out_off = 0;
	return 0;
}

static void conn_queue(struct api_conn *c, struct http_response *resp)
{
	if (http_write_response(&c->out, resp) < 0) {
		/* Out of memory: nothing sensible can be written, just hang up. */
		c->close_after_flush = true;
	}
	http_response_clear(resp);
}

static void conn_answer_error(struct api_conn *c, int status, const char *msg)
{
	struct http_response resp = { 0 };

	api_error_response(&resp, status, "%s", msg);
	resp.close = true;
	c->close_after_flush = true;
	conn_queue(c, &resp);
}

/* Answer the requests in c->in, one at a time, while the answers leave. */
static int conn_process(struct api_conn *c)
{
	struct api_server *s = c->srv;

	while (!c->close_after_flush && c->out.len == 0) {
		struct http_response resp = { 0 };
		size_t consumed = 0;
		bool shutdown_vmm = false;

		switch (http_parse(&c->parser, c->in + c->in_off, c->in_len - c->in_off,
				   &consumed)) {
		case HTTP_PARSE_MORE:
			if (NEVER(c->in_len - c->in_off >= API_INPUT_MAX)) { /* limits fit */
				conn_answer_error(c, 413, "request too large");
				break;
			}
			if (c->peer_done) {
				c->close_after_flush = true; /* a request will never end */
				break;
			}
			if (http_head_done(&c->parser) && c->parser.req.expect_continue &&
			    !c->sent_continue) {
				resp.status = 100;
				c->sent_continue = true;
				conn_queue(c, &resp);
				if (conn_flush(c) < 0)
					return -1;
			}
			return 0;
		case HTTP_PARSE_ERROR:
			conn_answer_error(c, c->parser.error_status, c->parser.error_msg);
			break;
		case HTTP_PARSE_DONE:
			api_handle_request(s->ops, s->vmm, &c->parser.req, &resp, &shutdown_vmm);
			resp.head_only = c->parser.req.method == HTTP_HEAD;
			resp.close = !c->parser.req.keep_alive || shutdown_vmm;
			c->close_after_flush = resp.close;
			c->shutdown_vmm_after |= shutdown_vmm;
			conn_queue(c, &resp);
			c->in_off += consumed; /* moved to the front by the next read */
			if (c->in_off == c->in_len)
				c->in_off = c->in_len = 0;
			http_parser_reset(&c->parser);
			c->sent_continue = false;
			break;
		}
		if (conn_flush(c) < 0)
			return -1;
	}
	return 0;
}

/* Read what is there, up to the input limit. Returns -1 on a broken socket. */
static int conn_read(struct api_conn *c)
{
	if (c->in_off) { /* once per read, not per pipelined request */
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	while (!c->peer_done && c->in_len < API_INPUT_MAX) {
		ssize_t n;

		if (c->in_cap - c->in_len < API_READ_CHUNK && c->in_cap < API_INPUT_MAX) {
			size_t cap = c->in_cap ? c->in_cap * 2 : API_READ_CHUNK;
			char *in;

			if (cap > API_INPUT_MAX)
				cap = API_INPUT_MAX;
			in = realloc(c->in, cap);
			if (!in)
				return -1;
			c->in = in;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -1;
		if (n == 0)
			c->peer_done = true;
		c->in_len += (size_t)n;
		c->last_active_ms = now_ms();
	}
	return 0;
}

static void on_conn(void *opaque, uint32_t events)
{
	struct api_conn *c = opaque;
	struct api_server *s = c->srv;
	bool done = false;

	if (events & EPOLLERR)
		done = true;
	if (!done && (events & EPOLLOUT) && conn_flush(c) < 0)
		done = true;
	if (!done && (events & (EPOLLIN | EPOLLHUP)) && c->out.len == 0 && conn_read(c) < 0)
		done = true;
	if (!done && conn_process(c) < 0)
		done = true;
	if (!done && c->out.len == 0 && (c->close_after_flush || c->peer_done))
		done = true;
	if (!done && conn_watch(c, c->out.len ? EPOLLOUT : EPOLLIN) < 0)
		done = true;
	if (done && conn_close(c))
		s->ops->shutdown_vmm(s->vmm); /* last: the VMM may end everything */
}

/* Make room for one more client by dropping the one idle the longest. */
static void evict_idlest(struct api_server *s)
{
	struct api_conn *oldest = s->conns[0];

	for (unsigned int i = 1; i < s->nr_conns; i++)
		if (s->conns[i]->last_active_ms < oldest->last_active_ms)
			oldest = s->conns[i];
	pr_debug("api: %u connections, dropping the one idle the longest", s->nr_conns);
	if (conn_close(oldest))
		s->ops->shutdown_vmm(s->vmm);
}

/*
 * Only our own user and root may talk to the API, even through a socket
 * whose mode someone widened or an inherited descriptor: the kernel says
 * who the peer is (SO_PEERCRED, fixed at connect time).
 */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		pr_warn("api: cannot tell who connected (SO_PEERCRED: %s): refused",
			strerror(errno));
		return false;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	pr_warn("api: refused a connection from uid %u (pid %d): only uid %u (ours) and root may use "
		"the API", (unsigned int)cred.uid, (int)cred.pid, (unsigned int)geteuid());
	return false;
}

static void on_listen(void *opaque, uint32_t events)
{
	struct api_server *s = opaque;

	(void)events;
	for (int i = 0; i < API_MAX_CONNECTIONS; i++) { /* bounded: others get a turn */
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct api_conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				pr_warn("api: accept: %s", strerror(errno));
			return;
		}
		if (!peer_allowed(fd)) {
			close(fd);
			continue;
		}
		if (s->nr_conns == API_MAX_CONNECTIONS)
			evict_idlest(s);
		c = calloc(1, sizeof(*c));
		if (!c || loop_add(s->loop, fd, EPOLLIN, on_conn, c) < 0) {
			pr_warn("api: cannot serve a new connection: out of memory");
			free(c);
			close(fd);
			continue;
		}
		c->srv = s;
		c->fd = fd;
		c->events = EPOLLIN;
		c->last_active_ms = now_ms();
		s->conns[s->nr_conns++] = c;
		if (s->nr_conns == 1)
			arm_timer(s);
	}
}

static void on_timer(void *opaque, uint32_t events)
{
	struct api_server *s = opaque;
	uint64_t expirations, now = now_ms();
	bool shutdown_vmm = false;

	(void)events;
	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: nothing to do */
	}
	for (unsigned int i = s->nr_conns; i-- > 0;) {
		if (now - s->conns[i]->last_active_ms >= s->idle_timeout_ms) {
			pr_debug("api: closing a connection idle for %u ms", s->idle_timeout_ms);
			shutdown_vmm |= conn_close(s->conns[i]);
		}
	}
	if (shutdown_vmm)
		s->ops->shutdown_vmm(s->vmm);
}

/* Tick while there are connections to watch; no wake-ups when there are none. */
static int arm_timer(struct api_server *s)
{
	unsigned int period = s->idle_timeout_ms / 4;
	struct itimerspec its = { 0 };

	if (period > 5000)
		period = 5000;
	if (period < 10)
		period = 10;
	if (s->nr_conns) {
		its.it_interval.tv_sec = period / 1000;
		its.it_interval.tv_nsec = (long)(period % 1000) * 1000000;
		its.it_value = its.it_interval;
	}
	return timerfd_settime(s->timer_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void api_server_set_idle_timeout(struct api_server *s, unsigned int ms)
{
	s->idle_timeout_ms = ms ? ms : 1;
	arm_timer(s);
}

unsigned int api_server_connections(const struct api_server *s)
{
	return s->nr_conns;
}

/* Take over fd, which must be a listening stream socket. */
static int adopt_fd(int fd, char *err, size_t errlen)
{
	int listening = 0, type = 0;
	socklen_t len = sizeof(listening), tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || !listening ||
	    type != SOCK_STREAM) {
		errbuf_set(err, errlen, "API socket fd %d is not a listening stream socket", fd);
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		errbuf_set(err, errlen, "API socket fd %d: %s", fd, strerror(errno));
		return -errno;
	}
	return fd;
}

int api_server_open(struct api_server **out, struct event_loop *loop,
		    const struct api_config *cfg, const struct api_vmm_ops *ops, void *vmm,
		    char *err, size_t errlen)
{
	struct api_server *s;
	int ret;

	if (!ops || !ops->state || !ops->config) {
		errbuf_set(err, errlen, "API: the VMM operations state and config are required");
		return -EINVAL;
	}
	if ((cfg->path != NULL) == (cfg->fd >= 0)) {
		errbuf_set(err, errlen, "API socket: give a path or an fd (exactly one)");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->loop = loop;
	s->ops = ops;
	s->vmm = vmm;
	s->idle_timeout_ms = API_IDLE_TIMEOUT_MS;
	s->timer_fd = -1;
	s->listen_fd = cfg->path ? sock_listen_unix(cfg->path, "API socket", err, errlen) :
		       adopt_fd(cfg->fd, err, errlen);
	if (s->listen_fd < 0) {
		ret = s->listen_fd;
		free(s);
		return ret;
	}
	if (cfg->path && !(s->bound_path = strdup(cfg->path))) {
		ret = -ENOMEM;
		goto fail_listen;
	}
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ret = s->timer_fd < 0 ? -errno : arm_timer(s);
	if (ret < 0)
		goto fail_listen;
	ret = loop_add(loop, s->listen_fd, EPOLLIN, on_listen, s);
	if (ret < 0)
		goto fail_listen;
	ret = loop_add(loop, s->timer_fd, EPOLLIN, on_timer, s);
	if (ret < 0)
		goto fail_watch;
	*out = s;
	return 0;

fail_watch:
	loop_del(loop, s->listen_fd);
fail_listen:
	errbuf_set(err, errlen, "API socket: %s", strerror(-ret));
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (cfg->path)
		unlink(cfg->path);
	free(s->bound_path);
	close(s->listen_fd);
	free(s);
	return ret;
}

void api_server_close(struct api_server *s)
{
	if (!s)
		return;
	while (s->nr_conns)
		conn_close(s->conns[0]); /* shutting down anyway: no shutdown_vmm */
	loop_del(s->loop, s->timer_fd);
	loop_del(s->loop, s->listen_fd);
	close(s->timer_fd);
	close(s->listen_fd);
	if (s->bound_path)
		unlink(s->bound_path);
	free(s->bound_path);
	free(s);
}
