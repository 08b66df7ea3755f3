// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * i8042 keyboard controller with a PS/2 keyboard behind it, the keyboard
 * every PC firmware and OS drives (OVMF's Ps2KeyboardDxe, SeaBIOS, Linux's
 * atkbd, Windows' i8042prt). The controller answers its self-tests and
 * command byte, pulses the CPU reset line on command 0xFE (or a write of
 * the output port with bit 0 clear, Linux's reboot fallback), and raises
 * IRQ 1 while its output buffer holds a byte and the guest enabled that.
 *
 * The keyboard answers the commands guests send (reset, identify, LEDs,
 * typematic, scan code set, enable/disable scanning) and turns the key
 * codes of dev/input.h into scan codes: set 2 as the keyboard's own, which
 * the controller translates to set 1 when the command byte says so (the
 * default, and what all of the above use). We keep the set 1 table and
 * emit it directly; with translation off, or another set chosen, keys are
 * dropped (said once in the log), as no guest we know does that. Bytes
 * wait in a queue of I8042_QUEUE; a key whose bytes do not fit is dropped
 * whole, never half sent. No mouse on the AUX port: pointers arrive as a
 * virtio tablet.
 *
 * Snapshots: "dev.i8042" keeps the controller (command byte, status,
 * output buffer, a command waiting for its data byte), "dev.i8042.kbd" the
 * keyboard (its queue and modes); a snapshot without the latter (taken
 * before the keyboard existed) restores a keyboard just reset.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/aml.h"
#include "dev/bus.h"
#include "dev/devstate.h"
#include "dev/input.h"
#include "base/log.h"
#include "dev/dev.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_KBD_IRQ 1
#define I8042_QUEUE 64

#define STATUS_OBF 0x01     /* output buffer full */
#define STATUS_SYS 0x04     /* self-test passed */
#define STATUS_CMD 0x08     /* last write was a command */
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited (no key lock) */

#define CTR_KBD_INT 0x01
#define CTR_KBD_DISABLED 0x10
#define CTR_XLATE 0x40

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTPORT 0xd0
#define CMD_WRITE_OUTPORT 0xd1
#define CMD_WRITE_KBD_OUT 0xd2
#define CMD_RESET 0xfe

#define KBD_ACK 0xfa
#define KBD_RESEND 0xfe
#define KBD_BAT_OK 0xaa
#define KBD_ECHO 0xee
#define KBD_CMD_LEDS 0xed
#define KBD_CMD_SCANSET 0xf0
#define KBD_CMD_TYPEMATIC 0xf3

struct i8042 {
	struct dev_ctx *ctx;
	pthread_mutex_t lock;
	uint8_t ctr;        /* controller command byte */
	uint8_t status;
	uint8_t out;        /* output buffer, valid when STATUS_OBF */
	uint8_t pending;    /* command waiting for its data byte */
	int irq_level;
	/* The keyboard. */
	uint8_t queue[I8042_QUEUE]; /* bytes for the output buffer, oldest at head */
	unsigned int head, len;
	uint8_t kbd_cmd;    /* a keyboard command waiting for its argument */
	uint8_t set;        /* scan code set the guest chose (2 by default) */
	uint8_t leds;
	bool scanning;
	bool warned;
	bool attached;
};

/*
 * Set 1 scan codes of the keys of a 105-key PC keyboard and the usual
 * media keys: E0 marks the two-byte ones. Linux numbered its key codes
 * after set 1, so the first 88 are the code itself.
 */
#define E0 0x100
static const uint16_t set1[KEY_MEDIA + 1] = {
	[KEY_RO] = 0x73, [KEY_KATAKANAHIRAGANA] = 0x70, [KEY_HENKAN] = 0x79,
	[KEY_MUHENKAN] = 0x7b, [KEY_KPEQUAL] = 0x59, [KEY_KPCOMMA] = 0x7e, [KEY_YEN] = 0x7d,
	[KEY_KPENTER] = E0 | 0x1c, [KEY_RIGHTCTRL] = E0 | 0x1d, [KEY_KPSLASH] = E0 | 0x35,
	[KEY_SYSRQ] = E0 | 0x37, [KEY_RIGHTALT] = E0 | 0x38, [KEY_HOME] = E0 | 0x47,
	[KEY_UP] = E0 | 0x48, [KEY_PAGEUP] = E0 | 0x49, [KEY_LEFT] = E0 | 0x4b,
	[KEY_RIGHT] = E0 | 0x4d, [KEY_END] = E0 | 0x4f, [KEY_DOWN] = E0 | 0x50,
	[KEY_PAGEDOWN] = E0 | 0x51, [KEY_INSERT] = E0 | 0x52, [KEY_DELETE] = E0 | 0x53,
	[KEY_MUTE] = E0 | 0x20, [KEY_VOLUMEDOWN] = E0 | 0x2e, [KEY_VOLUMEUP] = E0 | 0x30,
	[KEY_POWER] = E0 | 0x5e, [KEY_SLEEP] = E0 | 0x5f, [KEY_WAKEUP] = E0 | 0x63,
	[KEY_LEFTMETA] = E0 | 0x5b, [KEY_RIGHTMETA] = E0 | 0x5c, [KEY_COMPOSE] = E0 | 0x5d,
	[KEY_NEXTSONG] = E0 | 0x19, [KEY_PLAYPAUSE] = E0 | 0x22,
	[KEY_PREVIOUSSONG] = E0 | 0x10, [KEY_STOPCD] = E0 | 0x24, [KEY_CALC] = E0 | 0x21,
	[KEY_MAIL] = E0 | 0x6c, [KEY_HOMEPAGE] = E0 | 0x32, [KEY_SEARCH] = E0 | 0x65,
	[KEY_BACK] = E0 | 0x6a, [KEY_FORWARD] = E0 | 0x69, [KEY_STOP] = E0 | 0x68,
	[KEY_REFRESH] = E0 | 0x67, [KEY_BOOKMARKS] = E0 | 0x66, [KEY_COMPUTER] = E0 | 0x6b,
	[KEY_MEDIA] = E0 | 0x6d,
};

/* What the guest would read for a key: 0 bytes when it has no scan code. */
static unsigned int scancodes(unsigned int code, bool down, uint8_t *b)
{
	unsigned int n = 0;
	uint16_t sc;

	if (code == KEY_PAUSE) { /* make only, and as if Ctrl+NumLock */
		static const uint8_t pause[6] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };

		if (!down)
			return 0;
		memcpy(b, pause, sizeof(pause));
		return sizeof(pause);
	}
	if (code >= 1 && code <= KEY_F12 && code != 84)
		sc = (uint16_t)code;
	else if (code < sizeof(set1) / sizeof(set1[0]))
		sc = set1[code];
	else
		return 0;
	if (!sc)
		return 0;
	if (code == KEY_SYSRQ && down) { /* Print Screen: a fake shift first */
		b[n++] = 0xe0;
		b[n++] = 0x2a;
	}
	if (sc & E0)
		b[n++] = 0xe0;
	b[n++] = (uint8_t)(sc & 0x7f) | (down ? 0 : 0x80);
	if (code == KEY_SYSRQ && !down) {
		b[n++] = 0xe0;
		b[n++] = 0xaa;
	}
	return n;
}

/* IRQ 1 is high while a byte waits and the guest enabled the interrupt. */
static void update_irq(struct i8042 *k)
{
	int level = (k->status & STATUS_OBF) && (k->ctr & CTR_KBD_INT) &&
		    !(k->ctr & CTR_KBD_DISABLED);

	if (level != k->irq_level) {
		k->irq_level = level;
		irq_set_level(k->ctx->irq, I8042_KBD_IRQ, level);
	}
}

/* Move the keyboard's next byte into an empty output buffer. */
static void refill(struct i8042 *k)
{
	if (!(k->status & STATUS_OBF) && k->len && !(k->ctr & CTR_KBD_DISABLED)) {
		k->out = k->queue[k->head];
		k->head = (k->head + 1) % I8042_QUEUE;
		k->len--;
		k->status |= STATUS_OBF;
	}
	update_irq(k);
}

static bool kbd_queue(struct i8042 *k, const uint8_t *b, unsigned int n)
{
	if (n > I8042_QUEUE - k->len)
		return false;
	for (unsigned int i = 0; i < n; i++)
		k->queue[(k->head + k->len++) % I8042_QUEUE] = b[i];
	refill(k);
	return true;
}

static void kbd_reply(struct i8042 *k, uint8_t v)
{
	kbd_queue(k, &v, 1);
}

/* A controller reply goes straight to the output buffer; a keyboard byte
 * that was there goes back to the front of its queue. */
static void i8042_reply(struct i8042 *k, uint8_t v)
{
	if ((k->status & STATUS_OBF) && k->len < I8042_QUEUE) {
		k->head = (k->head + I8042_QUEUE - 1) % I8042_QUEUE;
		k->queue[k->head] = k->out;
		k->len++;
	}
	k->out = v;
	k->status |= STATUS_OBF;
	update_irq(k);
}

static void kbd_reset(struct i8042 *k)
{
	k->head = k->len = 0;
	k->kbd_cmd = 0;
	k->set = 2;
	k->leds = 0;
	k->scanning = true;
}

/* A byte the guest sent to the keyboard (a data port write of its own). */
static void kbd_write(struct i8042 *k, uint8_t v)
{
	if (k->kbd_cmd) {
		uint8_t cmd = k->kbd_cmd;

		k->kbd_cmd = 0;
		if (cmd == KBD_CMD_LEDS) {
			k->leds = v & 7;
		} else if (cmd == KBD_CMD_SCANSET && v == 0) {
			static const uint8_t translated[4] = { 0, 0x43, 0x41, 0x3f };

			kbd_reply(k, KBD_ACK);
			kbd_reply(k, (k->ctr & CTR_XLATE) ? translated[k->set] : k->set);
			return;
		} else if (cmd == KBD_CMD_SCANSET) {
			if (v > 3) {
				kbd_reply(k, KBD_RESEND);
				return;
			}
			k->set = v;
		}
		kbd_reply(k, KBD_ACK);
		return;
	}
	switch (v) {
	case 0xff: /* reset and self-test */
		kbd_reset(k);
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, KBD_BAT_OK);
		break;
	case 0xf2: /* identify: an MF2 keyboard, as translated if so */
		kbd_reply(k, KBD_ACK);
		kbd_reply(k, 0xab);
		kbd_reply(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x83);
		break;
	case 0xf4: k->scanning = true; kbd_reply(k, KBD_ACK); break;
	case 0xf5: /* disable: defaults, no scanning */
	case 0xf6: /* defaults */
		k->head = k->len = 0;
		k->set = 2;
		k->scanning = v == 0xf6;
		kbd_reply(k, KBD_ACK);
		break;
	case KBD_CMD_LEDS:
	case KBD_CMD_SCANSET:
	case KBD_CMD_TYPEMATIC:
		k->kbd_cmd = v;
		kbd_reply(k, KBD_ACK);
		break;
	case KBD_ECHO: kbd_reply(k, KBD_ECHO); break;
	case 0xf7: case 0xf8: case 0xf9: case 0xfa: case 0xfb: case 0xfc: case 0xfd:
		kbd_reply(k, KBD_ACK); /* set 3 key modes: nothing to do in set 2 */
		break;
	default: kbd_reply(k, KBD_RESEND); break;
	}
}

