// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-input (virtio 1.x device 18): a keyboard and an absolute tablet
 * with buttons and a wheel, which Linux's virtio_input driver turns into
 * evdev devices as they are, no translation: the events are Linux's own
 * (type, code, value). Every VM with a display gets both. The keyboard
 * takes keys from the PS/2 one once the guest's driver is up (firmware has
 * no virtio driver, so it keeps PS/2); the tablet is the pointer, absolute
 * so the guest's cursor is where the viewer's is.
 *
 * Config space: the driver writes select/subsel and reads what they
 * name (name, serial, ids, property bits, event bits per type, axis
 * ranges); every combination we do not have reads size 0.
 *
 * Events wait in a ring of INPUT_RING (a few hundred) until the driver
 * has posted buffers in the event queue; a full ring drops the newest
 * report whole (up to its SYN_REPORT). The status queue (LEDs from the
 * guest) is read and dropped. Events come from any thread (the VNC
 * server's, the event loop's typist) and are moved into the queue under
 * the transport's lock, as every queue access is.
 *
 * Snapshots: the transport ("dev.virtio-input-keyboard"/"-tablet"); events
 * still in the ring are not kept (they are what the viewer sent in the
 * instant of the snapshot).
 */
#include <endian.h>
#include <errno.h>
#include <linux/input.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "dev/dev.h"
#include "dev/input.h"
#include "virtio/virtio_pci.h"

#define VIRTIO_ID_INPUT 18
#define PCI_CLASS_INPUT_OTHER 0x098000
#define INPUT_QUEUE_SIZE 64
#define INPUT_RING 256
#define EVENTQ 0
#define STATUSQ 1

enum {
	CFG_UNSET = 0x00,
	CFG_ID_NAME = 0x01,
	CFG_ID_SERIAL = 0x02,
	CFG_ID_DEVIDS = 0x03,
	CFG_PROP_BITS = 0x10,
	CFG_EV_BITS = 0x11,
	CFG_ABS_INFO = 0x12,
};

struct virtio_input_config {
	uint8_t select, subsel, size, reserved[5];
	uint8_t u[128];
};
_Static_assert(sizeof(struct virtio_input_config) == 136, "virtio_input_config layout");

struct virtio_input_event {
	uint16_t type, code;
	uint32_t value;
};

enum input_kind { KIND_KEYBOARD, KIND_TABLET };

static const struct input_kind_desc {
	enum input_kind kind;
	const char *name, *dev_name;
	uint16_t product;
} kinds[] = {
	{ KIND_KEYBOARD, "virtio-input-keyboard", "phyllome virtio keyboard", 0x0001 },
	{ KIND_TABLET, "virtio-input-tablet", "phyllome virtio tablet", 0x0003 },
};

struct virtio_input {
	struct virtio_pci *vp; /* first: virtio_dev_save/load */
	struct dev_ctx *ctx;
	const struct input_kind_desc *desc;
	struct virtio_dev_ops ops;
	struct virtio_input_config cfg; /* under vp->lock */
	atomic_bool driver_ok;
	/* Events for the guest, under vp->lock. */
	struct virtio_input_event ring[INPUT_RING];
	unsigned int head, len;
	uint32_t buttons; /* the tablet's, as last reported */
	bool attached;
	struct virtq_elem elem;
};

