// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Split virtqueue core (src/virtio/virtq.c) against a guest driver model
 * that writes the rings in a small fake guest RAM: chains direct and
 * indirect, 16-bit index wrap, notification decisions with and without
 * EVENT_IDX, and every kind of malformed ring a guest can build. Each
 * malformed case must return its error, log exactly one warning naming the
 * queue, mark the queue broken, and refuse further pops without crashing
 * (the suite also runs under ASan+UBSan).
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

#include "guest_driver.h"
#include "base/log.h"
#include "virtio/virtq.h"

#define RAM_SIZE (1u << 20)
#define RING_BASE 0x1000
#define BUF 0x10000     /* buffers from here on */
#define TABLE 0x80000   /* indirect tables from here on */

static struct guest_mem mem;
static struct guest_driver gd;
static struct virtq q;
static struct virtq_elem elem;
static char log_path[] = "/tmp/phyllo-test-virtq-XXXXXX";

/* --- log capture: every warning goes to a file we can read back ------------- */

static char *read_log(size_t *lines)
{
	static char buf[1 << 16];
	FILE *f = fopen(log_path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	*lines = 0;
	for (size_t i = 0; i < n; i++)
		*lines += buf[i] == '\n';
	return buf;
}

static size_t log_lines(void)
{
	size_t lines;

	read_log(&lines);
	return lines;
}

static const char *last_log_line(void)
{
	size_t lines;
	char *buf = read_log(&lines);
	size_t n = strlen(buf);

	if (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	return strrchr(buf, '\n') ? strrchr(buf, '\n') + 1 : buf;
}

static int group_setup(void **state)
{
	int fd = mkstemp(log_path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	if (log_set_file(log_path) < 0)
		return -1;
	return guest_mem_init(&mem, RAM_SIZE);
}

static int group_teardown(void **state)
{
	(void)state;
	guest_mem_free(&mem);
	return unlink(log_path);
}

/* Each test starts with an 8-entry queue, no features, nothing in it. */
static int queue_setup(void **state)
{
	(void)state;
	memset(&q, 0, sizeof(q));
	gd_layout(&gd, &mem, 8, RING_BASE);
	return gd_init_virtq(&gd, &q, false, false);
}

static void reinit(uint16_t size, bool event_idx, bool indirect)
{
	gd_layout(&gd, &mem, size, RING_BASE);
	assert_int_equal(gd_init_virtq(&gd, &q, event_idx, indirect), 0);
}

static uint8_t *ram(uint64_t gpa, uint64_t len)
{
	return gd_ptr(&gd, gpa, len);
}

/* Pop must fail with ERR, warn once naming the queue, and stay broken. */
static void expect_broken(int err, const char *why)
{
	size_t before = log_lines();
	const char *line;

	assert_int_equal(virtq_pop(&q, &elem), err);
	assert_true(q.broken);
	assert_int_equal(log_lines(), before + 1);
	line = last_log_line();
	assert_non_null(strstr(line, "warning: virtq test.q0: "));
	if (!strstr(line, why))
		fail_msg("warning \"%s\" does not say \"%s\"", line, why);
	/* Later pops refuse quietly; pushes and notifications do nothing. */
	assert_int_equal(virtq_pop(&q, &elem), -EIO);
	assert_false(virtq_should_notify(&q));
	assert_int_equal(log_lines(), before + 1);
}

/* --- set-up ------------------------------------------------------------------ */

static void test_init_validates_layout(void **state)
{
	struct virtq_setup s = {
		.size = 8, .desc_gpa = 0x1000, .avail_gpa = 0x2000, .used_gpa = 0x3000,
	};
	struct virtq_setup bad;

	(void)state;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &s), 0);
	assert_true(q.ready);

	static const uint16_t bad_sizes[] = { 0, 3, 12, 40000 };
	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		bad = s;
		bad.size = bad_sizes[i];
		assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EINVAL);
		assert_false(q.ready);
	}
	bad = s, bad.desc_gpa = 0x1008;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EINVAL);
	bad = s, bad.avail_gpa = 0x2001;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EINVAL);
	bad = s, bad.used_gpa = 0x3002;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EINVAL);
	/* Each ring must end inside RAM, including used_event/avail_event. */
	bad = s, bad.desc_gpa = RAM_SIZE - 16 * 8 + 16;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EFAULT);
	bad = s, bad.avail_gpa = RAM_SIZE - (6 + 2 * 8) + 2;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EFAULT);
	bad = s, bad.used_gpa = RAM_SIZE - (6 + 8 * 8) + 2; /* 2 bytes short */
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EFAULT);
	bad = s, bad.used_gpa = MEM_HOLE_START;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), -EFAULT);
	assert_false(q.ready);
	/* Exactly at the end of RAM is fine. */
	bad = s, bad.used_gpa = RAM_SIZE - (6 + 8 * 8) - 2;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &bad), 0);
	s.size = VIRTQ_MAX_SIZE;
	assert_int_equal(virtq_init(&q, &mem, "test.q0", &s), 0);
	assert_int_equal(q.size, VIRTQ_MAX_SIZE);
}