static void i8042_key(void *opaque, unsigned int code, bool down)
{
	struct i8042 *k = opaque;
	uint8_t b[8];
	unsigned int n;

	pthread_mutex_lock(&k->lock);
	if (!k->scanning) {
		pthread_mutex_unlock(&k->lock);
		return;
	}
	if (!(k->ctr & CTR_XLATE) || k->set != 2) {
		if (!k->warned)
			pr_warn("i8042: the guest turned scan code translation %s and chose set %u: "
				"only translated set 2 is sent, keys are dropped",
				(k->ctr & CTR_XLATE) ? "on" : "off", k->set);
		k->warned = true;
		pthread_mutex_unlock(&k->lock);
		return;
	}
	n = scancodes(code, down, b);
	if (n && !kbd_queue(k, b, n))
		pr_debug("i8042: queue full, key %u dropped", code);
	pthread_mutex_unlock(&k->lock);
}

static const struct input_keyboard_ops i8042_kbd_ops = {
	.key = i8042_key,
};

static void i8042_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	struct i8042 *k = opaque;
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (off == 0) {
		v = k->out;
		k->status &= ~STATUS_OBF;
		/* Down, then up again for the next byte: an edge for each, as
		 * the edge-triggered ISA interrupt needs one per byte. */
		update_irq(k);
		refill(k);
	} else if (off == I8042_CMD - I8042_DATA) {
		v = k->status;
	} else {
		v = 0xff;
	}
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, size);
	*(uint8_t *)data = v;
}

