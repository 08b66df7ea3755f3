// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllod's routes (mgr.h): requests are checked here, whole, before the
 * store or the image code sees them: a body that is not a JSON object of
 * the documented keys and types is a 400 naming the key, an unknown route
 * a 404, a known one with the wrong method a 405 with Allow's list in the
 * message. JSON is jansson's, as in phyllo-vmm's API.
 */
#include "manager/mgr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/log.h"
#include "manager/image.h"
#include "manager/supervise.h"
#include "manager/vm.h"
#include "phyllome-version.h"

struct mgr {
	struct store *db;
	char *images_dir;
	char *vms_dir;
	struct sup *sup;
	int lock_fd; /* data_dir/phyllod.lock, flock()ed while we run */
};

/* One daemon per data folder: a second would race the first's state. */
static int lock_data_dir(struct mgr *m, const char *data_dir, char *err, size_t errlen)
{
	char *path;
	int ret = 0;

	if (asprintf(&path, "%s/phyllod.lock", data_dir) < 0) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (m->lock_fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
	} else if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		errbuf_set(err, errlen, "%s: %s", data_dir, ret == -EBUSY ?
			   "another phyllod uses this data folder" : strerror(errno));
	}
	free(path);
	return ret;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char parent[4096];

	/* Parents first (~/.local/share may not exist yet), 0700 like it. */
	snprintf(parent, sizeof(parent), "%s", path);
	for (char *p = strchr(parent + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(parent, 0700) < 0 && errno != EEXIST)
			break; /* the final mkdir below says why */
		*p = '/';
	}

	if (mkdir(path, 0700) == 0 || (errno == EEXIST && stat(path, &st) == 0 &&
				       S_ISDIR(st.st_mode)))
		return 0;
	errbuf_set(err, errlen, "%s: %s", path,
		   errno == EEXIST ? "exists and is not a folder" : strerror(errno));
	return -errno;
}

