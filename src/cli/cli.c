// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo, the manager's command line: Docker's verbs for whole operating
 * systems, each one request (or a few) to phyllod's REST API over its
 * Unix socket (docs/manager.md), with libcurl as the HTTP client. The CLI
 * keeps no state of its own; what it prints comes from the daemon's
 * answers, and the daemon's error messages are printed as they are,
 * since they already name what is wrong.
 */
#include "cli/cli.h"
#include "cli/cli_priv.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "manager/paths.h"
#include "phyllome-version.h"

#define MAX_REPLY (16u << 20)


struct buf {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	size_t len = size * n;
	char *d;

	if (b->len + len > MAX_REPLY) {
		b->too_big = true;
		return 0;
	}
	d = realloc(b->data, b->len + len + 1);
	if (!d)
		return 0;
	memcpy(d + b->len, p, len);
	b->data = d;
	b->len += len;
	d[b->len] = '\0';
	return len;
}

/*
 * One request; on an HTTP answer returns 0 with *status and *reply (JSON
 * or NULL; json_decref it). Failing to reach the daemon prints why and
 * returns -1.
 */
static int call(struct cli *c, const char *method, const char *path, json_t *body,
		long *status, json_t **reply)
{
	char url[1024], curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct buf b = {0};
	char *text = NULL;
	CURL *h;
	CURLcode rc;

	*reply = NULL;
	h = curl_easy_init();
	if (!h) {
		fprintf(c->err, "phyllo: out of memory\n");
		return -1;
	}
	snprintf(url, sizeof(url), "http://phyllod%s", path);
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text ? text : "");
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(text);
	if (rc != CURLE_OK) {
		if (rc == CURLE_COULDNT_CONNECT)
			fprintf(c->err, "phyllo: cannot reach phyllod at %s: is it running? "
				"(start it with: phyllod &)\n", c->socket);
		else
			fprintf(c->err, "phyllo: talking to phyllod at %s: %s\n", c->socket,
				b.too_big ? "its answer is too large" :
				curl_err[0] ? curl_err : curl_easy_strerror(rc));
		free(b.data);
		return -1;
	}
	if (b.len) {
		*reply = json_loadb(b.data, b.len, 0, NULL);
		if (!*reply) {
			fprintf(c->err, "phyllo: phyllod answered %ld with something that is not "
				"JSON\n", *status);
			free(b.data);
			return -1;
		}
	}
	free(b.data);
	return 0;
}

json_t *call_ok(struct cli *c, const char *method, const char *path, json_t *body,
		       bool *failed)
{
	long status = 0;
	json_t *reply;

	*failed = true;
	if (call(c, method, path, body, &status, &reply))
		return NULL;
	if (status < 200 || status > 299) {
		const char *msg = json_string_value(json_object_get(reply, "message"));

		fprintf(c->err, "phyllo: %s\n", msg ? msg : "phyllod failed the request");
		json_decref(reply);
		return NULL;
	}
	*failed = false;
	return reply;
}

void ref_path(char *out, size_t outlen, const char *prefix, const char *ref,
		     const char *suffix)
{
	char *e = curl_easy_escape(NULL, ref, 0);

	snprintf(out, outlen, "%s/%s%s", prefix, e ? e : "", suffix);
	curl_free(e);
}

void human_size(uint64_t n, char *out, size_t outlen)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else
		snprintf(out, outlen, "%.*f %s", v < 10 ? 1 : 0, v, units[u]);
}

void human_age(int64_t t, char *out, size_t outlen)
{
	int64_t d = (int64_t)time(NULL) - t;

	if (d < 60)
		snprintf(out, outlen, "%s", d < 2 ? "just now" : "seconds ago");
	else if (d < 3600)
		snprintf(out, outlen, "%lld minutes ago", (long long)(d / 60));
	else if (d < 2 * 86400)
		snprintf(out, outlen, "%lld hours ago", (long long)(d / 3600));
	else
		snprintf(out, outlen, "%lld days ago", (long long)(d / 86400));
}

