// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manager's SQLite database (store.h says what it holds and why).
 *
 * SQLite does the hard parts: atomic transactions that survive a kill or
 * a power cut (journal_mode=WAL, synchronous=FULL), foreign keys, and one
 * writer at a time across threads (the connection is opened in serialized
 * mode and every change is one transaction). What is ours: the schema and
 * its migrations, and the rules of references and tags.
 */
#include "manager/store.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/log.h"
#include "manager/store_priv.h"


void store_lock(struct store *s)
{
	pthread_mutex_lock(&s->lock);
}

void store_unlock(struct store *s)
{
	pthread_mutex_unlock(&s->lock);
}

/*
 * Migration N brings a file from schema N-1 to N; never edit one that has
 * shipped, add the next. Version 0 is an empty file.
 */
static const char *const migrations[] = {
	[1] =
	"CREATE TABLE images ("
	"  id TEXT PRIMARY KEY,"
	"  format TEXT NOT NULL CHECK (format IN ('raw', 'qcow2', 'iso')),"
	"  size INTEGER NOT NULL,"
	"  virtual_size INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  path TEXT NOT NULL);"
	"CREATE TABLE tags ("
	"  name TEXT PRIMARY KEY,"
	"  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
	"CREATE INDEX tags_image ON tags(image_id);"
	"CREATE TABLE vms ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  image_id TEXT REFERENCES images(id),"
	"  state TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  message TEXT NOT NULL);",
	/* 2: what a VM is made of and what became of its process. */
	[2] =
	"ALTER TABLE vms ADD COLUMN cpus INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE vms ADD COLUMN memory_mib INTEGER NOT NULL DEFAULT 512;"
	"ALTER TABLE vms ADD COLUMN disk TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE vms ADD COLUMN config TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE vms ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE vms ADD COLUMN started INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE vms ADD COLUMN reason TEXT NOT NULL DEFAULT '';",
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION + 1,
	       "STORE_SCHEMA_VERSION is the last migration");

int store_db_fail(struct store *s, const char *what, char *err, size_t errlen)
{
	errbuf_set(err, errlen, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	return -EIO;
}

int store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		errbuf_set(err, errlen, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

sqlite3_stmt *store_prepare(struct store *s, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_db_fail(s, "prepare", err, errlen);
		return NULL;
	}
	return st;
}

/* Run a statement that returns no rows (bound already), then finalize. */
int store_step_done(struct store *s, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);
	int ret = 0;

	if (rc == SQLITE_CONSTRAINT)
		ret = -EEXIST;
	else if (rc != SQLITE_DONE)
		ret = store_db_fail(s, "write", err, errlen);
	if (ret == -EEXIST)
		errbuf_set(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return ret;
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st = store_prepare(s, "PRAGMA user_version", NULL, 0);
	int v = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
	int v = store_schema_version(s);

	if (v < 0)
		return store_db_fail(s, "reading the schema version", err, errlen);
	if (v > STORE_SCHEMA_VERSION) {
		errbuf_set(err, errlen,
			   "%s: schema version %d is newer than this phyllod knows (%d): "
			   "a newer Phyllome wrote it; run that one", s->path, v,
			   STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	for (int n = v + 1; n <= STORE_SCHEMA_VERSION; n++) {
		char sql[64];
		int ret = store_exec(s, "BEGIN IMMEDIATE", err, errlen);

		if (ret)
			return ret;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", n);
		ret = store_exec(s, migrations[n], err, errlen);
		if (!ret)
			ret = store_exec(s, sql, err, errlen);
		if (!ret)
			ret = store_exec(s, "COMMIT", err, errlen);
		if (ret) {
			store_exec(s, "ROLLBACK", NULL, 0);
			return ret;
		}
		pr_info("%s: schema migrated to version %d", s->path, n);
	}
	return 0;
}

int store_open(struct store **out, const char *path, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s || !(s->path = strdup(path))) {
		free(s);
		errbuf_set(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		ret = s->db ? store_db_fail(s, "open", err, errlen) : -ENOMEM;
		if (!s->db)
			errbuf_set(err, errlen, "%s: out of memory", path);
		store_close(s);
		return ret;
	}
	/* Another thread's transaction: wait a little rather than fail. */
	sqlite3_busy_timeout(s->db, 5000);
	ret = store_exec(s, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;"
		      "PRAGMA synchronous = FULL", err, errlen);
	if (!ret) {
		/* A file that is not a database fails here, by name. */
		ret = store_exec(s, "SELECT count(*) FROM sqlite_schema", err, errlen);
	}
	if (!ret)
		ret = migrate(s, err, errlen);
	if (ret) {
		store_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}

void store_image_clear(struct store_image *im)
{
	free(im->source);
	free(im->path);
	for (size_t i = 0; i < im->ntags; i++)
		free(im->tags[i]);
	free(im->tags);
	memset(im, 0, sizeof(*im));
}

void store_image_list_free(struct store_image *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_image_clear(&list[i]);
	free(list);
}

int store_image_add(struct store *s, const struct store_image *im, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO images (id, format, size, virtual_size, "
				      "created, source, path) VALUES (?, ?, ?, ?, ?, ?, ?)",
				   err, errlen);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, im->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, im->format, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)im->size);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)im->virtual_size);
	sqlite3_bind_int64(st, 5, im->created);
	sqlite3_bind_text(st, 6, im->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, im->path, -1, SQLITE_STATIC);
	ret = store_step_done(s, st, err, errlen);
	if (ret == -EEXIST)
		errbuf_set(err, errlen, "image %.12s is already in the store", im->id);
	return ret;
}

