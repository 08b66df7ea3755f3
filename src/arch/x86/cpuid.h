/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPUID for each vCPU: what KVM supports, with the topology made true for
 * this VM (APIC IDs, core counts) and the hypervisor bit set.
 */
#ifndef PHYLLO_X86_CPUID_H
#define PHYLLO_X86_CPUID_H

#include <linux/kvm.h>

/* KVM_GET_SUPPORTED_CPUID, allocated; NULL with *err = -errno. */
struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd, int *err);
/* A copy of base patched for vCPU apic_id of nr_vcpus (one core each). */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned int apic_id,
				  unsigned int nr_vcpus);

#endif