static int image_ls(struct cli *c, int argc, char **argv)
{
	bool quiet = false, failed;
	json_t *list, *im;
	size_t i;

	for (int a = 0; a < argc; a++) {
		if (strcmp(argv[a], "-q") == 0 || strcmp(argv[a], "--quiet") == 0) {
			quiet = true;
		} else {
			fprintf(c->err, "phyllo: image ls: unknown argument '%s' (usage: phyllo "
				"image ls [-q])\n", argv[a]);
			return 2;
		}
	}
	list = call_ok(c, "GET", "/v1/images", NULL, &failed);
	if (failed)
		return 1;
	if (!quiet)
		fprintf(c->out, "%-24s %-12s %-12s %-6s %-10s %s\n", "NAME", "TAG", "IMAGE ID",
			"FORMAT", "SIZE", "CREATED");
	json_array_foreach(list, i, im) {
		const char *id = json_string_value(json_object_get(im, "id"));
		json_t *tags = json_object_get(im, "tags"), *t;
		char size[32], age[32];
		size_t j;

		if (quiet) {
			fprintf(c->out, "%.12s\n", id ? id : "");
			continue;
		}
		human_size((uint64_t)json_integer_value(json_object_get(im, "virtual_size")), size,
			   sizeof(size));
		human_age(json_integer_value(json_object_get(im, "created")), age, sizeof(age));
		if (json_array_size(tags) == 0)
			fprintf(c->out, "%-24s %-12s %-12.12s %-6s %-10s %s\n", "<none>", "<none>",
				id ? id : "", json_string_value(json_object_get(im, "format")),
				size, age);
		json_array_foreach(tags, j, t) {
			const char *name = json_string_value(t);
			const char *colon = name ? strrchr(name, ':') : NULL;

			fprintf(c->out, "%-24.*s %-12s %-12.12s %-6s %-10s %s\n",
				colon ? (int)(colon - name) : 0, name ? name : "",
				colon ? colon + 1 : "", id ? id : "",
				json_string_value(json_object_get(im, "format")), size, age);
		}
	}
	json_decref(list);
	return 0;
}

static int image_import(struct cli *c, int argc, char **argv)
{
	const char *file = NULL, *tag = NULL, *format = NULL;
	char abs[PATH_MAX], id[13];
	json_t *body, *im;
	bool failed;

	for (int a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--format") == 0 && a + 1 < argc)
			format = argv[++a];
		else if (strncmp(argv[a], "--format=", 9) == 0)
			format = argv[a] + 9;
		else if (argv[a][0] == '-' && argv[a][1])
			goto usage;
		else if (!file)
			file = argv[a];
		else if (!tag)
			tag = argv[a];
		else
			goto usage;
	}
	if (!file)
		goto usage;
	if (!realpath(file, abs)) {
		fprintf(c->err, "phyllo: %s: %s\n", file, strerror(errno));
		return 1;
	}
	body = json_pack("{s:s}", "path", abs);
	if (tag)
		json_object_set_new(body, "tag", json_string(tag));
	if (format)
		json_object_set_new(body, "format", json_string(format));
	im = call_ok(c, "POST", "/v1/images", body, &failed);
	json_decref(body);
	if (failed)
		return 1;
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(im, "id")) ?: "");
	fprintf(c->out, "%s %s (%s)\n", id,
		json_string_value(json_array_get(json_object_get(im, "tags"), 0)) ?: "",
		json_string_value(json_object_get(im, "format")) ?: "");
	json_decref(im);
	return 0;
usage:
	fprintf(c->err, "usage: phyllo image import FILE [NAME[:TAG]] [--format raw|qcow2|iso]\n");
	return 2;
}

