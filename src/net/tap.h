/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tap back end for --net tap=NAME or fd=N: frames go to and come from a
 * host tap device, which the host bridges or routes like any interface.
 * Same frame interface as slirp.h; everything runs on the event loop thread.
 */
#ifndef PHYLLO_NET_TAP_H
#define PHYLLO_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "net/slirp.h"

struct net_tap;

/* Queue pairs (fds) of one tap: num_queues=2N opens it N times. */
#define NET_TAP_MAX_QUEUES 8

/*
 * Called on the event loop when fd QUEUE has frames to read: the device
 * reads them with net_tap_read(), or pauses the fd (net_tap_pause_rx).
 */
typedef void (*net_tap_ready_fn)(void *opaque, unsigned int queue);

/*
 * Open (or take, fd=N) the tap of CFG and watch it on LOOP; with ip= and
 * mask= give the host side that address and bring the link up. With
 * num_queues=2N (N > 1, tap=NAME only) it is a multiqueue tap of N fds,
 * all attached; fd i is queue pair i. Errors fill ERR and return -errno.
 */
int net_tap_create(struct event_loop *loop, const struct net_config *cfg, const char *name,
		   net_tap_ready_fn ready, void *opaque, struct net_tap **out, char *err,
		   size_t errlen);
void net_tap_destroy(struct net_tap *t);
/*
 * Read one frame from fd QUEUE into IOV: the vnet header first if
 * net_tap_has_vnet_hdr(). Returns its length (header included; the whole
 * frame's, even if IOV was shorter and it was cut), or -errno (-EAGAIN:
 * none waiting).
 */
ssize_t net_tap_read(struct net_tap *t, unsigned int queue, const struct iovec *iov,
		     unsigned int iovcnt);
bool net_tap_has_vnet_hdr(const struct net_tap *t);
/* Stop (or start again) watching fd QUEUE: while the guest has no receive buffer. */
void net_tap_pause_rx(struct net_tap *t, unsigned int queue, bool pause);
/*
 * A frame from the guest (IOVCNT segments), with its header (which may ask
 * the host to fill a checksum or cut a large segment: only if
 * net_tap_offloads() said so).
 */
void net_tap_input(struct net_tap *t, unsigned int queue, const struct vnet_hdr *hdr,
		   const struct iovec *frame, unsigned int iovcnt);
/* Multiqueue: attach fds 0..active-1, detach the rest. Returns 0 or -errno. */
int net_tap_set_queues(struct net_tap *t, unsigned int active);

/* What the tap can do for the guest (NET_TAP_* bits). */
#define NET_TAP_HOST_OFFLOAD 1   /* takes the guest's headers: CSUM, HOST_TSO4/6, HOST_ECN */
#define NET_TAP_GUEST_OFFLOAD 2  /* can hand the guest offloaded frames: TUNSETOFFLOAD */
unsigned int net_tap_offloads(const struct net_tap *t);
/*
 * Which offloaded frames the guest accepts (TUN_F_* of linux/if_tun.h:
 * CSUM, TSO4, TSO6, TSO_ECN); 0 for none. Returns 0 or -errno.
 */
int net_tap_set_offload(struct net_tap *t, unsigned int tun_flags);

#endif
