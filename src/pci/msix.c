// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * MSI-X (see msix.h). A vector's KVM route is brought up to date when the
 * vector is unmasked, or when the guest rewrites an unmasked vector, never
 * on each of the three writes that program address and data, so KVM's
 * routing table is rebuilt once per change that matters. A notification on
 * a masked vector sets its pending bit; unmasking delivers it.
 */
#include "pci/msix.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#define PCI_CAP_ID_MSIX 0x11
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_VECTOR_MASKED 0x1

int msix_init(struct msix *m, struct pci_device *dev, struct irq_chip *irq, uint16_t nr,
	      int bar, uint32_t table_off, uint32_t pba_off)
{
	int cap;

	if (nr == 0 || nr > MSIX_MAX_VECTORS || (table_off & 7) || (pba_off & 7))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->dev = dev;
	m->irq = irq;
	m->nr = nr;
	pthread_mutex_init(&m->lock, NULL);
	cap = pci_device_add_cap(dev, PCI_CAP_ID_MSIX, 12);
	if (cap < 0)
		return cap;
	m->cap = cap;
	pci_cfg_set16(dev, (uint32_t)cap + 2, (uint16_t)(nr - 1));
	dev->wmask[cap + 3] = 0xc0; /* enable and function mask */
	pci_cfg_set32(dev, (uint32_t)cap + 4, table_off | (uint32_t)bar);
	pci_cfg_set32(dev, (uint32_t)cap + 8, pba_off | (uint32_t)bar);
	for (unsigned int i = 0; i < nr; i++) {
		int gsi = irq_msi_alloc(irq);

		m->vec[i].ctrl = MSIX_VECTOR_MASKED;
		m->vec[i].irqfd = -1;
		if (gsi < 0)
			return gsi;
		m->vec[i].gsi = gsi;
		m->vec[i].irqfd = irq_irqfd_create(irq, (uint32_t)gsi);
		if (m->vec[i].irqfd < 0)
			return m->vec[i].irqfd;
	}
	return 0;
}

void msix_free(struct msix *m)
{
	for (unsigned int i = 0; i < m->nr; i++)
		if (m->vec[i].irqfd >= 0)
			irq_irqfd_destroy(m->irq, m->vec[i].irqfd, (uint32_t)m->vec[i].gsi);
	pthread_mutex_destroy(&m->lock);
}

static bool vector_masked(const struct msix *m, unsigned int i)
{
	return !m->enabled || m->func_masked || (m->vec[i].ctrl & MSIX_VECTOR_MASKED);
}

static void fire(struct msix_vector *v)
{
	uint64_t one = 1;

	if (write(v->irqfd, &one, sizeof(one)) < 0)
		pr_warn("MSI-X: irqfd write failed");
}

/* With m->lock held: route unmasked vectors and deliver what is pending. */
static void msix_update(struct msix *m)
{
	for (unsigned int i = 0; i < m->nr; i++) {
		struct msix_vector *v = &m->vec[i];

		if (vector_masked(m, i))
			continue;
		irq_msi_route(m->irq, (uint32_t)v->gsi,
			    (uint64_t)v->addr_hi << 32 | v->addr_lo, v->data);
		if (m->pba & (1ull << i)) {
			m->pba &= ~(1ull << i);
			fire(v);
		}
	}
}

void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int size)
{
	unsigned int i = (unsigned int)(off / MSIX_ENTRY_SIZE);
	uint32_t words[4];

	if (i >= m->nr || (size != 4 && size != 8) || (off & (size - 1))) {
		memset(data, 0xff, size);
		return;
	}
	pthread_mutex_lock(&m->lock);
	words[0] = m->vec[i].addr_lo;
	words[1] = m->vec[i].addr_hi;
	words[2] = m->vec[i].data;
	words[3] = m->vec[i].ctrl;
	pthread_mutex_unlock(&m->lock);
	memcpy(data, (uint8_t *)words + (off % MSIX_ENTRY_SIZE), size);
}

