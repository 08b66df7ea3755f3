/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What store.c (images, tags, events, the schema) and store_vm.c (VMs)
 * share and nobody else sees: the connection and the helpers that turn
 * SQLite's results into the store's -errno and messages (store.h).
 */
#ifndef PHYLLO_MANAGER_STORE_PRIV_H
#define PHYLLO_MANAGER_STORE_PRIV_H

#include <pthread.h>
#include <stddef.h>

#include <sqlite3.h>

#include "manager/store.h"

struct store {
	sqlite3 *db;
	char *path;
	pthread_mutex_t lock;
};

/* -EIO with "PATH: WHAT: sqlite's message" in err. */
int store_db_fail(struct store *s, const char *what, char *err, size_t errlen);
/* Run SQL that returns no rows. */
int store_exec(struct store *s, const char *sql, char *err, size_t errlen);
sqlite3_stmt *store_prepare(struct store *s, const char *sql, char *err, size_t errlen);
/* Step a bound statement that returns no rows, then finalize it;
 * -EEXIST on a constraint. */
int store_step_done(struct store *s, sqlite3_stmt *st, char *err, size_t errlen);
/* A text column, strdup'd ("" for NULL); NULL only when out of memory. */
char *store_column_dup(sqlite3_stmt *st, int col);

#endif
