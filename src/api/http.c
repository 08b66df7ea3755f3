// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HTTP/1.1 request parsing and response writing for the REST API.
 *
 * Only what a local JSON API needs: origin-form (or absolute-form) targets,
 * Content-Length bodies, keep-alive and pipelining, "Expect: 100-continue".
 * Everything else is refused with the status RFC 9110/9112 asks for, and
 * the parser never trusts a length: the head is searched only within
 * HTTP_MAX_HEAD_BYTES, Content-Length is checked against
 * HTTP_MAX_BODY_BYTES before a byte of body is awaited, and every line is
 * checked for stray control characters (request smuggling starts there).
 */
#include "api/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const method_names[] = {
	[HTTP_GET] = "GET", [HTTP_HEAD] = "HEAD", [HTTP_PUT] = "PUT", [HTTP_POST] = "POST",
	[HTTP_DELETE] = "DELETE", [HTTP_PATCH] = "PATCH", [HTTP_OPTIONS] = "OPTIONS",
};

const char *http_method_name(enum http_method m)
{
	return (unsigned int)m < sizeof(method_names) / sizeof(method_names[0]) ?
	       method_names[m] : "?";
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

void http_parser_reset(struct http_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static enum http_parse_result fail(struct http_parser *p, int status, const char *msg)
{
	p->error_status = status;
	p->error_msg = msg;
	return HTTP_PARSE_ERROR;
}

/* RFC 9110 tchar: the characters of tokens (method, field names). */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Visible characters, and for field values also space and tab. */
static bool is_clean(const char *s, size_t n, bool allow_space)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x7f || (c < 0x20 && !(allow_space && c == '\t')) ||
		    (c == ' ' && !allow_space))
			return false;
	}
	return true;
}

static enum http_parse_result parse_request_line(struct http_parser *p, const char *line,
						 size_t n)
{
	const char *sp1 = memchr(line, ' ', n), *sp2, *target, *version, *end = line + n;
	size_t mlen, tlen, vlen;
	bool known = false;

	if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))))
		return fail(p, 400, "malformed request line (expected METHOD TARGET HTTP/1.1)");
	mlen = (size_t)(sp1 - line);
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = (size_t)(end - version);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar(line[i]))
			return fail(p, 400, "malformed method in the request line");
	if (!mlen || !tlen || !is_clean(target, tlen, false) || !is_clean(version, vlen, false))
		return fail(p, 400, "malformed request line (expected METHOD TARGET HTTP/1.1)");
	if (vlen != 8 || memcmp(version, "HTTP/", 5) || version[6] != '.' ||
	    version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
		return fail(p, 400, "malformed HTTP version in the request line");
	if (version[5] != '1')
		return fail(p, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	for (size_t m = 0; m < sizeof(method_names) / sizeof(method_names[0]); m++) {
		if (strlen(method_names[m]) == mlen && !memcmp(line, method_names[m], mlen)) {
			p->req.method = (enum http_method)m;
			known = true;
		}
	}
	if (!known)
		return fail(p, 501, "method not implemented");
	/* absolute-form (RFC 9112 3.2.2): drop "http://authority". */
	if (tlen > 7 && !strncasecmp(target, "http://", 7)) {
		const char *slash = memchr(target + 7, '/', tlen - 7);

		if (!slash)
			return fail(p, 400, "request target has no path");
		tlen -= (size_t)(slash - target);
		target = slash;
	}
	if (target[0] != '/')
		return fail(p, 400, "request target must start with '/'");
	if (tlen > HTTP_MAX_TARGET_BYTES)
		return fail(p, 414, "request target too long");
	const char *query = memchr(target, '?', tlen);

	if (query)
		tlen = (size_t)(query - target);
	memcpy(p->req.path, target, tlen);
	p->req.path[tlen] = '\0';
	p->req.keep_alive = version[7] != '0'; /* HTTP/1.1 keeps the connection */
	return HTTP_PARSE_MORE;
}

/* Does the comma-separated list value[0..n) hold token (case-insensitive)? */
static bool list_has(const char *value, size_t n, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < n) {
		size_t start, stop;

		while (i < n && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
			i++;
		start = i;
		while (i < n && value[i] != ',')
			i++;
		stop = i;
		while (stop > start && (value[stop - 1] == ' ' || value[stop - 1] == '\t'))
			stop--;
		if (stop - start == tl && !strncasecmp(value + start, token, tl))
			return true;
	}
	return false;
}

static enum http_parse_result parse_content_length(struct http_parser *p, const char *v,
						   size_t n)
{
	size_t len = 0;

	if (!n)
		return fail(p, 400, "empty Content-Length");
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(p, 400, "Content-Length is not a plain decimal number");
		if (len > HTTP_MAX_BODY_BYTES) /* keep going to check digits, never overflow */
			continue;
		len = len * 10 + (size_t)(v[i] - '0');
	}
	if (len > HTTP_MAX_BODY_BYTES)
		return fail(p, 413, "request body larger than 1 MiB");
	if (p->seen_length && len != p->req.body_len)
		return fail(p, 400, "conflicting Content-Length fields");
	p->seen_length = true;
	p->req.has_length = true;
	p->req.body_len = len;
	return HTTP_PARSE_MORE;
}

