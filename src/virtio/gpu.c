// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-gpu (virtio 1.x device 16), 2D only: the display device for
 * guests that follow the viewer's window (--display device=virtio-gpu).
 * Linux's virtio_gpu driver draws into resources, copies what changed
 * to us and flushes it, so only flushed rectangles are converted for the
 * front ends (a still screen costs nothing); a viewer that asks for
 * another size (VNC's SetDesktopSize, the API's vm.resize-display) gets
 * it offered as the monitor's new preferred mode, with a display event
 * (config change interrupt), and the guest's desktop switches to it the
 * way it does on a real monitor's hotplug. Firmware has no driver for
 * it: firmware screens need bochs-display.
 *
 * This file is the glue: queues in, responses out, the screen's source
 * ops and the snapshot; the commands themselves are gpu_2d.c's, whose
 * checks are what stands between the guest and us.
 *
 * Config space: events_read (DISPLAY when the preferred mode changed),
 * events_clear (the driver acknowledges), one scanout, no capsets.
 * Feature EDID: GET_EDID answers with display/edid.c's EDID of the
 * preferred mode.
 *
 * Locks: the transport's (vp->lock) around queue work and config space,
 * then ours around the 2D state, which the front ends' thread reads too
 * (display.h's lock, then ours).
 *
 * Snapshots: the transport ("dev.virtio-gpu") and the 2D state
 * ("dev.virtio-gpu.2d", gpu_2d_state.c); a pending display event is not
 * kept (the guest reads the preferred mode again on its next probe).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "dev/dev.h"
#include "snapshot/snapfile.h"
#include "virtio/gpu_2d.h"
#include "virtio/virtio_pci.h"

#define PCI_CLASS_DISPLAY_OTHER 0x038000
#define GPU_QUEUE_SIZE 256
#define CONTROLQ 0
#define CURSORQ 1
#define GPU_BUDGET 16 /* requests a pass of the event loop serves */
#define VIRTIO_GPU_F_EDID 1
#define VIRTIO_GPU_EVENT_DISPLAY 1

struct virtio_gpu {
	struct virtio_pci *vp; /* first: the transport's snapshot helpers */
	struct dev_ctx *ctx;
	uint32_t events_read;  /* under vp->lock */
	bool attached;
	pthread_mutex_t lock;  /* g */
	struct gpu_2d g;
	uint8_t *req;          /* GPU_REQ_MAX bytes: the request being served */
	uint8_t resp[GPU_RESP_MAX];
	struct virtq_elem elem;
};

struct gpu_config {
	uint32_t events_read, events_clear, num_scanouts, num_capsets;
};

static void gpu_config_read(void *opaque, uint32_t off, void *data, unsigned int size)
{
	struct virtio_gpu *gpu = opaque;
	struct gpu_config c = { htole32(gpu->events_read), 0, htole32(1), 0 };

	if (off + size <= sizeof(c))
		memcpy(data, (uint8_t *)&c + off, size);
	else
		memset(data, 0, size);
}

static void gpu_config_write(void *opaque, uint32_t off, const void *data, unsigned int size)
{
	struct virtio_gpu *gpu = opaque;
	uint32_t v = 0;

	/* Only events_clear is the driver's: a 1 clears that event. */
	if (off == 4 && size == 4) {
		memcpy(&v, data, 4);
		gpu->events_read &= ~le32toh(v);
	}
}

static void gpu_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_gpu *gpu = opaque;
	struct virtq *vq = virtio_pci_vq(vp, queue);
	bool pushed = false;
	int i, ret = 0;

	for (i = 0; i < GPU_BUDGET; i++) {
		size_t len, n = 0;

		ret = virtq_pop(vq, &gpu->elem);
		if (ret <= 0)
			break;
		/* Past the largest request: what follows it is not read. */
		len = gpu->elem.readable_len < GPU_REQ_MAX ? gpu->elem.readable_len : GPU_REQ_MAX;
		if (virtq_elem_read(&gpu->elem, 0, gpu->req, len) < 0)
			len = 0;
		pthread_mutex_lock(&gpu->lock);
		if (queue == CONTROLQ)
			n = gpu_2d_command(&gpu->g, gpu->req, len, gpu->resp);
		else
			gpu_2d_cursor_command(&gpu->g, gpu->req, len);
		pthread_mutex_unlock(&gpu->lock);
		/* A response buffer too small gets nothing (the driver's bug). */
		if (n && virtq_elem_write(&gpu->elem, 0, gpu->resp, n) < 0)
			n = 0;
		virtq_push(vq, &gpu->elem, (uint32_t)n);
		pushed = true;
	}
	if (ret < 0)
		virtio_pci_set_needs_reset(vp);
	if (pushed)
		virtio_pci_queue_done(vp, queue);
	if (i == GPU_BUDGET)
		virtio_pci_queue_kick_later(vp, queue);
}

static void gpu_reset(void *opaque)
{
	struct virtio_gpu *gpu = opaque;

	gpu->events_read = 0;
	pthread_mutex_lock(&gpu->lock);
	gpu_2d_reset(&gpu->g);
	pthread_mutex_unlock(&gpu->lock);
}

