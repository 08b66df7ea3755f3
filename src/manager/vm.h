/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMs as the manager keeps them: each has a qcow2 overlay on its image as
 * its disk (data folder's vms/ID/disk.qcow2; the image is never written),
 * a shape (vCPUs, memory) and, until firmware boot lands in phyllo-vmm, the
 * kernel, initramfs and command line it direct-boots. Recorded in the
 * store (store.h); this file makes and removes their files.
 */
#ifndef PHYLLO_MANAGER_VM_H
#define PHYLLO_MANAGER_VM_H

#include <stdbool.h>

#include "manager/store.h"

#define VM_MAX_CPUS 255
#define VM_MIN_MEMORY_MIB 64

struct vm_create_req {
	const char *image;     /* an image reference (tag, ID, ID prefix) */
	const char *name;      /* NULL: "<image name>-<4 hex digits>" */
	unsigned cpus;         /* 0: 1 */
	uint64_t memory_mib;   /* 0: 1024 */
	const char *kernel;    /* absolute paths the daemon can read, or NULL */
	const char *initramfs;
	const char *cmdline;
};

/*
 * Make the VM's folder and overlay, then record it (state "created").
 * -ENOENT: no such image or kernel file; -EEXIST: the name is taken;
 * -EINVAL: a bad name, shape or path; nothing is left behind on failure.
 */
int vm_create(struct store *db, const char *vms_dir, const struct vm_create_req *req,
	      struct store_vm *out, char *err, size_t errlen);

/*
 * Forget a VM that is not running and remove its folder. -EBUSY: it runs.
 * id receives its ID. With store_lock() held.
 */
int vm_remove(struct store *db, const char *ref, char id[STORE_ID_LEN + 1], char *err,
	      size_t errlen);

/* At the daemon's start: remove VM folders no record names (a create or a
 * remove that a kill interrupted). Returns how many went. */
int vm_recover(struct store *db, const char *vms_dir);

#endif
