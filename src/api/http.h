/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small, bounded HTTP/1.1 request parser and response writer for the
 * REST API (docs/api.md says why it is written by hand).
 *
 * The parser is incremental: the caller keeps the received bytes in one
 * buffer and calls http_parse() after each read with the whole buffer. The
 * head (request line and header fields) is scanned once, line by line, from
 * where the previous call stopped; then the parser waits until the body
 * announced by Content-Length is there. It never reads past `len` and
 * rejects, with the status to answer, anything over the limits below.
 * After HTTP_PARSE_DONE the request occupies the first `consumed` bytes
 * (pipelined requests may follow); the caller drops them and calls
 * http_parser_reset() before parsing the next request.
 */
#ifndef PHYLLO_API_HTTP_H
#define PHYLLO_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEAD_BYTES (16 * 1024)  /* request line + header fields */
#define HTTP_MAX_BODY_BYTES (1024 * 1024)
#define HTTP_MAX_TARGET_BYTES 1024       /* the request target (path + query) */

enum http_method {
	HTTP_GET, HTTP_HEAD, HTTP_PUT, HTTP_POST, HTTP_DELETE, HTTP_PATCH, HTTP_OPTIONS,
};

struct http_request {
	enum http_method method;
	char path[HTTP_MAX_TARGET_BYTES + 1]; /* the path, without "?query" */
	bool keep_alive;       /* HTTP/1.1 default, or HTTP/1.0 with keep-alive */
	bool has_length;       /* a Content-Length field was given */
	bool expect_continue;  /* "Expect: 100-continue" */
	size_t body_len;
	const char *body;      /* set by HTTP_PARSE_DONE: inside the caller's buffer */
};

enum http_parse_result {
	HTTP_PARSE_MORE,  /* feed more bytes */
	HTTP_PARSE_DONE,  /* *req is complete */
	HTTP_PARSE_ERROR, /* answer error_status (with error_msg) and close */
};

struct http_parser {
	size_t scanned;     /* bytes of the head already split into lines */
	size_t head_len;    /* 0 until the blank line ending the head was seen */
	bool seen_length;
	struct http_request req;
	int error_status;
	const char *error_msg; /* a static string naming the problem */
};

void http_parser_reset(struct http_parser *p);
/* Parse buf[0..len); on DONE, *consumed is the request's length in buf. */
enum http_parse_result http_parse(struct http_parser *p, const char *buf, size_t len,
				  size_t *consumed);
/* Has the head been parsed (the body may still be missing)? */
static inline bool http_head_done(const struct http_parser *p)
{
	return p->head_len != 0;
}

const char *http_method_name(enum http_method m);
const char *http_status_reason(int status);

/* A growable byte buffer for responses. */
struct http_buf {
	char *data;
	size_t len, cap;
};

int http_buf_append(struct http_buf *b, const void *data, size_t len);
void http_buf_free(struct http_buf *b);

struct http_response {
	int status;
	const char *content_type; /* NULL: application/json */
	char *body;               /* malloc'd or NULL; freed by http_response_clear() */
	size_t body_len;
	const char *allow;        /* 405: the methods the resource takes */
	bool close;               /* send "Connection: close" and close afterwards */
	bool head_only;           /* answering HEAD: the length, but no body */
};

/* Append the status line, header fields and body of resp to out.
 * Returns 0 or -ENOMEM. 1xx, 204 and 304 get neither body nor length. */
int http_write_response(struct http_buf *out, const struct http_response *resp);
void http_response_clear(struct http_response *resp);

#endif