static void test_not_ready_queue_is_inert(void **state)
{
	(void)state;
	virtq_reset(&q);
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	gd_publish(&gd, 0);
	assert_int_equal(virtq_pop(&q, &elem), 0);
	assert_false(virtq_should_notify(&q));
	assert_false(virtq_enable_notify(&q));
}

/* --- chains ------------------------------------------------------------------ */

static void test_empty_ring(void **state)
{
	(void)state;
	assert_int_equal(virtq_pop(&q, &elem), 0);
	assert_int_equal(virtq_pop(&q, &elem), 0);
	assert_false(virtq_should_notify(&q));
}

static void test_simple_chain(void **state)
{
	uint8_t hdr[24], out[8] = "written";
	uint32_t id, len;

	(void)state;
	for (int i = 0; i < 24; i++)
		ram(BUF, 24)[i] = (uint8_t)i;
	/* 16 + 8 readable bytes (a request header split in two), 4 + 4 writable */
	gd_set_desc(&gd, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
	gd_set_desc(&gd, 5, BUF + 16, 8, VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 1, BUF + 0x100, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
	gd_set_desc(&gd, 7, BUF + 0x200, 4, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&gd, 3);

	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.head, 3);
	assert_int_equal(elem.n_readable, 2);
	assert_int_equal(elem.n_writable, 2);
	assert_int_equal(elem.readable_len, 24);
	assert_int_equal(elem.writable_len, 8);
	assert_ptr_equal(virtq_elem_readable(&elem)[0].iov_base, ram(BUF, 16));
	assert_ptr_equal(virtq_elem_readable(&elem)[1].iov_base, ram(BUF + 16, 8));
	assert_ptr_equal(virtq_elem_writable(&elem)[0].iov_base, ram(BUF + 0x100, 4));
	assert_int_equal(virtq_elem_writable(&elem)[1].iov_len, 4);

	/* Reads and writes cross segment boundaries. */
	assert_int_equal(virtq_elem_read(&elem, 0, hdr, 24), 0);
	for (int i = 0; i < 24; i++)
		assert_int_equal(hdr[i], i);
	assert_int_equal(virtq_elem_read(&elem, 14, hdr, 4), 0);
	assert_memory_equal(hdr, "\x0e\x0f\x10\x11", 4);
	assert_int_equal(virtq_elem_write(&elem, 0, out, 8), 0);
	assert_memory_equal(ram(BUF + 0x100, 4), "writ", 4);
	assert_memory_equal(ram(BUF + 0x200, 4), "ten", 4);
	assert_int_equal(virtq_elem_write(&elem, 3, "XY", 2), 0);
	assert_memory_equal(ram(BUF + 0x100, 4), "wriX", 4);
	assert_memory_equal(ram(BUF + 0x200, 1), "Y", 1);
	/* Out of range: refused, nothing copied. */
	assert_int_equal(virtq_elem_read(&elem, 0, hdr, 25), -EINVAL);
	assert_int_equal(virtq_elem_read(&elem, 25, hdr, 0), -EINVAL);
	assert_int_equal(virtq_elem_read(&elem, 24, hdr, 0), 0);
	assert_int_equal(virtq_elem_write(&elem, 8, out, 1), -EINVAL);
	assert_int_equal(virtq_elem_write(&elem, UINT32_MAX, out, 2), -EINVAL);

	assert_int_equal(virtq_pop(&q, &elem), 0);
	virtq_push(&q, &elem, 8);
	assert_int_equal(gd_used_idx(&gd), 1);
	assert_true(gd_get_used(&gd, &id, &len));
	assert_int_equal(id, 3);
	assert_int_equal(len, 8);
	assert_true(virtq_should_notify(&q));
	assert_false(virtq_should_notify(&q)); /* nothing new since */
	assert_false(q.broken);
}

static void test_chains_in_order_and_zero_length(void **state)
{
	uint32_t id, len;

	(void)state;
	gd_set_desc(&gd, 0, BUF, 0, VIRTQ_DESC_F_NEXT, 1);       /* zero length: skipped */
	gd_set_desc(&gd, 1, BUF, 512, VIRTQ_DESC_F_WRITE, 0);
	gd_set_desc(&gd, 2, BUF + 512, 1, 0, 0);
	gd_set_desc(&gd, 6, RAM_SIZE, 0, 0, 0);                    /* address ignored */
	gd_publish(&gd, 2);
	gd_publish(&gd, 0);
	gd_publish(&gd, 6);

	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.head, 2);
	assert_int_equal(elem.n_readable, 1);
	assert_int_equal(elem.n_writable, 0);
	virtq_push(&q, &elem, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.head, 0);
	assert_int_equal(elem.n_readable, 0);
	assert_int_equal(elem.n_writable, 1);
	assert_int_equal(elem.writable_len, 512);
	virtq_push(&q, &elem, 100);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.head, 6);
	assert_int_equal(elem.n_readable + elem.n_writable, 0);
	virtq_push(&q, &elem, 0);
	assert_int_equal(virtq_pop(&q, &elem), 0);

	assert_true(gd_get_used(&gd, &id, &len));
	assert_int_equal(id, 2);
	assert_true(gd_get_used(&gd, &id, &len));
	assert_int_equal(id, 0);
	assert_int_equal(len, 100);
	assert_true(gd_get_used(&gd, &id, &len));
	assert_int_equal(id, 6);
	assert_false(gd_get_used(&gd, &id, &len));
}

