// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A vCPU's state as a blob (section "vcpu.N"), and back (see cpu_state.h).
 *
 * Version 1 is struct cpu_blob (KVM's own structures, whose sizes are
 * kernel ABI and checked below) followed by the MSR entries, the CPUID
 * entries and the XSAVE area. Decoding trusts nothing: the counts must be
 * within bounds and add up to the blob's length exactly, unknown flags and
 * non-zero reserved fields are refused, and every part is copied out, so a
 * decoded state re-encodes to the same bytes.
 */
#include "arch/x86/cpu_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define CPU_KIND "VCPU"
#define CPU_VERSION 1

/* Blob version 1: this, then nmsrs kvm_msr_entry, ncpuid kvm_cpuid_entry2, xsave bytes. */
struct cpu_blob {
	struct snap_blob_header hdr; /* flags: X86_CPU_STATE_* */
	uint32_t tsc_khz;
	uint32_t nmsrs;
	uint32_t ncpuid;
	uint32_t xsave_size;
	struct kvm_regs regs;
	struct kvm_sregs2 sregs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	uint32_t reserved;
};
/* Kernel ABI structures: their sizes never change; a failure here means a
 * broken header, and the blob layout would silently change with it. */
_Static_assert(sizeof(struct kvm_regs) == 144 && sizeof(struct kvm_sregs2) == 320 &&
	       sizeof(struct kvm_fpu) == 416 && sizeof(struct kvm_xcrs) == 392 &&
	       sizeof(struct kvm_debugregs) == 128 && sizeof(struct kvm_lapic_state) == 1024 &&
	       sizeof(struct kvm_vcpu_events) == 64 && sizeof(struct kvm_mp_state) == 4 &&
	       sizeof(struct kvm_msr_entry) == 16 && sizeof(struct kvm_cpuid_entry2) == 40,
	       "KVM ABI structure sizes");
_Static_assert(sizeof(struct cpu_blob) == 2528, "vCPU blob v1 layout");

int x86_cpu_state_encode(const struct x86_cpu_state *st, void **blob, size_t *len)
{
	size_t msrs = st->nmsrs * sizeof(struct kvm_msr_entry);
	size_t cpuid = st->ncpuid * sizeof(struct kvm_cpuid_entry2);
	size_t size = sizeof(struct cpu_blob) + msrs + cpuid + st->xsave_size;
	struct cpu_blob b;
	uint8_t *p;

	if (st->nmsrs > X86_CPU_STATE_MAX_MSRS || st->ncpuid > X86_CPU_STATE_MAX_CPUID ||
	    st->xsave_size > X86_CPU_STATE_MAX_XSAVE)
		return -E2BIG;
	p = malloc(size);
	if (!p)
		return -ENOMEM;
	memset(&b, 0, sizeof(b));
	snap_blob_header_init(&b.hdr, CPU_KIND, CPU_VERSION, size, st->flags);
	b.tsc_khz = st->tsc_khz;
	b.nmsrs = st->nmsrs;
	b.ncpuid = st->ncpuid;
	b.xsave_size = st->xsave_size;
	b.regs = st->regs;
	b.sregs = st->sregs;
	b.fpu = st->fpu;
	b.xcrs = st->xcrs;
	b.debugregs = st->debugregs;
	b.lapic = st->lapic;
	b.events = st->events;
	b.mp_state = st->mp_state;
	memcpy(p, &b, sizeof(b));
	if (msrs)
		memcpy(p + sizeof(b), st->msrs, msrs);
	if (cpuid)
		memcpy(p + sizeof(b) + msrs, st->cpuid, cpuid);
	if (st->xsave_size)
		memcpy(p + sizeof(b) + msrs + cpuid, st->xsave, st->xsave_size);
	*blob = p;
	*len = size;
	return 0;
}

static void *dup_part(const uint8_t *src, size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, src, len);
	return p;
}

