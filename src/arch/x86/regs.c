// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vCPU start state.
 *
 * Only the boot vCPU gets entry registers; the others stay in KVM's
 * wait-for-SIPI state and are started by the guest through the in-kernel
 * local APIC, as on real hardware. All of them get the MSRs, FPU control
 * words and LAPIC LINT wiring that firmware would have left behind, because
 * no firmware runs before a direct kernel boot.
 */
#include "arch/x86/regs.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/layout.h"
#include "base/log.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MISC_ENABLE_FAST_STRING 1ull
#define MTRR_ENABLE (1ull << 11)
#define MTRR_TYPE_WB 6ull

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

int x86_vcpu_init_common(int vcpu_fd)
{
	static const struct { uint32_t index; uint64_t data; } msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WB },
	};
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_lapic_state lapic;
	struct kvm_msrs *m;
	uint32_t *lvt;
	int n;

	m = calloc(1, sizeof(*m) + ARRAY_SIZE(msrs) * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		m->entries[i].index = msrs[i].index;
		m->entries[i].data = msrs[i].data;
	}
	m->nmsrs = ARRAY_SIZE(msrs);
	n = ioctl(vcpu_fd, KVM_SET_MSRS, m);
	free(m);
	if (n < 0)
		return -errno;
	if (n != (int)ARRAY_SIZE(msrs))
		return -EINVAL; /* KVM refused MSR number n */
	if (ioctl(vcpu_fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;

	/* LINT0 delivers the 8259's ExtINT, LINT1 the NMI, as the MP spec wires them. */
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	lvt = (uint32_t *)(lapic.regs + APIC_LVT0);
	*lvt = (*lvt & ~0x700u & ~0x10000u) | (APIC_MODE_EXTINT << 8);
	lvt = (uint32_t *)(lapic.regs + APIC_LVT1);
	*lvt = (*lvt & ~0x700u & ~0x10000u) | (APIC_MODE_NMI << 8);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static struct kvm_segment segment(uint16_t sel, uint8_t type, bool code64, bool db)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1,
		.l = code64, .g = 1,
	};
}

int x86_vcpu_init_boot(int vcpu_fd, struct guest_mem *mem, const struct boot_entry *entry)
{
	/* null, code (64- or 32-bit), data, TSS; flat 4 GiB. */
	uint64_t gdt[4] = {
		0,
		entry->kind == BOOT_LINUX64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull,
		0x00cf93000000ffffull,
		0x008f8b000000ffffull,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool lm = entry->kind == BOOT_LINUX64;

	memcpy(guest_mem_ptr(mem, BOOT_GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));
	memset(guest_mem_ptr(mem, BOOT_IDT_ADDR, 8), 0, 8);

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = sizeof(gdt) - 1;
	sregs.idt.base = BOOT_IDT_ADDR;
	sregs.idt.limit = 7;
	sregs.cs = segment(0x08, 0xb, lm, !lm);
	sregs.ds = segment(0x10, 0x3, false, true);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = segment(0x18, 0xb, false, false);
	sregs.tr.s = 0;
	sregs.tr.g = 0;
	sregs.tr.limit = 0xfffff;
	sregs.cr0 = CR0_PE | CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (lm) {
		sregs.cr3 = PML4_ADDR;
		sregs.cr4 |= CR4_PAE;
		sregs.cr0 |= CR0_PG;
		sregs.efer |= EFER_LME | EFER_LMA;
	}
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = entry->entry;
	if (lm) {
		regs.rsi = entry->info_addr;
		regs.rsp = regs.rbp = BOOT_STACK_ADDR;
	} else {
		regs.rbx = entry->info_addr;
	}
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
