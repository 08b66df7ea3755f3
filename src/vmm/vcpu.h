/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vCPU: its KVM fd, the shared kvm_run page and the thread that loops on
 * KVM_RUN, dispatching port I/O and MMIO exits to the VM's buses.
 */
#ifndef PHYLLO_VMM_VCPU_H
#define PHYLLO_VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#include "base/log.h"

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool running; /* thread started and not joined */
	/* Written by the vCPU's own thread only; read after it is joined. */
	unsigned long long nr_exits;
	unsigned int last_exit_reason;
};

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id);
void vcpu_destroy(struct vcpu *vcpu);
int vcpu_start(struct vcpu *vcpu);
/* Make KVM_RUN return now (from any thread), then join. */
void vcpu_kick_and_join(struct vcpu *vcpu);
/* One log line at LEVEL: where a stopped vCPU is and what it last did. */
void vcpu_log_state(struct vcpu *vcpu, enum log_level level);
/* Make KVM_RUN return now without ending the thread (pause). */
void vcpu_kick(struct vcpu *vcpu);
/* The signal used to kick vCPUs out of KVM_RUN; installed once per process. */
int vcpu_install_kick_signal(void);

#endif
