/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ACPI tables for a directly booted x86 guest.
 *
 * Without firmware, the VMM itself hands the guest the tables that tell it
 * how many vCPUs it has (MADT), where the interrupt controllers and legacy
 * devices are, where PCI config space is (MCFG, DSDT), and how to power off
 * and reset (FADT). We follow Cloud Hypervisor: a HW-reduced ACPI FADT (no
 * PM1 blocks, no SCI, no GPEs), whose SLEEP_CONTROL_REG/SLEEP_STATUS_REG and
 * RESET_REG are 8-bit I/O ports the device model implements. Firmware boot
 * later gets the very same tables through fw_cfg.
 *
 * acpi_build_tables() lays everything out in one caller-owned buffer that
 * the guest sees at gpa: RSDP first, then XSDT, FADT, DSDT, MADT and, with
 * PCI, MCFG. There is no FACS: HW-reduced ACPI allows none (FADT 5.2.9).
 */
#ifndef PHYLLO_ARCH_X86_ACPI_H
#define PHYLLO_ARCH_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The sleep registers' values (hw/acpi_pm.h) and the GED register (hw/ged.h). */
#include "hw/acpi_pm.h"
#include "hw/ged.h"

/*
 * Besides COM1, the DSDT always describes the PC devices Phyllome emulates
 * at fixed places: the CMOS RTC (PNP0B00, ports 0x70-0x71, IRQ 8) and the
 * 8042 keyboard controller (PNP0303, ports 0x60 and 0x64, IRQ 1). In
 * HW-reduced mode Linux has no legacy PIC and maps ISA IRQs only for
 * devices ACPI describes, so without these entries rtc_cmos cannot get
 * IRQ 8 and the i8042 driver cannot get IRQ 1.
 */

struct acpi_layout {
	unsigned int ncpus;		/* 1-255; APIC IDs are 0..ncpus-1 */
	uint32_t ioapic_addr;		/* 0xfec00000 */
	/*
	 * Use 0: KVM's in-kernel IOAPIC resets its 4-bit ID register to 0, so
	 * the MADT then matches what the guest reads back (QEMU and Cloud
	 * Hypervisor do the same). ncpus would not fit 4 bits past 15 vCPUs,
	 * and with xAPIC system-bus delivery IOAPIC and LAPIC IDs need not
	 * be distinct.
	 */
	uint8_t ioapic_id;
	uint32_t lapic_addr;		/* 0xfee00000 */
	uint16_t sleep_ctl_port;	/* 1-byte SLEEP_CONTROL_REG, required */
	uint16_t sleep_sts_port;	/* 1-byte SLEEP_STATUS_REG, required */
	uint16_t reset_port;		/* 1-byte RESET_REG, required */
	uint8_t reset_value;		/* written to reset_port to reset */
	uint16_t serial_port;		/* COM1: 0x3f8; 0 = not described */
	uint8_t serial_irq;		/* ISA IRQ 0-15: 4 */
	/*
	 * Optional PCI: pci_ecam_base 0 means no PCI, and then every pci_*
	 * field must be 0. pci_ecam_base is the address of bus 0's config
	 * space, as MCFG defines it, even when pci_bus_start > 0; it must be
	 * 1 MiB aligned. Windows of size 0 are left out. The windows must not
	 * be marked reserved in the E820 map (Linux clips such windows).
	 */
	uint64_t pci_ecam_base;
	uint8_t pci_bus_start;
	uint8_t pci_bus_end;
	uint64_t pci_mmio32_base;	/* must end at or below 4 GiB */
	uint64_t pci_mmio32_size;
	uint64_t pci_mmio64_base;
	uint64_t pci_mmio64_size;
	uint16_t pci_io_base;		/* must not overlap 0xcf8-0xcff */
	uint16_t pci_io_size;
	/*
	 * Optional GED power button (ged_mmio_addr 0 = none): a Generic Event
	 * Device (ACPI0013) with its register (see ACPI_GED_*) at
	 * ged_mmio_addr, raising IOAPIC input ged_gsi (0-23, edge, active
	 * high); its _EVT does Notify (\_SB.PWRB, 0x80) when the power button
	 * bit is set, and \_SB.PWRB is a PNP0C0C power button.
	 */
	uint64_t ged_mmio_addr;
	uint32_t ged_gsi;
};

/*
 * Lay out RSDP, XSDT, FADT, DSDT, MADT (and MCFG when PCI is set) in buf,
 * which the caller maps at guest physical address gpa, len bytes. The RSDP
 * is at the start of buf, so the caller can place buf at 0xe0000 where
 * Linux also scans for it; gpa must therefore be 16-byte aligned. Returns
 * the bytes used, -ENOSPC when len is too small, or -EINVAL for a bad
 * layout (logged, naming the field).
 */
ssize_t acpi_build_tables(void *buf, uint64_t gpa, size_t len,
			  const struct acpi_layout *l);

#endif
