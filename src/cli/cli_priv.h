/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the CLI's files share: the connection to phyllod and the ways
 * replies are printed. cli.c has the images and the dispatch, cli_vm.c
 * the VMs.
 */
#ifndef PHYLLO_CLI_CLI_PRIV_H
#define PHYLLO_CLI_CLI_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct cli {
	char socket[4096];
	FILE *out, *err;
};

/* A request that must answer 2xx: the reply (or NULL), else print the
 * daemon's message and return NULL with *failed set. */
json_t *call_ok(struct cli *c, const char *method, const char *path, json_t *body,
		bool *failed);
/* prefix + "/" + the escaped reference + suffix. */
void ref_path(char *out, size_t outlen, const char *prefix, const char *ref,
	      const char *suffix);
void human_size(uint64_t n, char *out, size_t outlen);
void human_age(int64_t t, char *out, size_t outlen);
/* GET prefix/REF for each argument, printed as one JSON array. */
int inspect_refs(struct cli *c, const char *prefix, const char *usage, int argc, char **argv);

int vm_create_cmd(struct cli *c, int argc, char **argv);
int vm_ps(struct cli *c, int argc, char **argv);
int vm_inspect(struct cli *c, int argc, char **argv);
int vm_rm(struct cli *c, int argc, char **argv);
int vm_start(struct cli *c, int argc, char **argv);
int vm_stop(struct cli *c, int argc, char **argv, bool kill_now);
int vm_logs(struct cli *c, int argc, char **argv);
int vm_run(struct cli *c, int argc, char **argv);

#endif