void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int size)
{
	unsigned int i = (unsigned int)(off / MSIX_ENTRY_SIZE);
	uint32_t words[4];
	bool was_masked;

	if (i >= m->nr || (size != 4 && size != 8) || (off & (size - 1)))
		return;
	pthread_mutex_lock(&m->lock);
	was_masked = vector_masked(m, i);
	words[0] = m->vec[i].addr_lo;
	words[1] = m->vec[i].addr_hi;
	words[2] = m->vec[i].data;
	words[3] = m->vec[i].ctrl;
	memcpy((uint8_t *)words + (off % MSIX_ENTRY_SIZE), data, size);
	m->vec[i].addr_lo = words[0] & ~3u;
	m->vec[i].addr_hi = words[1];
	m->vec[i].data = words[2];
	m->vec[i].ctrl = words[3] & MSIX_VECTOR_MASKED;
	if (!vector_masked(m, i) || was_masked != vector_masked(m, i))
		msix_update(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int size)
{
	uint64_t pba;

	pthread_mutex_lock(&m->lock);
	pba = m->pba;
	pthread_mutex_unlock(&m->lock);
	if (off >= 8 || off + size > 8) {
		memset(data, 0, size);
		return;
	}
	memcpy(data, (uint8_t *)&pba + off, size);
}

void msix_config_written(struct msix *m, uint32_t offset, unsigned int size)
{
	uint32_t ctrl = (uint32_t)m->cap + 2;
	uint16_t v;

	if (offset + size <= ctrl || offset >= ctrl + 2)
		return;
	v = pci_cfg_get16(m->dev, ctrl);
	pthread_mutex_lock(&m->lock);
	m->enabled = v & MSIX_CTRL_ENABLE;
	m->func_masked = v & MSIX_CTRL_MASKALL;
	msix_update(m);
	pthread_mutex_unlock(&m->lock);
}

bool msix_notify(struct msix *m, uint16_t vector)
{
	bool sent = false;

	if (vector >= m->nr)
		return false;
	pthread_mutex_lock(&m->lock);
	if (!m->enabled) {
		/* No INTx fallback: a driver without MSI-X gets no interrupts. */
	} else if (vector_masked(m, vector)) {
		m->pba |= 1ull << vector;
	} else {
		fire(&m->vec[vector]);
		sent = true;
	}
	pthread_mutex_unlock(&m->lock);
	return sent;
}

int msix_vector_irqfd(struct msix *m, uint16_t vector)
{
	return vector < m->nr ? m->vec[vector].irqfd : -1;
}

void msix_save(struct msix *m, struct msix_state *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&m->lock);
	st->nr = m->nr;
	st->enabled = m->enabled;
	st->func_masked = m->func_masked;
	st->pba = m->pba;
	for (unsigned int i = 0; i < m->nr; i++) {
		st->vec[i].addr_lo = m->vec[i].addr_lo;
		st->vec[i].addr_hi = m->vec[i].addr_hi;
		st->vec[i].data = m->vec[i].data;
		st->vec[i].ctrl = m->vec[i].ctrl;
	}
	pthread_mutex_unlock(&m->lock);
}

int msix_load(struct msix *m, const struct msix_state *st)
{
	uint64_t valid = m->nr >= 64 ? ~0ull : (1ull << m->nr) - 1;

	if (st->nr != m->nr || st->enabled > 1 || st->func_masked > 1 || (st->pba & ~valid))
		return -EINVAL;
	for (unsigned int i = 0; i < m->nr; i++)
		if ((st->vec[i].ctrl & ~MSIX_VECTOR_MASKED) || (st->vec[i].addr_lo & 3))
			return -EINVAL;
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < m->nr; i++) {
		m->vec[i].addr_lo = st->vec[i].addr_lo;
		m->vec[i].addr_hi = st->vec[i].addr_hi;
		m->vec[i].data = st->vec[i].data;
		m->vec[i].ctrl = st->vec[i].ctrl;
	}
	m->enabled = st->enabled;
	m->func_masked = st->func_masked;
	/* Only masked vectors hold pending bits (msix_update delivers them at
	 * unmask), so this routes and delivers nothing. */
	m->pba = st->pba;
	msix_update(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	for (unsigned int i = 0; i < m->nr; i++) {
		m->vec[i].addr_lo = m->vec[i].addr_hi = m->vec[i].data = 0;
		m->vec[i].ctrl = MSIX_VECTOR_MASKED;
	}
	m->pba = 0;
	m->enabled = m->func_masked = false;
	pci_cfg_set16(m->dev, (uint32_t)m->cap + 2, (uint16_t)(m->nr - 1));
	pthread_mutex_unlock(&m->lock);
}
