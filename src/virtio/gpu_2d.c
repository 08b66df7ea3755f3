// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-gpu's 2D commands (gpu_2d.h): the checks, the images, and the
 * conversion of the scanout's image into the XRGB frames front ends take.
 * Every request field is read once into a local copy and checked there.
 */
#include "virtio/gpu_2d.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "display/edid.h"

#define MAX_SCANOUTS 16 /* the display info response's fixed array */

struct gpu_resp_display_info {
	struct gpu_ctrl_hdr hdr;
	struct {
		struct gpu_rect r;
		uint32_t enabled, flags;
	} pmodes[MAX_SCANOUTS];
};
_Static_assert(sizeof(struct gpu_resp_display_info) == 408, "display info layout");

struct gpu_resp_edid {
	struct gpu_ctrl_hdr hdr;
	uint32_t size, padding;
	uint8_t edid[1024];
};
_Static_assert(sizeof(struct gpu_resp_edid) == GPU_RESP_MAX, "edid response layout");

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static struct gpu_rect rd_rect(const uint8_t *p)
{
	return (struct gpu_rect){ rd32(p), rd32(p + 4), rd32(p + 8), rd32(p + 12) };
}

static bool format_known(uint32_t f)
{
	switch (f) {
	case GPU_FORMAT_B8G8R8A8_UNORM: case GPU_FORMAT_B8G8R8X8_UNORM:
	case GPU_FORMAT_A8R8G8B8_UNORM: case GPU_FORMAT_X8R8G8B8_UNORM:
	case GPU_FORMAT_R8G8B8A8_UNORM: case GPU_FORMAT_X8B8G8R8_UNORM:
	case GPU_FORMAT_A8B8G8R8_UNORM: case GPU_FORMAT_R8G8B8X8_UNORM:
		return true;
	default:
		return false;
	}
}

/* A pixel as the guest stored it (a little-endian word) to 0xAARRGGBB;
 * X formats get alpha 0xff. */
static uint32_t to_argb(uint32_t format, uint32_t v)
{
	uint32_t a = 0xff000000u;

	switch (format) {
	case GPU_FORMAT_B8G8R8A8_UNORM: /* bytes B G R A */
		return v;
	case GPU_FORMAT_B8G8R8X8_UNORM:
		return v | a;
	case GPU_FORMAT_A8R8G8B8_UNORM: /* bytes A R G B */
		return __builtin_bswap32(v);
	case GPU_FORMAT_X8R8G8B8_UNORM:
		return __builtin_bswap32(v) | a;
	case GPU_FORMAT_R8G8B8A8_UNORM: /* bytes R G B A */
		return (v & 0xff00ff00u) | (v >> 16 & 0xff) | (v & 0xff) << 16;
	case GPU_FORMAT_R8G8B8X8_UNORM:
		return (v & 0x0000ff00u) | (v >> 16 & 0xff) | (v & 0xff) << 16 | a;
	case GPU_FORMAT_A8B8G8R8_UNORM: /* bytes A B G R */
		return (v >> 24) << 16 | (v >> 16 & 0xff) << 8 | (v >> 8 & 0xff) | (v & 0xff) << 24;
	default: /* X8B8G8R8: bytes X B G R */
		return (v >> 24) << 16 | (v >> 16 & 0xff) << 8 | (v >> 8 & 0xff) | a;
	}
}

static void convert_row(const struct gpu_resource *r, const uint32_t *src, uint32_t width,
			uint32_t *out)
{
	if (r->format == GPU_FORMAT_B8G8R8X8_UNORM || r->format == GPU_FORMAT_B8G8R8A8_UNORM) {
		for (uint32_t x = 0; x < width; x++) /* what Linux uses: XRGB8888 */
			out[x] = src[x] & 0xffffff;
		return;
	}
	for (uint32_t x = 0; x < width; x++)
		out[x] = to_argb(r->format, src[x]) & 0xffffff;
}

