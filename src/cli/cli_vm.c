// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo's VM commands (create, run, ps, inspect, start, stop, kill, logs,
 * rm), Docker's verbs and
 * flags where Docker has them: each is one request per VM to phyllod's
 * /v1/vms (docs/phyllod-api.yaml); flags are checked here only as far as
 * their syntax goes, the daemon checks their meaning.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_priv.h"

/* "512m", "2G", "2GiB" (binary units; "1.5g" is not taken); a plain
 * number is bytes, as Docker's --memory. Returns MiB, or 0 with a message
 * when it is no size. */
static uint64_t parse_memory(struct cli *c, const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || s[0] == '-')
		goto bad;
	switch (*end) {
	case 'k': case 'K': mult = 1ull << 10; break;
	case 'm': case 'M': mult = 1ull << 20; break;
	case 'g': case 'G': mult = 1ull << 30; break;
	case 't': case 'T': mult = 1ull << 40; break;
	case '\0': break;
	default: goto bad;
	}
	if (mult > 1) {
		/* 2g, 2G, 2GB, 2GiB: all the same binary unit. */
		end++;
		end += *end == 'i';
		end += *end == 'b' || *end == 'B';
	}
	if (*end || v > UINT64_MAX / mult || v * mult < (1ull << 20) || (v * mult) % (1ull << 20))
		goto bad;
	return v * mult >> 20;
bad:
	fprintf(c->err, "phyllo: --memory '%s': a size in whole MiB such as 512m or 2g\n", s);
	return 0;
}

/* POST /v1/vms from create's arguments; the new VM's ID into id. */
static int create(struct cli *c, int argc, char **argv, char *id, size_t idlen)
{
	const char *image = NULL, *val;
	json_t *body = json_object(), *vm;
	bool failed;

	for (int a = 0; a < argc; a++) {
		static const char *const opts[] = { "--name", "--cpus", "--memory", "--kernel",
						    "--initramfs", "--cmdline", NULL };
		const char *opt = NULL;

		for (size_t i = 0; opts[i] && !opt; i++) {
			size_t n = strlen(opts[i]);

			if (strcmp(argv[a], opts[i]) == 0 && a + 1 < argc) {
				opt = opts[i];
				val = argv[++a];
			} else if (strncmp(argv[a], opts[i], n) == 0 && argv[a][n] == '=') {
				opt = opts[i];
				val = argv[a] + n + 1;
			}
		}
		if (!opt && strcmp(argv[a], "-m") == 0 && a + 1 < argc) {
			opt = "--memory";
			val = argv[++a];
		}
		if (!opt) {
			if (argv[a][0] == '-' || image)
				goto usage;
			image = argv[a];
			continue;
		}
		if (strcmp(opt, "--cpus") == 0) {
			char *end;
			long n = strtol(val, &end, 10);

			if (*end || end == val || n < 1 || n > 255) {
				fprintf(c->err, "phyllo: --cpus '%s': a whole number, 1 to 255\n", val);
				goto fail;
			}
			json_object_set_new(body, "cpus", json_integer(n));
		} else if (strcmp(opt, "--memory") == 0) {
			uint64_t mib = parse_memory(c, val);

			if (!mib)
				goto fail;
			json_object_set_new(body, "memory_mib", json_integer((json_int_t)mib));
		} else if (strcmp(opt, "--kernel") == 0 || strcmp(opt, "--initramfs") == 0) {
			char abs[PATH_MAX];

			/* The daemon does not share our working folder. */
			if (!realpath(val, abs)) {
				fprintf(c->err, "phyllo: %s %s: %s\n", opt, val, strerror(errno));
				goto fail;
			}
			json_object_set_new(body, opt + 2, json_string(abs));
		} else {
			json_object_set_new(body, opt + 2, json_string(val));
		}
	}
	if (!image)
		goto usage;
	json_object_set_new(body, "image", json_string(image));
	vm = call_ok(c, "POST", "/v1/vms", body, &failed);
	json_decref(body);
	if (failed)
		return 1;
	snprintf(id, idlen, "%s", json_string_value(json_object_get(vm, "id")) ?: "");
	json_decref(vm);
	return 0;
usage:
	fprintf(c->err, "usage: phyllo create [--name NAME] [--cpus N] [-m|--memory SIZE] "
		"[--kernel FILE [--initramfs FILE] [--cmdline TEXT]] IMAGE\n");
	json_decref(body);
	return 2;
fail:
	json_decref(body);
	return 2;
}

int vm_create_cmd(struct cli *c, int argc, char **argv)
{
	char id[80];
	int ret = create(c, argc, argv, id, sizeof(id));

	if (!ret)
		fprintf(c->out, "%s\n", id);
	return ret;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "";
}

