/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Command-line parsing for phyllo-vmm, in Cloud Hypervisor's syntax:
 * `--cpus boot=2 --memory size=1G --serial tty ...`.
 */
#ifndef PHYLLO_VMM_OPTIONS_H
#define PHYLLO_VMM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"

enum options_result {
	OPTIONS_RUN,     /* cfg is filled: boot the VM */
	OPTIONS_EXIT_OK, /* --help or --version was printed */
	OPTIONS_ERROR,   /* err holds one line naming the problem */
};

enum options_result options_parse(int argc, char **argv, struct vm_config *cfg,
				  char *err, size_t errlen);

/* "512M", "1G", "4096K", "1073741824" -> bytes. Returns 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);
/* Cloud Hypervisor's console syntax: off|null|tty|pty|file=PATH|socket=PATH. */
int parse_console(const char *s, struct console_config *out, char *err, size_t errlen);

extern const char options_usage[];

#endif