static void test_indirect_chain(void **state)
{
	uint8_t buf[4];

	(void)state;
	reinit(8, false, true);
	/* Table order 0 -> 2 -> 1: next indexes the table, not the ring. */
	gd_write_desc(&gd, TABLE, 0, BUF, 4, VIRTQ_DESC_F_NEXT, 2);
	gd_write_desc(&gd, TABLE, 2, BUF + 4, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	gd_write_desc(&gd, TABLE, 1, BUF + 8, 4, VIRTQ_DESC_F_WRITE, 0);
	/* The WRITE flag on the pointing descriptor is to be ignored. */
	gd_set_desc(&gd, 4, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&gd, 4);
	memcpy(ram(BUF, 4), "abcd", 4);

	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.head, 4);
	assert_int_equal(elem.n_readable, 1);
	assert_int_equal(elem.n_writable, 2);
	assert_ptr_equal(elem.iov[1].iov_base, ram(BUF + 4, 4));
	assert_ptr_equal(elem.iov[2].iov_base, ram(BUF + 8, 4));
	assert_int_equal(virtq_elem_read(&elem, 0, buf, 4), 0);
	assert_memory_equal(buf, "abcd", 4);
	virtq_push(&q, &elem, 8);
	assert_int_equal(gd_used_idx(&gd), 1);

	/* An indirect descriptor may also end a direct chain. */
	gd_set_desc(&gd, 0, BUF + 0x40, 16, VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 1, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	gd_write_desc(&gd, TABLE + 0x100, 0, BUF + 0x80, 32, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&gd, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.n_readable, 1);
	assert_int_equal(elem.n_writable, 1);
	assert_int_equal(elem.writable_len, 32);
	assert_false(q.broken);
}

static void test_indirect_table_larger_than_queue(void **state)
{
	(void)state;
	/* Linux may build tables longer than the ring: up to the segment cap. */
	reinit(4, false, true);
	for (uint32_t i = 0; i < VIRTQ_ELEM_MAX_SEGS; i++)
		gd_write_desc(&gd, TABLE, i, BUF + i, 1,
			      i + 1 < VIRTQ_ELEM_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0,
			      (uint16_t)(i + 1));
	gd_set_desc(&gd, 0, TABLE, 16 * VIRTQ_ELEM_MAX_SEGS, VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.n_readable, VIRTQ_ELEM_MAX_SEGS);
	assert_int_equal(elem.readable_len, VIRTQ_ELEM_MAX_SEGS);
}

/* A whole queue's worth of descriptors in one direct chain is allowed. */
static void test_chain_as_long_as_queue(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < 8; i++)
		gd_set_desc(&gd, i, BUF + i, 1, i < 7 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	gd_publish(&gd, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.n_readable, 8);
}

/* Indices are free-running 16-bit counters; the ring slot is idx % size. */
static void test_index_wrap_around(void **state)
{
	struct virtq_elem *e2 = malloc(sizeof(*e2));
	uint32_t id, len;

	(void)state;
	assert_non_null(e2);
	reinit(4, true, false);
	for (uint16_t i = 0; i < 4; i++)
		gd_set_desc(&gd, i, BUF + 16 * i, 16, VIRTQ_DESC_F_WRITE, 0);
	/* 70000 requests through a 4-entry ring, two in flight at a time. */
	for (uint32_t n = 0; n < 70000; n += 2) {
		gd_publish(&gd, (uint16_t)(n % 4));
		gd_publish(&gd, (uint16_t)((n + 1) % 4));
		assert_int_equal(virtq_pop(&q, &elem), 1);
		assert_int_equal(virtq_pop(&q, e2), 1);
		assert_int_equal(elem.head, n % 4);
		assert_int_equal(e2->head, (n + 1) % 4);
		virtq_push(&q, e2, 2);
		virtq_push(&q, &elem, 1);
		assert_true(gd_get_used(&gd, &id, &len));
		assert_int_equal(id, (n + 1) % 4);
		assert_true(gd_get_used(&gd, &id, &len));
		assert_int_equal(id, n % 4);
		assert_int_equal(virtq_pop(&q, &elem), 0);
	}
	assert_int_equal(gd_used_idx(&gd), (uint16_t)70000);
	assert_int_equal(q.last_avail, (uint16_t)70000);
	assert_false(q.broken);
	free(e2);

	/* The same across the wrap from a restored position. */
	reinit(8, false, false);
	gd_set_desc(&gd, 5, BUF, 16, 0, 0);
	virtq_set_indices(&q, 65534, 65533);
	assert_int_equal(gd_used_idx(&gd), 65533);
	gd.avail_idx = 65534;
	gd.last_used = 65533;
	for (int i = 0; i < 4; i++)
		gd_publish(&gd, 5);
	assert_int_equal(gd.avail_idx, 2);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&q, &elem), 1);
		virtq_push(&q, &elem, 0);
	}
	assert_int_equal(virtq_pop(&q, &elem), 0);
	assert_int_equal(gd_used_idx(&gd), 1);
}