static void set_bit(uint8_t *bm, unsigned int bit)
{
	bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* What select/subsel name: fill cfg.u and cfg.size. */
static void select_config(struct virtio_input *in)
{
	struct virtio_input_config *c = &in->cfg;
	bool kbd = in->desc->kind == KIND_KEYBOARD;

	memset(c->u, 0, sizeof(c->u));
	c->size = 0;
	switch (c->select) {
	case CFG_ID_NAME:
		c->size = (uint8_t)strlen(in->desc->dev_name);
		memcpy(c->u, in->desc->dev_name, c->size);
		break;
	case CFG_ID_DEVIDS: {
		uint16_t ids[4] = { htole16(BUS_VIRTUAL), htole16(0x1af4),
				    htole16(in->desc->product), htole16(1) };

		memcpy(c->u, ids, sizeof(ids));
		c->size = sizeof(ids);
		break;
	}
	case CFG_EV_BITS:
		if (kbd && c->subsel == EV_KEY) {
			for (unsigned int k = KEY_ESC; k <= KEY_MEDIA; k++)
				set_bit(c->u, k);
		} else if (kbd && c->subsel == EV_LED) {
			set_bit(c->u, LED_NUML);
			set_bit(c->u, LED_CAPSL);
			set_bit(c->u, LED_SCROLLL);
		} else if (kbd && c->subsel == EV_REP) {
			c->size = 1; /* no codes: "repeat in software" */
			return;
		} else if (!kbd && c->subsel == EV_KEY) {
			set_bit(c->u, BTN_LEFT);
			set_bit(c->u, BTN_RIGHT);
			set_bit(c->u, BTN_MIDDLE);
			set_bit(c->u, BTN_SIDE);
			set_bit(c->u, BTN_EXTRA);
		} else if (!kbd && c->subsel == EV_REL) {
			set_bit(c->u, REL_WHEEL);
			set_bit(c->u, REL_HWHEEL);
		} else if (!kbd && c->subsel == EV_ABS) {
			set_bit(c->u, ABS_X);
			set_bit(c->u, ABS_Y);
		} else {
			return;
		}
		/* The bitmap's size: up to its last non-zero byte. */
		for (c->size = sizeof(c->u); c->size && !c->u[c->size - 1]; c->size--)
			;
		break;
	case CFG_ABS_INFO:
		if (!kbd && (c->subsel == ABS_X || c->subsel == ABS_Y)) {
			uint32_t info[5] = { 0, htole32(INPUT_ABS_MAX), 0, 0, 0 };

			memcpy(c->u, info, sizeof(info));
			c->size = sizeof(info);
		}
		break;
	default: /* UNSET, SERIAL, PROP_BITS: nothing */
		break;
	}
}

static void input_config_read(void *opaque, uint32_t off, void *data, unsigned int size)
{
	struct virtio_input *in = opaque;

	if (off + size <= sizeof(in->cfg))
		memcpy(data, (uint8_t *)&in->cfg + off, size);
	else
		memset(data, 0, size);
}

static void input_config_write(void *opaque, uint32_t off, const void *data, unsigned int size)
{
	struct virtio_input *in = opaque;

	/* Only select and subsel are the driver's; the rest is read-only. */
	for (unsigned int i = 0; i < size && off + i < 2; i++)
		((uint8_t *)&in->cfg)[off + i] = ((const uint8_t *)data)[i];
	if (off < 2)
		select_config(in);
}

/* Move waiting events into the driver's buffers (vp->lock held). */
static void fill_eventq(struct virtio_input *in)
{
	struct virtq *vq = virtio_pci_vq(in->vp, EVENTQ);
	bool pushed = false;

	while (in->len && virtio_pci_queue_ready(in->vp, EVENTQ)) {
		struct virtio_input_event e = in->ring[in->head];

		if (virtq_pop(vq, &in->elem) <= 0)
			break;
		e.type = htole16(e.type);
		e.code = htole16(e.code);
		e.value = htole32(e.value);
		if (virtq_elem_write(&in->elem, 0, &e, sizeof(e)) < 0) {
			virtq_push(vq, &in->elem, 0); /* a buffer too small: its event is lost */
		} else {
			virtq_push(vq, &in->elem, sizeof(e));
		}
		in->head = (in->head + 1) % INPUT_RING;
		in->len--;
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(in->vp, EVENTQ);
}

/* Queue one report: events[0..n) and a SYN_REPORT; dropped whole if full. */
static void report(struct virtio_input *in, const struct virtio_input_event *ev, unsigned int n)
{
	pthread_mutex_lock(&in->vp->lock);
	if (n + 1 <= INPUT_RING - in->len) {
		for (unsigned int i = 0; i <= n; i++) {
			struct virtio_input_event *slot = &in->ring[(in->head + in->len++) % INPUT_RING];

			*slot = i < n ? ev[i] : (struct virtio_input_event){ EV_SYN, SYN_REPORT, 0 };
		}
		fill_eventq(in);
	}
	pthread_mutex_unlock(&in->vp->lock);
}

static void vinput_key(void *opaque, unsigned int code, bool down)
{
	struct virtio_input_event e = { EV_KEY, (uint16_t)code, down };

	report(opaque, &e, 1);
}

static bool input_ready(void *opaque)
{
	struct virtio_input *in = opaque;

	return atomic_load(&in->driver_ok);
}

static void vinput_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t buttons, int wheel,
			  int hwheel)
{
	static const uint16_t btn_codes[] = { BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA };
	struct virtio_input *in = opaque;
	struct virtio_input_event ev[2 + 5 + 2];
	unsigned int n = 0;
	uint32_t changed;

	ev[n++] = (struct virtio_input_event){ EV_ABS, ABS_X, x };
	ev[n++] = (struct virtio_input_event){ EV_ABS, ABS_Y, y };
	/* in->buttons is only this function's, and the hub calls it under its lock. */
	changed = buttons ^ in->buttons;
	for (unsigned int i = 0; i < 5; i++)
		if (changed & (1u << i))
			ev[n++] = (struct virtio_input_event){ EV_KEY, btn_codes[i],
							       !!(buttons & (1u << i)) };
	in->buttons = buttons & 0x1f;
	if (wheel)
		ev[n++] = (struct virtio_input_event){ EV_REL, REL_WHEEL, (uint32_t)wheel };
	if (hwheel)
		ev[n++] = (struct virtio_input_event){ EV_REL, REL_HWHEEL, (uint32_t)hwheel };
	report(in, ev, n);
}

static const struct input_keyboard_ops keyboard_ops = {
	.key = vinput_key,
	.ready = input_ready,
};

static const struct input_pointer_ops tablet_ops = {
	.pointer = vinput_pointer,
	.ready = input_ready,
};

static void input_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_input *in = opaque;
	struct virtq *vq = virtio_pci_vq(vp, queue);
	bool pushed = false;
	int budget = INPUT_QUEUE_SIZE;

	if (queue == EVENTQ) {
		fill_eventq(in); /* new buffers: events may have waited */
		return;
	}
	/* The status queue: LED changes; nothing shows them here. */
	while (budget-- > 0 && virtq_pop(vq, &in->elem) > 0) {
		virtq_push(vq, &in->elem, 0);
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(vp, queue);
}

static void input_driver_ok(void *opaque, struct virtio_pci *vp)
{
	struct virtio_input *in = opaque;

	(void)vp;
	atomic_store(&in->driver_ok, true);
}

static void input_reset(void *opaque)
{
	struct virtio_input *in = opaque;

	atomic_store(&in->driver_ok, false);
	in->head = in->len = 0;
	in->cfg.select = in->cfg.subsel = 0;
	select_config(in);
}

/* Each kind's ops carry its name: its snapshot section and messages. */
static const struct virtio_dev_ops input_ops = {
	.device_id = VIRTIO_ID_INPUT,
	.class_code = PCI_CLASS_INPUT_OTHER,
	.nr_queues = 2,
	.queue_max_size = INPUT_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_input_config),
	.config_read = input_config_read,
	.config_write = input_config_write,
	.queue_notify = input_queue_notify,
	.reset = input_reset,
	.driver_ok = input_driver_ok,
};

