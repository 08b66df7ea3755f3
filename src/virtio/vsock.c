// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-vsock (--vsock cid=N,socket=PATH) on the kernel's vhost-vsock,
 * with Cloud Hypervisor's (and Firecracker's) "hybrid vsock" host side.
 *
 * The device. A modern virtio-pci function (1af4:1053) with three queues:
 * rx (0), tx (1) and event (2), and one config field, the guest's CID. We
 * never touch the rx and tx queues: at DRIVER_OK (the transport's
 * driver_ok hook) we hand them to /dev/vhost-vsock: the negotiated
 * features, our guest RAM as its memory table, each ring's size, base and
 * host addresses, the queue's kick eventfd (which KVM's ioeventfd already
 * signals; the transport stops watching it) and the irqfd of its MSI-X
 * vector as the call eventfd, then SET_RUNNING. From then on the guest
 * and the host kernel exchange packets without us. A device reset stops
 * vhost (SET_RUNNING 0), unbinds the eventfds and gives the kicks back to
 * the transport. The event queue is only ever used for a transport reset
 * after migration, which we do not do: its buffers stay posted.
 * /dev/vhost-vsock is opened and the CID claimed (VHOST_VSOCK_SET_GUEST_CID)
 * when the VM is built, so a missing module or a CID another VM holds is
 * a clear error before boot rather than a dead device after it.
 *
 * The host side. With vhost-vsock the guest's peer is the host kernel's
 * AF_VSOCK (CID 2), not this process, so we relay, on the event loop:
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
 * Everything of the host side runs on the event loop thread; the vhost
 * part runs under the transport's lock on a vCPU thread.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vhost.h>
#include <linux/vm_sockets.h>

#include "lib/log.h"
#include "virtio/virtio_pci.h"
#include "vmm/loop.h"
#include "vmm/vm.h"

#define VSOCK_QUEUE_SIZE 256
#define VSOCK_RX 0
#define VSOCK_TX 1
#define VSOCK_EVENT 2
#define VIRTIO_VSOCK_F_SEQPACKET 1
#define PCI_CLASS_COMMUNICATION_OTHER 0x078000

#define VSOCK_BUF_SIZE (16u << 10)  /* per direction and connection */
#define VSOCK_MAX_CONNS 64
#define VSOCK_MAX_PORTS 64          /* PATH_<port> listeners */
#define VSOCK_CMD_MAX 32            /* "CONNECT 4294967294\n" is 19 bytes */

struct virtio_vsock;

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
	struct virtio_vsock *v;
	enum conn_state state;
	uint32_t port;                 /* the guest's (host -> guest) or host's port */
	struct vsock_end unix_end, vsock_end;
	struct vsock_buf to_vsock, to_unix;
	struct vsock_conn *next;
};

/* An AF_VSOCK listener for guest connections to host port `port`. */
struct vsock_port {
	struct virtio_vsock *v;
	uint32_t port;
	int fd;
	struct vsock_port *next;
};

