// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * base/file: bounded whole-file reads refuse what they must (missing, not a
 * regular file, too large) with a message naming the file, and read the
 * rest byte for byte; file:// URLs give a path only in the file:///PATH form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"

static char dir[] = "/tmp/phyllo-test-file.XXXXXX";

static void write_bytes(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_read_all(void **state)
{
	char path[64], err[256];
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	write_bytes(path, "hello\0world", 11);
	assert_int_equal(file_read_all(path, 11, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(buf, "hello\0world", 11);
	free(buf);

	assert_int_equal(file_read_all(path, 10, &buf, &len, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "too large"));

	write_bytes(path, "", 0);
	buf = NULL;
	assert_int_equal(file_read_all(path, 0, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	assert_non_null(buf);
	free(buf);
	unlink(path);
}

static void test_read_refusals(void **state)
{
	char path[64], err[256];
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(file_read_all(path, 100, &buf, &len, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open"));
	assert_non_null(strstr(err, path));

	assert_int_equal(file_read_all(dir, 100, &buf, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(file_read_all("/dev/zero", 100, &buf, &len, err, sizeof(err)), -EINVAL);
	assert_null(buf);
}

static void test_url_path(void **state)
{
	(void)state;
	assert_string_equal(file_url_path("file:///tmp/snap"), "/tmp/snap");
	assert_string_equal(file_url_path("file:///"), "/");
	assert_null(file_url_path("file://tmp/snap")); /* a host, not a path */
	assert_null(file_url_path("file://"));
	assert_null(file_url_path("http:///x"));
	assert_null(file_url_path("/tmp/snap"));
	assert_null(file_url_path(""));
	assert_null(file_url_path(NULL));
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_all),
		cmocka_unit_test(test_read_refusals),
		cmocka_unit_test(test_url_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
