/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The REST API served by this VMM (see vmm_api.c and src/api/api.h). */
#ifndef PHYLLO_VMM_VMM_API_H
#define PHYLLO_VMM_VMM_API_H

#include <stddef.h>

struct vmm;

/* Start serving --api-socket, if given. */
int vmm_api_open(struct vmm *vmm, char *err, size_t errlen);
void vmm_api_close(struct vmm *vmm);

#endif