int inspect_refs(struct cli *c, const char *prefix, const char *usage, int argc, char **argv)
{
	json_t *all = json_array();
	int status = 0;

	if (argc < 1) {
		fprintf(c->err, "usage: %s\n", usage);
		json_decref(all);
		return 2;
	}
	for (int a = 0; a < argc; a++) {
		char path[1024];
		bool failed;
		json_t *one;

		ref_path(path, sizeof(path), prefix, argv[a], "");
		one = call_ok(c, "GET", path, NULL, &failed);
		if (failed)
			status = 1;
		else
			json_array_append_new(all, one);
	}
	if (json_array_size(all)) {
		char *text = json_dumps(all, JSON_INDENT(2));

		fprintf(c->out, "%s\n", text ? text : "[]");
		free(text);
	}
	json_decref(all);
	return status;
}

static int image_rm(struct cli *c, int argc, char **argv)
{
	bool force = false;
	int status = 0, n = 0;

	for (int a = 0; a < argc; a++) {
		char path[1024];
		bool failed;
		json_t *r;

		if (strcmp(argv[a], "-f") == 0 || strcmp(argv[a], "--force") == 0) {
			force = true;
			continue;
		}
		n++;
		ref_path(path, sizeof(path), "/v1/images", argv[a], force ? "?force=1" : "");
		r = call_ok(c, "DELETE", path, NULL, &failed);
		if (failed) {
			status = 1;
			continue;
		}
		if (json_is_true(json_object_get(r, "deleted")))
			fprintf(c->out, "Deleted: %s\n", json_string_value(json_object_get(r, "id")));
		else
			fprintf(c->out, "Untagged: %s\n", argv[a]);
		json_decref(r);
	}
	if (n == 0) {
		fprintf(c->err, "usage: phyllo image rm [-f] IMAGE...\n");
		return 2;
	}
	return status;
}

static int image_tag(struct cli *c, int argc, char **argv)
{
	char path[1024];
	json_t *body, *r;
	bool failed;

	if (argc != 2) {
		fprintf(c->err, "usage: phyllo image tag IMAGE NAME[:TAG]\n");
		return 2;
	}
	ref_path(path, sizeof(path), "/v1/images", argv[0], "/tag");
	body = json_pack("{s:s}", "tag", argv[1]);
	r = call_ok(c, "POST", path, body, &failed);
	json_decref(body);
	json_decref(r);
	return failed ? 1 : 0;
}

