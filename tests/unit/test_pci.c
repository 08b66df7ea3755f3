// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PCI configuration space: reads through 0xCF8/0xCFC and ECAM agree, the
 * host bridge is at 00.0, read-only bits stay put, BAR sizing reads back
 * the size, and BARs are mapped on the MMIO bus exactly while memory
 * decoding is on and the address lies in a window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "pci/pci.h"

#define ECAM 0xc0000000ull

struct fake_dev {
	struct pci_device pci;
	uint64_t last_off;
	int reads;
};

static void fake_bar_read(struct pci_device *dev, int bar, uint64_t off, void *data,
			  unsigned int size)
{
	struct fake_dev *f = dev->opaque;

	f->last_off = off;
	f->reads++;
	memset(data, 0x5a + bar, size);
}

static const struct pci_device_ops fake_ops = { .bar_read = fake_bar_read };

struct env {
	struct bus pio, mmio;
	struct pci_root root;
	struct fake_dev dev;
};

static int setup(void **state)
{
	static struct env e;
	struct pci_window win = {
		.ecam_base = ECAM, .mmio32_base = 0xd0000000, .mmio32_size = 0x2ec00000,
		.mmio64_base = 0x200000000ull, .mmio64_size = 1ull << 32,
	};

	memset(&e, 0, sizeof(e));
	bus_init(&e.pio, "pio");
	bus_init(&e.mmio, "mmio");
	assert_int_equal(pci_root_init(&e.root, &e.pio, &e.mmio, &win), 0);
	pci_device_init(&e.dev.pci, "fake", 0x1af4, 0x1044, 0xff0000, &fake_ops, &e.dev);
	assert_int_equal(pci_device_add_bar(&e.dev.pci, 0, 0x4000, false), 0);
	assert_int_equal(pci_device_add_bar(&e.dev.pci, 2, 0x100000, true), 0);
	assert_int_equal(pci_root_add_device(&e.root, &e.dev.pci), 1);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	pci_root_free(&e->root);
	bus_free(&e->pio);
	bus_free(&e->mmio);
	return 0;
}

static uint32_t cf8_read32(struct env *e, unsigned int slot, unsigned int reg)
{
	uint32_t addr = 0x80000000u | slot << 11 | reg, v;

	bus_access(&e->pio, 0xcf8, &addr, 4, true);
	bus_access(&e->pio, 0xcfc, &v, 4, false);
	return v;
}

static uint32_t ecam_read32(struct env *e, unsigned int slot, unsigned int reg)
{
	uint32_t v;

	bus_access(&e->mmio, ECAM + (slot << 15) + reg, &v, 4, false);
	return v;
}

static void ecam_write32(struct env *e, unsigned int slot, unsigned int reg, uint32_t v)
{
	bus_access(&e->mmio, ECAM + (slot << 15) + reg, &v, 4, true);
}

static void test_enumeration(void **state)
{
	struct env *e = *state;

	assert_int_equal(cf8_read32(e, 0, 0), 0x29c08086);
	assert_int_equal(ecam_read32(e, 0, 0), 0x29c08086);
	assert_int_equal(cf8_read32(e, 1, 0), 0x10441af4);
	assert_int_equal(ecam_read32(e, 1, 8) >> 8, 0xff0000);
	/* Empty slots and other functions read as all ones. */
	assert_int_equal(cf8_read32(e, 5, 0), 0xffffffff);
	assert_int_equal(ecam_read32(e, 1, 0) , 0x10441af4);
	{
		uint32_t v;

		bus_access(&e->mmio, ECAM + (1 << 15) + (3 << 12), &v, 4, false);
		assert_int_equal(v, 0xffffffff); /* function 3 */
	}
}

static void test_read_only_bits(void **state)
{
	struct env *e = *state;

	ecam_write32(e, 1, 0, 0x12345678); /* IDs are read-only */
	assert_int_equal(ecam_read32(e, 1, 0), 0x10441af4);
	ecam_write32(e, 1, 0x3c, 0xffffffff); /* only the interrupt line is writable */
	assert_int_equal(ecam_read32(e, 1, 0x3c) & 0xff, 0xff);
	assert_int_equal((ecam_read32(e, 1, 0x3c) >> 8) & 0xff, 0);
}

static void test_bar_sizing_and_mapping(void **state)
{
	struct env *e = *state;
	uint32_t bar0 = ecam_read32(e, 1, 0x10), v;
	uint64_t bar2;

	assert_int_equal(bar0 & 0xfff, 0);
	assert_true(bar0 >= 0xd0000000u);
	bar2 = ecam_read32(e, 1, 0x18) | (uint64_t)ecam_read32(e, 1, 0x1c) << 32;
	assert_int_equal(bar2 & 0xf, 0x4); /* 64-bit memory BAR */
	assert_true((bar2 & ~0xfull) >= 0x200000000ull);

	/* Not mapped while memory decoding is off. */
	assert_false(bus_access(&e->mmio, bar0, &v, 4, false));
	ecam_write32(e, 1, 4, 0x2);
	assert_true(bus_access(&e->mmio, bar0 + 0x10, &v, 4, false));
	assert_int_equal(v, 0x5a5a5a5a);
	assert_int_equal(e->dev.last_off, 0x10);
	assert_true(bus_access(&e->mmio, (bar2 & ~0xfull) + 8, &v, 4, false));
	assert_int_equal(v, 0x5c5c5c5c);

	/* Sizing: all ones reads back the size mask; the old mapping goes away. */
	ecam_write32(e, 1, 0x10, 0xffffffff);
	assert_int_equal(ecam_read32(e, 1, 0x10), 0xffffc000);
	assert_false(bus_access(&e->mmio, bar0, &v, 4, false));

	/* The guest moves the BAR: the mapping follows. */
	ecam_write32(e, 1, 0x10, 0xe0000000);
	assert_true(bus_access(&e->mmio, 0xe0000000, &v, 4, false));
	ecam_write32(e, 1, 4, 0x0);
	assert_false(bus_access(&e->mmio, 0xe0000000, &v, 4, false));
}

static void test_capabilities(void **state)
{
	struct pci_device d;
	int a, b;

	(void)state;
	pci_device_init(&d, "caps", 1, 2, 0, NULL, NULL);
	a = pci_device_add_cap(&d, 0x11, 12);
	b = pci_device_add_cap(&d, 0x09, 16);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x4c);
	assert_int_equal(d.cfg[PCI_CAPABILITY_LIST], 0x40);
	assert_int_equal(d.cfg[0x41], 0x4c);
	assert_int_equal(d.cfg[0x4d], 0);
	assert_true(pci_cfg_get16(&d, PCI_STATUS) & PCI_STATUS_CAP_LIST);
	assert_int_equal(pci_device_add_cap(&d, 0x09, 200), -ENOSPC);
	assert_int_equal(pci_device_add_bar(&d, 5, 0x1000, true), -EINVAL);
	assert_int_equal(pci_device_add_bar(&d, 0, 0x1800, false), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enumeration),
		cmocka_unit_test(test_read_only_bits),
		cmocka_unit_test(test_bar_sizing_and_mapping),
		cmocka_unit_test(test_capabilities),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