static void i8042_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	struct i8042 *k = opaque;
	uint8_t v = *(const uint8_t *)data;
	bool reset = false;

	(void)size;
	pthread_mutex_lock(&k->lock);
	if (off == I8042_CMD - I8042_DATA) {
		k->status |= STATUS_CMD;
		k->pending = 0;
		switch (v) {
		case CMD_READ_CTR: i8042_reply(k, k->ctr); break;
		case CMD_WRITE_CTR:
		case CMD_WRITE_OUTPORT:
		case CMD_WRITE_KBD_OUT: k->pending = v; break;
		case CMD_SELF_TEST: i8042_reply(k, 0x55); k->status |= STATUS_SYS; break;
		case CMD_KBD_TEST:
		case CMD_AUX_TEST: i8042_reply(k, 0x00); break;
		case CMD_READ_OUTPORT: i8042_reply(k, 0x01); break;
		case CMD_KBD_DISABLE: k->ctr |= CTR_KBD_DISABLED; update_irq(k); break;
		case CMD_KBD_ENABLE: k->ctr &= ~CTR_KBD_DISABLED; refill(k); break;
		case CMD_RESET: reset = true; break;
		default: break; /* AUX enable/disable and the rest: nothing to do */
		}
	} else if (off == 0) {
		k->status &= ~STATUS_CMD;
		if (k->pending == CMD_WRITE_CTR) {
			k->ctr = v;
			refill(k);
		} else if (k->pending == CMD_WRITE_OUTPORT && !(v & 0x01)) {
			reset = true;
		} else if (k->pending == CMD_WRITE_KBD_OUT) {
			i8042_reply(k, v); /* as if the keyboard had sent it */
		} else if (!k->pending) {
			kbd_write(k, v);
		}
		k->pending = 0;
	}
	pthread_mutex_unlock(&k->lock);
	if (reset)
		dev_request_exit(k->ctx, VM_EXIT_REBOOT);
}