static enum http_parse_result parse_field(struct http_parser *p, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t nlen, vlen;

	if (line[0] == ' ' || line[0] == '\t')
		return fail(p, 400, "folded header lines are not accepted");
	if (!colon || colon == line)
		return fail(p, 400, "malformed header field (expected Name: value)");
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar(line[i]))
			return fail(p, 400, "malformed header field name");
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (!is_clean(v, vlen, true))
		return fail(p, 400, "control character in a header field value");
#define NAME_IS(s) (nlen == sizeof(s) - 1 && !strncasecmp(line, s, nlen))
	if (NAME_IS("Content-Length"))
		return parse_content_length(p, v, vlen);
	if (NAME_IS("Transfer-Encoding"))
		return fail(p, 411, "Transfer-Encoding (chunked) is not supported: "
			    "send the body with a Content-Length");
	if (NAME_IS("Connection")) {
		if (list_has(v, vlen, "close"))
			p->req.keep_alive = false;
		else if (list_has(v, vlen, "keep-alive"))
			p->req.keep_alive = true;
	} else if (NAME_IS("Expect")) {
		if (vlen != 12 || strncasecmp(v, "100-continue", 12))
			return fail(p, 417, "only \"Expect: 100-continue\" is supported");
		p->req.expect_continue = true;
	}
#undef NAME_IS
	return HTTP_PARSE_MORE;
}

enum http_parse_result http_parse(struct http_parser *p, const char *buf, size_t len,
				  size_t *consumed)
{
	enum http_parse_result r;

	if (p->error_status)
		return HTTP_PARSE_ERROR;
	while (!p->head_len) {
		size_t limit = len < HTTP_MAX_HEAD_BYTES ? len : HTTP_MAX_HEAD_BYTES;
		const char *line = buf + p->scanned;
		const char *nl = limit > p->scanned ?
				 memchr(line, '\n', limit - p->scanned) : NULL;
		size_t n;

		if (!nl) {
			if (len < HTTP_MAX_HEAD_BYTES)
				return HTTP_PARSE_MORE;
			if (!p->req.path[0])
				return fail(p, 414, "request line too long");
			return fail(p, 431, "request header fields larger than 16 KiB");
		}
		n = (size_t)(nl - line);
		if (n && line[n - 1] == '\r') /* CRLF, or a bare LF as RFC 9112 allows */
			n--;
		p->scanned = (size_t)(nl - buf) + 1;
		if (!p->req.path[0]) {
			/* Empty lines before a request line are ignored (RFC 9112 2.2). */
			r = n ? parse_request_line(p, line, n) : HTTP_PARSE_MORE;
		} else if (!n) {
			p->head_len = p->scanned;
			r = HTTP_PARSE_MORE;
		} else {
			r = parse_field(p, line, n);
		}
		if (r == HTTP_PARSE_ERROR)
			return r;
	}
	if (len - p->head_len < p->req.body_len)
		return HTTP_PARSE_MORE;
	p->req.body = buf + p->head_len;
	*consumed = p->head_len + p->req.body_len;
	return HTTP_PARSE_DONE;
}

int http_buf_append(struct http_buf *b, const void *data, size_t len)
{
	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 512;
		char *d;

		while (cap - b->len < len) {
			if (cap > (size_t)-1 / 2)
				return -ENOMEM;
			cap *= 2;
		}
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void http_buf_free(struct http_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int buf_printf(struct http_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int buf_printf(struct http_buf *b, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENOMEM;
	return http_buf_append(b, line, (size_t)n);
}

int http_write_response(struct http_buf *out, const struct http_response *resp)
{
	bool bodyless = resp->status < 200 || resp->status == 204 || resp->status == 304;
	size_t start = out->len;
	int ret;

	ret = buf_printf(out, "HTTP/1.1 %d %s\r\n", resp->status,
			 http_status_reason(resp->status));
	if (!ret && resp->status >= 200)
		ret = buf_printf(out, "Server: phyllo-vmm\r\n");
	if (!ret && !bodyless)
		ret = buf_printf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
				 resp->content_type ? resp->content_type : "application/json",
				 resp->body_len);
	if (!ret && resp->allow)
		ret = buf_printf(out, "Allow: %s\r\n", resp->allow);
	if (!ret && resp->close && resp->status >= 200)
		ret = buf_printf(out, "Connection: close\r\n");
	if (!ret)
		ret = http_buf_append(out, "\r\n", 2);
	if (!ret && !bodyless && !resp->head_only && resp->body_len)
		ret = http_buf_append(out, resp->body, resp->body_len);
	if (ret)
		out->len = start; /* nothing half-written */
	return ret;
}

void http_response_clear(struct http_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}
