// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-vmm: one process, one VM.
 *
 * main() parses the command line, sets up what outlives a guest reboot
 * (event loop, console back end, CMOS RAM), then loops: build the VM, run
 * it until something asks it to stop, tear it down, and either boot again
 * (guest reboot) or exit. The main thread serves the event loop; each vCPU
 * has its own thread. Signals are taken synchronously through a signalfd so
 * that no handler ever runs in the middle of device code.
 *
 * Exit status: 0 after a guest power-off or a SIGTERM/SIGINT shutdown,
 * 1 for bad input or a VM failure (with one message naming it).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/chardev.h"
#include "vmm/loop.h"
#include "vmm/options.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

struct vmm {
	struct vm_config cfg;
	struct vm_host host;
	struct chardev serial;
	struct chardev console;
	uint8_t cmos_ram[128];
	struct vm vm;
	bool vm_alive;
	int signal_fd;
};

static void on_signal(void *opaque, uint32_t events)
{
	struct vmm *vmm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(vmm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("received %s, shutting down", strsignal((int)si.ssi_signo));
	if (vmm->vm_alive)
		vm_request_exit(&vmm->vm, VM_EXIT_SIGNAL);
}

static void on_vm_exit(void *opaque, uint32_t events)
{
	struct vmm *vmm = opaque;
	uint64_t v;

	(void)events;
	if (read(vmm->vm.exit_evt, &v, sizeof(v)) < 0) {
		/* Nothing to do: the exit reason is already recorded. */
	}
}

static int setup_signals(struct vmm *vmm)
{
	sigset_t set;
	int ret;

	/* Blocked here, so every thread created later inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1); /* vCPU threads unblock their kick signal */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGUSR1);
	vmm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vmm->signal_fd < 0)
		return -errno;
	/* A vanished reader of our stdout must not kill the VM mid-write. */
	signal(SIGPIPE, SIG_IGN);
	ret = vcpu_install_kick_signal();
	if (ret < 0)
		return ret;
	return loop_add(vmm->host.loop, vmm->signal_fd, EPOLLIN, on_signal, vmm);
}

/* Boot and run the VM until it stops; returns why. */
static enum vm_exit run_once(struct vmm *vmm)
{
	enum vm_exit reason;

	if (vm_create(&vmm->vm, &vmm->cfg, &vmm->host) < 0)
		return VM_EXIT_ERROR;
	vmm->vm_alive = true;
	if (loop_add(vmm->host.loop, vmm->vm.exit_evt, EPOLLIN, on_vm_exit, vmm) < 0) {
		vm_destroy(&vmm->vm);
		vmm->vm_alive = false;
		return VM_EXIT_ERROR;
	}
	if (vm_start(&vmm->vm) == 0)
		pr_info("booting %s with %u vCPU(s) and %lluM of RAM", vmm->cfg.kernel,
			vmm->cfg.boot_vcpus, (unsigned long long)(vmm->cfg.memory_size >> 20));
	while (atomic_load(&vmm->vm.exit_reason) == VM_EXIT_NONE)
		loop_run_once(vmm->host.loop, -1);
	reason = (enum vm_exit)atomic_load(&vmm->vm.exit_reason);
	vm_stop(&vmm->vm);
	loop_del(vmm->host.loop, vmm->vm.exit_evt);
	loop_run_once(vmm->host.loop, 0); /* let the loop free the dead handler */
	vmm->vm_alive = false;
	vm_destroy(&vmm->vm);
	return reason;
}

int main(int argc, char **argv)
{
	static struct vmm vmm; /* large (the chardev ring): not on the stack */
	char err[512];
	enum vm_exit reason;
	int status = 1;

	clock_gettime(CLOCK_MONOTONIC, &vmm.host.start);
	vm_config_init(&vmm.cfg);
	switch (options_parse(argc, argv, &vmm.cfg, err, sizeof(err))) {
	case OPTIONS_EXIT_OK:
		vm_config_free(&vmm.cfg);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "phyllo-vmm: error: %s\n", err);
		vm_config_free(&vmm.cfg);
		return 1;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(vmm.cfg.verbosity >= 2 ? LOG_DEBUG :
		      vmm.cfg.verbosity == 1 ? LOG_INFO : LOG_WARN);
	if (vmm.cfg.log_file && log_set_file(vmm.cfg.log_file) < 0) {
		fprintf(stderr, "phyllo-vmm: error: --log-file: cannot open '%s': %s\n",
			vmm.cfg.log_file, strerror(errno));
		goto out_cfg;
	}

	vmm.host.loop = loop_new();
	vmm.host.cmos_ram = vmm.cmos_ram;
	if (!vmm.host.loop || setup_signals(&vmm) < 0) {
		pr_err("cannot set up the event loop: %s", strerror(errno));
		goto out_loop;
	}
	if (vmm.cfg.serial.mode != CONSOLE_OFF) {
		if (chardev_open(&vmm.serial, &vmm.cfg.serial, vmm.host.loop, err, sizeof(err)) < 0) {
			pr_err("--serial: %s", err);
			goto out_loop;
		}
		vmm.host.serial = &vmm.serial;
	}
	if (vmm.cfg.console.mode != CONSOLE_OFF) {
		if (chardev_open(&vmm.console, &vmm.cfg.console, vmm.host.loop, err, sizeof(err)) < 0) {
			pr_err("--console: %s", err);
			goto out_serial;
		}
		vmm.host.console = &vmm.console;
	}

	do {
		reason = run_once(&vmm);
		if (reason == VM_EXIT_REBOOT)
			pr_info("guest reboot: booting again");
	} while (reason == VM_EXIT_REBOOT);
	status = reason == VM_EXIT_POWEROFF || reason == VM_EXIT_SIGNAL ? 0 : 1;

	if (vmm.host.console)
		chardev_close(&vmm.console);
out_serial:
	if (vmm.host.serial)
		chardev_close(&vmm.serial);
out_loop:
	if (vmm.signal_fd > 0) {
		loop_del(vmm.host.loop, vmm.signal_fd);
		close(vmm.signal_fd);
	}
	loop_free(vmm.host.loop);
out_cfg:
	vm_config_free(&vmm.cfg);
	chardev_restore_terminal();
	return status;
}
