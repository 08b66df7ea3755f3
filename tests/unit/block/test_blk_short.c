// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A transfer on the io_uring that moves fewer bytes than asked is not an
 * I/O error (the kernel may split one, as read(2) may): the virtio-blk
 * request path (src/virtio/blk_queues.c) finishes the rest the synchronous
 * way, and a read that meets the file's end reads zeros there, as the
 * synchronous path does. The case made here: the image file is cut short
 * behind the open image (as a qcow2 file is short of a cluster that an
 * in-flight write allocated at its end), so a read at the end comes back
 * short from the kernel; the guest must get OK, the file's bytes and then
 * zeros, the same with io_uring and without. Writes there still work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../virtio/guest_driver.h"
#include "base/memory.h"
#include "block/blk.h"
#include "virtio/blk_queues.h"
#include "virtio/virtq.h"

#define IMAGE_BYTES (64u << 10)
#define CUT_BYTES (60u << 10)
#define RAM (256u << 10)
#define HDR_GPA 0x8000
#define DATA_GPA 0x9000
#define STATUS_GPA 0xf000

static struct virtq vq;

static struct virtq *hook_queue(void *opaque, uint16_t queue)
{
	(void)opaque;
	return queue == 0 ? &vq : NULL;
}

static void hook_nothing(void *opaque, uint16_t queue)
{
	(void)opaque;
	(void)queue;
}

static void hook_needs_reset(void *opaque)
{
	(void)opaque;
	fail_msg("the device asked for a reset");
}

static const struct blk_queues_ops hooks = {
	.queue = hook_queue,
	.queue_done = hook_nothing,
	.needs_reset = hook_needs_reset,
	.kick_later = hook_nothing,
};

/* One request of TYPE at SECTOR with LEN data bytes; returns its status. */
static uint8_t request(struct guest_driver *gd, struct blk_queues *bq, uint32_t type,
		       uint64_t sector, uint32_t len, uint32_t *used_len)
{
	uint8_t *hdr = gd_ptr(gd, HDR_GPA, 16);
	uint32_t id;
	bool in = type == VIRTIO_BLK_T_IN;

	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	*(uint8_t *)gd_ptr(gd, STATUS_GPA, 1) = 0xee;
	gd_set_desc(gd, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	gd_set_desc(gd, 1, DATA_GPA, len, (uint16_t)(VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0)),
		    2);
	gd_set_desc(gd, 2, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
	gd_publish(gd, 0);
	blk_queues_notify(bq, 0);
	blk_queues_drain(bq);
	assert_int_equal(bq->in_flight, 0);
	assert_true(gd_get_used(gd, &id, used_len));
	assert_int_equal(id, 0);
	return *(uint8_t *)gd_ptr(gd, STATUS_GPA, 1);
}

static void read_past_cut(bool uring)
{
	char path[] = "/tmp/test_blk_short.XXXXXX";
	struct blk_open_opts o = { .format = BLK_FORMAT_RAW };
	struct guest_driver gd;
	struct guest_mem mem;
	struct blk_queues bq;
	struct blk *image;
	static uint8_t fill[IMAGE_BYTES];
	char err[256];
	uint32_t used;
	uint8_t *data;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	memset(fill, 0x5a, sizeof(fill));
	assert_int_equal(write(fd, fill, sizeof(fill)), (ssize_t)sizeof(fill));
	close(fd);
	assert_int_equal(blk_open(path, &o, &image, err, sizeof(err)), 0);
	assert_int_equal(blk_size(image), IMAGE_BYTES);
	/* The file loses its last 4 KiB under the open image. */
	assert_int_equal(truncate(path, CUT_BYTES), 0);

	assert_int_equal(guest_mem_init(&mem, RAM), 0);
	mem.low_size = RAM;
	mem.high_size = 0;
	memset(guest_mem_ptr(&mem, 0, RAM), 0, RAM);
	gd_layout(&gd, &mem, 8, 0);
	assert_int_equal(gd_init_virtq(&gd, &vq, false, false), 0);
	blk_queues_init(&bq, image, "test-blk", "serial", &hooks, NULL, uring);
	if (uring && !bq.uring_ok)
		fail_msg("no io_uring on this machine: the asynchronous path is not tested");

	/* 8 KiB from 56 KiB: 4 KiB in the file, 4 KiB past its end. */
	data = gd_ptr(&gd, DATA_GPA, 8192);
	memset(data, 0xcc, 8192);
	assert_int_equal(request(&gd, &bq, VIRTIO_BLK_T_IN, (56u << 10) / 512, 8192, &used),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(used, 8192 + 1);
	for (unsigned int i = 0; i < 8192; i++)
		if (data[i] != (i < 4096 ? 0x5a : 0))
			fail_msg("byte %u of the read is 0x%02x", i, data[i]);

	/* A write past the cut grows the file again; reading it back sees it. */
	memset(data, 0x77, 4096);
	assert_int_equal(request(&gd, &bq, VIRTIO_BLK_T_OUT, (60u << 10) / 512, 4096, &used),
			 VIRTIO_BLK_S_OK);
	memset(data, 0, 4096);
	assert_int_equal(request(&gd, &bq, VIRTIO_BLK_T_IN, (60u << 10) / 512, 4096, &used),
			 VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 4096; i++)
		if (data[i] != 0x77)
			fail_msg("byte %u read back is 0x%02x", i, data[i]);

	blk_queues_fini(&bq);
	blk_close(image);
	guest_mem_free(&mem);
	unlink(path);
}

static void test_short_read_uring(void **state)
{
	(void)state;
	read_past_cut(true);
}

static void test_short_read_sync(void **state)
{
	(void)state;
	read_past_cut(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_read_uring),
		cmocka_unit_test(test_short_read_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
