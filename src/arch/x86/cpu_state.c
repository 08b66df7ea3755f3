// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Saving and restoring a vCPU's KVM state (see cpu_state.h).
 *
 * The order of the ioctls is most of the work here; KVM applies side
 * effects as each piece arrives. We follow what QEMU, Cloud Hypervisor and
 * Firecracker learned, and say why at each step in x86_cpu_state_save()
 * and x86_cpu_state_restore().
 *
 * MSRs: KVM_GET_MSR_INDEX_LIST names every MSR KVM can save, including
 * performance counters and Hyper-V MSRs nobody here uses. We keep a table
 * of the ones that hold guest state worth keeping, some always tried (the
 * architectural ones, e.g. MTRRs, which KVM emulates but does not list, and
 * all that regs.c sets at boot), the others only when KVM lists them. A
 * vCPU may still refuse to read one (CPUID hides the feature): it is then
 * left out of that vCPU's state. On restore every saved MSR must be taken.
 * EFER and APIC_BASE are not in the table: they travel in SREGS.
 */
#include "arch/x86/cpu_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/log.h"

#define TSC_KHZ_TOLERANCE_PPM 250 /* calibration noise between boots of one host */

/* MSRs to carry, in restore order. always: try even when KVM does not list it. */
static const struct msr_range {
	uint32_t first, count;
	bool always;
} msr_table[] = {
	/* The TSC first: TSC_DEADLINE (last) is a point on this clock. Written by
	 * the host, KVM sets the TSC offset so the guest reads this value, and
	 * keeps vCPUs written within a second of each other in sync. */
	{ 0x10, 1, true },         /* IA32_TSC */
	{ 0x3b, 1, false },        /* IA32_TSC_ADJUST */
	{ 0x174, 3, true },        /* SYSENTER_CS, _ESP, _EIP */
	{ 0xc0000081, 4, true },   /* STAR, LSTAR, CSTAR, SYSCALL_MASK */
	{ 0xc0000102, 1, true },   /* KERNEL_GS_BASE */
	{ 0xc0000103, 1, false },  /* TSC_AUX (RDTSCP, RDPID: the CPU number) */
	{ 0x277, 1, true },        /* PAT */
	{ 0x1a0, 1, true },        /* MISC_ENABLE */
	{ 0x200, 16, true },       /* MTRR_PHYSBASE0..7 / PHYSMASK0..7 */
	{ 0x250, 1, true },        /* MTRR_FIX64K_00000 */
	{ 0x258, 2, true },        /* MTRR_FIX16K_80000, _A0000 */
	{ 0x268, 8, true },        /* MTRR_FIX4K_C0000.. _F8000 */
	{ 0x2ff, 1, true },        /* MTRR_DEF_TYPE */
	{ 0x48, 1, false },        /* SPEC_CTRL */
	{ 0xc001011f, 1, false },  /* AMD VIRT_SPEC_CTRL */
	{ 0x3a, 1, false },        /* FEATURE_CONTROL */
	{ 0x140, 1, false },       /* MISC_FEATURES_ENABLES (CPUID faulting) */
	{ 0xd90, 1, false },       /* BNDCFGS */
	{ 0xda0, 1, false },       /* XSS */
	{ 0xe1, 1, false },        /* UMWAIT_CONTROL */
	{ 0x1c4, 2, false },       /* XFD, XFD_ERR */
	{ 0xc0010117, 1, false },  /* VM_HSAVE_PA (nested SVM) */
	/* kvmclock and the other paravirtual MSRs */
	{ 0x11, 2, false },        /* KVM_WALL_CLOCK, KVM_SYSTEM_TIME */
	{ 0x4b564d00, 2, false },  /* ..._NEW */
	{ 0x4b564d06, 1, false },  /* ASYNC_PF_INT: the vector, before ASYNC_PF_EN uses it */
	{ 0x4b564d02, 1, false },  /* ASYNC_PF_EN */
	{ 0x4b564d03, 1, false },  /* STEAL_TIME */
	{ 0x4b564d04, 1, false },  /* PV_EOI_EN */
	{ 0x4b564d05, 1, false },  /* POLL_CONTROL */
	/* Performance counters (guest NMI watchdog, perf): counters and event
	 * selectors first, the global enable after them. */
	{ 0xc1, 8, false },        /* PMC0..7 */
	{ 0x186, 8, false },       /* PERFEVTSEL0..7 */
	{ 0x309, 3, false },       /* FIXED_CTR0..2 */
	{ 0x38d, 1, false },       /* FIXED_CTR_CTRL */
	{ 0xc0010000, 8, false },  /* AMD K7 PERFCTL/PERFCTR */
	{ 0xc0010200, 12, false }, /* AMD F15H PERF_CTL/CTR */
	{ 0x38f, 1, false },       /* PERF_GLOBAL_CTRL */
	/* Last: arms the LAPIC timer, so the LAPIC (its LVT in TSC-deadline
	 * mode) and the TSC must already be restored. */
	{ 0x6e0, 1, false },       /* TSC_DEADLINE */
};

