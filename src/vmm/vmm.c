// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VM's life cycle inside the VMM process (see vmm.h for the states).
 *
 * A VM's end is always noticed the same way: whoever wants it to stop (a
 * vCPU on power-off, reset or failure, the signal handler, the API) calls
 * vm_request_exit(), which records the first reason and wakes the event
 * loop through vm.exit_evt; on_vm_exit() then tears the VM down on the
 * main thread and decides what follows: boot again, stay shut down, or end
 * the process. The API's shutdown and reboot take the same path, so a VM
 * is only ever destroyed here.
 *
 * The console back ends (serial, virtio-console) are opened at the first
 * boot and kept across guest reboots, so a terminal or socket client stays
 * connected; they close when the VM is shut down or deleted.
 */
#include "vmm/vmm.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop.h"
#include "ui/png.h"
#include "ui/sdl.h"
#include "ui/sendkeys.h"
#include "ui/vnc.h"

const char *vmm_state_name(enum vmm_state state)
{
	switch (state) {
	case VMM_NO_VM: return "NotCreated";
	case VMM_CREATED: return "Created";
	case VMM_RUNNING: return "Running";
	case VMM_PAUSED: return "Paused";
	case VMM_SHUTDOWN: return "Shutdown";
	}
	return "?";
}

void vmm_quit(struct vmm *vmm, int status)
{
	if (!vmm->quit)
		vmm->exit_status = status;
	vmm->quit = true;
}

/*
 * Where the web page's files are: $PHYLLO_WEB_DIR, else web/ beside the
 * binary (build/web for build/phyllo-vmm), else ../share/phyllome/web
 * from it (an installed tree).
 */
static const char *vmm_web_dir(char *buf, size_t len)
{
	const char *env = getenv("PHYLLO_WEB_DIR");
	char exe[PATH_MAX - 32], *slash;
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	snprintf(buf, len, "%s/web", exe);
	if (access(buf, R_OK | X_OK) == 0)
		return buf;
	snprintf(buf, len, "%s/../share/phyllome/web", exe);
	return buf;
}

/* vm.send-keys' typist, made on first use; NULL if it cannot be. */
/* The window was closed (SDL's thread): end the VM as SIGTERM does, on
 * the event loop's thread, through the signalfd (main.c). */
static void sdl_closed(void *opaque)
{
	(void)opaque;
	kill(getpid(), SIGTERM);
}

static struct sendkeys *vmm_typist(struct vmm *vmm)
{
	if (!vmm->typist && sendkeys_new(&vmm->typist, vmm->host.loop, &vmm->input) < 0)
		vmm->typist = NULL;
	return vmm->typist;
}

int vmm_open_consoles(struct vmm *vmm, char *err, size_t errlen)
{
	char why[256];

	if (vmm->cfg->serial.mode != CONSOLE_OFF && !vmm->host.serial) {
		if (chardev_open(&vmm->serial, &vmm->cfg->serial, vmm->host.loop, why,
				 sizeof(why)) < 0) {
			snprintf(err, errlen, "--serial: %s", why);
			return -EINVAL;
		}
		vmm->host.serial = &vmm->serial;
	}
	if (vmm->cfg->console.mode != CONSOLE_OFF && !vmm->host.console) {
		if (chardev_open(&vmm->console, &vmm->cfg->console, vmm->host.loop, why,
				 sizeof(why)) < 0) {
			snprintf(err, errlen, "--console: %s", why);
			return -EINVAL;
		}
		vmm->host.console = &vmm->console;
	}
	if (vmm->cfg->display.vnc && !vmm->vnc) {
		char web_dir[PATH_MAX], password[VNC_PASSWORD_MAX + 1];
		struct vnc_opts o = {
			.addr = vmm->cfg->display.vnc, .web = vmm->cfg->display.web,
			.web_dir = vmm->cfg->display.web ? vmm_web_dir(web_dir, sizeof(web_dir)) : NULL,
			.input = &vmm->input,
			.typist = vmm_typist(vmm),
			.screen = &vmm->screen,
		};
		int ret = 0;

		if (vmm->cfg->display.password_file) {
			ret = vnc_password_load(vmm->cfg->display.password_file, password, why,
						sizeof(why));
			o.password = password;
		}
		if (ret == 0)
			ret = vnc_start(&vmm->vnc, &vmm->display, &o, why, sizeof(why));
		explicit_bzero(password, sizeof(password));
		if (ret < 0) {
			snprintf(err, errlen, "--display: %s", why);
			return -EINVAL;
		}
		if (vnc_web_url(vmm->vnc))
			fprintf(stderr, "phyllo-vmm: the screen is at %s\n", vnc_web_url(vmm->vnc));
	}
	if (vmm->cfg->display.sdl && !vmm->sdl) {
		struct sdl_opts o = {
			.screen = &vmm->screen, .input = &vmm->input, .title = "phyllo-vmm",
			.closed = sdl_closed, .opaque = vmm,
		};

		if (sdl_start(&vmm->sdl, &o, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "--display: %s", why);
			return -EINVAL;
		}
	}
	return 0;
}

