// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * KVM GSI routing and irqfds (see irq.h). The legacy part mirrors what KVM
 * installs by default with KVM_CREATE_IRQCHIP (GSI 0-15 to both the PIC and
 * the IOAPIC pin of the same number, 16-23 to the IOAPIC only), so taking
 * over the table changes nothing for legacy interrupts.
 */
#include "base/irq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/log.h"

static void add_irqchip(struct irq_routing *r, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = &r->entries[r->nr++];

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

/* Called with r->lock held. */
static int commit(struct irq_routing *r)
{
	struct kvm_irq_routing *table;
	int ret = 0;

	/* Too big for a vCPU thread's stack: it lives in the heap briefly. */
	table = calloc(1, sizeof(*table) + r->nr * sizeof(r->entries[0]));
	if (!table)
		return -ENOMEM;
	table->nr = r->nr;
	memcpy(table->entries, r->entries, r->nr * sizeof(r->entries[0]));
	if (ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, table) < 0)
		ret = -errno;
	free(table);
	return ret;
}

static int kvm_set_level(struct irq_chip *c, uint32_t gsi, int level)
{
	struct irq_routing *r = (struct irq_routing *)c;
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	return ioctl(r->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static int kvm_msi_alloc(struct irq_chip *c);
static int kvm_msi_route(struct irq_chip *c, uint32_t gsi, uint64_t addr, uint32_t data);
static int kvm_irqfd_create(struct irq_chip *c, uint32_t gsi);
static void kvm_irqfd_destroy(struct irq_chip *c, int fd, uint32_t gsi);

static const struct irq_chip_ops kvm_chip_ops = {
	.set_level = kvm_set_level,
	.msi_alloc = kvm_msi_alloc,
	.msi_route = kvm_msi_route,
	.irqfd_create = kvm_irqfd_create,
	.irqfd_destroy = kvm_irqfd_destroy,
};

int irq_routing_init(struct irq_routing *r, int vm_fd)
{
	memset(r, 0, sizeof(*r));
	r->chip.ops = &kvm_chip_ops;
	r->vm_fd = vm_fd;
	pthread_mutex_init(&r->lock, NULL);
	for (uint32_t gsi = 0; gsi < IRQ_NR_LEGACY_GSI; gsi++) {
		if (gsi < 8)
			add_irqchip(r, gsi, KVM_IRQCHIP_PIC_MASTER, gsi);
		else if (gsi < 16)
			add_irqchip(r, gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8);
		add_irqchip(r, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	}
	r->next_gsi = IRQ_NR_LEGACY_GSI;
	return 0;
}

void irq_routing_free(struct irq_routing *r)
{
	pthread_mutex_destroy(&r->lock);
}

static int kvm_msi_alloc(struct irq_chip *c)
{
	struct irq_routing *r = (struct irq_routing *)c;
	int gsi;

	pthread_mutex_lock(&r->lock);
	if (r->nr >= IRQ_MAX_ROUTES) {
		pthread_mutex_unlock(&r->lock);
		return -ENOSPC;
	}
	gsi = (int)r->next_gsi++;
	/* A placeholder MSI route (address 0 is never delivered as a valid MSI). */
	memset(&r->entries[r->nr], 0, sizeof(r->entries[0]));
	r->entries[r->nr].gsi = (uint32_t)gsi;
	r->entries[r->nr].type = KVM_IRQ_ROUTING_MSI;
	r->entries[r->nr].u.msi.address_lo = 0xfee00000u;
	r->nr++;
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

static int kvm_msi_route(struct irq_chip *c, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct irq_routing *r = (struct irq_routing *)c;
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	for (unsigned int i = 0; i < r->nr; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[i];

		if (e->gsi != gsi || e->type != KVM_IRQ_ROUTING_MSI)
			continue;
		if (e->u.msi.address_lo == (uint32_t)addr &&
		    e->u.msi.address_hi == (uint32_t)(addr >> 32) && e->u.msi.data == data) {
			ret = 0; /* unchanged: spare KVM a table rebuild */
			break;
		}
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = (uint32_t)(addr >> 32);
		e->u.msi.data = data;
		ret = commit(r);
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

static int kvm_irqfd_create(struct irq_chip *c, uint32_t gsi)
{
	struct irq_routing *r = (struct irq_routing *)c;
	struct kvm_irqfd irqfd = { .gsi = gsi };
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	irqfd.fd = (uint32_t)fd;
	if (ioctl(r->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static void kvm_irqfd_destroy(struct irq_chip *c, int fd, uint32_t gsi)
{
	struct irq_routing *r = (struct irq_routing *)c;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	if (fd < 0)
		return;
	ioctl(r->vm_fd, KVM_IRQFD, &irqfd);
	close(fd);
}
