// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Tests for the AML encoder (dev/aml.c) and the ACPI tables (acpi.c).
 *
 * The encoder is checked byte for byte against the encodings in the ACPI
 * spec. The tables are built for several layouts, with and without the
 * board's devices (realized on a test device context, each writing its own
 * DSDT objects), and then read back the way a guest does: RSDP -> XSDT ->
 * each table, every pointer inside the buffer, every checksum zero. Finally iasl (acpica-tools) disassembles each table
 * and compiles the disassembly again: the same tool the ACPI community uses
 * to find broken tables, so it catches what our own reader would share our
 * misreadings of. iasl is required; a missing iasl fails the test.
 *
 * Set PHYLLO_ACPI_DUMP_DIR=/some/dir to keep the tables and iasl's output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "base/log.h"
#include "dev/aml.h"
#include "dev/test_ctx.h"

extern const struct dev_ops serial_device, cmos_device, i8042_device, pci_host_device,
	mbrd_device, ged_device;

#define TABLE_GPA 0xe0000
#define HIGH_GPA 0x100000000ull	/* above 4 GiB: no 32-bit DSDT pointer */

static uint8_t tables[64 * 1024];

/* ---- helpers ---- */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void expect_aml(const struct aml_buf *b, const uint8_t *want,
		       size_t n)
{
	size_t i;

	assert_int_equal(aml_finish(b), n);
	for (i = 0; i < n; i++) {
		if (b->data[i] != want[i])
			fail_msg("byte %zu: got 0x%02x, want 0x%02x", i,
				 b->data[i], want[i]);
	}
}

#define EXPECT_AML(b, ...)                                                   \
	do {                                                                 \
		static const uint8_t want_[] = { __VA_ARGS__ };              \
		expect_aml(b, want_, sizeof(want_));                         \
	} while (0)

static uint8_t scratch[8 * 1024 * 1024];

static struct aml_buf *fresh(void)
{
	static struct aml_buf b;

	aml_init(&b, scratch, sizeof(scratch));
	return &b;
}

/* ---- AML encodings ---- */

static void test_pkglength_values(void **state)
{
	static const struct {
		size_t body;
		int n;
		uint8_t enc[4];
	} cases[] = {
		{ 0, 1, { 0x01 } },
		{ 62, 1, { 0x3f } },			/* 63: last 1-byte */
		{ 63, 2, { 0x41, 0x04 } },		/* 65 */
		{ 4093, 2, { 0x4f, 0xff } },		/* 4095: last 2-byte */
		{ 4094, 3, { 0x81, 0x00, 0x01 } },	/* 4097 */
		{ 0xffffc, 3, { 0x8f, 0xff, 0xff } },	/* 0xfffff */
		{ 0xffffd, 4, { 0xc1, 0x00, 0x00, 0x01 } },
		{ 0xffffffb, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(aml_pkglength_encode(out, cases[i].body),
				 cases[i].n);
		assert_memory_equal(out, cases[i].enc, (size_t)cases[i].n);
	}
	assert_int_equal(aml_pkglength_encode(out, 0xffffffc), -E2BIG);
}

/*
 * The PkgLength is inserted in front of a finished body: check the body is
 * shifted intact across the 1/2 and 2/3 byte boundaries, and that an outer
 * object counts the inner PkgLength's bytes.
 */
static void test_pkglength_insertion(void **state)
{
	static const size_t sizes[] = { 61, 62, 63, 64, 4092, 4093, 4094 };
	uint8_t filler[4100], want[4];
	struct aml_buf *b;
	size_t i, j;
	int n;

	(void)state;
	for (j = 0; j < sizeof(filler); j++)
		filler[j] = (uint8_t)(j * 7 + 3);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		b = fresh();
		aml_if_begin(b);
		aml_bytes(b, filler, sizes[i]);
		aml_end(b);
		n = aml_pkglength_encode(want, sizes[i]);
		assert_int_equal(aml_finish(b), 1 + n + sizes[i]);
		assert_int_equal(b->data[0], 0xa0);
		assert_memory_equal(b->data + 1, want, (size_t)n);
		assert_memory_equal(b->data + 1 + n, filler, sizes[i]);
	}

	/* If { If { 100 bytes } }: inner 1+2+100 = 103, outer PkgLength 105 */
	b = fresh();
	aml_if_begin(b);
	aml_if_begin(b);
	aml_bytes(b, filler, 100);
	aml_end(b);
	aml_end(b);
	assert_int_equal(aml_finish(b), 1 + 2 + 103);
	assert_int_equal(b->data[1], 0x40 | (105 & 0xf));
	assert_int_equal(b->data[2], 105 >> 4);
	assert_int_equal(b->data[3], 0xa0);
	assert_int_equal(b->data[4], 0x40 | (102 & 0xf));
	assert_int_equal(b->data[5], 102 >> 4);
}