void vmm_close_consoles(struct vmm *vmm)
{
	sdl_stop(vmm->sdl);
	vmm->sdl = NULL;
	vnc_stop(vmm->vnc);
	vmm->vnc = NULL;
	if (vmm->host.console)
		chardev_close(&vmm->console);
	if (vmm->host.serial)
		chardev_close(&vmm->serial);
	vmm->host.console = vmm->host.serial = NULL;
}

static void on_vm_exit(void *opaque, uint32_t events);

int vmm_watch_vm(struct vmm *vmm, char *err, size_t errlen)
{
	int ret = loop_add(vmm->host.loop, vmm->vm.exit_evt, EPOLLIN, on_vm_exit, vmm);

	if (ret < 0)
		snprintf(err, errlen, "cannot watch the VM's exit event: %s", strerror(-ret));
	return ret;
}

/* Build and start the VM from vmm->cfg (consoles already open). */
static int vm_bring_up(struct vmm *vmm, char *err, size_t errlen)
{
	int ret = vm_create(&vmm->vm, vmm->cfg, &vmm->host, VM_CREATE_BOOT, err, errlen);

	if (ret < 0)
		return ret;
	ret = vmm_watch_vm(vmm, err, errlen);
	if (ret < 0) {
		vm_destroy(&vmm->vm);
		return ret;
	}
	ret = vm_start(&vmm->vm);
	if (ret < 0) {
		snprintf(err, errlen, "cannot start the vCPU threads: %s", strerror(-ret));
		loop_del(vmm->host.loop, vmm->vm.exit_evt);
		vm_destroy(&vmm->vm);
		return ret;
	}
	vmm->state = VMM_RUNNING;
	pr_info("booting %s with %u vCPU(s) and %lluM of RAM", vmm->cfg->kernel,
		vmm->cfg->boot_vcpus, (unsigned long long)(vmm->cfg->memory_size >> 20));
	return 0;
}

/* Stop and destroy a VM whose exit reason is set. */
static void vm_tear_down(struct vmm *vmm)
{
	vm_stop(&vmm->vm);
	loop_del(vmm->host.loop, vmm->vm.exit_evt);
	vm_destroy(&vmm->vm);
}

