/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tap back end for --net tap=NAME or fd=N: frames go to and come from a
 * host tap device, which the host bridges or routes like any interface.
 * Same frame interface as slirp.h; everything runs on the event loop thread.
 */
#ifndef PHYLLO_NET_TAP_H
#define PHYLLO_NET_TAP_H

#include <stddef.h>

#include "net/slirp.h"

struct net_tap;

/*
 * Open (or take, fd=N) the tap of CFG and watch it on LOOP; with ip= and
 * mask= give the host side that address and bring the link up. Errors fill
 * ERR and return -errno.
 */
int net_tap_create(struct event_loop *loop, const struct net_config *cfg, const char *name,
		   net_rx_fn rx, void *rx_opaque, struct net_tap **out, char *err, size_t errlen);
void net_tap_destroy(struct net_tap *t);
/* A frame from the guest. */
void net_tap_input(struct net_tap *t, const void *frame, size_t len);

#endif
