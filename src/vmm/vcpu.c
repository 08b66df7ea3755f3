// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vCPU threads.
 *
 * Each thread loops on KVM_RUN. Port I/O and MMIO exits go to the buses;
 * KVM's in-kernel irqchip handles HLT, interrupts and INIT/SIPI, so those
 * never come here. Anything else ends the VM with one message that says
 * which vCPU, why, and where (RIP).
 *
 * Stopping: main sets vm->exit_reason, then for each vCPU sets
 * kvm_run.immediate_exit and sends SIGUSR1. The signal interrupts a running
 * KVM_RUN (EINTR); immediate_exit covers the window where the thread is just
 * about to enter it. The handler does nothing: its only job is the EINTR.
 *
 * Pausing (vm_pause.c) uses the same kick without an exit reason. A thread
 * parks only after KVM_RUN returned EINTR: with immediate_exit set, that
 * KVM_RUN first completes the exit handled before it (the data of an IN,
 * an MMIO read), so a parked vCPU's registers are whole, as a snapshot
 * needs them.
 */
#include "vmm/vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/regs.h"
#include "base/log.h"
#include "vmm/vm.h"

#define VCPU_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_install_kick_signal(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler; /* no SA_RESTART: KVM_RUN must see EINTR */
	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id)
{
	struct kvm_cpuid2 *cpuid;
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		return -errno;
	vcpu->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		ret = -errno;
		goto err;
	}
	cpuid = cpuid_for_vcpu(vm->cpuid, id, vm->nr_vcpus);
	if (!cpuid) {
		ret = -ENOMEM;
		goto err;
	}
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (ret < 0)
		goto err;
	ret = x86_vcpu_init_common(vcpu->fd);
	if (ret < 0)
		goto err;
	return 0;
err:
	vcpu_destroy(vcpu);
	return ret;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static void vcpu_fatal(struct vcpu *vcpu, const char *what)
{
	struct kvm_regs regs;
	unsigned long long rip = 0;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		rip = regs.rip;
	pr_err("vCPU %u: %s at RIP 0x%llx", vcpu->id, what, rip);
	vm_request_exit(vcpu->vm, VM_EXIT_ERROR);
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++) {
		bus_access(&vcpu->vm->pio, run->io.port, data, run->io.size, is_write);
		data += run->io.size;
	}
}

static void vcpu_handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vcpu->vm, VM_EXIT_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vcpu->vm, VM_EXIT_REBOOT);
		break;
	default:
		vcpu_fatal(vcpu, "guest crash (KVM_EXIT_SYSTEM_EVENT)");
		break;
	}
}

/* Returns false when the thread must stop. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data,
			   run->mmio.len, run->mmio.is_write);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_fatal(vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_HLT:
		vcpu_fatal(vcpu, "halted with interrupts off (KVM_EXIT_HLT)");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed (KVM_EXIT_FAIL_ENTRY, reason 0x%llx)",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_fatal(vcpu, what);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error (suberror %u)",
			 run->internal.suberror);
		vcpu_fatal(vcpu, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		vcpu_fatal(vcpu, what);
		return false;
	}
}

/* After a kick: wait here while the VM is paused (and not stopping). */
static void vcpu_park_while_paused(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_requested) {
		vm->nr_parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pause_requested && atomic_load(&vm->exit_reason) == VM_EXIT_NONE)
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->nr_parked--;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *opaque)
{
	struct vcpu *vcpu = opaque;
	struct vm *vm = vcpu->vm;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (atomic_load(&vm->exit_reason) == VM_EXIT_NONE) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu_park_while_paused(vcpu);
				continue; /* kicked: the loop condition decides */
			}
			char what[96];

			snprintf(what, sizeof(what), "KVM_RUN failed: %s", strerror(errno));
			vcpu_fatal(vcpu, what);
			break;
		}
		vcpu->nr_exits++;
		vcpu->last_exit_reason = vcpu->run->exit_reason;
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret)
		return -ret;
	vcpu->running = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->running)
		return;
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_kick_and_join(struct vcpu *vcpu)
{
	if (!vcpu->running)
		return;
	vcpu_kick(vcpu);
	pthread_join(vcpu->thread, NULL);
	vcpu->running = false;
	/* Stopped from outside (a timeout's SIGTERM, often): say where it was. */
	bool from_outside = atomic_load(&vcpu->vm->exit_reason) == VM_EXIT_SIGNAL;

	vcpu_log_state(vcpu, from_outside ? LOG_INFO : LOG_DEBUG);
	vcpu->run->immediate_exit = 0;
}

static const char *mp_state_name(uint32_t state)
{
	static const char *const names[] = {
		[KVM_MP_STATE_RUNNABLE] = "runnable",
		[KVM_MP_STATE_UNINITIALIZED] = "waiting for INIT",
		[KVM_MP_STATE_INIT_RECEIVED] = "INIT received",
		[KVM_MP_STATE_HALTED] = "halted",
		[KVM_MP_STATE_SIPI_RECEIVED] = "SIPI received",
	};

	return state < ARRAY_SIZE(names) && names[state] ? names[state] : "other";
}

/*
 * Why this exists: a guest that hangs without a word (seen now and then
 * under nested KVM) leaves nothing to go on but where its vCPUs were when
 * the VMM was told to stop. Called on a stopped (joined) vCPU only.
 */
void vcpu_log_state(struct vcpu *vcpu, enum log_level level)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_mp_state mp;

	if (log_get_level() < level)
		return;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) < 0) {
		log_msg(level, "vCPU %u: its state cannot be read: %s", vcpu->id, strerror(errno));
		return;
	}
	log_msg(level,
		"vCPU %u stopped at RIP 0x%llx (CS 0x%x, CR0 0x%llx, EFER 0x%llx, RFLAGS 0x%llx, %s)"
		" after %llu exits, the last reason %u",
		vcpu->id, (unsigned long long)regs.rip, sregs.cs.selector,
		(unsigned long long)sregs.cr0, (unsigned long long)sregs.efer,
		(unsigned long long)regs.rflags, mp_state_name(mp.mp_state), vcpu->nr_exits,
		vcpu->last_exit_reason);
}
