// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * i8042 keyboard controller, only as far as a PC without a keyboard needs:
 * the controller answers its self-tests and command byte, reports no
 * keyboard or mouse data, and pulses the CPU reset line on command 0xFE
 * (or a write of the output port with bit 0 clear), which Linux uses as a
 * reboot fallback. Keyboard input for desktops arrives through virtio-input.
 *
 * Snapshots ("dev.i8042") keep the command byte, status, output buffer and
 * a command waiting for its data byte.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/aml.h"
#include "dev/bus.h"
#include "dev/devstate.h"
#include "base/log.h"
#include "dev/dev.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_KBD_IRQ 1

#define STATUS_OBF 0x01 /* output buffer full */
#define STATUS_SYS 0x04 /* self-test passed */
#define STATUS_CMD 0x08 /* last write was a command */

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
#define CMD_RESET 0xfe

struct i8042 {
	struct dev_ctx *ctx;
	pthread_mutex_t lock;
	uint8_t ctr;        /* controller command byte */
	uint8_t status;
	uint8_t out;        /* output buffer, valid when STATUS_OBF */
	uint8_t pending;    /* command waiting for its data byte */
};

static void i8042_reply(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->status |= STATUS_OBF;
}

static void i8042_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	struct i8042 *k = opaque;
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (off == 0) {
		v = k->out;
		k->status &= ~STATUS_OBF;
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
		case CMD_WRITE_OUTPORT: k->pending = v; break;
		case CMD_SELF_TEST: i8042_reply(k, 0x55); k->status |= STATUS_SYS; break;
		case CMD_KBD_TEST:
		case CMD_AUX_TEST: i8042_reply(k, 0x00); break;
		case CMD_READ_OUTPORT: i8042_reply(k, 0x01); break;
		case CMD_RESET: reset = true; break;
		default: break; /* enable/disable and the rest: nothing to do */
		}
	} else if (off == 0) {
		k->status &= ~STATUS_CMD;
		if (k->pending == CMD_WRITE_CTR)
			k->ctr = v;
		else if (k->pending == CMD_WRITE_OUTPORT && !(v & 0x01))
			reset = true;
		/* Bytes for the (absent) keyboard get no answer: it times out. */
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

static int i8042_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct i8042 *k = state;
	struct i8042_state st = { 0 };

	pthread_mutex_lock(&k->lock);
	st.ctr = k->ctr;
	st.status = k->status;
	st.out = k->out;
	st.pending = k->pending;
	pthread_mutex_unlock(&k->lock);
	return devstate_put(w, "dev.i8042", I8042_STATE_KIND, I8042_STATE_VERSION, &st,
			    sizeof(st), err, errlen);
}

static int i8042_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct i8042 *k = state;
	struct i8042_state st;
	int ret;

	ret = devstate_get(r, "dev.i8042", I8042_STATE_KIND, I8042_STATE_VERSION, &st,
			   sizeof(st), err, errlen);
	if (ret < 0)
		return ret;
	if (st.pending && st.pending != CMD_WRITE_CTR && st.pending != CMD_WRITE_OUTPORT) {
		errbuf_set(err, errlen, "section 'dev.i8042': invalid pending command 0x%02x",
			   st.pending);
		return -EBADMSG;
	}
	pthread_mutex_lock(&k->lock);
	k->ctr = st.ctr;
	k->status = st.status;
	k->out = st.out;
	k->pending = st.pending;
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
	k->status = STATUS_SYS;
	k->ctr = 0x30; /* keyboard and mouse interfaces disabled, no IRQs */
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
	*state = k;
	return 0;
}

static void i8042_destroy(void *state)
{
	struct i8042 *k = state;

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