struct virtio_vsock {
	struct vm *vm;
	struct virtio_pci *vp;
	struct virtio_dev_ops ops;
	struct event_loop *loop;
	uint64_t cid;
	uint64_t config_cid;           /* config space: le64 guest_cid */
	/* vhost */
	int vhost_fd;
	uint64_t vhost_features;
	bool running;
	bool handed[2];                /* rx/tx kick and call given to vhost */
	/* host side */
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

/* --- vhost ------------------------------------------------------------------ */

static int vhost_ioctl(struct virtio_vsock *v, unsigned long req, void *arg, const char *what)
{
	if (ioctl(v->vhost_fd, req, arg) < 0) {
		int ret = -errno;

		pr_warn("virtio-vsock: vhost %s failed: %s", what, strerror(errno));
		return ret;
	}
	return 0;
}

static int vhost_set_mem_table(struct virtio_vsock *v)
{
	const struct guest_mem *mem = &v->vm->mem;
	struct vhost_memory *table;
	unsigned int n = 0;
	int ret;

	table = calloc(1, sizeof(*table) + 2 * sizeof(table->regions[0]));
	if (!table)
		return -ENOMEM;
	if (mem->low_size)
		table->regions[n++] = (struct vhost_memory_region){
			.guest_phys_addr = 0, .memory_size = mem->low_size,
			.userspace_addr = (uintptr_t)mem->host,
		};
	if (mem->high_size)
		table->regions[n++] = (struct vhost_memory_region){
			.guest_phys_addr = MEM_4G, .memory_size = mem->high_size,
			.userspace_addr = (uintptr_t)(mem->host + mem->low_size),
		};
	table->nregions = n;
	ret = vhost_ioctl(v, VHOST_SET_MEM_TABLE, table, "SET_MEM_TABLE");
	free(table);
	return ret;
}

/* Hand queue Q (rx or tx) to vhost. */
static int vhost_set_vring(struct virtio_vsock *v, unsigned int q)
{
	struct virtq *vq = virtio_pci_vq(v->vp, (uint16_t)q);
	struct vhost_vring_state num = { .index = q, .num = vq->size };
	struct vhost_vring_state base = { .index = q, .num = 0 };
	struct vhost_vring_addr addr = {
		.index = q,
		.desc_user_addr = (uintptr_t)vq->desc,
		.avail_user_addr = (uintptr_t)vq->avail,
		.used_user_addr = (uintptr_t)vq->used,
	};
	struct vhost_vring_file kick = { .index = q }, call = { .index = q };
	int ret;

	if (!v->vp->queues[q].enabled || !vq->ready) {
		pr_warn("virtio-vsock: the driver set DRIVER_OK without enabling queue %u", q);
		return -EINVAL;
	}
	ret = vhost_ioctl(v, VHOST_SET_VRING_NUM, &num, "SET_VRING_NUM");
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_SET_VRING_BASE, &base, "SET_VRING_BASE");
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_SET_VRING_ADDR, &addr, "SET_VRING_ADDR");
	if (ret < 0)
		return ret;
	v->handed[q] = true;
	kick.fd = virtio_pci_queue_take_kick(v->vp, (uint16_t)q);
	call.fd = virtio_pci_queue_irqfd(v->vp, (uint16_t)q);
	ret = vhost_ioctl(v, VHOST_SET_VRING_KICK, &kick, "SET_VRING_KICK");
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_SET_VRING_CALL, &call, "SET_VRING_CALL");
	return ret;
}

/* Stop vhost and take the queues back; safe to call in any state. */
static void vhost_stop(struct virtio_vsock *v)
{
	int zero = 0;

	if (v->running)
		vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &zero, "SET_RUNNING 0");
	v->running = false;
	for (unsigned int q = VSOCK_RX; q <= VSOCK_TX; q++) {
		struct vhost_vring_file unbind = { .index = q, .fd = -1 };

		if (!v->handed[q])
			continue;
		vhost_ioctl(v, VHOST_SET_VRING_KICK, &unbind, "SET_VRING_KICK -1");
		vhost_ioctl(v, VHOST_SET_VRING_CALL, &unbind, "SET_VRING_CALL -1");
		virtio_pci_queue_return_kick(v->vp, (uint16_t)q);
		v->handed[q] = false;
	}
}

static int vhost_start(struct virtio_vsock *v)
{
	uint64_t features = v->vp->driver_features;
	int one = 1, ret;

	if (features & ~v->vhost_features) {
		pr_warn("virtio-vsock: driver features 0x%llx are not all vhost's 0x%llx",
			(unsigned long long)features, (unsigned long long)v->vhost_features);
		return -ENOTSUP;
	}
	ret = vhost_ioctl(v, VHOST_SET_FEATURES, &features, "SET_FEATURES");
	if (ret == 0)
		ret = vhost_set_mem_table(v);
	if (ret == 0)
		ret = vhost_set_vring(v, VSOCK_RX);
	if (ret == 0)
		ret = vhost_set_vring(v, VSOCK_TX);
	if (ret == 0)
		ret = vhost_ioctl(v, VHOST_VSOCK_SET_RUNNING, &one, "SET_RUNNING 1");
	if (ret == 0)
		v->running = true;
	return ret;
}

