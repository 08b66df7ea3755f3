/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API's routes: one parsed HTTP request in, one response out.
 *
 * Independent of sockets, so the unit tests and the fuzzer drive it
 * directly; server.c calls it for each complete request.
 */
#ifndef PHYLLO_API_ENDPOINTS_H
#define PHYLLO_API_ENDPOINTS_H

#include <stdbool.h>

#include "api/api.h"
#include "api/http.h"

#define API_PATH_PREFIX "/api/v1/"

/*
 * Answer req into resp (whose body is malloc'd). *shutdown_vmm_after is set
 * when ops->shutdown_vmm must be called once the response has been sent.
 */
void api_handle_request(const struct api_vmm_ops *ops, void *vmm,
			const struct http_request *req, struct http_response *resp,
			bool *shutdown_vmm_after);

/* An error response: status and, as Cloud Hypervisor does, a JSON array
 * of message strings (here one). Returns the status answered (500 when out
 * of memory). */
int api_error_response(struct http_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
