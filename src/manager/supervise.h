/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running VMs: one phyllo-vmm process per running VM, started by phyllod
 * in the VM's folder (vms/ID/: api.sock, serial.log, vmm.log) and watched
 * until it ends, when the store records why (exit status or signal).
 *
 * The processes do not depend on phyllod: they run in their own session,
 * so a phyllod that is killed or restarted leaves them running, and the
 * next one adopts them (a VM recorded as running whose process is still
 * the phyllo-vmm of that VM) or records that they ended meanwhile.
 */
#ifndef PHYLLO_MANAGER_SUPERVISE_H
#define PHYLLO_MANAGER_SUPERVISE_H

#include <stdbool.h>

#include "manager/store.h"

struct sup;

/*
 * Adopt or close the VMs recorded as running and start watching. vmm is
 * the phyllo-vmm to run (NULL: $PHYLLO_VMM, else the phyllo-vmm beside
 * this program, else the one on $PATH).
 */
int sup_open(struct sup **out, struct store *db, const char *vmm, char *err, size_t errlen);
/* Stop watching; the VMs go on running (the next phyllod adopts them). */
void sup_close(struct sup *s);

/*
 * Start a created or exited VM and wait until its phyllo-vmm serves its
 * API (or ends: then -ECHILD and the end of its log in err). -EBUSY: it
 * runs.
 */
int sup_vm_start(struct sup *s, const char *ref, char id[STORE_ID_LEN + 1], char *err,
		 size_t errlen);

/*
 * Stop a running VM: press its power button and wait timeout_s seconds for
 * the guest to power off, then kill it (timeout_s 0: kill at once). Returns
 * when the process is gone; a VM that is not running is left as it is.
 */
int sup_vm_stop(struct sup *s, const char *ref, unsigned timeout_s, char id[STORE_ID_LEN + 1],
		char *err, size_t errlen);

/* The last max bytes of the VM's serial log (malloc'd, NUL-terminated). */
int sup_vm_log(struct sup *s, const char *ref, size_t max, char **text, char *err,
	       size_t errlen);

#endif