int x86_cpu_state_decode(const void *blob, size_t len, const char *what,
			 struct x86_cpu_state *st, char *err, size_t errlen)
{
	const uint8_t *p = blob;
	struct snap_blob_header h;
	struct cpu_blob b;
	size_t msrs, cpuid;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = snap_blob_check(blob, len, CPU_KIND, CPU_VERSION, sizeof(b), what, &h, err, errlen);
	if (ret < 0)
		return ret;
	memcpy(&b, blob, sizeof(b));
	if (h.flags & ~(X86_CPU_STATE_XSAVE | X86_CPU_STATE_XCRS) || b.reserved ||
	    b.nmsrs > X86_CPU_STATE_MAX_MSRS || b.ncpuid > X86_CPU_STATE_MAX_CPUID ||
	    b.xsave_size > X86_CPU_STATE_MAX_XSAVE ||
	    !(h.flags & X86_CPU_STATE_XSAVE) != !b.xsave_size ||
	    (b.xsave_size && (b.xsave_size < sizeof(struct kvm_xsave) || b.xsave_size % 4)) ||
	    (h.flags & X86_CPU_STATE_XCRS && b.xcrs.nr_xcrs > KVM_MAX_XCRS)) {
		errbuf_set(err, errlen, "%s: vCPU state damaged (flags 0x%x, %u MSRs, %u CPUID "
			   "entries, %u XSAVE bytes)", what, h.flags, b.nmsrs, b.ncpuid, b.xsave_size);
		return -EBADMSG;
	}
	msrs = b.nmsrs * sizeof(struct kvm_msr_entry);
	cpuid = b.ncpuid * sizeof(struct kvm_cpuid_entry2);
	if (len != sizeof(b) + msrs + cpuid + b.xsave_size) {
		errbuf_set(err, errlen, "%s: vCPU state is %zu bytes, its counts add up to %zu",
			   what, len, sizeof(b) + msrs + cpuid + b.xsave_size);
		return -EBADMSG;
	}
	st->flags = h.flags;
	st->tsc_khz = b.tsc_khz;
	st->regs = b.regs;
	st->sregs = b.sregs;
	st->fpu = b.fpu;
	st->xcrs = b.xcrs;
	st->debugregs = b.debugregs;
	st->lapic = b.lapic;
	st->events = b.events;
	st->mp_state = b.mp_state;
	st->nmsrs = b.nmsrs;
	st->ncpuid = b.ncpuid;
	st->xsave_size = b.xsave_size;
	st->msrs = dup_part(p + sizeof(b), msrs);
	st->cpuid = dup_part(p + sizeof(b) + msrs, cpuid);
	st->xsave = b.xsave_size ? dup_part(p + sizeof(b) + msrs + cpuid, b.xsave_size) : NULL;
	if (!st->msrs || !st->cpuid || (b.xsave_size && !st->xsave)) {
		x86_cpu_state_free(st);
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int x86_cpu_state_write(const struct x86_cpu_state *st, unsigned int index,
			struct snap_writer *w, char *err, size_t errlen)
{
	char name[SNAP_NAME_MAX + 1];
	size_t len;
	void *blob;
	int ret = x86_cpu_state_encode(st, &blob, &len);

	if (ret < 0) {
		errbuf_set(err, errlen, "vCPU %u: cannot encode its state: %s", index, strerror(-ret));
		return ret;
	}
	snprintf(name, sizeof(name), "vcpu.%u", index);
	ret = snap_writer_add(w, name, blob, len, err, errlen);
	free(blob);
	return ret;
}

int x86_cpu_state_read(const struct snap_reader *r, unsigned int index,
		       struct x86_cpu_state *st, char *err, size_t errlen)
{
	char name[SNAP_NAME_MAX + 1], what[256];
	const struct snap_section *s;
	int ret;

	memset(st, 0, sizeof(*st));
	snprintf(name, sizeof(name), "vcpu.%u", index);
	ret = snap_reader_need(r, name, &s, err, errlen);
	if (ret < 0)
		return ret;
	snprintf(what, sizeof(what), "%s: section '%s'", r->path, name);
	return x86_cpu_state_decode(s->data, s->len, what, st, err, errlen);
}

bool x86_cpu_state_msr(const struct x86_cpu_state *st, uint32_t index, uint64_t *value)
{
	for (uint32_t i = 0; i < st->nmsrs; i++) {
		if (st->msrs[i].index == index) {
			*value = st->msrs[i].data;
			return true;
		}
	}
	return false;
}
