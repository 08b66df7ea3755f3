/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Listening sockets for the servers the VMM runs (the REST API, the VNC
 * server): one place that knows how to take over a stale Unix socket
 * safely and how to bind a TCP address a user typed. Both return a
 * non-blocking, close-on-exec listening descriptor or -errno with a
 * message naming `what` (e.g. "API socket") and the address.
 */
#ifndef PHYLLO_BASE_SOCK_H
#define PHYLLO_BASE_SOCK_H

#include <stddef.h>

/*
 * Bind path mode 0600 (owner only, whatever the umask), replacing a socket
 * file left by a dead process; a live one is -EADDRINUSE, another kind of
 * file -EEXIST.
 */
int sock_listen_unix(const char *path, const char *what, char *err, size_t errlen);

/*
 * Bind "HOST:PORT", "[V6ADDR]:PORT" or ":PORT" (127.0.0.1), port 0 for
 * one the kernel picks. The address actually bound, as HOST:PORT, goes
 * into bound (if not NULL).
 */
int sock_listen_tcp(const char *addr, const char *what, char *bound, size_t boundlen, char *err,
		    size_t errlen);

/* Split "HOST:PORT" as sock_listen_tcp takes it; -EINVAL with why. */
int sock_split_hostport(const char *addr, char *host, size_t hostlen, char *port,
			size_t portlen, char *why, size_t whylen);

#endif
