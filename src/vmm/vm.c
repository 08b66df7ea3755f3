// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Building and tearing down one boot of a VM.
 *
 * Order matters to KVM: the TSS and identity-map addresses and the
 * in-kernel irqchip must exist before the first vCPU; RAM and ACPI tables
 * before the kernel is loaded (it needs the RSDP address); CPUID before a
 * vCPU first runs. vm_create follows that order and unwinds through
 * vm_destroy, which accepts a half-built VM.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/boot.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "base/log.h"
#include "vmm/vcpu.h"

/* APIC IDs must fit the 8-bit xAPIC ID (0xff is broadcast, one for the IOAPIC). */
#define VM_MAX_VCPUS 254

extern const struct dev_ops serial_device, cmos_device, i8042_device, pci_host_device,
	mbrd_device, acpi_pm_device, debug_port_device, ged_device, virtio_rng_device,
	virtio_blk_device, virtio_console_device, virtio_net_device, virtio_vsock_device,
	bochs_display_device, virtio_gpu_device, virtio_input_device;

/*
 * The board: every kind of device, in creation order, which is also the
 * order of PCI slots (console, disks, rng, nets, vsock), snapshot sections
 * and DSDT objects (COM1, RTC, PS2K, PCI0, MBRD, PWRB, GED: the order the
 * guest's tables had before devices wrote their own, tests/e2e/acpi/).
 */
static const struct dev_ops *const board[] = {
	&serial_device, &cmos_device, &i8042_device, &pci_host_device, &mbrd_device,
	&acpi_pm_device, &debug_port_device, &ged_device, &virtio_console_device,
	&virtio_blk_device, &virtio_rng_device, &virtio_net_device, &virtio_vsock_device,
	&bochs_display_device,
	&virtio_gpu_device,
	&virtio_input_device,
};

void vm_request_exit(struct vm *vm, enum vm_exit reason)
{
	int expected = VM_EXIT_NONE;
	uint64_t one = 1;

	if (atomic_compare_exchange_strong(&vm->exit_reason, &expected, (int)reason) &&
	    write(vm->exit_evt, &one, sizeof(one)) < 0)
		pr_err("cannot wake the main loop: %s", strerror(errno));
}

static void ctx_request_exit(struct dev_ctx *c, enum vm_exit why)
{
	vm_request_exit(c->machine, why);
}

