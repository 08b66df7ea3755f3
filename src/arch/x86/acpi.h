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

/* The sleep registers' values (hw/acpi_pm.h). */
#include "hw/acpi_pm.h"

struct aml_buf;

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
	/*
	 * Optional PCI, for MCFG: pci_ecam_base 0 means no PCI, and then the
	 * bus numbers must be 0. pci_ecam_base is the address of bus 0's
	 * config space, as MCFG defines it, even when pci_bus_start > 0; it
	 * must be 1 MiB aligned.
	 */
	uint64_t pci_ecam_base;
	uint8_t pci_bus_start;
	uint8_t pci_bus_end;
	/*
	 * The devices' DSDT objects (COM1, RTC, PCI0, ...): called once, with
	 * the \_SB scope open, e.g. to dev_registry_write_dsdt(). NULL: none.
	 */
	void (*write_devices)(struct aml_buf *b, void *opaque);
	void *opaque;
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
