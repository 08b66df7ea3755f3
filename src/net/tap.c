// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tap back end (see tap.h). tap=NAME opens /dev/net/tun with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (creating the device if it does not
 * exist, which needs CAP_NET_ADMIN); fd=N takes a tap a privileged helper
 * opened, with whatever flags it chose (TUNGETIFF tells us). With a vnet
 * header its size is set to 12 (virtio_net_hdr_v1, net/vnet_hdr.h) and
 * headers pass through both ways: the guest's checksum and segmentation
 * requests go to the host kernel, which does them (or sends the segment
 * as is to a peer that can), and the kernel hands us offloaded frames only
 * of the kinds TUNSETOFFLOAD allowed, which the device sets to what the
 * driver accepted. Without a vnet header (an fd=N tap opened without
 * it) there are no offloads: frames are whole and checksummed both ways.
 *
 * Multiqueue (num_queues=2N, tap=NAME only): the tap is opened N times
 * with IFF_MULTI_QUEUE, one fd per queue pair; the kernel spreads the
 * host's flows over the attached fds, and a pair the driver has not
 * enabled is detached (TUNSETQUEUE) so that nothing is steered to it.
 *
 * Each fd is non-blocking and on the event loop. Frames move without a
 * copy of ours: when an fd is readable the device (net.c) reads frames
 * with net_tap_read() straight into the guest's receive buffers; when the
 * guest has posted none, the device pauses the fd (it is no longer
 * watched, frames wait in the tap's own queue, which drops beyond its
 * txqueuelen as a NIC would) until the guest's next receive kick. The
 * guest's frames go out with one writev() from its buffers (the kernel
 * copies them before it reads them). A write the tap cannot take right
 * now (EAGAIN: its queue is full) drops the frame, as a full NIC queue
 * would; TCP retransmits.
 */
#include "net/tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/log.h"
#include "net/vnet_hdr.h"
#include "base/config.h"
#include "base/loop.h"

#define TAP_MAX_IOV 1024 /* IOV_MAX: a header and 1023 segments of frame */

struct net_tap;

/* One fd of the tap: one queue pair of the device. */
struct tap_queue {
	struct net_tap *t;
	int fd;
	unsigned int index;
	bool attached;
	bool paused;        /* not watched: the guest has no receive buffer */
};

struct net_tap {
	struct tap_queue q[NET_TAP_MAX_QUEUES];
	unsigned int nr_queues;
	bool multi;         /* IFF_MULTI_QUEUE */
	bool owned_fd;      /* we opened it (tap=NAME), not fd=N */
	bool vnet_hdr;
	bool guest_offload;  /* TUNSETOFFLOAD works */
	struct event_loop *loop;
	char name[32];
	net_tap_ready_fn ready;
	void *opaque;
	bool warned_write;
	struct iovec wiov[TAP_MAX_IOV];
};

static void on_tap_readable(void *opaque, uint32_t events)
{
	struct tap_queue *q = opaque;

	(void)events;
	q->t->ready(q->t->opaque, q->index);
}

