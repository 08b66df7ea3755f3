/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging and assertions shared by every part of Phyllome.
 *
 * Messages go to stderr (or to the --log-file) with a level prefix. The
 * VMM's stdout belongs to the guest's serial console, so nothing here ever
 * writes to stdout.
 *
 * ALWAYS(x)/NEVER(x) follow sqlite: they mark states we believe impossible.
 * In every build they log the broken belief and evaluate to the condition,
 * so the caller can still take the safe path instead of crashing.
 */
#ifndef PHYLLO_LOG_H
#define PHYLLO_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
/* The prefix of every line ("phyllo-vmm" unless set; a static string). */
void log_set_program(const char *name);
enum log_level log_get_level(void);
/* Redirect messages to PATH (appending). Returns 0 or -errno. */
int log_set_file(const char *path);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool log_broken_belief(const char *belief, const char *file, int line);
/* Format a one-line error message into a caller's buffer (parsers and
 * loaders report problems this way; the caller decides where they go). */
void errbuf_set(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pr_err(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)                                                        \
	do {                                                                 \
		if (log_get_level() >= LOG_DEBUG)                            \
			log_msg(LOG_DEBUG, __VA_ARGS__);                     \
	} while (0)

/* Statement expressions (GNU C) so a bare `ALWAYS(x);` is not "unused". */
#define ALWAYS(x)                                                            \
	({                                                                   \
		bool always_ok_ = (x);                                       \
		if (!always_ok_)                                             \
			log_broken_belief(#x " is false", __FILE__, __LINE__);         \
		always_ok_;                                                  \
	})
#define NEVER(x)                                                             \
	({                                                                   \
		bool never_hit_ = (x);                                       \
		if (never_hit_)                                              \
			log_broken_belief(#x " is true", __FILE__, __LINE__);  \
		never_hit_;                                                  \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
