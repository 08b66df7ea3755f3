// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Snapshot and restore of the whole VM, with Cloud Hypervisor's semantics:
 * vm.snapshot needs a Paused VM and writes into file:///DIR; a restore (in
 * a new process, --restore or vm.restore) rebuilds the VM from DIR and
 * leaves it Paused until vm.resume.
 *
 * DIR holds three files:
 *   config.json  the VmConfig (the API's JSON), so the same devices exist
 *   state        typed, CRC-checked sections (src/snapshot/snapfile.c):
 *                "vcpu.N" (arch/x86/cpu_state.c), "irqchip", "pit",
 *                "clock" (arch/x86/vm_state.c), "dev.*" (each device's
 *                save()), "memory" (the RAM layout)
 *   memory       guest RAM, sparse: zero pages are holes (snapshot/memfile.c)
 *
 * Order on save: vCPUs are parked (their last exit completed), then the
 * devices save (virtio-blk first finishes what is in flight, which may
 * still write RAM), and only then RAM is written. The clock saved is the
 * one read at the pause, so the guest's time resumes from where it froze.
 * On restore the VM is built as for a boot but without the kernel, RAM is
 * read back, the vCPUs, devices and interrupt controllers are loaded, and
 * the vCPU threads start parked; vm.resume sets the clock and lets them go.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/vmconfig_json.h"
#include "arch/x86/cpu_state.h"
#include "arch/x86/vm_state.h"
#include "base/file.h"
#include "base/log.h"
#include "snapshot/memfile.h"
#include "snapshot/snapfile.h"
#include "vmm/vcpu.h"
#include "vmm/vmm.h"

#define SNAP_CONFIG_FILE "config.json"
#define SNAP_CONFIG_MAX (1u << 20)

/* "file:///DIR" -> "/DIR" in buf. */
static int url_to_dir(const char *url, char *buf, size_t len, char *err, size_t errlen)
{
	const char *dir = file_url_path(url);

	if (!dir) {
		snprintf(err, errlen, "'%s' is not a file:///DIR URL", url ? url : "");
		return -EINVAL;
	}
	if (strlen(dir) >= len) {
		snprintf(err, errlen, "the path in '%s' is too long", url);
		return -ENAMETOOLONG;
	}
	snprintf(buf, len, "%s", dir);
	return 0;
}

static int write_config(const struct vm_config *cfg, const char *dir, char *err, size_t errlen)
{
	struct snap_tmpfile t;
	json_t *j = vmconfig_to_json(cfg);
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	size_t len, off = 0;
	int ret;

	json_decref(j);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = snap_tmpfile_open(&t, dir, SNAP_CONFIG_FILE, err, errlen);
	if (ret < 0)
		goto out;
	len = strlen(text);
	while (off < len) {
		ssize_t n = write(t.fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "writing %s: %s", t.path, strerror(errno));
			snap_tmpfile_abort(&t);
			goto out;
		}
		off += (size_t)n;
	}
	ret = snap_tmpfile_commit(&t, err, errlen);
out:
	free(text);
	return ret;
}

static int read_config(const char *dir, struct vm_config *cfg, char *err, size_t errlen)
{
	char path[PATH_MAX + 16], why[PATH_MAX + 128];
	uint8_t *text;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_CONFIG_FILE);
	ret = file_read_all(path, SNAP_CONFIG_MAX, &text, &len, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "%s", why);
		return ret;
	}
	ret = vmconfig_from_json((const char *)text, len, cfg, why, sizeof(why));
	free(text);
	if (ret < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return ret;
}

static int save_vcpus(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	struct x86_cpu_caps caps;
	int ret = x86_cpu_caps_probe(vm->kvm_fd, vm->vm_fd, &caps, err, errlen);

	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < vm->nr_vcpus && ret == 0; i++) {
		struct x86_cpu_state st;

		ret = x86_cpu_state_save(&caps, vm->vcpus[i].fd, &st, err, errlen);
		if (ret < 0)
			break;
		ret = x86_cpu_state_write(&st, i, w, err, errlen);
		x86_cpu_state_free(&st);
	}
	x86_cpu_caps_free(&caps);
	return ret;
}

static int save_machine(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	struct x86_vm_state st;
	int ret = x86_vm_state_save(vm->vm_fd, &st, err, errlen);

	if (ret < 0)
		return ret;
	/* The guest's time stopped at the pause, not now. */
	if (vm->paused_clock.clock)
		st.clock.clock = vm->paused_clock.clock;
	return x86_vm_state_write(&st, w, err, errlen);
}

