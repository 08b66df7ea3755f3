// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device state for snapshots, without KVM: what save() writes must bring a
 * freshly created device to the same state through load(), and damaged
 * sections must be refused with a message naming them.
 *
 * - virtqueue indices (virtq_save_state/virtq_load_state): a queue driven
 *   by the guest driver model is saved mid-stream; RAM is copied; the
 *   original goes on, then RAM is put back and a fresh queue loaded from
 *   the state goes on the same way: pops, used ring and notification
 *   decisions must be identical, and loading must not write guest RAM;
 * - the 16550A, i8042, CMOS and GED on a real device context (tests/unit/
 *   dev/test_ctx.h: buses, a recording interrupt chip, no KVM), through a
 *   real snapshot file written and read back with src/snapshot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../virtio/guest_driver.h"
#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "../dev/test_ctx.h"
#include "base/log.h"
#include "dev/devstate.h"
#include "snapshot/snapfile.h"
#include "virtio/virtq.h"

extern const struct dev_ops serial_device, i8042_device, cmos_device, ged_device;

#define RAM_SIZE (1u << 20)
#define RING_BASE 0x1000
#define BUF 0x10000

/* --- a snapshot file in a temporary directory ----------------------------- */

struct snapdir {
	char dir[64];
	char path[96];
};

static void snapdir_make(struct snapdir *d)
{
	strcpy(d->dir, "/tmp/phyllo-test-devstate-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/%s", d->dir, SNAP_STATE_FILE);
}

static void snapdir_remove(struct snapdir *d)
{
	unlink(d->path);
	rmdir(d->dir);
}

/* --- virtqueue indices ------------------------------------------------------ */

static struct guest_mem mem;

/* One step of traffic: what a device sees and does, recorded for comparison. */
struct trace {
	int pops[80];
	uint16_t heads[80];
	bool notify[80];
	unsigned int n;
};

static void publish(struct guest_driver *gd, uint16_t desc, uint32_t len)
{
	gd_set_desc(gd, desc, BUF + desc * 0x100u, len, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(gd, desc);
}

/* Publish, pop, push and ask about notifications, recording each answer. */
static void run_traffic(struct guest_driver *gd, struct virtq *q, struct trace *t,
			uint16_t first, unsigned int rounds)
{
	struct virtq_elem *e = malloc(sizeof(*e));

	assert_non_null(e);
	for (unsigned int r = 0; r < rounds; r++) {
		uint16_t d = (uint16_t)((first + r) % gd->size);

		publish(gd, d, 64 + r);
		gd_set_used_event(gd, (uint16_t)(gd_used_idx(gd) + (r % 3)));
		t->pops[t->n] = virtq_pop(q, e);
		t->heads[t->n] = t->pops[t->n] == 1 ? e->head : 0xffff;
		if (t->pops[t->n] == 1)
			virtq_push(q, e, r);
		t->notify[t->n] = virtq_should_notify(q);
		t->n++;
	}
	/* Drain: pop until the ring is empty (which re-arms kicks). */
	for (;;) {
		t->pops[t->n] = virtq_pop(q, e);
		t->heads[t->n] = t->pops[t->n] == 1 ? e->head : 0xffff;
		if (t->pops[t->n] == 1)
			virtq_push(q, e, 1);
		t->notify[t->n] = virtq_should_notify(q);
		if (t->pops[t->n++] != 1)
			break;
	}
	free(e);
}

static void test_virtq_round_trip(void **state)
{
	struct guest_driver gd, gd_copy;
	struct virtq *q = calloc(1, sizeof(*q)), *q2 = calloc(1, sizeof(*q2));
	struct virtq_elem *e = malloc(sizeof(*e));
	struct virtq_state st, st2;
	struct trace *ta = calloc(1, sizeof(*ta)), *tb = calloc(1, sizeof(*tb));
	uint8_t *ram, *copy = malloc(RAM_SIZE);

	(void)state;
	assert_non_null(q);
	assert_non_null(q2);
	assert_non_null(e);
	assert_non_null(ta);
	assert_non_null(tb);
	assert_non_null(copy);
	gd_layout(&gd, &mem, 16, RING_BASE);
	ram = gd_ptr(&gd, 0, RAM_SIZE);
	assert_int_equal(gd_init_virtq(&gd, q, true, true), 0);

	/* Wrap the 16-bit indices on the way: start near 65535. */
	gd.avail_idx = 65530;
	gd.last_used = 65530;
	gd_set_avail_idx(&gd, 65530);
	virtq_set_indices(q, 65530, 65530);

	/* Some traffic, and one element in flight: save must refuse. */
	publish(&gd, 0, 10);
	publish(&gd, 1, 10);
	assert_int_equal(virtq_pop(q, e), 1);
	assert_int_equal(virtq_save_state(q, &st), -EBUSY);
	virtq_push(q, e, 5);
	virtq_should_notify(q);
	/* One popped and pushed but not yet signalled, one still in the ring. */
	assert_int_equal(virtq_pop(q, e), 1);
	virtq_push(q, e, 7);
	publish(&gd, 2, 10);
	assert_int_equal(virtq_save_state(q, &st), 0);
	assert_int_equal(st.ready, 1);
	assert_int_equal(st.unsignalled, 1);
	assert_int_equal(st.size, 16);

	/* The snapshot: RAM and driver state. */
	memcpy(copy, ram, RAM_SIZE);
	gd_copy = gd;

	/* A: the original goes on. */
	ta->notify[ta->n++] = virtq_should_notify(q);
	run_traffic(&gd, q, ta, 3, 40);
	assert_int_equal(virtq_save_state(q, &st2), 0);

	/* B: RAM back, a fresh queue from the state, the same traffic. */
	memcpy(ram, copy, RAM_SIZE);
	gd = gd_copy;
	memset(q2, 0xa5, sizeof(*q2));
	assert_int_equal(virtq_load_state(q2, &mem, "test.q0", &st), 0);
	assert_memory_equal(ram, copy, RAM_SIZE); /* loading writes no guest RAM */
	tb->notify[tb->n++] = virtq_should_notify(q2);
	run_traffic(&gd, q2, tb, 3, 40);

	/* The traffic exercised both answers of the notification decision. */
	assert_non_null(memchr(ta->notify, true, ta->n));
	assert_non_null(memchr(ta->notify, false, ta->n));
	assert_int_equal(ta->n, tb->n);
	assert_memory_equal(ta->pops, tb->pops, sizeof(ta->pops));
	assert_memory_equal(ta->heads, tb->heads, sizeof(ta->heads));
	assert_memory_equal(ta->notify, tb->notify, sizeof(ta->notify));
	/* Same used ring, same indices in the end. */
	assert_int_equal(virtq_save_state(q2, &st), 0);
	assert_memory_equal(&st, &st2, sizeof(st));
	assert_int_equal(gd_used_idx(&gd), st.used_idx);

	/* A not-ready state leaves a reset queue. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(virtq_load_state(q2, &mem, "test.q0", &st), 0);
	assert_false(q2->ready);
	assert_int_equal(virtq_pop(q2, e), 0);

	free(copy);
	free(ta);
	free(tb);
	free(e);
	free(q);
	free(q2);
}

static void test_virtq_bad_state(void **state)
{
	struct guest_driver gd;
	struct virtq *q = calloc(1, sizeof(*q));
	struct virtq_state st, bad;

	(void)state;
	assert_non_null(q);
	gd_layout(&gd, &mem, 8, RING_BASE);
	assert_int_equal(gd_init_virtq(&gd, q, false, false), 0);
	assert_int_equal(virtq_save_state(q, &st), 0);

	bad = st;
	bad.ready = 2;
	assert_int_equal(virtq_load_state(q, &mem, "bad", &bad), -EINVAL);
	assert_false(q->ready);
	bad = st;
	bad.size = 12;
	assert_int_equal(virtq_load_state(q, &mem, "bad", &bad), -EINVAL);
	bad = st;
	bad.desc_gpa += 8;
	assert_int_equal(virtq_load_state(q, &mem, "bad", &bad), -EINVAL);
	bad = st;
	bad.used_gpa = RAM_SIZE - 4;
	assert_int_equal(virtq_load_state(q, &mem, "bad", &bad), -EFAULT);
	bad = st;
	bad.shadow_avail = (uint16_t)(bad.last_avail + 9);
	assert_int_equal(virtq_load_state(q, &mem, "bad", &bad), -EINVAL);
	bad = st;
	bad.used_flags = 0x8000;
	assert_int_equal(virtq_load_state(q, &mem, "bad", &bad), -EINVAL);
	assert_false(q->ready);
	assert_int_equal(virtq_load_state(q, &mem, "good", &st), 0);
	assert_true(q->ready);
	free(q);
}

/* --- legacy devices on a fake VM ------------------------------------------- */

struct fake_vm {
	struct test_ctx t;
};

static struct fake_vm *fake_vm_new(void)
{
	struct fake_vm *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	test_ctx_init(&f->t, 1u << 20);
	return f;
}

static void fake_vm_free(struct fake_vm *f)
{
	test_ctx_fini(&f->t);
	free(f);
}

static void *dev_create(struct fake_vm *f, const struct dev_ops *ops)
{
	const void *slices[1] = { &f->t.cfg };
	char err[256] = "";
	void *s = NULL;

	if (ops->instances)
		assert_int_equal(ops->instances(&f->t.cfg, slices, 1), 1);
	assert_int_equal(ops->realize(&f->t.ctx, slices[0], 0, &s, err, sizeof(err)), 0);
	assert_non_null(s);
	return s;
}

static uint8_t inb(struct fake_vm *f, uint16_t port)
{
	return test_inb(&f->t, port);
}

static void outb(struct fake_vm *f, uint16_t port, uint8_t v)
{
	test_outb(&f->t, port, v);
}

static uint32_t ged_read(struct fake_vm *f)
{
	return test_mmio_read(&f->t, GED_MMIO_ADDR, 4);
}

/* Save the four devices of a into a snapshot file, load them into b. */
static void save_and_load(struct fake_vm *a, void *const sa[4], struct fake_vm *b,
			  void *const sb[4])
{
	const struct dev_ops *ops[4] = { &serial_device, &i8042_device, &cmos_device, &ged_device };
	struct snapdir d;
	struct snap_writer w;
	struct snap_reader r;
	char err[256] = "";

	(void)a;
	(void)b;
	snapdir_make(&d);
	assert_int_equal(snap_writer_open(&w, d.dir, SNAP_STATE_FILE, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ops[i]->save(sa[i], &w, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
	assert_int_equal(snap_reader_open(&r, d.path, 0, err, sizeof(err)), 0);
	assert_non_null(snap_reader_find(&r, "dev.serial"));
	assert_non_null(snap_reader_find(&r, "dev.i8042"));
	assert_non_null(snap_reader_find(&r, "dev.cmos"));
	assert_non_null(snap_reader_find(&r, "dev.ged"));
	for (int i = 0; i < 4; i++) {
		if (ops[i]->load(sb[i], &r, err, sizeof(err)) != 0)
			fail_msg("load %s: %s", ops[i]->name, err);
	}
	snap_reader_close(&r);
	snapdir_remove(&d);
}

static void destroy_all(void *const s[4])
{
	serial_device.unrealize(s[0]);
	i8042_device.unrealize(s[1]);
	cmos_device.unrealize(s[2]);
	ged_device.unrealize(s[3]);
}

static void create_all(struct fake_vm *f, void *s[4])
{
	s[0] = dev_create(f, &serial_device);
	s[1] = dev_create(f, &i8042_device);
	s[2] = dev_create(f, &cmos_device);
	s[3] = dev_create(f, &ged_device);
}

#define COM1 0x3f8

static void test_legacy_round_trip(void **state)
{
	struct fake_vm *a = fake_vm_new(), *b = fake_vm_new();
	void *sa[4], *sb[4];

	(void)state;
	create_all(a, sa);
	create_all(b, sb);

	/* 16550A: divisor, line settings, scratch, FIFO, THRE interrupt pending. */
	outb(a, COM1 + 3, 0x83);
	outb(a, COM1 + 0, 0x01);
	outb(a, COM1 + 1, 0x00);
	outb(a, COM1 + 3, 0x1b);
	outb(a, COM1 + 2, 0x07);
	outb(a, COM1 + 4, 0x0b);
	outb(a, COM1 + 7, 0x5a);
	outb(a, COM1 + 1, 0x03); /* RDI | THRI: raises THRE */
	/* i8042: a "write command byte" waiting for its data byte. */
	outb(a, 0x64, 0x60);
	/* CMOS: binary mode, a RAM byte, the year, and the index left at 0x20. */
	outb(a, 0x70, 0x0b);
	outb(a, 0x71, 0x06);
	outb(a, 0x70, 0x09);
	outb(a, 0x71, 77);
	outb(a, 0x70, 0x20);
	outb(a, 0x71, 0x77);
	/* GED: a power button press not yet read by the guest. */
	assert_int_equal(ged_device.platform_event(sa[3], PLATFORM_POWER_BUTTON), 0);

	save_and_load(a, sa, b, sb);

	/* The THRE interrupt is pending exactly once. */
	assert_int_equal(inb(b, COM1 + 2), 0xc2);
	assert_int_equal(inb(b, COM1 + 2), 0xc1);
	assert_int_equal(inb(b, COM1 + 3), 0x1b);
	assert_int_equal(inb(b, COM1 + 4), 0x0b);
	assert_int_equal(inb(b, COM1 + 7), 0x5a);
	assert_int_equal(inb(b, COM1 + 1), 0x03);
	assert_int_equal(inb(b, COM1 + 5), 0x60); /* THRE | TEMT, no data */
	assert_int_equal(inb(b, COM1 + 6), 0xb0);
	outb(b, COM1 + 3, 0x9b);
	assert_int_equal(inb(b, COM1 + 0), 0x01);
	assert_int_equal(inb(b, COM1 + 1), 0x00);

	/* i8042: the data byte completes the saved command. */
	assert_int_equal(inb(b, 0x64) & 0x0c, 0x0c); /* SYS | CMD */
	outb(b, 0x60, 0x47);
	outb(b, 0x64, 0x20);
	assert_int_equal(inb(b, 0x60), 0x47);

	/* CMOS: index kept, RAM and the clock's offset restored. */
	assert_int_equal(inb(b, 0x71), 0x77);
	outb(b, 0x70, 0x0b);
	assert_int_equal(inb(b, 0x71), 0x06);
	outb(b, 0x70, 0x09);
	assert_int_equal(inb(b, 0x71), 77);

	/* GED: the pending event reads once. */
	assert_int_equal(ged_read(b), ACPI_GED_EVENT_POWER_BUTTON);
	assert_int_equal(ged_read(b), 0);

	destroy_all(sa);
	destroy_all(sb);
	fake_vm_free(a);
	fake_vm_free(b);
}

/* The clock's year as the guest reads it, in binary mode. */
static int cmos_year(struct fake_vm *f)
{
	int century;

	outb(f, 0x70, 0x32);
	century = inb(f, 0x71);
	outb(f, 0x70, 0x09);
	return century * 100 + inb(f, 0x71);
}

/*
 * A guest sets the clock as far as the century byte goes, either way (and
 * with bad BCD digits): the time is clamped to years 1900-9999, and the
 * snapshot of it loads.
 */
static void test_rtc_extremes(void **state)
{
	static const struct {
		uint8_t reg_b, century, year;
		int want;
	} cases[] = {
		{ 0x06, 255, 99, 9999 },	/* binary: century 255 */
		{ 0x06, 99, 99, 9999 },
		{ 0x06, 0, 0, 1900 },		/* binary: year 0 */
		{ 0x02, 0x99, 0x99, 9999 },	/* BCD 9999 */
		{ 0x02, 0xff, 0xff, 9999 },	/* not BCD at all */
		{ 0x02, 0x00, 0x00, 1900 },
		{ 0x06, 20, 26, 2026 },		/* an ordinary date stays exact */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_vm *a = fake_vm_new(), *b = fake_vm_new();
		void *sa[4], *sb[4];

		create_all(a, sa);
		create_all(b, sb);
		outb(a, 0x70, 0x0b);
		outb(a, 0x71, cases[i].reg_b);
		outb(a, 0x70, 0x32);
		outb(a, 0x71, cases[i].century);
		outb(a, 0x70, 0x09);
		outb(a, 0x71, cases[i].year);
		/* Read back in binary, whatever the guest used. */
		outb(a, 0x70, 0x0b);
		outb(a, 0x71, 0x06);
		assert_int_equal(cmos_year(a), cases[i].want);
		save_and_load(a, sa, b, sb);
		assert_int_equal(cmos_year(b), cases[i].want);
		destroy_all(sa);
		destroy_all(sb);
		fake_vm_free(a);
		fake_vm_free(b);
	}
}

/* Write sections by hand, then expect load to fail naming the section. */
static void expect_refused(const char *name, const void *data, size_t len, int want_err,
			   const struct dev_ops *ops, void *dev, const char *want_msg)
{
	struct snapdir d;
	struct snap_writer w;
	struct snap_reader r;
	char err[256] = "";
	int ret;

	snapdir_make(&d);
	assert_int_equal(snap_writer_open(&w, d.dir, SNAP_STATE_FILE, err, sizeof(err)), 0);
	if (name)
		assert_int_equal(snap_writer_add(&w, name, data, len, err, sizeof(err)), 0);
	assert_int_equal(snap_writer_finish(&w, err, sizeof(err)), 0);
	assert_int_equal(snap_reader_open(&r, d.path, 0, err, sizeof(err)), 0);
	err[0] = 0;
	ret = ops->load(dev, &r, err, sizeof(err));
	if (ret != want_err)
		fail_msg("%s: load returned %d, want %d (%s)", ops->name, ret, want_err, err);
	if (!strstr(err, want_msg))
		fail_msg("%s: message \"%s\" does not name \"%s\"", ops->name, err, want_msg);
	snap_reader_close(&r);
	snapdir_remove(&d);
}

static void test_damaged_sections(void **state)
{
	struct fake_vm *f = fake_vm_new();
	void *s[4];
	uint8_t blob[64];
	struct snap_blob_header h;

	(void)state;
	create_all(f, s);

	/* Missing. */
	expect_refused(NULL, NULL, 0, -ENOENT, &serial_device, s[0], "dev.serial");
	expect_refused(NULL, NULL, 0, -ENOENT, &ged_device, s[3], "dev.ged");
	/* Too short for a header. */
	memset(blob, 0, sizeof(blob));
	expect_refused("dev.serial", blob, 8, -EBADMSG, &serial_device, s[0], "dev.serial");
	/* Another device's state. */
	snap_blob_header_init(&h, "GED ", 1, 24, 0);
	memcpy(blob, &h, sizeof(h));
	expect_refused("dev.serial", blob, 24, -EBADMSG, &serial_device, s[0], "dev.serial");
	/* A newer version. */
	snap_blob_header_init(&h, "UART", 2, 32, 0);
	memcpy(blob, &h, sizeof(h));
	expect_refused("dev.serial", blob, 32, -ENOTSUP, &serial_device, s[0], "dev.serial");
	/* Cut short, the header's size no longer matching. */
	snap_blob_header_init(&h, "UART", 1, 32, 0);
	memcpy(blob, &h, sizeof(h));
	expect_refused("dev.serial", blob, 28, -EBADMSG, &serial_device, s[0], "dev.serial");
	/* Header and length agree but the size is not this version's. */
	snap_blob_header_init(&h, "KBDC", 1, 20, 0);
	memcpy(blob, &h, sizeof(h));
	expect_refused("dev.i8042", blob, 20, -EBADMSG, &i8042_device, s[1], "dev.i8042");
	/* Well-framed, impossible values. */
	snap_blob_header_init(&h, "UART", 1, 32, 0);
	memset(blob, 0, sizeof(blob));
	memcpy(blob, &h, sizeof(h));
	blob[16] = 0xf0; /* IER high bits */
	expect_refused("dev.serial", blob, 32, -EBADMSG, &serial_device, s[0], "dev.serial");
	snap_blob_header_init(&h, "CMOS", 1, 160, 0);
	{
		uint8_t big[160] = { 0 };

		memcpy(big, &h, sizeof(h));
		big[24] = 0x80; /* index with the NMI bit */
		expect_refused("dev.cmos", big, sizeof(big), -EBADMSG, &cmos_device, s[2],
			       "dev.cmos");
	}
	snap_blob_header_init(&h, "KBDC", 1, 24, 0);
	memset(blob, 0, sizeof(blob));
	memcpy(blob, &h, sizeof(h));
	blob[19] = 0x99; /* pending command that takes no data byte */
	expect_refused("dev.i8042", blob, 24, -EBADMSG, &i8042_device, s[1], "dev.i8042");

	destroy_all(s);
	fake_vm_free(f);
}

static int group_setup(void **state)
{
	(void)state;
	return guest_mem_init(&mem, RAM_SIZE);
}

static int group_teardown(void **state)
{
	(void)state;
	guest_mem_free(&mem);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtq_round_trip),
		cmocka_unit_test(test_virtq_bad_state),
		cmocka_unit_test(test_legacy_round_trip),
		cmocka_unit_test(test_damaged_sections),
		cmocka_unit_test(test_rtc_extremes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