char *store_column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

static int load_tags(struct store *s, struct store_image *im, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT name FROM tags WHERE image_id = ? ORDER BY name",
				   err, errlen);
	int rc;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, im->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **t = realloc(im->tags, (im->ntags + 1) * sizeof(*t));

		if (!t || !(t[im->ntags] = store_column_dup(st, 0))) {
			if (t)
				im->tags = t;
			sqlite3_finalize(st);
			errbuf_set(err, errlen, "out of memory");
			return -ENOMEM;
		}
		im->tags = t;
		im->ntags++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_fail(s, "reading tags", err, errlen);
}

#define IMAGE_COLUMNS "id, format, size, virtual_size, created, source, path"

static int image_from_row(struct store *s, sqlite3_stmt *st, struct store_image *im, char *err,
			  size_t errlen)
{
	memset(im, 0, sizeof(*im));
	snprintf(im->id, sizeof(im->id), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(im->format, sizeof(im->format), "%s", (const char *)sqlite3_column_text(st, 1));
	im->size = (uint64_t)sqlite3_column_int64(st, 2);
	im->virtual_size = (uint64_t)sqlite3_column_int64(st, 3);
	im->created = sqlite3_column_int64(st, 4);
	im->source = store_column_dup(st, 5);
	im->path = store_column_dup(st, 6);
	if (!im->source || !im->path) {
		store_image_clear(im);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return load_tags(s, im, err, errlen);
}

int store_image_get(struct store *s, const char *id, struct store_image *out, char *err,
		    size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?",
				   err, errlen);
	int rc, ret;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret = image_from_row(s, st, out, err, errlen);
	} else if (rc == SQLITE_DONE) {
		errbuf_set(err, errlen, "no image %.12s", id);
		ret = -ENOENT;
	} else {
		ret = store_db_fail(s, "reading an image", err, errlen);
	}
	sqlite3_finalize(st);
	return ret;
}

int store_image_list(struct store *s, struct store_image **out, size_t *n, char *err,
		     size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " IMAGE_COLUMNS " FROM images "
				      "ORDER BY created DESC, id", err, errlen);
	struct store_image *list = NULL;
	size_t count = 0;
	int rc, ret = 0;

	*out = NULL;
	*n = 0;
	if (!st)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_image *l = realloc(list, (count + 1) * sizeof(*l));

		if (!l) {
			errbuf_set(err, errlen, "out of memory");
			ret = -ENOMEM;
			break;
		}
		list = l;
		ret = image_from_row(s, st, &list[count], err, errlen);
		if (ret)
			break;
		count++;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_db_fail(s, "listing images", err, errlen);
	sqlite3_finalize(st);
	if (ret) {
		store_image_list_free(list, count);
		return ret;
	}
	*out = list;
	*n = count;
	return 0;
}

int ref_is_id_prefix(const char *ref)
{
	size_t n = strlen(ref);

	if (n < 4 || n > STORE_ID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)ref[i]) || isupper((unsigned char)ref[i]))
			return 0;
	}
	return 1;
}

static bool name_char(char c, bool tag)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-' || (tag && c >= 'A' && c <= 'Z');
}

int ref_normalize(const char *ref, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *colon = strchr(ref, ':');
	size_t nlen = colon ? (size_t)(colon - ref) : strlen(ref);
	const char *tag = colon ? colon + 1 : "latest";
	size_t tlen = strlen(tag);

	if (nlen == 0 || nlen > 64 || !isalnum((unsigned char)ref[0])) {
		errbuf_set(err, errlen, "'%s': a name starts with a letter or digit and has "
			   "1 to 64 characters", ref);
		return -EINVAL;
	}
	for (size_t i = 0; i < nlen; i++) {
		if (!name_char(ref[i], false)) {
			errbuf_set(err, errlen, "'%s': a name has only lower-case letters, "
				   "digits, '.', '_' and '-'", ref);
			return -EINVAL;
		}
	}
	if (tlen == 0 || tlen > 128 || tag[0] == '.' || tag[0] == '-') {
		errbuf_set(err, errlen, "'%s': a tag after ':' has 1 to 128 characters and "
			   "does not start with '.' or '-'", ref);
		return -EINVAL;
	}
	for (size_t i = 0; i < tlen; i++) {
		if (!name_char(tag[i], true)) {
			errbuf_set(err, errlen, "'%s': a tag has only letters, digits, '.', "
				   "'_' and '-'", ref);
			return -EINVAL;
		}
	}
	if (nlen + 1 + tlen + 1 > outlen) {
		errbuf_set(err, errlen, "'%s': too long", ref);
		return -EINVAL;
	}
	snprintf(out, outlen, "%.*s:%s", (int)nlen, ref, tag);
	return 0;
}

