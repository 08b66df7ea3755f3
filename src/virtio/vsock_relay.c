// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host side of virtio-vsock: Cloud Hypervisor's (and Firecracker's)
 * "hybrid vsock" over the host kernel's AF_VSOCK. With vhost-vsock the
 * guest's peer is the host kernel (CID 2), not this process, so host
 * programs reach the guest through a Unix socket we relay, on the event
 * loop:
 *
 *   host -> guest: we listen on the Unix socket PATH. A client connects
 *     and writes "CONNECT <port>\n"; we connect an AF_VSOCK socket to
 *     (guest CID, port) without blocking; once connected we answer
 *     "OK <our vsock port>\n" and copy bytes both ways. If the guest
 *     refuses (nobody listens) the client's connection is closed.
 *   guest -> host: a guest connecting to CID 2 port P reaches whatever
 *     listens on AF_VSOCK port P on the host. For every Unix socket named
 *     "PATH_<P>" in PATH's directory (found at start and, through inotify,
 *     when created later) we listen on AF_VSOCK (VMADDR_CID_ANY, P); a
 *     connection from our guest's CID is forwarded to a new connection to
 *     PATH_<P>. Connections from other CIDs are closed: that port is ours.
 *     A port another process already listens on cannot be forwarded (a
 *     warning says so).
 *
 * Each relayed connection has two bounded buffers, one per direction;
 * both sockets are non-blocking and watched only for what can progress
 * (read while there is room, write while there is data). EOF on one side
 * becomes shutdown(SHUT_WR) on the other once its buffer is drained; the
 * connection is closed when both directions are done or on any error.
 * Everything here runs on the event loop thread.
 */
#include "virtio/vsock_relay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "base/log.h"
#include "base/loop.h"

#define VSOCK_BUF_SIZE (16u << 10)  /* per direction and connection */
#define VSOCK_MAX_CONNS 64
#define VSOCK_MAX_PORTS 64          /* PATH_<port> listeners */
#define VSOCK_CMD_MAX 32            /* "CONNECT 4294967294\n" is 19 bytes */

/* One direction of a relayed connection. */
struct vsock_buf {
	uint8_t data[VSOCK_BUF_SIZE];
	size_t off, len;        /* pending bytes: data[off, off + len) */
	bool eof;               /* the source has nothing more */
	bool shut;              /* the sink was shut down (or is gone) */
};

struct vsock_conn;

/* One socket of a connection, as the event loop sees it. */
struct vsock_end {
	struct vsock_conn *c;
	int fd;                 /* -1: not there (yet) */
	uint32_t events;        /* interest registered with the loop */
	bool watched;
	bool hup;               /* peer gone: read what is left, write no more */
};

enum conn_state {
	CONN_COMMAND,           /* host client: waiting for "CONNECT <port>\n" */
	CONN_CONNECTING,        /* AF_VSOCK connect in progress */
	CONN_OPEN,
};

struct vsock_conn {
	struct vsock_relay *r;
	enum conn_state state;
	uint32_t port;                 /* the guest's (host -> guest) or host's port */
	struct vsock_end unix_end, vsock_end;
	struct vsock_buf to_vsock, to_unix;
	struct vsock_conn *next;
};

/* An AF_VSOCK listener for guest connections to host port `port`. */
struct vsock_port {
	struct vsock_relay *r;
	uint32_t port;
	int fd;
	struct vsock_port *next;
};

