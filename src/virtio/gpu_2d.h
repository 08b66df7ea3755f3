/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-gpu's 2D command set (virtio 1.2, 5.7), apart from any queue or
 * transport so that it can be tested and fuzzed alone: a request's bytes
 * in, a response's bytes out, guest memory only through guest_mem_ptr().
 * The device (virtio/gpu.c) moves requests between the queues and this.
 *
 * What a guest does with it: it creates resources (host-side images of
 * one of eight 32-bit formats), attaches guest pages to them as backing,
 * copies rectangles from the backing into the image (TRANSFER_TO_HOST_2D),
 * shows a rectangle of one on the scanout (SET_SCANOUT) and says which
 * part changed (RESOURCE_FLUSH). The front ends read the scanout's image
 * (gpu_2d_update: only rows flushed since the last call). The cursor queue
 * points the cursor at a 64x64 resource and moves it.
 *
 * Everything in a request is the guest's: ids, formats, sizes, rectangles,
 * offsets and backing pages are checked before use (sizes and sums in 64
 * bits); a bad one gets an error response (ERR_INVALID_*, ERR_UNSPEC, or
 * ERR_OUT_OF_MEMORY past max_hostmem of images) and changes nothing.
 *
 * One scanout; no 3D (virgl), blobs or UUIDs: those commands get
 * ERR_UNSPEC. Not thread-safe: the device holds its lock around every
 * call.
 */
#ifndef PHYLLO_VIRTIO_GPU_2D_H
#define PHYLLO_VIRTIO_GPU_2D_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "base/memory.h"
#include "dev/display.h"

#define GPU_MAX_RESOURCES 1024
#define GPU_MAX_HOSTMEM (256ull << 20)  /* all images together, as QEMU's default */
#define GPU_MAX_DIM 16384               /* a resource's width or height */
#define GPU_MAX_BACKING_ENTRIES 16384   /* pages of one resource's backing */
#define GPU_CURSOR_SIZE 64
/* The largest request: ATTACH_BACKING with every entry it may have. */
#define GPU_REQ_MAX (32 + 16 * GPU_MAX_BACKING_ENTRIES)
#define GPU_RESP_MAX 1056 /* the largest response: GET_EDID's */

/* Command and response types, as the spec numbers them. */
enum {
	GPU_CMD_GET_DISPLAY_INFO = 0x0100,
	GPU_CMD_RESOURCE_CREATE_2D,
	GPU_CMD_RESOURCE_UNREF,
	GPU_CMD_SET_SCANOUT,
	GPU_CMD_RESOURCE_FLUSH,
	GPU_CMD_TRANSFER_TO_HOST_2D,
	GPU_CMD_RESOURCE_ATTACH_BACKING,
	GPU_CMD_RESOURCE_DETACH_BACKING,
	GPU_CMD_GET_CAPSET_INFO,
	GPU_CMD_GET_CAPSET,
	GPU_CMD_GET_EDID,
	GPU_CMD_UPDATE_CURSOR = 0x0300,
	GPU_CMD_MOVE_CURSOR,
	GPU_RESP_OK_NODATA = 0x1100,
	GPU_RESP_OK_DISPLAY_INFO,
	GPU_RESP_OK_CAPSET_INFO,
	GPU_RESP_OK_CAPSET,
	GPU_RESP_OK_EDID,
	GPU_RESP_ERR_UNSPEC = 0x1200,
	GPU_RESP_ERR_OUT_OF_MEMORY,
	GPU_RESP_ERR_INVALID_SCANOUT_ID,
	GPU_RESP_ERR_INVALID_RESOURCE_ID,
	GPU_RESP_ERR_INVALID_CONTEXT_ID,
	GPU_RESP_ERR_INVALID_PARAMETER,
};

#define GPU_FLAG_FENCE 1
#define GPU_FLAG_INFO_RING_IDX 2

/* The pixel formats (enum virtio_gpu_formats); all are 4 bytes a pixel. */
enum {
	GPU_FORMAT_B8G8R8A8_UNORM = 1,
	GPU_FORMAT_B8G8R8X8_UNORM = 2,
	GPU_FORMAT_A8R8G8B8_UNORM = 3,
	GPU_FORMAT_X8R8G8B8_UNORM = 4,
	GPU_FORMAT_R8G8B8A8_UNORM = 67,
	GPU_FORMAT_X8B8G8R8_UNORM = 68,
	GPU_FORMAT_A8B8G8R8_UNORM = 121,
	GPU_FORMAT_R8G8B8X8_UNORM = 134,
};

