// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the fuzzer's input is a qcow2 image file.
 *
 * It is written to a memfd and opened through /proc/self/fd/N (no disk,
 * no cleanup), first read-only: header, extensions, L1/L2 walking and
 * decompression through reads at offsets picked from the input; then
 * writable: the refcount table, allocation, refcount block creation and
 * table growth, copy-on-write and freeing, through a few writes, discards
 * and write-zeroes, and reads back. Backing files are refused (no_backing),
 * so the input names no other file. Operations are small and few, so each
 * run is bounded by the input's size. Nothing may crash, leak, hang or
 * trip a sanitizer; errors are fine.
 *
 * Seeds: a few small images (qemu-img create/convert with 512-byte
 * clusters, some data, a compressed one) in fuzz_qcow2_corpus/.
 *
 *   build/fuzz/tests/unit/block/fuzz_qcow2 -max_total_time=20 -max_len=65536 \
 *     tests/unit/block/fuzz_qcow2_corpus
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/blk.h"
#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (1u << 20)
#define MAX_IO (64u << 10)

static int image_fd = -1;
static char image_path[64];
static uint8_t io_buf[MAX_IO];

static uint64_t pick(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
	return *seed >> 17;
}

static void do_reads(struct blk *b, uint64_t *seed)
{
	uint64_t size = blk_size(b);

	for (int i = 0; i < 6 && size; i++) {
		uint64_t len = 1 + pick(seed) % MAX_IO, off;
		struct iovec iov[2];

		if (len > size)
			len = size;
		off = i == 0 ? 0 : pick(seed) % (size - len + 1);
		iov[0] = (struct iovec){ io_buf, len / 2 };
		iov[1] = (struct iovec){ io_buf + len / 2, len - len / 2 };
		blk_read(b, off, iov, 2);
	}
}

static void do_changes(struct blk *b, uint64_t *seed)
{
	uint64_t size = blk_size(b);

	for (int i = 0; i < 8 && size; i++) {
		uint64_t len = 1 + pick(seed) % MAX_IO, off;
		struct iovec iov = { io_buf, 0 };

		if (len > size)
			len = size;
		off = pick(seed) % (size - len + 1);
		iov.iov_len = len;
		switch (pick(seed) % 4) {
		case 0:
		case 1:
			memset(io_buf, (int)i, len);
			blk_write(b, off, &iov, 1);
			break;
		case 2:
			blk_discard(b, off, len);
			break;
		default:
			blk_write_zeroes(b, off, len, pick(seed) & 1);
			break;
		}
	}
}

static void run(bool readonly, uint64_t seed)
{
	struct blk_open_opts o = { .readonly = readonly, .format = BLK_FORMAT_QCOW2,
				   .no_backing = true };
	struct blk *b;
	char err[256];

	if (blk_open(image_path, &o, &b, err, sizeof(err)))
		return;
	do_reads(b, &seed);
	if (!readonly) {
		do_changes(b, &seed);
		do_reads(b, &seed);
	}
	blk_close(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 0;

	if (image_fd < 0) {
		image_fd = memfd_create("fuzz.qcow2", MFD_CLOEXEC);
		if (image_fd < 0)
			abort();
		snprintf(image_path, sizeof(image_path), "/proc/self/fd/%d", image_fd);
		/* Errors are expected by the thousand: keep them quiet. */
		log_set_level(LOG_ERROR);
		if (log_set_file("/dev/null"))
			abort();
	}
	if (size > MAX_INPUT)
		return 0;
	for (size_t i = 0; i < size && i < 128; i++)
		seed = seed * 31 + data[i];
	if (ftruncate(image_fd, 0) || (size && pwrite(image_fd, data, size, 0) != (ssize_t)size))
		abort();
	run(true, seed);
	run(false, seed);
	return 0;
}
