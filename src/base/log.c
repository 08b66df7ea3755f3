// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Logging: one line per message, prefixed with the program name and level,
 * written with a single write() so lines from vCPU threads never interleave.
 */
#include "base/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level current_level = LOG_WARN;
static int log_fd = STDERR_FILENO;
static const char *prog_name = "phyllo-vmm";

void log_set_program(const char *name) { prog_name = name; }

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

int log_set_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	return 0;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	va_list ap;
	int n;

	if (level > current_level)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", prog_name, names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) < 0) {
		/* Nowhere left to report to. */
	}
}

bool log_broken_belief(const char *belief, const char *file, int line)
{
	log_msg(LOG_ERROR, "internal error: %s at %s:%d", belief, file, line);
	return true;
}

void errbuf_set(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}
