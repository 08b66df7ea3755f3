// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * 16550A UART on COM1 (0x3f8, IRQ 4): the guest's serial console.
 *
 * Transmit is instantaneous: a byte written to THR is queued for the
 * back end at once, so THR is always empty and the THRE interrupt is
 * re-armed after every write (drivers wait for it between FIFO loads).
 * Output is batched per line and flushed whenever the driver reads IIR
 * (its interrupt handler) so prompts without a newline appear at once,
 * while boot logs cost one write() per line instead of per byte.
 *
 * Receive reads straight from the chardev's ring buffer, which stands in
 * for an unbounded FIFO: nothing typed is lost while the guest is busy.
 * Loopback mode is modeled far enough for Linux's autoconfig probe
 * (MSR mirrors MCR); looped-back data is discarded.
 *
 * Snapshots ("dev.serial") keep the registers the guest wrote (IER, LCR,
 * MCR, SCR, FCR, divisor latch), the pending THRE interrupt and the level
 * we drive on IRQ 4; IIR, LSR and MSR follow from those and the input.
 * Output not yet flushed is written out at save. IRQ 4 is edge-triggered
 * (ISA): an interrupt the line already raised is in the irqchip state, so
 * restore takes our idea of the level back without driving the line (that
 * would be a second edge); the next change of level is driven as usual.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/aml.h"
#include "dev/bus.h"
#include "dev/devstate.h"
#include "base/log.h"
#include "base/chardev.h"
#include "dev/dev.h"

#define COM1_BASE 0x3f8
#define COM1_IRQ 4

#define UART_RX 0  /* in:  receive buffer (DLAB=0) */
#define UART_TX 0  /* out: transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2 /* in */
#define UART_FCR 2 /* out */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct serial {
	struct irq_chip *irq;
	struct bus *pio;
	struct chardev *chr; /* NULL for --serial null: output discarded */
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_ipending;
	int irq_level;
	uint8_t out[256];
	size_t out_len;
};

static void serial_flush(struct serial *s)
{
	if (s->out_len && s->chr)
		chardev_write(s->chr, s->out, s->out_len);
	s->out_len = 0;
}

static bool rx_ready(struct serial *s)
{
	return s->chr && !(s->mcr & MCR_LOOP) && chardev_pending(s->chr) > 0;
}

static uint8_t serial_iir(struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && rx_ready(s))
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* Called with s->lock held, after any state change. */
static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_set_level(s->irq, COM1_IRQ, level);
	}
}

static void serial_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	struct serial *s = opaque;
	uint8_t v = 0, iir;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RX:
		if (s->lcr & LCR_DLAB)
			v = s->dll;
		else if (rx_ready(s))
			chardev_read(s->chr, &v, 1);
		break;
	case UART_IER:
		v = (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR:
		iir = serial_iir(s);
		/* Reading IIR acknowledges a THRE interrupt. */
		if ((iir & 0x0f) == IIR_THRI)
			s->thr_ipending = false;
		serial_flush(s);
		v = iir;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (rx_ready(s) ? LSR_DR : 0);
		break;
	case UART_MSR:
		if (s->mcr & MCR_LOOP)
			v = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) | ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
			    ((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
		else
			v = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	memset(data, 0, size);
	*(uint8_t *)data = v;
}

static void serial_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	struct serial *s = opaque;
	uint8_t v = *(const uint8_t *)data;

	(void)size;
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_TX:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		if (!(s->mcr & MCR_LOOP)) {
			s->out[s->out_len++] = v;
			if (v == '\n' || s->out_len == sizeof(s->out))
				serial_flush(s);
		}
		s->thr_ipending = true; /* sent at once: THR is empty again */
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRE interrupts while THR is empty raises one (16550). */
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thr_ipending = true;
		s->ier = v & 0x0f;
		break;
	case UART_FCR:
		s->fcr = v;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

#define SERIAL_STATE_KIND "UART"
#define SERIAL_STATE_VERSION 1

struct serial_state {
	struct snap_blob_header h;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, thr_ipending;
	uint8_t irq_level, pad[7];
};
_Static_assert(sizeof(struct serial_state) == 32, "serial_state layout");

static int serial_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct serial *s = state;
	struct serial_state st = { 0 };

	pthread_mutex_lock(&s->lock);
	serial_flush(s); /* the bytes belong to this process's output */
	st.ier = s->ier;
	st.lcr = s->lcr;
	st.mcr = s->mcr;
	st.scr = s->scr;
	st.fcr = s->fcr;
	st.dll = s->dll;
	st.dlm = s->dlm;
	st.thr_ipending = s->thr_ipending;
	st.irq_level = (uint8_t)s->irq_level;
	pthread_mutex_unlock(&s->lock);
	return devstate_put(w, "dev.serial", SERIAL_STATE_KIND, SERIAL_STATE_VERSION, &st,
			    sizeof(st), err, errlen);
}

