/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ACPI Generic Event Device (see ged.c). */
#ifndef PHYLLO_HW_GED_H
#define PHYLLO_HW_GED_H

#include <stdint.h>

struct device_ops;
extern const struct device_ops ged_device;

/* Signal event bits (ACPI_GED_EVENT_*) to the guest. -ENODEV: no GED. */
int ged_raise(void *ged_state, uint32_t event);

#endif