struct gpu_ctrl_hdr {
	uint32_t type, flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx, padding[3];
};
_Static_assert(sizeof(struct gpu_ctrl_hdr) == 24, "virtio_gpu_ctrl_hdr layout");

struct gpu_rect {
	uint32_t x, y, width, height;
};

struct gpu_mem_entry {
	uint64_t addr;
	uint32_t length, padding;
};

struct gpu_resource {
	uint32_t id, format, width, height;
	uint32_t *pixels;             /* width * height, in the resource's format */
	uint32_t nr_entries;          /* 0: no backing */
	struct gpu_mem_entry *entries;
	struct iovec *iov;            /* entries' host addresses (guest_mem_ptr) */
	uint64_t backing_len;
};

struct gpu_scanout {
	uint32_t resource_id; /* 0: off */
	struct gpu_rect r;    /* what of the resource it shows */
};

struct gpu_cursor {
	uint32_t resource_id; /* 0: no cursor */
	uint32_t hot_x, hot_y;
	uint32_t x, y;
	uint32_t image[GPU_CURSOR_SIZE * GPU_CURSOR_SIZE]; /* 0xAARRGGBB */
	uint32_t serial;      /* bumped when the image or position changes */
};

struct gpu_2d {
	struct guest_mem *mem;
	struct gpu_resource *res[GPU_MAX_RESOURCES]; /* the first nres are in use */
	unsigned int nres;
	uint64_t hostmem;           /* bytes of every resource's pixels */
	uint64_t max_hostmem;       /* their limit: GPU_MAX_HOSTMEM (less in the fuzzer) */
	uint32_t width, height;     /* the monitor's preferred mode (display info, EDID) */
	struct gpu_scanout scanout;
	struct gpu_cursor cursor;
	bool full;                  /* the next update converts every row */
	bool any_dirty;
	uint8_t dirty[DISPLAY_MAX_HEIGHT]; /* scanout rows flushed since the last update */
};

/* A device with nothing in it, whose monitor prefers width x height. */
void gpu_2d_init(struct gpu_2d *g, struct guest_mem *mem, uint32_t width, uint32_t height);
/* Free every resource: device reset, and the end. The preferred mode stays. */
void gpu_2d_reset(struct gpu_2d *g);
/*
 * One control queue request (len bytes) into its response (at most
 * GPU_RESP_MAX bytes, which resp must hold): returns the response's length.
 */
size_t gpu_2d_command(struct gpu_2d *g, const uint8_t *req, size_t len, uint8_t *resp);
/* One cursor queue request: it has no response. */
void gpu_2d_cursor_command(struct gpu_2d *g, const uint8_t *req, size_t len);
/* A new preferred mode (the viewer's window): -EINVAL past what an EDID says. */
int gpu_2d_set_preferred(struct gpu_2d *g, uint32_t width, uint32_t height);
/* display_source_ops' read_frame and update, on the scanout. */
int gpu_2d_read_frame(struct gpu_2d *g, struct display_frame *f);
int gpu_2d_update(struct gpu_2d *g, struct display_frame *f, uint8_t *rows);
/* The resource with this id, or NULL. */
struct gpu_resource *gpu_2d_find(const struct gpu_2d *g, uint32_t id);

/*
 * Snapshots (gpu_2d_state.c): every resource (format, size, backing pages,
 * pixels), the scanout, the cursor and the preferred mode, as one
 * malloc'd buffer; load checks it all as it would a guest's commands
 * (the file is not trusted either) onto a device just reset, -EBADMSG with
 * a message naming what is wrong.
 */
int gpu_2d_save(const struct gpu_2d *g, uint8_t **buf, size_t *len);
int gpu_2d_load(struct gpu_2d *g, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* Internal to gpu_2d*.c, the checks load shares: each returns a response
 * type (GPU_RESP_OK_NODATA or the error). */
uint32_t gpu_2d_add_resource(struct gpu_2d *g, uint32_t id, uint32_t format, uint32_t width,
			uint32_t height, struct gpu_resource **out);
uint32_t gpu_2d_attach(struct gpu_2d *g, struct gpu_resource *r, const struct gpu_mem_entry *e,
		       uint32_t n);
uint32_t gpu_2d_set_scanout(struct gpu_2d *g, uint32_t resource_id, const struct gpu_rect *rect);

#endif