void gpu_2d_init(struct gpu_2d *g, struct guest_mem *mem, uint32_t width, uint32_t height)
{
	memset(g, 0, sizeof(*g));
	g->mem = mem;
	g->width = width;
	g->height = height;
	g->max_hostmem = GPU_MAX_HOSTMEM;
	g->full = true;
}

struct gpu_resource *gpu_2d_find(const struct gpu_2d *g, uint32_t id)
{
	for (unsigned int i = 0; i < g->nres; i++)
		if (g->res[i]->id == id)
			return g->res[i];
	return NULL;
}

static void detach(struct gpu_resource *r)
{
	free(r->entries);
	free(r->iov);
	r->entries = NULL;
	r->iov = NULL;
	r->nr_entries = 0;
	r->backing_len = 0;
}

static void unref(struct gpu_2d *g, unsigned int i)
{
	struct gpu_resource *r = g->res[i];

	if (g->scanout.resource_id == r->id)
		memset(&g->scanout, 0, sizeof(g->scanout)); /* as QEMU: the scanout goes dark */
	g->hostmem -= (uint64_t)r->width * r->height * 4;
	detach(r);
	free(r->pixels);
	free(r);
	g->res[i] = g->res[--g->nres];
}

void gpu_2d_reset(struct gpu_2d *g)
{
	while (g->nres)
		unref(g, g->nres - 1);
	memset(&g->scanout, 0, sizeof(g->scanout));
	memset(&g->cursor, 0, sizeof(g->cursor));
	g->full = true;
}

uint32_t gpu_2d_add_resource(struct gpu_2d *g, uint32_t id, uint32_t format, uint32_t width,
			     uint32_t height, struct gpu_resource **out)
{
	uint64_t bytes = (uint64_t)width * height * 4;
	struct gpu_resource *r;

	if (!id || gpu_2d_find(g, id))
		return GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!format_known(format) || !width || !height || width > GPU_MAX_DIM ||
	    height > GPU_MAX_DIM)
		return GPU_RESP_ERR_INVALID_PARAMETER;
	if (g->nres == GPU_MAX_RESOURCES || bytes > g->max_hostmem - g->hostmem)
		return GPU_RESP_ERR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return GPU_RESP_ERR_OUT_OF_MEMORY;
	r->pixels = calloc(1, bytes); /* a new image is transparent black */
	if (!r->pixels) {
		free(r);
		return GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r->id = id;
	r->format = format;
	r->width = width;
	r->height = height;
	g->hostmem += bytes;
	g->res[g->nres++] = r;
	if (out)
		*out = r;
	return GPU_RESP_OK_NODATA;
}

uint32_t gpu_2d_attach(struct gpu_2d *g, struct gpu_resource *r, const struct gpu_mem_entry *e,
		       uint32_t n)
{
	struct gpu_mem_entry *entries;
	struct iovec *iov;
	uint64_t total = 0;

	if (r->nr_entries)
		return GPU_RESP_ERR_UNSPEC; /* backing already: detach first */
	if (!n || n > GPU_MAX_BACKING_ENTRIES)
		return GPU_RESP_ERR_INVALID_PARAMETER;
	entries = malloc(n * sizeof(*entries));
	iov = malloc(n * sizeof(*iov));
	if (!entries || !iov) {
		free(entries);
		free(iov);
		return GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	for (uint32_t i = 0; i < n; i++) {
		entries[i] = (struct gpu_mem_entry){ e[i].addr, e[i].length, 0 };
		iov[i].iov_len = e[i].length;
		iov[i].iov_base = e[i].length ? guest_mem_ptr(g->mem, e[i].addr, e[i].length) : NULL;
		if (!iov[i].iov_base) { /* empty, or not all of it RAM */
			free(entries);
			free(iov);
			return GPU_RESP_ERR_INVALID_PARAMETER;
		}
		total += e[i].length;
	}
	r->entries = entries;
	r->iov = iov;
	r->nr_entries = n;
	r->backing_len = total;
	return GPU_RESP_OK_NODATA;
}

/* Whether rect lies inside a width x height image (and is not empty). */
static bool rect_inside(const struct gpu_rect *rc, uint32_t width, uint32_t height)
{
	return rc->width && rc->height && (uint64_t)rc->x + rc->width <= width &&
	       (uint64_t)rc->y + rc->height <= height;
}

uint32_t gpu_2d_set_scanout(struct gpu_2d *g, uint32_t resource_id, const struct gpu_rect *rc)
{
	struct gpu_resource *r;

	if (!resource_id || !rc->width || !rc->height) { /* the driver turns it off */
		memset(&g->scanout, 0, sizeof(g->scanout));
		g->full = true;
		return GPU_RESP_OK_NODATA;
	}
	r = gpu_2d_find(g, resource_id);
	if (!r)
		return GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(rc, r->width, r->height) || rc->width > DISPLAY_MAX_WIDTH ||
	    rc->height > DISPLAY_MAX_HEIGHT)
		return GPU_RESP_ERR_INVALID_PARAMETER;
	g->scanout.resource_id = resource_id;
	g->scanout.r = *rc;
	g->full = true;
	return GPU_RESP_OK_NODATA;
}

