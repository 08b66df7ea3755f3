// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The manager's state and images against a real SQLite file and real
 * image files (qemu-img makes the qcow2 ones): references, the schema's
 * migrations and refusals, import (formats, damaged files, the same
 * contents twice, holes kept), removal as `docker rmi` does it, recovery
 * after a kill, and the REST routes through mgr_handle().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "manager/image.h"
#include "manager/mgr.h"
#include "manager/store.h"

static char dir[64];

__attribute__((format(printf, 1, 2))) static void sh_ok(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("'%s' failed (%d)", cmd, rc);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/phyllo-mgr-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	sh_ok("rm -rf '%s'", dir);
	return 0;
}

static const char *path_in(const char *name)
{
	static char p[8][512];
	static int n;
	char *r = p[n++ % 8];

	snprintf(r, 512, "%s/%.400s", dir, name);
	return r;
}

static void write_file(const char *path, const void *data, size_t len, off_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	if (len)
		assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
	if (size)
		assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static struct store *open_db(void)
{
	struct store *s;
	char err[512];
	int ret = store_open(&s, path_in("db"), err, sizeof(err));

	if (ret)
		fail_msg("store_open: %s", err);
	return s;
}

static void test_refs(void **state)
{
	char out[256], err[256];

	assert_int_equal(ref_normalize("debian", out, sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "debian:latest");
	assert_int_equal(ref_normalize("deb-12.x_y:Bookworm-1.0", out, sizeof(out), err,
				       sizeof(err)), 0);
	assert_string_equal(out, "deb-12.x_y:Bookworm-1.0");
	assert_int_equal(ref_normalize("Debian", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'Debian'"));
	assert_int_equal(ref_normalize("", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_int_equal(ref_normalize("-x", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_int_equal(ref_normalize("a:", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_int_equal(ref_normalize("a:-b", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_int_equal(ref_normalize("a:b:c", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_int_equal(ref_normalize("a/b", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_int_equal(ref_normalize("../etc", out, sizeof(out), err, sizeof(err)), -EINVAL);
	assert_true(ref_is_id_prefix("1b7a"));
	assert_false(ref_is_id_prefix("1b7"));
	assert_false(ref_is_id_prefix("1B7A"));
	assert_false(ref_is_id_prefix("1b7g"));

	image_default_tag("/x/Debian-12 (Generic).QCOW2", out, sizeof(out));
	assert_string_equal(out, "debian-12--generic-:latest");
	image_default_tag("/x/.hidden.iso", out, sizeof(out));
	assert_string_equal(out, "hidden:latest");
	image_default_tag("/x/!!!", out, sizeof(out));
	assert_string_equal(out, "image:latest");
}

static void test_schema(void **state)
{
	struct store *s = open_db();
	char err[512];
	sqlite3 *db;

	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	/* Reopening migrates nothing and keeps the version. */
	s = open_db();
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);

	/* A file from a newer phyllod is refused, untouched. */
	assert_int_equal(sqlite3_open(path_in("db"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&s, path_in("db"), err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "schema version 99 is newer"));
	assert_null(s);

	/* A file that is not a database, by name. */
	write_file(path_in("notdb"), "hello, this is not SQLite, not at all......", 44, 8192);
	assert_int_equal(store_open(&s, path_in("notdb"), err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "notdb"));
}

static int import(struct store *s, const char *file, const char *format, const char *tag,
		  struct store_image *im, bool *created, char *err, size_t errlen)
{
	struct image_import_req req = { .path = file, .format = format, .tag = tag };

	sh_ok("mkdir -p '%s'", path_in("images"));
	return image_import(s, path_in("images"), &req, im, created, err, errlen);
}

static void test_import_formats(void **state)
{
	struct store *s = open_db();
	struct store_image im;
	char err[512], iso[0x8800] = {0};
	bool created;
	struct stat st;

	/* qcow2, checked by the block layer; its virtual size, not its file's. */
	sh_ok("qemu-img create -q -f qcow2 '%s' 64M", path_in("Disk.qcow2"));
	assert_int_equal(import(s, path_in("Disk.qcow2"), NULL, NULL, &im, &created, err,
				sizeof(err)), 0);
	assert_true(created);
	assert_string_equal(im.format, "qcow2");
	assert_int_equal(im.virtual_size, 64 << 20);
	assert_int_equal(im.ntags, 1);
	assert_string_equal(im.tags[0], "disk:latest");
	assert_int_equal(stat(im.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	sh_ok("qemu-img check -q '%s'", im.path);
	sh_ok("cmp -s '%s' '%s'", im.path, path_in("Disk.qcow2"));
	store_image_clear(&im);

	/* The same contents again: one image, a second tag. */
	assert_int_equal(import(s, path_in("Disk.qcow2"), "qcow2", "disk:two", &im, &created, err,
				sizeof(err)), 0);
	assert_false(created);
	assert_int_equal(im.ntags, 2);
	store_image_clear(&im);

	/* ISO 9660, found by its CD001. */
	memcpy(iso + 0x8001, "CD001", 5);
	write_file(path_in("cd.iso"), iso, sizeof(iso), 0);
	assert_int_equal(import(s, path_in("cd.iso"), NULL, "cd", &im, &created, err,
				sizeof(err)), 0);
	assert_string_equal(im.format, "iso");
	store_image_clear(&im);

	/* Raw, sparse: 64 MiB of holes and one byte stay a small file. */
	write_file(path_in("big.raw"), "x", 1, 64 << 20);
	assert_int_equal(import(s, path_in("big.raw"), NULL, NULL, &im, &created, err,
				sizeof(err)), 0);
	assert_string_equal(im.format, "raw");
	assert_int_equal(im.virtual_size, 64 << 20);
	assert_int_equal(stat(im.path, &st), 0);
	assert_true(st.st_blocks * 512 < (2 << 20));
	sh_ok("cmp -s '%s' '%s'", im.path, path_in("big.raw"));
	store_image_clear(&im);
	store_close(s);
}

static void test_import_refusals(void **state)
{
	struct store *s = open_db();
	struct store_image im, *list;
	char err[512];
	unsigned char bad[512] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	bool created;
	size_t n;

	write_file(path_in("plain"), "just bytes", 10, 0);
	assert_int_equal(import(s, path_in("plain"), "qcow2", NULL, &im, &created, err,
				sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "plain is not a qcow2 image"));
	assert_int_equal(import(s, path_in("plain"), "iso", NULL, &im, &created, err,
				sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an ISO 9660 image"));
	assert_int_equal(import(s, path_in("plain"), "vmdk", NULL, &im, &created, err,
				sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'vmdk'"));
	assert_int_equal(import(s, path_in("plain"), NULL, "Bad Tag", &im, &created, err,
				sizeof(err)), -EINVAL);
	assert_int_equal(import(s, "relative/path", NULL, NULL, &im, &created, err,
				sizeof(err)), -EINVAL);
	assert_int_equal(import(s, path_in("missing"), NULL, NULL, &im, &created, err,
				sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing"));
	assert_int_equal(import(s, dir, NULL, NULL, &im, &created, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	/* A damaged qcow2 (magic, then a header that makes no sense). */
	write_file(path_in("damaged.qcow2"), bad, sizeof(bad), 0);
	assert_int_equal(import(s, path_in("damaged.qcow2"), NULL, NULL, &im, &created, err,
				sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "damaged.qcow2: not a usable qcow2 image"));
	/* One that names a backing file outside the store. */
	sh_ok("qemu-img create -q -f qcow2 '%s' 1M && qemu-img create -q -f qcow2 -b '%s' "
	      "-F qcow2 '%s'", path_in("base.qcow2"), path_in("base.qcow2"), path_in("ov.qcow2"));
	assert_int_equal(import(s, path_in("ov.qcow2"), NULL, NULL, &im, &created, err,
				sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "backing file"));

	/* Nothing of those is recorded or left in images/. */
	assert_int_equal(store_image_list(s, &list, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	store_image_list_free(list, n);
	sh_ok("test -z \"$(ls -A '%s')\"", path_in("images"));
	store_close(s);
}

static void test_remove_and_resolve(void **state)
{
	struct store *s = open_db();
	struct store_image im;
	char err[512], id[STORE_ID_LEN + 1], prefix[8];
	bool created, deleted;
	sqlite3 *db;
	char path[256];

	write_file(path_in("a.raw"), "aaaa", 4, 4096);
	assert_int_equal(import(s, path_in("a.raw"), NULL, "a:1", &im, &created, err, sizeof(err)),
			 0);
	snprintf(path, sizeof(path), "%s", im.path);
	store_image_clear(&im);
	assert_int_equal(image_tag(s, "a:1", "a:2", err, sizeof(err)), 0);
	assert_int_equal(image_tag(s, "nope", "a:3", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no image 'nope'"));

	/* By ID prefix, and a prefix too short or not hex is not one. */
	assert_int_equal(store_image_resolve(s, "a:2", id, err, sizeof(err)), 0);
	snprintf(prefix, sizeof(prefix), "%.6s", id);
	assert_int_equal(store_image_resolve(s, prefix, id, err, sizeof(err)), 0);
	prefix[3] = '\0';
	assert_int_equal(store_image_resolve(s, prefix, id, err, sizeof(err)), -ENOENT);

	/* Two tags: removing one only untags. */
	assert_int_equal(image_remove(s, "a:1", false, id, &deleted, err, sizeof(err)), 0);
	assert_false(deleted);
	assert_int_equal(access(path, F_OK), 0);

	/* A VM uses it: refused, named. */
	assert_int_equal(sqlite3_open(path_in("db"), &db), SQLITE_OK);
	char sql[512];
	snprintf(sql, sizeof(sql), "INSERT INTO vms (id, name, image_id, state, created) "
		 "VALUES ('v1', 'web', '%s', 'stopped', 0)", id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(image_remove(s, "a:2", true, id, &deleted, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "used by VM web"));
	assert_int_equal(sqlite3_exec(db, "DELETE FROM vms", NULL, NULL, NULL), SQLITE_OK);

	/* Two images whose IDs share a prefix: ambiguous, both named. */
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO images VALUES ('abcd1111', 'raw', 1, 1, 0, 's', '/n/1');"
		"INSERT INTO images VALUES ('abcd2222', 'raw', 1, 1, 0, 's', '/n/2');",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_image_resolve(s, "abcd", id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "abcd1111, abcd2222"));
	assert_int_equal(store_image_resolve(s, "abcd2", id, err, sizeof(err)), 0);
	assert_string_equal(id, "abcd2222");

	/* The last tag: the image and its file go. */
	assert_int_equal(image_remove(s, "a:2", false, id, &deleted, err, sizeof(err)), 0);
	assert_true(deleted);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(image_remove(s, "a:2", false, id, &deleted, err, sizeof(err)), -ENOENT);
	store_close(s);
}

static void test_recover(void **state)
{
	struct store *s = open_db();
	struct store_image im;
	char err[512], orphan[256];
	bool created;

	write_file(path_in("k.raw"), "kept", 4, 0);
	assert_int_equal(import(s, path_in("k.raw"), NULL, NULL, &im, &created, err, sizeof(err)),
			 0);
	/* What a kill leaves: a half copy, and a renamed file never recorded. */
	write_file(path_in("images/.import-abc123"), "half", 4, 0);
	snprintf(orphan, sizeof(orphan), "images/%064d.raw", 7);
	write_file(path_in(orphan), "lost", 4, 0);
	write_file(path_in("images/unrelated.txt"), "mine", 4, 0);
	assert_int_equal(image_recover(s, path_in("images")), 2);
	assert_int_equal(access(path_in("images/.import-abc123"), F_OK), -1);
	assert_int_equal(access(path_in(orphan), F_OK), -1);
	assert_int_equal(access(im.path, F_OK), 0);
	assert_int_equal(access(path_in("images/unrelated.txt"), F_OK), 0);
	store_image_clear(&im);
	store_close(s);
}

/* One request to m; the reply's body is returned (free it). */
static char *req(struct mgr *m, const char *method, const char *path, const char *query,
		 const char *body, int want)
{
	struct mgr_reply r;

	mgr_handle(m, method, path, query, body, body ? strlen(body) : 0, &r);
	if (r.status != want)
		fail_msg("%s %s: %d, not %d: %s", method, path, r.status, want,
			 r.body ? r.body : "");
	return r.body;
}

static void test_routes(void **state)
{
	struct mgr *m, *m2;
	char err[512], body[512], *b;

	assert_int_equal(mgr_open(&m, path_in("data/deeper"), err, sizeof(err)), 0);
	/* One daemon per data folder. */
	assert_int_equal(mgr_open(&m2, path_in("data/deeper"), err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "another phyllod"));

	free(req(m, "GET", "/v1/version", NULL, NULL, 200));
	free(req(m, "PUT", "/v1/version", NULL, NULL, 405));
	free(req(m, "GET", "/v1/nothing", NULL, NULL, 404));
	free(req(m, "PATCH", "/v1/images", NULL, NULL, 405));
	b = req(m, "POST", "/v1/images", NULL, "{\"path\":", 400);
	assert_non_null(strstr(b, "not JSON"));
	free(b);
	free(req(m, "POST", "/v1/images", NULL, "[1]", 400));
	free(req(m, "POST", "/v1/images", NULL, NULL, 400));
	b = req(m, "POST", "/v1/images", NULL, "{\"path\":\"/x\",\"colour\":\"red\"}", 400);
	assert_non_null(strstr(b, "unknown key 'colour'"));
	free(b);
	b = req(m, "POST", "/v1/images", NULL, "{\"path\":7}", 400);
	assert_non_null(strstr(b, "'path' must be a string"));
	free(b);
	free(req(m, "POST", "/v1/images", NULL, "{\"tag\":\"x\"}", 400));
	free(req(m, "POST", "/v1/images", NULL, "{\"path\":\"/does/not/exist\"}", 404));

	write_file(path_in("r.img"), "data", 4, 8192);
	snprintf(body, sizeof(body), "{\"path\":\"%s\",\"tag\":\"r:1\"}", path_in("r.img"));
	free(req(m, "POST", "/v1/images", NULL, body, 201));
	free(req(m, "POST", "/v1/images", NULL, body, 200));
	b = req(m, "GET", "/v1/images", NULL, NULL, 200);
	assert_non_null(strstr(b, "\"r:1\""));
	free(b);
	free(req(m, "GET", "/v1/images/r:1", NULL, NULL, 200));
	free(req(m, "GET", "/v1/images/r:2", NULL, NULL, 404));
	free(req(m, "POST", "/v1/images/r:1/tag", NULL, "{\"tag\":\"r:2\"}", 204));
	free(req(m, "POST", "/v1/images/r:1/tag", NULL, "{\"tag\":\"R\"}", 400));
	free(req(m, "GET", "/v1/images/r:1/tag", NULL, NULL, 405));
	free(req(m, "GET", "/v1/images/r:1/else", NULL, NULL, 404));
	b = req(m, "DELETE", "/v1/images/r:1", NULL, NULL, 200);
	assert_non_null(strstr(b, "\"deleted\":false"));
	free(b);
	/* force removes the image with all its tags */
	free(req(m, "POST", "/v1/images/r:2/tag", NULL, "{\"tag\":\"r:3\"}", 204));
	b = req(m, "DELETE", "/v1/images/r:2", "force=1", NULL, 200);
	assert_non_null(strstr(b, "\"deleted\":true"));
	free(b);
	free(req(m, "GET", "/v1/images/r:3", NULL, NULL, 404));

	/* Bounded bodies. */
	struct mgr_reply r;
	mgr_handle(m, "POST", "/v1/images", NULL, "{}", MGR_MAX_BODY + 1, &r);
	assert_int_equal(r.status, 413);
	free(r.body);
	mgr_close(m);
	/* A second start finds the same state. */
	assert_int_equal(mgr_open(&m, path_in("data/deeper"), err, sizeof(err)), 0);
	b = req(m, "GET", "/v1/images", NULL, NULL, 200);
	assert_string_equal(b, "[]");
	free(b);
	mgr_close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
