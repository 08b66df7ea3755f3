// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fake VMM behind the API tests and fuzzer (see fake_vmm.h). Its
 * operations re-check the state they expect, so a test notices when the
 * API calls one in a state it should have refused itself.
 */
#include "fake_vmm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fake_vmm_init(struct fake_vmm *f)
{
	memset(f, 0, sizeof(*f));
	f->state = API_VM_NONE;
}

void fake_vmm_free(struct fake_vmm *f)
{
	if (f->state != API_VM_NONE)
		vm_config_free(&f->cfg);
	free(f->snapshot_url);
	free(f->restore_url);
	memset(f, 0, sizeof(*f));
}

/* Common entry: count, fail when asked, insist on an expected state. */
static int enter(struct fake_vmm *f, unsigned int states, char *err, size_t errlen)
{
	int ret = f->fail_ret;

	f->ops_called++;
	if (ret) {
		f->fail_ret = 0;
		snprintf(err, errlen, "%s", f->fail_msg ? f->fail_msg : "");
		return ret;
	}
	if (!(states & (1u << f->state))) {
		snprintf(err, errlen, "fake VMM: called in state %s",
			 api_vm_state_name(f->state));
		return -EPROTO; /* the API should have refused: 500 in tests */
	}
	return 0;
}

#define IN(s) (1u << (s))

static enum api_vm_state fake_state(void *vmm)
{
	return ((struct fake_vmm *)vmm)->state;
}

static const struct vm_config *fake_config(void *vmm)
{
	struct fake_vmm *f = vmm;

	return f->state == API_VM_NONE ? NULL : &f->cfg;
}

static int fake_create(void *vmm, struct vm_config *cfg, char *err, size_t errlen)
{
	struct fake_vmm *f = vmm;
	int ret = enter(f, IN(API_VM_NONE), err, errlen);

	if (ret < 0)
		return ret;
	f->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	f->state = API_VM_CREATED;
	return 0;
}

static int move(void *vmm, unsigned int from, enum api_vm_state to, char *err, size_t errlen)
{
	struct fake_vmm *f = vmm;
	int ret = enter(f, from, err, errlen);

	if (!ret)
		f->state = to;
	return ret;
}

static int fake_boot(void *vmm, char *err, size_t errlen)
{
	return move(vmm, IN(API_VM_CREATED) | IN(API_VM_SHUTDOWN), API_VM_RUNNING, err, errlen);
}

static int fake_pause(void *vmm, char *err, size_t errlen)
{
	return move(vmm, IN(API_VM_RUNNING), API_VM_PAUSED, err, errlen);
}

static int fake_resume(void *vmm, char *err, size_t errlen)
{
	return move(vmm, IN(API_VM_PAUSED), API_VM_RUNNING, err, errlen);
}

static int fake_shutdown(void *vmm, char *err, size_t errlen)
{
	return move(vmm, IN(API_VM_RUNNING) | IN(API_VM_PAUSED), API_VM_SHUTDOWN, err, errlen);
}

static int fake_reboot(void *vmm, char *err, size_t errlen)
{
	return move(vmm, IN(API_VM_RUNNING) | IN(API_VM_PAUSED), API_VM_RUNNING, err, errlen);
}

static int fake_power_button(void *vmm, char *err, size_t errlen)
{
	struct fake_vmm *f = vmm;

	return move(vmm, IN(API_VM_RUNNING) | IN(API_VM_PAUSED), f->state, err, errlen);
}

static int fake_send_keys(void *vmm, const char *const *keys, size_t n, const char *text,
			  char *err, size_t errlen)
{
	struct fake_vmm *f = vmm;
	int ret = enter(f, IN(API_VM_RUNNING), err, errlen);
	size_t len = 0;

	if (ret < 0)
		return ret;
	f->sent_keys[0] = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(f->sent_keys + len, sizeof(f->sent_keys) - len, "%s%s",
					i ? " " : "", keys[i]);
	snprintf(f->sent_keys + len, sizeof(f->sent_keys) - len, "|%s", text ? text : "(none)");
	return 0;
}

/* Running or Paused: eight bytes that stand for a PNG. */
static int fake_screenshot(void *vmm, unsigned char **png, size_t *len, char *err,
			   size_t errlen)
{
	struct fake_vmm *f = vmm;
	int ret = enter(f, IN(API_VM_RUNNING) | IN(API_VM_PAUSED), err, errlen);

	if (ret < 0)
		return ret;
	*png = malloc(8);
	if (!*png)
		return -ENOMEM;
	memcpy(*png, "\x89PNG\r\n\x1a\n", 8);
	*len = 8;
	return 0;
}

static int fake_delete(void *vmm, char *err, size_t errlen)
{
	struct fake_vmm *f = vmm;
	int ret = enter(f, ~IN(API_VM_NONE), err, errlen);

	if (ret < 0)
		return ret;
	vm_config_free(&f->cfg);
	f->state = API_VM_NONE;
	return 0;
}

static int fake_snapshot(void *vmm, const char *url, char *err, size_t errlen)
{
	struct fake_vmm *f = vmm;
	int ret = enter(f, IN(API_VM_PAUSED), err, errlen);

	if (ret < 0)
		return ret;
	free(f->snapshot_url);
	f->snapshot_url = strdup(url);
	return f->snapshot_url ? 0 : -ENOMEM;
}

static int fake_restore(void *vmm, const struct api_restore_config *rc, char *err,
			size_t errlen)
{
	struct fake_vmm *f = vmm;
	int ret = enter(f, IN(API_VM_NONE), err, errlen);

	if (ret < 0)
		return ret;
	free(f->restore_url);
	f->restore_url = strdup(rc->source_url);
	f->prefault = rc->prefault;
	vm_config_init(&f->cfg);
	f->cfg.kernel = strdup("/restored/kernel");
	f->state = API_VM_PAUSED;
	return 0;
}

static char *fake_counters(void *vmm)
{
	(void)vmm;
	return strdup("{\"_disk0\":{\"read_bytes\":512}}");
}

static void fake_shutdown_vmm(void *vmm)
{
	((struct fake_vmm *)vmm)->shutdown_vmm_calls++;
}

const struct api_vmm_ops fake_vmm_ops = {
	.state = fake_state,
	.config = fake_config,
	.create = fake_create,
	.boot = fake_boot,
	.pause = fake_pause,
	.resume = fake_resume,
	.shutdown = fake_shutdown,
	.reboot = fake_reboot,
	.power_button = fake_power_button,
	.send_keys = fake_send_keys,
	.screenshot = fake_screenshot,
	.delete_vm = fake_delete,
	.snapshot = fake_snapshot,
	.restore = fake_restore,
	.counters_json = fake_counters,
	.shutdown_vmm = fake_shutdown_vmm,
};
