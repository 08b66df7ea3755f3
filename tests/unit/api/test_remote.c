// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-remote against a real API server with a fake VMM: each command
 * sends its request, prints the answer, and a failure is one line naming
 * the HTTP status and the server's message, with exit status 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api_test.h"
#include "remote/remote.h"

struct run {
	int status;
	char out[8192], err[1024];
};

/* Run phyllo-remote with the given arguments (NULL-terminated). */
static void remote(struct run *r, const char *socket_path, ...)
{
	char *argv[16] = { "phyllo-remote" }, sock[200];
	int argc = 1;
	FILE *out = fmemopen(r->out, sizeof(r->out), "w");
	FILE *err = fmemopen(r->err, sizeof(r->err), "w");
	va_list ap;

	assert_non_null(out);
	assert_non_null(err);
	memset(r->out, 0, sizeof(r->out));
	memset(r->err, 0, sizeof(r->err));
	if (socket_path) {
		snprintf(sock, sizeof(sock), "--api-socket=%s", socket_path);
		argv[argc++] = sock;
	}
	va_start(ap, socket_path);
	for (char *a; (a = va_arg(ap, char *)) && argc < 15;)
		argv[argc++] = a;
	va_end(ap);
	r->status = remote_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	print_message("status %d, out: %s, err: %s\n", r->status, r->out, r->err);
}

static void test_commands(void **state)
{
	char file[160];
	struct test_server t;
	struct run r;
	FILE *f;

	(void)state;
	test_server_start(&t, NULL);
	remote(&r, t.path, "ping", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"version\": "));
	assert_string_equal(r.err, "");

	/* A state error: the status and the server's message on one line. */
	remote(&r, t.path, "pause", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "phyllo-remote: pause: HTTP 404 Not Found: vm.pause: no VM is "
			    "created (vm.create first)\n");
	assert_string_equal(r.out, "");

	snprintf(file, sizeof(file), "%s/vm.json", t.dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("{\"payload\": {\"kernel\": \"/boot/vmlinuz\"}, \"memory\": {\"size\": 134217728}}", f);
	fclose(f);
	remote(&r, t.path, "create", file, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, ""); /* 204: nothing to print */
	remote(&r, t.path, "create", file, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "HTTP 409 Conflict"));
	remote(&r, t.path, "info", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"state\": \"Created\""));
	assert_non_null(strstr(r.out, "\"kernel\": \"/boot/vmlinuz\""));
	remote(&r, t.path, "boot", NULL);
	assert_int_equal(r.status, 0);
	remote(&r, t.path, "counters", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "read_bytes"));
	remote(&r, t.path, "pause", NULL);
	assert_int_equal(r.status, 0);
	remote(&r, t.path, "snapshot", "file:///tmp/snap", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(t.vmm.snapshot_url, "file:///tmp/snap");
	remote(&r, t.path, "snapshot", "destination_url=file:///tmp/snap2", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(t.vmm.snapshot_url, "file:///tmp/snap2");
	remote(&r, t.path, "resume", NULL);
	assert_int_equal(r.status, 0);
	remote(&r, t.path, "power-button", NULL);
	assert_int_equal(r.status, 0);
	remote(&r, t.path, "send-keys", "ctrl-alt-delete", "enter", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(t.vmm.sent_keys, "ctrl-alt-delete enter|(none)");
	remote(&r, t.path, "type", "ls -l\n", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(t.vmm.sent_keys, "|ls -l\n");
	snprintf(file, sizeof(file), "%s/shot.png", t.dir);
	remote(&r, t.path, "screenshot", file, NULL);
	assert_int_equal(r.status, 0);
	{
		char png[16] = "";

		f = fopen(file, "rb");
		assert_non_null(f);
		assert_int_equal(fread(png, 1, sizeof(png), f), 8);
		fclose(f);
		assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
		unlink(file);
	}
	snprintf(file, sizeof(file), "%s/vm.json", t.dir);
	remote(&r, t.path, "reboot", NULL);
	assert_int_equal(r.status, 0);
	remote(&r, t.path, "shutdown", NULL);
	assert_int_equal(r.status, 0);
	remote(&r, t.path, "delete", NULL);
	assert_int_equal(r.status, 0);
	remote(&r, t.path, "restore", "file:///tmp/snap", "prefault", NULL);
	assert_int_equal(r.status, 0);
	assert_true(t.vmm.prefault);
	remote(&r, t.path, "delete", NULL);
	remote(&r, t.path, "restore", "source_url=file:///tmp/s3,prefault=off", NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(t.vmm.restore_url, "file:///tmp/s3");
	assert_false(t.vmm.prefault);
	remote(&r, t.path, "restore", "http://x", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "HTTP 404")); /* a VM exists: the contract's 404 */
	remote(&r, t.path, "shutdown-vmm", NULL);
	assert_int_equal(r.status, 0);
	unlink(file);
	test_server_stop(&t);
}

static void test_usage_errors(void **state)
{
	struct run r;

	(void)state;
	remote(&r, NULL, "--help", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: phyllo-remote --api-socket PATH COMMAND"));
	remote(&r, NULL, "--version", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "phyllo-remote "));
	remote(&r, NULL, "ping", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "--api-socket PATH is required"));
	remote(&r, "/nonexistent/phyllo.sock", "ping", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "phyllo-remote: cannot connect to API socket "
			    "'/nonexistent/phyllo.sock': No such file or directory "
			    "(is phyllo-vmm running with --api-socket?)\n");
	remote(&r, "/tmp/x.sock", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no command given"));
	remote(&r, "/tmp/x.sock", "frobnicate", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "unknown command 'frobnicate'"));
	remote(&r, "/tmp/x.sock", "boot", "now", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "boot takes no arguments"));
	remote(&r, "/tmp/x.sock", "create", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "create takes one argument"));
	remote(&r, "/tmp/x.sock", "create", "/nonexistent.json", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "cannot open '/nonexistent.json'"));
	remote(&r, "/tmp/x.sock", "snapshot", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "usage: snapshot URL"));
	remote(&r, "/tmp/x.sock", "restore", "file:///a", "later", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "cannot read 'later'"));
	remote(&r, "/tmp/x.sock", "send-keys", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "usage: send-keys COMBO..."));
	remote(&r, "/tmp/x.sock", "type", "a", "b", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "usage: type TEXT"));
	remote(&r, "/tmp/x.sock", "screenshot", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "screenshot takes one argument"));
	remote(&r, "/tmp/x.sock", "--bogus", "ping", NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "unknown option '--bogus'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