int mgr_open(struct mgr **out, const char *data_dir, char *err, size_t errlen)
{
	struct mgr *m = calloc(1, sizeof(*m));
	char *db_path = NULL;
	int ret;

	*out = NULL;
	if (m)
		m->lock_fd = -1;
	if (!m || asprintf(&db_path, "%s/phyllome.db", data_dir) < 0 ||
	    asprintf(&m->images_dir, "%s/images", data_dir) < 0 ||
	    asprintf(&m->vms_dir, "%s/vms", data_dir) < 0) {
		free(m);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = make_dir(data_dir, err, errlen);
	if (!ret)
		ret = lock_data_dir(m, data_dir, err, errlen);
	if (!ret)
		ret = make_dir(m->images_dir, err, errlen);
	if (!ret)
		ret = make_dir(m->vms_dir, err, errlen);
	if (!ret)
		ret = store_open(&m->db, db_path, err, errlen);
	free(db_path);
	if (ret) {
		mgr_close(m);
		return ret;
	}
	image_recover(m->db, m->images_dir);
	vm_recover(m->db, m->vms_dir);
	ret = sup_open(&m->sup, m->db, NULL, err, errlen);
	if (ret) {
		mgr_close(m);
		return ret;
	}
	*out = m;
	return 0;
}

void mgr_close(struct mgr *m)
{
	if (!m)
		return;
	sup_close(m->sup);
	store_close(m->db);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	free(m->images_dir);
	free(m->vms_dir);
	free(m);
}

static void reply_json(struct mgr_reply *r, int status, json_t *v)
{
	r->status = status;
	r->body = v ? json_dumps(v, JSON_COMPACT) : NULL;
	if (v && !r->body) {
		r->status = 500;
		r->body = strdup("{\"message\":\"out of memory\"}");
	}
	json_decref(v);
}

static void __attribute__((format(printf, 3, 4)))
reply_error(struct mgr_reply *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	json_t *v;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v = json_pack("{s:s}", "message", msg);
	if (!v) {
		/* Not UTF-8 (a client's bytes echoed): say it in ASCII. */
		for (char *c = msg; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
				*c = '?';
		v = json_pack("{s:s}", "message", msg);
	}
	reply_json(r, status, v);
}

/* -errno from the store or the images -> an HTTP status. */
static int status_of(int ret)
{
	switch (ret) {
	case -EINVAL: case -EACCES: case -EPERM: case -EISDIR:
		return 400;
	case -ENOENT:
		return 404;
	case -EBUSY: case -EEXIST:
		return 409;
	case -ENOSPC: case -EDQUOT:
		return 507;
	case -ECHILD: /* phyllo-vmm refused to run the VM */
		return 502;
	default:
		return 500;
	}
}

static json_t *image_json(const struct store_image *im)
{
	json_t *tags = json_array();

	for (size_t i = 0; i < im->ntags; i++)
		json_array_append_new(tags, json_string(im->tags[i]));
	return json_pack("{s:s, s:o, s:s, s:I, s:I, s:I, s:s, s:s}", "id", im->id, "tags", tags,
			 "format", im->format, "size", (json_int_t)im->size, "virtual_size",
			 (json_int_t)im->virtual_size, "created", (json_int_t)im->created,
			 "source", im->source, "path", im->path);
}

/* body as a JSON object whose keys are all in allowed (NULL-terminated);
 * a key is a string, or an integer when its name in allowed ends in '#'. */
static json_t *parse_object(const char *body, size_t len, const char *const *allowed,
			    struct mgr_reply *r)
{
	json_error_t jerr;
	json_t *v;
	const char *key;
	json_t *val;

	if (!body || len == 0) {
		reply_error(r, 400, "the request needs a JSON object as its body");
		return NULL;
	}
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		reply_error(r, 400, "body is not JSON: %s (at line %d, column %d)", jerr.text,
			    jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		reply_error(r, 400, "the body must be a JSON object");
		return NULL;
	}
	json_object_foreach(v, key, val) {
		bool ok = false, integer = false;

		for (size_t i = 0; allowed[i]; i++) {
			size_t n = strcspn(allowed[i], "#");

			if (strlen(key) == n && strncmp(key, allowed[i], n) == 0) {
				ok = true;
				integer = allowed[i][n] == '#';
			}
		}
		if (!ok) {
			reply_error(r, 400, "unknown key '%s'", key);
			json_decref(v);
			return NULL;
		}
		if (integer ? !json_is_integer(val) || json_integer_value(val) < 0
			    : !json_is_string(val)) {
			reply_error(r, 400, "'%s' must be %s", key,
				    integer ? "a whole number, 0 or more" : "a string");
			json_decref(v);
			return NULL;
		}
	}
	return v;
}

static const char *opt_string(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "force", "force=1" or "force=true" in a query string. */
static bool query_flag(const char *query, const char *name)
{
	size_t n = strlen(name);

	for (const char *q = query; q && *q;) {
		const char *end = strchr(q, '&');
		size_t len = end ? (size_t)(end - q) : strlen(q);

		if (len >= n && strncmp(q, name, n) == 0) {
			const char *v = q + n;
			size_t vlen = len - n;

			if (vlen == 0 || (vlen == 2 && strncmp(v, "=1", 2) == 0) ||
			    (vlen == 5 && strncmp(v, "=true", 5) == 0))
				return true;
		}
		q = end ? end + 1 : NULL;
	}
	return false;
}

static void images_list(struct mgr *m, struct mgr_reply *r)
{
	struct store_image *list;
	char err[512];
	size_t n;
	int ret = store_image_list(m->db, &list, &n, err, sizeof(err));
	json_t *arr;

	if (ret) {
		reply_error(r, status_of(ret), "%s", err);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, image_json(&list[i]));
	store_image_list_free(list, n);
	reply_json(r, 200, arr);
}

static void images_import(struct mgr *m, const char *body, size_t len, struct mgr_reply *r)
{
	static const char *const keys[] = { "path", "format", "tag", NULL };
	json_t *o = parse_object(body, len, keys, r);
	struct image_import_req req = {0};
	struct store_image im;
	char err[1024];
	bool created;
	int ret;

	if (!o)
		return;
	req.path = opt_string(o, "path");
	req.format = opt_string(o, "format");
	req.tag = opt_string(o, "tag");
	if (!req.path) {
		reply_error(r, 400, "'path' is required: the file to import");
		json_decref(o);
		return;
	}
	ret = image_import(m->db, m->images_dir, &req, &im, &created, err, sizeof(err));
	json_decref(o);
	if (ret) {
		reply_error(r, status_of(ret), "%s", err);
		return;
	}
	reply_json(r, created ? 201 : 200, image_json(&im));
	store_image_clear(&im);
}

static void image_one(struct mgr *m, const char *method, const char *ref, const char *query,
		      struct mgr_reply *r)
{
	char id[STORE_ID_LEN + 1], err[512];
	struct store_image im;
	bool deleted;
	int ret;

	store_lock(m->db);
	if (strcmp(method, "GET") == 0) {
		ret = store_image_resolve(m->db, ref, id, err, sizeof(err));
		if (!ret)
			ret = store_image_get(m->db, id, &im, err, sizeof(err));
		if (!ret) {
			reply_json(r, 200, image_json(&im));
			store_image_clear(&im);
		}
	} else {
		ret = image_remove(m->db, ref, query_flag(query, "force"), id, &deleted, err,
				   sizeof(err));
		if (!ret)
			reply_json(r, 200, json_pack("{s:s, s:b}", "id", id, "deleted", deleted));
	}
	store_unlock(m->db);
	if (ret)
		reply_error(r, status_of(ret), "%s", err);
}

static void image_tag_route(struct mgr *m, const char *ref, const char *body, size_t len,
			    struct mgr_reply *r)
{
	static const char *const keys[] = { "tag", NULL };
	json_t *o = parse_object(body, len, keys, r);
	char err[512];
	int ret;

	if (!o)
		return;
	if (!opt_string(o, "tag")) {
		reply_error(r, 400, "'tag' is required: the new name[:tag]");
		json_decref(o);
		return;
	}
	store_lock(m->db);
	ret = image_tag(m->db, ref, opt_string(o, "tag"), err, sizeof(err));
	store_unlock(m->db);
	json_decref(o);
	if (ret)
		reply_error(r, status_of(ret), "%s", err);
	else
		reply_json(r, 204, NULL);
}

static json_t *vm_json(const struct store_vm *vm)
{
	json_t *config = vm->config ? json_loads(vm->config, 0, NULL) : NULL;

	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:I, s:s, s:o, s:i, s:I, s:s}",
			 "id", vm->id, "name", vm->name, "image", vm->image_id, "state",
			 vm->state, "created", (json_int_t)vm->created, "cpus", (int)vm->cpus,
			 "memory_mib", (json_int_t)vm->memory_mib, "disk", vm->disk ? vm->disk : "", "config",
			 config ? config : json_object(), "pid", vm->pid, "started",
			 (json_int_t)vm->started, "reason", vm->reason ? vm->reason : "");
}

static void vms_list(struct mgr *m, struct mgr_reply *r)
{
	struct store_vm *list;
	char err[512];
	size_t n;
	int ret = store_vm_list(m->db, &list, &n, err, sizeof(err));
	json_t *arr;

	if (ret) {
		reply_error(r, status_of(ret), "%s", err);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, vm_json(&list[i]));
	store_vm_list_free(list, n);
	reply_json(r, 200, arr);
}

static void vms_create(struct mgr *m, const char *body, size_t len, struct mgr_reply *r)
{
	static const char *const keys[] = { "image", "name", "cpus#", "memory_mib#", "kernel",
					    "initramfs", "cmdline", NULL };
	json_t *o = parse_object(body, len, keys, r);
	struct vm_create_req req = {0};
	struct store_vm vm;
	json_int_t cpus, mem;
	char err[1024];
	int ret;

	if (!o)
		return;
	req.image = opt_string(o, "image");
	req.name = opt_string(o, "name");
	req.kernel = opt_string(o, "kernel");
	req.initramfs = opt_string(o, "initramfs");
	req.cmdline = opt_string(o, "cmdline");
	cpus = json_integer_value(json_object_get(o, "cpus"));
	mem = json_integer_value(json_object_get(o, "memory_mib"));
	if (!req.image) {
		reply_error(r, 400, "'image' is required: the image the VM's disk starts from");
	} else if (json_object_get(o, "cpus") && (cpus < 1 || cpus > VM_MAX_CPUS)) {
		reply_error(r, 400, "'cpus' %lld: 1 to %d", (long long)cpus, VM_MAX_CPUS);
	} else if (json_object_get(o, "memory_mib") && (mem < VM_MIN_MEMORY_MIB ||
							mem > (1ll << 22))) {
		reply_error(r, 400, "'memory_mib' %lld: %d to %lld", (long long)mem,
			    VM_MIN_MEMORY_MIB, 1ll << 22);
	} else {
		req.cpus = (unsigned)cpus;
		req.memory_mib = (uint64_t)mem;
		ret = vm_create(m->db, m->vms_dir, &req, &vm, err, sizeof(err));
		if (ret) {
			reply_error(r, status_of(ret), "%s", err);
		} else {
			reply_json(r, 201, vm_json(&vm));
			store_vm_clear(&vm);
		}
	}
	json_decref(o);
}

/* The VM's JSON as it is now, with status (after a change to it). */
static void reply_vm(struct mgr *m, const char *id, int status, struct mgr_reply *r)
{
	struct store_vm vm;
	char err[512];
	int ret = store_vm_get(m->db, id, &vm, err, sizeof(err));

	if (ret) {
		reply_error(r, status_of(ret), "%s", err);
		return;
	}
	reply_json(r, status, vm_json(&vm));
	store_vm_clear(&vm);
}

/* A number in the query (name=N), or def when it is not there; -1 when it
 * is there but no number of 0 to max. */
static long query_number(const char *query, const char *name, long def, long max)
{
	size_t n = strlen(name);

	for (const char *q = query; q && *q;) {
		const char *end = strchr(q, '&');

		if (strncmp(q, name, n) == 0 && q[n] == '=') {
			char *e;
			long v = strtol(q + n + 1, &e, 10);

			if (e == q + n + 1 || (*e && *e != '&') || v < 0 || v > max)
				return -1;
			return v;
		}
		q = end ? end + 1 : NULL;
	}
	return def;
}

#define MAX_LOG_BYTES (1 << 20)

static void vm_action(struct mgr *m, const char *ref, const char *action, const char *query,
		      struct mgr_reply *r)
{
	char id[STORE_ID_LEN + 1], err[1024];
	int ret;

	if (strcmp(action, "/logs") == 0) {
		long max = query_number(query, "bytes", 65536, MAX_LOG_BYTES);
		char *text;

		if (max < 0) {
			reply_error(r, 400, "bytes: a number of 0 to %d", MAX_LOG_BYTES);
			return;
		}
		ret = sup_vm_log(m->sup, ref, (size_t)max, &text, err, sizeof(err));
		if (ret) {
			reply_error(r, status_of(ret), "%s", err);
			return;
		}
		/* The guest's bytes: JSON strings are UTF-8, so anything
		 * else is shown as '?'. */
		json_t *v = json_string(text);

		if (!v) {
			for (char *c = text; *c; c++)
				if ((unsigned char)*c >= 0x80 ||
				    ((unsigned char)*c < 0x20 && !strchr("\n\r\t", *c)))
					*c = '?';
			v = json_string(text);
		}
		free(text);
		reply_json(r, 200, json_pack("{s:o}", "log", v ? v : json_string("")));
		return;
	}
	if (strcmp(action, "/start") == 0) {
		ret = sup_vm_start(m->sup, ref, id, err, sizeof(err));
	} else {
		long t = strcmp(action, "/kill") == 0 ? 0 : query_number(query, "t", 10, 3600);

		if (t < 0) {
			reply_error(r, 400, "t: seconds to wait for the guest, 0 to 3600");
			return;
		}
		ret = sup_vm_stop(m->sup, ref, (unsigned)t, id, err, sizeof(err));
	}
	if (ret)
		reply_error(r, status_of(ret), "%s", err);
	else
		reply_vm(m, id, 200, r);
}

static void vm_one(struct mgr *m, const char *method, const char *ref, const char *query,
		   struct mgr_reply *r)
{
	char id[STORE_ID_LEN + 1], err[512];
	struct store_vm vm;
	int ret;

	/* rm -f: kill it first (outside the store's lock: that takes time). */
	if (strcmp(method, "DELETE") == 0 && query_flag(query, "force")) {
		ret = sup_vm_stop(m->sup, ref, 0, id, err, sizeof(err));
		if (ret) {
			reply_error(r, status_of(ret), "%s", err);
			return;
		}
	}
	store_lock(m->db);
	if (strcmp(method, "GET") == 0) {
		ret = store_vm_resolve(m->db, ref, id, err, sizeof(err));
		if (!ret)
			ret = store_vm_get(m->db, id, &vm, err, sizeof(err));
		if (!ret) {
			reply_json(r, 200, vm_json(&vm));
			store_vm_clear(&vm);
		}
	} else {
		ret = vm_remove(m->db, ref, id, err, sizeof(err));
		if (!ret)
			reply_json(r, 200, json_pack("{s:s}", "id", id));
	}
	store_unlock(m->db);
	if (ret)
		reply_error(r, status_of(ret), "%s", err);
}

static bool is(const char *method, const char *want)
{
	return strcmp(method, want) == 0;
}

/* "/v1/PREFIX/REF[/REST]": the reference into ref, *rest at "/REST" or NULL.
 * False (and a 404 in r) when it is too long to name anything. */
static bool split_ref(const char *path, size_t prefix, const char *what, char *ref,
		      size_t reflen, const char **rest, struct mgr_reply *r)
{
	const char *p = path + prefix, *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	if (n >= reflen) {
		reply_error(r, 404, "no %s '%.40s...'", what, p);
		return false;
	}
	snprintf(ref, reflen, "%.*s", (int)n, p);
	*rest = slash;
	return true;
}

void mgr_handle(struct mgr *m, const char *method, const char *path, const char *query,
		const char *body, size_t body_len, struct mgr_reply *r)
{
	const char *rest;

	r->status = 500;
	r->body = NULL;
	if (body_len > MGR_MAX_BODY) {
		reply_error(r, 413, "request body of %zu bytes: at most %d", body_len,
			    MGR_MAX_BODY);
		return;
	}
	if (strcmp(path, "/v1/version") == 0) {
		if (!is(method, "GET"))
			goto method;
		reply_json(r, 200, json_pack("{s:s, s:i}", "version", PHYLLOME_VERSION,
					     "schema", store_schema_version(m->db)));
		return;
	}
	if (strcmp(path, "/v1/images") == 0) {
		if (is(method, "GET"))
			images_list(m, r);
		else if (is(method, "POST"))
			images_import(m, body, body_len, r);
		else
			goto method;
		return;
	}
	if (strcmp(path, "/v1/vms") == 0) {
		if (is(method, "GET"))
			vms_list(m, r);
		else if (is(method, "POST"))
			vms_create(m, body, body_len, r);
		else
			goto method;
		return;
	}
	if (strncmp(path, "/v1/vms/", 8) == 0 && path[8]) {
		char ref[256];

		if (!split_ref(path, 8, "VM", ref, sizeof(ref), &rest, r))
			return;
		if (!rest) {
			if (is(method, "GET") || is(method, "DELETE"))
				vm_one(m, method, ref, query, r);
			else
				goto method;
			return;
		}
		if (strcmp(rest, "/logs") == 0 || strcmp(rest, "/start") == 0 ||
		    strcmp(rest, "/stop") == 0 || strcmp(rest, "/kill") == 0) {
			if (is(method, strcmp(rest, "/logs") == 0 ? "GET" : "POST"))
				vm_action(m, ref, rest, query, r);
			else
				goto method;
			return;
		}
	}
	if (strncmp(path, "/v1/images/", 11) == 0 && path[11]) {
		char ref[256];
		const char *slash;

		if (!split_ref(path, 11, "image", ref, sizeof(ref), &slash, r))
			return;
		if (!slash) {
			if (is(method, "GET") || is(method, "DELETE"))
				image_one(m, method, ref, query, r);
			else
				goto method;
			return;
		}
		if (strcmp(slash, "/tag") == 0) {
			if (is(method, "POST"))
				image_tag_route(m, ref, body, body_len, r);
			else
				goto method;
			return;
		}
	}
	reply_error(r, 404, "no route %s %s", method, path);
	return;
method:
	reply_error(r, 405, "%s is not allowed on %s", method, path);
}
