// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-console, one port (hvc0 in a Linux guest), no multiport: queue 0
 * carries input to the guest, queue 1 the guest's output. The back end is
 * a chardev (--console tty|pty|file=|socket=|null), like the UART's.
 *
 * Input waits in the chardev's ring until the guest posts receive buffers;
 * both the chardev's "input arrived" callback and the guest's kick on the
 * receive queue run on the event loop thread and fill what they can.
 *
 * Output is written CONSOLE_PASS_BYTES per event-loop pass at most, so a
 * guest that keeps its queue full shares the loop with the API.
 *
 * Snapshots: the transport's state ("dev.virtio-console"); every chain is
 * pushed as soon as it is popped, so nothing is in flight. Input still in
 * the chardev stays with the old process.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/virtio_pci.h"
#include "base/chardev.h"
#include "dev/dev.h"

#define CONSOLE_QUEUE_SIZE 128
#define RX_QUEUE 0
#define TX_QUEUE 1
/* Output bytes written per event-loop pass; more wait for the next pass. */
#define CONSOLE_PASS_BYTES (64u << 10)
#define PCI_CLASS_COMMUNICATION_OTHER 0x078000

struct virtio_console_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

struct virtio_console {
	struct virtio_pci *vp; /* first: virtio_dev_save/load */
	struct chardev *chr;   /* NULL for --console null */
	struct virtio_console_config config;
	struct virtq_elem elem;
	uint8_t buf[4096];
};

/* Called with vp->lock held. */
static void console_fill_rx(struct virtio_console *c)
{
	struct virtq *vq = virtio_pci_vq(c->vp, RX_QUEUE);
	bool pushed = false;

	while (c->chr && chardev_pending(c->chr) && virtio_pci_queue_ready(c->vp, RX_QUEUE)) {
		size_t n;

		if (virtq_pop(vq, &c->elem) <= 0)
			break;
		n = c->elem.writable_len < sizeof(c->buf) ? c->elem.writable_len : sizeof(c->buf);
		n = chardev_read(c->chr, c->buf, n);
		virtq_elem_write(&c->elem, 0, c->buf, n);
		virtq_push(vq, &c->elem, (uint32_t)n);
		pushed = true;
	}
	if (pushed)
		virtio_pci_queue_done(c->vp, RX_QUEUE);
}

static void console_tx(struct virtio_console *c)
{
	struct virtq *vq = virtio_pci_vq(c->vp, TX_QUEUE);
	uint64_t pass_bytes = 0;
	bool pushed = false;

	while (virtq_pop(vq, &c->elem) > 0) {
		const struct iovec *iov = virtq_elem_readable(&c->elem);

		for (uint16_t i = 0; c->chr && i < c->elem.n_readable; i++)
			chardev_write(c->chr, iov[i].iov_base, iov[i].iov_len);
		virtq_push(vq, &c->elem, 0);
		pushed = true;
		pass_bytes += c->elem.readable_len;
		if (pass_bytes >= CONSOLE_PASS_BYTES) {
			/* Enough for one pass: the rest after the loop's other work. */
			virtio_pci_queue_kick_later(c->vp, TX_QUEUE);
			break;
		}
	}
	if (pushed)
		virtio_pci_queue_done(c->vp, TX_QUEUE);
}

static void console_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_console *c = opaque;

	(void)vp;
	if (queue == TX_QUEUE)
		console_tx(c);
	else
		console_fill_rx(c);
}

/* From the chardev (event loop thread): input arrived. */
static void console_input_ready(void *opaque)
{
	struct virtio_console *c = opaque;

	pthread_mutex_lock(&c->vp->lock);
	console_fill_rx(c);
	pthread_mutex_unlock(&c->vp->lock);
}

static void console_config_read(void *opaque, uint32_t off, void *data, unsigned int size)
{
	struct virtio_console *c = opaque;

	if (off + size <= sizeof(c->config))
		memcpy(data, (uint8_t *)&c->config + off, size);
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.class_code = PCI_CLASS_COMMUNICATION_OTHER,
	.nr_queues = 2,
	.queue_max_size = CONSOLE_QUEUE_SIZE,
	.config_size = sizeof(struct virtio_console_config),
	.config_read = console_config_read,
	.queue_notify = console_queue_notify,
};

/* One device with --console, reading cfg->console. */
static unsigned int console_instances(const struct vm_config *cfg, const void *slices[],
				      unsigned int max)
{
	if (cfg->console.mode == CONSOLE_OFF || !max)
		return 0;
	slices[0] = &cfg->console;
	return 1;
}

static int console_realize(struct dev_ctx *ctx, const void *slice, unsigned int index,
			   void **state, char *err, size_t errlen)
{
	struct virtio_console *c;
	int ret;

	*state = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->chr = ctx->host->console;
	c->config.max_nr_ports = 1;
	ret = virtio_pci_create(ctx, &console_ops, c, &c->vp);
	if (ret < 0) {
		free(c);
		return ret;
	}
	if (c->chr)
		chardev_set_notify(c->chr, console_input_ready, c);
	*state = c;
	return 0;
}

static void console_destroy(void *state)
{
	struct virtio_console *c = state;

	if (c->chr)
		chardev_set_notify(c->chr, NULL, NULL);
	virtio_pci_destroy(c->vp);
	free(c);
}

const struct dev_ops virtio_console_device = {
	.name = "virtio-console",
	.instances = console_instances,
	.realize = console_realize,
	.unrealize = console_destroy,
	.save = virtio_dev_save,
	.load = virtio_dev_load,
};