static void on_vm_exit(void *opaque, uint32_t events)
{
	struct vmm *vmm = opaque;
	enum vm_exit reason = (enum vm_exit)atomic_load(&vmm->vm.exit_reason);
	char err[512];
	uint64_t v;

	(void)events;
	if (read(vmm->vm.exit_evt, &v, sizeof(v)) < 0 || reason == VM_EXIT_NONE)
		return;
	vm_tear_down(vmm);
	vmm->state = VMM_SHUTDOWN;
	switch (reason) {
	case VM_EXIT_REBOOT:
		pr_info("guest reboot: booting again");
		if (vm_bring_up(vmm, err, sizeof(err)) < 0) {
			pr_err("booting again after the reset failed: %s", err);
			vmm_quit(vmm, 1);
		}
		break;
	case VM_EXIT_SHUTDOWN:
		pr_info("VM shut down");
		vmm_close_consoles(vmm);
		break;
	case VM_EXIT_POWEROFF:
	case VM_EXIT_SIGNAL:
		vmm_quit(vmm, 0);
		break;
	case VM_EXIT_ERROR:
	case VM_EXIT_NONE:
		vmm_quit(vmm, 1);
		break;
	}
}

int vmm_create(struct vmm *vmm, struct vm_config *cfg, char *err, size_t errlen)
{
	struct vm_config *copy;

	if (vmm->state != VMM_NO_VM) {
		snprintf(err, errlen, "a VM is already created");
		return -EEXIST;
	}
	copy = malloc(sizeof(*copy));
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*copy = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	vmm->cfg = copy;
	vmm->state = VMM_CREATED;
	return 0;
}

int vmm_boot(struct vmm *vmm, char *err, size_t errlen)
{
	int ret;

	if (vmm->state != VMM_CREATED && vmm->state != VMM_SHUTDOWN) {
		snprintf(err, errlen, "the VM is %s, not Created or Shutdown",
			 vmm_state_name(vmm->state));
		return vmm->state == VMM_NO_VM ? -ENOENT : -EBUSY;
	}
	ret = vmm_open_consoles(vmm, err, errlen);
	if (ret < 0)
		return ret;
	ret = vm_bring_up(vmm, err, errlen);
	if (ret < 0)
		vmm_close_consoles(vmm);
	return ret;
}

static int need_state(struct vmm *vmm, enum vmm_state want, char *err, size_t errlen)
{
	if (vmm->state == want)
		return 0;
	snprintf(err, errlen, "the VM is %s, not %s", vmm_state_name(vmm->state),
		 vmm_state_name(want));
	return vmm->state == VMM_NO_VM ? -ENOENT : -EBUSY;
}

int vmm_pause(struct vmm *vmm, char *err, size_t errlen)
{
	int ret = need_state(vmm, VMM_RUNNING, err, errlen);

	if (ret < 0)
		return ret;
	ret = vm_pause(&vmm->vm);
	if (ret < 0) {
		snprintf(err, errlen, "cannot pause the VM: %s", strerror(-ret));
		return ret;
	}
	vmm->state = VMM_PAUSED;
	return 0;
}

int vmm_resume(struct vmm *vmm, char *err, size_t errlen)
{
	int ret = need_state(vmm, VMM_PAUSED, err, errlen);

	if (ret < 0)
		return ret;
	ret = vm_resume(&vmm->vm);
	if (ret < 0) {
		snprintf(err, errlen, "cannot resume the VM: %s", strerror(-ret));
		return ret;
	}
	vmm->state = VMM_RUNNING;
	return 0;
}

int vmm_power_button(struct vmm *vmm, char *err, size_t errlen)
{
	int ret = vmm->state == VMM_PAUSED ? 0 : need_state(vmm, VMM_RUNNING, err, errlen);

	if (ret < 0)
		return ret;
	ret = vm_power_button(&vmm->vm);
	if (ret < 0)
		snprintf(err, errlen, "cannot press the power button: %s", strerror(-ret));
	return ret;
}

int vmm_send_keys(struct vmm *vmm, const char *const *keys, size_t n, const char *text,
		  char *err, size_t errlen)
{
	int ret;

	if (!vmm_typist(vmm)) {
		snprintf(err, errlen, "cannot start typing: %s", strerror(errno));
		return -ENOMEM;
	}
	ret = sendkeys_queue(vmm->typist, keys, n, text, err, errlen);
	return ret == -E2BIG ? -EINVAL : ret;
}