/* --- notifications ------------------------------------------------------------ */

static void pop_push(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		gd_publish(&gd, 0);
		assert_int_equal(virtq_pop(&q, &elem), 1);
		virtq_push(&q, &elem, 0);
	}
}

static void test_event_idx_used_event(void **state)
{
	(void)state;
	reinit(8, true, false);
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);

	gd_set_used_event(&gd, 0);   /* "interrupt me when used idx passes 0" */
	pop_push(1);                 /* 0 -> 1 crosses it */
	assert_true(virtq_should_notify(&q));

	gd_set_used_event(&gd, 4);
	pop_push(2);                 /* 1 -> 3: not yet */
	assert_false(virtq_should_notify(&q));
	pop_push(1);                 /* 3 -> 4: entry 3 is not 4 */
	assert_false(virtq_should_notify(&q));
	pop_push(1);                 /* 4 -> 5: entry 4 done */
	assert_true(virtq_should_notify(&q));
	pop_push(3);                 /* 5 -> 8, event 4 is behind: no */
	assert_false(virtq_should_notify(&q));

	/* Crossing in the middle of a batch counts. */
	gd_set_used_event(&gd, 9);
	pop_push(3);                 /* 8 -> 11 */
	assert_true(virtq_should_notify(&q));

	/* Across the 16-bit wrap. */
	reinit(8, true, false);
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	virtq_set_indices(&q, 0, 65534);
	gd_set_used_event(&gd, 65535);
	pop_push(3);                 /* 65534 -> 1 */
	assert_true(virtq_should_notify(&q));
	gd_set_used_event(&gd, 0);
	pop_push(2);                 /* 1 -> 3, event 0 behind */
	assert_false(virtq_should_notify(&q));

	/* EVENT_IDX means avail->flags must be ignored (2.7.7.2). */
	gd_set_avail_flags(&gd, VIRTQ_AVAIL_F_NO_INTERRUPT);
	gd_set_used_event(&gd, 3);
	pop_push(1);
	assert_true(virtq_should_notify(&q));
}

