// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Helpers shared by the block layer tests (see blk_test.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blk_test.h"
#include "base/log.h"

static char scratch[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_scratch(void)
{
	if (scratch[0] && !getenv("BLK_TEST_KEEP"))
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *bt_dir(void)
{
	const char *base = getenv("BLK_TEST_DIR");

	if (scratch[0])
		return scratch;
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(scratch, sizeof(scratch), "%s/phyllo-blk-XXXXXX", base);
	if (!mkdtemp(scratch))
		fail_msg("mkdtemp %s: %s", scratch, strerror(errno));
	atexit(remove_scratch);
	return scratch;
}

const char *bt_path(const char *name)
{
	static char ring[8][512];
	static unsigned next;
	char *p = ring[next++ % 8];

	snprintf(p, sizeof(ring[0]), "%s/%s", bt_dir(), name);
	return p;
}

int bt_sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	f = popen(cmd, "r");
	if (!f)
		fail_msg("popen %s: %s", cmd, strerror(errno));
	if (out && outlen) {
		n = fread(out, 1, outlen - 1, f);
		out[n] = '\0';
	}
	/* Drain the rest so the child never blocks on a full pipe. */
	{
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), f) > 0)
			;
	}
	status = pclose(f);
	if (status < 0)
		fail_msg("pclose: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void bt_require_qemu(void)
{
	char out[256];

	if (bt_sh(out, sizeof(out), "qemu-img --version") != 0)
		fail_msg("qemu-img is needed by this test (Debian package qemu-utils): %s", out);
}

void bt_qemu_check_clean(const char *path)
{
	char out[8192];
	int rc = bt_sh(out, sizeof(out), "qemu-img check '%s'", path);

	if (rc != 0 || !strstr(out, "No errors were found"))
		fail_msg("qemu-img check %s: exit %d\n%s", path, rc, out);
}

uint64_t bt_rand(uint64_t *state)
{
	/* splitmix64: small, seeded, good enough to pick offsets and bytes. */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void bt_fill_random(void *buf, size_t len, uint64_t *state)
{
	uint8_t *p = buf;

	while (len >= 8) {
		uint64_t v = bt_rand(state);

		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t v = bt_rand(state);

		memcpy(p, &v, len);
	}
}

void bt_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	if (len && write(fd, buf, len) != (ssize_t)len)
		fail_msg("write %s: %s", path, strerror(errno));
	close(fd);
}

void *bt_read_file(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	if (st.st_size && read(fd, buf, (size_t)st.st_size) != st.st_size)
		fail_msg("read %s: %s", path, strerror(errno));
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

uint64_t bt_hash_file(const char *path)
{
	size_t len;
	uint8_t *buf = bt_read_file(path, &len);
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	free(buf);
	return h;
}

struct blk *bt_open(const char *path, bool readonly, int format)
{
	struct blk_open_opts o = { .readonly = readonly, .format = format };
	struct blk *b = NULL;
	char err[512];
	int ret = blk_open(path, &o, &b, err, sizeof(err));

	if (ret)
		fail_msg("blk_open %s: %s (%d)", path, err, ret);
	return b;
}

void *bt_read_all(struct blk *b)
{
	uint64_t size = blk_size(b);
	uint8_t *buf = malloc(size ? size : 1);
	struct iovec iov = { buf, size };

	assert_non_null(buf);
	assert_int_equal(blk_read(b, 0, &iov, 1), 0);
	return buf;
}

static char log_path[512];

void bt_log_capture_start(void)
{
	snprintf(log_path, sizeof(log_path), "%s", bt_path("log.txt"));
	unlink(log_path);
	assert_int_equal(log_set_file(log_path), 0);
}

char *bt_log_capture_end(void)
{
	size_t len;
	char *text;

	/* log.c has no "back to stderr": /dev/stderr is the same file. */
	assert_int_equal(log_set_file("/dev/stderr"), 0);
	text = bt_read_file(log_path, &len);
	text[len] = '\0';
	return text;
}