ssize_t net_tap_read(struct net_tap *t, unsigned int queue, const struct iovec *iov,
		     unsigned int iovcnt)
{
	ssize_t n;

	if (queue >= t->nr_queues || iovcnt > TAP_MAX_IOV)
		return -EINVAL;
	do
		n = readv(t->q[queue].fd, iov, (int)iovcnt);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

bool net_tap_has_vnet_hdr(const struct net_tap *t)
{
	return t->vnet_hdr;
}

void net_tap_pause_rx(struct net_tap *t, unsigned int queue, bool pause)
{
	struct tap_queue *q;

	if (queue >= t->nr_queues || t->q[queue].paused == pause)
		return;
	q = &t->q[queue];
	if (loop_mod(t->loop, q->fd, pause ? 0 : EPOLLIN) == 0)
		q->paused = pause;
}

void net_tap_input(struct net_tap *t, unsigned int queue, const struct vnet_hdr *hdr,
		   const struct iovec *frame, unsigned int iovcnt)
{
	int fd = t->q[queue < t->nr_queues ? queue : 0].fd;
	unsigned int k = 0;
	ssize_t n;

	if (iovcnt + 1 > TAP_MAX_IOV)
		return; /* a frame in 1024 pieces is the guest's folly: dropped */
	if (t->vnet_hdr)
		t->wiov[k++] = (struct iovec){ .iov_base = (void *)hdr, .iov_len = sizeof(*hdr) };
	memcpy(&t->wiov[k], frame, iovcnt * sizeof(*frame));
	do
		n = writev(fd, t->wiov, (int)(k + iovcnt));
	while (n < 0 && errno == EINTR);
	/* EINVAL: the kernel refused the guest's offload header; the guest's loss. */
	if (n < 0 && errno != EAGAIN && errno != EINVAL && !t->warned_write) {
		pr_warn("%s: cannot write to the tap: %s", t->name, strerror(errno));
		t->warned_write = true;
	}
}

unsigned int net_tap_offloads(const struct net_tap *t)
{
	return (t->vnet_hdr ? NET_TAP_HOST_OFFLOAD : 0) |
	       (t->guest_offload ? NET_TAP_GUEST_OFFLOAD : 0);
}

int net_tap_set_offload(struct net_tap *t, unsigned int tun_flags)
{
	if (!t->guest_offload)
		return tun_flags ? -EOPNOTSUPP : 0;
	/* The offloads are the device's: any of its fds sets them. */
	return ioctl(t->q[0].fd, TUNSETOFFLOAD, (unsigned long)tun_flags) < 0 ? -errno : 0;
}

int net_tap_set_queues(struct net_tap *t, unsigned int active)
{
	for (unsigned int i = 0; t->multi && i < t->nr_queues; i++) {
		struct ifreq ifr = { .ifr_flags = i < active ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };
		bool attach = i < active;

		if (t->q[i].attached == attach)
			continue;
		if (ioctl(t->q[i].fd, TUNSETQUEUE, &ifr) < 0)
			return -errno;
		t->q[i].attached = attach;
	}
	return 0;
}

/* ip= and mask=: address the host side and bring the link up. */
static int tap_configure_host(const char *ifname, const struct net_config *cfg, char *err,
			      size_t errlen)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int sock, ret = 0;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	if (cfg->ip) {
		if (inet_pton(AF_INET, cfg->ip, &sin->sin_addr) != 1) {
			errbuf_set(err, errlen, "--net: ip '%s' is not an IPv4 address", cfg->ip);
			ret = -EINVAL;
			goto out;
		}
		if (ioctl(sock, SIOCSIFADDR, &ifr) < 0) {
			ret = -errno;
			errbuf_set(err, errlen, "--net: cannot give %s the address %s: %s", ifname,
				   cfg->ip, strerror(errno));
			goto out;
		}
	}
	if (cfg->mask) {
		if (inet_pton(AF_INET, cfg->mask, &sin->sin_addr) != 1) {
			errbuf_set(err, errlen, "--net: mask '%s' is not an IPv4 netmask", cfg->mask);
			ret = -EINVAL;
			goto out;
		}
		if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0) {
			ret = -errno;
			errbuf_set(err, errlen, "--net: cannot set the netmask of %s: %s", ifname,
				   strerror(errno));
			goto out;
		}
	}
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
			ret = -errno;
			errbuf_set(err, errlen, "--net: cannot bring %s up: %s", ifname,
				   strerror(errno));
		}
	}
out:
	close(sock);
	return ret;
}

/* Open one more fd of the tap named in ifr (creating it the first time). */
static int tap_open_queue(struct net_tap *t, struct ifreq *ifr, char *err, size_t errlen)
{
	struct tap_queue *q = &t->q[t->nr_queues];
	char want[IFNAMSIZ];
	int ret;

	snprintf(want, sizeof(want), "%s", ifr->ifr_name);
	q->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (q->fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--net: cannot open /dev/net/tun: %s", strerror(errno));
		return ret;
	}
	ifr->ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (t->multi ? IFF_MULTI_QUEUE : 0);
	if (ioctl(q->fd, TUNSETIFF, ifr) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--net: cannot open tap '%s'%s: %s", want,
			   t->multi ? " with several queues" : "", strerror(errno));
		close(q->fd);
		return ret;
	}
	q->t = t;
	q->index = t->nr_queues++;
	q->attached = true;
	return 0;
}