#define I8042_STATE_KIND "KBDC"
#define I8042_STATE_VERSION 1

struct i8042_state {
	struct snap_blob_header h;
	uint8_t ctr, status, out, pending, pad[4];
};
_Static_assert(sizeof(struct i8042_state) == 24, "i8042_state layout");

#define I8042_KBD_STATE_KIND "PS2K"
#define I8042_KBD_STATE_VERSION 1

struct i8042_kbd_state {
	struct snap_blob_header h;
	uint8_t queue[I8042_QUEUE];
	uint8_t len, kbd_cmd, set, leds, scanning, pad[3];
};
_Static_assert(sizeof(struct i8042_kbd_state) == 16 + I8042_QUEUE + 8, "i8042_kbd_state layout");

static int i8042_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct i8042 *k = state;
	struct i8042_state st = { 0 };
	struct i8042_kbd_state kst = { 0 };
	int ret;

	pthread_mutex_lock(&k->lock);
	st.ctr = k->ctr;
	st.status = k->status;
	st.out = k->out;
	st.pending = k->pending;
	pthread_mutex_unlock(&k->lock);
	ret = devstate_put(w, "dev.i8042", I8042_STATE_KIND, I8042_STATE_VERSION, &st,
			   sizeof(st), err, errlen);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&k->lock);
	for (unsigned int i = 0; i < k->len; i++)
		kst.queue[i] = k->queue[(k->head + i) % I8042_QUEUE];
	kst.len = (uint8_t)k->len;
	kst.kbd_cmd = k->kbd_cmd;
	kst.set = k->set;
	kst.leds = k->leds;
	kst.scanning = k->scanning;
	pthread_mutex_unlock(&k->lock);
	return devstate_put(w, "dev.i8042.kbd", I8042_KBD_STATE_KIND, I8042_KBD_STATE_VERSION, &kst,
			    sizeof(kst), err, errlen);
}

