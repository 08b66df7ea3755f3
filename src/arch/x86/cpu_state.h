/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A vCPU's complete KVM state, for snapshot and restore: general and
 * segment registers, FPU/SSE/AVX (XSAVE), XCR0, debug registers, the MSRs
 * that matter, the local APIC, pending events, the MP state, the TSC
 * frequency and the CPUID the guest saw.
 *
 * Saved as one versioned blob per vCPU (section "vcpu.N", cpu_state_blob.c):
 * a fixed part of KVM's own structures (their layout is kernel ABI, checked
 * at build time), then the MSR entries, CPUID entries and the XSAVE area,
 * whose counts and sizes are in the fixed part and checked against the
 * blob's length. The ioctls and their order are in cpu_state.c.
 *
 * The vCPU must not run while its state is read or written, nor may any
 * other vCPU of the VM (KVM_GET/SET_VCPU_EVENTS are not safe otherwise),
 * and a vCPU stopped right after an I/O or MMIO exit must first complete
 * it: x86_vcpu_complete_pending_exit().
 */
#ifndef PHYLLO_X86_CPU_STATE_H
#define PHYLLO_X86_CPU_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapfile.h"

#define X86_CPU_STATE_MAX_MSRS 512
#define X86_CPU_STATE_MAX_CPUID 256   /* KVM's own limit */
#define X86_CPU_STATE_MAX_XSAVE (1u << 20)

/* What this host's KVM offers, and which MSRs to carry. Probe once per VM. */
struct x86_cpu_caps {
	bool sregs2;        /* KVM_GET/SET_SREGS2: PAE PDPTRs round-trip too */
	bool xsave;         /* KVM_GET/SET_XSAVE; else only KVM_GET/SET_FPU */
	bool xcrs;
	bool tsc_control;   /* KVM_SET_TSC_KHZ works */
	uint32_t xsave_size; /* KVM_GET_XSAVE2 buffer size (4096 without XSAVE2) */
	uint32_t nmsrs;
	uint32_t *msrs;      /* MSR indices to save, in the order they are restored */
};

#define X86_CPU_STATE_XSAVE 1u /* xsave/xsave_size hold the FPU state; else fpu does */
#define X86_CPU_STATE_XCRS 2u  /* xcrs is valid */

struct x86_cpu_state {
	uint32_t flags;          /* X86_CPU_STATE_* */
	uint32_t tsc_khz;        /* 0: unknown */
	struct kvm_regs regs;
	struct kvm_sregs2 sregs; /* flags say whether pdptrs[] are valid */
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	uint32_t nmsrs;
	struct kvm_msr_entry *msrs;
	uint32_t ncpuid;
	struct kvm_cpuid_entry2 *cpuid;
	uint32_t xsave_size;
	void *xsave;
};

int x86_cpu_caps_probe(int kvm_fd, int vm_fd, struct x86_cpu_caps *caps,
		       char *err, size_t errlen);
void x86_cpu_caps_free(struct x86_cpu_caps *caps);

/*
 * After a KVM_RUN that ended in an I/O or MMIO exit (already handled), enter
 * KVM_RUN once more with immediate_exit set: KVM finishes the instruction
 * (advances RIP, stores MMIO read data) and returns at once without running
 * guest code. Without this a restored guest would repeat the OUT, or lose
 * the value of its MMIO read. Harmless after any other exit.
 */
int x86_vcpu_complete_pending_exit(int vcpu_fd, struct kvm_run *run);

int x86_cpu_state_save(const struct x86_cpu_caps *caps, int vcpu_fd, struct x86_cpu_state *st,
		       char *err, size_t errlen);
/* Into a freshly created vCPU that has not run yet. */
int x86_cpu_state_restore(const struct x86_cpu_caps *caps, int vcpu_fd,
			  const struct x86_cpu_state *st, char *err, size_t errlen);
void x86_cpu_state_free(struct x86_cpu_state *st);

/* The blob: *blob is malloc'ed. */
int x86_cpu_state_encode(const struct x86_cpu_state *st, void **blob, size_t *len);
/* what names the blob in messages; st is freed on failure. */
int x86_cpu_state_decode(const void *blob, size_t len, const char *what,
			 struct x86_cpu_state *st, char *err, size_t errlen);

/* Section "vcpu.INDEX" of a state file. */
int x86_cpu_state_write(const struct x86_cpu_state *st, unsigned int index,
			struct snap_writer *w, char *err, size_t errlen);
int x86_cpu_state_read(const struct snap_reader *r, unsigned int index,
		       struct x86_cpu_state *st, char *err, size_t errlen);

/* The value of MSR index in st, or false if st has none. */
bool x86_cpu_state_msr(const struct x86_cpu_state *st, uint32_t index, uint64_t *value);

#endif