static void test_integers(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t enc[9];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 2, 2, { 0x0a, 0x02 } },
		{ 0xff, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0xffff, 3, { 0x0b, 0xff, 0xff } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0xfed00000, 5, { 0x0c, 0x00, 0x00, 0xd0, 0xfe } },
		{ 0xffffffff, 5, { 0x0c, 0xff, 0xff, 0xff, 0xff } },
		{ 0x100000000ull, 9, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 } },
		{ 0xfffffffffffffffeull, 9,
		  { 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ UINT64_MAX, 1, { 0xff } },			/* OnesOp */
	};
	struct aml_buf *b;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		b = fresh();
		aml_integer(b, cases[i].v);
		expect_aml(b, cases[i].enc, cases[i].n);
	}
}

static void test_eisaid(void **state)
{
	static const char *const bad[] = {
		"pnp0501", "PNP050", "PNP05011", "PNP05G1", "PNP050a", "P1P0501",
	};
	uint32_t v;
	size_t i;

	(void)state;
	assert_int_equal(aml_eisaid_value("PNP0501", &v), 0);
	assert_int_equal(v, 0x0105d041);
	assert_int_equal(aml_eisaid_value("PNP0A03", &v), 0);
	assert_int_equal(v, 0x030ad041);
	assert_int_equal(aml_eisaid_value("PNP0A08", &v), 0);
	assert_int_equal(v, 0x080ad041);
	assert_int_equal(aml_eisaid_value("PNP0C0C", &v), 0);
	assert_int_equal(v, 0x0c0cd041);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(aml_eisaid_value(bad[i], &v), -EINVAL);
}

/* As an object, an EisaId is always a DWord constant. */
static void test_eisaid_object(void **state)
{
	struct aml_buf *b = fresh();

	(void)state;
	aml_eisaid(b, "PNP0501");
	EXPECT_AML(b, 0x0c, 0x41, 0xd0, 0x05, 0x01);
}

static void test_names(void **state)
{
	static const char *const bad[] = {
		"", "TOOLONG", "1ABC", "a", "_SB..X", "_SB.", ".X", "\\_SB.",
		"AB-C",
	};
	struct aml_buf *b;
	size_t i;

	(void)state;
	b = fresh();
	aml_namestring(b, "_SB");
	EXPECT_AML(b, '_', 'S', 'B', '_');

	b = fresh();
	aml_namestring(b, "\\_SB.PCI0");
	EXPECT_AML(b, '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');

	b = fresh();
	aml_namestring(b, "\\_SB.PCI0.S08");
	EXPECT_AML(b, '\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
		   'S', '0', '8', '_');

	b = fresh();
	aml_namestring(b, "^GED");
	EXPECT_AML(b, '^', 'G', 'E', 'D', '_');

	b = fresh();
	aml_namestring(b, "\\");
	EXPECT_AML(b, '\\', 0x00);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		b = fresh();
		aml_namestring(b, bad[i]);
		if (aml_finish(b) != -EINVAL)
			fail_msg("name \"%s\" was accepted", bad[i]);
	}
}

static void test_strings_uuid(void **state)
{
	struct aml_buf *b;

	(void)state;
	b = fresh();
	aml_name_string(b, "_HID", "ACPI0013");
	EXPECT_AML(b, 0x08, '_', 'H', 'I', 'D', 0x0d, 'A', 'C', 'P', 'I',
		   '0', '0', '1', '3', 0x00);

	b = fresh();
	aml_uuid(b, "33db4d5b-1ff7-401c-9657-7441c03dd766");
	EXPECT_AML(b, 0x11, 0x13, 0x0a, 0x10,
		   0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
		   0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66);

	b = fresh();
	aml_uuid(b, "33db4d5b-1ff7-401c-9657-7441c03dd76");
	assert_int_equal(aml_finish(b), -EINVAL);

	b = fresh();
	aml_string(b, "caf\xc3\xa9");
	assert_int_equal(aml_finish(b), -EINVAL);
}