static const struct virtio_dev_ops gpu_ops = {
	.name = "virtio-gpu",
	.device_id = VIRTIO_ID_GPU,
	.class_code = PCI_CLASS_DISPLAY_OTHER,
	.nr_queues = 2,
	.queue_max_size = GPU_QUEUE_SIZE,
	.features = 1ull << VIRTIO_GPU_F_EDID,
	.config_size = sizeof(struct gpu_config),
	.config_read = gpu_config_read,
	.config_write = gpu_config_write,
	.queue_notify = gpu_queue_notify,
	.reset = gpu_reset,
};

static int gpu_read_frame(void *opaque, struct display_frame *f)
{
	struct virtio_gpu *gpu = opaque;
	int ret;

	pthread_mutex_lock(&gpu->lock);
	ret = gpu_2d_read_frame(&gpu->g, f);
	pthread_mutex_unlock(&gpu->lock);
	return ret;
}

static int gpu_update(void *opaque, struct display_frame *f, uint8_t *rows)
{
	struct virtio_gpu *gpu = opaque;
	int ret;

	pthread_mutex_lock(&gpu->lock);
	ret = gpu_2d_update(&gpu->g, f, rows);
	pthread_mutex_unlock(&gpu->lock);
	return ret;
}

static int gpu_resize(void *opaque, uint32_t width, uint32_t height)
{
	struct virtio_gpu *gpu = opaque;
	int ret;

	pthread_mutex_lock(&gpu->vp->lock);
	pthread_mutex_lock(&gpu->lock);
	ret = gpu_2d_set_preferred(&gpu->g, width, height);
	pthread_mutex_unlock(&gpu->lock);
	if (ret == 0) {
		gpu->events_read |= VIRTIO_GPU_EVENT_DISPLAY;
		virtio_pci_config_changed(gpu->vp);
	}
	pthread_mutex_unlock(&gpu->vp->lock);
	return ret;
}

static const struct display_source_ops gpu_source_ops = {
	.read_frame = gpu_read_frame,
	.update = gpu_update,
	.resize = gpu_resize,
};

static unsigned int gpu_instances(const struct vm_config *cfg, const void *slices[],
				  unsigned int max)
{
	if (cfg->display.device != DISPLAY_DEVICE_VIRTIO_GPU || !max)
		return 0;
	slices[0] = &cfg->display;
	return 1;
}

static void gpu_destroy(void *state)
{
	struct virtio_gpu *gpu = state;

	if (gpu->attached)
		display_detach(gpu->ctx->host->display, gpu);
	if (gpu->vp)
		virtio_pci_destroy(gpu->vp);
	gpu_2d_reset(&gpu->g);
	pthread_mutex_destroy(&gpu->lock);
	free(gpu->req);
	free(gpu);
}

static int gpu_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
		       char *err, size_t errlen)
{
	const struct display_config *d = slice;
	struct virtio_gpu *gpu;
	int ret;

	(void)index;
	if (!c->host->display) {
		errbuf_set(err, errlen, "--display: virtio-gpu needs a screen");
		return -ENOTSUP;
	}
	gpu = calloc(1, sizeof(*gpu));
	if (!gpu)
		return -ENOMEM;
	gpu->ctx = c;
	pthread_mutex_init(&gpu->lock, NULL);
	gpu_2d_init(&gpu->g, c->mem, display_width(d), display_height(d));
	gpu->req = malloc(GPU_REQ_MAX);
	if (!gpu->req) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = virtio_pci_create(c, &gpu_ops, gpu, &gpu->vp);
	if (ret < 0)
		goto fail;
	ret = display_attach(c->host->display, &gpu_source_ops, gpu);
	if (ret < 0) {
		errbuf_set(err, errlen, "--display: the screen has a display device already");
		goto fail;
	}
	gpu->attached = true;
	*state = gpu;
	return 0;
fail:
	gpu_destroy(gpu);
	return ret;
}

#define STATE_SECTION "dev.virtio-gpu.2d"

static int gpu_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct virtio_gpu *gpu = state;
	uint8_t *buf;
	size_t len;
	int ret = virtio_pci_save(gpu->vp, w, err, errlen);

	if (ret < 0)
		return ret;
	pthread_mutex_lock(&gpu->lock);
	ret = gpu_2d_save(&gpu->g, &buf, &len);
	pthread_mutex_unlock(&gpu->lock);
	if (ret < 0) {
		errbuf_set(err, errlen, "virtio-gpu: no memory for its state");
		return ret;
	}
	ret = snap_writer_add(w, STATE_SECTION, buf, len, err, errlen);
	free(buf);
	return ret;
}

static int gpu_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct virtio_gpu *gpu = state;
	const struct snap_section *s;
	int ret = snap_reader_need(r, STATE_SECTION, &s, err, errlen);

	if (ret < 0)
		return ret;
	/* The images first: the transport's load kicks the queues. */
	pthread_mutex_lock(&gpu->lock);
	ret = gpu_2d_load(&gpu->g, s->data, s->len, err, errlen);
	pthread_mutex_unlock(&gpu->lock);
	if (ret == 0)
		ret = virtio_pci_load(gpu->vp, r, err, errlen);
	return ret;
}

const struct dev_ops virtio_gpu_device = {
	.name = "virtio-gpu",
	.instances = gpu_instances,
	.realize = gpu_realize,
	.unrealize = gpu_destroy,
	.save = gpu_save,
	.load = gpu_load,
};
