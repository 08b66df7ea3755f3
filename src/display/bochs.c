// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bochs-display (PCI 1234:1111, class 0x0380): a linear framebuffer with
 * the Bochs VBE "DISPI" mode registers and no VGA, the display firmware
 * (OVMF's QemuVideoDxe), Linux (bochs-drm) and Windows (its basic display
 * driver, on the firmware's GOP framebuffer) all drive without a driver
 * of ours. Why this one first: it is the smallest interface every guest
 * we aim at shows a picture on.
 *
 * BAR0 is the framebuffer, 16 MiB (--display vram=) of host memory the guest maps as RAM
 * (dev_ctx.map_ram), so drawing costs no exit; KVM logs the pages it
 * writes for the front ends (update(): only changed rows are converted).
 * BAR2 is 4 KiB of registers:
 *   0x000-0x3ff  EDID (read-only, display/edid.c: the preferred mode of
 *                --display resolution=, 2560x1600 and what CVT makes)
 *   0x500-0x515  DISPI registers, 16 bits each at 0x500 + 2 * index
 *   0x600-0x607  QEMU's extension: its size, then the framebuffer's byte
 *                order (0x1e1e1e1e little-endian, the only one we show)
 *
 * The picture starts at (Y_OFFSET * VIRT_WIDTH + X_OFFSET) pixels into
 * the framebuffer, rows VIRT_WIDTH pixels apart (bochs-drm pans and flips
 * pages this way). Every register is the guest's to write: a mode whose
 * picture does not fit the framebuffer or the display limits is simply
 * not shown (read_frame says -ENODATA), never read out of bounds.
 *
 * Snapshots keep the registers and PCI config space ("dev.bochs") and the
 * framebuffer ("dev.bochs.vram"): a restored guest shows what it showed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"
#include "dev/dev.h"
#include "dev/devstate.h"
#include "dev/display.h"
#include "display/edid.h"
#include "pci/pci.h"

#define BOCHS_VENDOR 0x1234
#define BOCHS_DEVICE 0x1111
#define PCI_CLASS_DISPLAY_OTHER 0x038000
#define BOCHS_SUBSYS_VENDOR 0x1af4 /* as QEMU's, which guests have seen */
#define BOCHS_SUBSYS_DEVICE 0x1100

#define BOCHS_MMIO_SIZE 4096
#define MMIO_EDID 0x000
#define MMIO_EDID_SIZE 0x400
#define MMIO_DISPI 0x500
#define MMIO_QEXT 0x600
#define QEXT_SIZE 8
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1eu
#define QEXT_BIG_ENDIAN 0xbebebebeu

enum {
	DISPI_ID, DISPI_XRES, DISPI_YRES, DISPI_BPP, DISPI_ENABLE, DISPI_BANK, DISPI_VIRT_WIDTH,
	DISPI_VIRT_HEIGHT, DISPI_X_OFFSET, DISPI_Y_OFFSET, DISPI_VIDEO_MEMORY_64K, DISPI_NR,
};

#define DISPI_ID0 0xb0c0
#define DISPI_ID5 0xb0c5
#define DISPI_ENABLED 0x01
#define DISPI_GETCAPS 0x02
#define DISPI_8BIT_DAC 0x20
#define DISPI_LFB_ENABLED 0x40
#define DISPI_NOCLEARMEM 0x80
#define DISPI_MAX_BPP 32

/* The picture the registers describe, if it fits; false: show nothing. */
struct bochs_mode {
	uint32_t width, height, stride, bpp;
	uint64_t start;
};

struct bochs {
	struct dev_ctx *ctx;
	struct pci_device pci;
	pthread_mutex_t lock; /* regs, endian */
	uint16_t regs[DISPI_NR];
	uint32_t endian;
	uint8_t *vram;
	int slot; /* KVM slot of BAR0, -1 before the first mapping */
	bool attached;
	uint64_t vram_size;          /* BAR0: a power of two, 16 MiB by default */
	uint64_t *bitmap;            /* update()'s copy of KVM's dirty log */
	uint8_t edid[EDID_SIZE];     /* the monitor (display/edid.c), read-only */
	/* For update(): the mode it showed last, and whether the next call
	 * must convert every row (we wrote the framebuffer ourselves, or the
	 * dirty log started afresh). Under lock. */
	struct bochs_mode shown;
	bool full;
};


static bool bochs_mode(const struct bochs *b, struct bochs_mode *m)
{
	const uint16_t *r = b->regs;
	uint32_t bpp = r[DISPI_BPP], bytes = (bpp + 7) / 8;
	uint32_t virt = r[DISPI_VIRT_WIDTH] > r[DISPI_XRES] ? r[DISPI_VIRT_WIDTH] : r[DISPI_XRES];

	if (!(r[DISPI_ENABLE] & DISPI_ENABLED) || (bpp != 32 && bpp != 24 && bpp != 16 && bpp != 15))
		return false;
	m->width = r[DISPI_XRES];
	m->height = r[DISPI_YRES];
	m->bpp = bpp;
	m->stride = virt * bytes;
	m->start = ((uint64_t)r[DISPI_Y_OFFSET] * virt + r[DISPI_X_OFFSET]) * bytes;
	if (!m->width || !m->height || m->width > DISPLAY_MAX_WIDTH || m->height > DISPLAY_MAX_HEIGHT)
		return false;
	/* The last byte of the last row must lie inside the framebuffer. */
	return m->start + (uint64_t)(m->height - 1) * m->stride + (uint64_t)m->width * bytes <=
	       b->vram_size;
}

static int bochs_read_frame(void *opaque, struct display_frame *f)
{
	struct bochs *b = opaque;
	struct bochs_mode m;
	bool ok;

	pthread_mutex_lock(&b->lock);
	ok = bochs_mode(b, &m);
	pthread_mutex_unlock(&b->lock);
	if (!ok)
		return -ENODATA;
	/* The guest may draw meanwhile: a torn frame, never a bad read. */
	return display_convert(b->vram + m.start, m.stride, m.width, m.height, m.bpp, f);
}


static bool pages_dirty(const uint64_t *bitmap, uint64_t first, uint64_t last)
{
	for (uint64_t p = first; p <= last; p++)
		if (bitmap[p / 64] & (1ull << (p % 64)))
			return true;
	return false;
}

/*
 * KVM's dirty log of BAR0 says which pages the guest wrote since the last
 * call; a row is converted when a page it touches is in it. A still
 * screen costs one ioctl and a scan of 512 bytes of bitmap.
 */
static int bochs_update(void *opaque, struct display_frame *f, uint8_t *rows)
{
	struct bochs *b = opaque;
	uint64_t *bitmap = b->bitmap, words = b->vram_size / 4096 / 64;
	struct bochs_mode m;
	uint64_t rowbytes;
	bool all, any = false;
	int n = 0;

	pthread_mutex_lock(&b->lock);
	if (!bochs_mode(b, &m)) {
		pthread_mutex_unlock(&b->lock);
		return -ENODATA;
	}
	all = b->full || memcmp(&m, &b->shown, sizeof(m)) || f->width != m.width ||
	      f->height != m.height || !f->pixels;
	b->full = false;
	b->shown = m;
	memset(bitmap, 0, words * 8);
	if (b->slot >= 0 && b->ctx->dirty_log(b->ctx, b->slot, bitmap) < 0)
		all = true;
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < words && !all && !any; i++)
		any = bitmap[i] != 0;
	if (!all && !any)
		return 0;
	if (display_frame_resize(f, m.width, m.height) < 0)
		return -ENOMEM;
	rowbytes = (uint64_t)m.width * ((m.bpp + 7) / 8);
	/* The guest may draw meanwhile: a torn row is redrawn next time. */
	for (uint32_t y = 0; y < m.height; y++) {
		uint64_t off = m.start + (uint64_t)y * m.stride;

		rows[y] = all || pages_dirty(bitmap, off / 4096, (off + rowbytes - 1) / 4096);
		if (!rows[y])
			continue;
		display_convert_row(b->vram + off, m.width, m.bpp, f->pixels + (size_t)y * m.width);
		n++;
	}
	return n;
}

