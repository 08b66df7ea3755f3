/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI HW-reduced sleep and reset registers (acpi_pm.c): their ports
 * and what the guest writes there, for the device and the FADT and DSDT
 * that announce them.
 */
#ifndef PHYLLO_HW_ACPI_PM_H
#define PHYLLO_HW_ACPI_PM_H

#define ACPI_SLEEP_CTL_PORT 0x600
#define ACPI_SLEEP_STS_PORT 0x601
#define ACPI_RESET_PORT 0x602
#define ACPI_RESET_VALUE 0x01

/*
 * ACPI 6.x 4.8.3.7-8. To power off, Linux (ACPICA
 * acpi_hw_extended_sleep()) first writes WAK_STS (0x80) to
 * SLEEP_STATUS_REG to clear it, then (SLP_TYP << 2) | SLP_EN to
 * SLEEP_CONTROL_REG. SLP_TYP comes from the DSDT's \_S5_ package, which we
 * set to 5, so the power-off write is 0x34. Both writes are single bytes;
 * the two registers may share a port.
 */
#define ACPI_SLEEP_CTL_SLP_TYP_SHIFT	2
#define ACPI_SLEEP_CTL_SLP_TYP_MASK	0x1c
#define ACPI_SLEEP_CTL_SLP_EN		0x20
#define ACPI_SLEEP_STS_WAK_STS		0x80
#define ACPI_S5_SLP_TYP			5
#define ACPI_S5_SLEEP_CONTROL \
	((ACPI_S5_SLP_TYP << ACPI_SLEEP_CTL_SLP_TYP_SHIFT) | ACPI_SLEEP_CTL_SLP_EN)

#endif
