/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVM interrupt routing: the GSI table that maps legacy pins to the
 * in-kernel PIC/IOAPIC and MSI messages to GSIs, and irqfds that let a
 * device thread inject an interrupt with one eventfd write.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep all of it: the
 * default pin routes KVM set up with the irqchip, plus one MSI route per
 * allocated vector (GSIs from 24 up).
 */
#ifndef PHYLLO_BASE_IRQ_H
#define PHYLLO_BASE_IRQ_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#define IRQ_NR_LEGACY_GSI 24
#define IRQ_MAX_ROUTES 1024

struct irq_routing {
	int vm_fd;
	pthread_mutex_t lock;
	uint32_t next_gsi;
	unsigned int nr;
	struct kvm_irq_routing_entry entries[IRQ_MAX_ROUTES];
};

int irq_routing_init(struct irq_routing *r, int vm_fd);
void irq_routing_free(struct irq_routing *r);
/* A new GSI for MSI use (routed nowhere until irq_set_msi). -ENOSPC when full. */
int irq_alloc_msi_gsi(struct irq_routing *r);
/* Point gsi at an MSI message and commit the table. */
int irq_set_msi(struct irq_routing *r, uint32_t gsi, uint64_t addr, uint32_t data);
/* An eventfd that raises gsi when written; -errno on failure. */
int irq_irqfd_create(struct irq_routing *r, uint32_t gsi);
void irq_irqfd_destroy(struct irq_routing *r, int fd, uint32_t gsi);

#endif
