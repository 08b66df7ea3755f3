// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Each kind of device on a real device context (test_ctx.h), with the
 * interrupts it raises watched: the 16550A's THR-empty line, the GED's
 * power-button edge (reached through the registry's platform event), the
 * ACPI PM and i8042 exit requests, virtio MSI-X from a virtio-rng driven
 * through PCI config space and BAR0 as a guest would; and the registry
 * itself: one instance per disk, names and unwinding.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../virtio/guest_driver.h"
#include "base/loop.h"
#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "test_ctx.h"
#include "virtio_up.h"
#include "dev/input.h"
#include "snapshot/snapfile.h"

#include <linux/input.h>
#include <unistd.h>

extern const struct dev_ops serial_device, i8042_device, cmos_device, acpi_pm_device, ged_device,
	virtio_rng_device, virtio_blk_device, virtio_input_device;

#define RAM (16u << 20)
#define COM1 0x3f8

static void realize(struct test_ctx *t, struct dev_registry *r, const struct dev_ops *const *ops,
		    size_t n)
{
	char err[256] = "";

	if (dev_registry_realize(r, &t->ctx, &t->cfg, ops, n, err, sizeof(err)) < 0)
		fail_msg("realize: %s", err);
}

static void test_serial_thre(void **state)
{
	static const struct dev_ops *const ops[] = { &serial_device };
	struct test_ctx t;
	struct dev_registry r;

	(void)state;
	test_ctx_init(&t, RAM);
	realize(&t, &r, ops, 1);
	assert_int_equal(r.nr, 1);
	assert_int_equal(t.irq.level[4], 0);
	/* THR-empty interrupt enabled: the transmitter is empty, IRQ 4 rises. */
	test_outb(&t, COM1 + 1, 0x02);
	assert_int_equal(t.irq.level[4], 1);
	assert_int_equal(t.irq.rises[4], 1);
	/* Reading IIR names it and clears it: the line drops. */
	assert_int_equal(test_inb(&t, COM1 + 2) & 0x0f, 0x02);
	assert_int_equal(t.irq.level[4], 0);
	/* A byte sent: empty again, a second edge. */
	test_outb(&t, COM1, 'x');
	assert_int_equal(t.irq.level[4], 1);
	assert_int_equal(t.irq.rises[4], 2);
	/* Disabled: down, and no other line moved. */
	test_outb(&t, COM1 + 1, 0x00);
	assert_int_equal(t.irq.level[4], 0);
	for (int i = 0; i < IRQ_NR_LEGACY_GSI; i++)
		if (i != 4)
			assert_int_equal(t.irq.rises[i], 0);
	dev_registry_unrealize(&r);
	/* --serial off: no instance at all. */
	t.cfg.serial.mode = CONSOLE_OFF;
	realize(&t, &r, ops, 1);
	assert_int_equal(r.nr, 0);
	test_ctx_fini(&t);
}

/* --- the RTC: update-ended, alarm and periodic interrupts on IRQ 8 -------- */

#define RTC_IRQ 8

static uint8_t cmos_get(struct test_ctx *t, uint8_t reg)
{
	test_outb(t, 0x70, reg);
	return test_inb(t, 0x71);
}

static void cmos_set(struct test_ctx *t, uint8_t reg, uint8_t v)
{
	test_outb(t, 0x70, reg);
	test_outb(t, 0x71, v);
}

/* Serve the loop until IRQ 8 has risen more than `rises` times, at most ms. */
static bool rtc_wait_rise(struct test_ctx *t, unsigned int rises, int ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (t->irq.rises[RTC_IRQ] <= rises) {
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - ((now.tv_sec - start.tv_sec) * 1000 +
			     (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return false;
		loop_run_once(t->host.loop, (int)left);
	}
	return true;
}

static void test_rtc_interrupts(void **state)
{
	static const struct dev_ops *const ops[] = { &cmos_device };
	struct test_ctx t;
	struct dev_registry r;
	uint8_t c;

	(void)state;
	test_ctx_init(&t, RAM);
	realize(&t, &r, ops, 1);
	/* Nothing enabled: no interrupt in over a second. */
	assert_false(rtc_wait_rise(&t, 0, 1200));
	assert_int_equal(cmos_get(&t, 0x0c) & 0x80, 0);

	/* Update-ended (UIE): within a second IRQ 8 rises, C says UF|IRQF. */
	cmos_set(&t, 0x0b, 0x12);
	assert_true(rtc_wait_rise(&t, 0, 1500));
	assert_int_equal(t.irq.level[RTC_IRQ], 1);
	c = cmos_get(&t, 0x0c);
	assert_int_equal(c & 0xf0, 0x90);
	/* Reading C cleared it and lowered the line; the next second again. */
	assert_int_equal(t.irq.level[RTC_IRQ], 0);
	assert_int_equal(cmos_get(&t, 0x0c) & 0x80, 0);
	assert_true(rtc_wait_rise(&t, 1, 1500));
	/* Unread, the line stays up: no second edge for the next update. */
	assert_false(rtc_wait_rise(&t, 2, 1200));
	assert_int_equal(t.irq.level[RTC_IRQ], 1);
	cmos_set(&t, 0x0b, 0x02); /* off */
	(void)cmos_get(&t, 0x0c);
	assert_false(rtc_wait_rise(&t, 2, 1200));
	assert_int_equal(t.irq.level[RTC_IRQ], 0);

	/* Alarm (AIE) with every field "don't care": once a second, AF. */
	cmos_set(&t, 0x01, 0xc0);
	cmos_set(&t, 0x03, 0xc0);
	cmos_set(&t, 0x05, 0xc0);
	cmos_set(&t, 0x0b, 0x22);
	assert_true(rtc_wait_rise(&t, 2, 1500));
	assert_int_equal(cmos_get(&t, 0x0c) & 0xa0, 0xa0);
	/* An alarm an hour away (binary mode) never matches within the test. */
	cmos_set(&t, 0x0b, 0x26);
	cmos_set(&t, 0x05, (uint8_t)((cmos_get(&t, 0x04) + 1) % 24));
	(void)cmos_get(&t, 0x0c);
	assert_false(rtc_wait_rise(&t, 3, 1200));
	cmos_set(&t, 0x0b, 0x02);

	/* Periodic (PIE) at 16 Hz (rate 12): many edges in half a second. */
	cmos_set(&t, 0x0a, 0x2c);
	cmos_set(&t, 0x0b, 0x42);
	for (unsigned int i = 0; i < 4; i++) {
		unsigned int before = t.irq.rises[RTC_IRQ];

		assert_true(rtc_wait_rise(&t, before, 200));
		assert_int_equal(cmos_get(&t, 0x0c) & 0xc0, 0xc0);
	}
	cmos_set(&t, 0x0b, 0x02);
	dev_registry_unrealize(&r);
	/* A new boot starts with no interrupt enabled. */
	t.cmos_ram[0x0b] |= 0x10;
	realize(&t, &r, ops, 1);
	assert_int_equal(cmos_get(&t, 0x0b), 0x02);
	assert_false(rtc_wait_rise(&t, t.irq.rises[RTC_IRQ], 1200));
	dev_registry_unrealize(&r);
	test_ctx_fini(&t);
}

static void test_ged_power_button(void **state)
{
	static const struct dev_ops *const ops[] = { &serial_device, &ged_device };
	struct test_ctx t;
	struct dev_registry r;

	(void)state;
	test_ctx_init(&t, RAM);
	realize(&t, &r, ops, 1); /* serial only: nobody has a power button */
	assert_int_equal(dev_registry_event(&r, PLATFORM_POWER_BUTTON), -ENODEV);
	dev_registry_unrealize(&r);
	realize(&t, &r, ops, 2);
	assert_int_equal(dev_registry_event(&r, PLATFORM_POWER_BUTTON), 0);
	/* An edge on GSI 5: up once, down again. */
	assert_int_equal(t.irq.rises[GED_GSI], 1);
	assert_int_equal(t.irq.level[GED_GSI], 0);
	/* The event register says why, once. */
	assert_int_equal(test_mmio_read(&t, GED_MMIO_ADDR, 4), ACPI_GED_EVENT_POWER_BUTTON);
	assert_int_equal(test_mmio_read(&t, GED_MMIO_ADDR, 4), 0);
	dev_registry_unrealize(&r);
	test_ctx_fini(&t);
}

static void test_exits(void **state)
{
	static const struct dev_ops *const ops[] = { &i8042_device, &acpi_pm_device };
	struct test_ctx t;
	struct dev_registry r;

	(void)state;
	test_ctx_init(&t, RAM);
	realize(&t, &r, ops, 2);
	assert_int_equal(r.nr, 2);
	/* ACPI S5 (SLP_TYP 5, SLP_EN): power off. */
	test_outb(&t, ACPI_SLEEP_CTL_PORT, 5 << 2 | 0x20);
	assert_int_equal(t.nr_exits, 1);
	assert_int_equal(t.exit, VM_EXIT_POWEROFF);
	/* The i8042's pulse of the reset line: reboot. */
	test_outb(&t, 0x64, 0xfe);
	assert_int_equal(t.nr_exits, 2);
	t.exit = VM_EXIT_NONE;
	t.nr_exits = 0;
	test_outb(&t, ACPI_RESET_PORT, ACPI_RESET_VALUE);
	assert_int_equal(t.exit, VM_EXIT_REBOOT);
	dev_registry_unrealize(&r);
	test_ctx_fini(&t);
}

/* --- the PS/2 keyboard behind the i8042 ------------------------------------ */

#define KBD_IRQ 1

/* The next byte the guest reads, or -1 when the output buffer is empty. */
static int kbd_read(struct test_ctx *t)
{
	if (!(test_inb(t, 0x64) & 0x01))
		return -1;
	return test_inb(t, 0x60);
}

static void expect_bytes(struct test_ctx *t, const int *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int got = kbd_read(t);

		if (got != want[i])
			fail_msg("byte %zu: 0x%x, want 0x%x", i, got, want[i]);
	}
	assert_int_equal(kbd_read(t), -1);
}

#define EXPECT(t, ...) do { \
	static const int w_[] = { __VA_ARGS__ }; \
	expect_bytes(t, w_, sizeof(w_) / sizeof(w_[0])); \
} while (0)

/*
 * As Linux's i8042 and atkbd drivers bring it up: command byte with the
 * keyboard interrupt and translation, reset, identify; then keys from the
 * input hub arrive as translated set 2 (= set 1) scan codes, each byte
 * with an edge on IRQ 1, and survive a snapshot.
 */
static void test_ps2_keyboard(void **state)
{
	static const struct dev_ops *const ops[] = { &i8042_device };
	char dir[] = "/tmp/phyllo-test-kbd-XXXXXX", path[96], err[256] = "";
	struct snap_writer w;
	struct snap_reader rd;
	struct test_ctx t;
	struct dev_registry r;
	unsigned int rises;

	(void)state;
	test_ctx_init(&t, RAM);
	realize(&t, &r, ops, 1);
	/* Before the guest enables anything, keys wait and raise nothing. */
	assert_int_equal(input_key(&t.input, KEY_A, true), 0);
	assert_int_equal(t.irq.rises[KBD_IRQ], 0);
	test_outb(&t, 0x64, 0x20); /* read the command byte: translation on */
	assert_int_equal(kbd_read(&t) & 0x40, 0x40);
	test_outb(&t, 0x64, 0x60);
	test_outb(&t, 0x60, 0x47); /* KBD_INT | SYS | XLATE, keyboard enabled */
	assert_int_equal(t.irq.level[KBD_IRQ], 1); /* the key waiting: 'a' down */
	EXPECT(&t, 0x1e);
	assert_int_equal(t.irq.level[KBD_IRQ], 0);
	test_outb(&t, 0x60, 0xff); /* reset: ack, self-test passed */
	EXPECT(&t, 0xfa, 0xaa);
	test_outb(&t, 0x60, 0xf2); /* identify: MF2, translated */
	EXPECT(&t, 0xfa, 0xab, 0x41);
	test_outb(&t, 0x60, 0xed); /* LEDs, with their argument */
	test_outb(&t, 0x60, 0x02);
	EXPECT(&t, 0xfa, 0xfa);
	test_outb(&t, 0x60, 0xf0); /* which scan code set: 2, as translated */
	test_outb(&t, 0x60, 0x00);
	EXPECT(&t, 0xfa, 0xfa, 0x41);
	test_outb(&t, 0x60, 0xee);
	EXPECT(&t, 0xee);
	test_outb(&t, 0x60, 0x12); /* not a command */
	EXPECT(&t, 0xfe);

	/* Keys: make and break, E0 for the extended ones, one edge a byte. */
	rises = t.irq.rises[KBD_IRQ];
	input_key(&t.input, KEY_A, false); /* its down was before the reset */
	input_key(&t.input, KEY_LEFTSHIFT, true);
	input_key(&t.input, KEY_Z, true);
	input_key(&t.input, KEY_Z, false);
	input_key(&t.input, KEY_LEFTSHIFT, false);
	input_key(&t.input, KEY_UP, true);
	input_key(&t.input, KEY_UP, false);
	input_key(&t.input, KEY_KPENTER, true);
	input_key(&t.input, KEY_F12, true);
	EXPECT(&t, 0x9e, 0x2a, 0x2c, 0xac, 0xaa, 0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x1c, 0x58);
	assert_int_equal(t.irq.rises[KBD_IRQ] - rises, 12);
	input_key(&t.input, KEY_PAUSE, true);
	input_key(&t.input, KEY_PAUSE, false); /* Pause has no break */
	EXPECT(&t, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
	input_key(&t.input, KEY_SYSRQ, true);
	input_key(&t.input, KEY_SYSRQ, false);
	EXPECT(&t, 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
	/* A full queue drops whole keys, never half of one. */
	for (int i = 0; i < 40; i++) {
		input_key(&t.input, KEY_UP, true);
		input_key(&t.input, KEY_UP, false);
	}
	{
		int n = 0, b;

		while ((b = kbd_read(&t)) >= 0) {
			assert_int_equal(b, (n % 2) ? (n % 4 == 1 ? 0x48 : 0xc8) : 0xe0);
			n++;
		}
		assert_int_equal(n % 2, 0);
		assert_true(n >= 60 && n <= 66);
	}
	/* Scanning disabled: keys are dropped. */
	test_outb(&t, 0x60, 0xf5);
	EXPECT(&t, 0xfa);
	input_key(&t.input, KEY_B, true);
	assert_int_equal(kbd_read(&t), -1);
	test_outb(&t, 0x60, 0xf4);
	EXPECT(&t, 0xfa);

	/* A key waiting in the queue survives a snapshot. */
	input_key(&t.input, KEY_B, false);
	input_key(&t.input, KEY_C, true);
	input_key(&t.input, KEY_C, false);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_STATE_FILE);
	assert_int_equal(snap_writer_open(&w, dir, SNAP_STATE_FILE, err, sizeof(err)), 0);
	assert_int_equal(dev_registry_save(&r, &w, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
	dev_registry_unrealize(&r);
	/* No keyboard device: the hub says so. */
	assert_int_equal(input_key(&t.input, KEY_A, true), -ENODEV);
	realize(&t, &r, ops, 1);
	assert_int_equal(snap_reader_open(&rd, path, 0, err, sizeof(err)), 0);
	if (dev_registry_load(&r, &rd, err, sizeof(err)) < 0)
		fail_msg("load: %s", err);
	snap_reader_close(&rd);
	EXPECT(&t, 0xb0, 0x2e, 0xae); /* the hub saw b go down */
	dev_registry_unrealize(&r);
	test_ctx_fini(&t);
	unlink(path);
	rmdir(dir);
}

/* --- a virtio-rng driven as a guest driver would ---------------------------- */

#define BAR_GPA 0xc0000000ull /* where the test puts BAR0 */

static uint8_t find_cap(struct test_ctx *t, unsigned int slot, uint8_t id)
{
	uint8_t c = (uint8_t)test_mmio_read(t, TEST_ECAM(t, slot, 0x34), 1);

	for (int n = 0; c && n < 48; n++) {
		if (test_mmio_read(t, TEST_ECAM(t, slot, c), 1) == id)
			return c;
		c = (uint8_t)test_mmio_read(t, TEST_ECAM(t, slot, c + 1), 1);
	}
	fail_msg("no capability %#x", id);
	return 0;
}

static void test_virtio_msix(void **state)
{
	static const struct dev_ops *const ops[] = { &virtio_rng_device };
	char path[] = "/tmp/phyllo-test-rng-XXXXXX";
	uint8_t bytes[64], got[16];
	struct guest_driver gd;
	struct test_ctx t;
	struct dev_registry r;
	unsigned int slot;
	uint8_t msix;
	uint32_t id, len;
	uint64_t common = BAR_GPA, buf;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	for (unsigned int i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(write(fd, bytes, sizeof(bytes)), sizeof(bytes));
	close(fd);
	test_ctx_init(&t, RAM);
	free(t.cfg.rng_src);
	t.cfg.rng_src = strdup(path);
	realize(&t, &r, ops, 1);

	slot = test_pci_find(&t, 0x10441af4); /* 1af4:1044, modern virtio-rng */
	/* BAR0 (64-bit) where we want it, memory decoding and bus mastering on. */
	test_mmio_write(&t, TEST_ECAM(&t, slot, 0x10), (uint32_t)BAR_GPA, 4);
	test_mmio_write(&t, TEST_ECAM(&t, slot, 0x14), (uint32_t)(BAR_GPA >> 32), 4);
	test_mmio_write(&t, TEST_ECAM(&t, slot, 0x04), 0x0006, 2);
	/* MSI-X table entry 1: an address and data, unmasked; then enable. */
	test_mmio_write(&t, BAR_GPA + 0x4000 + 16 + 0, 0xfee00000u, 4);
	test_mmio_write(&t, BAR_GPA + 0x4000 + 16 + 4, 0, 4);
	test_mmio_write(&t, BAR_GPA + 0x4000 + 16 + 8, 0x4041, 4);
	test_mmio_write(&t, BAR_GPA + 0x4000 + 16 + 12, 0, 4);
	msix = find_cap(&t, slot, 0x11);
	test_mmio_write(&t, TEST_ECAM(&t, slot, msix + 2), 0x8000, 2);

	/* Driver: ACKNOWLEDGE | DRIVER, VERSION_1, FEATURES_OK. */
	test_mmio_write(&t, common + 0x14, 0x03, 1);
	test_mmio_write(&t, common + 0x08, 1, 4);
	test_mmio_write(&t, common + 0x0c, 1, 4); /* bit 32: VERSION_1 */
	test_mmio_write(&t, common + 0x14, 0x0b, 1);
	assert_int_equal(test_mmio_read(&t, common + 0x14, 1) & 0x08, 0x08);
	/* Queue 0: 8 entries in guest RAM, vector 1, enabled; DRIVER_OK. */
	gd_layout(&gd, &t.mem, 8, 0x10000);
	test_mmio_write(&t, common + 0x16, 0, 2);
	test_mmio_write(&t, common + 0x18, 8, 2);
	test_mmio_write(&t, common + 0x1a, 1, 2);
	assert_int_equal(test_mmio_read(&t, common + 0x1a, 2), 1);
	test_mmio_write(&t, common + 0x20, (uint32_t)gd.desc_gpa, 4);
	test_mmio_write(&t, common + 0x24, 0, 4);
	test_mmio_write(&t, common + 0x28, (uint32_t)gd.avail_gpa, 4);
	test_mmio_write(&t, common + 0x2c, 0, 4);
	test_mmio_write(&t, common + 0x30, (uint32_t)gd.used_gpa, 4);
	test_mmio_write(&t, common + 0x34, 0, 4);
	test_mmio_write(&t, common + 0x1c, 1, 2);
	test_mmio_write(&t, common + 0x14, 0x0f, 1);
	/* The vector's route is the programmed message. */
	{
		uint32_t gsi;
		bool found = false;

		for (gsi = IRQ_NR_LEGACY_GSI; gsi < t.irq.next_gsi; gsi++)
			if (t.irq.msi[gsi].addr == 0xfee00000u && t.irq.msi[gsi].data == 0x4041) {
				found = true;
				break;
			}
		assert_true(found);
		/* A 16-byte buffer for the device; the kick (BAR0 + notify). */
		buf = gd_end(&gd);
		gd_set_desc(&gd, 0, buf, sizeof(got), 2 /* WRITE */, 0);
		gd_publish(&gd, 0);
		test_mmio_write(&t, BAR_GPA + 0x3000, 0, 2);
		test_loop_drain(&t);
		assert_true(gd_get_used(&gd, &id, &len));
		assert_int_equal(id, 0);
		assert_int_equal(len, sizeof(got));
		memcpy(got, gd_ptr(&gd, buf, sizeof(got)), sizeof(got));
		assert_memory_equal(got, bytes, sizeof(got));
		/* Exactly one interrupt, on that vector. */
		assert_int_equal(test_msi_fired(&t, gsi), 1);

		/* Masked: no interrupt, the pending bit instead; unmasked: one. */
		test_mmio_write(&t, BAR_GPA + 0x4000 + 16 + 12, 1, 4);
		gd_set_desc(&gd, 1, buf, sizeof(got), 2, 0);
		gd_publish(&gd, 1);
		test_mmio_write(&t, BAR_GPA + 0x3000, 0, 2);
		test_loop_drain(&t);
		assert_true(gd_get_used(&gd, &id, &len));
		assert_int_equal(test_msi_fired(&t, gsi), 0);
		assert_int_equal(test_mmio_read(&t, BAR_GPA + 0x5000, 4) & 0x2, 0x2);
		test_mmio_write(&t, BAR_GPA + 0x4000 + 16 + 12, 0, 4);
		assert_int_equal(test_msi_fired(&t, gsi), 1);
		assert_int_equal(test_mmio_read(&t, BAR_GPA + 0x5000, 4) & 0x2, 0);
	}
	dev_registry_unrealize(&r);
	test_ctx_fini(&t);
	unlink(path);
}

/* --- the registry: one instance per disk ------------------------------------ */

/* --- virtio-input: the keyboard and the tablet, driven as Linux does ------- */

/* The config space for select/subsel: its size, and the payload in u. */
static unsigned int input_cfg(struct test_ctx *t, uint64_t bar, uint8_t sel, uint8_t sub,
			      uint8_t *u)
{
	test_mmio_write(t, bar + 0x2000, sel, 1);
	test_mmio_write(t, bar + 0x2001, sub, 1);
	for (unsigned int i = 0; i < 128; i++)
		u[i] = (uint8_t)test_mmio_read(t, bar + 0x2008 + i, 1);
	return test_mmio_read(t, bar + 0x2002, 1);
}

/* Post n 8-byte event buffers at buf; returns how many came back, their
 * events in ev[]. */
static unsigned int input_events(struct test_ctx *t, struct guest_driver *gd, uint64_t bar,
				 uint64_t buf, unsigned int n, uint16_t *first, uint16_t ev[][4])
{
	unsigned int got = 0;
	uint32_t id, len;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((*first + i) % 8);

		gd_set_desc(gd, d, buf + 8 * d, 8, 2, 0);
		gd_publish(gd, d);
	}
	*first = (uint16_t)(*first + n);
	test_mmio_write(t, bar + 0x3000, 0, 2);
	test_loop_drain(t);
	while (gd_get_used(gd, &id, &len)) {
		assert_int_equal(len, 8);
		memcpy(ev[got++], gd_ptr(gd, buf + 8 * id, 8), 8);
	}
	return got;
}

static void test_virtio_input(void **state)
{
	static const struct dev_ops *const ops[] = { &i8042_device, &virtio_input_device };
	struct guest_driver kq[2], tq[2];
	struct test_ctx t;
	struct dev_registry r;
	unsigned int kslot, tslot;
	uint8_t u[128];
	uint16_t ev[8][4], kfirst = 0, tfirst = 0;
	const uint64_t kbar = 0xc0000000ull, tbar = 0xc0100000ull;
	const uint64_t kbuf = 0x40000, tbuf = 0x41000;

	(void)state;
	test_ctx_init(&t, RAM);
	t.cfg.display.device = DISPLAY_DEVICE_BOCHS; /* a display brings them */
	realize(&t, &r, ops, 2);
	assert_int_equal(r.nr, 3);
	kslot = test_pci_find(&t, 0x10521af4); /* 1af4:1052, virtio-input */
	tslot = kslot + 1;
	assert_int_equal(test_mmio_read(&t, TEST_ECAM(&t, tslot, 0), 4), 0x10521af4);
	/* Before the driver is up, the PS/2 keyboard gets the keys. */
	test_outb(&t, 0x64, 0x60);
	test_outb(&t, 0x60, 0x47);
	input_key(&t.input, KEY_A, true);
	EXPECT(&t, 0x1e);
	assert_int_equal(input_pointer(&t.input, 1, 2, 0, 0, 0), -ENODEV);

	test_virtio_up(&t, kslot, kbar, kq, 2, 0x10000);
	test_virtio_up(&t, tslot, tbar, tq, 2, 0x20000);
	/* What Linux's virtio_input reads. */
	assert_int_equal(input_cfg(&t, kbar, 0x01, 0, u), strlen("phyllome virtio keyboard"));
	assert_memory_equal(u, "phyllome virtio keyboard", 24);
	assert_int_equal(input_cfg(&t, kbar, 0x03, 0, u), 8);
	assert_int_equal(u[0] | u[1] << 8, BUS_VIRTUAL);
	assert_true(input_cfg(&t, kbar, 0x11, EV_KEY, u) >= KEY_MEDIA / 8);
	assert_true(u[KEY_A / 8] & (1 << (KEY_A % 8)));
	assert_int_equal(input_cfg(&t, kbar, 0x11, EV_ABS, u), 0);
	assert_int_equal(input_cfg(&t, kbar, 0x11, EV_REP, u), 1);
	assert_int_equal(input_cfg(&t, tbar, 0x11, EV_ABS, u), 1);
	assert_int_equal(u[0], 0x03); /* ABS_X, ABS_Y */
	assert_int_equal(input_cfg(&t, tbar, 0x12, ABS_X, u), 20);
	assert_int_equal(u[4] | u[5] << 8, INPUT_ABS_MAX); /* max */
	assert_int_equal(input_cfg(&t, tbar, 0x11, EV_KEY, u), BTN_EXTRA / 8 + 1);
	assert_true(u[BTN_LEFT / 8] & (1 << (BTN_LEFT % 8)));
	assert_int_equal(input_cfg(&t, tbar, 0x7f, 0, u), 0); /* unknown: size 0 */
	test_mmio_write(&t, kbar + 0x2002, 99, 1); /* read-only */
	assert_int_equal(input_cfg(&t, kbar, 0x00, 0, u), 0);

	/* The driver is up: keys go to the virtio keyboard, as events. */
	input_key(&t.input, KEY_A, false);
	input_key(&t.input, KEY_B, true);
	assert_int_equal(kbd_read(&t), -1); /* not PS/2 any more */
	assert_int_equal(input_events(&t, &kq[0], kbar, kbuf, 4, &kfirst, ev), 4);
	assert_int_equal(ev[0][0], EV_KEY);
	assert_int_equal(ev[0][1], KEY_A);
	assert_int_equal(ev[0][2], 0);
	assert_int_equal(ev[1][0], EV_SYN);
	assert_int_equal(ev[2][1], KEY_B);
	assert_int_equal(ev[2][2], 1);
	/* The tablet: position, a click, a wheel click, each report synced. */
	assert_int_equal(input_pointer(&t.input, 1000, 40000, 0, 0, 0), 0); /* y clamped */
	input_pointer(&t.input, 1000, 2000, INPUT_BTN_LEFT, 0, 0);
	input_pointer(&t.input, 1000, 2000, 0, -1, 0);
	assert_int_equal(input_events(&t, &tq[0], tbar, tbuf, 8, &tfirst, ev), 8);
	assert_int_equal(ev[0][0], EV_ABS);
	assert_int_equal(ev[0][1], ABS_X);
	assert_int_equal(ev[0][2], 1000);
	assert_int_equal(ev[1][1], ABS_Y);
	assert_int_equal(ev[1][2], INPUT_ABS_MAX);
	assert_int_equal(ev[2][0], EV_SYN);
	assert_int_equal(ev[5][0], EV_KEY);
	assert_int_equal(ev[5][1], BTN_LEFT);
	assert_int_equal(ev[5][2], 1);
	assert_int_equal(ev[6][0], EV_SYN);
	/* The rest waits for buffers: the release and the wheel. */
	assert_int_equal(input_events(&t, &tq[0], tbar, tbuf, 8, &tfirst, ev), 4);
	assert_int_equal(ev[0][1], ABS_Y);
	assert_int_equal(ev[1][1], BTN_LEFT);
	assert_int_equal(ev[1][2], 0);
	assert_int_equal(ev[2][0], EV_REL);
	assert_int_equal(ev[2][1], REL_WHEEL);
	assert_int_equal((int16_t)ev[2][2], -1);
	assert_int_equal(ev[3][0], EV_SYN);
	/* A reset: the driver is gone, PS/2 has the keys again. */
	test_mmio_write(&t, kbar + 0x14, 0, 1);
	input_key(&t.input, KEY_C, true);
	EXPECT(&t, 0x2e);
	dev_registry_unrealize(&r);
	/* Headless: no virtio-input at all. */
	t.cfg.display.device = DISPLAY_DEVICE_NONE;
	realize(&t, &r, ops, 2);
	assert_int_equal(r.nr, 1);
	dev_registry_unrealize(&r);
	test_ctx_fini(&t);
}

static void test_registry_instances(void **state)
{
	static const struct dev_ops *const ops[] = { &serial_device, &virtio_blk_device };
	char a[] = "/tmp/phyllo-test-disk-XXXXXX", b[] = "/tmp/phyllo-test-disk-XXXXXX";
	struct test_ctx t;
	struct dev_registry r;
	char err[256] = "";
	int fa = mkstemp(a), fb = mkstemp(b);

	(void)state;
	assert_true(fa >= 0 && fb >= 0);
	assert_int_equal(ftruncate(fa, 1 << 20), 0);
	assert_int_equal(ftruncate(fb, 1 << 20), 0);
	close(fa);
	close(fb);
	test_ctx_init(&t, RAM);
	for (int i = 0; i < 2; i++) {
		disk_config_init(&t.cfg.disks[i]);
		t.cfg.disks[i].path = strdup(i ? b : a);
		t.cfg.disks[i].image_type = 1; /* raw */
	}
	t.cfg.nr_disks = 2;
	realize(&t, &r, ops, 2);
	/* The serial port and two disks, each its own instance, in order. */
	assert_int_equal(r.nr, 3);
	assert_ptr_equal(r.inst[1].ops, &virtio_blk_device);
	assert_int_equal(r.inst[1].index, 0);
	assert_int_equal(r.inst[2].index, 1);
	assert_non_null(dev_registry_find(&r, &virtio_blk_device, 1));
	assert_null(dev_registry_find(&r, &virtio_blk_device, 2));
	assert_int_equal(test_pci_find(&t, 0x10421af4), 1); /* in table order */
	dev_registry_unrealize(&r);
	assert_int_equal(r.nr, 0);
	dev_registry_unrealize(&r); /* idempotent */

	/* A second disk that cannot open: the first is unwound, the message
	 * names the file. */
	free(t.cfg.disks[1].path);
	t.cfg.disks[1].path = strdup("/nonexistent/disk.img");
	assert_true(dev_registry_realize(&r, &t.ctx, &t.cfg, ops, 2, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/disk.img"));
	assert_int_equal(r.nr, 0);
	test_ctx_fini(&t);
	unlink(a);
	unlink(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_thre),
		cmocka_unit_test(test_rtc_interrupts),
		cmocka_unit_test(test_ged_power_button),
		cmocka_unit_test(test_exits),
		cmocka_unit_test(test_ps2_keyboard),
		cmocka_unit_test(test_virtio_input),
		cmocka_unit_test(test_virtio_msix),
		cmocka_unit_test(test_registry_instances),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
