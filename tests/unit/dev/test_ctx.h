/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A real device context for unit tests (dev/dev.h), without KVM: real
 * guest memory, buses, PCI root and event loop; an interrupt chip that
 * records what devices raise (levels and rising edges of each line, MSI
 * routes, and an eventfd per irqfd whose count says how often it fired);
 * exit requests kept for the test to read; RAM a device maps into the
 * guest (map_ram) recorded per slot, with a dirty log the test writes
 * (test_ram_dirty; a slot starts all dirty, a read clears it); a
 * screen (dev/display.h) devices may draw on.
 */
#ifndef PHYLLO_TEST_CTX_H
#define PHYLLO_TEST_CTX_H

#include <stdint.h>

#include "base/config.h"
#include "base/irq.h"
#include "base/memory.h"
#include "dev/bus.h"
#include "dev/dev.h"
#include "dev/display.h"
#include "dev/input.h"
#include "pci/pci.h"

#define TEST_MAX_GSI 256

struct test_irq {
	struct irq_chip chip;
	int level[IRQ_NR_LEGACY_GSI];      /* last level of each line */
	unsigned int rises[IRQ_NR_LEGACY_GSI]; /* 0 -> 1 edges */
	uint32_t next_gsi;                 /* MSI GSIs from 24, as KVM's */
	struct {
		uint64_t addr;
		uint32_t data;
		int irqfd; /* -1: none */
	} msi[TEST_MAX_GSI];
};

#define TEST_MAX_RAM_SLOTS 8
#define TEST_RAM_DIRTY_WORDS 256 /* a dirty log for up to 64 MiB */

struct test_ram_slot {
	uint64_t gpa, size;
	void *host; /* NULL: unmapped */
	bool log_dirty;
	unsigned int maps; /* how often it was (re)mapped */
	uint64_t dirty[TEST_RAM_DIRTY_WORDS]; /* one bit a 4 KiB page */
};

struct test_ctx {
	struct dev_ctx ctx;
	struct dev_host host;
	struct test_irq irq;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct pci_root pci;
	struct vm_config cfg;
	uint8_t cmos_ram[128];
	struct display display;
	struct input input;
	struct test_ram_slot ram[TEST_MAX_RAM_SLOTS];
	unsigned int nr_ram;
	enum vm_exit exit; /* the first exit asked for */
	unsigned int nr_exits;
};

/* RAM of ram bytes, a PCI root with its windows above it, a new loop;
 * cfg is vm_config_init()'s with the serial port on CONSOLE_NULL. */
void test_ctx_init(struct test_ctx *t, uint64_t ram);
void test_ctx_fini(struct test_ctx *t);

uint8_t test_inb(struct test_ctx *t, uint16_t port);
void test_outb(struct test_ctx *t, uint16_t port, uint8_t v);
uint32_t test_mmio_read(struct test_ctx *t, uint64_t addr, unsigned int size);
void test_mmio_write(struct test_ctx *t, uint64_t addr, uint32_t v, unsigned int size);
/* The host memory the guest sees at gpa through a mapped slot, or NULL. */
void *test_ram_at(struct test_ctx *t, uint64_t gpa, uint64_t len);
/* As a guest write of [gpa, gpa + len) would: its pages go in the dirty log. */
void test_ram_dirty(struct test_ctx *t, uint64_t gpa, uint64_t len);
/* ECAM address of a config register of the function in slot. */
#define TEST_ECAM(t, slot, off) ((t)->pci.ecam_base + ((uint64_t)(slot) << 15) + (off))
/* The slot of the function with this vendor | device << 16 (fails the test without). */
unsigned int test_pci_find(struct test_ctx *t, uint32_t vendor_device);
/* How often the irqfd of gsi fired since the last call (reads its count). */
uint64_t test_msi_fired(struct test_ctx *t, uint32_t gsi);
/* Run the loop until nothing is ready (at most a bounded number of passes). */
void test_loop_drain(struct test_ctx *t);

#endif
