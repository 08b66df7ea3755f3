// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllod's HTTP server: libmicrohttpd on a listening socket we bound
 * (a Unix socket for the CLI; the web UI's TCP socket later), handing
 * each whole request to mgr_handle().
 *
 * libmicrohttpd rather than phyllo-vmm's own HTTP code: the daemon serves
 * a browser too (the web UI), with long requests (an import copies
 * gigabytes) that must not hold up the others, so it gets a thread per
 * connection and the library's HTTP/1.1, both well kept by GNU. Bodies
 * are bounded (MGR_MAX_BODY) before they are stored; connections are
 * capped and time out.
 */
#include "manager/server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "base/log.h"

#define MAX_CONNECTIONS 64
#define IDLE_TIMEOUT_S 300

struct mgr_server {
	struct MHD_Daemon *mhd;
	struct mgr *mgr;
};

struct request {
	char *body;
	size_t len;
	bool too_big;
};

struct query {
	char buf[1024];
	size_t len;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct query *q = cls;
	int n = snprintf(q->buf + q->len, sizeof(q->buf) - q->len, "%s%s%s%s", q->len ? "&" : "",
			 key, value ? "=" : "", value ? value : "");

	if (n > 0 && (size_t)n < sizeof(q->buf) - q->len)
		q->len += (size_t)n;
	return MHD_YES;
}

static enum MHD_Result answer(struct MHD_Connection *c, const struct mgr_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = r->body ? strlen(r->body) : 0;

	resp = MHD_create_response_from_buffer(len, r->body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->body)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(c, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **con_cls)
{
	struct mgr_server *s = cls;
	struct request *req = *con_cls;
	struct mgr_reply r;
	struct query q = { .len = 0 };
	enum MHD_Result ret;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_len) {
		if (!req->too_big && req->len + *upload_len <= MGR_MAX_BODY) {
			char *b = realloc(req->body, req->len + *upload_len + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + req->len, upload, *upload_len);
			req->body = b;
			req->len += *upload_len;
			req->body[req->len] = '\0';
		} else {
			req->too_big = true;
			req->len += *upload_len;
		}
		*upload_len = 0;
		return MHD_YES;
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
	mgr_handle(s->mgr, method, url, q.len ? q.buf : NULL, req->too_big ? NULL : req->body,
		   req->len, &r);
	ret = answer(c, &r);
	free(r.body);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode why)
{
	struct request *req = *con_cls;

	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	pr_warn("http: %s", msg);
}

int mgr_server_start(struct mgr_server **out, struct mgr *m, int listen_fd, char *err,
		     size_t errlen)
{
	struct mgr_server *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->mgr = m;
	s->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				  MHD_USE_ERROR_LOG,
				  0, NULL, NULL, on_request, s,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
				  MHD_OPTION_END);
	if (!s->mhd) {
		free(s);
		errbuf_set(err, errlen, "the HTTP server (libmicrohttpd) did not start");
		return -EIO;
	}
	*out = s;
	return 0;
}

void mgr_server_stop(struct mgr_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	free(s);
}
