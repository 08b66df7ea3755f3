// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The API's HTTP parser and response writer: requests split at every byte
 * parse the same as whole ones, pipelined requests come apart, every limit
 * answers its status, malformed lines are refused, and responses carry
 * exactly the header fields HTTP/1.1 wants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

/* Parse all of s; return the result and leave the parser in p. */
static enum http_parse_result parse_str(struct http_parser *p, const char *s, size_t *consumed)
{
	http_parser_reset(p);
	return http_parse(p, s, strlen(s), consumed);
}

static int error_of(const char *s)
{
	struct http_parser p;
	size_t consumed;

	assert_int_equal(parse_str(&p, s, &consumed), HTTP_PARSE_ERROR);
	assert_non_null(p.error_msg);
	return p.error_status;
}

static void test_simple_get(void **state)
{
	const char *s = "GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\n\r\n";
	struct http_parser p;
	size_t consumed = 0;

	(void)state;
	assert_int_equal(parse_str(&p, s, &consumed), HTTP_PARSE_DONE);
	assert_int_equal(p.req.method, HTTP_GET);
	assert_string_equal(p.req.path, "/api/v1/vmm.ping");
	assert_true(p.req.keep_alive);
	assert_false(p.req.has_length);
	assert_int_equal(p.req.body_len, 0);
	assert_int_equal(consumed, strlen(s));
}

/* Feed the request one more byte at a time to the same parser. */
static void test_split_at_every_byte(void **state)
{
	const char *s = "PUT /api/v1/vm.create?x=1 HTTP/1.1\r\nHost: localhost\r\n"
			"content-LENGTH: 27\r\nContent-Type: application/json\r\n\r\n"
			"{\"payload\":{\"kernel\":\"k\"}}\n";
	size_t len = strlen(s), consumed = 0;
	struct http_parser p;

	(void)state;
	http_parser_reset(&p);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(http_parse(&p, s, n, &consumed), HTTP_PARSE_MORE);
	assert_int_equal(http_parse(&p, s, len, &consumed), HTTP_PARSE_DONE);
	assert_int_equal(consumed, len);
	assert_int_equal(p.req.method, HTTP_PUT);
	assert_string_equal(p.req.path, "/api/v1/vm.create");
	assert_true(p.req.has_length);
	assert_int_equal(p.req.body_len, 27);
	assert_memory_equal(p.req.body, "{\"payload\":{\"kernel\":\"k\"}}\n", 27);

	/* And a fresh parser on each prefix agrees. */
	for (size_t n = 0; n < len; n++) {
		http_parser_reset(&p);
		assert_int_equal(http_parse(&p, s, n, &consumed), HTTP_PARSE_MORE);
	}
}

static void test_pipelining(void **state)
{
	char buf[] = "PUT /api/v1/vm.boot HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
		     "\r\n" /* a stray CRLF between requests is ignored */
		     "GET /api/v1/vm.info HTTP/1.1\r\n\r\n"
		     "PUT /api/v1/vm.pause HTTP/1.1\r\nConnection: close\r\n\r\n";
	const char *paths[] = { "/api/v1/vm.boot", "/api/v1/vm.info", "/api/v1/vm.pause" };
	size_t len = strlen(buf), consumed;
	struct http_parser p;

	(void)state;
	for (int i = 0; i < 3; i++) {
		http_parser_reset(&p);
		assert_int_equal(http_parse(&p, buf, len, &consumed), HTTP_PARSE_DONE);
		assert_string_equal(p.req.path, paths[i]);
		assert_int_equal(p.req.keep_alive, i < 2);
		memmove(buf, buf + consumed, len - consumed);
		len -= consumed;
	}
	assert_int_equal(len, 0);
}