/*
 * Copy len bytes from offset off of r's backing into dst. *pos remembers
 * where the last copy ended (entry and its start offset), so a transfer's
 * rows, which go forward, cost one pass over the entries in all. The
 * caller has checked that [off, off + len) lies inside the backing.
 */
struct backing_pos {
	uint32_t i;
	uint64_t start;
};

static void backing_read(const struct gpu_resource *r, struct backing_pos *pos, uint64_t off,
			 uint8_t *dst, size_t len)
{
	if (off < pos->start)
		*pos = (struct backing_pos){ 0, 0 };
	while (pos->i < r->nr_entries && off >= pos->start + r->iov[pos->i].iov_len)
		pos->start += r->iov[pos->i++].iov_len;
	for (uint32_t i = pos->i; len && i < r->nr_entries; i++) {
		uint64_t start = i == pos->i ? pos->start : off;
		size_t in = (size_t)(off - start), take = r->iov[i].iov_len - in;

		if (take > len)
			take = len;
		memcpy(dst, (const uint8_t *)r->iov[i].iov_base + in, take);
		dst += take;
		off += take;
		len -= take;
	}
}

static uint32_t transfer(struct gpu_2d *g, const struct gpu_rect *rc, uint64_t offset,
			 uint32_t id)
{
	struct gpu_resource *r = gpu_2d_find(g, id);
	struct backing_pos pos = { 0, 0 };
	uint64_t stride, rowbytes;

	if (!r)
		return GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!r->nr_entries)
		return GPU_RESP_ERR_UNSPEC; /* nothing to transfer from */
	if (!rect_inside(rc, r->width, r->height))
		return GPU_RESP_ERR_INVALID_PARAMETER;
	stride = (uint64_t)r->width * 4;
	rowbytes = (uint64_t)rc->width * 4;
	/* Row h of the rectangle is at offset + h * stride in the backing (what
	 * Linux and QEMU do); all of the last row must be there. Each term is
	 * below 2^48, so the sum cannot wrap once offset is below 2^62. */
	if (offset >= 1ull << 62 || offset + (rc->height - 1) * stride + rowbytes > r->backing_len)
		return GPU_RESP_ERR_INVALID_PARAMETER;
	for (uint32_t h = 0; h < rc->height; h++)
		backing_read(r, &pos, offset + h * stride,
			     (uint8_t *)(r->pixels + (size_t)(rc->y + h) * r->width + rc->x),
			     (size_t)rowbytes);
	return GPU_RESP_OK_NODATA;
}

