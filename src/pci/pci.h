/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI: one root bus (segment 0, bus 0) behind a host bridge, reached through
 * the legacy 0xCF8/0xCFC ports and through ECAM (the MCFG table).
 *
 * A PCI device is a 4 KiB configuration space plus up to six BARs. The VMM
 * places the BARs itself (no firmware runs before a direct boot) in the
 * 32-bit or 64-bit MMIO window and registers them on the VM's MMIO bus; a
 * guest that moves a BAR moves the registration. Config space semantics
 * (read-only bits, BAR sizing, the command register) live here so devices
 * only describe themselves: IDs, class, BAR sizes, capabilities.
 */
#ifndef PHYLLO_PCI_PCI_H
#define PHYLLO_PCI_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/bus.h"

#define PCI_CFG_SIZE 4096
#define PCI_MAX_DEVICES 32 /* one function per slot on bus 0 */
#define PCI_NUM_BARS 6
#define PCI_CF8_PORT 0xcf8 /* CONFIG_ADDRESS; CONFIG_DATA at 0xcfc */
#define PCI_CF8_PORTS 8
#define PCI_ECAM_BUS0_SIZE (1u << 20) /* ECAM covers bus 0 only */

/* Standard header offsets. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10

#define PCI_BAR_MEM64 0x4
#define PCI_BAR_PREFETCH 0x8

struct pci_device;

struct pci_device_ops {
	/* BAR access; offset is relative to the BAR's start. */
	void (*bar_read)(struct pci_device *dev, int bar, uint64_t offset, void *data,
			 unsigned int size);
	void (*bar_write)(struct pci_device *dev, int bar, uint64_t offset, const void *data,
			  unsigned int size);
	/* Optional: after the generic code applied a config write (capabilities). */
	void (*config_written)(struct pci_device *dev, uint32_t offset, unsigned int size);
	/* Optional: before a config read is answered from cfg[] (a window
	 * register whose value the device computes on access). */
	void (*config_read)(struct pci_device *dev, uint32_t offset, unsigned int size);
	/*
	 * For a RAM BAR (pci_device_add_ram_bar): the guest placed it at addr
	 * with decoding on (mapped) or took it away (!mapped); the device maps
	 * its memory there itself (dev_ctx.map_ram). Called with the root's
	 * config lock held: it must not touch config space.
	 */
	void (*ram_bar_moved)(struct pci_device *dev, int bar, uint64_t addr, bool mapped);
};

struct pci_bar {
	uint64_t size;  /* power of two, 0 = unused */
	uint64_t addr;  /* current guest address (registered when enabled) */
	bool mem64;
	bool ram;         /* memory the device maps itself; no bus range */
	bool registered;
	struct pci_device *dev; /* back pointer for the bus callbacks */
	int index;
};

struct pci_device {
	const char *name;
	const struct pci_device_ops *ops;
	void *opaque;          /* the device model's own state */
	uint8_t devfn;         /* slot << 3 */
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];  /* guest-writable bits */
	uint8_t w1cmask[PCI_CFG_SIZE]; /* write-1-to-clear bits */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t next_cap;      /* where the next capability goes */
	struct pci_root *root;
};

struct pci_root {
	pthread_mutex_t lock;   /* config space accesses */
	struct bus *mmio;
	struct pci_device *devs[PCI_MAX_DEVICES];
	uint32_t cf8;           /* CONFIG_ADDRESS latch */
	uint64_t ecam_base;
	uint64_t mmio32_base, mmio32_next, mmio32_end; /* windows and BAR allocators */
	uint64_t mmio64_base, mmio64_next, mmio64_end;
	struct pci_device host_bridge;
};

struct pci_window {
	uint64_t ecam_base;
	uint64_t mmio32_base, mmio32_size;
	uint64_t mmio64_base, mmio64_size;
};

/* Create the root bus with its host bridge; registers 0xCF8-0xCFF and ECAM. */
int pci_root_init(struct pci_root *root, struct bus *pio, struct bus *mmio,
		  const struct pci_window *win);
void pci_root_free(struct pci_root *root);

/* Fill the header of a type-0 device: IDs and class code (base<<16|sub<<8|prog). */
void pci_device_init(struct pci_device *dev, const char *name, uint16_t vendor,
		     uint16_t device, uint32_t class_code, const struct pci_device_ops *ops,
		     void *opaque);
/* Declare a memory BAR (size: a power of two >= 4 KiB, placed 64-bit if mem64). */
int pci_device_add_bar(struct pci_device *dev, int bar, uint64_t size, bool mem64);
/* The same, for memory the guest reaches without exits (ops->ram_bar_moved). */
int pci_device_add_ram_bar(struct pci_device *dev, int bar, uint64_t size, bool mem64);
/* Append a capability of len bytes (len >= 2); returns its offset or -ENOSPC. */
int pci_device_add_cap(struct pci_device *dev, uint8_t id, uint8_t len);
/* Put the device on the bus in the first free slot, place and map its BARs. */
int pci_root_add_device(struct pci_root *root, struct pci_device *dev);
/* Take it off the bus again (config space reads all ones, BARs unmapped);
 * its slot may be reused. The BAR addresses are not handed out again. */
void pci_root_remove_device(struct pci_root *root, struct pci_device *dev);

/* Config space access by (devfn, offset), as the 0xCFC and ECAM paths use. */
void pci_config_read(struct pci_root *root, uint8_t devfn, uint32_t offset, void *data,
		     unsigned int size);
void pci_config_write(struct pci_root *root, uint8_t devfn, uint32_t offset,
		      const void *data, unsigned int size);

/*
 * Restore: bring dev's config space to saved (a copy of cfg[] taken at
 * snapshot) through the guest's write path, so BARs map where they were;
 * only guest-writable bits, the command register last.
 */
void pci_device_replay_cfg(struct pci_device *dev, const uint8_t *saved);

/* Little-endian accessors on config space. */
static inline uint16_t pci_cfg_get16(const struct pci_device *d, uint32_t off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}
static inline uint32_t pci_cfg_get32(const struct pci_device *d, uint32_t off)
{
	return pci_cfg_get16(d, off) | (uint32_t)pci_cfg_get16(d, off + 2) << 16;
}
void pci_cfg_set16(struct pci_device *d, uint32_t off, uint16_t v);
void pci_cfg_set32(struct pci_device *d, uint32_t off, uint32_t v);

#endif
