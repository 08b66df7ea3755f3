/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupts as devices see them (struct irq_chip: lines, MSI routes,
 * irqfds), and KVM's implementation: the GSI table that maps legacy pins
 * to the in-kernel PIC/IOAPIC and MSI messages to GSIs, and irqfds that
 * let a device thread inject an interrupt with one eventfd write.
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

/*
 * What a device may do with interrupts, whoever implements it: KVM's
 * in-kernel chips below (struct irq_routing), or a test's recorder that
 * shows what a device raised (tests/unit/dev). Every call may come from
 * any thread.
 */
struct irq_chip;
struct irq_chip_ops {
	/* Drive a legacy line (GSI 0-23) of the PIC/IOAPIC. */
	int (*set_level)(struct irq_chip *c, uint32_t gsi, int level);
	/* A new GSI for MSI use (routed nowhere until msi_route). -ENOSPC when full. */
	int (*msi_alloc)(struct irq_chip *c);
	/* Point gsi at an MSI message. */
	int (*msi_route)(struct irq_chip *c, uint32_t gsi, uint64_t addr, uint32_t data);
	/* An eventfd that raises gsi when written; -errno on failure. */
	int (*irqfd_create)(struct irq_chip *c, uint32_t gsi);
	void (*irqfd_destroy)(struct irq_chip *c, int fd, uint32_t gsi);
};
struct irq_chip {
	const struct irq_chip_ops *ops;
};

static inline int irq_set_level(struct irq_chip *c, uint32_t gsi, int level)
{
	return c->ops->set_level(c, gsi, level);
}

/* An edge on a line: up, then down. */
static inline int irq_pulse(struct irq_chip *c, uint32_t gsi)
{
	int ret = irq_set_level(c, gsi, 1);

	return ret ? ret : irq_set_level(c, gsi, 0);
}

static inline int irq_msi_alloc(struct irq_chip *c)
{
	return c->ops->msi_alloc(c);
}

static inline int irq_msi_route(struct irq_chip *c, uint32_t gsi, uint64_t addr, uint32_t data)
{
	return c->ops->msi_route(c, gsi, addr, data);
}

static inline int irq_irqfd_create(struct irq_chip *c, uint32_t gsi)
{
	return c->ops->irqfd_create(c, gsi);
}

static inline void irq_irqfd_destroy(struct irq_chip *c, int fd, uint32_t gsi)
{
	c->ops->irqfd_destroy(c, fd, gsi);
}

/* KVM's: the chip is &routing->chip. */
struct irq_routing {
	struct irq_chip chip;
	int vm_fd;
	pthread_mutex_t lock;
	uint32_t next_gsi;
	unsigned int nr;
	struct kvm_irq_routing_entry entries[IRQ_MAX_ROUTES];
};

int irq_routing_init(struct irq_routing *r, int vm_fd);
void irq_routing_free(struct irq_routing *r);

#endif
