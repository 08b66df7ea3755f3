// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The debug port 0x80, with Cloud Hypervisor's boot-time markers: a byte
 * written here names a boot stage by its range (0x00-0x1f firmware,
 * 0x20-0x3f bootloader, 0x40-0x5f kernel, 0x60-0x7f user space), and we log
 * the time since the VMM started. Benchmarks read these lines (-v) to time a
 * boot without trusting the guest's clock.
 *
 * Linux also writes 0x80 as an I/O delay (outb_p); those are zeros in the
 * "firmware" range and would flood the log, so only the first write of each
 * distinct value is logged.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/bus.h"
#include "base/log.h"
#include "dev/dev.h"

#define DEBUG_PORT 0x80

struct debug_port {
	const struct dev_host *host;
	struct bus *pio;
	_Atomic uint8_t seen[256 / 8];
};

static const char *stage_name(uint8_t code)
{
	static const char *const names[] = { "firmware", "bootloader", "kernel", "userspace" };

	return code < 0x80 ? names[code >> 5] : "other";
}

static void debug_port_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	struct debug_port *d = opaque;
	uint8_t code = *(const uint8_t *)data;
	uint8_t bit = (uint8_t)(1u << (code & 7));
	struct timespec now;
	double secs;

	(void)off;
	(void)size;
	if (atomic_fetch_or(&d->seen[code >> 3], bit) & bit)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - d->host->start.tv_sec) +
	       (double)(now.tv_nsec - d->host->start.tv_nsec) / 1e9;
	pr_info("debug port: %s code 0x%02x at %.6f s", stage_name(code), code, secs);
}

static const struct bus_dev_ops debug_port_bus_ops = {
	.write = debug_port_write,
};

static int debug_port_realize(struct dev_ctx *c, const void *slice, unsigned int index,
			      void **state, char *err, size_t errlen)
{
	struct debug_port *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	d->host = c->host;
	d->pio = c->pio;
	ret = bus_register(c->pio, DEBUG_PORT, 1, "debug-port", &debug_port_bus_ops, d);
	if (ret < 0) {
		free(d);
		return ret;
	}
	*state = d;
	return 0;
}

static void debug_port_unrealize(void *state)
{
	struct debug_port *d = state;

	bus_unregister(d->pio, DEBUG_PORT);
	free(d);
}

const struct dev_ops debug_port_device = {
	.name = "debug-port",
	.realize = debug_port_realize,
	.unrealize = debug_port_unrealize,
};