static const struct display_source_ops bochs_source_ops = {
	.read_frame = bochs_read_frame,
	.update = bochs_update,
};

static uint16_t dispi_read(struct bochs *b, unsigned int idx)
{
	bool caps = b->regs[DISPI_ENABLE] & DISPI_GETCAPS;

	switch (idx) {
	case DISPI_XRES: return caps ? DISPLAY_MAX_WIDTH : b->regs[idx];
	case DISPI_YRES: return caps ? DISPLAY_MAX_HEIGHT : b->regs[idx];
	case DISPI_BPP: return caps ? DISPI_MAX_BPP : b->regs[idx];
	case DISPI_VIDEO_MEMORY_64K: return (uint16_t)(b->vram_size >> 16);
	default: return idx < DISPI_NR ? b->regs[idx] : 0xffff;
	}
}

static void dispi_write(struct bochs *b, unsigned int idx, uint16_t v)
{
	uint16_t *r = b->regs;

	switch (idx) {
	case DISPI_ID:
		if (v >= DISPI_ID0 && v <= DISPI_ID5)
			r[idx] = v;
		break;
	case DISPI_ENABLE:
		/* Turning it on starts a fresh mode: unpanned, and blank unless asked not to. */
		if ((v & DISPI_ENABLED) && !(r[idx] & DISPI_ENABLED)) {
			r[DISPI_VIRT_WIDTH] = r[DISPI_XRES];
			r[DISPI_VIRT_HEIGHT] = r[DISPI_YRES];
			r[DISPI_X_OFFSET] = r[DISPI_Y_OFFSET] = 0;
			if (!(v & DISPI_NOCLEARMEM)) {
				memset(b->vram, 0, b->vram_size);
				b->full = true; /* not in KVM's log: we wrote it */
			}
		}
		r[idx] = v & (DISPI_ENABLED | DISPI_GETCAPS | DISPI_8BIT_DAC | DISPI_LFB_ENABLED);
		break;
	case DISPI_XRES:
	case DISPI_YRES:
	case DISPI_BPP:
	case DISPI_BANK:
	case DISPI_VIRT_WIDTH:
	case DISPI_VIRT_HEIGHT:
	case DISPI_X_OFFSET:
	case DISPI_Y_OFFSET:
		r[idx] = v; /* checked when a frame is read (bochs_mode) */
		break;
	default:
		break; /* VIDEO_MEMORY_64K and past the end: read-only */
	}
}

static void bochs_bar_read(struct pci_device *dev, int bar, uint64_t off, void *data,
			   unsigned int size)
{
	struct bochs *b = dev->opaque;
	uint64_t v = ~0ull;

	(void)bar;
	pthread_mutex_lock(&b->lock);
	if (off < MMIO_EDID + MMIO_EDID_SIZE) {
		v = 0;
		for (unsigned int i = 0; i < size && off + i < EDID_SIZE; i++)
			v |= (uint64_t)b->edid[off + i] << (8 * i);
	} else if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * DISPI_NR && size == 2 && !(off & 1)) {
		v = dispi_read(b, (unsigned int)(off - MMIO_DISPI) / 2);
	} else if (off == MMIO_QEXT && size == 4) {
		v = QEXT_SIZE;
	} else if (off == MMIO_QEXT + 4 && size == 4) {
		v = b->endian;
	}
	pthread_mutex_unlock(&b->lock);
	bus_data_set(data, size, v);
}

static void bochs_bar_write(struct pci_device *dev, int bar, uint64_t off, const void *data,
			    unsigned int size)
{
	struct bochs *b = dev->opaque;
	uint64_t v = bus_data_get(data, size);

	(void)bar;
	pthread_mutex_lock(&b->lock);
	if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * DISPI_NR && size == 2 && !(off & 1))
		dispi_write(b, (unsigned int)(off - MMIO_DISPI) / 2, (uint16_t)v);
	else if (off == MMIO_QEXT + 4 && size == 4 && (v == QEXT_LITTLE_ENDIAN || v == QEXT_BIG_ENDIAN))
		b->endian = (uint32_t)v; /* kept for the guest; we show little-endian */
	pthread_mutex_unlock(&b->lock);
}

static void bochs_ram_bar_moved(struct pci_device *dev, int bar, uint64_t addr, bool mapped)
{
	struct bochs *b = dev->opaque;
	int ret;

	(void)bar;
	pthread_mutex_lock(&b->lock);
	ret = b->ctx->map_ram(b->ctx, &b->slot, addr, b->vram_size, mapped ? b->vram : NULL,
			      true);
	b->full = true; /* a new slot's log starts empty */
	pthread_mutex_unlock(&b->lock);
	if (ret < 0)
		pr_warn("bochs-display: cannot %s the framebuffer at 0x%llx: %s",
			mapped ? "map" : "unmap", (unsigned long long)addr, strerror(-ret));
}

static const struct pci_device_ops bochs_pci_ops = {
	.bar_read = bochs_bar_read,
	.bar_write = bochs_bar_write,
	.ram_bar_moved = bochs_ram_bar_moved,
};

static unsigned int bochs_instances(const struct vm_config *cfg, const void *slices[],
				    unsigned int max)
{
	if (cfg->display.device != DISPLAY_DEVICE_BOCHS || !max)
		return 0;
	slices[0] = &cfg->display;
	return 1;
}

static void bochs_destroy(void *state)
{
	struct bochs *b = state;

	if (b->attached)
		display_detach(b->ctx->host->display, b);
	pci_root_remove_device(b->ctx->pci, &b->pci);
	if (b->vram)
		munmap(b->vram, b->vram_size);
	free(b->bitmap);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static int bochs_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			 char *err, size_t errlen)
{
	const struct display_config *d = slice;
	struct bochs *b;
	int ret;

	(void)index;
	if (!c->pci || !c->map_ram || !c->dirty_log || !c->host->display) {
		errbuf_set(err, errlen, "--display: bochs-display needs PCI, RAM BARs and a screen");
		return -ENOTSUP;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ctx = c;
	b->slot = -1;
	b->full = true;
	b->endian = QEXT_LITTLE_ENDIAN;
	b->regs[DISPI_ID] = DISPI_ID5;
	pthread_mutex_init(&b->lock, NULL);
	b->vram_size = (uint64_t)display_vram_mib(d) << 20;
	ret = edid_build(b->edid, display_width(d), display_height(d));
	if (ret < 0) { /* config_check_display keeps this from happening */
		errbuf_set(err, errlen, "--display: no EDID for %ux%u", display_width(d),
			   display_height(d));
		goto fail;
	}
	b->bitmap = calloc(b->vram_size / 4096 / 64, sizeof(uint64_t));
	if (!b->bitmap) {
		ret = -ENOMEM;
		goto fail;
	}
	b->vram = mmap(NULL, b->vram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->vram == MAP_FAILED) {
		b->vram = NULL;
		ret = -errno;
		goto fail;
	}
	pci_device_init(&b->pci, "bochs-display", BOCHS_VENDOR, BOCHS_DEVICE,
			PCI_CLASS_DISPLAY_OTHER, &bochs_pci_ops, b);
	pci_cfg_set16(&b->pci, PCI_SUBSYSTEM_VENDOR_ID, BOCHS_SUBSYS_VENDOR);
	pci_cfg_set16(&b->pci, PCI_SUBSYSTEM_ID, BOCHS_SUBSYS_DEVICE);
	ret = pci_device_add_ram_bar(&b->pci, 0, b->vram_size, false);
	if (ret == 0)
		ret = pci_device_add_bar(&b->pci, 2, BOCHS_MMIO_SIZE, false);
	if (ret < 0)
		goto fail;
	ret = pci_root_add_device(c->pci, &b->pci);
	if (ret < 0)
		goto fail;
	ret = display_attach(c->host->display, &bochs_source_ops, b);
	if (ret < 0) {
		errbuf_set(err, errlen, "--display: the screen has a display device already");
		goto fail;
	}
	b->attached = true;
	*state = b;
	return 0;
fail:
	bochs_destroy(b);
	return ret;
}

#define BOCHS_STATE_KIND "BOCH"
#define BOCHS_STATE_VERSION 1

struct bochs_state {
	struct snap_blob_header h;
	uint16_t regs[DISPI_NR], pad;
	uint32_t endian;
	uint8_t cfg[PCI_CFG_SIZE]; /* PCI config space: where the BARs are */
};
_Static_assert(sizeof(struct bochs_state) == 16 + 2 * DISPI_NR + 2 + 4 + PCI_CFG_SIZE,
	       "bochs_state layout");

static int bochs_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct bochs *b = state;
	struct bochs_state st = { 0 };
	int ret;

	pthread_mutex_lock(&b->lock);
	memcpy(st.regs, b->regs, sizeof(st.regs));
	st.endian = b->endian;
	pthread_mutex_unlock(&b->lock);
	memcpy(st.cfg, b->pci.cfg, PCI_CFG_SIZE); /* vCPUs are parked: no config access */
	ret = devstate_put(w, "dev.bochs", BOCHS_STATE_KIND, BOCHS_STATE_VERSION, &st, sizeof(st),
			   err, errlen);
	if (ret == 0)
		ret = snap_writer_add(w, "dev.bochs.vram", b->vram, b->vram_size, err, errlen);
	return ret;
}

static int bochs_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct bochs *b = state;
	const struct snap_section *vram;
	struct bochs_state st;
	int ret;

	ret = devstate_get(r, "dev.bochs", BOCHS_STATE_KIND, BOCHS_STATE_VERSION, &st, sizeof(st),
			   err, errlen);
	if (ret == 0)
		ret = snap_reader_need(r, "dev.bochs.vram", &vram, err, errlen);
	if (ret < 0)
		return ret;
	if (vram->len != b->vram_size) {
		errbuf_set(err, errlen, "section 'dev.bochs.vram': %zu bytes, want %llu", vram->len,
			   (unsigned long long)b->vram_size);
		return -EBADMSG;
	}
	if (st.endian != QEXT_LITTLE_ENDIAN && st.endian != QEXT_BIG_ENDIAN) {
		errbuf_set(err, errlen, "section 'dev.bochs': byte order 0x%08x", st.endian);
		return -EBADMSG;
	}
	pthread_mutex_lock(&b->lock);
	/* Any register value is one a guest could have written (bochs_mode checks). */
	memcpy(b->regs, st.regs, sizeof(b->regs));
	b->endian = st.endian;
	memcpy(b->vram, vram->data, b->vram_size);
	b->full = true;
	pthread_mutex_unlock(&b->lock);
	pci_device_replay_cfg(&b->pci, st.cfg);
	return 0;
}

const struct dev_ops bochs_display_device = {
	.name = "bochs-display",
	.instances = bochs_instances,
	.realize = bochs_realize,
	.unrealize = bochs_destroy,
	.save = bochs_save,
	.load = bochs_load,
};
