// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-rng: fills the guest's buffers with bytes from the entropy source
 * (--rng src=PATH, /dev/urandom by default), which the guest's hwrng core
 * mixes into its pool. One queue, no configuration space.
 *
 * A guest that keeps its queue full gets RNG_PASS_BYTES per event-loop
 * pass, so it cannot keep the loop from the API and the other devices.
 *
 * Snapshots: the transport's state ("dev.virtio-rng"); requests are served
 * as they are popped, so nothing is in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "virtio/virtio_pci.h"
#include "dev/dev.h"

#define RNG_QUEUE_SIZE 256
/* Bytes served per event-loop pass; more wait for the next pass. */
#define RNG_PASS_BYTES (256u << 10)
#define PCI_CLASS_OTHERS 0xff0000

struct virtio_rng {
	struct virtio_pci *vp; /* first: virtio_dev_save/load */
	int fd;
	struct virtq_elem elem;
};

static void rng_queue_notify(void *opaque, struct virtio_pci *vp, uint16_t queue)
{
	struct virtio_rng *r = opaque;
	struct virtq *vq = virtio_pci_vq(vp, queue);
	uint64_t pass_bytes = 0;
	bool pushed = false;
	int ret;

	while ((ret = virtq_pop(vq, &r->elem)) > 0) {
		const struct iovec *iov = virtq_elem_writable(&r->elem);
		uint32_t written = 0;

		for (uint16_t i = 0; i < r->elem.n_writable; i++) {
			ssize_t n = read(r->fd, iov[i].iov_base, iov[i].iov_len);

			if (n <= 0)
				break;
			written += (uint32_t)n;
			if ((size_t)n < iov[i].iov_len)
				break;
		}
		virtq_push(vq, &r->elem, written);
		pass_bytes += written;
		pushed = true;
		if (pass_bytes >= RNG_PASS_BYTES) {
			/* Enough for one pass: the rest after the loop's other work. */
			virtio_pci_queue_kick_later(vp, queue);
			break;
		}
	}
	if (pushed)
		virtio_pci_queue_done(vp, queue);
}

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.class_code = PCI_CLASS_OTHERS,
	.nr_queues = 1,
	.queue_max_size = RNG_QUEUE_SIZE,
	.queue_notify = rng_queue_notify,
};

/* One device with --rng (on by default), reading cfg->rng_src. */
static unsigned int rng_instances(const struct vm_config *cfg, const void *slices[],
				  unsigned int max)
{
	if (!cfg->rng_src || !max)
		return 0;
	slices[0] = cfg->rng_src;
	return 1;
}

static int rng_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
		       char *err, size_t errlen)
{
	const char *src = slice;
	struct virtio_rng *r;
	int ret;

	*state = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (r->fd < 0) {
		ret = -errno;
		errbuf_set(err, errlen, "--rng: cannot open '%s': %s", src, strerror(errno));
		free(r);
		return ret;
	}
	ret = virtio_pci_create(c, &rng_ops, r, &r->vp);
	if (ret < 0) {
		close(r->fd);
		free(r);
		return ret;
	}
	*state = r;
	return 0;
}

static void rng_destroy(void *state)
{
	struct virtio_rng *r = state;

	virtio_pci_destroy(r->vp);
	close(r->fd);
	free(r);
}

const struct dev_ops virtio_rng_device = {
	.name = "virtio-rng",
	.instances = rng_instances,
	.realize = rng_realize,
	.unrealize = rng_destroy,
	.save = virtio_dev_save,
	.load = virtio_dev_load,
};