int net_tap_create(struct event_loop *loop, const struct net_config *cfg, const char *name,
		   net_tap_ready_fn ready, void *opaque, struct net_tap **out, char *err,
		   size_t errlen)
{
	unsigned int pairs = cfg->num_queues > 2 ? cfg->num_queues / 2 : 1;
	struct ifreq ifr = { 0 };
	int hdr_len = VNET_HDR_LEN;
	struct net_tap *t;
	int ret;

	*out = NULL;
	if (pairs > NET_TAP_MAX_QUEUES) {
		errbuf_set(err, errlen, "--net: num_queues=%u: at most %d queue pairs",
			   cfg->num_queues, NET_TAP_MAX_QUEUES);
		return -EINVAL;
	}
	if (pairs > 1 && cfg->fd >= 0) {
		errbuf_set(err, errlen, "--net: fd=%d is one tap queue: num_queues=%u needs tap=NAME",
			   cfg->fd, cfg->num_queues);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->ready = ready;
	t->opaque = opaque;
	t->multi = pairs > 1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (cfg->fd < 0) {
		/* No name: a new tap the kernel names from the pattern. */
		const char *want = cfg->tap ? cfg->tap : "vmtap%d";

		if (strlen(want) >= IFNAMSIZ) {
			errbuf_set(err, errlen, "--net: tap name '%s' is too long", want);
			free(t);
			return -EINVAL;
		}
		t->owned_fd = true;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", want);
		/* The first TUNSETIFF names the tap; the others open that name. */
		while (t->nr_queues < pairs) {
			ret = tap_open_queue(t, &ifr, err, errlen);
			if (ret < 0)
				goto fail;
		}
		if (!cfg->tap)
			pr_info("%s: created tap %s", name, ifr.ifr_name);
	} else {
		struct tap_queue *q = &t->q[0];

		q->fd = cfg->fd;
		q->t = t;
		q->attached = true;
		t->nr_queues = 1;
		if (ioctl(q->fd, TUNGETIFF, &ifr) < 0 || (ifr.ifr_flags & 0x000f) != IFF_TAP ||
		    !(ifr.ifr_flags & IFF_NO_PI)) {
			errbuf_set(err, errlen, "--net: fd=%d is not a tap opened with IFF_NO_PI",
				   cfg->fd);
			ret = -EINVAL;
			goto fail;
		}
		if (fcntl(q->fd, F_SETFL, fcntl(q->fd, F_GETFL) | O_NONBLOCK) < 0) {
			ret = -errno;
			goto fail;
		}
	}
	t->vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
	if (t->vnet_hdr && ioctl(t->q[0].fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--net: cannot set the tap's vnet header size: %s",
			   strerror(errno));
		goto fail;
	}
	/* Guest offloads if the kernel takes them all; none until negotiated. */
	if (t->vnet_hdr &&
	    ioctl(t->q[0].fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
							  TUN_F_TSO_ECN)) == 0)
		t->guest_offload = ioctl(t->q[0].fd, TUNSETOFFLOAD, 0ul) == 0;
	if (t->owned_fd || cfg->ip || cfg->mask) {
		ret = tap_configure_host(ifr.ifr_name, cfg, err, errlen);
		if (ret < 0)
			goto fail;
	}
	for (unsigned int i = 0; i < t->nr_queues; i++) {
		ret = loop_add(loop, t->q[i].fd, EPOLLIN, on_tap_readable, &t->q[i]);
		if (ret < 0) {
			while (i--)
				loop_del(loop, t->q[i].fd);
			goto fail;
		}
	}
	*out = t;
	return 0;
fail:
	for (unsigned int i = 0; t->owned_fd && i < t->nr_queues; i++)
		close(t->q[i].fd);
	free(t);
	return ret;
}

void net_tap_destroy(struct net_tap *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < t->nr_queues; i++) {
		loop_del(t->loop, t->q[i].fd);
		if (t->owned_fd)
			close(t->q[i].fd);
	}
	free(t);
}
