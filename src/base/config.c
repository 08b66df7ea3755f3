// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM configuration's defaults and its release, shared by both front
 * ends (the command line, vmm/options.c, and the REST API, api/
 * vmconfig_json.c), so a VM created either way starts from the same
 * values.
 */
#include <stdlib.h>
#include <string.h>

#include "base/config.h"

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->boot_vcpus = VM_DEFAULT_VCPUS;
	cfg->memory_size = VM_DEFAULT_MEMORY;
	cfg->memory_shared = true; /* a memfd; shared=off: anonymous + THP */
	cfg->serial.mode = CONSOLE_TTY;
	cfg->rng_src = strdup("/dev/urandom"); /* like Cloud Hypervisor: always there */
	cfg->console.mode = CONSOLE_OFF;
	cfg->api.fd = -1;
}

void vm_config_free(struct vm_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initramfs);
	free(cfg->cmdline);
	free(cfg->rng_src);
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		free(cfg->disks[i].path);
		free(cfg->disks[i].serial);
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		struct net_config *n = &cfg->nets[i];

		for (unsigned int j = 0; j < n->nr_hostfwd; j++)
			free(n->hostfwd[j]);
		free(n->tap);
		free(n->mac);
		free(n->ip);
		free(n->mask);
	}
	free(cfg->serial.path);
	free(cfg->console.path);
	free(cfg->vsock.socket);
	free(cfg->api.path);
	free(cfg->restore_source);
	free(cfg->log_file);
	memset(cfg, 0, sizeof(*cfg));
}