static int fail(char *err, size_t errlen, const char *what)
{
	int ret = -errno;

	errbuf_set(err, errlen, "%s failed: %s", what, strerror(errno));
	return ret;
}

static struct kvm_msr_list *msr_index_list(int kvm_fd)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;

	/* The first call fails with E2BIG and says how many there are. */
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	list = calloc(1, sizeof(*list) + (probe.nmsrs + 16) * sizeof(uint32_t));
	if (!list)
		return NULL;
	list->nmsrs = probe.nmsrs + 16;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return NULL;
	}
	return list;
}

static bool listed(const struct kvm_msr_list *list, uint32_t index)
{
	for (uint32_t i = 0; list && i < list->nmsrs; i++)
		if (list->indices[i] == index)
			return true;
	return false;
}

int x86_cpu_caps_probe(int kvm_fd, int vm_fd, struct x86_cpu_caps *caps,
		       char *err, size_t errlen)
{
	struct kvm_msr_list *list;
	uint32_t n = 0;
	int xsave2;

	memset(caps, 0, sizeof(*caps));
	caps->sregs2 = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SREGS2) > 0;
	caps->xsave = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	caps->xcrs = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	caps->tsc_control = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0;
	/* On the VM fd KVM_CAP_XSAVE2 answers the buffer size, which grows when
	 * the process was granted dynamic XSAVE features (AMX). */
	xsave2 = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	caps->xsave_size = xsave2 > (int)sizeof(struct kvm_xsave) ? (uint32_t)xsave2
								   : (uint32_t)sizeof(struct kvm_xsave);
	if (!caps->xsave)
		caps->xsave_size = 0;

	list = msr_index_list(kvm_fd);
	if (!list) {
		int ret = errno ? -errno : -ENOMEM;

		errbuf_set(err, errlen, "KVM_GET_MSR_INDEX_LIST failed: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++)
		n += msr_table[i].count;
	caps->msrs = calloc(n, sizeof(uint32_t));
	if (!caps->msrs) {
		free(list);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++) {
		for (uint32_t k = 0; k < msr_table[i].count; k++) {
			uint32_t index = msr_table[i].first + k;

			if (msr_table[i].always || listed(list, index))
				caps->msrs[caps->nmsrs++] = index;
		}
	}
	free(list);
	return 0;
}

void x86_cpu_caps_free(struct x86_cpu_caps *caps)
{
	free(caps->msrs);
	memset(caps, 0, sizeof(*caps));
}

int x86_vcpu_complete_pending_exit(int vcpu_fd, struct kvm_run *run)
{
	uint8_t old = run->immediate_exit;
	int ret;

	run->immediate_exit = 1;
	ret = ioctl(vcpu_fd, KVM_RUN, 0);
	if (ret < 0)
		ret = errno == EINTR ? 0 : -errno;
	else
		ret = 1; /* e.g. the next piece of a REP OUTS: handle it, call again */
	run->immediate_exit = old;
	return ret;
}

void x86_cpu_state_free(struct x86_cpu_state *st)
{
	free(st->msrs);
	free(st->cpuid);
	free(st->xsave);
	memset(st, 0, sizeof(*st));
}

/* Read caps->msrs; leave out the ones this vCPU refuses. */
static int save_msrs(const struct x86_cpu_caps *caps, int vcpu_fd, struct x86_cpu_state *st,
		     char *err, size_t errlen)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + caps->nmsrs * sizeof(m->entries[0]));
	uint32_t todo = caps->nmsrs, next = 0;

	st->msrs = calloc(caps->nmsrs ? caps->nmsrs : 1, sizeof(st->msrs[0]));
	if (!m || !st->msrs) {
		free(m);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* KVM_GET_MSRS stops at the first MSR it refuses and says how many it read. */
	while (next < todo) {
		int got;

		m->nmsrs = todo - next;
		for (uint32_t i = 0; i < m->nmsrs; i++)
			m->entries[i] = (struct kvm_msr_entry){ .index = caps->msrs[next + i] };
		got = ioctl(vcpu_fd, KVM_GET_MSRS, m);
		if (got < 0) {
			free(m);
			return fail(err, errlen, "KVM_GET_MSRS");
		}
		memcpy(&st->msrs[st->nmsrs], m->entries, (size_t)got * sizeof(m->entries[0]));
		st->nmsrs += (uint32_t)got;
		next += (uint32_t)got;
		if (next < todo) {
			pr_debug("MSR 0x%x cannot be read on this vCPU: not saved", caps->msrs[next]);
			next++;
		}
	}
	free(m);
	return 0;
}