static uint32_t flush(struct gpu_2d *g, const struct gpu_rect *rc, uint32_t id)
{
	struct gpu_resource *r = gpu_2d_find(g, id);
	const struct gpu_rect *s = &g->scanout.r;
	uint64_t top, bottom;

	if (!r)
		return GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!rect_inside(rc, r->width, r->height))
		return GPU_RESP_ERR_INVALID_PARAMETER;
	if (g->scanout.resource_id != id)
		return GPU_RESP_OK_NODATA; /* not shown: nothing to do */
	/* The rows of the scanout the rectangle covers, if any. */
	top = rc->y > s->y ? rc->y : s->y;
	bottom = (uint64_t)rc->y + rc->height < (uint64_t)s->y + s->height ?
			 (uint64_t)rc->y + rc->height : (uint64_t)s->y + s->height;
	if ((uint64_t)rc->x >= (uint64_t)s->x + s->width || (uint64_t)rc->x + rc->width <= s->x)
		return GPU_RESP_OK_NODATA;
	for (uint64_t y = top; y < bottom; y++)
		g->dirty[y - s->y] = 1;
	g->any_dirty |= top < bottom;
	return GPU_RESP_OK_NODATA;
}

static size_t display_info(const struct gpu_2d *g, uint8_t *resp)
{
	struct gpu_resp_display_info d = { 0 };

	d.hdr.type = htole32(GPU_RESP_OK_DISPLAY_INFO);
	d.pmodes[0].r.width = htole32(g->width);
	d.pmodes[0].r.height = htole32(g->height);
	d.pmodes[0].enabled = htole32(1);
	memcpy(resp, &d, sizeof(d));
	return sizeof(d);
}

static size_t get_edid(const struct gpu_2d *g, uint32_t scanout, uint8_t *resp, uint32_t *type)
{
	struct gpu_resp_edid e = { 0 };

	if (scanout != 0) {
		*type = GPU_RESP_ERR_INVALID_SCANOUT_ID;
		return 0;
	}
	if (edid_build(e.edid, g->width, g->height) < 0) { /* set_preferred keeps it possible */
		*type = GPU_RESP_ERR_UNSPEC;
		return 0;
	}
	e.hdr.type = htole32(GPU_RESP_OK_EDID);
	e.size = htole32(EDID_SIZE);
	memcpy(resp, &e, sizeof(e));
	return sizeof(e);
}

/* ATTACH_BACKING: nr_entries entries follow the 32 bytes of the command. */
static uint32_t attach_cmd(struct gpu_2d *g, const uint8_t *req, size_t len)
{
	struct gpu_resource *r = gpu_2d_find(g, rd32(req + 24));
	uint32_t n = rd32(req + 28);
	struct gpu_mem_entry *e;
	uint32_t ret;

	if (!r)
		return GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!n || n > GPU_MAX_BACKING_ENTRIES || len < 32 + (size_t)n * 16)
		return GPU_RESP_ERR_INVALID_PARAMETER;
	e = malloc((size_t)n * sizeof(*e));
	if (!e)
		return GPU_RESP_ERR_OUT_OF_MEMORY;
	for (uint32_t i = 0; i < n; i++)
		e[i] = (struct gpu_mem_entry){ rd64(req + 32 + 16 * (size_t)i),
					       rd32(req + 40 + 16 * (size_t)i), 0 };
	ret = gpu_2d_attach(g, r, e, n);
	free(e);
	return ret;
}

/* The length each command must at least have. */
static size_t command_len(uint32_t type)
{
	switch (type) {
	case GPU_CMD_GET_DISPLAY_INFO: return 24;
	case GPU_CMD_RESOURCE_CREATE_2D: return 40;
	case GPU_CMD_RESOURCE_UNREF: return 32;
	case GPU_CMD_SET_SCANOUT: return 48;
	case GPU_CMD_RESOURCE_FLUSH: return 48;
	case GPU_CMD_TRANSFER_TO_HOST_2D: return 56;
	case GPU_CMD_RESOURCE_ATTACH_BACKING: return 32;
	case GPU_CMD_RESOURCE_DETACH_BACKING: return 32;
	case GPU_CMD_GET_CAPSET_INFO: return 32;
	case GPU_CMD_GET_EDID: return 32;
	default: return 24;
	}
}