/* The host side of one vsock device. */
struct vsock_relay {
	struct event_loop *loop;
	uint64_t cid;                  /* the guest's */
	struct sockaddr_un addr;       /* PATH */
	int listen_fd;
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char prefix[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* basename "_" */
	int inotify_fd;
	struct vsock_port *ports;
	unsigned int nr_ports;
	struct vsock_conn *conns;
	unsigned int nr_conns;
	bool warned_conns, warned_ports;
};

static void relay_on_event(void *opaque, uint32_t events);
static void on_inotify(void *opaque, uint32_t events);

/*
 * Register END for EVENTS with the loop. Interest 0 still reports hang-ups
 * and errors, which is what a quiet end waits for; but a hung-up end
 * reports them forever, so it stays in the loop only while it has
 * something left to read and room to read it into.
 */
static void end_watch(struct vsock_end *e, uint32_t events)
{
	struct event_loop *loop = e->c->r->loop;

	if (e->fd < 0)
		return;
	if (e->hup && !events) {
		if (e->watched)
			loop_del(loop, e->fd);
		e->watched = false;
		return;
	}
	if (!e->watched) {
		if (loop_add(loop, e->fd, events, relay_on_event, e) == 0) {
			e->watched = true;
			e->events = events;
		}
	} else if (events != e->events && loop_mod(loop, e->fd, events) == 0) {
		e->events = events;
	}
}

static void conn_close(struct vsock_conn *c)
{
	struct vsock_relay *r = c->r;

	for (struct vsock_end *e = &c->unix_end; e; e = e == &c->unix_end ? &c->vsock_end : NULL) {
		if (e->fd < 0)
			continue;
		if (e->watched)
			loop_del(r->loop, e->fd);
		close(e->fd);
	}
	for (struct vsock_conn **pp = &r->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	r->nr_conns--;
	free(c);
}

static struct vsock_conn *conn_new(struct vsock_relay *r, int unix_fd, int vsock_fd,
				   enum conn_state state, uint32_t port)
{
	struct vsock_conn *c;

	if (r->nr_conns >= VSOCK_MAX_CONNS) {
		if (!r->warned_conns)
			pr_warn("virtio-vsock: more than %d connections at once; refusing more",
				VSOCK_MAX_CONNS);
		r->warned_conns = true;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->r = r;
	c->state = state;
	c->port = port;
	c->unix_end = (struct vsock_end){ .c = c, .fd = unix_fd };
	c->vsock_end = (struct vsock_end){ .c = c, .fd = vsock_fd };
	c->next = r->conns;
	r->conns = c;
	r->nr_conns++;
	return c;
}

/*
 * One step of one direction: read what fits from SRC (-1: not now), then
 * write what is pending to DST (-1: not now); pass EOF on as a shutdown.
 * Returns 0, or -errno when the connection is broken.
 */
static int relay_pump(struct vsock_buf *b, int src, int dst)
{
	ssize_t n;

	if (src >= 0 && !b->eof) {
		if (b->off && b->off + b->len == sizeof(b->data)) {
			memmove(b->data, b->data + b->off, b->len);
			b->off = 0;
		}
		if (b->off + b->len < sizeof(b->data)) {
			n = recv(src, b->data + b->off + b->len, sizeof(b->data) - b->off - b->len,
				 MSG_DONTWAIT);
			if (n > 0)
				b->len += (size_t)n;
			else if (n == 0)
				b->eof = true;
			else if (errno != EAGAIN && errno != EINTR)
				return -errno;
		}
	}
	if (dst >= 0 && b->len && !b->shut) {
		n = send(dst, b->data + b->off, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			b->off += (size_t)n;
			b->len -= (size_t)n;
			if (!b->len)
				b->off = 0;
		} else if (errno != EAGAIN && errno != EINTR) {
			return -errno;
		}
	}
	if (dst >= 0 && b->eof && !b->len && !b->shut) {
		shutdown(dst, SHUT_WR);
		b->shut = true;
	}
	return 0;
}

/* The peer of END hung up: what goes towards it can be dropped. */
static void end_gone(struct vsock_end *e, struct vsock_buf *towards)
{
	e->hup = true;
	towards->len = 0;
	towards->eof = true;
	towards->shut = true;
}

/* The AF_VSOCK connect finished: answer the host client "OK <port>". */
static int conn_connected(struct vsock_conn *c)
{
	struct sockaddr_vm self = { 0 };
	socklen_t len = sizeof(self);
	struct vsock_buf *b = &c->to_unix;
	int n;

	if (getsockname(c->vsock_end.fd, (struct sockaddr *)&self, &len) < 0)
		return -errno;
	c->state = CONN_OPEN;
	if (b->shut)
		return 0; /* the client left meanwhile */
	n = snprintf((char *)b->data, sizeof(b->data), "OK %u\n", self.svm_port);
	b->off = 0;
	b->len = (size_t)n;
	pr_debug("virtio-vsock: host connection to guest port %u open", c->port);
	return 0;
}

/* Parse "CONNECT <port>\n" from what the host client sent, then connect. */
static int conn_command(struct vsock_conn *c)
{
	struct vsock_buf *b = &c->to_vsock;
	size_t scan = b->len < VSOCK_CMD_MAX ? b->len : VSOCK_CMD_MAX;
	char line[VSOCK_CMD_MAX + 1], *nl, *end;
	struct sockaddr_vm to = { .svm_family = AF_VSOCK };
	unsigned long long port;
	int fd;

	nl = memchr(b->data + b->off, '\n', scan);
	if (!nl) {
		if (b->len >= VSOCK_CMD_MAX || b->eof)
			return -EPROTO;
		return 0;
	}
	memcpy(line, b->data + b->off, (size_t)(nl - (char *)(b->data + b->off)));
	line[nl - (char *)(b->data + b->off)] = '\0';
	b->len -= (size_t)(nl + 1 - (char *)(b->data + b->off));
	b->off = b->len ? (size_t)(nl + 1 - (char *)b->data) : 0;
	if (strncmp(line, "CONNECT ", 8) || line[8] < '0' || line[8] > '9')
		return -EPROTO;
	errno = 0;
	port = strtoull(line + 8, &end, 10);
	if (errno || (*end && strcmp(end, "\r")) || port >= VMADDR_PORT_ANY)
		return -EPROTO;
	c->port = (uint32_t)port;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	c->vsock_end.fd = fd;
	to.svm_cid = (unsigned int)c->r->cid;
	to.svm_port = c->port;
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0)
		return conn_connected(c);
	if (errno != EINPROGRESS)
		return -errno;
	c->state = CONN_CONNECTING;
	return 0;
}

/* Everything that can progress on connection C, after an event on E. */
static int relay_service(struct vsock_conn *c, struct vsock_end *e, uint32_t events)
{
	struct vsock_end *u = &c->unix_end, *s = &c->vsock_end;
	int ret;

	if (c->state == CONN_CONNECTING && e == s) {
		int soerr = 0;
		socklen_t len = sizeof(soerr);

		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr || (events & (EPOLLERR | EPOLLHUP))) {
			pr_debug("virtio-vsock: guest port %u refused the host's connection: %s",
				 c->port, strerror(soerr ? soerr : ECONNREFUSED));
			return -(soerr ? soerr : ECONNREFUSED);
		}
		if (events & EPOLLOUT) {
			ret = conn_connected(c);
			if (ret < 0)
				return ret;
		}
	}
	/*
	 * A hung-up end is still read to its end (a client may send its
	 * CONNECT line and data and close at once), but written no more.
	 */
	if (events & (EPOLLHUP | EPOLLERR))
		end_gone(e, e == u ? &c->to_unix : &c->to_vsock);
	ret = relay_pump(&c->to_vsock, u->fd, c->state == CONN_OPEN ? s->fd : -1);
	if (ret == 0 && c->state == CONN_COMMAND)
		ret = conn_command(c);
	if (ret == 0 && c->state == CONN_OPEN)
		ret = relay_pump(&c->to_unix, s->fd, u->hup ? -1 : u->fd);
	if (ret == 0 && c->state == CONN_OPEN)
		ret = relay_pump(&c->to_vsock, -1, s->hup ? -1 : s->fd); /* after OK / connect */
	if (ret < 0)
		return ret;
	return c->to_vsock.shut && c->to_unix.shut; /* 1: both directions done */
}

static uint32_t end_interest(const struct vsock_conn *c, const struct vsock_end *e)
{
	const struct vsock_buf *in = e == &c->unix_end ? &c->to_vsock : &c->to_unix;
	const struct vsock_buf *out = e == &c->unix_end ? &c->to_unix : &c->to_vsock;
	uint32_t ev = 0;

	if (e == &c->vsock_end && c->state == CONN_CONNECTING)
		return EPOLLOUT;
	if (!in->eof && in->len < sizeof(in->data))
		ev |= EPOLLIN;
	if (out->len && !out->shut)
		ev |= EPOLLOUT;
	return ev;
}

static void relay_on_event(void *opaque, uint32_t events)
{
	struct vsock_end *e = opaque;
	struct vsock_conn *c = e->c;
	int ret = relay_service(c, e, events);

	if (ret != 0) {
		if (ret < 0 && ret != -ECONNRESET && ret != -EPIPE && ret != -EPROTO)
			pr_debug("virtio-vsock: connection on port %u: %s", c->port, strerror(-ret));
		if (ret == -EPROTO)
			pr_debug("virtio-vsock: a host client did not send \"CONNECT <port>\\n\"");
		conn_close(c);
		return;
	}
	end_watch(&c->unix_end, end_interest(c, &c->unix_end));
	end_watch(&c->vsock_end, end_interest(c, &c->vsock_end));
}

/* A host program connected to PATH. */
static void relay_on_accept(void *opaque, uint32_t events)
{
	struct vsock_relay *r = opaque;
	struct vsock_conn *c;
	int fd;

	(void)events;
	fd = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = conn_new(r, fd, -1, CONN_COMMAND, 0);
	if (!c) {
		close(fd);
		return;
	}
	end_watch(&c->unix_end, EPOLLIN);
	if (!c->unix_end.watched)
		conn_close(c);
}

/* The guest connected to host port p->port. */
static void port_on_accept(void *opaque, uint32_t events)
{
	struct vsock_port *p = opaque;
	struct vsock_relay *r = p->r;
	struct sockaddr_vm peer = { 0 };
	struct sockaddr_un to = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(peer);
	struct vsock_conn *c;
	int vfd, ufd;

	(void)events;
	vfd = accept4(p->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (vfd < 0)
		return;
	if (peer.svm_cid != r->cid) {
		pr_debug("virtio-vsock: port %u: connection from CID %u, not our guest: closed",
			 p->port, peer.svm_cid);
		close(vfd);
		return;
	}
	/* Fits: vsock_relay_open() left room for "_<port>". */
	if (snprintf(to.sun_path, sizeof(to.sun_path), "%s_%u", r->addr.sun_path, p->port) >=
	    (int)sizeof(to.sun_path)) {
		close(vfd);
		return;
	}
	ufd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ufd < 0 || connect(ufd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		pr_debug("virtio-vsock: guest connection to port %u: cannot reach %s: %s",
			 p->port, to.sun_path, strerror(errno));
		if (ufd >= 0)
			close(ufd);
		close(vfd);
		return;
	}
	c = conn_new(r, ufd, vfd, CONN_OPEN, p->port);
	if (!c) {
		close(ufd);
		close(vfd);
		return;
	}
	end_watch(&c->unix_end, EPOLLIN);
	end_watch(&c->vsock_end, EPOLLIN);
	if (!c->unix_end.watched || !c->vsock_end.watched)
		conn_close(c);
}

/* --- PATH_<port> listeners ------------------------------------------------------ */

/* "PATH_<port>" in PATH's directory: the port, or -1 for other names. */
static long long port_of_name(const struct vsock_relay *r, const char *name)
{
	size_t plen = strlen(r->prefix);
	const char *digits = name + plen;
	char *end;
	unsigned long long port;

	if (strncmp(name, r->prefix, plen) || *digits < '0' || *digits > '9' ||
	    (digits[0] == '0' && digits[1]) || strlen(digits) > 10)
		return -1;
	port = strtoull(digits, &end, 10);
	if (*end || port >= VMADDR_PORT_ANY)
		return -1;
	return (long long)port;
}

static void port_remove(struct vsock_relay *r, uint32_t port)
{
	for (struct vsock_port **pp = &r->ports; *pp; pp = &(*pp)->next) {
		struct vsock_port *p = *pp;

		if (p->port != port)
			continue;
		loop_del(r->loop, p->fd);
		close(p->fd);
		*pp = p->next;
		r->nr_ports--;
		free(p);
		pr_debug("virtio-vsock: no longer forwarding guest port %u", port);
		return;
	}
}

/* Listen on host port PORT for the guest, if NAME (in PATH's dir) is a socket. */
static void port_add(struct vsock_relay *r, const char *name, uint32_t port)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				    .svm_port = port };
	struct vsock_port *p;
	struct stat st;
	int fd;