static int save_cpuid(int vcpu_fd, struct x86_cpu_state *st, char *err, size_t errlen)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + X86_CPU_STATE_MAX_CPUID * sizeof(c->entries[0]));

	if (!c) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->nent = X86_CPU_STATE_MAX_CPUID;
	if (ioctl(vcpu_fd, KVM_GET_CPUID2, c) < 0) {
		int ret = fail(err, errlen, "KVM_GET_CPUID2");

		free(c);
		return ret;
	}
	st->ncpuid = c->nent;
	st->cpuid = malloc((c->nent ? c->nent : 1) * sizeof(c->entries[0]));
	if (!st->cpuid) {
		free(c);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(st->cpuid, c->entries, c->nent * sizeof(c->entries[0]));
	free(c);
	return 0;
}

static void sregs_to_sregs2(const struct kvm_sregs *s, struct kvm_sregs2 *s2)
{
	memset(s2, 0, sizeof(*s2));
	s2->cs = s->cs; s2->ds = s->ds; s2->es = s->es; s2->fs = s->fs;
	s2->gs = s->gs; s2->ss = s->ss; s2->tr = s->tr; s2->ldt = s->ldt;
	s2->gdt = s->gdt; s2->idt = s->idt;
	s2->cr0 = s->cr0; s2->cr2 = s->cr2; s2->cr3 = s->cr3; s2->cr4 = s->cr4;
	s2->cr8 = s->cr8; s2->efer = s->efer; s2->apic_base = s->apic_base;
}

/* The interrupt bitmap stays empty: VCPU_EVENTS carries a pending interrupt. */
static void sregs2_to_sregs(const struct kvm_sregs2 *s2, struct kvm_sregs *s)
{
	memset(s, 0, sizeof(*s));
	s->cs = s2->cs; s->ds = s2->ds; s->es = s2->es; s->fs = s2->fs;
	s->gs = s2->gs; s->ss = s2->ss; s->tr = s2->tr; s->ldt = s2->ldt;
	s->gdt = s2->gdt; s->idt = s2->idt;
	s->cr0 = s2->cr0; s->cr2 = s2->cr2; s->cr3 = s2->cr3; s->cr4 = s2->cr4;
	s->cr8 = s2->cr8; s->efer = s2->efer; s->apic_base = s2->apic_base;
}

