// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The unit tests' device context (test_ctx.h): everything a device gets in
 * a VM, with KVM's interrupt chip replaced by a recorder.
 */
#include "test_ctx.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/loop.h"

static int rec_set_level(struct irq_chip *c, uint32_t gsi, int level)
{
	struct test_irq *q = (struct test_irq *)c;

	if (gsi >= IRQ_NR_LEGACY_GSI)
		return -EINVAL;
	if (level && !q->level[gsi])
		q->rises[gsi]++;
	q->level[gsi] = !!level;
	return 0;
}

static int rec_msi_alloc(struct irq_chip *c)
{
	struct test_irq *q = (struct test_irq *)c;

	if (q->next_gsi >= TEST_MAX_GSI)
		return -ENOSPC;
	return (int)q->next_gsi++;
}

static int rec_msi_route(struct irq_chip *c, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct test_irq *q = (struct test_irq *)c;

	if (gsi >= TEST_MAX_GSI)
		return -ENOENT;
	q->msi[gsi].addr = addr;
	q->msi[gsi].data = data;
	return 0;
}

static int rec_irqfd_create(struct irq_chip *c, uint32_t gsi)
{
	struct test_irq *q = (struct test_irq *)c;
	int fd;

	if (gsi >= TEST_MAX_GSI)
		return -EINVAL;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	q->msi[gsi].irqfd = fd;
	/* The device writes it; the test reads it: a dup for each side. */
	return dup(fd);
}

static void rec_irqfd_destroy(struct irq_chip *c, int fd, uint32_t gsi)
{
	struct test_irq *q = (struct test_irq *)c;

	if (fd >= 0)
		close(fd);
	if (gsi < TEST_MAX_GSI && q->msi[gsi].irqfd >= 0) {
		close(q->msi[gsi].irqfd);
		q->msi[gsi].irqfd = -1;
	}
}

static const struct irq_chip_ops rec_ops = {
	.set_level = rec_set_level,
	.msi_alloc = rec_msi_alloc,
	.msi_route = rec_msi_route,
	.irqfd_create = rec_irqfd_create,
	.irqfd_destroy = rec_irqfd_destroy,
};

static void rec_request_exit(struct dev_ctx *c, enum vm_exit why)
{
	struct test_ctx *t = c->machine;

	if (!t->nr_exits++)
		t->exit = why;
}

static int rec_map_ram(struct dev_ctx *c, int *slot, uint64_t gpa, uint64_t size, void *host,
		       bool log_dirty)
{
	struct test_ctx *t = c->machine;
	struct test_ram_slot *s;

	if (*slot < 0) {
		if (!host)
			return 0;
		if (t->nr_ram == TEST_MAX_RAM_SLOTS)
			return -ENOSPC;
		*slot = (int)t->nr_ram++;
	}
	if ((unsigned int)*slot >= t->nr_ram)
		return -EINVAL;
	s = &t->ram[*slot];
	s->gpa = gpa;
	s->size = size;
	s->host = host;
	s->log_dirty = log_dirty;
	memset(s->dirty, 0xff, sizeof(s->dirty));
	if (host)
		s->maps++;
	return 0;
}

static int rec_dirty_log(struct dev_ctx *c, int slot, uint64_t *bitmap)
{
	struct test_ctx *t = c->machine;

	struct test_ram_slot *s;

	if (slot < 0 || (unsigned int)slot >= t->nr_ram || !t->ram[slot].log_dirty)
		return -EINVAL;
	s = &t->ram[slot];
	if (s->size > 64 * 4096ull * TEST_RAM_DIRTY_WORDS)
		return -E2BIG;
	memcpy(bitmap, s->dirty, (s->size / 4096 + 63) / 64 * 8);
	memset(s->dirty, 0, sizeof(s->dirty));
	return 0;
}

void test_ram_dirty(struct test_ctx *t, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < t->nr_ram; i++) {
		struct test_ram_slot *s = &t->ram[i];

		if (!s->host || !len || gpa < s->gpa || gpa - s->gpa >= s->size)
			continue;
		for (uint64_t p = (gpa - s->gpa) / 4096;
		     p <= (gpa - s->gpa + len - 1) / 4096 && p < 64ull * TEST_RAM_DIRTY_WORDS; p++)
			s->dirty[p / 64] |= 1ull << (p % 64);
	}
}