static int version(struct cli *c)
{
	bool failed;
	json_t *v;

	fprintf(c->out, "phyllo %s\n", PHYLLOME_VERSION);
	v = call_ok(c, "GET", "/v1/version", NULL, &failed);
	if (failed)
		return 1;
	fprintf(c->out, "phyllod %s (state schema %lld)\n",
		json_string_value(json_object_get(v, "version")) ?: "?",
		(long long)json_integer_value(json_object_get(v, "schema")));
	json_decref(v);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: phyllo [--socket PATH] COMMAND [ARGS]\n"
		"\n"
		"Images:\n"
		"  image import FILE [NAME[:TAG]] [--format F]  copy a disk or ISO into the store\n"
		"  image ls [-q]                  list images (also: images)\n"
		"  image inspect IMAGE...         everything about images, as JSON\n"
		"  image tag IMAGE NAME[:TAG]     give an image another name\n"
		"  image rm [-f] IMAGE...         remove a tag, or the image with its last one\n"
		"                                 (also: rmi)\n"
		"VMs:\n"
		"  create [--name NAME] [--cpus N] [-m SIZE] [--kernel FILE [--initramfs FILE]\n"
		"         [--cmdline TEXT]] IMAGE\n"
		"                                 a VM whose disk is a copy-on-write overlay on\n"
		"                                 IMAGE (1 vCPU, 1 GiB unless told)\n"
		"  ps [-a] [-q]                   list running VMs (-a: all)\n"
		"  inspect VM...                  everything about VMs, as JSON\n"
		"  run [-d] [create's options] IMAGE  create and start (always detached, for now)\n"
		"  start VM...                    start VMs (their phyllo-vmm, supervised by phyllod)\n"
		"  stop [-t SECONDS] VM...        press the power button, kill after SECONDS (10)\n"
		"  kill VM...                     end VMs at once\n"
		"  logs VM                        the VM's serial console output (its last MiB)\n"
		"  rm [-f] VM...                  remove VMs and their disks (-f: kill running ones)\n"
		"Other:\n"
		"  version                        the CLI's and the daemon's versions\n"
		"\n"
		"IMAGE is NAME[:TAG] (TAG defaults to latest) or an ID prefix; VM a name or an\n"
		"ID prefix.\n"
		"phyllo talks to phyllod on $PHYLLO_SOCKET, $XDG_RUNTIME_DIR/phyllome/phyllod.sock\n"
		"or /tmp/phyllome-UID/phyllod.sock (docs/manager.md).\n");
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	struct cli c = { .out = out, .err = err };
	const char *sock = NULL;
	char why[512];
	int a = 1;

	while (a < argc && argv[a][0] == '-') {
		if (strcmp(argv[a], "--socket") == 0 && a + 1 < argc) {
			sock = argv[a + 1];
			a += 2;
		} else if (strncmp(argv[a], "--socket=", 9) == 0) {
			sock = argv[a++] + 9;
		} else if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
			usage(out);
			return 0;
		} else if (strcmp(argv[a], "--version") == 0) {
			fprintf(out, "phyllo %s\n", PHYLLOME_VERSION);
			return 0;
		} else {
			fprintf(err, "phyllo: unknown option '%s'\n", argv[a]);
			usage(err);
			return 2;
		}
	}
	if (a >= argc) {
		usage(err);
		return 2;
	}
	if (sock) {
		snprintf(c.socket, sizeof(c.socket), "%s", sock);
	} else if (paths_socket(c.socket, sizeof(c.socket), false, why, sizeof(why))) {
		fprintf(err, "phyllo: %s\n", why);
		return 1;
	}
	const char *cmd = argv[a++];
	int n = argc - a;
	char **rest = argv + a;

	if (strcmp(cmd, "image") == 0) {
		if (n < 1) {
			usage(err);
			return 2;
		}
		cmd = rest[0];
		n--;
		rest++;
		if (strcmp(cmd, "import") == 0)
			return image_import(&c, n, rest);
		if (strcmp(cmd, "ls") == 0 || strcmp(cmd, "list") == 0)
			return image_ls(&c, n, rest);
		if (strcmp(cmd, "inspect") == 0)
			return inspect_refs(&c, "/v1/images", "phyllo image inspect IMAGE...", n,
					    rest);
		if (strcmp(cmd, "rm") == 0)
			return image_rm(&c, n, rest);
		if (strcmp(cmd, "tag") == 0)
			return image_tag(&c, n, rest);
		fprintf(err, "phyllo: unknown image command '%s'\n", cmd);
		return 2;
	}
	if (strcmp(cmd, "images") == 0)
		return image_ls(&c, n, rest);
	if (strcmp(cmd, "rmi") == 0)
		return image_rm(&c, n, rest);
	if (strcmp(cmd, "version") == 0)
		return version(&c);
	if (strcmp(cmd, "create") == 0)
		return vm_create_cmd(&c, n, rest);
	if (strcmp(cmd, "ps") == 0)
		return vm_ps(&c, n, rest);
	if (strcmp(cmd, "inspect") == 0)
		return vm_inspect(&c, n, rest);
	if (strcmp(cmd, "rm") == 0)
		return vm_rm(&c, n, rest);
	if (strcmp(cmd, "run") == 0)
		return vm_run(&c, n, rest);
	if (strcmp(cmd, "start") == 0)
		return vm_start(&c, n, rest);
	if (strcmp(cmd, "stop") == 0)
		return vm_stop(&c, n, rest, false);
	if (strcmp(cmd, "kill") == 0)
		return vm_stop(&c, n, rest, true);
	if (strcmp(cmd, "logs") == 0)
		return vm_logs(&c, n, rest);
	fprintf(err, "phyllo: unknown command '%s' (phyllo --help lists them)\n", cmd);
	return 2;
}
