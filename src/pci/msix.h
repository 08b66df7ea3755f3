/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MSI-X for our PCI devices: the capability, the vector table and pending
 * bit array (both inside one of the device's BARs), and delivery through
 * KVM: each vector owns a GSI routed to its MSI message and an irqfd, so a
 * device thread raises an interrupt with one eventfd write, no exit.
 */
#ifndef PHYLLO_PCI_MSIX_H
#define PHYLLO_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci/pci.h"
#include "base/irq.h"

#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE 16
#define MSIX_NO_VECTOR 0xffff /* virtio's VIRTIO_MSI_NO_VECTOR */

struct msix_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;
	int gsi;
	int irqfd;
};

struct msix {
	struct pci_device *dev;
	struct irq_chip *irq;
	pthread_mutex_t lock;
	uint16_t nr;
	int cap; /* config space offset of the capability */
	bool enabled, func_masked;
	struct msix_vector vec[MSIX_MAX_VECTORS];
	uint64_t pba;
};

/*
 * Snapshot state: the table, the pending bits and the capability's enable
 * and function-mask bits, in fixed-size fields (host order: snapshot files
 * are little-endian x86-64 only).
 */
struct msix_state {
	uint16_t nr;
	uint8_t enabled, func_masked;
	uint32_t pad;
	uint64_t pba;
	struct msix_vector_state {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} vec[MSIX_MAX_VECTORS];
};
_Static_assert(sizeof(struct msix_state) == 16 + 16 * MSIX_MAX_VECTORS, "msix_state layout");

/* Add the capability; the table and PBA live in bar at table_off/pba_off. */
int msix_init(struct msix *m, struct pci_device *dev, struct irq_chip *irq, uint16_t nr,
	      int bar, uint32_t table_off, uint32_t pba_off);
void msix_free(struct msix *m);
/* BAR accesses within the table (off relative to the table) and the PBA. */
void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int size);
void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int size);
void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int size);
/* The device's config_written hook must pass writes through here. */
void msix_config_written(struct msix *m, uint32_t offset, unsigned int size);
/* Raise vector (any thread). Returns false if MSI-X is off or vector invalid. */
bool msix_notify(struct msix *m, uint16_t vector);
/*
 * The irqfd behind vector, for a kernel back end (vhost) that raises it
 * itself; -1 for an invalid vector. Writes to it bypass masking: they use
 * the vector's last route (updated at unmask), so a vector masked for a
 * moment (Linux does so while moving it) still delivers, to the old CPU.
 */
int msix_vector_irqfd(struct msix *m, uint16_t vector);
/* Snapshot: the guest's programming into st. */
void msix_save(struct msix *m, struct msix_state *st);
/*
 * Restore st (same vector count, else -EINVAL). Sets the table, pending
 * bits, enable and function mask, and routes every unmasked vector in KVM
 * (its irqfd exists since msix_init). Pending bits of masked vectors stay
 * pending; nothing is delivered. The capability's control word in config
 * space is the caller's (it restores config space).
 */
int msix_load(struct msix *m, const struct msix_state *st);
/* Forget the guest's programming (device reset keeps the capability). */
void msix_reset(struct msix *m);

#endif
