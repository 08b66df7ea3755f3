// SPDX-License-Identifier: GPL-2.0-or-later
/* A virtio driver's start on a test context (virtio_up.h). */
#include "virtio_up.h"

void test_virtio_up(struct test_ctx *t, unsigned int slot, uint64_t bar,
		    struct guest_driver *gd, unsigned int nq, uint64_t ring)
{
	test_mmio_write(t, TEST_ECAM(t, slot, 0x10), (uint32_t)bar, 4);
	test_mmio_write(t, TEST_ECAM(t, slot, 0x14), (uint32_t)(bar >> 32), 4);
	test_mmio_write(t, TEST_ECAM(t, slot, 0x04), 0x0006, 2);
	test_mmio_write(t, bar + 0x14, 0x03, 1);
	test_mmio_write(t, bar + 0x08, 1, 4);
	test_mmio_write(t, bar + 0x0c, 1, 4);
	test_mmio_write(t, bar + 0x14, 0x0b, 1);
	for (unsigned int q = 0; q < nq; q++) {
		gd_layout(&gd[q], &t->mem, 8, ring + q * 0x1000);
		test_mmio_write(t, bar + 0x16, q, 2);
		test_mmio_write(t, bar + 0x18, 8, 2);
		test_mmio_write(t, bar + 0x1a, 0xffff, 2);
		test_mmio_write(t, bar + 0x20, (uint32_t)gd[q].desc_gpa, 4);
		test_mmio_write(t, bar + 0x24, 0, 4);
		test_mmio_write(t, bar + 0x28, (uint32_t)gd[q].avail_gpa, 4);
		test_mmio_write(t, bar + 0x2c, 0, 4);
		test_mmio_write(t, bar + 0x30, (uint32_t)gd[q].used_gpa, 4);
		test_mmio_write(t, bar + 0x34, 0, 4);
		test_mmio_write(t, bar + 0x1c, 1, 2);
	}
	test_mmio_write(t, bar + 0x14, 0x0f, 1);
}
