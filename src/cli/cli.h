/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllo, the manager's CLI, as a function: main.c calls it with stdout
 * and stderr, tests with memory streams.
 */
#ifndef PHYLLO_CLI_CLI_H
#define PHYLLO_CLI_CLI_H

#include <stdio.h>

/* The exit status: 0 success, 1 a failed request, 2 a usage error. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif
