// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * phyllo-vmm: one process, one VM.
 *
 * main() parses the command line and sets up what the whole process needs:
 * the event loop, signals and, with --api-socket, the REST API. Given a
 * kernel it creates and boots the VM at once; the VM's life cycle is in
 * vmm.c. The main thread then serves the event loop until something ends
 * the process; each vCPU has its own thread. Signals are taken
 * synchronously through a signalfd so that no handler ever runs in the
 * middle of device code.
 *
 * Exit status: 0 after a guest power-off, a SIGTERM/SIGINT shutdown or the
 * API's vmm.shutdown; 1 for bad input or a VM failure (with one message
 * naming it).
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

#include "base/log.h"
#include "base/loop.h"
#include "vmm/options.h"
#include "vmm/vcpu.h"
#include "vmm/vmm.h"
#include "vmm/vmm_api.h"

static void on_signal(void *opaque, uint32_t events)
{
	struct vmm *vmm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(vmm->signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	pr_info("received %s, shutting down", strsignal((int)si.ssi_signo));
	if (vmm->state == VMM_RUNNING || vmm->state == VMM_PAUSED)
		vm_request_exit(&vmm->vm, VM_EXIT_SIGNAL);
	else
		vmm_quit(vmm, 0);
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

int main(int argc, char **argv)
{
	static struct vmm vmm; /* large (the chardev rings): not on the stack */
	char err[512];

	vmm.signal_fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &vmm.host.start);
	vm_config_init(&vmm.cli);
	switch (options_parse(argc, argv, &vmm.cli, err, sizeof(err))) {
	case OPTIONS_EXIT_OK:
		vm_config_free(&vmm.cli);
		return 0;
	case OPTIONS_ERROR:
		fprintf(stderr, "phyllo-vmm: error: %s\n", err);
		vm_config_free(&vmm.cli);
		return 1;
	case OPTIONS_RUN:
		break;
	}
	log_set_level(vmm.cli.verbosity >= 2 ? LOG_DEBUG :
		      vmm.cli.verbosity == 1 ? LOG_INFO : LOG_WARN);
	vmm.exit_status = 1;
	if (vmm.cli.log_file && log_set_file(vmm.cli.log_file) < 0) {
		fprintf(stderr, "phyllo-vmm: error: --log-file: cannot open '%s': %s\n",
			vmm.cli.log_file, strerror(errno));
		goto out_cfg;
	}

	vmm.host.loop = loop_new();
	vmm.host.cmos_ram = vmm.cmos_ram;
	display_init(&vmm.display);
	ui_screen_init(&vmm.screen, &vmm.display);
	vmm.host.display = &vmm.display;
	input_init(&vmm.input);
	vmm.host.input = &vmm.input;
	if (!vmm.host.loop || setup_signals(&vmm) < 0) {
		pr_err("cannot set up the event loop: %s", strerror(errno));
		goto out_loop;
	}
	if (vmm_api_open(&vmm, err, sizeof(err)) < 0) {
		pr_err("--api-socket: %s", err);
		goto out_loop;
	}
	if (vmm.cli.restore_source && vmm_restore(&vmm, vmm.cli.restore_source, err,
						  sizeof(err)) < 0) {
		pr_err("--restore: %s", err);
		goto out_vmm;
	}
	if (vmm.cli.kernel) {
		vmm.cfg = &vmm.cli;
		vmm.state = VMM_CREATED;
		if (vmm_boot(&vmm, err, sizeof(err)) < 0) {
			pr_err("%s", err);
			goto out_vmm;
		}
	}

	vmm.quit = false;
	while (!vmm.quit)
		loop_run_once(vmm.host.loop, -1);

out_vmm:
	vmm_cleanup(&vmm);
	vmm_api_close(&vmm);
out_loop:
	if (vmm.signal_fd >= 0) {
		loop_del(vmm.host.loop, vmm.signal_fd);
		close(vmm.signal_fd);
	}
	loop_free(vmm.host.loop);
	ui_screen_free(&vmm.screen);
	display_free(&vmm.display);
	input_free(&vmm.input);
out_cfg:
	vm_config_free(&vmm.cli);
	chardev_restore_terminal();
	return vmm.exit_status;
}