int vmm_resize_display(struct vmm *vmm, uint32_t width, uint32_t height, char *err,
		       size_t errlen)
{
	int ret = vmm->state == VMM_PAUSED ? 0 : need_state(vmm, VMM_RUNNING, err, errlen);

	if (ret < 0)
		return ret;
	ret = display_resize(&vmm->display, width, height);
	if (ret == -ENODEV)
		snprintf(err, errlen, "the VM has no display (boot it with --display)");
	else if (ret == -ENOTSUP)
		snprintf(err, errlen, "its display device cannot change size (virtio-gpu can: "
			 "--display device=virtio-gpu)");
	else if (ret == -EINVAL)
		snprintf(err, errlen, "%ux%u is not a size the display can offer (320x200 to "
			 "4095x4095, a 60 Hz pixel clock an EDID can say)", width, height);
	else if (ret < 0)
		snprintf(err, errlen, "cannot resize the display: %s", strerror(-ret));
	return ret;
}

int vmm_screenshot(struct vmm *vmm, unsigned char **png, size_t *len, char *err, size_t errlen)
{
	struct display_frame f;
	int ret = vmm->state == VMM_PAUSED ? 0 : need_state(vmm, VMM_RUNNING, err, errlen);

	if (ret < 0)
		return ret;
	ret = display_read_frame(&vmm->display, &f);
	if (ret == -ENODEV) {
		snprintf(err, errlen, "the VM has no display (boot it with --display)");
	} else if (ret == -ENODATA) {
		snprintf(err, errlen, "the display shows nothing yet (the guest has set no mode)");
	} else if (ret < 0) {
		snprintf(err, errlen, "cannot read the screen: %s", strerror(-ret));
	} else {
		ret = png_encode_frame(&f, png, len);
		if (ret < 0)
			snprintf(err, errlen, "cannot encode the screen as PNG: %s", strerror(-ret));
		display_frame_free(&f);
	}
	return ret;
}

/* Stop a running or paused VM now, for the reason given. */
static int stop_vm(struct vmm *vmm, enum vm_exit reason, char *err, size_t errlen)
{
	if (vmm->state != VMM_RUNNING && vmm->state != VMM_PAUSED) {
		snprintf(err, errlen, "the VM is %s, not Running or Paused",
			 vmm_state_name(vmm->state));
		return vmm->state == VMM_NO_VM ? -ENOENT : -EBUSY;
	}
	vm_request_exit(&vmm->vm, reason);
	/* Whatever reason won (a guest power-off may have come first) decides. */
	on_vm_exit(vmm, EPOLLIN);
	return 0;
}

int vmm_shutdown_vm(struct vmm *vmm, char *err, size_t errlen)
{
	return stop_vm(vmm, VM_EXIT_SHUTDOWN, err, errlen);
}

int vmm_reboot(struct vmm *vmm, char *err, size_t errlen)
{
	return stop_vm(vmm, VM_EXIT_REBOOT, err, errlen);
}

int vmm_delete(struct vmm *vmm, char *err, size_t errlen)
{
	if (vmm->state == VMM_RUNNING || vmm->state == VMM_PAUSED) {
		int ret = vmm_shutdown_vm(vmm, err, errlen);

		if (ret < 0)
			return ret;
	}
	vmm_close_consoles(vmm);
	if (vmm->cfg && vmm->cfg != &vmm->cli) {
		vm_config_free(vmm->cfg);
		free(vmm->cfg);
	}
	vmm->cfg = NULL;
	vmm->state = VMM_NO_VM;
	return 0;
}

void vmm_cleanup(struct vmm *vmm)
{
	char err[128];

	if (vmm->state == VMM_RUNNING || vmm->state == VMM_PAUSED) {
		vm_request_exit(&vmm->vm, VM_EXIT_SIGNAL);
		vm_tear_down(vmm);
	}
	vmm->state = VMM_SHUTDOWN;
	vmm_delete(vmm, err, sizeof(err));
	sendkeys_free(vmm->typist);
	vmm->typist = NULL;
}
