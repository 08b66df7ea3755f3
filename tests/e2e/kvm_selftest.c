// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kvm-selftest: proves that /dev/kvm can run a guest, end to end.
 *
 * It creates a VM with one page of RAM and one vCPU, runs a 6-byte
 * real-mode program that writes 0x42 to I/O port 0x10 and halts, and checks
 * that KVM reports exactly that: an I/O exit with the byte, then a HLT exit.
 * tools/kvmbox runs it to decide whether the host's KVM is usable, and the
 * end-to-end suite runs it as its first test inside the box.
 *
 * It also asks KVM_GET_SUPPORTED_CPUID for the x86-64 baseline (long mode,
 * SSE2, SSE3). Some nested KVMs run this toy guest yet hide baseline
 * features and then hang real kernels; such a KVM is not "usable" and
 * kvmbox falls back to its own box.
 *
 * Exit status: 0 when the guest behaved, 1 otherwise (with a message naming
 * the step that failed).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_PORT 0x10
#define GUEST_BYTE 0x42

static int check_cpuid_baseline(int kvm)
{
	enum { NENT = 256 };
	/* The entries follow the header in one allocation (a flexible array). */
	static union {
		struct kvm_cpuid2 head;
		uint8_t bytes[sizeof(struct kvm_cpuid2) + NENT * sizeof(struct kvm_cpuid_entry2)];
	} buf;
	struct kvm_cpuid2 *cpuid = &buf.head;
	int lm = 0, sse2 = 0, sse3 = 0;

	cpuid->nent = NENT;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		perror("kvm-selftest: KVM_GET_SUPPORTED_CPUID");
		return -1;
	}
	for (unsigned int i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1) {
			sse2 = !!(e->edx & (1u << 26));
			sse3 = !!(e->ecx & 1u);
		} else if (e->function == 0x80000001) {
			lm = !!(e->edx & (1u << 29));
		}
	}
	if (!lm || !sse2 || !sse3) {
		fprintf(stderr, "kvm-selftest: KVM hides x86-64 baseline CPU "
			"features (lm=%d sse2=%d sse3=%d): restricted nested KVM\n",
			lm, sse2, sse3);
		return -1;
	}
	return 0;
}

static int fail(const char *step)
{
	fprintf(stderr, "kvm-selftest: %s: %s\n", step, strerror(errno));
	return 1;
}

int main(void)
{
	/* mov al, 0x42; out 0x10, al; hlt */
	static const uint8_t code[] = { 0xb0, GUEST_BYTE, 0xe6, GUEST_PORT, 0xf4 };
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, run_size, saw_io = 0;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "kvm-selftest: unexpected KVM API version\n");
		return 1;
	}
	if (check_cpuid_baseline(kvm) < 0)
		return 1;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap guest memory");
	memcpy(mem, code, sizeof(code));
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0x1000, .memory_size = 0x1000,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run))
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return fail("KVM_SET_SREGS");
	regs = (struct kvm_regs){ .rip = 0x1000, .rflags = 0x2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_REGS");

	for (int i = 0; i < 16; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			return fail("KVM_RUN");
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t byte = *((uint8_t *)run + run->io.data_offset);

			if (run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.port != GUEST_PORT || run->io.size != 1 ||
			    byte != GUEST_BYTE) {
				fprintf(stderr, "kvm-selftest: unexpected I/O exit "
					"(port 0x%x, byte 0x%x)\n", run->io.port, byte);
				return 1;
			}
			saw_io = 1;
			break;
		}
		case KVM_EXIT_HLT:
			if (!saw_io) {
				fprintf(stderr, "kvm-selftest: halted before the I/O write\n");
				return 1;
			}
			printf("kvm-selftest: ok (port 0x%x got 0x%x, then hlt)\n",
			       GUEST_PORT, GUEST_BYTE);
			return 0;
		default:
			fprintf(stderr, "kvm-selftest: unexpected exit reason %u\n",
				run->exit_reason);
			return 1;
		}
	}
	fprintf(stderr, "kvm-selftest: guest did not halt\n");
	return 1;
}
