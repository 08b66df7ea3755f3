// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ACPI power management registers of a HW-reduced platform: the sleep
 * control and status registers and the reset register named in the FADT
 * (ports in acpi_pm.h). Linux powers off by writing
 * SLP_TYP(5) << 2 | SLP_EN to the sleep control register, and reboots by
 * writing the FADT's RESET_VALUE to the reset register.
 */
#include <stdlib.h>

#include "dev/bus.h"
#include "base/log.h"
#include "dev/dev.h"
#include "hw/acpi_pm.h"

#define SLP_TYP(v) (((v) & ACPI_SLEEP_CTL_SLP_TYP_MASK) >> ACPI_SLEEP_CTL_SLP_TYP_SHIFT)

static void acpi_pm_read(void *opaque, uint64_t off, void *data, unsigned int size)
{
	(void)opaque;
	(void)off;
	bus_data_set(data, size, 0); /* never asleep, no wake status */
}

static void acpi_pm_write(void *opaque, uint64_t off, const void *data, unsigned int size)
{
	struct dev_ctx *c = opaque;
	uint8_t v = (uint8_t)bus_data_get(data, size);

	switch (ACPI_SLEEP_CTL_PORT + off) {
	case ACPI_SLEEP_CTL_PORT:
		if ((v & ACPI_SLEEP_CTL_SLP_EN) && SLP_TYP(v) == ACPI_S5_SLP_TYP) {
			pr_info("guest powered off (ACPI S5)");
			dev_request_exit(c, VM_EXIT_POWEROFF);
		} else if (v & ACPI_SLEEP_CTL_SLP_EN) {
			pr_warn("guest asked for sleep state S%u, which is not supported",
				SLP_TYP(v));
		}
		break;
	case ACPI_RESET_PORT:
		if (v == ACPI_RESET_VALUE) {
			pr_info("guest reset (ACPI reset register)");
			dev_request_exit(c, VM_EXIT_REBOOT);
		}
		break;
	default: /* writes to the status register clear nothing we keep */
		break;
	}
}

static const struct bus_dev_ops acpi_pm_bus_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

/* Its state is the context itself: the registers keep nothing. */
static int acpi_pm_realize(struct dev_ctx *c, const void *slice, unsigned int index, void **state,
			   char *err, size_t errlen)
{
	int ret;

	_Static_assert(ACPI_SLEEP_STS_PORT == ACPI_SLEEP_CTL_PORT + 1 &&
		       ACPI_RESET_PORT == ACPI_SLEEP_CTL_PORT + 2, "contiguous ports");
	ret = bus_register(c->pio, ACPI_SLEEP_CTL_PORT, 3, "acpi-pm", &acpi_pm_bus_ops, c);
	*state = ret < 0 ? NULL : c;
	return ret;
}

static void acpi_pm_unrealize(void *state)
{
	struct dev_ctx *c = state;

	bus_unregister(c->pio, ACPI_SLEEP_CTL_PORT);
}

const struct dev_ops acpi_pm_device = {
	.name = "acpi-pm",
	.realize = acpi_pm_realize,
	.unrealize = acpi_pm_unrealize,
};