	for (p = r->ports; p; p = p->next)
		if (p->port == port)
			return;
	if (fstatat(AT_FDCWD, name, &st, 0) < 0 || !S_ISSOCK(st.st_mode))
		return;
	if (r->nr_ports >= VSOCK_MAX_PORTS) {
		if (!r->warned_ports)
			pr_warn("virtio-vsock: more than %d %s_<port> sockets; ignoring the rest",
				VSOCK_MAX_PORTS, r->addr.sun_path);
		r->warned_ports = true;
		return;
	}
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
		pr_warn("virtio-vsock: cannot forward guest connections to host port %u "
			"(to %s): %s%s", port, name, strerror(errno),
			errno == EADDRINUSE ? " (another program or VM listens on it)" : "");
		close(fd);
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p || loop_add(r->loop, fd, EPOLLIN, port_on_accept, p) < 0) {
		free(p);
		close(fd);
		return;
	}
	p->r = r;
	p->port = port;
	p->fd = fd;
	p->next = r->ports;
	r->ports = p;
	r->nr_ports++;
	pr_debug("virtio-vsock: forwarding guest connections to host port %u to %s", port, name);
}

/* A directory entry appeared or vanished. */
static void port_changed(struct vsock_relay *r, const char *name, bool present)
{
	char path[sizeof(r->addr.sun_path) + 16];
	long long port = port_of_name(r, name);

	if (port < 0)
		return;
	if (!present) {
		port_remove(r, (uint32_t)port);
		return;
	}
	if (snprintf(path, sizeof(path), "%s/%s", r->dir, name) >= (int)sizeof(path))
		return;
	port_add(r, path, (uint32_t)port);
}

