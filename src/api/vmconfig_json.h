/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cloud Hypervisor's VmConfig JSON <-> struct vm_config, for vm.create and
 * vm.info.
 *
 * Field policy (docs/api.md): a field the OpenAPI contract does not define
 * is refused; a field it defines that we do not implement is accepted only
 * when it holds the contract's default (or, without one, null/false/0/""/
 * []/{}); a wrong type is refused naming the field and the type expected.
 * Limits are the command line's (src/vmm/options.c). Every error is one
 * line that starts with the field's path, e.g. "disks[1].readonly: expected
 * a boolean".
 */
#ifndef PHYLLO_API_VMCONFIG_JSON_H
#define PHYLLO_API_VMCONFIG_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"

/* Parse text[0..len) into *cfg, which this initializes (vm_config_init()).
 * Returns 0, -EINVAL (err names the field) or -ENOMEM; on error *cfg holds
 * nothing to free. */
int vmconfig_from_json(const char *text, size_t len, struct vm_config *cfg, char *err,
		       size_t errlen);
/* The VmConfig object for cfg (NULL when out of memory). Process settings
 * (api, log file, verbosity) are not part of it. */
json_t *vmconfig_to_json(const struct vm_config *cfg);

#endif
