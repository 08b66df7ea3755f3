/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API's Unix-socket server (api_server_open() in api.h), its limits,
 * and what tests need to see of it.
 */
#ifndef PHYLLO_API_SERVER_H
#define PHYLLO_API_SERVER_H

#include "api/api.h"

/* More clients than this: the one idle the longest is dropped. */
#define API_MAX_CONNECTIONS 16
/* A connection that sends and reads nothing for this long is closed. */
#define API_IDLE_TIMEOUT_MS 60000

/* Tests: shorten the idle timeout (in milliseconds). */
void api_server_set_idle_timeout(struct api_server *s, unsigned int ms);
/* Tests: connections open now. */
unsigned int api_server_connections(const struct api_server *s);

#endif