/* The transport's hooks (vp->lock held). */
static void vsock_driver_ok(void *opaque, struct virtio_pci *vp)
{
	struct virtio_vsock *v = opaque;

	if (vhost_start(v) < 0) {
		vhost_stop(v);
		virtio_pci_set_needs_reset(vp);
		return;
	}
	pr_debug("virtio-vsock: vhost serves guest CID %llu", (unsigned long long)v->cid);
}

static void vsock_reset(void *opaque)
{
	struct virtio_vsock *v = opaque;

	/* Also called while the transport is being built, before v->vp is set. */
	if (v->vp)
		vhost_stop(v);
}

/* Kicks reach us only on the event queue (and on rx/tx before DRIVER_OK). */
static void vsock_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	(void)opaque;
	(void)vp;
	(void)queue;
}

static void vsock_config_read(void *opaque, uint32_t off, void *data, unsigned int size)
{
	struct virtio_vsock *v = opaque;

	if (off <= sizeof(v->config_cid) && size <= sizeof(v->config_cid) - off)
		memcpy(data, (uint8_t *)&v->config_cid + off, size);
}

static const struct virtio_dev_ops vsock_ops_template = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.class_code = PCI_CLASS_COMMUNICATION_OTHER,
	.nr_queues = 3,
	.queue_max_size = VSOCK_QUEUE_SIZE,
	.config_size = sizeof(uint64_t),
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.driver_ok = vsock_driver_ok,
};

static int vhost_open(struct virtio_vsock *v, char *err, size_t errlen)
{
	/* The transport always offers these; vhost must take them. */
	const uint64_t needed = (1ull << VIRTIO_F_VERSION_1) |
		(1ull << VIRTIO_F_RING_INDIRECT_DESC) | (1ull << VIRTIO_F_RING_EVENT_IDX);
	uint64_t cid = v->cid;

	v->vhost_fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
	if (v->vhost_fd < 0) {
		int ret = -errno;

		if (errno == ENOENT)
			errbuf_set(err, errlen, "--vsock: /dev/vhost-vsock does not exist "
				   "(load the vhost_vsock kernel module: modprobe vhost_vsock)");
		else
			errbuf_set(err, errlen, "--vsock: cannot open /dev/vhost-vsock: %s%s",
				   strerror(errno), errno == EACCES ?
				   " (this user needs read-write access to it)" : "");
		return ret;
	}
	if (ioctl(v->vhost_fd, VHOST_SET_OWNER) < 0 ||
	    ioctl(v->vhost_fd, VHOST_GET_FEATURES, &v->vhost_features) < 0) {
		int ret = -errno;

		errbuf_set(err, errlen, "--vsock: /dev/vhost-vsock refuses us: %s", strerror(errno));
		return ret;
	}
	if ((v->vhost_features & needed) != needed) {
		errbuf_set(err, errlen, "--vsock: this kernel's vhost-vsock lacks virtio 1.0 "
			   "features (it offers 0x%llx)", (unsigned long long)v->vhost_features);
		return -ENOTSUP;
	}
	if (ioctl(v->vhost_fd, VHOST_VSOCK_SET_GUEST_CID, &cid) < 0) {
		int ret = -errno;

		if (errno == EADDRINUSE)
			errbuf_set(err, errlen, "--vsock: cid=%llu is already used by another VM "
				   "on this host", (unsigned long long)v->cid);
		else
			errbuf_set(err, errlen, "--vsock: the kernel refuses cid=%llu: %s",
				   (unsigned long long)v->cid, strerror(errno));
		return ret;
	}
	return 0;
}