static int ctx_ioeventfd(struct dev_ctx *c, uint64_t addr, unsigned int len, int fd, bool assign)
{
	struct vm *vm = c->machine;
	struct kvm_ioeventfd io = {
		.addr = addr, .len = len, .fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

/* Guest RAM takes slots 0 and 1 (base/memory.c); devices' memory the rest. */
#define VM_FIRST_DEVICE_SLOT 2

static int ctx_map_ram(struct dev_ctx *c, int *slot, uint64_t gpa, uint64_t size, void *host,
		       bool log_dirty)
{
	struct vm *vm = c->machine;
	struct kvm_userspace_memory_region r = { 0 };

	uint64_t bit;

	if (*slot < 0) {
		if (!host)
			return 0;
		if (vm->next_slot == 64)
			return -ENOSPC;
		*slot = VM_FIRST_DEVICE_SLOT + vm->next_slot++;
	}
	bit = 1ull << (*slot - VM_FIRST_DEVICE_SLOT);
	r.slot = (uint32_t)*slot;
	/* A slot moves by going away first (KVM checks overlaps on create);
	 * deleting one that is not there is an error to KVM. */
	if ((vm->slots_mapped & bit) && ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	vm->slots_mapped &= ~bit;
	if (!host)
		return 0;
	r.guest_phys_addr = gpa;
	r.memory_size = size;
	r.userspace_addr = (uintptr_t)host;
	r.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	vm->slots_mapped |= bit;
	return 0;
}

static int ctx_dirty_log(struct dev_ctx *c, int slot, uint64_t *bitmap)
{
	struct vm *vm = c->machine;
	struct kvm_dirty_log log = { .slot = (uint32_t)slot, .dirty_bitmap = bitmap };

	return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

int vm_save_devices(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	return dev_registry_save(&vm->devs, w, err, errlen);
}

int vm_load_devices(struct vm *vm, const struct snap_reader *r, char *err, size_t errlen)
{
	return dev_registry_load(&vm->devs, r, err, errlen);
}

int vm_power_button(struct vm *vm)
{
	return dev_registry_event(&vm->devs, PLATFORM_POWER_BUTTON);
}

static int check_limits(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	int kvm_max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	unsigned int max = VM_MAX_VCPUS;
	struct sysinfo si;

	if (kvm_max <= 0)
		kvm_max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (kvm_max > 0 && (unsigned int)kvm_max < max)
		max = (unsigned int)kvm_max;
	if (cfg->boot_vcpus > max) {
		snprintf(err, errlen, "--cpus: boot=%u is more than this host allows (%u)",
			 cfg->boot_vcpus, max);
		return -EINVAL;
	}
	if (sysinfo(&si) == 0) {
		unsigned long long host = ((unsigned long long)si.totalram + si.totalswap) * si.mem_unit;

		if (cfg->memory_size > host) {
			snprintf(err, errlen, "--memory: size=%lluM is more than this host has "
				 "(%lluM of RAM and swap)",
				 (unsigned long long)(cfg->memory_size >> 20), host >> 20);
			return -ENOMEM;
		}
	}
	return 0;
}

static int kvm_open(struct vm *vm, char *err, size_t errlen)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int ret = -errno;

		snprintf(err, errlen, "cannot open /dev/kvm: %s%s", strerror(errno),
			 errno == EACCES ? " (is this user in the kvm group?)" : "");
		return ret;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm speaks an unexpected KVM API version");
		return -ENOTSUP;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
		return -ENOTSUP;
	}
	return 0;
}

static int kvm_create_machine(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = KVM_IDENTITY_MAP_ADDR;
	const char *step;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		step = "KVM_CREATE_VM";
		goto fail;
	}
	step = "KVM_SET_IDENTITY_MAP_ADDR";
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
		goto fail;
	step = "KVM_SET_TSS_ADDR";
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		goto fail;
	step = "KVM_CREATE_IRQCHIP";
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		goto fail;
	step = "KVM_CREATE_PIT2";
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		goto fail;
	irq_routing_init(&vm->irq, vm->vm_fd);
	return 0;
fail:
	snprintf(err, errlen, "%s failed: %s", step, strerror(errno));
	return -errno;
}

static int setup_pci(struct vm *vm, char *err, size_t errlen)
{
	uint64_t ram_top = MEM_4G + vm->mem.high_size;
	struct pci_window win = {
		.ecam_base = PCI_ECAM_BASE,
		.mmio32_base = PCI_MMIO32_BASE,
		.mmio32_size = PCI_MMIO32_END - PCI_MMIO32_BASE,
		.mmio64_base = (ram_top + (1ull << 30) - 1) & ~((1ull << 30) - 1),
		.mmio64_size = PCI_MMIO64_SIZE,
	};
	int ret = pci_root_init(&vm->pci, &vm->pio, &vm->mmio, &win);

	if (ret < 0) {
		snprintf(err, errlen, "setting up PCI failed: %s", strerror(-ret));
		return ret;
	}
	vm->pci_ready = true;
	return 0;
}

static void write_dsdt_devices(struct aml_buf *b, void *opaque)
{
	dev_registry_write_dsdt(opaque, b);
}

static int build_acpi(struct vm *vm, char *err, size_t errlen)
{
	struct acpi_layout l = {
		.ncpus = vm->nr_vcpus,
		.ioapic_addr = IOAPIC_ADDR,
		.ioapic_id = 0,
		.lapic_addr = LAPIC_ADDR,
		.sleep_ctl_port = ACPI_SLEEP_CTL_PORT,
		.sleep_sts_port = ACPI_SLEEP_STS_PORT,
		.reset_port = ACPI_RESET_PORT,
		.reset_value = ACPI_RESET_VALUE,
		.pci_ecam_base = PCI_ECAM_BASE,
		.pci_bus_start = 0,
		.pci_bus_end = 0,
		.write_devices = write_dsdt_devices,
		.opaque = &vm->devs,
	};
	void *buf = guest_mem_ptr(&vm->mem, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE);
	ssize_t n = acpi_build_tables(buf, ACPI_TABLES_ADDR, ACPI_TABLES_SIZE, &l);

	if (n < 0) {
		snprintf(err, errlen, "building the ACPI tables failed: %s", strerror((int)-n));
		return (int)n;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct dev_host *host,
	      enum vm_create_mode mode, char *errout, size_t errout_len)
{
	struct boot_request req = {
		.kernel = cfg->kernel, .initramfs = cfg->initramfs, .cmdline = cfg->cmdline,
		.rsdp_addr = ACPI_TABLES_ADDR,
	};
	struct boot_entry entry;
	char err[512] = "";
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->host = host;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->mem.fd = -1;
	vm->nr_vcpus = cfg->boot_vcpus;
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->exit_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_evt < 0) {
		ret = -errno;
		goto fail;
	}

	ret = kvm_open(vm, err, sizeof(err));
	if (ret < 0)
		goto fail;
	ret = check_limits(vm, err, sizeof(err));
	if (ret < 0)
		goto fail;
	ret = kvm_create_machine(vm, err, sizeof(err));
	if (ret < 0)
		goto fail;
	ret = guest_mem_init_opts(&vm->mem, cfg->memory_size, cfg->memory_shared);
	if (ret == 0)
		ret = guest_mem_register(&vm->mem, vm->vm_fd);
	if (ret < 0) {
		snprintf(err, sizeof(err), "--memory: cannot set up %lluM of guest RAM: %s",
			 (unsigned long long)(cfg->memory_size >> 20), strerror(-ret));
		goto fail;
	}
	vm->cpuid = cpuid_get_supported(vm->kvm_fd, &ret);
	if (!vm->cpuid) {
		snprintf(err, sizeof(err), "KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-ret));
		goto fail;
	}

	ret = setup_pci(vm, err, sizeof(err));
	if (ret < 0)
		goto fail;
	vm->ctx = (struct dev_ctx){
		.mem = &vm->mem, .pio = &vm->pio, .mmio = &vm->mmio, .pci = &vm->pci,
		.irq = &vm->irq.chip, .host = host, .ioeventfd = ctx_ioeventfd,
		.request_exit = ctx_request_exit, .map_ram = ctx_map_ram, .dirty_log = ctx_dirty_log,
		.machine = vm,
	};
	ret = dev_registry_realize(&vm->devs, &vm->ctx, cfg, board, ARRAY_SIZE(board), err,
				   sizeof(err));
	if (ret < 0)
		goto fail;
	ret = build_acpi(vm, err, sizeof(err));
	if (ret < 0)
		goto fail;
	if (mode == VM_CREATE_BOOT) {
		x86_write_reset_vector(&vm->mem);
		ret = x86_load_kernel(&vm->mem, &req, &entry, err, sizeof(err));
		if (ret < 0)
			goto fail;
	}

	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i);
		if (ret < 0) {
			snprintf(err, sizeof(err), "creating vCPU %u failed: %s", i, strerror(-ret));
			goto fail;
		}
	}
	ret = mode == VM_CREATE_BOOT ? x86_vcpu_init_boot(vm->vcpus[0].fd, &vm->mem, &entry) : 0;
	if (ret < 0) {
		snprintf(err, sizeof(err), "setting the boot vCPU's registers failed: %s",
			 strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	if (!err[0])
		snprintf(err, sizeof(err), "%s", strerror(-ret));
	if (errout)
		snprintf(errout, errout_len, "%s", err);
	else
		pr_err("%s", err);
	vm_destroy(vm);
	return ret;
}

int vm_start_paused(struct vm *vm)
{
	/* Each thread's first KVM_RUN returns EINTR at once and it parks. */
	vm->pause_requested = true;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].run->immediate_exit = 1;
	vm->paused = true;
	return vm_start(vm);
}

int vm_start(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		int ret = vcpu_start(&vm->vcpus[i]);

		if (ret < 0) {
			pr_err("cannot start the thread of vCPU %u: %s", i, strerror(-ret));
			vm_request_exit(vm, VM_EXIT_ERROR);
			return ret;
		}
	}
	return 0;
}

void vm_stop(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	/* Parked vCPUs wake up, see exit_reason and end. */
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick_and_join(&vm->vcpus[i]);
}

void vm_destroy(struct vm *vm)
{
	vm_stop(vm);
	if (vm->vcpus) {
		for (unsigned int i = 0; i < vm->nr_vcpus; i++)
			if (vm->vcpus[i].fd >= 0)
				vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	dev_registry_unrealize(&vm->devs);
	free(vm->cpuid);
	vm->cpuid = NULL;
	guest_mem_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->exit_evt >= 0)
		close(vm->exit_evt);
	vm->vm_fd = vm->kvm_fd = vm->exit_evt = -1;
	if (vm->pci_ready) {
		pci_root_free(&vm->pci);
		irq_routing_free(&vm->irq);
	}
	vm->pci_ready = false;
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
}
