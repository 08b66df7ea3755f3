/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The manager's REST API as a function: a request (method, path, query,
 * JSON body) in, a status and a JSON body out. server.c puts it on
 * phyllod's socket with libmicrohttpd; the unit tests and the fuzzer call
 * it directly, so every route is checked without a socket.
 *
 * docs/phyllod-api.yaml is the contract (OpenAPI 3); docs/manager.md says
 * how the pieces fit. Errors are {"message": "..."} with 400 (bad
 * request), 404 (no such image or VM), 405 (method), 409 (in use, taken),
 * 413 (body too big) or 500.
 */
#ifndef PHYLLO_MANAGER_MGR_H
#define PHYLLO_MANAGER_MGR_H

#include <stddef.h>

#include "manager/store.h"

/* A request body larger than this is refused (413). */
#define MGR_MAX_BODY 65536

struct mgr;

struct mgr_reply {
	int status;
	char *body; /* JSON (malloc'd) or NULL for an empty body */
};

/*
 * The manager over the data folder data_dir (created 0700 if missing):
 * phyllome.db, images/. Interrupted imports are cleaned up here.
 */
int mgr_open(struct mgr **out, const char *data_dir, char *err, size_t errlen);
void mgr_close(struct mgr *m);

/*
 * Serve one request; safe to call from several threads at once. path is
 * the URL's path (decoded), query its "a=b&c" part or NULL. Always fills
 * r (free r->body).
 */
void mgr_handle(struct mgr *m, const char *method, const char *path, const char *query,
		const char *body, size_t body_len, struct mgr_reply *r);

#endif