int store_image_resolve(struct store *s, const char *ref, char id[STORE_ID_LEN + 1], char *err,
			size_t errlen)
{
	char tag[200], like[STORE_ID_LEN + 2];
	sqlite3_stmt *st;
	int rc, found = 0;

	id[0] = '\0';
	if (ref_normalize(ref, tag, sizeof(tag), NULL, 0) == 0) {
		st = store_prepare(s, "SELECT image_id FROM tags WHERE name = ?", err, errlen);
		if (!st)
			return -EIO;
		sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			snprintf(id, STORE_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			return 0;
		if (rc != SQLITE_DONE)
			return store_db_fail(s, "reading tags", err, errlen);
	}
	if (!ref_is_id_prefix(ref)) {
		errbuf_set(err, errlen, "no image '%s'", ref);
		return -ENOENT;
	}
	snprintf(like, sizeof(like), "%s%%", ref);
	st = store_prepare(s, "SELECT id FROM images WHERE id LIKE ? ORDER BY id LIMIT 3", err, errlen);
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
	char names[3][13] = {{0}};
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && found < 3) {
		const char *t = (const char *)sqlite3_column_text(st, 0);

		if (found == 0)
			snprintf(id, STORE_ID_LEN + 1, "%s", t);
		snprintf(names[found++], sizeof(names[0]), "%.12s", t);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_fail(s, "reading images", err, errlen);
	if (found == 0) {
		errbuf_set(err, errlen, "no image '%s'", ref);
		return -ENOENT;
	}
	if (found > 1) {
		id[0] = '\0';
		errbuf_set(err, errlen, "'%s' names more than one image (%s, %s%s): give more of "
			   "the ID", ref, names[0], names[1], found > 2 ? ", ..." : "");
		return -EINVAL;
	}
	return 0;
}

int store_image_remove(struct store *s, const char *id, char *err, size_t errlen)
{
	char users[256] = "";
	size_t used = 0;
	int nusers = 0, rc, ret;
	sqlite3_stmt *st;

	ret = store_exec(s, "BEGIN IMMEDIATE", err, errlen);
	if (ret)
		return ret;
	st = store_prepare(s, "SELECT name FROM vms WHERE image_id = ? ORDER BY name", err, errlen);
	if (!st) {
		store_exec(s, "ROLLBACK", NULL, 0);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int w = snprintf(users + used, sizeof(users) - used, "%s%s", nusers ? ", " : "",
				 (const char *)sqlite3_column_text(st, 0));

		nusers++;
		if (w > 0 && (size_t)w < sizeof(users) - used)
			used += (size_t)w;
		else
			used = sizeof(users) - 1;
	}
	sqlite3_finalize(st);
	if (nusers) {
		store_exec(s, "ROLLBACK", NULL, 0);
		errbuf_set(err, errlen, "image %.12s is used by %s %s: remove %s first", id,
			   nusers == 1 ? "VM" : "VMs", users, nusers == 1 ? "it" : "them");
		return -EBUSY;
	}
	st = store_prepare(s, "DELETE FROM images WHERE id = ?", err, errlen);
	if (!st) {
		store_exec(s, "ROLLBACK", NULL, 0);
		return -EIO;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	ret = store_step_done(s, st, err, errlen);
	if (!ret && sqlite3_changes(s->db) == 0) {
		errbuf_set(err, errlen, "no image %.12s", id);
		ret = -ENOENT;
	}
	if (!ret)
		ret = store_exec(s, "COMMIT", err, errlen);
	if (ret)
		store_exec(s, "ROLLBACK", NULL, 0);
	return ret;
}

int store_tag_set(struct store *s, const char *tag, const char *id, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO tags (name, image_id) VALUES (?1, ?2) "
				      "ON CONFLICT (name) DO UPDATE SET image_id = ?2",
				   err, errlen);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	ret = store_step_done(s, st, err, errlen);
	if (ret == -EEXIST) {
		/* The only constraint left is the image's foreign key. */
		errbuf_set(err, errlen, "no image %.12s to tag '%s'", id, tag);
		ret = -ENOENT;
	}
	return ret;
}

int store_tag_remove(struct store *s, const char *tag, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "DELETE FROM tags WHERE name = ?", err, errlen);
	int ret;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, tag, -1, SQLITE_STATIC);
	ret = store_step_done(s, st, err, errlen);
	if (!ret && sqlite3_changes(s->db) == 0) {
		errbuf_set(err, errlen, "no tag '%s'", tag);
		ret = -ENOENT;
	}
	return ret;
}

void store_event(struct store *s, const char *kind, const char *subject, const char *fmt, ...)
{
	char msg[512], err[256];
	va_list ap;
	sqlite3_stmt *st;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st = store_prepare(s, "INSERT INTO events (time, kind, subject, message) VALUES (?, ?, ?, ?)",
		     err, sizeof(err));
	if (!st) {
		pr_warn("event not recorded: %s", err);
		return;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, msg, -1, SQLITE_STATIC);
	if (store_step_done(s, st, err, sizeof(err)))
		pr_warn("event not recorded: %s", err);
}
