/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * phyllo-remote, as a function: main.c calls it with stdout and stderr,
 * the unit tests with memory streams.
 */
#ifndef PHYLLO_REMOTE_REMOTE_H
#define PHYLLO_REMOTE_REMOTE_H

#include <stdio.h>

/* Returns the process exit status: 0 on success, 1 on any failure. */
int remote_main(int argc, char **argv, FILE *out, FILE *err);

#endif
