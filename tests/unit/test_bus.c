// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bus dispatch: the right device gets each access with its offset,
 * overlaps are refused, and unclaimed reads float to all ones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dev/bus.h"

struct fake {
	uint64_t last_off;
	uint64_t last_val;
	int writes;
};

static void fake_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	struct fake *f = opaque;

	f->last_off = off;
	bus_data_set(data, size, 0x1122334455667788ull);
}

static void fake_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	struct fake *f = opaque;

	f->last_off = off;
	f->last_val = bus_data_get(data, size);
	f->writes++;
}

static const struct bus_dev_ops fake_ops = { fake_read, fake_write };

static void test_dispatch(void **state)
{
	struct fake a = { 0 }, b = { 0 };
	struct bus bus;
	uint32_t v32 = 0xdeadbeef;
	uint8_t v8;

	(void)state;
	bus_init(&bus, "test");
	assert_int_equal(bus_register(&bus, 0x3f8, 8, "a", &fake_ops, &a), 0);
	assert_int_equal(bus_register(&bus, 0x70, 2, "b", &fake_ops, &b), 0);
	assert_int_equal(bus_register(&bus, 0x3f0, 9, "c", &fake_ops, &b), -EBUSY);
	assert_int_equal(bus_register(&bus, 0x3ff, 1, "c", &fake_ops, &b), -EBUSY);
	assert_int_equal(bus_register(&bus, 0x400, 0, "c", &fake_ops, &b), -EINVAL);

	assert_true(bus_access(&bus, 0x3fc, &v32, 4, true));
	assert_int_equal(a.last_off, 4);
	assert_int_equal(a.last_val, 0xdeadbeef);
	assert_true(bus_access(&bus, 0x71, &v8, 1, false));
	assert_int_equal(b.last_off, 1);
	assert_int_equal(v8, 0x88);

	/* Unclaimed and straddling accesses: reads float high, writes vanish. */
	assert_false(bus_access(&bus, 0x80, &v8, 1, false));
	assert_int_equal(v8, 0xff);
	assert_false(bus_access(&bus, 0x3fe, &v32, 4, false));
	assert_int_equal(v32, 0xffffffff);
	assert_false(bus_access(&bus, 0x3fe, &v32, 4, true));
	assert_int_equal(a.writes, 1);

	assert_int_equal(bus_unregister(&bus, 0x70), 0);
	assert_false(bus_access(&bus, 0x70, &v8, 1, false));
	assert_int_equal(bus_unregister(&bus, 0x70), -ENOENT);
	bus_free(&bus);
}

static void test_many_ranges(void **state)
{
	struct fake f = { 0 };
	struct bus bus;
	uint8_t v;

	(void)state;
	bus_init(&bus, "test");
	/* Registered out of order; lookups must still find each one. */
	for (int i = 99; i >= 0; i--)
		assert_int_equal(bus_register(&bus, (uint64_t)i * 16, 8, "r", &fake_ops, &f), 0);
	for (int i = 0; i < 100; i++) {
		assert_true(bus_access(&bus, (uint64_t)i * 16 + 7, &v, 1, true));
		assert_int_equal(f.last_off, 7);
		assert_false(bus_access(&bus, (uint64_t)i * 16 + 8, &v, 1, true));
	}
	bus_free(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_many_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
