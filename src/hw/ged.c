// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ACPI Generic Event Device: how a HW-reduced platform tells the guest
 * about events that have no register of their own, today the power button
 * (the API's vm.power-button), later hotplug.
 *
 * Its DSDT objects (ged_write_dsdt) describe a GED with one edge interrupt and a
 * 32-bit event register at GED_MMIO_ADDR. ged_raise() sets an event bit and
 * pulses the interrupt; Linux's GED driver then runs _EVT, which reads the
 * register (the read returns and clears the pending bits) and notifies
 * \_SB.PWRB, so the guest sees a power button press (KEY_POWER, and an
 * orderly shutdown where a daemon such as systemd-logind or acpid acts on it).
 *
 * Snapshots ("dev.ged") keep the pending event bits. The interrupt pulse
 * that announced them is in the irqchip state; restore does not pulse again.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "dev/aml.h"
#include "dev/bus.h"
#include "dev/devstate.h"
#include "hw/ged.h"
#include "base/log.h"
#include "dev/dev.h"

struct ged {
	struct irq_chip *irq;
	struct bus *mmio;
	pthread_mutex_t lock;
	uint32_t pending;
};

static void ged_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	struct ged *g = opaque;
	uint32_t v = 0;

	pthread_mutex_lock(&g->lock);
	if (off == 0) {
		v = g->pending;
		g->pending = 0;
	}
	pthread_mutex_unlock(&g->lock);
	bus_data_set(data, size, v);
}

static void ged_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)size; /* read-only: the DSDT declares WriteAsZeros and never writes */
}

static const struct bus_dev_ops ged_bus_ops = {
	.read = ged_read,
	.write = ged_write,
};

/* Signal event bits (ACPI_GED_EVENT_*) to the guest. */
static int ged_raise(struct ged *g, uint32_t event)
{
	pthread_mutex_lock(&g->lock);
	g->pending |= event;
	pthread_mutex_unlock(&g->lock);
	/* An edge: the IOAPIC latches the rising edge. */
	return irq_pulse(g->irq, GED_GSI);
}

static int ged_platform_event(void *state, enum platform_event ev)
{
	switch (ev) {
	case PLATFORM_POWER_BUTTON:
		return ged_raise(state, ACPI_GED_EVENT_POWER_BUTTON);
	}
	return -ENOTSUP;
}

#define GED_STATE_KIND "GED "
#define GED_STATE_VERSION 1

struct ged_state {
	struct snap_blob_header h;
	uint32_t pending, pad;
};
_Static_assert(sizeof(struct ged_state) == 24, "ged_state layout");

static int ged_save(void *state, struct snap_writer *w, char *err, size_t errlen)
{
	struct ged *g = state;
	struct ged_state st = { 0 };

	pthread_mutex_lock(&g->lock);
	st.pending = g->pending;
	pthread_mutex_unlock(&g->lock);
	return devstate_put(w, "dev.ged", GED_STATE_KIND, GED_STATE_VERSION, &st, sizeof(st), err,
			    errlen);
}

static int ged_load(void *state, const struct snap_reader *r, char *err, size_t errlen)
{
	struct ged *g = state;
	struct ged_state st;
	int ret;

	ret = devstate_get(r, "dev.ged", GED_STATE_KIND, GED_STATE_VERSION, &st, sizeof(st), err,
			   errlen);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&g->lock);
	g->pending = st.pending;
	pthread_mutex_unlock(&g->lock);
	return 0;
}

static int ged_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
		       char *err, size_t errlen)
{
	struct ged *g = calloc(1, sizeof(*g));
	int ret;

	(void)err;
	(void)errlen;
	*state = NULL;
	if (!g)
		return -ENOMEM;
	g->irq = c->irq;
	g->mmio = c->mmio;
	pthread_mutex_init(&g->lock, NULL);
	ret = dev_reserve_memory(c, GED_MMIO_ADDR, ACPI_GED_REG_SIZE);
	if (ret == 0)
		ret = bus_register(c->mmio, GED_MMIO_ADDR, ACPI_GED_REG_SIZE, "ged", &ged_bus_ops, g);
	if (ret < 0) {
		pthread_mutex_destroy(&g->lock);
		free(g);
		return ret;
	}
	*state = g;
	return 0;
}

static void ged_destroy(void *state)
{
	struct ged *g = state;

	if (!g)
		return;
	bus_unregister(g->mmio, GED_MMIO_ADDR);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/*
 * A PNP0C0C power button and the GED (ACPI 6.x 5.6.9) that notifies it.
 * Linux's evged driver requests every interrupt in _CRS (which therefore
 * lists nothing else) and calls _EVT with the GSI. _EVT reads the event
 * register, which also acknowledges the events:
 *
 *	Local0 = GEVT
 *	If (Local0 & POWER_BUTTON) { Notify (\_SB.PWRB, 0x80) }
 */
static void ged_write_dsdt(void *state, struct aml_buf *b)
{
	(void)state;
	aml_device_begin(b, "PWRB");
	aml_name_eisaid(b, "_HID", "PNP0C0C");
	aml_name_integer(b, "_UID", 0);
	aml_end(b);

	aml_device_begin(b, "GED");
	aml_name_string(b, "_HID", "ACPI0013");
	aml_name_integer(b, "_UID", 0);
	aml_name(b, "_CRS");
	aml_resource_template_begin(b);
	aml_interrupt(b, AML_INT_CONSUMER | AML_INT_EDGE, GED_GSI);
	aml_end(b);
	aml_operation_region(b, "GREG", AML_SYSTEM_MEMORY, GED_MMIO_ADDR, ACPI_GED_REG_SIZE);
	aml_field_begin(b, "GREG", AML_DWORD_ACC, AML_WRITE_AS_ZEROS);
	aml_field_unit(b, "GEVT", 8 * ACPI_GED_REG_SIZE);
	aml_end(b);

	aml_method_begin(b, "_EVT", 1, true);
	aml_store(b);
	aml_namestring(b, "GEVT");
	aml_local(b, 0);
	aml_if_begin(b);
	aml_and(b);
	aml_local(b, 0);
	aml_integer(b, ACPI_GED_EVENT_POWER_BUTTON);
	aml_no_target(b);
	aml_notify(b);
	aml_namestring(b, "\\_SB.PWRB");
	aml_integer(b, 0x80); /* power button pressed (5.6.6) */
	aml_end(b);
	aml_end(b);
	aml_end(b);
}

const struct dev_ops ged_device = {
	.name = "ged",
	.realize = ged_realize,
	.unrealize = ged_destroy,
	.save = ged_save,
	.load = ged_load,
	.platform_event = ged_platform_event,
	.write_dsdt = ged_write_dsdt,
};