void *test_ram_at(struct test_ctx *t, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < t->nr_ram; i++) {
		struct test_ram_slot *s = &t->ram[i];

		if (s->host && gpa >= s->gpa && len <= s->size && gpa - s->gpa <= s->size - len)
			return (uint8_t *)s->host + (gpa - s->gpa);
	}
	return NULL;
}

unsigned int test_pci_find(struct test_ctx *t, uint32_t vendor_device)
{
	for (unsigned int s = 0; s < 32; s++)
		if (test_mmio_read(t, TEST_ECAM(t, s, 0), 4) == vendor_device)
			return s;
	fail_msg("no PCI function %08x", vendor_device);
	return 0;
}

void test_ctx_init(struct test_ctx *t, uint64_t ram)
{
	struct pci_window win = {
		.ecam_base = 0xe0000000ull,
		.mmio32_base = 0xc0000000ull, .mmio32_size = 0x20000000ull,
		.mmio64_base = 1ull << 36, .mmio64_size = 1ull << 32,
	};

	memset(t, 0, sizeof(*t));
	t->irq.chip.ops = &rec_ops;
	t->irq.next_gsi = IRQ_NR_LEGACY_GSI;
	for (unsigned int i = 0; i < TEST_MAX_GSI; i++)
		t->irq.msi[i].irqfd = -1;
	assert_int_equal(guest_mem_init(&t->mem, ram), 0);
	bus_init(&t->pio, "pio");
	bus_init(&t->mmio, "mmio");
	assert_int_equal(pci_root_init(&t->pci, &t->pio, &t->mmio, &win), 0);
	vm_config_init(&t->cfg);
	t->cfg.serial.mode = CONSOLE_NULL;
	t->host.loop = loop_new();
	assert_non_null(t->host.loop);
	t->host.cmos_ram = t->cmos_ram;
	display_init(&t->display);
	t->host.display = &t->display;
	input_init(&t->input);
	t->host.input = &t->input;
	t->ctx = (struct dev_ctx){
		.mem = &t->mem, .pio = &t->pio, .mmio = &t->mmio, .pci = &t->pci,
		.irq = &t->irq.chip, .host = &t->host, .request_exit = rec_request_exit,
		.map_ram = rec_map_ram, .dirty_log = rec_dirty_log, .machine = t,
	};
}

void test_ctx_fini(struct test_ctx *t)
{
	pci_root_free(&t->pci);
	bus_free(&t->pio);
	bus_free(&t->mmio);
	loop_free(t->host.loop);
	display_free(&t->display);
	input_free(&t->input);
	guest_mem_free(&t->mem);
	vm_config_free(&t->cfg);
	for (unsigned int i = 0; i < TEST_MAX_GSI; i++)
		if (t->irq.msi[i].irqfd >= 0)
			close(t->irq.msi[i].irqfd);
}

uint8_t test_inb(struct test_ctx *t, uint16_t port)
{
	uint8_t v = 0;

	assert_true(bus_access(&t->pio, port, &v, 1, false));
	return v;
}

void test_outb(struct test_ctx *t, uint16_t port, uint8_t v)
{
	assert_true(bus_access(&t->pio, port, &v, 1, true));
}

uint32_t test_mmio_read(struct test_ctx *t, uint64_t addr, unsigned int size)
{
	uint32_t v = 0;

	assert_true(bus_access(&t->mmio, addr, &v, size, false));
	return v;
}

void test_mmio_write(struct test_ctx *t, uint64_t addr, uint32_t v, unsigned int size)
{
	assert_true(bus_access(&t->mmio, addr, &v, size, true));
}

uint64_t test_msi_fired(struct test_ctx *t, uint32_t gsi)
{
	uint64_t n = 0;

	if (gsi >= TEST_MAX_GSI || t->irq.msi[gsi].irqfd < 0)
		return 0;
	if (read(t->irq.msi[gsi].irqfd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

void test_loop_drain(struct test_ctx *t)
{
	for (int i = 0; i < 100 && loop_run_once(t->host.loop, 0) > 0; i++)
		;
}
