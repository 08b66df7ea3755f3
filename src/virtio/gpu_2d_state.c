// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-gpu's 2D state in a snapshot (gpu_2d.h), one section of its own
 * layout because it is of variable size:
 *
 *   head      magic "VG2D", version, the preferred mode, how many
 *             resources, the scanout, the cursor (without its image)
 *   cursor    64 x 64 words of its image
 *   per resource: id, format, width, height, nr_entries, then
 *             nr_entries backing entries (guest address, length), then
 *             width * height words of pixels
 *
 * Load takes nothing on trust: each resource goes through the checks a
 * CREATE_2D and an ATTACH_BACKING would (ids, formats, sizes, the images'
 * total, the backing inside guest RAM), the scanout through SET_SCANOUT's,
 * and the section must end where its last resource does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/gpu_2d.h"

#define STATE_MAGIC "VG2D"
#define STATE_VERSION 1

struct state_head {
	char magic[4];
	uint32_t version;
	uint32_t width, height;
	uint32_t nres;
	uint32_t scanout_resource;
	struct gpu_rect scanout;
	uint32_t cursor_resource, hot_x, hot_y, cursor_x, cursor_y;
};
_Static_assert(sizeof(struct state_head) == 60, "state_head layout");

struct state_res {
	uint32_t id, format, width, height, nr_entries, pad;
};

int gpu_2d_save(const struct gpu_2d *g, uint8_t **buf, size_t *len)
{
	size_t n = sizeof(struct state_head) + sizeof(g->cursor.image);
	struct state_head h = { .version = STATE_VERSION };
	uint8_t *p, *out;

	for (unsigned int i = 0; i < g->nres; i++)
		n += sizeof(struct state_res) + g->res[i]->nr_entries * sizeof(struct gpu_mem_entry) +
		     (size_t)g->res[i]->width * g->res[i]->height * 4;
	out = p = malloc(n);
	if (!out)
		return -ENOMEM;
	memcpy(h.magic, STATE_MAGIC, 4);
	h.width = g->width;
	h.height = g->height;
	h.nres = g->nres;
	h.scanout_resource = g->scanout.resource_id;
	h.scanout = g->scanout.r;
	h.cursor_resource = g->cursor.resource_id;
	h.hot_x = g->cursor.hot_x;
	h.hot_y = g->cursor.hot_y;
	h.cursor_x = g->cursor.x;
	h.cursor_y = g->cursor.y;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, g->cursor.image, sizeof(g->cursor.image));
	p += sizeof(g->cursor.image);
	for (unsigned int i = 0; i < g->nres; i++) {
		const struct gpu_resource *r = g->res[i];
		struct state_res s = { r->id, r->format, r->width, r->height, r->nr_entries, 0 };
		size_t e = r->nr_entries * sizeof(struct gpu_mem_entry);

		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
		if (e)
			memcpy(p, r->entries, e);
		p += e;
		memcpy(p, r->pixels, (size_t)r->width * r->height * 4);
		p += (size_t)r->width * r->height * 4;
	}
	*buf = out;
	*len = n;
	return 0;
}

#define BAD(...) (errbuf_set(err, errlen, "section 'dev.virtio-gpu.2d': " __VA_ARGS__), -EBADMSG)

static int load_resource(struct gpu_2d *g, const uint8_t *buf, size_t len, size_t *off,
			 char *err, size_t errlen)
{
	struct gpu_resource *r;
	struct state_res s;
	uint64_t pix, ents;
	uint32_t ret;

	if (len - *off < sizeof(s))
		return BAD("cut short in resource %u", g->nres + 1);
	memcpy(&s, buf + *off, sizeof(s));
	*off += sizeof(s);
	ret = gpu_2d_add_resource(g, s.id, s.format, s.width, s.height, &r);
	if (ret != GPU_RESP_OK_NODATA)
		return BAD("resource %u (%ux%u, format %u) is not one a guest could create "
			   "(error 0x%x)", s.id, s.width, s.height, s.format, ret);
	ents = (uint64_t)s.nr_entries * sizeof(struct gpu_mem_entry);
	pix = (uint64_t)s.width * s.height * 4;
	if (s.nr_entries > GPU_MAX_BACKING_ENTRIES || len - *off < ents ||
	    len - *off - ents < pix)
		return BAD("cut short in resource %u", s.id);
	if (s.nr_entries) {
		struct gpu_mem_entry *e = malloc((size_t)ents);

		if (!e)
			return -ENOMEM;
		memcpy(e, buf + *off, (size_t)ents);
		ret = gpu_2d_attach(g, r, e, s.nr_entries);
		free(e);
		if (ret != GPU_RESP_OK_NODATA)
			return BAD("resource %u: its backing is not in guest RAM", s.id);
	}
	*off += (size_t)ents;
	memcpy(r->pixels, buf + *off, (size_t)pix);
	*off += (size_t)pix;
	return 0;
}

int gpu_2d_load(struct gpu_2d *g, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	size_t off = sizeof(struct state_head) + sizeof(g->cursor.image);
	struct state_head h;
	int ret;

	gpu_2d_reset(g);
	if (len < off)
		return BAD("%zu bytes, too short", len);
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, STATE_MAGIC, 4) || h.version != STATE_VERSION)
		return BAD("not version %d of virtio-gpu's state", STATE_VERSION);
	if (gpu_2d_set_preferred(g, h.width, h.height) < 0)
		return BAD("preferred mode %ux%u", h.width, h.height);
	if (h.nres > GPU_MAX_RESOURCES)
		return BAD("%u resources, more than %d", h.nres, GPU_MAX_RESOURCES);
	for (uint32_t i = 0; i < h.nres; i++) {
		ret = load_resource(g, buf, len, &off, err, errlen);
		if (ret < 0)
			goto fail;
	}
	if (off != len) {
		ret = BAD("%zu bytes after the last resource", len - off);
		goto fail;
	}
	if (gpu_2d_set_scanout(g, h.scanout_resource, &h.scanout) != GPU_RESP_OK_NODATA) {
		ret = BAD("the scanout shows what no resource has");
		goto fail;
	}
	if (h.cursor_resource && h.hot_x < GPU_CURSOR_SIZE && h.hot_y < GPU_CURSOR_SIZE) {
		g->cursor.resource_id = h.cursor_resource;
		g->cursor.hot_x = h.hot_x;
		g->cursor.hot_y = h.hot_y;
		memcpy(g->cursor.image, buf + sizeof(h), sizeof(g->cursor.image));
	}
	g->cursor.x = h.cursor_x;
	g->cursor.y = h.cursor_y;
	g->cursor.serial++;
	g->full = true;
	return 0;
fail:
	gpu_2d_reset(g);
	return ret;
}
