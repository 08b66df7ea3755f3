// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for what a guest (and a viewer) can do to the desktop
 * devices: the i8042 and its PS/2 keyboard, bochs-display's registers and
 * EDID, and virtio-input's configuration space and queues, all realized
 * on a real device context (tests/unit/dev/test_ctx.c) with their BARs
 * placed and the virtio drivers up. The input is a list of 8-byte
 * operations:
 *
 *   byte 0  what: port in/out on the i8042, a register read or write of
 *           bochs-display (BAR2) or virtio-input (BAR0 of either), a key
 *           or pointer event from the front ends, a frame read or update,
 *           an event buffer posted on the keyboard's or tablet's queue
 *   1..3    where (an offset, taken modulo the region), and the size
 *   4..7    the value
 *
 * Beyond the sanitizers: a frame the display returns has the size it
 * claims, and the i8042's output never reads outside its queue.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../virtio/guest_driver.h"
#include "base/log.h"
#include "dev/display.h"
#include "dev/input.h"
#include "test_ctx.h"
#include "virtio_up.h"

extern const struct dev_ops i8042_device, bochs_display_device, virtio_input_device;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define RAM (16u << 20)
#define FB_GPA 0xc1000000ull
#define MMIO_GPA 0xc2000000ull
#define KBAR 0xc3000000ull
#define TBAR 0xc3100000ull

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR);
	return 0;
}

/* A guest access that may miss every device (one that straddles a BAR's
 * end does): the bus drops it, as the VMM does. */
static void mmio_w(struct test_ctx *t, uint64_t addr, uint32_t v, unsigned int len)
{
	(void)bus_access(&t->mmio, addr, &v, len, true);
}

static void mmio_r(struct test_ctx *t, uint64_t addr, unsigned int len)
{
	uint32_t v = 0;

	(void)bus_access(&t->mmio, addr, &v, len, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dev_ops *const ops[] = { &i8042_device, &bochs_display_device,
						     &virtio_input_device };
	static uint8_t rows[DISPLAY_MAX_HEIGHT];
	struct guest_driver kq[2], tq[2];
	struct display_frame f = { 0 };
	struct test_ctx t;
	struct dev_registry r;
	unsigned int bslot, kslot;
	char err[256];
	uint16_t posted[2] = { 0, 0 };

	test_ctx_init(&t, RAM);
	t.cfg.display.device = DISPLAY_DEVICE_BOCHS;
	if (dev_registry_realize(&r, &t.ctx, &t.cfg, ops, 3, err, sizeof(err)) < 0)
		abort();
	bslot = test_pci_find(&t, 0x11111234);
	kslot = test_pci_find(&t, 0x10521af4);
	test_mmio_write(&t, TEST_ECAM(&t, bslot, 0x10), (uint32_t)FB_GPA, 4);
	test_mmio_write(&t, TEST_ECAM(&t, bslot, 0x18), (uint32_t)MMIO_GPA, 4);
	test_mmio_write(&t, TEST_ECAM(&t, bslot, 0x04), 0x0002, 2);
	test_virtio_up(&t, kslot, KBAR, kq, 2, 0x10000);
	test_virtio_up(&t, kslot + 1, TBAR, tq, 2, 0x20000);

	for (size_t at = 0; at + 8 <= size; at += 8) {
		const uint8_t *op = data + at;
		uint32_t where = (uint32_t)op[1] | (uint32_t)op[2] << 8;
		unsigned int len = 1u << (op[3] & 3);
		uint32_t v;

		memcpy(&v, op + 4, 4);
		if (len == 8)
			len = 4;
		switch (op[0] % 12) {
		case 0: test_outb(&t, (where & 1) ? 0x64 : 0x60, (uint8_t)v); break;
		case 1: (void)test_inb(&t, (where & 1) ? 0x64 : 0x60); break;
		case 2: mmio_w(&t, MMIO_GPA + (where & 0xfff), v, len); break;
		case 3: mmio_r(&t, MMIO_GPA + (where & 0xfff), len); break;
		case 4: mmio_w(&t, ((where & 0x8000) ? TBAR : KBAR) + (where & 0x3fff), v, len); break;
		case 5: mmio_r(&t, ((where & 0x8000) ? TBAR : KBAR) + (where & 0x3fff), len); break;
		case 6: input_key(&t.input, v % (INPUT_KEY_MAX + 2), where & 1); break;
		case 7: input_pointer(&t.input, v & 0xffff, v >> 16, where & 0x1f,
				      (int8_t)op[2], (int8_t)op[3]); break;
		case 8:
			if (display_read_frame(&t.display, &f) == 0 && !f.pixels)
				abort();
			display_frame_free(&f);
			break;
		case 9: {
			int n = display_update(&t.display, &f, rows);

			if (n > 0 && (!f.pixels || (uint32_t)n > f.height))
				abort();
			break;
		}
		case 10: { /* post an event buffer (any length) on a queue */
			struct guest_driver *gd = (where & 1) ? &tq[0] : &kq[0];
			uint16_t *p = &posted[where & 1];
			uint16_t d = (uint16_t)(*p % 8);

			gd_set_desc(gd, d, 0x30000 + 64 * d, op[3] % 16, 2, 0);
			gd_publish(gd, d);
			(*p)++;
			mmio_w(&t, ((where & 1) ? TBAR : KBAR) + 0x3000, 0, 2);
			test_loop_drain(&t);
			break;
		}
		default: /* the guest writes its framebuffer, the dirty log sees it */
			test_ram_dirty(&t, FB_GPA + (v & 0xffffff), len);
			break;
		}
	}
	display_frame_free(&f);
	dev_registry_unrealize(&r);
	test_ctx_fini(&t);
	return 0;
}
