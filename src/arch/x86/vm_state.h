/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM-wide state KVM keeps for us: the in-kernel interrupt controllers
 * (both 8259 PICs and the IOAPIC), the 8254 PIT, and kvmclock, the guest's
 * clock. Three blobs, each with a kind, version and size, written as the
 * sections "irqchip", "pit" and "clock".
 *
 * What KVM does not keep is the VMM's: the GSI routing table (MSI routes,
 * irqfds) is rebuilt by the devices on restore.
 */
#ifndef PHYLLO_X86_VM_STATE_H
#define PHYLLO_X86_VM_STATE_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapfile.h"

struct x86_vm_state {
	struct kvm_irqchip pic_master;
	struct kvm_irqchip pic_slave;
	struct kvm_irqchip ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/*
 * Restore flags. Without X86_VM_CLOCK_ADD_DOWNTIME the guest's clock goes
 * on from the value it had when saved: the guest does not notice it was
 * stopped (its wall clock lags until it syncs, e.g. NTP). With it, and when
 * the host reported its real time at save, KVM adds the real time that
 * passed since then, so the guest's clock has moved on by the downtime.
 */
#define X86_VM_CLOCK_ADD_DOWNTIME 1u

/* Read it all. The vCPUs must be stopped, so the clock is the pause time. */
int x86_vm_state_save(int vm_fd, struct x86_vm_state *st, char *err, size_t errlen);
/*
 * Into a VM made with KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2, after its
 * vCPUs' state is restored and just before they run: the clock is set
 * last, so the time spent restoring does not show in the guest.
 */
int x86_vm_state_restore(int vm_fd, const struct x86_vm_state *st, unsigned int flags,
			 char *err, size_t errlen);

/* The sections "irqchip", "pit" and "clock". */
int x86_vm_state_write(const struct x86_vm_state *st, struct snap_writer *w,
		       char *err, size_t errlen);
int x86_vm_state_read(const struct snap_reader *r, struct x86_vm_state *st,
		      char *err, size_t errlen);

/* One blob each; what names it in messages. buf must hold the *_BLOB_SIZE. */
#define X86_IRQCHIP_BLOB_SIZE (16 + 3 * sizeof(struct kvm_irqchip))
#define X86_PIT_BLOB_SIZE (16 + sizeof(struct kvm_pit_state2))
#define X86_CLOCK_BLOB_SIZE (16 + sizeof(struct kvm_clock_data))
size_t x86_irqchip_encode(const struct x86_vm_state *st, void *buf);
size_t x86_pit_encode(const struct x86_vm_state *st, void *buf);
size_t x86_clock_encode(const struct x86_vm_state *st, void *buf);
int x86_irqchip_decode(const void *buf, size_t len, const char *what, struct x86_vm_state *st,
		       char *err, size_t errlen);
int x86_pit_decode(const void *buf, size_t len, const char *what, struct x86_vm_state *st,
		   char *err, size_t errlen);
int x86_clock_decode(const void *buf, size_t len, const char *what, struct x86_vm_state *st,
		     char *err, size_t errlen);

#endif