static void test_event_idx_window_wrap(void **state)
{
	(void)state;
	reinit(8, true, false);
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	gd_set_used_event(&gd, 100);
	pop_push(65536); /* the 16-bit window is useless now: notify anyway */
	assert_true(virtq_should_notify(&q));
}

static void test_no_interrupt_flag(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	pop_push(1);
	assert_true(virtq_should_notify(&q));
	gd_set_avail_flags(&gd, VIRTQ_AVAIL_F_NO_INTERRUPT);
	pop_push(2);
	assert_false(virtq_should_notify(&q));
	gd_set_avail_flags(&gd, 0);
	assert_false(virtq_should_notify(&q)); /* nothing pushed since */
	pop_push(1);
	assert_true(virtq_should_notify(&q));
	/* Without EVENT_IDX, used_event means nothing. */
	gd_set_used_event(&gd, 1000);
	pop_push(1);
	assert_true(virtq_should_notify(&q));
}

static void test_notify_suppression_flags(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	assert_int_equal(gd_used_flags(&gd), 0);
	virtq_disable_notify(&q);
	assert_int_equal(gd_used_flags(&gd), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&q));
	assert_int_equal(gd_used_flags(&gd), 0);

	/* Polling loop: buffers that arrive while kicks are off are found. */
	virtq_disable_notify(&q);
	gd_publish(&gd, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	virtq_push(&q, &elem, 0);
	gd_publish(&gd, 0);              /* arrives "just before" enable */
	assert_true(virtq_enable_notify(&q));
	assert_int_equal(virtq_pop(&q, &elem), 1);
	virtq_push(&q, &elem, 0);
	assert_false(virtq_enable_notify(&q));
}

static void test_notify_suppression_event_idx(void **state)
{
	(void)state;
	reinit(8, true, false);
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	assert_int_equal(gd_avail_event(&gd), 0);

	/* A device that never disables: an empty pop re-arms at last_avail. */
	pop_push(3);
	assert_int_equal(virtq_pop(&q, &elem), 0);
	assert_int_equal(gd_avail_event(&gd), 3);
	assert_int_equal(gd_used_flags(&gd), 0); /* flags untouched with EVENT_IDX */

	/* Disabled: avail_event stays behind while we poll. */
	virtq_disable_notify(&q);
	assert_int_equal(gd_used_flags(&gd), 0);
	pop_push(2);
	assert_int_equal(virtq_pop(&q, &elem), 0);
	assert_int_equal(gd_avail_event(&gd), 3);
	/* Enable: avail_event = 5, and a buffer that came meanwhile is reported. */
	gd_publish(&gd, 0);
	assert_true(virtq_enable_notify(&q));
	assert_int_equal(gd_avail_event(&gd), 5);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	virtq_push(&q, &elem, 0);
	assert_false(virtq_enable_notify(&q));
	assert_int_equal(gd_avail_event(&gd), 6);
}

/* --- device mistakes ---------------------------------------------------------- */

