// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CPUID. KVM tells us which features it can virtualize; what it cannot know
 * is our topology. We present nr_vcpus cores in one socket, one thread per
 * core, with APIC ID == vCPU index, and make every leaf that describes the
 * topology agree (leaf 1, 4, 0xB, 0x1F on Intel; 0x80000008 and 0x8000001E
 * on AMD), because Linux cross-checks them when it brings up the APs.
 */
#include "arch/x86/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd, int *err)
{
	for (unsigned int nent = 128; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c) {
			*err = -ENOMEM;
			return NULL;
		}
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		*err = -errno;
		free(c);
		if (*err != -E2BIG)
			return NULL;
	}
	return NULL;
}

/* Bits needed to number n items: the APIC ID field width for n cores. */
static unsigned int id_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void patch_entry(struct kvm_cpuid_entry2 *e, unsigned int apic_id, unsigned int n)
{
	unsigned int core_bits = id_bits(n);

	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x0000ffffu) | (apic_id << 24) |
			 ((n > 255 ? 255 : n) << 16);
		e->ecx |= 1u << 31; /* running under a hypervisor */
		if (n > 1)
			e->edx |= 1u << 28; /* HTT: several logical CPUs per package */
		else
			e->edx &= ~(1u << 28);
		break;
	case 4: /* Intel deterministic cache: cores per package */
		if ((e->eax & 0x1f) == 0)
			break;
		e->eax &= 0x3fff;
		e->eax |= ((n - 1) & 0x3f) << 26;
		break;
	case 0xb:
	case 0x1f:
		/* Level 0: SMT, one thread per core; level 1: cores. */
		e->edx = apic_id;
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | 0;
		} else if (e->index == 1) {
			e->eax = core_bits;
			e->ebx = n;
			e->ecx = (2u << 8) | 1;
		} else {
			e->eax = 0;
			e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	case 0x80000001:
		if (n > 1)
			e->ecx |= 1u << 1; /* CmpLegacy */
		break;
	case 0x80000008: /* AMD: NC and ApicIdCoreIdSize */
		e->ecx = (e->ecx & ~0xf0ffu) | ((n - 1) & 0xff) | (core_bits << 12);
		break;
	case 0x8000001e: /* AMD: extended APIC ID, core and node IDs */
		e->eax = apic_id;
		e->ebx = apic_id & 0xff; /* core id; threads per core - 1 = 0 */
		e->ecx = 0;              /* node 0, one node per package */
		break;
	}
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned int apic_id,
				  unsigned int nr_vcpus)
{
	size_t size = sizeof(*base) + base->nent * sizeof(base->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);

	if (!c)
		return NULL;
	memcpy(c, base, size);
	for (unsigned int i = 0; i < c->nent; i++)
		patch_entry(&c->entries[i], apic_id, nr_vcpus);
	return c;
}