/* With a display: a keyboard and a tablet. */
static unsigned int input_instances(const struct vm_config *cfg, const void *slices[],
				    unsigned int max)
{
	unsigned int n = 0;

	if (cfg->display.device == DISPLAY_DEVICE_NONE)
		return 0;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && n < max; i++)
		slices[n++] = &kinds[i];
	return n;
}

static void input_destroy(void *state)
{
	struct virtio_input *in = state;

	if (in->attached && in->desc->kind == KIND_KEYBOARD)
		input_detach_keyboard(in->ctx->host->input, in);
	else if (in->attached)
		input_detach_pointer(in->ctx->host->input, in);
	virtio_pci_destroy(in->vp);
	free(in);
}

static int input_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			 char *err, size_t errlen)
{
	struct virtio_input *in;
	int ret;

	(void)index;
	(void)err;
	(void)errlen;
	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->ctx = c;
	in->desc = slice;
	in->ops = input_ops;
	in->ops.name = in->desc->name;
	ret = virtio_pci_create(c, &in->ops, in, &in->vp);
	if (ret < 0) {
		free(in);
		return ret;
	}
	if (c->host->input) {
		ret = in->desc->kind == KIND_KEYBOARD ?
			      input_attach_keyboard(c->host->input, &keyboard_ops, in, 1) :
			      input_attach_pointer(c->host->input, &tablet_ops, in, 1);
		if (ret < 0)
			pr_warn("%s: no input: %s", in->desc->name, strerror(-ret));
		in->attached = ret == 0;
	}
	*state = in;
	return 0;
}

static int input_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct virtio_input *in = state;
	int ret = virtio_dev_load(state, r, err, errlen);

	/* A guest restored with its driver up takes keys again. */
	if (ret == 0)
		atomic_store(&in->driver_ok, virtio_pci_queue_ready(in->vp, EVENTQ));
	return ret;
}

const struct dev_ops virtio_input_device = {
	.name = "virtio-input",
	.instances = input_instances,
	.realize = input_realize,
	.unrealize = input_destroy,
	.save = virtio_dev_save,
	.load = input_load,
};