size_t gpu_2d_command(struct gpu_2d *g, const uint8_t *req, size_t len, uint8_t *resp)
{
	struct gpu_ctrl_hdr hdr = { 0 };
	uint32_t type = GPU_RESP_ERR_UNSPEC, cmd;
	size_t n = 0;

	if (len < sizeof(hdr))
		goto reply; /* not even a header: an error, no fence */
	memcpy(&hdr, req, sizeof(hdr));
	cmd = le32toh(hdr.type);
	if (len < command_len(cmd))
		goto reply;
	switch (cmd) {
	case GPU_CMD_GET_DISPLAY_INFO:
		n = display_info(g, resp);
		type = GPU_RESP_OK_DISPLAY_INFO;
		break;
	case GPU_CMD_GET_EDID:
		n = get_edid(g, rd32(req + 24), resp, &type);
		if (n)
			type = GPU_RESP_OK_EDID;
		break;
	case GPU_CMD_RESOURCE_CREATE_2D:
		type = gpu_2d_add_resource(g, rd32(req + 24), rd32(req + 28), rd32(req + 32),
					   rd32(req + 36), NULL);
		break;
	case GPU_CMD_RESOURCE_UNREF: {
		uint32_t id = rd32(req + 24);

		type = GPU_RESP_ERR_INVALID_RESOURCE_ID;
		for (unsigned int i = 0; i < g->nres; i++) {
			if (g->res[i]->id == id) {
				if (g->scanout.resource_id == id)
					g->full = true;
				unref(g, i);
				type = GPU_RESP_OK_NODATA;
				break;
			}
		}
		break;
	}
	case GPU_CMD_SET_SCANOUT: {
		struct gpu_rect rc = rd_rect(req + 24);

		type = rd32(req + 40) != 0 ? GPU_RESP_ERR_INVALID_SCANOUT_ID :
					    gpu_2d_set_scanout(g, rd32(req + 44), &rc);
		break;
	}
	case GPU_CMD_RESOURCE_FLUSH: {
		struct gpu_rect rc = rd_rect(req + 24);

		type = flush(g, &rc, rd32(req + 40));
		break;
	}
	case GPU_CMD_TRANSFER_TO_HOST_2D: {
		struct gpu_rect rc = rd_rect(req + 24);

		type = transfer(g, &rc, rd64(req + 40), rd32(req + 48));
		break;
	}
	case GPU_CMD_RESOURCE_ATTACH_BACKING:
		type = attach_cmd(g, req, len);
		break;
	case GPU_CMD_RESOURCE_DETACH_BACKING: {
		struct gpu_resource *r = gpu_2d_find(g, rd32(req + 24));

		type = !r ? GPU_RESP_ERR_INVALID_RESOURCE_ID :
		       !r->nr_entries ? GPU_RESP_ERR_UNSPEC : GPU_RESP_OK_NODATA;
		if (type == GPU_RESP_OK_NODATA)
			detach(r);
		break;
	}
	case GPU_CMD_GET_CAPSET_INFO: /* num_capsets is 0: every index is past it */
		type = GPU_RESP_ERR_INVALID_PARAMETER;
		break;
	default: /* 3D, blobs, UUIDs, GET_CAPSET, unknown */
		type = GPU_RESP_ERR_UNSPEC;
		break;
	}
reply:
	if (!n) {
		memset(resp, 0, sizeof(hdr));
		n = sizeof(hdr);
	}
	/* The response's header: its type, and the request's fence, which is
	 * done now (every command completes before its response). */
	{
		struct gpu_ctrl_hdr out = { 0 };
		uint32_t flags = le32toh(hdr.flags);

		out.type = htole32(type);
		if (flags & GPU_FLAG_FENCE) {
			out.flags = htole32(flags & (GPU_FLAG_FENCE | GPU_FLAG_INFO_RING_IDX));
			out.fence_id = hdr.fence_id;
			out.ctx_id = hdr.ctx_id;
			if (flags & GPU_FLAG_INFO_RING_IDX)
				out.ring_idx = hdr.ring_idx;
		}
		memcpy(resp, &out, sizeof(out));
	}
	return n;
}

