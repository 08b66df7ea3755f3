/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-gpu requests as Linux's virtio_gpu driver lays them out, for the
 * 2D command set's test and fuzzer (src/virtio/gpu_2d.h): each helper
 * fills buf and returns the request's length.
 */
#ifndef PHYLLO_TEST_GPU_CMDS_H
#define PHYLLO_TEST_GPU_CMDS_H

#include <stdint.h>
#include <string.h>

#include "virtio/gpu_2d.h"

static inline void gc_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void gc_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static inline size_t gc_hdr(uint8_t *buf, uint32_t type, size_t len)
{
	memset(buf, 0, len);
	gc_put32(buf, type);
	return len;
}

static inline size_t gc_create(uint8_t *buf, uint32_t id, uint32_t format, uint32_t w, uint32_t h)
{
	gc_hdr(buf, GPU_CMD_RESOURCE_CREATE_2D, 40);
	gc_put32(buf + 24, id);
	gc_put32(buf + 28, format);
	gc_put32(buf + 32, w);
	gc_put32(buf + 36, h);
	return 40;
}

/* One backing entry: len bytes at gpa. */
static inline size_t gc_attach(uint8_t *buf, uint32_t id, uint64_t gpa, uint32_t len)
{
	gc_hdr(buf, GPU_CMD_RESOURCE_ATTACH_BACKING, 48);
	gc_put32(buf + 24, id);
	gc_put32(buf + 28, 1);
	gc_put64(buf + 32, gpa);
	gc_put32(buf + 40, len);
	return 48;
}

static inline size_t gc_rect_cmd(uint8_t *buf, uint32_t type, uint32_t x, uint32_t y, uint32_t w,
				 uint32_t h)
{
	gc_hdr(buf, type, type == GPU_CMD_TRANSFER_TO_HOST_2D ? 56 : 48);
	gc_put32(buf + 24, x);
	gc_put32(buf + 28, y);
	gc_put32(buf + 32, w);
	gc_put32(buf + 36, h);
	return type == GPU_CMD_TRANSFER_TO_HOST_2D ? 56 : 48;
}

static inline size_t gc_scanout(uint8_t *buf, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
				uint32_t h)
{
	size_t n = gc_rect_cmd(buf, GPU_CMD_SET_SCANOUT, x, y, w, h);

	gc_put32(buf + 40, 0); /* scanout 0 */
	gc_put32(buf + 44, id);
	return n;
}

static inline size_t gc_transfer(uint8_t *buf, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
				 uint32_t h, uint64_t offset)
{
	size_t n = gc_rect_cmd(buf, GPU_CMD_TRANSFER_TO_HOST_2D, x, y, w, h);

	gc_put64(buf + 40, offset);
	gc_put32(buf + 48, id);
	return n;
}

static inline size_t gc_flush(uint8_t *buf, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
			      uint32_t h)
{
	size_t n = gc_rect_cmd(buf, GPU_CMD_RESOURCE_FLUSH, x, y, w, h);

	gc_put32(buf + 40, id);
	return n;
}

static inline size_t gc_id_cmd(uint8_t *buf, uint32_t type, uint32_t id)
{
	gc_hdr(buf, type, 32);
	gc_put32(buf + 24, id);
	return 32;
}

static inline size_t gc_cursor(uint8_t *buf, uint32_t type, uint32_t id, uint32_t x, uint32_t y,
			       uint32_t hot_x, uint32_t hot_y)
{
	gc_hdr(buf, type, 56);
	gc_put32(buf + 28, x);
	gc_put32(buf + 32, y);
	gc_put32(buf + 40, id);
	gc_put32(buf + 44, hot_x);
	gc_put32(buf + 48, hot_y);
	return 56;
}

#endif
