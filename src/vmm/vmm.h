/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMM process: at most one VM and its life cycle.
 *
 * Cloud Hypervisor's states, as the API reports them: no VM yet (started
 * with only --api-socket), Created (a configuration, nothing running),
 * Running, Paused, Shutdown (stopped by vm.shutdown; vm.boot starts it
 * again). A guest reboot stays Running: the VM is rebuilt in place. A guest
 * power-off, a fatal VM error or SIGTERM/SIGINT end the process.
 *
 * Everything here runs on the main thread, which serves the event loop;
 * the command line (main.c) and the API (src/api) drive the same calls.
 */
#ifndef PHYLLO_VMM_VMM_H
#define PHYLLO_VMM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/chardev.h"
#include "base/config.h"
#include "dev/display.h"
#include "dev/input.h"
#include "ui/screen.h"
#include "vmm/vm.h"

enum vmm_state {
	VMM_NO_VM,
	VMM_CREATED,
	VMM_RUNNING,
	VMM_PAUSED,
	VMM_SHUTDOWN,
};

struct api_server;
struct vnc;
struct sendkeys;

struct vmm {
	struct vm_config cli;     /* the command line; process settings live here */
	struct vm_config *cfg;    /* the VM's configuration: &cli or from vm.create */
	enum vmm_state state;
	struct dev_host host;
	struct chardev serial, console;
	uint8_t cmos_ram[128];
	struct display display;   /* the screen, whatever boot draws on it */
	struct ui_screen screen;  /* its front ends' shared refresher */
	struct input input;       /* keys for whatever keyboard the guest has */
	struct vnc *vnc;          /* its VNC server (--display vnc=), NULL: none */
	struct sdl *sdl;          /* its window (--display sdl=on), NULL: none */
	struct sendkeys *typist;  /* vm.send-keys, made on first use */
	struct vm vm;
	int signal_fd;
	struct api_server *api;
	bool quit;                /* leave the main loop ... */
	int exit_status;          /* ... with this status */
};

/* Take cfg as the VM's configuration (moved: *cfg is emptied). */
int vmm_create(struct vmm *vmm, struct vm_config *cfg, char *err, size_t errlen);
/* Build the VM and start its vCPUs (Created or Shutdown -> Running). */
int vmm_boot(struct vmm *vmm, char *err, size_t errlen);
int vmm_pause(struct vmm *vmm, char *err, size_t errlen);
int vmm_resume(struct vmm *vmm, char *err, size_t errlen);
/* Stop the VM, keep its configuration (-> Shutdown). */
int vmm_shutdown_vm(struct vmm *vmm, char *err, size_t errlen);
/* Reboot: rebuild the VM from its configuration, as a guest reset does. */
int vmm_reboot(struct vmm *vmm, char *err, size_t errlen);
/* What the screen shows, as a PNG (the API's vm.screenshot). */
int vmm_screenshot(struct vmm *vmm, unsigned char **png, size_t *len, char *err, size_t errlen);
int vmm_resize_display(struct vmm *vmm, uint32_t width, uint32_t height, char *err,
		       size_t errlen);
/* Type key combinations, then text, on the guest's keyboard (vm.send-keys). */
int vmm_send_keys(struct vmm *vmm, const char *const *keys, size_t n, const char *text,
		  char *err, size_t errlen);
/* Press the ACPI power button; the guest decides what follows. */
int vmm_power_button(struct vmm *vmm, char *err, size_t errlen);
/* Forget the VM and its configuration (-> no VM). */
int vmm_delete(struct vmm *vmm, char *err, size_t errlen);
/* End the process after this loop iteration. */
void vmm_quit(struct vmm *vmm, int status);
/* Release everything (process exit). */
void vmm_cleanup(struct vmm *vmm);

const char *vmm_state_name(enum vmm_state state);

/* Snapshot (Paused) into, and restore (no VM) from, file:///DIR (vmm_snapshot.c). */
int vmm_snapshot(struct vmm *vmm, const char *url, char *err, size_t errlen);
int vmm_restore(struct vmm *vmm, const char *url, char *err, size_t errlen);

/* For vmm_snapshot.c: the pieces of a boot that a restore shares (the
 * serial port's and the console's back ends, the VNC server). */
int vmm_open_consoles(struct vmm *vmm, char *err, size_t errlen);
void vmm_close_consoles(struct vmm *vmm);
int vmm_watch_vm(struct vmm *vmm, char *err, size_t errlen);

#endif