static int i8042_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct i8042 *k = state;
	struct i8042_state st;
	struct i8042_kbd_state kst = { 0 };
	int ret;

	ret = devstate_get(r, "dev.i8042", I8042_STATE_KIND, I8042_STATE_VERSION, &st,
			   sizeof(st), err, errlen);
	if (ret < 0)
		return ret;
	if (st.pending && st.pending != CMD_WRITE_KBD_OUT && st.pending != CMD_WRITE_CTR &&
	    st.pending != CMD_WRITE_OUTPORT) {
		errbuf_set(err, errlen, "section 'dev.i8042': invalid pending command 0x%02x",
			   st.pending);
		return -EBADMSG;
	}
	if (snap_reader_find(r, "dev.i8042.kbd")) {
		ret = devstate_get(r, "dev.i8042.kbd", I8042_KBD_STATE_KIND,
				   I8042_KBD_STATE_VERSION, &kst, sizeof(kst), err, errlen);
		if (ret < 0)
			return ret;
		if (kst.len > I8042_QUEUE || kst.set < 1 || kst.set > 3 || kst.scanning > 1 ||
		    (kst.kbd_cmd && kst.kbd_cmd != KBD_CMD_LEDS && kst.kbd_cmd != KBD_CMD_SCANSET &&
		     kst.kbd_cmd != KBD_CMD_TYPEMATIC)) {
			errbuf_set(err, errlen, "section 'dev.i8042.kbd': invalid keyboard state");
			return -EBADMSG;
		}
	}
	pthread_mutex_lock(&k->lock);
	k->ctr = st.ctr;
	k->status = st.status;
	k->out = st.out;
	k->pending = st.pending;
	kbd_reset(k);
	if (kst.set) {
		memcpy(k->queue, kst.queue, kst.len);
		k->len = kst.len;
		k->kbd_cmd = kst.kbd_cmd;
		k->set = kst.set;
		k->leds = kst.leds;
		k->scanning = kst.scanning;
	}
	/* The line follows the state; the irqchip's own state came back with it. */
	k->irq_level = (k->status & STATUS_OBF) && (k->ctr & CTR_KBD_INT) &&
		       !(k->ctr & CTR_KBD_DISABLED);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static const struct bus_dev_ops i8042_bus_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

static int i8042_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			 char *err, size_t errlen)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->ctx = c;
	k->status = STATUS_SYS | STATUS_UNLOCKED;
	/* Translation on, as a PC's controller starts; both ports disabled and
	 * no IRQs until the guest says. */
	k->ctr = 0x70;
	kbd_reset(k);
	pthread_mutex_init(&k->lock, NULL);
	/* 0x61, the PIT's speaker port inside this range, never reaches us:
	 * KVM's in-kernel PIT claims it first. */
	ret = bus_register(c->pio, I8042_DATA, I8042_CMD - I8042_DATA + 1, "i8042",
			   &i8042_bus_ops, k);
	if (ret < 0) {
		pthread_mutex_destroy(&k->lock);
		free(k);
		return ret;
	}
	if (c->host->input) {
		ret = input_attach_keyboard(c->host->input, &i8042_kbd_ops, k, 0);
		if (ret < 0)
			pr_warn("i8042: no keyboard input: %s", strerror(-ret));
		k->attached = ret == 0;
	}
	*state = k;
	return 0;
}

static void i8042_destroy(void *state)
{
	struct i8042 *k = state;

	if (k->attached)
		input_detach_keyboard(k->ctx->host->input, k);
	bus_unregister(k->ctx->pio, I8042_DATA);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/*
 * PNP0303 with both ports and IRQ 1: in HW-reduced ACPI Linux maps an ISA
 * IRQ only for a device the DSDT describes. No PS/2 mouse entry: Linux
 * then leaves the AUX port alone.
 */
static void i8042_write_dsdt(void *state, struct aml_buf *b)
{
	(void)state;
	aml_device_begin(b, "PS2K");
	aml_name_eisaid(b, "_HID", "PNP0303");
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_io(b, true, I8042_DATA, I8042_DATA, 1, 1);
	aml_io(b, true, I8042_CMD, I8042_CMD, 1, 1);
	aml_irq_no_flags(b, I8042_KBD_IRQ);
	aml_end(b);
	aml_end(b);
}

const struct dev_ops i8042_device = {
	.name = "i8042",
	.realize = i8042_realize,
	.unrealize = i8042_destroy,
	.save = i8042_save,
	.load = i8042_load,
	.write_dsdt = i8042_write_dsdt,
};