static void test_objects(void **state)
{
	struct aml_buf *b;

	(void)state;
	/* Device (COM1) { Name (_UID, Zero) } */
	b = fresh();
	aml_device_begin(b, "COM1");
	aml_name_integer(b, "_UID", 0);
	aml_end(b);
	EXPECT_AML(b, 0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1',
		   0x08, '_', 'U', 'I', 'D', 0x00);

	/* Method (_EVT, 1, Serialized) { Return (One) } */
	b = fresh();
	aml_method_begin(b, "_EVT", 1, true);
	aml_return(b);
	aml_integer(b, 1);
	aml_end(b);
	EXPECT_AML(b, 0x14, 0x08, '_', 'E', 'V', 'T', 0x09, 0xa4, 0x01);

	/* Name (_S5_, Package (2) { 5, Zero }) */
	b = fresh();
	aml_name(b, "_S5");
	aml_package_begin(b, 2);
	aml_integer(b, 5);
	aml_integer(b, 0);
	aml_end(b);
	EXPECT_AML(b, 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05,
		   0x00);

	/* Scope (\_SB) { } */
	b = fresh();
	aml_scope_begin(b, "\\_SB");
	aml_end(b);
	EXPECT_AML(b, 0x10, 0x06, '\\', '_', 'S', 'B', '_');

	/* OperationRegion (GREG, SystemMemory, 0xfed00000, 4) + Field */
	b = fresh();
	aml_operation_region(b, "GREG", AML_SYSTEM_MEMORY, 0xfed00000, 4);
	aml_field_begin(b, "GREG", AML_DWORD_ACC, AML_WRITE_AS_ZEROS);
	aml_field_unit(b, "", 64);
	aml_field_unit(b, "GEVT", 32);
	aml_end(b);
	EXPECT_AML(b, 0x5b, 0x80, 'G', 'R', 'E', 'G', 0x00,
		   0x0c, 0x00, 0x00, 0xd0, 0xfe, 0x0a, 0x04,
		   0x5b, 0x81, 0x0e, 'G', 'R', 'E', 'G', 0x43,
		   0x00, 0x40, 0x04, 'G', 'E', 'V', 'T', 0x20);
}

static void test_resources(void **state)
{
	struct aml_buf *b;

	(void)state;
	/* ResourceTemplate () { IO (Decode16, 0x3f8, 0x3f8, 1, 8) IRQNoFlags () {4} } */
	b = fresh();
	aml_resource_template_begin(b);
	aml_io(b, true, 0x3f8, 0x3f8, 1, 8);
	aml_irq_no_flags(b, 4);
	aml_end(b);
	assert_int_equal(aml_finish(b), 17);
	assert_memory_equal(b->data, ((const uint8_t[]){
		0x11, 0x10, 0x0a, 0x0d,
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
		0x22, 0x10, 0x00, 0x79 }), 16);
	/* EndTag checksum: the template's 13 bytes sum to zero. */
	assert_int_equal(sum8(b->data + 4, 13), 0);

	b = fresh();
	aml_resource_template_begin(b);
	aml_interrupt(b, AML_INT_CONSUMER | AML_INT_EDGE, 9);
	aml_memory32_fixed(b, true, 0xb0000000, 0x10000000);
	aml_word_bus_number(b, 0, 0xff);
	aml_word_io(b, 0x1000, 0xffff);
	aml_dword_memory(b, AML_PRODUCER, AML_NON_CACHEABLE, true,
			 0xc0000000, 0xfebfffff);
	aml_qword_memory(b, AML_CONSUMER, AML_CACHEABLE, false,
			 0x100000000ull, 0x1ffffffffull);
	aml_end(b);
	/* BufferOp, 2-byte PkgLength, BufferSize 0x0a 0x7f, 127 bytes */
	assert_int_equal(aml_finish(b), 1 + 2 + 2 + 127);
	assert_int_equal(b->data[4], 127);
	assert_memory_equal(b->data + 5, ((const uint8_t[]){
		/* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) {9} */
		0x89, 0x06, 0x00, 0x03, 0x01, 0x09, 0x00, 0x00, 0x00,
		/* Memory32Fixed (ReadWrite, 0xb0000000, 0x10000000) */
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xb0,
		0x00, 0x00, 0x00, 0x10,
		/* WordBusNumber: producer, MinFixed, MaxFixed, 0-0xff */
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xff, 0x00, 0x00, 0x00, 0x00, 0x01,
		/* WordIO: producer, fixed, EntireRange, 0x1000-0xffff */
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x10,
		0xff, 0xff, 0x00, 0x00, 0x00, 0xf0,
		/* DWordMemory: producer, NonCacheable, ReadWrite */
		0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
		0xff, 0xff, 0xbf, 0xfe, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0xc0, 0x3e,
		/* QWordMemory: consumer, Cacheable, ReadOnly */
		0x8a, 0x2b, 0x00, 0x00, 0x0d, 0x02,
		0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00,
		0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x79 }), 9 + 12 + 16 + 16 + 26 + 46 + 1);
	assert_int_equal(sum8(b->data + 5, 127), 0);
}

static void test_resource_errors(void **state)
{
	struct aml_buf *b;

	(void)state;
	b = fresh();
	aml_resource_template_begin(b);
	aml_word_io(b, 0, 0xffff);	/* length 0x10000 does not fit */
	aml_end(b);
	assert_int_equal(aml_finish(b), -EINVAL);

	b = fresh();
	aml_resource_template_begin(b);
	aml_qword_memory(b, AML_PRODUCER, AML_NON_CACHEABLE, true, 0,
			 UINT64_MAX);
	assert_int_equal(aml_finish(b), -EINVAL);

	b = fresh();
	aml_resource_template_begin(b);
	aml_irq_no_flags(b, 16);
	assert_int_equal(aml_finish(b), -EINVAL);

	b = fresh();
	aml_resource_template_begin(b);
	aml_io(b, true, 0x400, 0x3ff, 1, 1);
	assert_int_equal(aml_finish(b), -EINVAL);

	b = fresh();
	aml_resource_template_begin(b);
	aml_interrupt(b, 1u << 5, 9);
	assert_int_equal(aml_finish(b), -EINVAL);

	/* Descriptors belong in a template, field units in a Field. */
	b = fresh();
	aml_io(b, true, 0x3f8, 0x3f8, 1, 8);
	assert_int_equal(aml_finish(b), -EINVAL);
	b = fresh();
	aml_field_unit(b, "GEVT", 32);
	assert_int_equal(aml_finish(b), -EINVAL);
}

static void test_buffer_errors(void **state)
{
	uint8_t small[8];
	struct aml_buf b;
	int i;

	(void)state;
	/* Overflow is sticky and nothing is written past cap. */
	memset(small, 0xee, sizeof(small));
	aml_init(&b, small, 3);
	aml_integer(&b, 0x12345678);
	assert_int_equal(aml_finish(&b), -ENOSPC);
	aml_byte(&b, 0x42);
	assert_int_equal(b.len, 0);
	assert_int_equal(aml_finish(&b), -ENOSPC);
	assert_int_equal(small[3], 0xee);

	/* The body fits, its PkgLength does not. */
	aml_init(&b, small, 4);
	aml_if_begin(&b);
	aml_bytes(&b, "abc", 3);
	aml_end(&b);
	assert_int_equal(aml_finish(&b), -ENOSPC);
	assert_int_equal(small[4], 0xee);

	/* AML_MAX_DEPTH levels are fine, one more is not. */
	aml_init(&b, scratch, sizeof(scratch));
	for (i = 0; i < AML_MAX_DEPTH; i++)
		aml_if_begin(&b);
	for (i = 0; i < AML_MAX_DEPTH; i++)
		aml_end(&b);
	assert_true(aml_finish(&b) > 0);
	aml_init(&b, scratch, sizeof(scratch));
	for (i = 0; i <= AML_MAX_DEPTH; i++)
		aml_if_begin(&b);
	assert_int_equal(aml_finish(&b), -E2BIG);

	/* Unbalanced. */
	aml_init(&b, scratch, sizeof(scratch));
	aml_end(&b);
	assert_int_equal(aml_finish(&b), -EINVAL);
	aml_init(&b, scratch, sizeof(scratch));
	aml_device_begin(&b, "DEV0");
	assert_int_equal(aml_finish(&b), -EINVAL);

	/* Out-of-range arguments. */
	aml_init(&b, scratch, sizeof(scratch));
	aml_package_begin(&b, 256);
	assert_int_equal(aml_finish(&b), -EINVAL);
	aml_init(&b, scratch, sizeof(scratch));
	aml_method_begin(&b, "_EVT", 8, false);
	assert_int_equal(aml_finish(&b), -EINVAL);
	aml_init(&b, scratch, sizeof(scratch));
	aml_local(&b, 8);
	assert_int_equal(aml_finish(&b), -EINVAL);
}

/* ---- tables ---- */

static struct acpi_layout base_layout(unsigned int ncpus)
{
	struct acpi_layout l = {
		.ncpus = ncpus,
		.ioapic_addr = 0xfec00000,
		.ioapic_id = 0,
		.lapic_addr = 0xfee00000,
		.sleep_ctl_port = 0x600,
		.sleep_sts_port = 0x601,
		.reset_port = 0x602,
		.reset_value = 0x01,
	};

	return l;
}

/*
 * The DSDT devices of vmm/vm.c's board, in its order, realized on a test
 * context: with the serial port on or off, and with a reservation above
 * 4 GiB (first, so MBRD also gets a QWord descriptor).
 */
static const struct dev_ops *const board_ops[] = {
	&serial_device, &cmos_device, &i8042_device, &pci_host_device, &mbrd_device, &ged_device,
};

struct board {
	struct test_ctx t;
	struct dev_registry r;
};

static struct board board, board_no_serial, board_high;

static void board_up(struct board *bd, enum console_mode serial, uint64_t high)
{
	char err[256] = "";

	test_ctx_init(&bd->t, 1u << 20);
	bd->t.cfg.serial.mode = serial;
	if (high)
		assert_int_equal(dev_reserve_memory(&bd->t.ctx, high, 0x1000), 0);
	if (dev_registry_realize(&bd->r, &bd->t.ctx, &bd->t.cfg, board_ops, ARRAY_SIZE(board_ops),
				 err, sizeof(err)) < 0)
		fail_msg("realize: %s", err);
}

static void board_down(struct board *bd)
{
	dev_registry_unrealize(&bd->r);
	test_ctx_fini(&bd->t);
}

static void board_dsdt(struct aml_buf *b, void *opaque)
{
	dev_registry_write_dsdt(&((struct board *)opaque)->r, b);
}

static int boards_up(void **state)
{
	(void)state;
	board_up(&board, CONSOLE_NULL, 0);
	board_up(&board_no_serial, CONSOLE_OFF, 0);
	board_up(&board_high, CONSOLE_NULL, 0x9000000000ull);
	return 0;
}

static int boards_down(void **state)
{
	(void)state;
	board_down(&board);
	board_down(&board_no_serial);
	board_down(&board_high);
	return 0;
}

static void add_pci(struct acpi_layout *l)
{
	l->pci_ecam_base = 0xb0000000;
	l->pci_bus_start = 0;
	l->pci_bus_end = 0xff;
}

static void add_devices(struct acpi_layout *l, struct board *bd)
{
	l->write_devices = board_dsdt;
	l->opaque = bd;
}

static struct acpi_layout layout_variant(unsigned int ncpus, int variant)
{
	struct acpi_layout l = base_layout(ncpus);

	if (variant & 1)
		add_pci(&l);
	if (variant & 2)
		add_devices(&l, &board);
	return l;
}

struct built {
	const uint8_t *buf;
	size_t used;
	uint64_t gpa;
	const uint8_t *xsdt, *fadt, *dsdt, *madt, *mcfg;
};

/* A table the guest would find at addr: inside the buffer, checksum 0. */
static const uint8_t *table_at(const struct built *t, uint64_t addr,
			       const char *sig)
{
	const uint8_t *p;
	uint32_t len;

	if (addr < t->gpa || addr - t->gpa + 36 > t->used)
		fail_msg("%s at %#llx is outside the tables", sig,
			 (unsigned long long)addr);
	p = t->buf + (addr - t->gpa);
	len = rd32(p + 4);
	assert_true(len >= 36);
	assert_true(addr - t->gpa + len <= t->used);
	assert_int_equal(sum8(p, len), 0);
	assert_memory_equal(p + 10, "PHYLLO", 6);
	assert_memory_equal(p + 16, "PHYLLOME", 8);
	if (sig)
		assert_memory_equal(p, sig, 4);
	return p;
}

static void walk_tables(struct built *t)
{
	const uint8_t *rsdp = t->buf, *entry;
	uint32_t xsdt_len;
	size_t i;

	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(sum8(rsdp, 20), 0);
	assert_int_equal(rd32(rsdp + 20), 36);
	assert_int_equal(sum8(rsdp, 36), 0);
	t->xsdt = table_at(t, rd64(rsdp + 24), "XSDT");
	xsdt_len = rd32(t->xsdt + 4);
	assert_int_equal((xsdt_len - 36) % 8, 0);
	t->fadt = t->madt = t->mcfg = NULL;
	for (i = 36; i < xsdt_len; i += 8) {
		entry = table_at(t, rd64(t->xsdt + i), NULL);
		if (!memcmp(entry, "FACP", 4) && !t->fadt)
			t->fadt = entry;
		else if (!memcmp(entry, "APIC", 4) && !t->madt)
			t->madt = entry;
		else if (!memcmp(entry, "MCFG", 4) && !t->mcfg)
			t->mcfg = entry;
		else
			fail_msg("unexpected or repeated table %.4s", entry);
	}
	assert_non_null(t->fadt);
	assert_non_null(t->madt);
	t->dsdt = table_at(t, rd64(t->fadt + 140), "DSDT");
}

static void check_gas_io8(const uint8_t *gas, uint16_t port)
{
	assert_int_equal(gas[0], 1);	/* SystemIO */
	assert_int_equal(gas[1], 8);	/* bit width */
	assert_int_equal(gas[2], 0);
	assert_int_equal(gas[3], 1);	/* byte access */
	assert_int_equal(rd64(gas + 4), port);
}

static void check_fadt(const struct built *t, const struct acpi_layout *l)
{
	const uint8_t *f = t->fadt;
	uint64_t dsdt = rd64(f + 140);
	uint16_t boot = rd16(f + 109);
	uint32_t flags = rd32(f + 112);

	assert_int_equal(rd32(f + 4), 276);
	assert_int_equal(f[8], 6);
	assert_int_equal(f[131], 3);			/* minor version */
	assert_true(flags & (1u << 20));		/* HW_REDUCED_ACPI */
	assert_true(flags & (1u << 10));		/* RESET_REG_SUP */
	assert_true(flags & (1u << 4));			/* no fixed power button */
	assert_true(boot & (1u << 1));			/* 8042 */
	assert_false(boot & (1u << 3));			/* MSI allowed */
	assert_false(boot & (1u << 5));			/* CMOS RTC present */
	assert_int_equal(rd32(f + 36), 0);		/* no FACS */
	assert_int_equal(rd64(f + 132), 0);
	assert_int_equal(rd32(f + 40), dsdt <= UINT32_MAX ? dsdt : 0);
	check_gas_io8(f + 116, l->reset_port);
	assert_int_equal(f[128], l->reset_value);
	check_gas_io8(f + 244, l->sleep_ctl_port);
	check_gas_io8(f + 256, l->sleep_sts_port);
	assert_memory_equal(f + 268, "PHYLLOME", 8);
}

static void check_madt(const struct built *t, const struct acpi_layout *l)
{
	const uint8_t *m = t->madt, *e;
	uint32_t len = rd32(m + 4), off;
	unsigned int cpus = 0, ioapics = 0, isos = 0, nmis = 0;

	assert_int_equal(m[8], 5);
	assert_int_equal(rd32(m + 36), l->lapic_addr);
	assert_int_equal(rd32(m + 40), 1);		/* PCAT_COMPAT */
	for (off = 44; off < len; off += e[1]) {
		e = m + off;
		assert_true(off + 2 <= len && e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], cpus);	/* processor UID */
			assert_int_equal(e[3], cpus);	/* APIC ID */
			assert_int_equal(rd32(e + 4), 1);	/* enabled */
			cpus++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], l->ioapic_id);
			assert_int_equal(rd32(e + 4), l->ioapic_addr);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0);	/* ISA */
			assert_int_equal(e[3], 0);	/* IRQ0 */
			assert_int_equal(rd32(e + 4), 2);	/* GSI2 */
			assert_int_equal(rd16(e + 8), 0x5);	/* edge, high */
			isos++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);	/* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(cpus, l->ncpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);
}

static bool dsdt_has(const struct built *t, const void *needle, size_t n)
{
	return memmem(t->dsdt + 36, rd32(t->dsdt + 4) - 36, needle, n) != NULL;
}

static void check_dsdt_mcfg(const struct built *t, const struct acpi_layout *l)
{
	/* Name (_S5_, Package (2) { 5, Zero }): SLP_TYP 5 */
	static const uint8_t s5[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00,
	};
	bool pci = l->pci_ecam_base, devs = l->write_devices;
	bool com1 = devs && l->opaque != &board_no_serial;

	assert_int_equal(t->dsdt[8], 2);
	assert_true(dsdt_has(t, s5, sizeof(s5)));
	assert_true(dsdt_has(t, "_SB_", 4));
	assert_int_equal(dsdt_has(t, "COM1", 4), com1);
	assert_int_equal(dsdt_has(t, "RTC_", 4), devs);
	assert_int_equal(dsdt_has(t, "PS2K", 4), devs);
	assert_int_equal(dsdt_has(t, "PCI0", 4), devs);
	assert_int_equal(dsdt_has(t, "_OSC", 4), devs);
	assert_int_equal(dsdt_has(t, "MBRD", 4), devs);
	assert_int_equal(dsdt_has(t, "GED_", 4), devs);
	assert_int_equal(dsdt_has(t, "PWRB", 4), devs);
	assert_int_equal(dsdt_has(t, "_EVT", 4), devs);

	assert_int_equal(t->mcfg != NULL, pci);
	if (!pci)
		return;
	assert_int_equal(rd32(t->mcfg + 4), 60);
	assert_int_equal(rd64(t->mcfg + 44), l->pci_ecam_base);
	assert_int_equal(rd16(t->mcfg + 52), 0);
	assert_int_equal(t->mcfg[54], l->pci_bus_start);
	assert_int_equal(t->mcfg[55], l->pci_bus_end);
}

/* No two tables share bytes. */
static void check_disjoint(const struct built *t)
{
	const uint8_t *all[] = { t->buf, t->xsdt, t->fadt, t->dsdt, t->madt,
				 t->mcfg };
	size_t i, j, li, lj;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		for (j = i + 1; j < ARRAY_SIZE(all); j++) {
			if (!all[i] || !all[j])
				continue;
			li = i ? rd32(all[i] + 4) : 36;
			lj = rd32(all[j] + 4);
			assert_true(all[i] + li <= all[j] || all[j] + lj <= all[i]);
		}
	}
}

static struct built build_and_check(const struct acpi_layout *l, uint64_t gpa)
{
	struct built t = { .buf = tables, .gpa = gpa };
	ssize_t used;
	size_t i;

	memset(tables, 0xa5, sizeof(tables));
	used = acpi_build_tables(tables, gpa, sizeof(tables), l);
	assert_true(used > 0);
	t.used = (size_t)used;
	for (i = t.used; i < sizeof(tables); i++)
		assert_int_equal(tables[i], 0xa5);
	walk_tables(&t);
	check_fadt(&t, l);
	check_madt(&t, l);
	check_dsdt_mcfg(&t, l);
	check_disjoint(&t);
	return t;
}

static void test_tables(void **state)
{
	static const unsigned int ncpus[] = { 1, 4, 255 };
	struct acpi_layout l;
	size_t i;
	int variant;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ncpus); i++) {
		for (variant = 0; variant < 4; variant++) {
			l = layout_variant(ncpus[i], variant);
			build_and_check(&l, TABLE_GPA);
		}
	}
}

static void test_tables_high(void **state)
{
	struct acpi_layout l = layout_variant(2, 3);
	struct built t;

	(void)state;
	l.pci_bus_start = 0x10;
	l.pci_ecam_base = 0x8000000000ull;	/* ECAM above 4 GiB */
	l.ioapic_id = 2;
	t = build_and_check(&l, HIGH_GPA);
	assert_int_equal(rd32(t.fadt + 40), 0);	/* DSDT only via X_DSDT */
}

static void test_sleep_value(void **state)
{
	(void)state;
	assert_int_equal(ACPI_S5_SLEEP_CONTROL, 0x34);
}

/* Every length short of what is needed fails cleanly, in bounds. */
static void test_tables_enospc(void **state)
{
	struct acpi_layout l = layout_variant(255, 3);
	ssize_t need, ret;
	uint8_t *buf;
	size_t len;

	(void)state;
	need = acpi_build_tables(tables, TABLE_GPA, sizeof(tables), &l);
	assert_true(need > 0);
	for (len = 0; len < (size_t)need; len++) {
		buf = malloc(len ? len : 1);	/* exact size: ASan sees overruns */
		assert_non_null(buf);
		ret = acpi_build_tables(buf, TABLE_GPA, len, &l);
		if (ret != -ENOSPC)
			fail_msg("len %zu: got %zd, want -ENOSPC", len, ret);
		free(buf);
	}
	buf = malloc((size_t)need);
	assert_non_null(buf);
	assert_int_equal(acpi_build_tables(buf, TABLE_GPA, (size_t)need, &l),
			 need);
	free(buf);
}

static void test_tables_invalid(void **state)
{
	struct acpi_layout l;

	(void)state;
	l = base_layout(0);
	assert_int_equal(acpi_build_tables(tables, TABLE_GPA, sizeof(tables), &l),
			 -EINVAL);
	l = base_layout(256);
	assert_int_equal(acpi_build_tables(tables, TABLE_GPA, sizeof(tables), &l),
			 -EINVAL);
	l = base_layout(1);
	l.sleep_sts_port = 0;
	assert_int_equal(acpi_build_tables(tables, TABLE_GPA, sizeof(tables), &l),
			 -EINVAL);
	l = base_layout(1);
	assert_int_equal(acpi_build_tables(tables, TABLE_GPA + 8, sizeof(tables),
					   &l), -EINVAL);

	l = base_layout(1);
	l.pci_bus_end = 1;			/* PCI fields without ECAM */
	assert_int_equal(acpi_build_tables(tables, TABLE_GPA, sizeof(tables), &l),
			 -EINVAL);
	l = layout_variant(1, 1);
	l.pci_ecam_base += 0x1000;
	assert_int_equal(acpi_build_tables(tables, TABLE_GPA, sizeof(tables), &l),
			 -EINVAL);
	l = layout_variant(1, 1);
	l.pci_bus_start = 2;
	l.pci_bus_end = 1;
	assert_int_equal(acpi_build_tables(tables, TABLE_GPA, sizeof(tables), &l),
			 -EINVAL);
}

/* ---- iasl ---- */

static char *read_file(const char *path)
{
	char *text;
	FILE *f;
	long n;

	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return text;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void run(const char *dir, const char *cmd)
{
	char line[4096];

	snprintf(line, sizeof(line), "cd '%s' && %s", dir, cmd);
	if (system(line) != 0)
		fail_msg("failed (see %s): %s", dir, cmd);
}

static void assert_clean(const char *text, const char *what)
{
	static const char *const bad[] = { "Incorrect", "Warning", "Error",
					    "error", "Invalid" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (strstr(text, bad[i]))
			fail_msg("%s mentions \"%s\":\n%s", what, bad[i], text);
}

/*
 * iasl -d: disassemble, and it must report nothing (it exits 0 even for a
 * bad checksum, so we read its words). Then compile the disassembly back:
 * the compiler checks object types, predefined names and resource
 * descriptors, and must report 0 errors and 0 warnings.
 */
static char *iasl_roundtrip(const char *dir, const char *sig,
			    const uint8_t *table)
{
	char cmd[512], path[512], *text;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	write_file(path, table, rd32(table + 4));
	snprintf(cmd, sizeof(cmd), "iasl -d %s.dat > %s.disasm.log 2>&1",
		 sig, sig);
	run(dir, cmd);
	snprintf(path, sizeof(path), "%s/%s.disasm.log", dir, sig);
	text = read_file(path);
	assert_clean(text, path);
	free(text);

	snprintf(cmd, sizeof(cmd), "iasl -p %s.recompiled %s.dsl > %s.asm.log 2>&1",
		 sig, sig, sig);
	run(dir, cmd);
	snprintf(path, sizeof(path), "%s/%s.asm.log", dir, sig);
	text = read_file(path);
	if (!strstr(text, " 0 Errors, 0 Warnings"))
		fail_msg("%s: iasl compile of the disassembly:\n%s", sig, text);
	free(text);

	snprintf(path, sizeof(path), "%s/%s.dsl", dir, sig);
	text = read_file(path);
	assert_clean(text, path);
	return text;
}

static void expect_in(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("disassembly lacks \"%s\"", what);
}

static void iasl_check_layout(const char *dir, const struct acpi_layout *l,
			      uint64_t gpa)
{
	struct built t = build_and_check(l, gpa);
	char *dsl;

	dsl = iasl_roundtrip(dir, "DSDT", t.dsdt);
	expect_in(dsl, "Name (_S5, Package (0x02)");
	expect_in(dsl, "Scope (\\_SB)");
	if (l->write_devices) {
		if (l->opaque != &board_no_serial) {
			expect_in(dsl, "EisaId (\"PNP0501\")");
			expect_in(dsl, "IRQNoFlags ()\n                    {4}");
		} else if (strstr(dsl, "PNP0501")) {
			fail_msg("COM1 described with the serial port off");
		}
		expect_in(dsl, "EisaId (\"PNP0B00\")");
		expect_in(dsl, "IRQNoFlags ()\n                    {8}");
		expect_in(dsl, "EisaId (\"PNP0303\")");
		expect_in(dsl, "EisaId (\"PNP0A08\")");
		expect_in(dsl, "EisaId (\"PNP0A03\")");
		expect_in(dsl, "WordBusNumber (ResourceProducer");
		expect_in(dsl, "DWordMemory (ResourceProducer");
		expect_in(dsl, "QWordMemory (ResourceProducer");
		expect_in(dsl, "ToUUID (\"33db4d5b-1ff7-401c-9657-7441c03dd766\")");
		expect_in(dsl, "EisaId (\"PNP0C02\")");
		expect_in(dsl, "Memory32Fixed (ReadWrite");
		if (l->opaque == &board_high)
			expect_in(dsl, "QWordMemory (ResourceConsumer");
		expect_in(dsl, "\"ACPI0013\"");
		expect_in(dsl, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive");
		expect_in(dsl, "EisaId (\"PNP0C0C\")");
		expect_in(dsl, "Notify (\\_SB.PWRB, 0x80)");
	}
	free(dsl);

	free(iasl_roundtrip(dir, "FACP", t.fadt));
	free(iasl_roundtrip(dir, "APIC", t.madt));
	if (t.mcfg)
		free(iasl_roundtrip(dir, "MCFG", t.mcfg));
}

/* A fresh directory per layout, so no file of one run hides another's. */
static void iasl_layout_in(const char *parent, const char *name,
			  const struct acpi_layout *l, uint64_t gpa)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", parent, name);
	if (mkdir(dir, 0755) && errno != EEXIST)
		fail_msg("cannot create %s", dir);
	iasl_check_layout(dir, l, gpa);
}

static void test_iasl(void **state)
{
	const char *keep = getenv("PHYLLO_ACPI_DUMP_DIR");
	char tmp[] = "/tmp/phyllo-acpi-XXXXXX", cmd[300];
	const char *parent = keep;
	struct acpi_layout l;

	(void)state;
	if (system("command -v iasl > /dev/null 2>&1") != 0)
		fail_msg("iasl not found: install acpica-tools "
			 "(apt-get install acpica-tools)");
	if (!parent) {
		parent = mkdtemp(tmp);
		assert_non_null(parent);
	}

	l = base_layout(1);
	iasl_layout_in(parent, "plain", &l, TABLE_GPA);
	l = layout_variant(4, 3);
	iasl_layout_in(parent, "pci-devices", &l, TABLE_GPA);
	l = layout_variant(2, 3);
	add_devices(&l, &board_no_serial);
	iasl_layout_in(parent, "no-serial", &l, TABLE_GPA);
	/* Above 4 GiB: a QWord descriptor in MBRD, no DSDT32. */
	l = layout_variant(255, 3);
	l.pci_ecam_base = 0x8000000000ull;
	add_devices(&l, &board_high);
	iasl_layout_in(parent, "high", &l, HIGH_GPA);

	if (!keep) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkglength_values),
		cmocka_unit_test(test_pkglength_insertion),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_eisaid_object),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_strings_uuid),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_resource_errors),
		cmocka_unit_test(test_buffer_errors),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_tables_high),
		cmocka_unit_test(test_sleep_value),
		cmocka_unit_test(test_tables_enospc),
		cmocka_unit_test(test_tables_invalid),
		cmocka_unit_test(test_iasl),
	};

	return cmocka_run_group_tests(tests, boards_up, boards_down);
}
