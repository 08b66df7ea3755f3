/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllod's HTTP server (server.c): serves mgr_handle() on a listening
 * socket, a thread per connection, until stopped.
 */
#ifndef PHYLLO_MANAGER_SERVER_H
#define PHYLLO_MANAGER_SERVER_H

#include <stddef.h>

#include "manager/mgr.h"

struct mgr_server;

/* Serve m on listen_fd (taken: closed by mgr_server_stop). */
int mgr_server_start(struct mgr_server **out, struct mgr *m, int listen_fd, char *err,
		     size_t errlen);
/* Waits for requests in progress to end. */
void mgr_server_stop(struct mgr_server *s);

#endif