int x86_cpu_state_save(const struct x86_cpu_caps *caps, int vcpu_fd, struct x86_cpu_state *st,
		       char *err, size_t errlen)
{
	int ret, khz;

	memset(st, 0, sizeof(*st));
	/*
	 * Events before MP state, and MP state before the registers: reading
	 * the MP state makes KVM accept a pending INIT or SIPI, which changes
	 * CS:RIP and the MP state itself; an event read after it could have
	 * been consumed by it.
	 */
	if (ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &st->events) < 0)
		return fail(err, errlen, "KVM_GET_VCPU_EVENTS");
	if (ioctl(vcpu_fd, KVM_GET_MP_STATE, &st->mp_state) < 0)
		return fail(err, errlen, "KVM_GET_MP_STATE");
	if (ioctl(vcpu_fd, KVM_GET_REGS, &st->regs) < 0)
		return fail(err, errlen, "KVM_GET_REGS");
	if (caps->sregs2) {
		if (ioctl(vcpu_fd, KVM_GET_SREGS2, &st->sregs) < 0)
			return fail(err, errlen, "KVM_GET_SREGS2");
	} else {
		struct kvm_sregs sregs;

		if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
			return fail(err, errlen, "KVM_GET_SREGS");
		sregs_to_sregs2(&sregs, &st->sregs);
	}
	if (caps->xsave) {
		st->xsave_size = caps->xsave_size;
		st->xsave = calloc(1, st->xsave_size);
		if (!st->xsave) {
			ret = -ENOMEM;
			errbuf_set(err, errlen, "out of memory");
			goto fail;
		}
		if (ioctl(vcpu_fd, caps->xsave_size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2
			  : KVM_GET_XSAVE, st->xsave) < 0) {
			ret = fail(err, errlen, "KVM_GET_XSAVE");
			goto fail;
		}
		st->flags |= X86_CPU_STATE_XSAVE;
	}
	/* The legacy FPU view too: tiny, and all a host without XSAVE can restore. */
	if (ioctl(vcpu_fd, KVM_GET_FPU, &st->fpu) < 0) {
		ret = fail(err, errlen, "KVM_GET_FPU");
		goto fail;
	}
	if (caps->xcrs) {
		if (ioctl(vcpu_fd, KVM_GET_XCRS, &st->xcrs) < 0) {
			ret = fail(err, errlen, "KVM_GET_XCRS");
			goto fail;
		}
		st->flags |= X86_CPU_STATE_XCRS;
	}
	if (ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &st->debugregs) < 0) {
		ret = fail(err, errlen, "KVM_GET_DEBUGREGS");
		goto fail;
	}
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &st->lapic) < 0) {
		ret = fail(err, errlen, "KVM_GET_LAPIC");
		goto fail;
	}
	ret = save_msrs(caps, vcpu_fd, st, err, errlen);
	if (ret == 0)
		ret = save_cpuid(vcpu_fd, st, err, errlen);
	if (ret < 0)
		goto fail;
	khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	st->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	return 0;
fail:
	x86_cpu_state_free(st);
	return ret;
}

/* Run the guest's TSC at the saved rate, if this host's differs. */
static int restore_tsc_khz(const struct x86_cpu_caps *caps, int vcpu_fd, uint32_t saved,
			   char *err, size_t errlen)
{
	int now = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	uint64_t diff;

	if (!saved || now <= 0)
		return 0;
	diff = (uint64_t)(now > (int)saved ? (uint32_t)now - saved : saved - (uint32_t)now);
	if (diff * 1000000 <= (uint64_t)saved * TSC_KHZ_TOLERANCE_PPM)
		return 0;
	if (!caps->tsc_control) {
		pr_warn("the guest's TSC ran at %u kHz, here it runs at %d kHz and KVM cannot "
			"scale it: guest time may drift", saved, now);
		return 0;
	}
	if (ioctl(vcpu_fd, KVM_SET_TSC_KHZ, (unsigned long)saved) < 0)
		return fail(err, errlen, "KVM_SET_TSC_KHZ");
	return 0;
}

static int restore_msrs(int vcpu_fd, const struct x86_cpu_state *st, char *err, size_t errlen)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + st->nmsrs * sizeof(m->entries[0]));
	int n;

	if (!m) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->nmsrs = st->nmsrs;
	memcpy(m->entries, st->msrs, st->nmsrs * sizeof(m->entries[0]));
	n = ioctl(vcpu_fd, KVM_SET_MSRS, m);
	free(m);
	if (n < 0)
		return fail(err, errlen, "KVM_SET_MSRS");
	if ((uint32_t)n < st->nmsrs) {
		errbuf_set(err, errlen, "KVM refused MSR 0x%x (value 0x%llx), entry %d of %u",
			   st->msrs[n].index, (unsigned long long)st->msrs[n].data, n + 1,
			   st->nmsrs);
		return -EINVAL;
	}
	return 0;
}

static int restore_xsave(const struct x86_cpu_caps *caps, int vcpu_fd,
			 const struct x86_cpu_state *st, char *err, size_t errlen)
{
	uint32_t size = caps->xsave_size > st->xsave_size ? caps->xsave_size : st->xsave_size;
	const uint8_t *saved = st->xsave;
	uint8_t *buf;
	int ret = 0;

	/* State beyond what this host's KVM reads would be lost silently. */
	for (uint32_t i = caps->xsave_size; i < st->xsave_size; i++) {
		if (saved[i]) {
			errbuf_set(err, errlen, "the saved XSAVE area uses %u bytes, this host's KVM "
				   "takes %u", st->xsave_size, caps->xsave_size);
			return -EOVERFLOW;
		}
	}
	buf = calloc(1, size);
	if (!buf) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(buf, saved, st->xsave_size);
	if (ioctl(vcpu_fd, KVM_SET_XSAVE, buf) < 0)
		ret = fail(err, errlen, "KVM_SET_XSAVE");
	free(buf);
	return ret;
}

