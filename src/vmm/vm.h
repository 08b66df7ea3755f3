/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One boot of one virtual machine: the KVM VM, its RAM, buses, devices and
 * vCPUs. A guest reboot destroys this object and builds a new one from the
 * same configuration; what must survive a reboot (console back ends, CMOS
 * RAM, the event loop) lives in struct vmm (main.c) and is lent to the VM.
 */
#ifndef PHYLLO_VMM_VM_H
#define PHYLLO_VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dev/bus.h"
#include "dev/dev.h"
#include "pci/pci.h"
#include "base/config.h"
#include "base/irq.h"
#include "base/memory.h"

struct chardev;
struct event_loop;
struct vcpu;

struct snap_writer;
struct snap_reader;

struct vm {
	const struct vm_config *cfg;
	struct dev_host *host;
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	struct guest_mem mem;
	int next_slot; /* KVM memory slots past guest RAM's (dev_ctx.map_ram) */
	uint64_t slots_mapped; /* which of them are mapped now */
	struct bus pio, mmio;
	struct irq_routing irq;
	struct pci_root pci;
	bool pci_ready;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;
	struct dev_ctx ctx;        /* what the devices get */
	struct dev_registry devs;  /* one entry per device instance */
	_Atomic int exit_reason;
	int exit_evt; /* eventfd: a vCPU or device asks main to stop the VM */

	/* Pause: vCPU threads park outside KVM_RUN (see vcpu.c). */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	bool paused;
	unsigned int nr_parked;
	struct kvm_clock_data paused_clock; /* kvmclock at the pause */
};

/*
 * Build the VM (KVM objects, RAM, devices, kernel) without running it. On
 * failure the message goes to errout, or to the log if errout is NULL.
 */
enum vm_create_mode {
	VM_CREATE_BOOT,    /* load the kernel, set the boot vCPU's entry state */
	VM_CREATE_RESTORE, /* RAM stays zero: a snapshot fills it and the vCPUs */
};
int vm_create(struct vm *vm, const struct vm_config *cfg, struct dev_host *host,
	      enum vm_create_mode mode, char *errout, size_t errout_len);
/* Start the vCPU threads. */
int vm_start(struct vm *vm);
/* Start them parked, as after vm_pause() (a restored VM waits for resume). */
int vm_start_paused(struct vm *vm);
/* Stop and join the vCPU threads (idempotent). */
void vm_stop(struct vm *vm);
void vm_destroy(struct vm *vm);

/*
 * Pause every vCPU (each parks after its last exit is complete, so the
 * vCPU state is consistent for a snapshot) and freeze the guest's clock;
 * resume continues it where it stood. Event-loop thread only. -EALREADY
 * when already paused / not paused, -ETIMEDOUT if a vCPU does not park.
 */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);

/* Any thread: record why the VM must stop and wake main. */
void vm_request_exit(struct vm *vm, enum vm_exit reason);
/* Every device's save()/load(), in the board table's order (snapshots). */
int vm_save_devices(struct vm *vm, struct snap_writer *w, char *err, size_t errlen);
int vm_load_devices(struct vm *vm, const struct snap_reader *r, char *err, size_t errlen);

/* Press the ACPI power button: to the device that has one (hw/ged.c). */
int vm_power_button(struct vm *vm);

#endif