static void test_versions_and_connection(void **state)
{
	struct http_parser p;
	size_t c;

	(void)state;
	assert_int_equal(parse_str(&p, "GET / HTTP/1.0\r\n\r\n", &c), HTTP_PARSE_DONE);
	assert_false(p.req.keep_alive);
	assert_int_equal(parse_str(&p, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &c),
			 HTTP_PARSE_DONE);
	assert_true(p.req.keep_alive);
	assert_int_equal(parse_str(&p, "GET / HTTP/1.1\r\nconnection: foo, CLOSE\r\n\r\n", &c),
			 HTTP_PARSE_DONE);
	assert_false(p.req.keep_alive);
	/* Bare LF line ends, absolute-form target, a query string. */
	assert_int_equal(parse_str(&p, "GET http://localhost/api/v1/vm.info?a=b HTTP/1.1\n\n", &c),
			 HTTP_PARSE_DONE);
	assert_string_equal(p.req.path, "/api/v1/vm.info");
	assert_int_equal(parse_str(&p, "HEAD / HTTP/1.1\r\n\r\n", &c), HTTP_PARSE_DONE);
	assert_int_equal(p.req.method, HTTP_HEAD);
	/* The same Content-Length twice is fine, the body waits. */
	assert_int_equal(parse_str(&p, "PUT / HTTP/1.1\r\nContent-Length: 3\r\n"
				   "Content-Length: 3\r\n\r\nab", &c), HTTP_PARSE_MORE);
}

static void test_expect_continue(void **state)
{
	struct http_parser p;
	size_t c;

	(void)state;
	assert_int_equal(parse_str(&p, "PUT /x HTTP/1.1\r\nExpect: 100-Continue\r\n"
				   "Content-Length: 5\r\n\r\n", &c), HTTP_PARSE_MORE);
	assert_true(http_head_done(&p));
	assert_true(p.req.expect_continue);
	assert_int_equal(parse_str(&p, "PUT /x HTTP/1.1\r\nContent-Length: 5\r\n", &c),
			 HTTP_PARSE_MORE);
	assert_false(http_head_done(&p));
	assert_int_equal(error_of("PUT /x HTTP/1.1\r\nExpect: something-else\r\n\r\n"), 417);
}

static char *repeat(const char *head, char c, size_t n, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *s = malloc(hl + n + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, c, n);
	memcpy(s + hl + n, tail, tl + 1);
	return s;
}

static void test_limits(void **state)
{
	struct http_parser p;
	size_t c;
	char *s;

	(void)state;
	/* Header fields beyond 16 KiB: 431, whether the blank line comes or not. */
	s = repeat("GET / HTTP/1.1\r\nX-Big: ", 'a', HTTP_MAX_HEAD_BYTES, "\r\n\r\n");
	assert_int_equal(error_of(s), 431);
	s[HTTP_MAX_HEAD_BYTES] = '\0';
	assert_int_equal(error_of(s), 431);
	free(s);
	/* Just under the limit is fine. */
	s = repeat("GET / HTTP/1.1\r\nX-Big: ", 'a', HTTP_MAX_HEAD_BYTES - 40, "\r\n\r\n");
	assert_int_equal(parse_str(&p, s, &c), HTTP_PARSE_DONE);
	free(s);
	/* A request line that never ends, a target over 1 KiB: 414. */
	s = repeat("GET /", 'a', HTTP_MAX_HEAD_BYTES, "");
	assert_int_equal(error_of(s), 414);
	free(s);
	s = repeat("GET /", 'a', HTTP_MAX_TARGET_BYTES, " HTTP/1.1\r\n\r\n");
	assert_int_equal(error_of(s), 414);
	free(s);
	s = repeat("GET /", 'a', HTTP_MAX_TARGET_BYTES - 1, " HTTP/1.1\r\n\r\n");
	assert_int_equal(parse_str(&p, s, &c), HTTP_PARSE_DONE);
	free(s);
	/* Bodies: 1 MiB is allowed (and awaited), one byte more is 413 at once. */
	assert_int_equal(parse_str(&p, "PUT / HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n", &c),
			 HTTP_PARSE_MORE);
	assert_int_equal(error_of("PUT / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n"), 413);
	assert_int_equal(error_of("PUT / HTTP/1.1\r\nContent-Length: "
				  "99999999999999999999999999999999\r\n\r\n"), 413);
}

