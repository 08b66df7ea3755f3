/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtio driver's start, as Linux's virtio_pci does it, on a test
 * context (test_ctx.h): for the device tests and the device fuzzer.
 */
#ifndef PHYLLO_TEST_VIRTIO_UP_H
#define PHYLLO_TEST_VIRTIO_UP_H

#include <stdint.h>

#include "../virtio/guest_driver.h"
#include "test_ctx.h"

/* BAR0 at bar, features negotiated, queue q's ring at ring + q * 4 KiB
 * (8 entries, no MSI-X vector) enabled for each q < nq, then DRIVER_OK. */
void test_virtio_up(struct test_ctx *t, unsigned int slot, uint64_t bar,
		    struct guest_driver *gd, unsigned int nq, uint64_t ring);

#endif