int x86_cpu_state_restore(const struct x86_cpu_caps *caps, int vcpu_fd,
			  const struct x86_cpu_state *st, char *err, size_t errlen)
{
	struct kvm_cpuid2 *cpuid;
	int ret;

	/*
	 * 1. CPUID first: KVM derives from it which XCR0 bits, MSRs and CR4
	 *    bits the guest may have, and checks what follows against it. The
	 *    guest must see the CPU it saw before, not the one the VMM would
	 *    configure today. (None saved: keep what the VMM set.)
	 */
	if (st->ncpuid) {
		cpuid = calloc(1, sizeof(*cpuid) + st->ncpuid * sizeof(cpuid->entries[0]));
		if (!cpuid) {
			errbuf_set(err, errlen, "out of memory");
			return -ENOMEM;
		}
		cpuid->nent = st->ncpuid;
		memcpy(cpuid->entries, st->cpuid, st->ncpuid * sizeof(cpuid->entries[0]));
		ret = ioctl(vcpu_fd, KVM_SET_CPUID2, cpuid) < 0 ? fail(err, errlen, "KVM_SET_CPUID2")
								: 0;
		free(cpuid);
		if (ret < 0)
			return ret;
	}
	/* 2. REGS before VCPU_EVENTS: setting them drops a pending exception. */
	if (ioctl(vcpu_fd, KVM_SET_REGS, &st->regs) < 0)
		return fail(err, errlen, "KVM_SET_REGS");
	/* 3. SREGS: control registers and EFER (which MSRs and modes are
	 *    valid), and APIC_BASE, which the LAPIC state must follow. */
	if (caps->sregs2) {
		if (ioctl(vcpu_fd, KVM_SET_SREGS2, &st->sregs) < 0)
			return fail(err, errlen, "KVM_SET_SREGS2");
	} else {
		struct kvm_sregs sregs;

		/* Without PDPTRs KVM reloads them from guest RAM, as it always did. */
		sregs2_to_sregs(&st->sregs, &sregs);
		if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
			return fail(err, errlen, "KVM_SET_SREGS");
	}
	/* 4. FPU/SSE/AVX state, then XCR0 which enables its components. */
	if (st->flags & X86_CPU_STATE_XSAVE && caps->xsave) {
		ret = restore_xsave(caps, vcpu_fd, st, err, errlen);
		if (ret < 0)
			return ret;
	} else if (ioctl(vcpu_fd, KVM_SET_FPU, &st->fpu) < 0) {
		return fail(err, errlen, "KVM_SET_FPU");
	}
	if (st->flags & X86_CPU_STATE_XCRS && caps->xcrs &&
	    ioctl(vcpu_fd, KVM_SET_XCRS, &st->xcrs) < 0)
		return fail(err, errlen, "KVM_SET_XCRS");
	if (ioctl(vcpu_fd, KVM_SET_DEBUGREGS, &st->debugregs) < 0)
		return fail(err, errlen, "KVM_SET_DEBUGREGS");
	/* 5. LAPIC after SREGS (APIC base, x2APIC mode), before the MSRs: the
	 *    TSC deadline MSR only takes when the LVT timer is in that mode. */
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &st->lapic) < 0)
		return fail(err, errlen, "KVM_SET_LAPIC");
	/* 6. TSC rate before the TSC value, whose offset is computed with it. */
	ret = restore_tsc_khz(caps, vcpu_fd, st->tsc_khz, err, errlen);
	if (ret == 0)
		ret = restore_msrs(vcpu_fd, st, err, errlen);
	if (ret < 0)
		return ret;
	/* 7. Events after REGS and SREGS (whose interrupt bitmap would queue
	 *    an interrupt too): pending exception, injected interrupt, NMI,
	 *    interrupt shadow, SMM. */
	if (ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &st->events) < 0)
		return fail(err, errlen, "KVM_SET_VCPU_EVENTS");
	/* 8. MP state last: KVM checks it against the SMM and latched-INIT
	 *    state that the events just restored. */
	if (ioctl(vcpu_fd, KVM_SET_MP_STATE, &st->mp_state) < 0)
		return fail(err, errlen, "KVM_SET_MP_STATE");
	return 0;
}