static void ports_scan(struct vsock_relay *r);

static void on_inotify(void *opaque, uint32_t events)
{
	struct vsock_relay *r = opaque;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	while ((n = read(r->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				ports_scan(r);
			else if (ev->len)
				port_changed(r, ev->name, ev->mask & (IN_CREATE | IN_MOVED_TO));
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void ports_scan(struct vsock_relay *r)
{
	DIR *d = opendir(r->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		port_changed(r, de->d_name, true);
	closedir(d);
}

/* Is a program listening on the Unix socket PATH? */
static bool unix_socket_alive(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	alive = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
		errno != ECONNREFUSED;
	close(fd);
	return alive;
}

int vsock_relay_open(struct event_loop *loop, uint64_t guest_cid, const char *path,
		     struct vsock_relay **out, char *err, size_t errlen)
{
	struct vsock_relay *r;
	char copy[sizeof(r->addr.sun_path)];
	struct stat st;
	int ret;

	*out = NULL;
	/* Room for "_4294967294" (PATH_<port>) and the NUL; options.c checks it too. */
	if (strlen(path) > sizeof(r->addr.sun_path) - 12) {
		errbuf_set(err, errlen, "--vsock: socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->cid = guest_cid;
	r->listen_fd = r->inotify_fd = -1;
	r->addr.sun_family = AF_UNIX;
	strcpy(r->addr.sun_path, path);
	strcpy(copy, path);
	snprintf(r->dir, sizeof(r->dir), "%s", dirname(copy));
	strcpy(copy, path);
	snprintf(r->prefix, sizeof(r->prefix), "%s_", basename(copy));

	/* A socket file nobody listens on is left from an earlier run: replace it. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errbuf_set(err, errlen, "--vsock: '%s' exists and is not a socket", path);
			ret = -EEXIST;
			goto fail;
		}
		if (unix_socket_alive(&r->addr)) {
			errbuf_set(err, errlen, "--vsock: '%s' is in use (another VMM listens there)",
				   path);
			ret = -EADDRINUSE;
			goto fail;
		}
		unlink(path);
	}
	r->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->listen_fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--vsock: socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(r->listen_fd, (struct sockaddr *)&r->addr, sizeof(r->addr)) < 0 ||
	    listen(r->listen_fd, 16) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--vsock: cannot listen on '%s': %s", path, strerror(errno));
		close(r->listen_fd);
		r->listen_fd = -1;
		goto fail;
	}
	ret = loop_add(r->loop, r->listen_fd, EPOLLIN, relay_on_accept, r);
	if (ret < 0) {
		errbuf_set(err, errlen, "--vsock: cannot watch '%s': %s", path, strerror(-ret));
		close(r->listen_fd);
		unlink(path);
		r->listen_fd = -1;
		goto fail;
	}

	/* Guest-initiated connections: PATH_<port> sockets, now and later. */
	r->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->inotify_fd < 0 ||
	    inotify_add_watch(r->inotify_fd, r->dir, IN_CREATE | IN_MOVED_TO | IN_DELETE |
			      IN_MOVED_FROM | IN_ONLYDIR) < 0 ||
	    loop_add(r->loop, r->inotify_fd, EPOLLIN, on_inotify, r) < 0) {
		pr_warn("virtio-vsock: cannot watch %s for new %s<port> sockets: %s; only those "
			"there now are forwarded", r->dir, r->prefix, strerror(errno));
		if (r->inotify_fd >= 0)
			close(r->inotify_fd);
		r->inotify_fd = -1;
	}
	ports_scan(r);
	*out = r;
	return 0;
fail:
	vsock_relay_close(r);
	return ret;
}

void vsock_relay_close(struct vsock_relay *r)
{
	if (!r)
		return;
	while (r->conns)
		conn_close(r->conns);
	while (r->ports)
		port_remove(r, r->ports->port);
	if (r->inotify_fd >= 0) {
		loop_del(r->loop, r->inotify_fd);
		close(r->inotify_fd);
	}
	if (r->listen_fd >= 0) {
		loop_del(r->loop, r->listen_fd);
		close(r->listen_fd);
		unlink(r->addr.sun_path);
	}
	r->inotify_fd = r->listen_fd = -1;
	free(r);
}

const char *vsock_relay_path(const struct vsock_relay *r)
{
	return r->addr.sun_path;
}