int vmm_snapshot(struct vmm *vmm, const char *url, char *err, size_t errlen)
{
	struct snap_mem_layout layout;
	struct snap_mem_stats stats;
	struct snap_writer w;
	struct timespec t0, t1;
	char dir[PATH_MAX];
	int ret;

	if (vmm->state != VMM_PAUSED) {
		snprintf(err, errlen, "the VM is %s; pause it first", vmm_state_name(vmm->state));
		return vmm->state == VMM_NO_VM ? -ENOENT : -EBUSY;
	}
	ret = url_to_dir(url, dir, sizeof(dir), err, errlen);
	if (ret < 0)
		return ret;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/*
	 * "state" is committed last; with an old one removed first, its presence
	 * means config, memory and state belong together, even if this snapshot
	 * into the same directory fails halfway.
	 */
	{
		char old[PATH_MAX + 16];

		snprintf(old, sizeof(old), "%s/%s", dir, SNAP_STATE_FILE);
		if (unlink(old) < 0 && errno != ENOENT) {
			ret = -errno;
			snprintf(err, errlen, "cannot replace %s: %s", old, strerror(errno));
			return ret;
		}
	}
	ret = write_config(vmm->cfg, dir, err, errlen);
	if (ret < 0)
		return ret;
	ret = snap_writer_open(&w, dir, SNAP_STATE_FILE, err, errlen);
	if (ret < 0)
		return ret;
	ret = save_vcpus(&vmm->vm, &w, err, errlen);
	if (ret == 0)
		ret = save_machine(&vmm->vm, &w, err, errlen);
	/* Devices before RAM: draining virtio-blk may still write guest memory. */
	if (ret == 0)
		ret = vm_save_devices(&vmm->vm, &w, err, errlen);
	if (ret == 0)
		ret = snap_mem_save(&vmm->vm.mem, dir, SNAP_MEMORY_FILE, &layout, &stats, err,
				    errlen);
	if (ret == 0)
		ret = snap_mem_layout_write(&layout, &w, err, errlen);
	if (ret < 0) {
		snap_writer_abort(&w);
		return ret;
	}
	ret = snap_writer_finish(&w, err, errlen);
	if (ret < 0)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_info("snapshot written to %s in %.0f ms: %llu MiB of RAM, %llu MiB of data", dir,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		(unsigned long long)(stats.ram_bytes >> 20),
		(unsigned long long)(stats.data_bytes >> 20));
	return 0;
}

/* With the VM built (VM_CREATE_RESTORE): put everything back. */
static int load_vm(struct vm *vm, const char *dir, const struct snap_reader *r, char *err,
		   size_t errlen)
{
	struct snap_mem_layout layout, want;
	struct x86_vm_state vst;
	struct x86_cpu_caps caps;
	int ret;

	ret = snap_mem_layout_read(r, &layout, err, errlen);
	if (ret < 0)
		return ret;
	snap_mem_layout_of(&vm->mem, &want);
	if (layout.nregions != want.nregions || layout.file_size != want.file_size) {
		snprintf(err, errlen, "%s: the RAM layout does not match the configuration", r->path);
		return -EINVAL;
	}
	ret = snap_mem_load(&vm->mem, dir, SNAP_MEMORY_FILE, &layout, NULL, err, errlen);
	if (ret < 0)
		return ret;

	ret = x86_cpu_caps_probe(vm->kvm_fd, vm->vm_fd, &caps, err, errlen);
	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < vm->nr_vcpus && ret == 0; i++) {
		struct x86_cpu_state st;

		ret = x86_cpu_state_read(r, i, &st, err, errlen);
		if (ret < 0)
			break;
		ret = x86_cpu_state_restore(&caps, vm->vcpus[i].fd, &st, err, errlen);
		x86_cpu_state_free(&st);
	}
	x86_cpu_caps_free(&caps);
	if (ret < 0)
		return ret;
	ret = vm_load_devices(vm, r, err, errlen);
	if (ret < 0)
		return ret;
	ret = x86_vm_state_read(r, &vst, err, errlen);
	if (ret < 0)
		return ret;
	ret = x86_vm_state_restore(vm->vm_fd, &vst, 0, err, errlen);
	if (ret < 0)
		return ret;
	/* vm.resume sets it again, so the time spent paused does not show. */
	vm->paused_clock = vst.clock;
	return 0;
}

int vmm_restore(struct vmm *vmm, const char *url, char *err, size_t errlen)
{
	struct snap_reader r;
	struct vm_config cfg;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int ret;

	if (vmm->state != VMM_NO_VM) {
		snprintf(err, errlen, "a VM already exists (vm.delete it first)");
		return -EEXIST;
	}
	ret = url_to_dir(url, dir, sizeof(dir), err, errlen);
	if (ret < 0)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_STATE_FILE);
	ret = snap_reader_open(&r, path, 0, err, errlen);
	if (ret < 0)
		return ret;
	ret = read_config(dir, &cfg, err, errlen);
	if (ret < 0)
		goto out_reader;
	ret = vmm_create(vmm, &cfg, err, errlen);
	if (ret < 0) {
		vm_config_free(&cfg);
		goto out_reader;
	}
	ret = vmm_open_consoles(vmm, err, errlen);
	if (ret < 0)
		goto out_delete;
	ret = vm_create(&vmm->vm, vmm->cfg, &vmm->host, VM_CREATE_RESTORE, err, errlen);
	if (ret < 0)
		goto out_delete;
	ret = load_vm(&vmm->vm, dir, &r, err, errlen);
	if (ret < 0)
		goto out_destroy;
	ret = vmm_watch_vm(vmm, err, errlen);
	if (ret < 0)
		goto out_destroy;
	ret = vm_start_paused(&vmm->vm);
	if (ret < 0) {
		snprintf(err, errlen, "cannot start the vCPU threads: %s", strerror(-ret));
		vm_request_exit(&vmm->vm, VM_EXIT_ERROR);
		goto out_reader; /* on_vm_exit tears it down */
	}
	vmm->state = VMM_PAUSED;
	snap_reader_close(&r);
	pr_info("restored from %s: the VM is Paused (vm.resume continues it)", dir);
	return 0;

out_destroy:
	vm_destroy(&vmm->vm);
out_delete:
	vmm->state = VMM_CREATED;
	{
		char ignored[64];

		vmm_delete(vmm, ignored, sizeof(ignored));
	}
out_reader:
	snap_reader_close(&r);
	return ret;
}