void gpu_2d_cursor_command(struct gpu_2d *g, const uint8_t *req, size_t len)
{
	struct gpu_cursor *c = &g->cursor;
	uint32_t cmd, scanout, id;
	struct gpu_resource *r;

	/* hdr, pos {scanout_id, x, y, padding}, resource_id, hot_x, hot_y, padding */
	if (len < 56)
		return;
	cmd = rd32(req);
	scanout = rd32(req + 24);
	if (scanout != 0 || (cmd != GPU_CMD_UPDATE_CURSOR && cmd != GPU_CMD_MOVE_CURSOR))
		return;
	c->x = rd32(req + 28);
	c->y = rd32(req + 32);
	c->serial++;
	if (cmd == GPU_CMD_MOVE_CURSOR)
		return;
	id = rd32(req + 40);
	r = id ? gpu_2d_find(g, id) : NULL;
	if (!r || r->width != GPU_CURSOR_SIZE || r->height != GPU_CURSOR_SIZE) {
		c->resource_id = 0; /* none, or not a cursor: hidden */
		return;
	}
	c->resource_id = id;
	c->hot_x = rd32(req + 44) < GPU_CURSOR_SIZE ? rd32(req + 44) : 0;
	c->hot_y = rd32(req + 48) < GPU_CURSOR_SIZE ? rd32(req + 48) : 0;
	for (size_t i = 0; i < GPU_CURSOR_SIZE * GPU_CURSOR_SIZE; i++)
		c->image[i] = to_argb(r->format, r->pixels[i]);
}

int gpu_2d_set_preferred(struct gpu_2d *g, uint32_t width, uint32_t height)
{
	uint8_t edid[EDID_SIZE];

	if (width < 320 || height < 200 || edid_build(edid, width, height) < 0)
		return -EINVAL;
	g->width = width;
	g->height = height;
	return 0;
}

int gpu_2d_read_frame(struct gpu_2d *g, struct display_frame *f)
{
	const struct gpu_rect *s = &g->scanout.r;
	struct gpu_resource *r = g->scanout.resource_id ? gpu_2d_find(g, g->scanout.resource_id) :
							  NULL;

	memset(f, 0, sizeof(*f));
	if (!r)
		return -ENODATA;
	if (display_frame_resize(f, s->width, s->height) < 0)
		return -ENOMEM;
	for (uint32_t y = 0; y < s->height; y++)
		convert_row(r, r->pixels + (size_t)(s->y + y) * r->width + s->x, s->width,
			    f->pixels + (size_t)y * s->width);
	return 0;
}

int gpu_2d_update(struct gpu_2d *g, struct display_frame *f, uint8_t *rows)
{
	const struct gpu_rect *s = &g->scanout.r;
	struct gpu_resource *r = g->scanout.resource_id ? gpu_2d_find(g, g->scanout.resource_id) :
							  NULL;
	bool all;
	int n = 0;

	if (!r)
		return -ENODATA;
	all = g->full || !f->pixels || f->width != s->width || f->height != s->height;
	if (!all && !g->any_dirty)
		return 0; /* a still screen: nothing flushed */
	if (display_frame_resize(f, s->width, s->height) < 0)
		return -ENOMEM;
	for (uint32_t y = 0; y < s->height; y++) {
		rows[y] = all || g->dirty[y];
		if (!rows[y])
			continue;
		convert_row(r, r->pixels + (size_t)(s->y + y) * r->width + s->x, s->width,
			    f->pixels + (size_t)y * s->width);
		n++;
	}
	memset(g->dirty, 0, s->height);
	g->full = g->any_dirty = false;
	return n;
}
