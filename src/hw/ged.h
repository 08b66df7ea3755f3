/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI Generic Event Device (ged.c): where it sits and what its
 * register says, for the device and the ACPI tables that describe it.
 */
#ifndef PHYLLO_HW_GED_H
#define PHYLLO_HW_GED_H

/* Its register, below the PCI BAR window; an IOAPIC input nothing else
 * uses (edge, active high). */
#define GED_MMIO_ADDR 0xcffff000u
#define GED_GSI 5

/*
 * One 32-bit register (the DSDT reads it with DWordAcc). The guest reads
 * it in _EVT after the GED interrupt; the device returns the pending event
 * bits and clears them. Bit values follow Cloud Hypervisor's so the later
 * hotplug events can use the bits below the power button.
 */
#define ACPI_GED_REG_SIZE		4
#define ACPI_GED_EVENT_POWER_BUTTON	(1u << 3)

#endif