/* --- host side: relayed connections ---------------------------------------- */

static void relay_on_event(void *opaque, uint32_t events);

/*
 * Register END for EVENTS with the loop. Interest 0 still reports hang-ups
 * and errors, which is what a quiet end waits for; but a hung-up end
 * reports them forever, so it stays in the loop only while it has
 * something left to read and room to read it into.
 */
static void end_watch(struct vsock_end *e, uint32_t events)
{
	struct event_loop *loop = e->c->v->loop;

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
	struct virtio_vsock *v = c->v;

	for (struct vsock_end *e = &c->unix_end; e; e = e == &c->unix_end ? &c->vsock_end : NULL) {
		if (e->fd < 0)
			continue;
		if (e->watched)
			loop_del(v->loop, e->fd);
		close(e->fd);
	}
	for (struct vsock_conn **pp = &v->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	v->nr_conns--;
	free(c);
}

static struct vsock_conn *conn_new(struct virtio_vsock *v, int unix_fd, int vsock_fd,
				   enum conn_state state, uint32_t port)
{
	struct vsock_conn *c;

	if (v->nr_conns >= VSOCK_MAX_CONNS) {
		if (!v->warned_conns)
			pr_warn("virtio-vsock: more than %d connections at once; refusing more",
				VSOCK_MAX_CONNS);
		v->warned_conns = true;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->v = v;
	c->state = state;
	c->port = port;
	c->unix_end = (struct vsock_end){ .c = c, .fd = unix_fd };
	c->vsock_end = (struct vsock_end){ .c = c, .fd = vsock_fd };
	c->next = v->conns;
	v->conns = c;
	v->nr_conns++;
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
	to.svm_cid = (unsigned int)c->v->cid;
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
	struct virtio_vsock *v = opaque;
	struct vsock_conn *c;
	int fd;

	(void)events;
	fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	c = conn_new(v, fd, -1, CONN_COMMAND, 0);
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
	struct virtio_vsock *v = p->v;
	struct sockaddr_vm peer = { 0 };
	struct sockaddr_un to = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(peer);
	struct vsock_conn *c;
	int vfd, ufd;

	(void)events;
	vfd = accept4(p->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (vfd < 0)
		return;
	if (peer.svm_cid != v->cid) {
		pr_debug("virtio-vsock: port %u: connection from CID %u, not our guest: closed",
			 p->port, peer.svm_cid);
		close(vfd);
		return;
	}
	/* Fits: relay_open() left room for "_<port>". */
	if (snprintf(to.sun_path, sizeof(to.sun_path), "%s_%u", v->addr.sun_path, p->port) >=
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
	c = conn_new(v, ufd, vfd, CONN_OPEN, p->port);
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

/* --- host side: PATH_<port> listeners ---------------------------------------- */

/* "PATH_<port>" in PATH's directory: the port, or -1 for other names. */
static long long port_of_name(const struct virtio_vsock *v, const char *name)
{
	size_t plen = strlen(v->prefix);
	const char *digits = name + plen;
	char *end;
	unsigned long long port;

	if (strncmp(name, v->prefix, plen) || *digits < '0' || *digits > '9' ||
	    (digits[0] == '0' && digits[1]) || strlen(digits) > 10)
		return -1;
	port = strtoull(digits, &end, 10);
	if (*end || port >= VMADDR_PORT_ANY)
		return -1;
	return (long long)port;
}

static void port_remove(struct virtio_vsock *v, uint32_t port)
{
	for (struct vsock_port **pp = &v->ports; *pp; pp = &(*pp)->next) {
		struct vsock_port *p = *pp;

		if (p->port != port)
			continue;
		loop_del(v->loop, p->fd);
		close(p->fd);
		*pp = p->next;
		v->nr_ports--;
		free(p);
		pr_debug("virtio-vsock: no longer forwarding guest port %u", port);
		return;
	}
}

/* Listen on host port PORT for the guest, if NAME (in PATH's dir) is a socket. */
static void port_add(struct virtio_vsock *v, const char *name, uint32_t port)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				    .svm_port = port };
	struct vsock_port *p;
	struct stat st;
	int fd;

	for (p = v->ports; p; p = p->next)
		if (p->port == port)
			return;
	if (fstatat(AT_FDCWD, name, &st, 0) < 0 || !S_ISSOCK(st.st_mode))
		return;
	if (v->nr_ports >= VSOCK_MAX_PORTS) {
		if (!v->warned_ports)
			pr_warn("virtio-vsock: more than %d %s_<port> sockets; ignoring the rest",
				VSOCK_MAX_PORTS, v->addr.sun_path);
		v->warned_ports = true;
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
	if (!p || loop_add(v->loop, fd, EPOLLIN, port_on_accept, p) < 0) {
		free(p);
		close(fd);
		return;
	}
	p->v = v;
	p->port = port;
	p->fd = fd;
	p->next = v->ports;
	v->ports = p;
	v->nr_ports++;
	pr_debug("virtio-vsock: forwarding guest connections to host port %u to %s", port, name);
}

/* A directory entry appeared or vanished. */
static void port_changed(struct virtio_vsock *v, const char *name, bool present)
{
	char path[sizeof(v->addr.sun_path) + 16];
	long long port = port_of_name(v, name);

	if (port < 0)
		return;
	if (!present) {
		port_remove(v, (uint32_t)port);
		return;
	}
	if (snprintf(path, sizeof(path), "%s/%s", v->dir, name) >= (int)sizeof(path))
		return;
	port_add(v, path, (uint32_t)port);
}

static void ports_scan(struct virtio_vsock *v);

static void on_inotify(void *opaque, uint32_t events)
{
	struct virtio_vsock *v = opaque;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	while ((n = read(v->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				ports_scan(v);
			else if (ev->len)
				port_changed(v, ev->name, ev->mask & (IN_CREATE | IN_MOVED_TO));
			p += sizeof(*ev) + ev->len;
		}
	}
}

static void ports_scan(struct virtio_vsock *v)
{
	DIR *d = opendir(v->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		port_changed(v, de->d_name, true);
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

static int relay_open(struct virtio_vsock *v, const char *path, char *err, size_t errlen)
{
	char copy[sizeof(v->addr.sun_path)];
	struct stat st;
	int ret;

	/* Room for "_4294967294" (PATH_<port>) and the NUL; options.c checks it too. */
	if (strlen(path) > sizeof(v->addr.sun_path) - 12) {
		errbuf_set(err, errlen, "--vsock: socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	v->addr.sun_family = AF_UNIX;
	strcpy(v->addr.sun_path, path);
	strcpy(copy, path);
	snprintf(v->dir, sizeof(v->dir), "%s", dirname(copy));
	strcpy(copy, path);
	snprintf(v->prefix, sizeof(v->prefix), "%s_", basename(copy));

	/* A socket file nobody listens on is left from an earlier run: replace it. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errbuf_set(err, errlen, "--vsock: '%s' exists and is not a socket", path);
			return -EEXIST;
		}
		if (unix_socket_alive(&v->addr)) {
			errbuf_set(err, errlen, "--vsock: '%s' is in use (another VMM listens there)",
				   path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (v->listen_fd < 0)
		return -errno;
	if (bind(v->listen_fd, (struct sockaddr *)&v->addr, sizeof(v->addr)) < 0 ||
	    listen(v->listen_fd, 16) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--vsock: cannot listen on '%s': %s", path, strerror(errno));
		close(v->listen_fd);
		v->listen_fd = -1;
		return ret;
	}
	ret = loop_add(v->loop, v->listen_fd, EPOLLIN, relay_on_accept, v);
	if (ret < 0)
		return ret;

	/* Guest-initiated connections: PATH_<port> sockets, now and later. */
	v->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (v->inotify_fd < 0 ||
	    inotify_add_watch(v->inotify_fd, v->dir, IN_CREATE | IN_MOVED_TO | IN_DELETE |
			      IN_MOVED_FROM | IN_ONLYDIR) < 0 ||
	    loop_add(v->loop, v->inotify_fd, EPOLLIN, on_inotify, v) < 0) {
		pr_warn("virtio-vsock: cannot watch %s for new %s<port> sockets: %s; only those "
			"there now are forwarded", v->dir, v->prefix, strerror(errno));
		if (v->inotify_fd >= 0)
			close(v->inotify_fd);
		v->inotify_fd = -1;
	}
	ports_scan(v);
	return 0;
}

static void relay_close(struct virtio_vsock *v)
{
	while (v->conns)
		conn_close(v->conns);
	while (v->ports)
		port_remove(v, v->ports->port);
	if (v->inotify_fd >= 0) {
		loop_del(v->loop, v->inotify_fd);
		close(v->inotify_fd);
	}
	if (v->listen_fd >= 0) {
		loop_del(v->loop, v->listen_fd);
		close(v->listen_fd);
		unlink(v->addr.sun_path);
	}
	v->inotify_fd = v->listen_fd = -1;
}

/* --- the device --------------------------------------------------------------- */

static void vsock_destroy(void *state)
{
	struct virtio_vsock *v = state;

	if (!v)
		return;
	if (v->vp) {
		pthread_mutex_lock(&v->vp->lock);
		vhost_stop(v);
		pthread_mutex_unlock(&v->vp->lock);
	}
	if (v->vhost_fd >= 0)
		close(v->vhost_fd); /* releases the CID */
	relay_close(v);
	virtio_pci_destroy(v->vp);
	free(v);
}

/*
 * vhost serves the rings and writes guest RAM and the irqfds behind our
 * back, and its ring positions live in the kernel: not snapshotted.
 */
static int vsock_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	(void)state;
	(void)w;
	errbuf_set(err, errlen, "virtio-vsock (vhost) cannot be snapshotted");
	return -EOPNOTSUPP;
}

static int vsock_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	(void)state;
	(void)r;
	errbuf_set(err, errlen, "virtio-vsock (vhost) cannot be restored");
	return -EOPNOTSUPP;
}

static int vsock_create(struct vm *vm, void **state, char *err, size_t errlen)
{
	const struct vsock_config *cfg = &vm->cfg->vsock;
	struct virtio_vsock *v;
	int ret;

	*state = NULL;
	if (!cfg->enabled)
		return 0;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->loop = vm->host->loop;
	v->cid = cfg->cid;
	v->config_cid = htole64(cfg->cid);
	v->vhost_fd = v->listen_fd = v->inotify_fd = -1;
	v->ops = vsock_ops_template;

	ret = vhost_open(v, err, errlen);
	if (ret == 0) {
		v->ops.features = v->vhost_features & (1ull << VIRTIO_VSOCK_F_SEQPACKET);
		ret = relay_open(v, cfg->socket, err, errlen);
	}
	if (ret == 0)
		ret = virtio_pci_create(vm, &v->ops, v, &v->vp);
	if (ret < 0) {
		v->vp = NULL;
		vsock_destroy(v);
		return ret;
	}
	pr_info("virtio-vsock: guest CID %llu; host side on %s", (unsigned long long)v->cid,
		v->addr.sun_path);
	*state = v;
	return 0;
}

const struct device_ops virtio_vsock_device = {
	.name = "virtio-vsock",
	.create = vsock_create,
	.destroy = vsock_destroy,
	.save = vsock_save,
	.load = vsock_load,
};
