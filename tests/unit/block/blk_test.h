/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for the block layer tests: a scratch directory (on tmpfs when
 * there is one, so thousands of fdatasyncs cost nothing), running qemu-img
 * and qemu-io, seeded random numbers, file hashes.
 *
 * qemu-img is the reference the tests check us against; a test that needs
 * it fails, loudly, when it is missing (never skips).
 */
#ifndef PHYLLO_TESTS_BLK_TEST_H
#define PHYLLO_TESTS_BLK_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block/blk.h"

/* Creates the scratch directory once; removed at exit. */
const char *bt_dir(void);
/* "<scratch dir>/NAME" in a static ring of buffers (a few live at once). */
const char *bt_path(const char *name);

/* Runs a shell command; returns its exit status. OUT (if given) gets
 * stdout+stderr. */
int bt_sh(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fails the test unless `qemu-img` runs. */
void bt_require_qemu(void);
/* qemu-img check must report no errors and no leaks. */
void bt_qemu_check_clean(const char *path);

uint64_t bt_rand(uint64_t *state);
void bt_fill_random(void *buf, size_t len, uint64_t *state);

void bt_write_file(const char *path, const void *buf, size_t len);
/* The whole file, malloc'd; *LEN gets its length. */
void *bt_read_file(const char *path, size_t *len);
uint64_t bt_hash_file(const char *path);

/* Opens or fails the test, printing blk_open's error. */
struct blk *bt_open(const char *path, bool readonly, int format);

/* Reads all of B, malloc'd. */
void *bt_read_all(struct blk *b);

/* Sends the block layer's log to a file and reads it back. */
void bt_log_capture_start(void);
/* Returns the log since the start (malloc'd) and restores stderr logging. */
char *bt_log_capture_end(void);

#endif
