/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User-mode networking (--net user=on): a libslirp TCP/IP stack that turns
 * the guest's Ethernet frames into ordinary host sockets, so no root and no
 * tap device are needed. QEMU's conventional addresses: network
 * 10.0.2.0/24, the host (its loopback) at 10.0.2.2, DNS at 10.0.2.3, the
 * guest's DHCP lease 10.0.2.15.
 *
 * Everything runs on the event loop thread: frames from the guest go in
 * through net_slirp_input(), frames for the guest come out through the
 * rx callback given to net_slirp_create().
 */
#ifndef PHYLLO_NET_SLIRP_H
#define PHYLLO_NET_SLIRP_H

#include <stddef.h>

struct event_loop;
struct net_config;
struct net_slirp;
struct vnet_hdr;

/*
 * A frame for the guest (event loop thread), for queue pair QUEUE (0 but
 * on a multiqueue tap). HDR: what a tap's vnet header says of it
 * (checksum to fill, or a large segment), or NULL for a whole, checksummed
 * frame (always, from slirp).
 */
typedef void (*net_rx_fn)(void *opaque, unsigned int queue, const struct vnet_hdr *hdr,
			  const void *frame, size_t len);

/*
 * Start a slirp stack for CFG on LOOP. NAME ("virtio-net0") prefixes
 * messages. A bad hostfwd rule fills ERR and returns -EINVAL.
 */
int net_slirp_create(struct event_loop *loop, const struct net_config *cfg, const char *name,
		     net_rx_fn rx, void *rx_opaque, struct net_slirp **out, char *err,
		     size_t errlen);
void net_slirp_destroy(struct net_slirp *s);
/* A frame from the guest: a whole Ethernet frame with valid checksums. */
void net_slirp_input(struct net_slirp *s, const void *frame, size_t len);
/*
 * Parse a hostfwd rule "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT".
 * Empty HOSTADDR means 0.0.0.0, empty GUESTADDR 10.0.2.15. Returns 0 or -EINVAL.
 */
struct in_addr;
int net_slirp_parse_hostfwd(const char *rule, int *is_udp, struct in_addr *host_addr,
			    int *host_port, struct in_addr *guest_addr, int *guest_port);

#endif
