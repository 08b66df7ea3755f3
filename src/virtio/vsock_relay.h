/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of virtio-vsock (Cloud Hypervisor's hybrid vsock): a Unix
 * socket PATH for host-to-guest connections and PATH_<port> sockets for
 * guest-to-host ones, relayed to and from the host kernel's AF_VSOCK.
 * See vsock_relay.c.
 */
#ifndef PHYLLO_VSOCK_RELAY_H
#define PHYLLO_VSOCK_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct event_loop;
struct vsock_relay;

/*
 * Listen on PATH (replacing a socket file nobody listens on) and forward
 * to and from the guest with GUEST_CID, on LOOP. Returns 0 or -errno with
 * the reason in err.
 */
int vsock_relay_open(struct event_loop *loop, uint64_t guest_cid, const char *path,
		     struct vsock_relay **out, char *err, size_t errlen);
/* Close every connection and listener and remove PATH; NULL is fine. */
void vsock_relay_close(struct vsock_relay *r);
const char *vsock_relay_path(const struct vsock_relay *r);

#endif