static void test_stale_and_bad_pushes(void **state)
{
	uint32_t id, len;

	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&gd, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	/* Reset and re-enable while the element is in flight: it is dropped. */
	reinit(8, false, false);
	virtq_push(&q, &elem, 16);
	assert_int_equal(gd_used_idx(&gd), 0);

	/* Claiming more written bytes than the buffer has: clamped (and logged). */
	gd_set_desc(&gd, 0, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&gd, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	virtq_push(&q, &elem, 17);
	assert_true(gd_get_used(&gd, &id, &len));
	assert_int_equal(len, 16);
	/* Pushing twice: the second is refused (and logged). */
	virtq_push(&q, &elem, 1);
	assert_int_equal(gd_used_idx(&gd), 1);
}

/* --- malformed rings ---------------------------------------------------------- */

static void test_bad_head_index(void **state)
{
	(void)state;
	gd_publish(&gd, 8);
	expect_broken(-EINVAL, "head 8 >= queue size 8");
}

static void test_bad_next_index(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 8);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "next 8 is outside the 8-entry table");
}

static void test_loop(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	gd_publish(&gd, 0);
	expect_broken(-ELOOP, "a loop");
}

static void test_self_loop_zero_length(void **state)
{
	(void)state;
	/* Zero-length descriptors make no segments but still count. */
	gd_set_desc(&gd, 2, BUF, 0, VIRTQ_DESC_F_NEXT, 2);
	gd_publish(&gd, 2);
	expect_broken(-ELOOP, "longer than its 8-entry table");
}

