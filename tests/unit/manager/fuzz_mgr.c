// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for everything a client of phyllod feeds its routes:
 * mgr_handle() with a fuzzed method, path, query and body, on one data
 * folder whose state carries over between inputs (as a daemon's does).
 *
 * Input: byte 0 picks the method; then the path up to the first newline,
 * the query up to the next (empty: none), and the rest is the body. The
 * folder holds two small images to import by their absolute paths
 * (FUZZ_DIR/a.raw, FUZZ_DIR/c.qcow2: the seeds name them). Beyond the
 * sanitizers, every reply is checked: a status the routes document, and
 * a body that is JSON (or none).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "manager/mgr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_DIR "/tmp/phyllo-fuzz-mgr"
static struct mgr *m;
static char dir[64];

static void cleanup(void)
{
	char cmd[128];

	mgr_close(m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' " FUZZ_DIR, dir);
	if (system(cmd) != 0) {
		/* Only /tmp is left untidy. */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	/* VMs the inputs start run this (and end at once): the routes and
	 * the supervisor are fuzzed, not a guest. */
	setenv("PHYLLO_VMM", "/bin/false", 1);
	/* A folder of our own (several fuzzers may run at once), under a
	 * fixed name the seeds can use: FUZZ_DIR is a link to it. */
	snprintf(dir, sizeof(dir), "/tmp/phyllo-fuzz-mgr.XXXXXX");
	if (!mkdtemp(dir) || system("rm -rf " FUZZ_DIR) != 0 || symlink(dir, FUZZ_DIR) != 0)
		abort();
	if (system("head -c 4096 /dev/urandom > " FUZZ_DIR "/a.raw && "
		   "qemu-img create -q -f qcow2 " FUZZ_DIR "/c.qcow2 1M") != 0)
		abort();
	if (mgr_open(&m, FUZZ_DIR "/data", err, sizeof(err))) {
		fprintf(stderr, "fuzz_mgr: %s\n", err);
		abort();
	}
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "DELETE", "PUT", "PATCH", "HEAD" };
	char path[512], query[256], *body;
	const uint8_t *p, *nl;
	size_t n, left;
	struct mgr_reply r;
	json_t *v;

	if (size < 1)
		return 0;
	p = data + 1;
	left = size - 1;
	nl = memchr(p, '\n', left);
	n = nl ? (size_t)(nl - p) : left;
	snprintf(path, sizeof(path), "%.*s", (int)(n < sizeof(path) ? n : sizeof(path) - 1),
		 (const char *)p);
	p += n + (nl ? 1 : 0);
	left -= n + (nl ? 1 : 0);
	nl = memchr(p, '\n', left);
	n = nl ? (size_t)(nl - p) : 0;
	snprintf(query, sizeof(query), "%.*s", (int)(n < sizeof(query) ? n : sizeof(query) - 1),
		 (const char *)p);
	if (nl) {
		p += n + 1;
		left -= n + 1;
	}
	/* The server hands over bodies as bytes; give the same (no NUL at end). */
	body = left ? malloc(left) : NULL;
	if (left)
		memcpy(body, p, left);
	mgr_handle(m, methods[data[0] % 6], path, query[0] ? query : NULL, body, left, &r);
	free(body);
	switch (r.status) {
	case 200: case 201: case 204: case 400: case 404: case 405: case 409: case 413: case 502:
		break;
	default:
		fprintf(stderr, "fuzz_mgr: status %d: %s\n", r.status, r.body ? r.body : "");
		abort();
	}
	if (r.body) {
		v = json_loads(r.body, 0, NULL);
		if (!v) {
			fprintf(stderr, "fuzz_mgr: reply is not JSON: %s\n", r.body);
			abort();
		}
		json_decref(v);
	}
	if ((r.status == 204) != (r.body == NULL)) {
		fprintf(stderr, "fuzz_mgr: status %d with%s a body\n", r.status, r.body ? "" : "out");
		abort();
	}
	free(r.body);
	return 0;
}