static int serial_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct serial *s = state;
	struct serial_state st;
	int ret;

	ret = devstate_get(r, "dev.serial", SERIAL_STATE_KIND, SERIAL_STATE_VERSION, &st,
			   sizeof(st), err, errlen);
	if (ret < 0)
		return ret;
	if ((st.ier & ~0x0f) || (st.mcr & ~0x1f) || st.thr_ipending > 1 || st.irq_level > 1) {
		errbuf_set(err, errlen, "section 'dev.serial': invalid register values");
		return -EBADMSG;
	}
	pthread_mutex_lock(&s->lock);
	s->ier = st.ier;
	s->lcr = st.lcr;
	s->mcr = st.mcr;
	s->scr = st.scr;
	s->fcr = st.fcr;
	s->dll = st.dll;
	s->dlm = st.dlm;
	s->thr_ipending = st.thr_ipending;
	s->irq_level = st.irq_level;
	/* Input typed before the snapshot stayed with the old process: the
	 * level may drop now, which is no edge. */
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static const struct bus_dev_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
};

/* From the event loop: new input may raise the RX interrupt. */
static void serial_input_ready(void *opaque)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

/* One COM1 unless --serial off; it reads cfg->serial. */
static unsigned int serial_instances(const struct vm_config *cfg, const void *slices[],
				     unsigned int max)
{
	if (cfg->serial.mode == CONSOLE_OFF || !max)
		return 0;
	slices[0] = &cfg->serial;
	return 1;
}

static int serial_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			  char *err, size_t errlen)
{
	struct serial *s;
	int ret;

	*state = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->irq = c->irq;
	s->pio = c->pio;
	s->chr = c->host->serial;
	s->mcr = MCR_OUT2;
	s->dll = 0x0c; /* 9600 baud, as firmware leaves it */
	s->lcr = 0x03; /* 8N1 */
	pthread_mutex_init(&s->lock, NULL);
	ret = bus_register(c->pio, COM1_BASE, 8, "serial", &serial_bus_ops, s);
	if (ret < 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return ret;
	}
	if (s->chr)
		chardev_set_notify(s->chr, serial_input_ready, s);
	*state = s;
	return 0;
}

static void serial_destroy(void *state)
{
	struct serial *s = state;

	if (!s)
		return;
	bus_unregister(s->pio, COM1_BASE);
	if (s->chr)
		chardev_set_notify(s->chr, NULL, NULL);
	serial_flush(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* PNP0501 at 0x3f8-0x3ff, IRQ 4: without it Linux gives the port no IRQ. */
static void serial_write_dsdt(void *state, struct aml_buf *b)
{
	(void)state;
	aml_device_begin(b, "COM1");
	aml_name_eisaid(b, "_HID", "PNP0501");
	aml_name_integer(b, "_UID", 0);
	aml_name_integer(b, "_STA", 0x0f); /* present, enabled, shown, working */
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_io(b, true, COM1_BASE, COM1_BASE, 1, 8);
	aml_irq_no_flags(b, COM1_IRQ);
	aml_end(b);
	aml_end(b);
}

const struct dev_ops serial_device = {
	.name = "serial",
	.instances = serial_instances,
	.realize = serial_realize,
	.unrealize = serial_destroy,
	.save = serial_save,
	.load = serial_load,
	.write_dsdt = serial_write_dsdt,
};
