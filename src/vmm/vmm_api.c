// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VMM's side of the REST API: struct api_vmm_ops (src/api/api.h)
 * implemented on the life-cycle calls of vmm.c. The API layer has checked
 * the state before calling; these calls check again, because the VM may
 * have changed state on its own (a guest power-off) in between.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/log.h"
#include "vmm/vmm.h"
#include "vmm/vmm_api.h"

static enum api_vm_state api_state(void *opaque)
{
	struct vmm *vmm = opaque;

	switch (vmm->state) {
	case VMM_NO_VM: return API_VM_NONE;
	case VMM_CREATED: return API_VM_CREATED;
	case VMM_RUNNING: return API_VM_RUNNING;
	case VMM_PAUSED: return API_VM_PAUSED;
	case VMM_SHUTDOWN: return API_VM_SHUTDOWN;
	}
	return API_VM_NONE;
}

static const struct vm_config *api_config(void *opaque)
{
	struct vmm *vmm = opaque;

	return vmm->state == VMM_NO_VM ? NULL : vmm->cfg;
}

static int api_create(void *opaque, struct vm_config *cfg, char *err, size_t errlen)
{
	return vmm_create(opaque, cfg, err, errlen);
}

static int api_boot(void *opaque, char *err, size_t errlen)
{
	return vmm_boot(opaque, err, errlen);
}

static int api_pause(void *opaque, char *err, size_t errlen)
{
	return vmm_pause(opaque, err, errlen);
}

static int api_resume(void *opaque, char *err, size_t errlen)
{
	return vmm_resume(opaque, err, errlen);
}

static int api_shutdown(void *opaque, char *err, size_t errlen)
{
	return vmm_shutdown_vm(opaque, err, errlen);
}

static int api_reboot(void *opaque, char *err, size_t errlen)
{
	return vmm_reboot(opaque, err, errlen);
}

static int api_power_button(void *opaque, char *err, size_t errlen)
{
	return vmm_power_button(opaque, err, errlen);
}

static int api_send_keys(void *opaque, const char *const *keys, size_t n, const char *text,
			 char *err, size_t errlen)
{
	return vmm_send_keys(opaque, keys, n, text, err, errlen);
}

static int api_resize_display(void *opaque, uint32_t width, uint32_t height, char *err,
			      size_t errlen)
{
	return vmm_resize_display(opaque, width, height, err, errlen);
}

static int api_screenshot(void *opaque, unsigned char **png, size_t *len, char *err,
			  size_t errlen)
{
	return vmm_screenshot(opaque, png, len, err, errlen);
}

static int api_delete(void *opaque, char *err, size_t errlen)
{
	return vmm_delete(opaque, err, errlen);
}

static int api_snapshot(void *opaque, const char *url, char *err, size_t errlen)
{
	return vmm_snapshot(opaque, url, err, errlen);
}

static int api_restore(void *opaque, const struct api_restore_config *rc, char *err,
		       size_t errlen)
{
	/* prefault: RAM is read in whole at restore anyway. */
	return vmm_restore(opaque, rc->source_url, err, errlen);
}

static void api_shutdown_vmm(void *opaque)
{
	struct vmm *vmm = opaque;

	pr_info("vmm.shutdown: exiting");
	if (vmm->state == VMM_RUNNING || vmm->state == VMM_PAUSED)
		vm_request_exit(&vmm->vm, VM_EXIT_SIGNAL);
	else
		vmm_quit(vmm, 0);
}

static const struct api_vmm_ops vmm_api_ops = {
	.state = api_state,
	.config = api_config,
	.create = api_create,
	.boot = api_boot,
	.pause = api_pause,
	.resume = api_resume,
	.shutdown = api_shutdown,
	.reboot = api_reboot,
	.power_button = api_power_button,
	.screenshot = api_screenshot,
	.send_keys = api_send_keys,
	.resize_display = api_resize_display,
	.delete_vm = api_delete,
	.snapshot = api_snapshot,
	.restore = api_restore,
	.shutdown_vmm = api_shutdown_vmm,
};

int vmm_api_open(struct vmm *vmm, char *err, size_t errlen)
{
	if (!vmm->cli.api.path && vmm->cli.api.fd < 0)
		return 0;
	return api_server_open(&vmm->api, vmm->host.loop, &vmm->cli.api, &vmm_api_ops, vmm, err,
			       errlen);
}

void vmm_api_close(struct vmm *vmm)
{
	if (vmm->api)
		api_server_close(vmm->api);
	vmm->api = NULL;
}