static void test_malformed(void **state)
{
	static const struct { const char *req; int status; } cases[] = {
		{ "GET /\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 \r\n\r\n", 400 },
		{ " GET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/0.9\r\n\r\n", 505 },
		{ "GET / HTTPS/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.10\r\n\r\n", 400 },
		{ "GET / http/1.1\r\n\r\n", 400 },
		{ "BREW / HTTP/1.1\r\n\r\n", 501 },
		{ "get / HTTP/1.1\r\n\r\n", 501 },
		{ "G(T / HTTP/1.1\r\n\r\n", 400 },
		{ "GET foo HTTP/1.1\r\n\r\n", 400 },
		{ "GET http://host HTTP/1.1\r\n\r\n", 400 },
		{ "GET /a\x01 HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nName : x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400 },
		{ "PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "PUT / HTTP/1.1\r\nContent-Length: 1a\r\n\r\n", 400 },
		{ "PUT / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400 },
		{ "PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400 },
		{ "PUT / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400 },
		{ "PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
		{ "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411 },
		{ "PUT / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n", 411 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].req);
		assert_int_equal(error_of(cases[i].req), cases[i].status);
	}
	/* A NUL in the request line. */
	{
		const char s[] = "GET /a\0b HTTP/1.1\r\n\r\n";
		struct http_parser p;
		size_t c;

		http_parser_reset(&p);
		assert_int_equal(http_parse(&p, s, sizeof(s) - 1, &c), HTTP_PARSE_ERROR);
		assert_int_equal(p.error_status, 400);
		/* Once failed, it stays failed. */
		assert_int_equal(http_parse(&p, s, sizeof(s) - 1, &c), HTTP_PARSE_ERROR);
	}
}

static char *write_str(const struct http_response *resp)
{
	struct http_buf b = { 0 };

	assert_int_equal(http_write_response(&b, resp), 0);
	assert_int_equal(http_buf_append(&b, "", 1), 0);
	return b.data;
}

static void test_responses(void **state)
{
	struct http_response r = { .status = 200, .body = "{}", .body_len = 2 };
	char *s;

	(void)state;
	s = write_str(&r);
	assert_string_equal(s, "HTTP/1.1 200 OK\r\nServer: phyllo-vmm\r\n"
			    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
	free(s);
	r.head_only = true; /* HEAD: the length, no body */
	s = write_str(&r);
	assert_string_equal(s, "HTTP/1.1 200 OK\r\nServer: phyllo-vmm\r\n"
			    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n");
	free(s);
	r = (struct http_response){ .status = 204, .close = true };
	s = write_str(&r);
	assert_string_equal(s, "HTTP/1.1 204 No Content\r\nServer: phyllo-vmm\r\n"
			    "Connection: close\r\n\r\n");
	free(s);
	r = (struct http_response){ .status = 405, .allow = "PUT", .body = "[]",
				    .body_len = 2, .content_type = "text/plain" };
	s = write_str(&r);
	assert_string_equal(s, "HTTP/1.1 405 Method Not Allowed\r\nServer: phyllo-vmm\r\n"
			    "Content-Type: text/plain\r\nContent-Length: 2\r\nAllow: PUT\r\n\r\n[]");
	free(s);
	r = (struct http_response){ .status = 100 };
	s = write_str(&r);
	assert_string_equal(s, "HTTP/1.1 100 Continue\r\n\r\n");
	free(s);
	assert_string_equal(http_status_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_method_name(HTTP_PUT), "PUT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_get),
		cmocka_unit_test(test_split_at_every_byte),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_versions_and_connection),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
