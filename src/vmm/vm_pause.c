// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pause and resume a running VM (the API's vm.pause / vm.resume, and the
 * first step of a snapshot).
 *
 * Pausing asks every vCPU thread to park (vcpu.c): immediate_exit is set
 * and the thread is kicked, so its next KVM_RUN completes the last exit and
 * returns EINTR, and the thread waits on pause_cond until resume. vm_pause
 * returns once every running vCPU has parked, so that whoever paused may
 * read or write vCPU state.
 *
 * The guest's clock must not jump: the kvmclock value is read when the
 * last vCPU has parked and written back on resume (KVM_SET_CLOCK), and each
 * vCPU is told it was stopped (KVM_KVMCLOCK_CTRL) so the guest's soft
 * lockup watchdog does not blame the pause on itself. Devices served by
 * the event loop keep running; they may still complete requests, which
 * the guest sees when it resumes.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "base/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define VM_PAUSE_TIMEOUT_S 5

static unsigned int running_vcpus(const struct vm *vm)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		n += vm->vcpus[i].running;
	return n;
}

static void unpark_all(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].running)
			vm->vcpus[i].run->immediate_exit = 0;
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_pause(struct vm *vm)
{
	struct timespec deadline;
	unsigned int want = running_vcpus(vm);
	int ret = 0;

	if (vm->paused)
		return -EALREADY;
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = true;
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += VM_PAUSE_TIMEOUT_S;
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nr_parked < want && atomic_load(&vm->exit_reason) == VM_EXIT_NONE && !ret)
		ret = -pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &deadline);
	pthread_mutex_unlock(&vm->pause_lock);
	if (atomic_load(&vm->exit_reason) != VM_EXIT_NONE)
		ret = -ESHUTDOWN;
	if (ret < 0) {
		pr_err("pause: %u of %u vCPUs parked: %s", vm->nr_parked, want, strerror(-ret));
		unpark_all(vm);
		return ret;
	}

	memset(&vm->paused_clock, 0, sizeof(vm->paused_clock));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->paused_clock) < 0)
		pr_warn("pause: KVM_GET_CLOCK: %s; the guest's clock will jump", strerror(errno));
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		/* EINVAL: the guest has not enabled kvmclock on this vCPU. */
		if (ioctl(vm->vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
			pr_debug("pause: vCPU %u: KVM_KVMCLOCK_CTRL: %s", i, strerror(errno));
	vm->paused = true;
	pr_info("VM paused (%u vCPUs parked)", want);
	return 0;
}

int vm_resume(struct vm *vm)
{
	struct kvm_clock_data clock;

	if (!vm->paused)
		return -EALREADY;
	if (vm->paused_clock.clock) {
		memset(&clock, 0, sizeof(clock));
		clock.clock = vm->paused_clock.clock;
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
			pr_warn("resume: KVM_SET_CLOCK: %s; the guest's clock jumps",
				strerror(errno));
	}
	vm->paused = false;
	unpark_all(vm);
	pr_info("VM resumed");
	return 0;
}
