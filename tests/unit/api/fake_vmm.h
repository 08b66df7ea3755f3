/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A VMM that only keeps a state, for the API tests and the fuzzer: its
 * api_vmm_ops move between Cloud Hypervisor's states, record what they
 * were given, and fail on request (fail_ret/fail_msg, for the next call).
 */
#ifndef PHYLLO_TESTS_API_FAKE_VMM_H
#define PHYLLO_TESTS_API_FAKE_VMM_H

#include <stdbool.h>

#include "api/api.h"

struct fake_vmm {
	enum api_vm_state state;
	struct vm_config cfg;  /* valid unless state is API_VM_NONE */
	int fail_ret;          /* the next operation returns this (then 0 again) */
	const char *fail_msg;
	char *snapshot_url, *restore_url;
	char sent_keys[256];   /* vm.send-keys: "k1 k2|text" */
	bool prefault;
	unsigned int ops_called;
	unsigned int shutdown_vmm_calls;
};

extern const struct api_vmm_ops fake_vmm_ops;

void fake_vmm_init(struct fake_vmm *f);
void fake_vmm_free(struct fake_vmm *f);

#endif