int vm_ps(struct cli *c, int argc, char **argv)
{
	bool all = false, quiet = false, failed;
	json_t *list, *vm;
	size_t i;

	for (int a = 0; a < argc; a++) {
		if (strcmp(argv[a], "-a") == 0 || strcmp(argv[a], "--all") == 0) {
			all = true;
		} else if (strcmp(argv[a], "-q") == 0 || strcmp(argv[a], "--quiet") == 0) {
			quiet = true;
		} else if (strcmp(argv[a], "-aq") == 0 || strcmp(argv[a], "-qa") == 0) {
			all = quiet = true;
		} else {
			fprintf(c->err, "usage: phyllo ps [-a] [-q]\n");
			return 2;
		}
	}
	list = call_ok(c, "GET", "/v1/vms", NULL, &failed);
	if (failed)
		return 1;
	if (!quiet)
		fprintf(c->out, "%-12s %-20s %-12s %-5s %-9s %-16s %s\n", "VM ID", "NAME", "IMAGE",
			"CPUS", "MEMORY", "CREATED", "STATUS");
	json_array_foreach(list, i, vm) {
		const char *state = str(vm, "state");
		char mem[32], age[32], status[160];

		if (!all && strcmp(state, "running") != 0)
			continue;
		if (quiet) {
			fprintf(c->out, "%.12s\n", str(vm, "id"));
			continue;
		}
		human_size((uint64_t)json_integer_value(json_object_get(vm, "memory_mib")) << 20,
			   mem, sizeof(mem));
		human_age(json_integer_value(json_object_get(vm, "created")), age, sizeof(age));
		if (strcmp(state, "running") == 0) {
			char up[32];

			human_age(json_integer_value(json_object_get(vm, "started")), up, sizeof(up));
			snprintf(status, sizeof(status), "running (started %s)", up);
		} else if (*str(vm, "reason")) {
			snprintf(status, sizeof(status), "%s (%.120s)", state, str(vm, "reason"));
		} else {
			snprintf(status, sizeof(status), "%s", state);
		}
		fprintf(c->out, "%-12.12s %-20s %-12.12s %-5lld %-9s %-16s %s\n", str(vm, "id"),
			str(vm, "name"), str(vm, "image"),
			(long long)json_integer_value(json_object_get(vm, "cpus")), mem, age, status);
	}
	json_decref(list);
	return 0;
}

int vm_inspect(struct cli *c, int argc, char **argv)
{
	return inspect_refs(c, "/v1/vms", "phyllo inspect VM...", argc, argv);
}

int vm_rm(struct cli *c, int argc, char **argv)
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
		ref_path(path, sizeof(path), "/v1/vms", argv[a], force ? "?force=1" : "");
		r = call_ok(c, "DELETE", path, NULL, &failed);
		if (failed) {
			status = 1;
			continue;
		}
		fprintf(c->out, "%s\n", argv[a]);
		json_decref(r);
	}
	if (n == 0) {
		fprintf(c->err, "usage: phyllo rm [-f] VM...\n");
		return 2;
	}
	return status;
}

/* POST /v1/vms/REF/ACTION[QUERY] for each VM; prints each reference. */
static int each_vm(struct cli *c, const char *action, const char *query, int argc, char **argv)
{
	int status = 0;

	for (int a = 0; a < argc; a++) {
		char path[1024], suffix[64];
		bool failed;
		json_t *r;

		snprintf(suffix, sizeof(suffix), "/%s%s", action, query);
		ref_path(path, sizeof(path), "/v1/vms", argv[a], suffix);
		r = call_ok(c, "POST", path, NULL, &failed);
		if (failed) {
			status = 1;
			continue;
		}
		fprintf(c->out, "%s\n", argv[a]);
		json_decref(r);
	}
	return status;
}

int vm_start(struct cli *c, int argc, char **argv)
{
	if (argc < 1) {
		fprintf(c->err, "usage: phyllo start VM...\n");
		return 2;
	}
	return each_vm(c, "start", "", argc, argv);
}

int vm_stop(struct cli *c, int argc, char **argv, bool kill_now)
{
	char query[32] = "";
	int a = 0;

	if (!kill_now && argc >= 2 && (strcmp(argv[0], "-t") == 0 ||
				       strcmp(argv[0], "--time") == 0)) {
		char *end;
		long t = strtol(argv[1], &end, 10);

		if (*end || end == argv[1] || t < 0 || t > 3600) {
			fprintf(c->err, "phyllo: stop -t '%s': seconds, 0 to 3600\n", argv[1]);
			return 2;
		}
		snprintf(query, sizeof(query), "?t=%ld", t);
		a = 2;
	}
	if (argc - a < 1) {
		fprintf(c->err, kill_now ? "usage: phyllo kill VM...\n"
					 : "usage: phyllo stop [-t SECONDS] VM...\n");
		return 2;
	}
	return each_vm(c, kill_now ? "kill" : "stop", query, argc - a, argv + a);
}

int vm_logs(struct cli *c, int argc, char **argv)
{
	char path[1024];
	bool failed;
	json_t *r;

	if (argc != 1) {
		fprintf(c->err, "usage: phyllo logs VM\n");
		return 2;
	}
	ref_path(path, sizeof(path), "/v1/vms", argv[0], "/logs?bytes=1048576");
	r = call_ok(c, "GET", path, NULL, &failed);
	if (failed)
		return 1;
	fputs(json_string_value(json_object_get(r, "log")) ?: "", c->out);
	json_decref(r);
	return 0;
}

int vm_run(struct cli *c, int argc, char **argv)
{
	char id[80], path[256];
	bool failed;
	int a = 0, ret;

	/* -d: always, for now (attaching to the console is to come). */
	if (argc > 0 && (strcmp(argv[0], "-d") == 0 || strcmp(argv[0], "--detach") == 0))
		a = 1;
	ret = create(c, argc - a, argv + a, id, sizeof(id));
	if (ret)
		return ret;
	ref_path(path, sizeof(path), "/v1/vms", id, "/start");
	json_decref(call_ok(c, "POST", path, NULL, &failed));
	if (failed)
		return 1;
	fprintf(c->out, "%s\n", id);
	return 0;
}