static void test_loop_in_indirect_table(void **state)
{
	(void)state;
	reinit(8, false, true);
	gd_write_desc(&gd, TABLE, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	gd_write_desc(&gd, TABLE, 1, BUF, 1, VIRTQ_DESC_F_NEXT, 2);
	gd_write_desc(&gd, TABLE, 2, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 0, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	expect_broken(-ELOOP, "longer than its 3-entry table");
}

static void test_loop_in_huge_queue(void **state)
{
	(void)state;
	/* In a 32768-entry ring the segment cap stops a loop first. */
	reinit(VIRTQ_MAX_SIZE, false, false);
	gd_set_desc(&gd, 7, BUF, 0, VIRTQ_DESC_F_NEXT, 9);
	gd_set_desc(&gd, 9, BUF, 0, VIRTQ_DESC_F_NEXT, 7);
	gd_publish(&gd, 7);
	expect_broken(-E2BIG, "more than 1024 descriptors");
}

static void test_too_many_segments(void **state)
{
	(void)state;
	reinit(4, false, true);
	for (uint32_t i = 0; i <= VIRTQ_ELEM_MAX_SEGS; i++)
		gd_write_desc(&gd, TABLE, i, BUF, 1, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
	gd_set_desc(&gd, 0, TABLE, 16 * (VIRTQ_ELEM_MAX_SEGS + 2), VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	expect_broken(-E2BIG, "more than 1024 descriptors");
}

static void test_buffer_outside_ram(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, RAM_SIZE - 8, 16, 0, 0); /* runs off the end */
	gd_publish(&gd, 0);
	expect_broken(-EFAULT, "buffer [0xffff8, +16) is not in guest RAM");
}

static void test_buffer_far_outside_ram(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 1, UINT64_MAX - 3, 16, VIRTQ_DESC_F_WRITE, 0); /* wraps */
	gd_publish(&gd, 0);
	expect_broken(-EFAULT, "not in guest RAM");
}

static void test_huge_length_outside_ram(void **state)
{
	(void)state;
	/* A length no RAM can hold is a bad buffer first, not a long chain. */
	gd_set_desc(&gd, 0, BUF, UINT32_MAX, 0, 0);
	gd_publish(&gd, 0);
	expect_broken(-EFAULT, "buffer [0x10000, +4294967295) is not in guest RAM");
}

/* With RAM on both sides of the MMIO hole, a buffer crossing into it is refused. */
static void test_buffer_across_ram_hole(void **state)
{
	struct guest_mem big;
	struct guest_driver bgd;
	uint32_t id, len;

	(void)state;
	/* Sparse: 3 GiB + 1 MiB of address space, a few pages touched. */
	assert_int_equal(guest_mem_init(&big, MEM_HOLE_START + (1u << 20)), 0);
	gd_layout(&bgd, &big, 8, RING_BASE);
	memset(&q, 0, sizeof(q));
	assert_int_equal(gd_init_virtq(&bgd, &q, false, false), 0);
	gd_set_desc(&bgd, 0, MEM_HOLE_START - 4096, 4096, 0, 0);  /* last low page */
	gd_set_desc(&bgd, 1, MEM_4G, 4096, VIRTQ_DESC_F_WRITE, 0); /* first high page */
	gd_set_desc(&bgd, 2, MEM_HOLE_START - 4096, 8192, 0, 0);   /* into the hole */
	gd_publish(&bgd, 0);
	gd_publish(&bgd, 1);
	gd_publish(&bgd, 2);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_ptr_equal(elem.iov[0].iov_base, big.host + MEM_HOLE_START - 4096);
	virtq_push(&q, &elem, 0);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_ptr_equal(elem.iov[0].iov_base, big.host + MEM_HOLE_START);
	assert_int_equal(virtq_elem_write(&elem, 4090, "high", 4), 0);
	virtq_push(&q, &elem, 4096);
	assert_true(gd_get_used(&bgd, &id, &len));
	assert_true(gd_get_used(&bgd, &id, &len));
	assert_int_equal(id, 1);
	expect_broken(-EFAULT, "not in guest RAM");
	guest_mem_free(&big);
}

static void test_total_length_overflow(void **state)
{
	struct guest_mem big;
	struct guest_driver bgd;

	(void)state;
	/* Buffers of 2 GiB and 2 GiB + 1 byte, both RAM: 4 GiB + 1 byte in all. */
	assert_int_equal(guest_mem_init(&big, MEM_HOLE_START + (3ull << 30)), 0);
	gd_layout(&bgd, &big, 8, RING_BASE);
	memset(&q, 0, sizeof(q));
	assert_int_equal(gd_init_virtq(&bgd, &q, false, false), 0);
	gd_set_desc(&bgd, 0, 0, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&bgd, 1, MEM_4G, 0x80000001u, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&bgd, 0);
	expect_broken(-EOVERFLOW, "more than 4 GiB - 1 bytes");
	guest_mem_free(&big);
}

static void test_indirect_without_feature(void **state)
{
	(void)state;
	gd_write_desc(&gd, TABLE, 0, BUF, 16, 0, 0);
	gd_set_desc(&gd, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "not negotiated");
}

static void test_indirect_zero_length(void **state)
{
	(void)state;
	reinit(8, false, true);
	gd_set_desc(&gd, 0, TABLE, 0, VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "indirect table length 0");
}

static void test_indirect_bad_length(void **state)
{
	(void)state;
	reinit(8, false, true);
	gd_write_desc(&gd, TABLE, 0, BUF, 16, 0, 0);
	gd_set_desc(&gd, 0, TABLE, 24, VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "indirect table length 24");
}

static void test_indirect_table_outside_ram(void **state)
{
	(void)state;
	reinit(8, false, true);
	gd_set_desc(&gd, 0, RAM_SIZE - 32, 64, VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	expect_broken(-EFAULT, "indirect table");
}

static void test_indirect_inside_indirect(void **state)
{
	(void)state;
	reinit(8, false, true);
	gd_write_desc(&gd, TABLE, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	gd_write_desc(&gd, TABLE, 1, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	gd_write_desc(&gd, TABLE + 0x100, 0, BUF, 16, 0, 0);
	gd_set_desc(&gd, 0, TABLE, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "INDIRECT inside an indirect table");
}

static void test_indirect_with_next(void **state)
{
	(void)state;
	reinit(8, false, true);
	gd_write_desc(&gd, TABLE, 0, BUF, 16, 0, 0);
	gd_set_desc(&gd, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 1, BUF, 16, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "INDIRECT together with NEXT");
}

static void test_writable_before_readable(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 1, BUF + 16, 16, 0, 0);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "device-readable after device-writable");
}

static void test_writable_before_readable_indirect(void **state)
{
	(void)state;
	reinit(8, false, true);
	/* Direct part writable, the table's readable: still out of order. */
	gd_set_desc(&gd, 0, BUF, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(&gd, 1, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	gd_write_desc(&gd, TABLE, 0, BUF, 16, 0, 0);
	gd_publish(&gd, 0);
	expect_broken(-EINVAL, "indirect descriptor 0: device-readable after");
}

static void test_avail_idx_jump(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	gd_set_avail_idx(&gd, 9); /* 9 chains in an 8-entry ring */
	expect_broken(-EINVAL, "avail idx 9 is 9 ahead of 0, queue size 8");
}

static void test_avail_idx_backwards(void **state)
{
	(void)state;
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	pop_push(2);
	gd_set_avail_idx(&gd, 1); /* going back looks like 65535 ahead */
	assert_true(virtq_enable_notify(&q)); /* "look again": the pop tells why */
	assert_true(q.broken);
	assert_int_equal(virtq_pop(&q, &elem), -EIO);
}

static void test_broken_queue_recovers_after_reset(void **state)
{
	(void)state;
	gd_publish(&gd, 99);
	expect_broken(-EINVAL, "head 99");
	/* The driver resets the device and sets the queue up again. */
	reinit(8, false, false);
	assert_false(q.broken);
	gd_set_desc(&gd, 0, BUF, 16, 0, 0);
	pop_push(1);
	assert_true(virtq_should_notify(&q));
}

static void test_unpop_gives_the_chain_back(void **state)
{
	struct virtq_elem again;
	uint32_t id, len;

	(void)state;
	gd_set_desc(&gd, 2, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	gd_set_desc(&gd, 4, BUF + 64, 64, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(&gd, 2);
	gd_publish(&gd, 4);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.head, 2);
	virtq_unpop(&q, &elem);
	/* The same chain again, then the next; nothing reached the used ring. */
	assert_int_equal(virtq_pop(&q, &again), 1);
	assert_int_equal(again.head, 2);
	assert_int_equal(gd_used_idx(&gd), 0);
	virtq_push(&q, &again, 10);
	assert_int_equal(virtq_pop(&q, &elem), 1);
	assert_int_equal(elem.head, 4);
	virtq_push(&q, &elem, 0);
	assert_true(gd_get_used(&gd, &id, &len));
	assert_int_equal(id, 2);
	assert_int_equal(len, 10);
	/* Both used: the ring is empty. */
	assert_int_equal(virtq_pop(&q, &elem), 0);
	assert_false(q.broken);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, queue_setup)
	const struct CMUnitTest tests[] = {
		T(test_init_validates_layout),
		T(test_not_ready_queue_is_inert),
		T(test_empty_ring),
		T(test_simple_chain),
		T(test_chains_in_order_and_zero_length),
		T(test_indirect_chain),
		T(test_indirect_table_larger_than_queue),
		T(test_chain_as_long_as_queue),
		T(test_index_wrap_around),
		T(test_event_idx_used_event),
		T(test_event_idx_window_wrap),
		T(test_no_interrupt_flag),
		T(test_notify_suppression_flags),
		T(test_notify_suppression_event_idx),
		T(test_stale_and_bad_pushes),
		T(test_bad_head_index),
		T(test_bad_next_index),
		T(test_loop),
		T(test_self_loop_zero_length),
		T(test_loop_in_indirect_table),
		T(test_loop_in_huge_queue),
		T(test_too_many_segments),
		T(test_buffer_outside_ram),
		T(test_buffer_far_outside_ram),
		T(test_huge_length_outside_ram),
		T(test_buffer_across_ram_hole),
		T(test_total_length_overflow),
		T(test_indirect_without_feature),
		T(test_indirect_zero_length),
		T(test_indirect_bad_length),
		T(test_indirect_table_outside_ram),
		T(test_indirect_inside_indirect),
		T(test_indirect_with_next),
		T(test_writable_before_readable),
		T(test_writable_before_readable_indirect),
		T(test_avail_idx_jump),
		T(test_avail_idx_backwards),
		T(test_broken_queue_recovers_after_reset),
		T(test_unpop_gives_the_chain_back),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
